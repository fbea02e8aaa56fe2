"""The drug table's typed model: frozen, slotted dataclasses with precomputed lookups.

Every fact carries a :class:`Provenance` (source and confidence tag as in
billing-rules.md: "A" primary, "B" manufacturer/trade/payer, "C" secondary,
"unconfirmed").  Amounts are :class:`~decimal.Decimal` in the drug's unit of
measure (mg for every shipped drug); doses and maxima are HCPCS billing units.
Nothing here reads files: :mod:`edi837.drugs.loader` builds these objects;
:mod:`.drug` holds :class:`Drug` and :mod:`.drug_table` the merged :class:`DrugTable`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

# the days a fact holds: defined below the drug table, where the CMS files make them too
from ..refdata.window import DateWindow  # noqa: F401 - re-exported: edi837.drugs.DateWindow
from ..refdata.window import plain_date as _plain_date

CONFIDENCE_LEVELS = ("A", "B", "C", "unconfirmed")

# Milligrams per unit of a mass unit of measure (CTP05-1 ME = mg, GR = g).
_MG_PER = {"mg": Decimal(1), "mcg": Decimal("0.001"), "g": Decimal(1000)}


def normalise_diagnosis(code: str) -> str:
    """ICD-10-CM code in the X12 HI form: upper case, no decimal point (G35.A -> G35A)."""
    return code.strip().replace(".", "").upper()



@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact comes from, and how sure the fact sheet is of it."""

    source: str
    confidence: str  # one of CONFIDENCE_LEVELS

    @property
    def confirmed(self) -> bool:
        return self.confidence != "unconfirmed"

    def __str__(self) -> str:
        return f"{self.source} [{self.confidence}]"


# ---------------------------------------------------------------------------
# Policy: facts that hold for every drug
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscardedDrugModifiers:
    """CMS JW/JZ policy for single-dose containers (MM13056; CMS discarded-drugs page).

    JZ (nothing discarded) or JW (amount discarded) is required on lines with a
    date of service on or after ``required_from`` (2023-07-01); claims lacking
    both are returned as unprocessable from ``claim_edits_from`` (2023-10-01).
    JW alone, on discarded amounts, is required from ``jw_required_from``
    (2017-01-01, CR 9603): the rules on billed waste (MOD007) start there.
    """

    required_from: dt.date
    claim_edits_from: dt.date
    provenance: Provenance
    jw_required_from: dt.date | None = None  # absent: JW's rules start with JZ's
    # modifier -> the first date of service it exists on (DOS003: JZ from 2023-01-01)
    available_from: Mapping[str, dt.date] = field(default_factory=dict)

    @property
    def waste_rules_from(self) -> dt.date:
        """The first date of service whose JW lines are judged (MOD007)."""
        return self.jw_required_from or self.required_from

    def required_on(self, day: dt.date) -> bool:
        return _plain_date(day) >= self.required_from


@dataclass(frozen=True, slots=True)
class NdcPolicy:
    """X12 5010 loop 2410: LIN02 qualifier for an NDC and the CTP05-1 unit codes."""

    product_qualifier: str  # N4
    quantity_units: tuple[str, ...]  # F2, GR, ME, ML, UN
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class ServiceUnits:
    """SV103 (837P) / SV204 (837I) unit basis for drug lines billed in HCPCS units."""

    unit_basis: str  # UN
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class PlaceOfService:
    """837P places of service where a drug is the facility's, not the physician's (POS001):
    19 and 22 outpatient hospital, 21 inpatient hospital, 23 hospital emergency room
    (Medicare Benefit Policy Manual ch. 15 §50.3)."""

    facility_drug: tuple[str, ...]
    provenance: Provenance
    names: dict = field(default_factory=dict)  # place of service -> what it is, for messages


