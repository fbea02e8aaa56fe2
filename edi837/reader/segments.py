"""The claim reader's handlers of the segments inside an 837 transaction set, one per
segment and loop (loop_table.READS says which runs where).  Each takes the reader's
state (state.ReadState), the segment's elements (padded: ``fields[n]`` needs no length
check) and its index; the HL and CLM handlers return the claim they close, the others
None.  A mixin of `edi837.reader.claims.ClaimReader`, whose ``_finding`` and
ReaderFindings helpers they call."""
from __future__ import annotations

from typing import Any, Collection

from ..extract import is_drug_line
from ..findings import ERROR
from ..model import (
    X12_DECIMAL_DIGITS,
    Claim,
    DrugIdentification,
    Envelope,
    Person,
    Provider,
    ServiceLine,
    envelope_key,
)
from .loops import (
    BILLING,
    CLAIM,
    DRUG,
    LEVEL_STATE,
    LINE,
    LINE_OTHER,
    LINE_PROVIDER,
    ORPHAN_LINE,
    OTHER_PAYER,
    PADDING,
    SUBSCRIBER,
    add_diagnoses,
    claim_problem,
    new_claim,
    provider,
    read_service,
)
from .reader_findings import ReaderFindings
from .state import ReadState

# The CLM of lines outside any claim: no claim id, no charge
_NO_CLM: list[Any] = ["", None, *PADDING]


