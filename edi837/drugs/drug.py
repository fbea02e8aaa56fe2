"""One drug of the table: :class:`Drug`, with its NDC, quantity and diagnosis lookups.

With imported CMS reference data (``DrugTable.with_reference``) a drug also
knows, by kind of claim and date of service, the NDCs the crosswalk lists
under its code and their billing units per package, and which ICD-10-CM
codes are billable.  The table's own facts come first: an NDC it lists, with
its package, is the table's; ``overrides_reference`` makes the table the only
source of the NDCs or diagnosis dates of a drug where a user says so.
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .model import (
    Administration,
    DateWindow,
    DiagnosisCode,
    DiagnosisMatch,
    DiagnosisSupport,
    DocumentationNote,
    Dosing,
    Ndc,
    NdcUnits,
    Provenance,
    RelatedCode,
    RevenueCode,
    Schedule,
    _plain_date,
    normalise_diagnosis,
)


def written_as_code(raw: str) -> bool:
    """Whether an HI code is written as ICD-10-CM codes are sent: no decimal point, no
    lower case (``g35a`` and ``G35.A`` are no code as written; payers check the code as
    sent)."""
    return "." not in raw and raw == raw.upper()

@dataclass(frozen=True, slots=True)
class Drug:
    """One HCPCS drug code and everything the drug-line rules check it against.

    J2350 (Ocrevus): 1 unit = 1 mg IV, single-dose vials, doses 300/600,
    maximum 600, NDC 50242015001, revenue code 0636, multiple sclerosis.
    """

    hcpcs: str
    descriptor: str
    amount_per_unit: Decimal
    unit_of_measure: str  # mg, mcg, g, IU
    route: str  # IV, SC, IM
    single_dose: bool  # JW/JZ apply
    provenance: Provenance  # for the descriptor, unit, route and single-dose flag
    dosing: Dosing
    administration: Administration
    revenue: RevenueCode | None
    ndcs: tuple[Ndc, ...]
    diagnoses: tuple[DiagnosisCode, ...]
    related: tuple[RelatedCode, ...] = ()
    documentation: tuple[DocumentationNote, ...] = ()
    schedule: Schedule | None = None
    drug_name: str | None = None
    brands: tuple[str, ...] = ()
    effective_from: dt.date | None = None
    note: str | None = None
    ndc_units: NdcUnits | None = None  # CTP05-1 units that can describe the drug (NDC006)
    code_dates: DateWindow | None = None  # the days the HCPCS code is valid (DOS002)
    overrides_reference: frozenset[str] = frozenset()  # "ndcs", "diagnoses": the table only
    reference: Any = field(default=None, repr=False, compare=False)  # edi837.refdata.Reference
    _ndc_index: Mapping[str, Ndc] = field(init=False, repr=False, compare=False)
    _exact_diagnoses: Mapping[str, tuple[DiagnosisCode, ...]] = field(init=False, repr=False,
                                                                      compare=False)
    _prefix_diagnoses: tuple[DiagnosisCode, ...] = field(init=False, repr=False, compare=False)
    # Dates on which some supporting code starts or stops being valid: between
    # two of them every code's validity is the same, so support is cached per
    # (codes, period) rather than per date of service.
    _validity_changes: tuple[dt.date, ...] = field(init=False, repr=False, compare=False)
    _support_cache: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, list[DiagnosisCode]] = {}
        for entry in self.diagnoses:
            if not entry.prefix:
                exact.setdefault(entry.code, []).append(entry)
        object.__setattr__(self, "_ndc_index", MappingProxyType({n.ndc: n for n in self.ndcs}))
        object.__setattr__(
            self, "_exact_diagnoses", MappingProxyType({k: tuple(v) for k, v in exact.items()})
        )
        object.__setattr__(self, "_prefix_diagnoses", tuple(e for e in self.diagnoses if e.prefix))
        changes = {e.valid_from for e in self.diagnoses if e.valid_from is not None}
        changes |= {e.valid_to + dt.timedelta(days=1) for e in self.diagnoses
                    if e.valid_to is not None}
        object.__setattr__(self, "_validity_changes", tuple(sorted(changes)))
        object.__setattr__(self, "_support_cache", {})

    # -- facts, flattened for the rules ---------------------------------------

    @property
    def labeled_doses(self) -> tuple[int, ...]:
        return self.dosing.labeled_doses

    @property
    def max_units_per_day(self) -> int | None:
        return self.dosing.max_units_per_day

    @property
    def administration_codes(self) -> tuple[str, ...]:
        return self.administration.codes

    @property
    def revenue_code(self) -> str | None:
        return self.revenue.code if self.revenue else None

    # -- NDCs and quantities ---------------------------------------------------

    def ndc(self, ndc: str) -> Ndc | None:
        """The package for an 11-digit NDC listed under this HCPCS, or None."""
        return self._ndc_index.get(ndc)

    def crosswalk(self, claim_kind: str, day: dt.date | None) -> Mapping[str, Any]:
        """NDC -> CMS crosswalk entry for every NDC the imported crosswalk for the claim's
        kind (ASP for 837P, OPPS for 837I) lists under this HCPCS on ``day``."""
        if self.reference is None or "ndcs" in self.overrides_reference:
            return {}
        return self.reference.crosswalk(self.hcpcs, claim_kind, day)

    def lists_ndc(self, ndc: str, claim_kind: str | None = None,
                  day: dt.date | None = None) -> bool:
        """True when the table or, for the claim's kind and date, the CMS crosswalk lists
        ``ndc`` under this HCPCS."""
        return ndc in self._ndc_index or (claim_kind is not None
                                          and ndc in self.crosswalk(claim_kind, day))

    def amount_for_units(self, units: Decimal | int) -> Decimal:
        """Drug amount in ``unit_of_measure`` for a number of billing units (J2357: 30 units
        -> 150 mg)."""
        return Decimal(units) * self.amount_per_unit

    def units_per_container(self, ndc: str) -> Decimal | None:
        """Billing units one container of ``ndc`` holds (J2350 on 50242015001: 300)."""
        package = self.ndc(ndc)
        if package is None or package.amount is None:
            return None
        return package.amount / self.amount_per_unit

    def expected_ndc_quantity(self, ndc: str, units: Decimal | int, ctp_unit: str,
                              claim_kind: str | None = None,
                              day: dt.date | None = None) -> Decimal | None:
        """The CTP04 quantity expected for ``units`` billing units of ``ndc`` in ``ctp_unit``
        (NDC007).

        J2350, 600 units, NDC 50242015001: ML -> 20, UN -> 2.  An NDC only the
        CMS crosswalk lists (``claim_kind`` and ``day`` given) answers for UN
        from its billing units per item; its package size has no unit, so ML
        and mass units need the table's package.  None when nothing can say.
        """
        package = self.ndc(ndc)
        if package is not None:
            return package.quantity_for(self.amount_for_units(units), self.unit_of_measure,
                                        ctp_unit)
        entry = self.crosswalk(claim_kind, day).get(ndc) if claim_kind else None
        per_item = entry.units_per_item if entry is not None else None
        if ctp_unit != "UN" or not per_item:
            return None
        return Decimal(units) / per_item

    # -- diagnoses ----------------------------------------------------------------

    def diagnosis_entries(self, code: str) -> tuple[DiagnosisCode, ...]:
        """Every supporting entry the claim's ``code`` matches, whatever the date."""
        code = normalise_diagnosis(code)
        found = self._exact_diagnoses.get(code, ())
        prefixed = tuple(e for e in self._prefix_diagnoses if code.startswith(e.code))
        return found + prefixed if prefixed else found

    def supporting_diagnoses(self, codes: Iterable[str], dos: dt.date | None) -> DiagnosisSupport:
        """Sort a claim's diagnosis codes (HI order) into those that support this drug on ``dos``
        and those that would but are not valid on that date.

        With ``dos`` None (no date of service) every matching code counts as supporting.
        """
        codes = tuple(codes)
        dos = None if dos is None else _plain_date(dos)
        icd = self.code_file(dos)
        # Within one ICD-10-CM file's period, or between two of the table's validity
        # dates, every code's validity is the same.
        period = None if dos is None else (("file", icd.id) if icd is not None else
                                           bisect.bisect_right(self._validity_changes, dos))
        key = (codes, period)
        support = self._support_cache.get(key)
        if support is None:
            if len(self._support_cache) > 4096:  # bounded: unusual code lists come and go
                self._support_cache.clear()
            support = self._support_cache[key] = self._support(codes, dos)
        return support

    def _support(self, codes: tuple[str, ...], dos: dt.date | None) -> DiagnosisSupport:
        supporting: list[DiagnosisMatch] = []
        not_valid: list[DiagnosisMatch] = []
        for position, raw in enumerate(codes, start=1):
            code = normalise_diagnosis(raw)
            entries = self.diagnosis_entries(code)
            if not entries:
                continue
            # X12 carries ICD-10-CM codes without the decimal point, in upper case: G35.A or
            # g35a as written is no code on any date of service (billing-rules.md §9.6)
            # a category the table marks as a header (K50, M05, G35B) is no billable code,
            # whatever a prefix entry (K50*) of the same letters says (billing-rules.md §9.6)
            headers = [e for e in entries if e.header]
            valid = [e for e in entries if dos is None or (written_as_code(raw) and not headers
                                                           and self.valid_on(e, code, dos))]
            if valid:
                # Prefer an entry that needs no review when several match.
                best = min(valid, key=lambda e: e.review)
                supporting.append(DiagnosisMatch(position, code, best))
            else:
                not_valid.append(DiagnosisMatch(position, code, (headers or entries)[0]))
        return DiagnosisSupport(tuple(supporting), tuple(not_valid))

    def code_file(self, day: dt.date | None):
        """The imported ICD-10-CM file that decides which codes are billable on ``day``
        (an ``edi837.refdata.ImportedFile``), or None: then the table's dates decide."""
        if self.reference is None or day is None or "diagnoses" in self.overrides_reference:
            return None
        return self.reference.icd10_file(day)

    def valid_on(self, entry: DiagnosisCode, code: str, day: dt.date) -> bool:
        """Whether the claim's ``code`` (matching ``entry``) may be billed on ``day``: billable
        in the ICD-10-CM file in force when one is imported for the date, else within the
        entry's valid_from/valid_to."""
        if self.code_file(day) is None:
            return entry.valid_on(day)
        found = self.reference.icd10(normalise_diagnosis(code), day)
        return found is not None and found.billable

    # -- related codes and documentation ------------------------------------------

    def related_code(self, hcpcs: str) -> RelatedCode | None:
        return next((r for r in self.related if r.hcpcs == hcpcs), None)

    def documentation_for(self, units: Decimal | int) -> tuple[DocumentationNote, ...]:
        """Documentation notes for a dose of ``units`` billing units (J2350, 300: HBV
        screening...)."""
        return tuple(n for n in self.documentation if n.applies_to(units))