@dataclass(frozen=True, slots=True)
class Icd9:
    """HI qualifiers of ICD-9-CM codes (BK, BF), valid for dates of service through
    ``valid_to`` (2015-09-30; ICD-10-CM from 2015-10-01)."""

    qualifiers: tuple[str, ...]
    valid_to: dt.date
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class NdcPlaceholders:
    """NDCs that name no package: labeler codes no firm holds (00000) and filler NDCs
    (99999999999), which a billing system writes to make an NDC requirement look met."""

    labelers: tuple[str, ...]
    ndcs: tuple[str, ...]
    provenance: Provenance

    def why(self, ndc: str) -> str | None:
        """Why an 11-digit ``ndc`` is a placeholder, or None when it is not one."""
        if ndc in self.ndcs:
            return "a filler NDC"
        if ndc[:5] in self.labelers:
            return f"labeler code {ndc[:5]} is assigned to no firm"
        return None


@dataclass(frozen=True, slots=True)
class UnclassifiedCodes:
    """Not-otherwise-classified drug codes (J3490, J3590, J9999, C9399): a drug billed under
    one on a date its own code is valid should be billed under its own (NDC004)."""

    codes: tuple[str, ...]
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Policy:
    """The table's ``[policy]``: the facts that hold for every drug."""

    discarded_drug_modifiers: DiscardedDrugModifiers
    ndc: NdcPolicy
    service_units: ServiceUnits
    place_of_service: PlaceOfService | None = None
    icd9: Icd9 | None = None
    ndc_placeholders: NdcPlaceholders | None = None
    unclassified_codes: UnclassifiedCodes | None = None


@dataclass(frozen=True, slots=True)
class AdministrationCode:
    """A CPT/HCPCS administration code and the route(s) it implies ("IV", "SC/IM")."""

    code: str
    route: str
    provenance: Provenance
    descriptor: str | None = None

    @property
    def routes(self) -> frozenset[str]:
        return frozenset(self.route.split("/"))

    def fits(self, route: str) -> bool:
        """True when a drug given by ``route`` (IV, SC, IM) can be administered with this code."""
        return route in self.routes


# ---------------------------------------------------------------------------
# Per drug
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ndc:
    """One NDC package (11-digit 5-4-2 form, digits only) and what one container holds.

    ``amount`` is the drug per container in the drug's unit of measure (J2350
    NDC 50242015001: 300 mg in ``volume_ml`` 10).  ``billable`` is False for
    samples and "drug for further processing" listings (rule NDC008).
    """

    ndc: str
    hcpcs: str
    package: str
    billable: bool
    provenance: Provenance
    product: str | None = None
    fda_ndc: str | None = None  # hyphenated form as FDA lists it, e.g. 50242-150-01
    container: str | None = None
    amount: Decimal | None = None
    volume_ml: Decimal | None = None
    not_billable_reason: str | None = None
    preferred_ctp_unit: str | None = None
    note: str | None = None
    marketing_start: dt.date | None = None  # FDA NDC Directory, inclusive (NDC009)
    marketing_end: dt.date | None = None

    def containers_for(self, amount: Decimal) -> Decimal | None:
        """How many containers hold ``amount`` (exact, not rounded up)."""
        if self.amount is None:
            return None
        return Decimal(amount) / self.amount

    def quantity_for(self, amount: Decimal, unit_of_measure: str, ctp_unit: str) -> Decimal | None:
        """The CTP04 quantity in ``ctp_unit`` that ``amount`` of drug corresponds to.

        UN counts containers, ML the volume, ME/GR the mass, F2 international
        units.  None when the package data cannot say (no volume for a powder,
        a mass unit for an IU-measured drug, an unknown unit).
        J2350 on 50242015001: 600 mg -> 20 ML, 2 UN, 600 ME.
        """
        amount = Decimal(amount)
        if ctp_unit == "UN":
            return self.containers_for(amount)
        if ctp_unit == "ML":
            if self.amount is None or self.volume_ml is None:
                return None
            return amount / self.amount * self.volume_ml
        if ctp_unit in ("ME", "GR") and unit_of_measure in _MG_PER:
            mg = amount * _MG_PER[unit_of_measure]
            return mg if ctp_unit == "ME" else mg / 1000
        if ctp_unit == "F2" and unit_of_measure == "IU":
            return amount
        return None


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    """An ICD-10-CM code (or prefix) that supports a drug, with the dates it is valid.

    Codes are in X12 form (no dot).  ``valid_from``/``valid_to`` are inclusive;
    None means unbounded.  Bare G35 is valid through 2025-09-30; G35A-G35D
    from 2025-10-01 (FY2026 ICD-10-CM).  ``review`` marks codes that support
    the drug only at the edge of its label: warn, do not reject.
    """

    code: str
    group: str  # the group's human label, e.g. "multiple sclerosis"
    provenance: Provenance
    prefix: bool = False
    label: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    review: bool = False
    note: str | None = None
    header: bool = False  # a category such as G35B: never billable, whatever the date

    def matches(self, code: str) -> bool:
        """True when the claim's ``code`` (with or without a dot) is this code or starts
        with this prefix."""
        code = normalise_diagnosis(code)
        return code.startswith(self.code) if self.prefix else code == self.code

    def valid_on(self, day: dt.date) -> bool:
        if self.header:
            return False
        day = _plain_date(day)
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@dataclass(frozen=True, slots=True)
class DiagnosisMatch:
    """A claim diagnosis that matched a drug's supporting code.

    ``position`` is 1-based in the codes passed in, which is the SV107
    pointer value when those are the claim's HI codes in order.
    """

    position: int
    code: str  # as passed, normalised to X12 form
    entry: DiagnosisCode


