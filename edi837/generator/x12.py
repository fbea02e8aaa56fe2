"""Writing the generated claims as X12 837P/837I."""
from __future__ import annotations

from datetime import date
from typing import TextIO

from .facts import COMPONENT, CREATED, ELEMENT, GUIDE_VERSION, REPETITION
from .model import (
    Address,
    Claim,
    OtherCoverage,
    Patient,
    Person,
    Provider,
    ServiceLine,
    format_money,
)

# --------------------------------------------------------------------------
# Writing X12.
# --------------------------------------------------------------------------

class SegmentWriter:
    """Renders segments into a small buffer and writes it out in pieces.

    Counts what the trailers need (segments since ST) and what the caller
    reports (characters written; the text is ASCII, so bytes as well).
    """

    def __init__(self, out: TextIO, terminator: str, newline: str):
        self.out = out
        self.end = terminator + newline
        self.buffer: list[str] = []
        self.written = 0
        self.segments_in_transaction = 0

    def segment(self, segment_id: str, *elements: str | tuple[str, ...]) -> None:
        fields = [segment_id]
        for element in elements:
            if isinstance(element, tuple):
                element = COMPONENT.join(element).rstrip(COMPONENT)
            fields.append(element)
        while fields[-1] == "":  # X12 drops trailing empty elements
            fields.pop()
        text = ELEMENT.join(fields) + self.end
        self.buffer.append(text)
        self.written += len(text)
        self.segments_in_transaction += 1

    def raw(self, text: str) -> None:
        """A segment that must keep its exact layout (ISA's fixed widths)."""
        text += self.end
        self.buffer.append(text)
        self.written += len(text)

    def flush(self) -> None:
        self.out.write("".join(self.buffer))
        self.buffer.clear()


def isa_segment(sender: str, receiver: str, control_number: int) -> str:
    """ISA is fixed-width: 106 characters with its terminator."""
    return ELEMENT.join((
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{sender:<15}", "ZZ", f"{receiver:<15}",
        f"{CREATED:%y%m%d}", "1200", REPETITION, "00501", f"{control_number:09d}", "0", "T",
        COMPONENT))


def d8(day: date) -> str:
    return f"{day:%Y%m%d}"


class TransactionWriter:
    """Writes ST..SE transaction sets of one kind, patient by patient."""

    def __init__(self, writer: SegmentWriter, kind: str):
        self.w = writer
        self.kind = kind
        self.version = GUIDE_VERSION[kind]
        self.hl = 0
        self.current: Patient | None = None

    # ----- envelope ------------------------------------------------------------

    def start(self, control_number: str, batch: str, billing: Provider) -> None:
        w = self.w
        w.segments_in_transaction = 0
        w.segment("ST", "837", control_number, self.version)
        w.segment("BHT", "0019", "00", batch, d8(CREATED), "1200", "CH")
        w.segment("NM1", "41", "2", "SYNTHETIC CLAIMS SUBMITTER", "", "", "", "", "46", "EDI837SYN")
        w.segment("PER", "IC", "EDI DESK", "TE", "5555550100")
        w.segment("NM1", "40", "2", "EXAMPLE CLEARINGHOUSE", "", "", "", "", "46", "EXCLEAR01")
        self.hl = 1
        w.segment("HL", "1", "", "20", "1")
        w.segment("PRV", "BI", "PXC", billing.taxonomy)
        w.segment("NM1", "85", "2", billing.last, "", "", "", "", "XX", billing.npi)
        self.address(billing.address, zip_plus_four=True)
        w.segment("REF", "EI", "99" + billing.npi[2:9])  # a made-up EIN

    def finish(self, control_number: str) -> None:
        self.w.segment("SE", str(self.w.segments_in_transaction + 1), control_number)

    # ----- subscriber and patient ----------------------------------------------

    def patient(self, patient: Patient) -> None:
        w = self.w
        self.current = patient
        subscriber_hl = self.hl = self.hl + 1
        has_dependant = patient.dependant is not None
        w.segment("HL", str(subscriber_hl), "1", "22", "1" if has_dependant else "0")
        coverage = patient.coverage
        w.segment("SBR", "S" if self.secondary(patient) else "P", "" if has_dependant else "18",
                  coverage.group_number, "", "", "", "", "", coverage.payer.filing_indicator)
        self.person("IL", patient.subscriber, coverage.member_id)
        w.segment("NM1", "PR", "2", coverage.payer.name, "", "", "", "", "PI",
                  coverage.payer.payer_id)
        if has_dependant:
            self.hl += 1
            w.segment("HL", str(self.hl), str(subscriber_hl), "23", "0")
            w.segment("PAT", patient.relationship)
            self.person("QC", patient.dependant, None)
        for claim in patient.claims:
            self.claim(claim)

    @staticmethod
    def secondary(patient: Patient) -> bool:
        """Billed to a second payer after another paid (2320 on every claim)."""
        return any(claim.other_coverage for claim in patient.claims)

    def person(self, qualifier: str, person: Person, member_id: str | None) -> None:
        w = self.w
        if member_id:
            w.segment("NM1", qualifier, "1", person.last, person.first, person.middle, "", "", "MI",
                      member_id)
        else:
            w.segment("NM1", qualifier, "1", person.last, person.first, person.middle)
        self.address(person.address)
        w.segment("DMG", "D8", d8(person.birth_date), person.sex)

    def address(self, address: Address | None, zip_plus_four: bool = False) -> None:
        if address is None:
            return
        self.w.segment("N3", address.street)
        zip_code = address.zip_code + ("0001" if zip_plus_four else "")
        self.w.segment("N4", address.city, address.state, zip_code)

    def provider(self, entity: str, provider: Provider, taxonomy_role: str = "") -> None:
        w = self.w
        entity_type = "1" if provider.first else "2"  # person or organisation
        w.segment("NM1", entity, entity_type, provider.last, provider.first, "", "", "", "XX",
                  provider.npi)
        if taxonomy_role:
            w.segment("PRV", taxonomy_role, "PXC", provider.taxonomy)

    # ----- claim parts shared by both guides ------------------------------------

    def claim_references(self, claim: Claim) -> None:
        w = self.w
        if claim.attachment_control:
            w.segment("PWK", "OZ", "BM", "", "", "AC", claim.attachment_control)
        if claim.prior_authorization:
            w.segment("REF", "G1", claim.prior_authorization)
        if claim.payer_claim_number:
            w.segment("REF", "F8", claim.payer_claim_number)

    def facility(self, claim: Claim) -> None:
        if claim.facility:
            self.provider("77", claim.facility)
            self.address(claim.facility.address)

    def other_coverage(self, claim: Claim) -> None:
        """2320/2330A/2330B: the primary payer; the patient is its subscriber too."""
        other = claim.other_coverage
        if other is None:
            return
        w = self.w
        insured = self.current.subscriber
        w.segment("SBR", "P", "18", "", "", "", "", "", "", other.payer.filing_indicator)
        w.segment("AMT", "D", format_money(other.paid_cents))
        w.segment("OI", "", "", "Y", "", "", "Y")
        w.segment("NM1", "IL", "1", insured.last, insured.first, insured.middle, "", "", "MI",
                  other.member_id)
        w.segment("NM1", "PR", "2", other.payer.name, "", "", "", "", "PI", other.payer.payer_id)

    def line_tail(self, claim: Claim, line: ServiceLine) -> None:
        """DTP, REF, 2410 drug and 2430 adjudication: the same in both guides."""
        w = self.w
        if line.service_date:
            w.segment("DTP", "472", "D8", d8(line.service_date))
        if line.control_number:
            w.segment("REF", "6R", line.control_number)
        if line.ndc is not None:
            w.segment("LIN", "", line.ndc_qualifier, line.ndc)
            w.segment("CTP", "", "", "", line.ndc_quantity, (line.ndc_unit,))
        if line.ordering and self.kind == "837P":
            self.provider("DK", line.ordering)
        if line.other_payer_paid_cents is not None and claim.other_coverage:
            self.line_adjudication(claim.other_coverage, line)

    def line_adjudication(self, other: OtherCoverage, line: ServiceLine) -> None:
        w = self.w
        procedure = ("HC", line.procedure, *line.modifiers)
        revenue = line.revenue_code if self.kind == "837I" else ""
        w.segment("SVD", other.payer.payer_id, format_money(line.other_payer_paid_cents),
                  procedure, revenue, str(line.units))
        w.segment("CAS", "CO", "45", format_money(line.charge_cents - line.other_payer_paid_cents))
        w.segment("DTP", "573", "D8", d8(other.adjudicated))

    def claim(self, claim: Claim) -> None:
        raise NotImplementedError


