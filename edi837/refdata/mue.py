"""The CMS Medically Unlikely Edit (MUE) files: the most units of a code a provider would report.

Published quarterly per setting, CSV, named like
`MCR_MUE_PractitionerServices_Eff_10-01-2026.csv`; columns HCPCS/CPT Code,
`<setting> MUE Values`, MUE Adjudication Indicator, MUE Rationale
(billing-rules.md §8.4 [C]).  The adjudication indicator (MAI, NGS "Medically
Unlikely Edits Billing and Processing" [A]): 1 per claim line, 2 per date of
service by policy (absolute), 3 per date of service by clinical benchmark.
CMS writes it as "3 Date of Service Edit: Clinical"; the leading digit is the
indicator.  Practitioner services apply to 837P, outpatient hospital services
to 837I; the DME supplier file applies to neither.
"""
from __future__ import annotations

import re
from decimal import Decimal

from .limits import limits
from .rows import Problems, coded_rows
from .tabular import Column, Layout, Table

LAYOUT = Layout("MUE file", (
    Column("hcpcs", frozenset({"hcpcscptcode", "hcpcscode", "cpthcpcscode", "hcpcs", "code"}),
           (("hcpcs",), ("cpt",)), excludes=("mue", "rationale", "indicator")),
    Column("value", frozenset({"muevalue", "muevalues"}), (("mue", "value"),)),
    Column("mai", frozenset({"mueadjudicationindicator", "mai", "adjudicationindicator"}),
           (("adjudication",), ("mai",))),
    Column("rationale", frozenset({"muerationale", "rationale"}), (("rationale",),),
           required=False),
))
EXPECTS = ("an MUE file (columns HCPCS/CPT Code, <setting> MUE Values, MUE Adjudication "
           "Indicator)")
TABLE = "mue"
KINDS = {"mue-practitioner": "MUE practitioner services (837P)",
         "mue-outpatient": "MUE outpatient hospital services (837I)"}
# Recognised, and not what any rule reads: DME suppliers do not bill on 837P/837I drug lines.
UNUSED = {"dme": "DME supplier MUE file"}


def variant(header_value: str) -> str:
    """mue-practitioner, mue-outpatient, or "dme" (unused), from the value column's name."""
    name = header_value.lower()
    if "practitioner" in name:
        return "mue-practitioner"
    if "outpatient" in name or "hospital" in name or "facility" in name:
        return "mue-outpatient"
    if "dme" in name or "supplier" in name:
        return "dme"
    return ""


def rows(table: Table, text: str, problems: Problems):
    """(hcpcs, MUE value, MAI 1-3, rationale) per row."""
    for line, code, cells in coded_rows(table, text, problems):
        value = cells["value"].replace(",", "")
        mai = re.match(r"\s*([123])(?![0-9])", cells["mai"])
        refused = None
        if value.isascii() and value.isdigit():
            refused = limits().number("mue_value").problem("MUE value", cells["value"],
                                                           Decimal(value))
        if not (value.isascii() and value.isdigit()):
            problems.add(line, f"MUE value {cells['value']!r} is not a whole number")
        elif refused:
            problems.add(line, refused)
        elif mai is None:
            problems.add(line, f"MUE adjudication indicator {cells['mai']!r} is not 1, 2 or 3")
        else:
            yield (code, int(value), int(mai.group(1)), cells.get("rationale") or None)
