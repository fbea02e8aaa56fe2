"""The claim model: what edi837 keeps of an 837P/837I claim.

Values are kept as the strings found in the file (an NDC of "50242-150-01"
must stay visible as such); the ``*_value`` helpers parse numbers and dates
on demand, returning None when the text is not one.  Every piece remembers
the 1-based index of the segment it came from, for findings and fixes.

Loop ids follow the 5010 implementation guides as encoded in pyx12's maps
(837.5010.X222.A1.xml for 837P, 837Q3.I.5010.X223.A1.xml for 837I).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

PROFESSIONAL = "837P"
INSTITUTIONAL = "837I"


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0-9 (str.isdigit also takes '²' and other digits int() refuses)."""
    return text.isascii() and text.isdigit()


# X12 type R (decimal number): optional minus, digits with an optional decimal
# point; no exponent, no plus sign, no spaces or underscores.
_X12_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


X12_DECIMAL_DIGITS = 18  # the longest R element of the 837 (AMT, CLM02, SV102) holds 18 digits


@lru_cache(maxsize=4096)  # the same few unit counts and dates recur on every claim
def parse_decimal(text: str | None) -> Decimal | None:
    """An X12 decimal number (R), or None when the text is not one (6E2, +600, 6_00,
    or more digits than an 837 amount holds: 26 digits cannot be priced or totalled)."""
    if not text or not _X12_DECIMAL.fullmatch(text) or \
            len(text) - text.startswith("-") - ("." in text) > X12_DECIMAL_DIGITS:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def is_x12_number(text: str | None) -> bool:
    """Whether ``parse_decimal(text)`` is a number, without making one for plain digits
    (charges differ claim by claim: the cache above seldom has them)."""
    if not text:
        return False
    return (text.isdigit() and text.isascii() and len(text) <= X12_DECIMAL_DIGITS) or \
        parse_decimal(text) is not None


@lru_cache(maxsize=4096)
def parse_date(text: str | None) -> dt.date | None:
    """CCYYMMDD -> date, or None."""
    if not text or len(text) != 8 or not is_digits(text):
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def envelope_key(interchange: str | None, group: str | None, transaction: str | None) -> str:
    """A transaction set's control numbers (ISA13, GS06, ST02) as one text key (for
    maps that travel as JSON, such as ``FileResult.submitters``)."""
    return f"{interchange or ''}\x1f{group or ''}\x1f{transaction or ''}"


@dataclass(slots=True)
class Envelope:
    """Where a transaction set sits: control numbers and its guide."""

    path: str
    interchange: str  # ISA13
    group: str  # GS06
    transaction: str  # ST02
    version: str  # ST03 (or GS08) as found
    kind: str  # 837P or 837I, after mapping version variants
    sender: str = ""  # GS02
    receiver: str = ""  # GS03
    reference: str = ""  # BHT03: the submitter's batch reference (a 277CA echoes it)
    submitter_name: str = ""  # 1000A NM103
    submitter_id: str = ""  # 1000A NM109
    isa_sender: str = ""  # ISA06 (qualifier ISA05)
    isa_sender_qualifier: str = ""
    isa_receiver: str = ""  # ISA08 (qualifier ISA07)
    isa_receiver_qualifier: str = ""


@dataclass(slots=True)
class Provider:
    loop: str  # 2010AA, 2310B, 2420E ...
    entity: str  # NM101: 85, 82, 77, DN, DK ...
    npi: str  # NM109 when NM108 = XX, else ""
    name: str  # organisation or last name of a provider (not a patient)
    segment_index: int
    entity_type: str = ""  # NM102: 1 a person, 2 an organisation
    first_name: str = ""  # NM104 of a person


@dataclass(slots=True)
class Person:
    """A subscriber (2010BA) or patient (2010CA): protected health information.

    Held only while its claim is checked: the history keys patients by a keyed
    hash of these fields, and a 277CA names them back to the submitter; logs
    and reports never print them.
    """

    last_name: str = ""  # NM103
    first_name: str = ""  # NM104
    member_id: str = ""  # NM109 (2010BA only: a dependent has no id of its own in 5010)
    birth_date: str = ""  # DMG02 when DMG01 = D8


@dataclass(slots=True)
class Diagnosis:
    position: int  # 1-based among the claim's diagnoses (SV107 points here)
    qualifier: str  # ABK, ABF, ABJ, APR, ABN (BK, BF ... for ICD-9)
    code: str  # as billed, without the decimal point
    segment_index: int


@dataclass(slots=True)
class DrugIdentification:
    """Loop 2410: LIN (NDC), CTP (quantity and unit), REF."""

    qualifier: str  # LIN02, N4 for an NDC
    ndc: str  # LIN03 as billed
    lin_index: int
    quantity: str = ""  # CTP04
    unit: str = ""  # CTP05-1
    ctp_index: int | None = None
    references: list[tuple[str, str]] = field(default_factory=list)  # REF01, REF02

    @property
    def quantity_value(self) -> Decimal | None:
        return parse_decimal(self.quantity)