class LoopSegments(ReaderFindings):
    """Handlers of the loop segments (NM1, DMG, DTP, LX, SV1/SV2, CLM, LIN, CTP, REF,
    HI, HL, SBR, SVD/LQ, BHT), and the end of a claim."""

    # the reader's (ClaimReader.__init__ sets them)
    drug_codes: Collection[str]
    claim_count: int
    incomplete_claims: int
    unread: int
    submitters: dict[str, list[str]]
    _envelope: Envelope | None

    def _set_envelope(self) -> Envelope:
        """The envelope of the open transaction set (loop segments are read only in a
        set read as an 837: its ST set it)."""
        envelope = self._envelope
        assert envelope is not None
        return envelope

    # -- the end of a claim --------------------------------------------------
    def _drug_claim(self, claim: Claim) -> bool:
        codes = self.drug_codes
        return any(is_drug_line(line, codes.__contains__) for line in claim.lines)

    def _close_claim(self, s: ReadState, end_index: int) -> Claim | None:
        """The open claim ends at ``end_index``: the claim, to be yielded, or None
        (none open, or lines outside any claim)."""
        done = s.claim
        if done is not None:
            done.last_index = end_index
            if s.line is not None:
                s.line.last_index = end_index
            if s.held or self.hierarchy.unsaid:
                self._release(s, done)
            if s.orphan:  # lines outside any claim: reported if drug lines, not a claim
                self.unread += self._drug_claim(done)
                done, s.orphan = None, False
            else:
                self.claim_count += 1
        s.claim = s.line = s.drug = None
        return done

    def _release(self, s: ReadState, done: Claim) -> None:
        """The findings held on a claim's lines: kept for a drug claim only."""
        if self._drug_claim(done):
            self.findings.extend(self._level_said(done) + s.held)
        s.held.clear()

    def _abandon_claim(self, s: ReadState, why: str, index: int, tag: str) -> None:
        """A transaction set cut short: report it, and drop its unfinished claim
        (rules on half a claim would only mislead)."""
        claim = s.claim
        if claim is not None:
            self.incomplete_claims += not s.orphan
            s.orphan = False
            if s.held or self.hierarchy.unsaid:
                self._release(s, claim)
            self._claim_dropped(claim, index)
        self._finding("EDI002", ERROR, f"transaction {self._st02} is not closed ({why})",
                      segment_index=index, segment=tag)
        s.claim = s.line = s.drug = None

    # -- the header and the HL loops above the claims -------------------------
    def _on_submitter(self, s: ReadState, fields: list[str], index: int) -> None:
        envelope = self._envelope
        if fields[1] == "41" and envelope is not None:
            envelope.submitter_name = fields[3]
            envelope.submitter_id = fields[9]
            self.submitters[envelope_key(envelope.interchange, envelope.group,
                                         envelope.transaction)] = [fields[9], fields[3]]

    def _on_bht(self, s: ReadState, fields: list[str], index: int) -> None:
        if self._envelope is not None:
            self._envelope.reference = fields[3]

    def _on_hl(self, s: ReadState, fields: list[str], index: int) -> Claim | None:
        done = self._close_claim(s, index - 1)
        level = fields[3]
        found: tuple = ()
        if s.hl_checked:  # in order: the fast path checked it (Hierarchy.take)
            state, in_patient = LEVEL_STATE[level], level == "23"
        elif self._hl_in_place:
            problem = self.hierarchy.check(fields[1], fields[2], level)
            if problem is not None:
                found = (self._hl_found(problem, fields[1], index),)
            state, in_patient = LEVEL_STATE.get(level, SUBSCRIBER), level == "23"
        else:
            state, in_patient, found = self._next_hl(fields, index)
        s.loop, s.in_patient = state, in_patient
        s.person = None
        if state == BILLING:
            s.billing, s.under_subscriber = None, False
            s.level_findings = {"20": found, "22": (), "23": ()}
        elif state == SUBSCRIBER:
            s.under_subscriber = True
            s.new_subscriber()
            s.level_findings["22"], s.level_findings["23"] = found, ()
        else:
            s.patient = None
            s.level_findings["23"] = found
        return done

    def _on_billing_provider(self, s: ReadState, fields: list[str], index: int) -> None:
        if fields[1] == "85":
            s.billing = provider(fields, index, "2010AA")

    def _on_subscriber_or_payer(self, s: ReadState, fields: list[str], index: int) -> None:
        entity = fields[1]
        if entity == "IL":
            s.subscriber_id = fields[9]
            s.subscriber = s.person = Person(fields[3], fields[4], fields[9])
        elif entity == "PR":
            s.payer_name = fields[3]
            s.payer_id = fields[9]
            s.person = None

    def _on_subscriber_sbr(self, s: ReadState, fields: list[str], index: int) -> None:
        s.filing = fields[9]
        s.responsibility, s.relationship = fields[1], fields[2]

    def _on_patient(self, s: ReadState, fields: list[str], index: int) -> None:
        if fields[1] == "QC":
            s.patient = s.person = Person(fields[3], fields[4])

    def _on_birth_date(self, s: ReadState, fields: list[str], index: int) -> None:
        person = s.person
        if person is not None and fields[1] == "D8":
            person.birth_date = fields[2]

    # -- the claim (2300) and its loops ----------------------------------------
    def _on_clm(self, s: ReadState, fields: list[str], index: int) -> Claim | None:
        done = self._close_claim(s, index - 1)
        glued, s.glued = s.glued, None
        claim = s.claim = self._claim_read(fields, index, s.component, s.held, s.suspect)
        s.suspect = False
        charge = claim.charge
        # the usual claim, tested here (nothing for claim_problem to say): under a
        # subscriber, a charge in plain digits, a two-character CLM05-1
        if glued or not s.under_subscriber or len(claim.facility_code) > 2 or \
                charge and not (charge.isdigit() and charge.isascii()
                                and len(charge) <= X12_DECIMAL_DIGITS):
            problem = claim_problem(claim, not s.under_subscriber, glued)
            if problem is not None:
                self._finding("EDI007", ERROR, problem[0], segment_index=index,
                              segment="CLM", loop="2300", claim=claim, value=problem[1],
                              held=s.held)
        claim.billing_provider = s.billing
        claim.subscriber_id = s.subscriber_id
        in_patient = s.in_patient
        claim.patient_is_subscriber = not in_patient
        claim.payer_name = s.payer_name
        claim.payer_id = s.payer_id
        claim.filing_indicator = s.filing
        claim.payer_responsibility = s.responsibility
        claim.relationship = s.relationship
        claim.subscriber = s.subscriber
        level_findings = s.level_findings
        if in_patient:
            claim.patient = s.patient
            claim.context_findings = level_findings["20"] + level_findings["22"] + \
                level_findings["23"]
        else:
            claim.context_findings = level_findings["20"] + level_findings["22"]
        s.loop = CLAIM
        return done

    def _on_claim_provider(self, s: ReadState, fields: list[str], index: int) -> None:
        target = s.claim_providers.get(fields[1])
        if target is not None and s.claim is not None:
            # (loops.provider written out: this runs for most NM1s of a claim)
            setattr(s.claim, target[1], Provider(target[0], fields[1], fields[9]
                                                 if fields[8] == "XX" else "", fields[3],
                                                 index, fields[2], fields[4]))

    def _on_claim_date(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.claim is not None:
            s.claim.dates[fields[1]] = fields[3]

    def _on_claim_ref(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.claim is not None and fields[1] == "F8":
            s.claim.original_reference = fields[2]

    def _on_diagnoses(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.claim is not None:
            add_diagnoses(fields, index, s.claim, s.component)

    def _on_other_payer(self, s: ReadState, fields: list[str], index: int) -> None:
        s.loop = OTHER_PAYER  # 2320: its NM1s are 2330x, not ours

    # -- lines (2400) and their loops -------------------------------------------
    def _orphan(self, s: ReadState, fields: list[str], index: int) -> Claim:
        """Lines with no claim: kept as one (no claim id), reported if drug lines."""
        s.claim, s.orphan = new_claim(_NO_CLM, index, s.component, self._set_envelope()), True
        self._finding("EDI007", ERROR, ORPHAN_LINE.format(tag=fields[0]), segment_index=index,
                      segment=fields[0], loop="2400", held=s.held)
        return s.claim

    def _on_lx(self, s: ReadState, fields: list[str], index: int) -> None:
        claim = s.claim
        if claim is None:
            claim = self._orphan(s, fields, index)
        line = s.line
        if line is not None:
            line.last_index = index - 1
        s.line = line = ServiceLine(fields[1], index)
        claim.lines.append(line)
        s.drug = None
        s.loop = LINE

    def _on_service(self, s: ReadState, fields: list[str], index: int) -> None:
        claim = s.claim
        if claim is None:
            claim = self._orphan(s, fields, index)
        line = s.line
        if s.loop == LINE and line is not None and not line.segment_id:
            composite = read_service(fields, index, line, s.component)
            charge, units = line.charge, line.units
            # the usual line, tested here (nothing for _service_read to say): codes as
            # payers read them, a procedure, charge and units in plain digits
            if composite != composite.upper() or " " in composite or "\t" in composite or \
                    not line.procedure or \
                    charge and not (charge.isdigit() and charge.isascii()
                                    and len(charge) <= X12_DECIMAL_DIGITS) or \
                    units and not (units.isdigit() and units.isascii()
                                   and len(units) <= X12_DECIMAL_DIGITS):
                self._service_read(fields[0], index, line, claim, composite, s.held)
        else:
            s.line = self._service_segment(fields, index, line, claim, s.loop == LINE,
                                           s.component, s.held)
        s.drug, s.loop = None, LINE

    def _on_line_date(self, s: ReadState, fields: list[str], index: int) -> None:
        line = s.line
        if line is not None and fields[1] == "472":
            if fields[2] != "RD8" and not line.service_date_end:  # no range
                line.service_date, line.date_index = fields[3], index
            elif s.claim is not None:  # (always, with a line)
                self._line_date(fields, index, line, s.claim, s.held)

    def _on_line_ref(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.line is not None and fields[1] == "6R":
            s.line.control_number = fields[2]

    def _on_line_provider(self, s: ReadState, fields: list[str], index: int) -> None:
        target = s.line_providers.get(fields[1])
        if target is not None and s.line is not None:
            setattr(s.line, target[1], Provider(target[0], fields[1], fields[9]
                                                if fields[8] == "XX" else "", fields[3],
                                                index, fields[2], fields[4]))
        s.loop = LINE_PROVIDER

    def _on_drug(self, s: ReadState, fields: list[str], index: int) -> None:
        line = s.line
        if line is not None:
            if s.loop != LINE:
                self._late_lin(fields, index, s.claim, line, s.held)
            s.drug = line.drug = DrugIdentification(fields[2], fields[3], index)
            s.loop = DRUG

    def _on_drug_quantity(self, s: ReadState, fields: list[str], index: int) -> None:
        drug = s.drug
        if drug is not None:
            drug.quantity = fields[4]
            drug.unit = fields[5].split(s.component, 1)[0]
            drug.ctp_index = index

    def _on_drug_ref(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.drug is not None:
            s.drug.references.append((fields[1], fields[2]))

    def _on_line_end(self, s: ReadState, fields: list[str], index: int) -> None:
        s.loop = LINE_OTHER  # 2430 / 2440 until the next LX