@dataclass(frozen=True, slots=True)
class DiagnosisSupport:
    """Which of a claim's diagnoses support a drug on a date of service.

    ``supporting``: matching codes valid on the date (rule DX001 fires when
    there are none).  ``not_valid_on_date``: codes that would support the drug
    but are not valid on the date, such as bare G35 on or after 2025-10-01
    (rule DX002).
    """

    supporting: tuple[DiagnosisMatch, ...]
    not_valid_on_date: tuple[DiagnosisMatch, ...]

    @property
    def supported(self) -> bool:
        return bool(self.supporting)

    @property
    def review_only(self) -> bool:
        """Supported only by codes marked for review (e.g. non-active progressive MS)."""
        return self.supported and all(match.entry.review for match in self.supporting)

    @property
    def positions(self) -> frozenset[int]:
        """1-based positions of the supporting codes (SV107 pointers that are fine)."""
        return frozenset(match.position for match in self.supporting)


@dataclass(frozen=True, slots=True)
class Dosing:
    """Labeled doses and the maximum, in HCPCS billing units.

    An empty ``labeled_doses`` means weight-based dosing: no labeled-dose check.
    """

    labeled_doses: tuple[int, ...]
    max_units_per_day: int | None
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Administration:
    """Administration codes expected on the same claim and date as the drug (ADM001)."""

    codes: tuple[str, ...]
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class RevenueCode:
    """837I revenue code (SV201) expected on the drug line (REV001)."""

    code: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class RelatedCode:
    """Another code for a product close to this drug, for crosswalk messages.

    ``ndcs`` are NDCs billed under ``hcpcs`` (for products the table has no
    entry of their own for, such as a biosimilar's Q-code).  ``hcpcs`` is None
    when the related product's code is not known.
    """

    name: str
    provenance: Provenance
    hcpcs: str | None = None
    ndcs: tuple[str, ...] = ()
    note: str | None = None
    # the dates of service ``hcpcs`` was this drug's code (J3590 for ocrelizumab through
    # 2017-12-31, before J2350): NDC004 leaves a line of those dates alone
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def holds(self, day: dt.date) -> bool:
        """Whether ``hcpcs`` was this drug's code on ``day``; False without dates."""
        if self.valid_from is None and self.valid_to is None:
            return False
        return (self.valid_from is None or day >= self.valid_from) and \
            (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class IntervalWording:
    """One source's wording of the label's minimum interval between doses."""

    text: str
    min_days: int
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class LabelInterval:
    """The minimum interval between doses under one label revision, in force on
    dates of service from ``valid_from`` to ``valid_to`` (both included).  Where
    sources disagree on the wording, the longer minimum is the one flagged
    (HIS002 is a warning: it holds no claim)."""

    revision: str
    wordings: tuple[IntervalWording, ...]
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: str | None = None

    @property
    def min_days(self) -> int:
        return max(wording.min_days for wording in self.wordings)

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and \
            (self.valid_to is None or day <= self.valid_to)

    def says(self) -> str:
        """What the revision says, for a message: one wording, or each with its source."""
        if len(self.wordings) == 1:
            return f'"{self.wordings[0].text}" ({self.min_days} days)'
        return " or ".join(f'"{w.text}" ({w.min_days} days, {w.provenance.source.split(" ")[0]})'
                           for w in self.wordings) + \
            f": sources disagree, flagged under the longer ({self.min_days} days)"


@dataclass(frozen=True, slots=True)
class InductionStep:
    """An induction dose after the first, ``day`` days after it (Entyvio: week 2 is
    day 14), on schedule from ``window_days[0]`` to ``window_days[1]`` days after
    the first (both included)."""

    day: int
    window_days: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Schedule:
    """How doses of a drug follow each other, in days between dates of service
    (rule HIS002).  The label gives the regimen; no source gives tolerances, so
    the windows are marked as the project's choice and a payer profile may
    override them (``with_overrides``)."""

    maintenance_interval_days: int
    maintenance_min_days: int
    provenance: Provenance
    tolerance_source: str
    induction_dose: int | None = None
    induction_second_dose: int | None = None  # when unlike the first (Briumvi 150, then 450)
    induction_interval_days: int | None = None
    induction_window_days: tuple[int, int] | None = None
    maintenance_dose: int | None = None
    ingredient: str | None = None  # codes of one molecule share one schedule (J2350, J2351)
    label_intervals: tuple[LabelInterval, ...] = ()
    # induction doses the size of the maintenance dose, told apart by their place
    # (Entyvio: weeks 0, 2 and 6, then every 8 weeks)
    induction_steps: tuple[InductionStep, ...] = ()
    label_revision: str | None = None  # the label the regimen is from, as a message names it
    min_days_from_profile: bool = False  # a payer profile set maintenance_min_days

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Schedule":
        if not overrides:
            return self
        values = {key: (tuple(value) if key == "induction_window_days" else value)
                  for key, value in overrides.items()}
        return replace(self, **values, tolerance_source="payer profile",
                       min_days_from_profile="maintenance_min_days" in overrides)

    def label_interval(self, day: dt.date | None) -> LabelInterval | None:
        """The label revision in force on ``day`` (None: none given, or a payer
        profile's window decides)."""
        if day is None or self.min_days_from_profile:
            return None
        return next((found for found in self.label_intervals if found.covers(day)), None)


@dataclass(frozen=True, slots=True)
class NdcUnits:
    """The CTP05-1 units that can describe a drug (NDC006): J2350, dosed in mg, takes
    GR, ME, ML and UN, never F2 (international units)."""

    units: tuple[str, ...]
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class DocumentationNote:
    """What must be on file for a dose (rule DOC001); ``units`` None means every dose.
    ``first_dose``: due before the first dose, so with a patient history it is
    noted on the first dose seen for the member instead of on the dose size."""

    note: str
    provenance: Provenance
    units: int | None = None
    first_dose: bool = False

    def applies_to(self, units: Decimal | int) -> bool:
        return self.units is None or units == self.units
