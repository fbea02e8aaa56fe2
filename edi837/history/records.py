"""What the history stage needs of a claim: plain, picklable, and free of names.

A worker that checked a claim sends a :class:`ClaimRecord` to the process that
owns the history store (the driver), so the record holds the patient only as
its keyed hash and the drug lines only as the fields the history rules read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..model import Claim, ServiceLine, parse_decimal
from ..policy.model import setting_of

DISCARDED = "JW"  # CMS modifier: drug amount discarded, not administered
REPLACEMENT, VOID = "7", "8"  # CLM05-3 claim frequency codes


@dataclass(slots=True)
class LineRecord:
    number: int | None  # LX01
    segment_index: int | None  # SV1/SV2
    segment_id: str
    hcpcs: str
    modifiers: tuple[str, ...]
    units: int | Decimal | None
    units_text: str
    ndc: str
    date: str  # CCYYMMDD, the line's or the claim's
    charge: str
    in_table: bool  # the drug table knows the HCPCS
    # the line's own setting where its place of service (837P SV105) is not the claim's
    # ("837P:22" on an office claim): its payer profile is that setting's; "": the
    # claim's (last, with a default: records handed over without it still read)
    setting: str = ""

    @property
    def discarded(self) -> bool:
        return DISCARDED in self.modifiers


@dataclass(slots=True)
class ClaimRecord:
    """A claim's drug lines as the history needs them (see the module docstring)."""

    path: str
    interchange: str
    group: str
    transaction: str
    kind: str
    claim_id: str
    clm_index: int
    first_index: int
    last_index: int
    charge: str
    frequency: str
    original_reference: str
    payer_id: str
    payer_name: str
    filing_indicator: str
    responsibility: str
    billing_npi: str
    patient: bytes
    held: bool  # an error finding already holds the claim (it will not be forwarded)
    setting: str  # "837P:11", "837I:13" (policy.setting_of): the claim's payer profile
    # (a line given elsewhere takes its own: LineRecord.setting)
    lines: list[LineRecord] = field(default_factory=list)

    def quick_values(self, stage, first_doses: bool) -> list[tuple] | None:
        """The INSERT values of a one-line claim no history rule can say anything of
        when its patient has no line in the history (the stage's ``_alone_and_clean``
        for the usual record a worker sends the driver, and no first dose to note:
        ``first_doses``, HIS003 is in the claim's plan); None otherwise: the stage's
        full path decides."""
        if len(self.lines) != 1 or self.frequency in (REPLACEMENT, VOID):
            return None
        line = self.lines[0]
        units = line.units
        if units is None or line.in_table and first_doses:
            return None  # (a first dose to note: HIS003 judges it)
        facts = stage.quick_facts(line.hcpcs)
        if facts is not None:
            doses, most = facts
            if doses and units not in doses:
                return None
            if most is not None and units > most and not line.discarded:
                return None
        return [(self.patient, line.date, line.hcpcs, line.units_text, " ".join(line.modifiers),
                 line.ndc, self.billing_npi, self.payer_id, self.responsibility,
                 self.claim_id, self.frequency, self.original_reference, 0)]


def units_of(text: str) -> int | Decimal | None:
    """Billed units as an int when whole (sums of ints are what the history does
    most, and cheap), a Decimal otherwise, None when not a number."""
    if text.isdigit() and text.isascii():
        return int(text)
    value = parse_decimal(text)
    if value is not None and value == value.to_integral_value():
        return int(value)
    return value


def own_setting(claim: Claim, place: str) -> str:
    """The setting of a line given at ``place`` (837P SV105, which overrides CLM05-1 for
    its line), where it is not the claim's; "" where it is (or the line names none)."""
    if not place or place == claim.facility_code:
        return ""
    setting = setting_of(claim.kind, place)
    return "" if setting == setting_of(claim.kind, claim.facility_code) else setting


def line_record(claim: Claim, line: ServiceLine, in_table: bool) -> LineRecord:
    place = line.place_of_service
    return LineRecord(  # (by position, in the fields' order: keywords cost 2-3 times more)
        line.line_number, line.segment_index, line.segment_id or "SV1", line.procedure,
        line.modifiers, units_of(line.units), line.units, line.ndc, claim.line_date(line),
        line.charge, in_table, own_setting(claim, place) if place else "")


def claim_record(claim: Claim, drug_lines: list[ServiceLine], patient: bytes, held: bool,
                 known) -> ClaimRecord:
    """The record of a claim's drug lines; ``known(hcpcs)``: the drug table has it."""
    env = claim.envelope
    billing = claim.billing_provider
    return ClaimRecord(  # (by position, in the fields' order: keywords cost 3 times more)
        env.path, env.interchange, env.group, env.transaction, env.kind, claim.claim_id,
        claim.clm_index, claim.first_index, claim.last_index, claim.charge, claim.frequency,
        claim.original_reference, claim.payer_id, claim.payer_name, claim.filing_indicator,
        claim.payer_responsibility, billing.npi if billing is not None else "", patient,
        held, setting_of(env.kind, claim.facility_code),
        [line_record(claim, line, known(line.procedure)) for line in drug_lines])
