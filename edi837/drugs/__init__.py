"""The drug table: facts about physician-administered drugs, kept in data.

The shipped table ``table.toml`` (next to this module) lists, per HCPCS code,
the billing unit (J2350 ocrelizumab: 1 unit = 1 mg), route, single-dose flag,
NDC packages, labeled doses and maximum units, supporting ICD-10-CM codes with
their validity dates, administration codes, the 837I revenue code, related
codes for crosswalk messages and documentation notes, each fact with its
source and confidence tag from billing-rules.md.  Policy facts that hold for
every drug (JW/JZ dates, CTP05-1 units, unit basis) and the administration
code -> route map sit at the top level.  ``drug-table.schema.json`` (copied to
``schemas/``) describes the file.

Typical use::

    table = load_drug_table()                 # or load_drug_table([Path("my-drugs.toml")])
    drug = table.drug("J2350")
    drug.ndc("50242015001").billable          # True
    table.hcpcs_for_ndc("50242055401")        # "J2351" (Ocrevus Zunovo)
    drug.supporting_diagnoses(["G35"], date(2025, 10, 1)).not_valid_on_date
    table.admin_route("96372")                # "SC/IM"
"""
from .drug import Drug
from .drug_table import DrugTable, TableFile
from .loader import DrugTableError, load_drug_table, load_schema
from .model import (
    CONFIDENCE_LEVELS,
    Administration,
    AdministrationCode,
    DateWindow,
    DiagnosisCode,
    DiagnosisMatch,
    DiagnosisSupport,
    DiscardedDrugModifiers,
    DocumentationNote,
    Dosing,
    Ndc,
    NdcPolicy,
    NdcUnits,
    Policy,
    Provenance,
    RelatedCode,
    RevenueCode,
    Schedule,
    ServiceUnits,
    normalise_diagnosis,
)

__all__ = [
    "CONFIDENCE_LEVELS",
    "Administration",
    "AdministrationCode",
    "DateWindow",
    "DiagnosisCode",
    "DiagnosisMatch",
    "DiagnosisSupport",
    "DiscardedDrugModifiers",
    "DocumentationNote",
    "Dosing",
    "Drug",
    "DrugTable",
    "DrugTableError",
    "Ndc",
    "NdcPolicy",
    "NdcUnits",
    "Policy",
    "Provenance",
    "RelatedCode",
    "RevenueCode",
    "Schedule",
    "ServiceUnits",
    "TableFile",
    "load_drug_table",
    "load_schema",
    "normalise_diagnosis",
]