@dataclass(slots=True)
class ServiceLine:
    number: str  # LX01 as billed
    lx_index: int
    segment_id: str = ""  # SV1 or SV2
    segment_index: int | None = None
    qualifier: str = ""  # HC ...
    procedure: str = ""  # HCPCS / CPT
    modifiers: tuple[str, ...] = ()  # the modifiers billed, empty slots left out
    modifier_slots: tuple[str, ...] = ()  # SV101-3..6 / SV202-3..6 as written, empties kept
    revenue_code: str = ""  # SV201 (837I)
    charge: str = ""
    unit_basis: str = ""  # SV103 / SV204
    units: str = ""  # SV104 / SV205
    pointers: tuple[str, ...] = ()  # SV107-1..4 (837P), empty slots left out
    pointer_slots: tuple[str, ...] = ()  # SV107 components as written
    place_of_service: str = ""  # SV105 (837P), when it differs from CLM05-1
    service_date: str = ""  # DTP*472 D8, or the start of RD8
    service_date_end: str = ""
    date_index: int | None = None
    drug: DrugIdentification | None = None
    rendering: Provider | None = None  # 2420A (837P) / 2420C (837I)
    ordering: Provider | None = None  # 2420E (837P)
    referring: Provider | None = None  # 2420F (837P) / 2420D (837I)
    control_number: str = ""  # 2400 REF*6R line item control number
    last_index: int = 0  # last segment of the line's loops

    @property
    def line_number(self) -> int | None:
        return int(self.number) if is_digits(self.number) else None

    @property
    def units_value(self) -> Decimal | None:
        return parse_decimal(self.units)

    @property
    def charge_value(self) -> Decimal | None:
        return parse_decimal(self.charge)

    @property
    def date_value(self) -> dt.date | None:
        return parse_date(self.service_date)

    @property
    def ndc(self) -> str:
        return self.drug.ndc if self.drug else ""

    def has_modifier(self, modifier: str) -> bool:
        return modifier in self.modifiers

    def free_modifier_component(self) -> int | None:
        """The SV101/SV202 component a new modifier goes in (3-6), None when all four are used."""
        slot = _first_free(self.modifier_slots, 4)
        return None if slot is None else slot + 3

    def free_pointer_component(self) -> int | None:
        """The SV107 component a new diagnosis pointer goes in (1-4), None when all are used."""
        slot = _first_free(self.pointer_slots, 4)
        return None if slot is None else slot + 1


def _first_free(slots: tuple[str, ...], limit: int) -> int | None:
    """0-based index of the first empty slot, counting slots past the end as empty."""
    for index, value in enumerate(slots[:limit]):
        if not value:
            return index
    return len(slots) if len(slots) < limit else None


@dataclass(slots=True)
class Claim:
    envelope: Envelope
    claim_id: str  # CLM01
    clm_index: int
    charge: str = ""  # CLM02
    facility_code: str = ""  # CLM05-1 (place of service / type of bill facility)
    facility_qualifier: str = ""  # CLM05-2
    frequency: str = ""  # CLM05-3
    billing_provider: Provider | None = None
    subscriber_id: str = ""  # 2010BA NM109: never logged
    patient_is_subscriber: bool = True
    payer_name: str = ""
    payer_id: str = ""  # 2010BB NM109
    filing_indicator: str = ""  # SBR09
    diagnoses: list[Diagnosis] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)  # DTP01 -> DTP03
    referring: Provider | None = None  # 2310A (837P) / 2310F (837I)
    rendering: Provider | None = None  # 2310B (837P) / 2310D (837I)
    facility: Provider | None = None  # 2310C (837P) / 2310E (837I)
    attending: Provider | None = None  # 2310A (837I)
    lines: list[ServiceLine] = field(default_factory=list)
    payer_responsibility: str = ""  # SBR01: P primary, S secondary, T tertiary ...
    relationship: str = ""  # SBR02: 18 when the patient is the subscriber
    subscriber: Person | None = None  # 2010BA (never logged)
    patient: Person | None = None  # 2010CA when the patient is a dependent (never logged)
    original_reference: str = ""  # 2300 REF*F8: the payer's claim number of the original
    context_findings: tuple = ()  # reader findings on the HL levels above the claim
    hi_index: int | None = None  # first HI segment
    # HI composites not read as diagnoses, as written (qualifier, code): DX001 names an
    # 'abk' the guide does not allow rather than saying the claim has no HI
    hi_unread: list[tuple[str, str]] = field(default_factory=list)
    first_index: int = 0  # the CLM segment
    last_index: int = 0  # last segment of the claim's loops

    @property
    def kind(self) -> str:
        return self.envelope.kind

    @property
    def path(self) -> str:
        return self.envelope.path

    @property
    def service_date(self) -> str:
        """Claim-level service date: DTP*472 (837P) or statement start (837I DTP*434)."""
        for qualifier in ("472", "434"):
            value = self.dates.get(qualifier)
            if value:
                return value[:8]
        return ""

    @property
    def statement_through(self) -> str:
        """837I: the statement period's through date (DTP*434 RD8, its second date: an
        inpatient stay's discharge); "" when the claim has none."""
        value = self.dates.get("434", "")
        return value[9:17] if len(value) >= 17 and value[8] == "-" else ""

    def diagnosis_codes(self) -> list[str]:
        return [dx.code for dx in self.diagnoses]

    def diagnosis_at(self, pointer: str) -> Diagnosis | None:
        if not is_digits(pointer):
            return None
        position = int(pointer)
        for dx in self.diagnoses:
            if dx.position == position:
                return dx
        return None

    def line_date(self, line: ServiceLine) -> str:
        """The line's date of service, falling back to the claim's."""
        return line.service_date or self.service_date

    @property
    def patient_person(self) -> Person | None:
        """Who received the services: the subscriber when SBR02 is 18 (or no
        patient loop was sent), else the 2010CA patient."""
        if self.relationship != "18" and self.patient is not None:
            return self.patient
        return self.subscriber