class ProfessionalWriter(TransactionWriter):
    """837P (005010X222A1): CMS-1500 style claims from the practice."""

    def claim(self, claim: Claim) -> None:
        w = self.w
        w.segment("CLM", claim.claim_id, format_money(claim.charge_cents), "", "",
                  (claim.place_of_service, "B", claim.frequency), "Y", "A", "Y", "Y")
        self.claim_references(claim)
        # One HI: the principal diagnosis, then up to 11 others (SV107 points into it).
        codes = [("ABK", claim.diagnoses[0])] + [("ABF", code) for code in claim.diagnoses[1:12]]
        w.segment("HI", *codes)
        if claim.referring:
            self.provider("DN", claim.referring)
        if claim.rendering:
            self.provider("82", claim.rendering, "PE")
        self.facility(claim)
        self.other_coverage(claim)
        for number, line in enumerate(claim.lines, 1):
            w.segment("LX", str(number))
            w.segment("SV1", ("HC", line.procedure, *line.modifiers),
                      format_money(line.charge_cents), line.unit_basis, str(line.units), "", "",
                      tuple(str(p) for p in line.pointers))
            self.line_tail(claim, line)


class InstitutionalWriter(TransactionWriter):
    """837I (005010X223A2): UB-04 style claims (type of bill 131 mostly; 851, 111, 711, 771)."""

    def claim(self, claim: Claim) -> None:
        w = self.w
        w.segment("CLM", claim.claim_id, format_money(claim.charge_cents), "", "",
                  (claim.bill_type, "A", claim.frequency), "", "A", "Y", "Y")
        day = d8(claim.service_date)
        w.segment("DTP", "434", "RD8", f"{day}-{day}")
        w.segment("CL1", "3", "1", "01")  # elective, physician referral, discharged home
        self.claim_references(claim)
        # 837I puts the principal and the other diagnoses in separate HI segments.
        w.segment("HI", ("ABK", claim.diagnoses[0]))
        if len(claim.diagnoses) > 1:
            w.segment("HI", *[("ABF", code) for code in claim.diagnoses[1:13]])
        if claim.attending:
            self.provider("71", claim.attending, "AT")
        if claim.rendering:
            self.provider("82", claim.rendering)
        self.facility(claim)
        if claim.referring:
            self.provider("DN", claim.referring)
        self.other_coverage(claim)
        for number, line in enumerate(claim.lines, 1):
            w.segment("LX", str(number))
            w.segment("SV2", line.revenue_code, ("HC", line.procedure, *line.modifiers),
                      format_money(line.charge_cents), line.unit_basis, str(line.units))
            self.line_tail(claim, line)


WRITERS = {"837P": ProfessionalWriter, "837I": InstitutionalWriter}


