"""Read 837P / 837I files into claims, checking the envelopes as it goes.

One pass over the segments: envelope segments (ISA/GS/ST/SE/GE/IEA) are
checked for control numbers and counts (EDI002-EDI005), the loops of each
transaction set are tracked by a small state machine, and each claim (loop
2300 with its 2310/2400/2410/2420 loops) is yielded as soon as it ends.  Only
the current claim and its hierarchy (billing provider, subscriber, payer) are
held, so memory does not grow with the size of a file or a transaction set.

Loops the rules do not need (2320/2330 other payer, 2430 line adjudication,
2440 forms, PWK, other 2310/2420 providers) are read past: their NM1, DTP and
REF segments are never mistaken for the claim's own.
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Collection, Iterator

from .envelopes import EnvelopeChecks
from .findings import ERROR, Finding
from .loops import (
    BHT,
    BILLING,
    CLAIM,
    CLAIM_PROVIDERS,
    CLM,
    CTP,
    DIAGNOSIS_QUALIFIERS,
    DMG,
    DRUG,
    DTP,
    ENVELOPE,
    GE,
    GS,
    GUIDES,
    HEADER,
    HI,
    HL,
    IEA,
    INTERCHANGE_LEVEL,
    ISA,
    ISA_FIELDS,
    LEVEL_STATE,
    LIN,
    LINE,
    LINE_END,
    LINE_OTHER,
    LINE_PROVIDER,
    LINE_PROVIDERS,
    LX,
    MAX_FIELDS,
    NM1,
    ORPHAN_LINE,
    OTHER_PAYER,
    PADDING,
    PATIENT,
    REF,
    SBR,
    SE,
    SEGMENT_CODES,
    SERVICE,
    ST,
    SUBSCRIBER,
    VARIANTS,
    Hierarchy,
    SegmentIds,
    add_diagnoses,
    claim_problem,
    glued_message,
    new_claim,
    provider,
)
from .model import Claim, DrugIdentification, Envelope, Person, Provider, ServiceLine, envelope_key
from .reader_findings import CODED, ReaderFindings
from .x12.code_lists import padded
from .x12.reader import SegmentReader, X12SyntaxError

__all__ = ["ClaimReader", "GUIDES", "VARIANTS", "DIAGNOSIS_QUALIFIERS", "CLAIM_PROVIDERS",
           "LINE_PROVIDERS"]

class ClaimReader(ReaderFindings, EnvelopeChecks):
    """Read one file: ``claims()`` yields Claim objects; ``findings`` collects
    the reader's own findings (EDI codes); counters describe the file.

    ``drug_codes`` are the HCPCS codes of the drug table: a claim is a drug
    claim when a line is a drug line (``edi837.extract.is_drug_line``), and
    only a drug claim's malformed lines are reported (EDI007), as only its
    lines are checked.  ``fast``: yield every drug claim, but pass over other
    claims without reading them where that cannot change a finding (they are
    counted in ``claim_count``; edi837.fast says when) - some may still be
    yielded.  Without it every claim is yielded (the reference reader).
    """

    def __init__(self, path: str | Path, stream: BinaryIO | None = None, *,
                 drug_codes: Collection[str] = (), fast: bool = False) -> None:
        self.path = str(path)
        self.segments = SegmentReader(path, stream)
        self.drug_codes = drug_codes
        self.fast = fast
        self.findings: list[Finding] = []
        self.interchanges = 0
        self.transactions = 0
        self.claim_count = 0
        self.unreadable = False
        self.claim_sets = 0  # transaction sets read as 837 claims
        self.incomplete_claims = 0  # claims cut short by a truncated set, not yielded
        self.unread = 0  # segments not X12 segments, and drug lines outside any claim
        # envelope context
        self._isa13 = self._gs06 = self._st02 = None
        self._isa13_seen: dict[str, int] = {}  # edi837.envelopes: a repeated ISA13
        self._isa_fields: list[str] = [""] * ISA_FIELDS
        self._envelope: Envelope | None = None
        # each transaction set's submitter (1000A NM109, NM103) by its control numbers
        # (ISA13, GS06, ST02): the reports' submitter column (FileResult.submitters)
        self.submitters: dict[str, list[str]] = {}
        # what the fast path needs to know between the items it hands over
        self.hierarchy = Hierarchy()  # the HL order of the open transaction set
        self.in_claim_set = False  # inside a transaction set read as 837 claims
        self._delimiters = None  # of the segments being read

    # -- reading ----------------------------------------------------------
    def claims(self) -> Iterator[Claim]:
        try:
            yield from self._read()
        except X12SyntaxError as exc:
            self._syntax_error(exc)
        except OSError as exc:
            self.unreadable = True
            self._finding("EDI001", ERROR, f"cannot read file: {exc.strerror or exc}",
                          segment_index=None, segment=None)
        self._normalisations()

    def _items(self):
        """What the state machine reads: batches of segments, and with ``fast``
        also the fast path's skipped claims."""
        if self.fast:
            from .fast import FastPath

            return FastPath(self, self.drug_codes).items(self.segments.blocks())
        return self.segments.batches()

    def _read(self) -> Iterator[Claim]:
        from .fast import Skip

        finding = self._finding
        isa = gs = st = None  # fields of the open envelopes
        groups_in_isa = sets_in_gs = 0
        st_start = 0
        reading = False  # inside a transaction set read as 837 claims
        claim_providers = line_providers = None
        state = HEADER
        claim: Claim | None = None
        line: ServiceLine | None = None
        drug: DrugIdentification | None = None
        billing: Provider | None = None
        subscriber_id = payer_name = payer_id = filing = responsibility = relationship = ""
        subscriber: Person | None = None
        patient: Person | None = None
        person: Person | None = None  # the NM1 a DMG belongs to
        in_patient = False
        level_findings: dict[str, tuple] = {"20": (), "22": (), "23": ()}
        stray: list | None = None  # [first index, segment id, count, outside what]
        held: list[Finding] = []  # findings on the open claim's lines (drug claims keep them)
        component = ":"
        element = None
        codes_get = SEGMENT_CODES.get
        ids = SegmentIds("*")  # which segments have an X12 id
        orphan = False  # the open "claim" holds lines outside any claim (no CLM read)
        under_subscriber = False  # an HL 22 since the set's or the billing provider's start
        index = 0
        batch = None

        def close_claim(end_index: int) -> Claim | None:
            nonlocal claim, line, drug, orphan
            done = claim
            if done is not None:
                done.last_index = end_index
                if line is not None:
                    line.last_index = end_index
                if held or self.hierarchy.unsaid:
                    release(done)
                if orphan:  # lines outside any claim: reported if drug lines, not a claim
                    self.unread += self._drug_claim(done)
                    done, orphan = None, False
                else:
                    self.claim_count += 1
            claim = line = drug = None
            return done

        def release(done: Claim) -> None:
            if self._drug_claim(done):
                self.findings.extend(self._level_said(done) + held)
            held.clear()

        def abandon_claim(why: str, index: int, tag: str) -> None:
            """A transaction set cut short: report it, and drop its unfinished claim
            (rules on half a claim would only mislead)."""
            nonlocal claim, line, drug, orphan
            if claim is not None:
                self.incomplete_claims += not orphan
                orphan = False
                if held or self.hierarchy.unsaid:
                    release(claim)
                self._claim_dropped(claim, index)
            finding("EDI002", ERROR, f"transaction {self._st02} is not closed ({why})",
                    segment_index=index, segment=tag)
            claim = line = drug = None

        for batch in self._items():
            if batch.__class__ is Skip:  # claims the fast path passed over
                done = close_claim(batch.first_index - 1)
                if done is not None:
                    yield done
                self.claim_count += batch.claims
                continue
            self._delimiters = batch.delimiters
            if batch.delimiters.element != element:
                element = batch.delimiters.element
                ids = SegmentIds(element)
            hl_checked = getattr(batch, "hl_checked", False)  # edi837.parallel's runs have none
            for index, text in enumerate(batch.texts, batch.first_index):
                # split first: the id is a whole element ('CLMX*...' is no CLM); a bare
                # two-letter id ('LX', no element) is no segment the reader knows
                fields = text.split(element)
                code = codes_get(fields[0])
                if code is not None and len(fields) == 1 and len(text) == 2:
                    code = None
                if code is None or (code < ENVELOPE and st is None):
                    if reading and code is None and text[:4] not in ids.plain:
                        problem = ids.problem(text)
                        if problem is not None:
                            self.unread += 1
                            finding("EDI007", ERROR, problem, segment_index=index,
                                    segment=text[:3], value=text[:20], claim=claim)
                    if st is None:
                        tag = fields[0]
                        if stray is not None:
                            stray[2] += 1
                        elif isa is None:
                            stray = [index, tag, 1, "interchange"]
                        elif not (gs is None and tag in INTERCHANGE_LEVEL):
                            stray = [index, tag, 1, "transaction set"]
                    continue
                # more elements than the guide has: the next segment glued on?
                glued = reading and len(fields) > MAX_FIELDS[code] and \
                    glued_message(fields, code, element)
                if glued and code != CLM and claim is not None:
                    finding("EDI007", ERROR, glued, segment_index=index, segment=fields[0],
                            line=None if code == LX else line, claim=claim, held=held)
                fields += PADDING  # so fields[n] needs no length check
                if code < ENVELOPE and reading:
                    # -- inside an 837 transaction set: the loop state machine ---------
                    if code in CODED and (text != text.upper() or "\t" in text or
                                          " " in text and padded(text) is not None):
                        self._coded_values(text, fields, index, state, claim, line, held,
                                           level_findings)  # "mb" for MB: read as meant, held
                    if claim is None and (code == LX or code == SERVICE):
                        # lines with no claim: kept as one (no claim id), reported if drug lines
                        claim, orphan = new_claim(["", None, *PADDING], index, component,
                                                  self._envelope), True
                        finding("EDI007", ERROR, ORPHAN_LINE.format(tag=fields[0]),
                                segment_index=index, segment=fields[0], loop="2400", held=held)
                    if code == NM1:
                        entity = fields[1]
                        if state == LINE or state == DRUG or state == LINE_PROVIDER:
                            target = line_providers.get(entity)
                            if target is not None and line is not None:
                                setattr(line, target[1], provider(fields, index, target[0]))
                            state = LINE_PROVIDER
                        elif state == CLAIM:
                            target = claim_providers.get(entity)
                            if target is not None and claim is not None:
                                setattr(claim, target[1], provider(fields, index, target[0]))
                        elif state == BILLING and entity == "85":
                            billing = provider(fields, index, "2010AA")
                        elif state == SUBSCRIBER:
                            if entity == "IL":
                                subscriber_id = fields[9]
                                subscriber = person = Person(fields[3], fields[4], fields[9])
                            elif entity == "PR":
                                payer_name = fields[3]
                                payer_id = fields[9]
                                person = None
                        elif state == PATIENT:
                            if entity == "QC":
                                patient = person = Person(fields[3], fields[4])
                        elif state == HEADER and entity == "41" and self._envelope is not None:
                            envelope = self._envelope
                            envelope.submitter_name = fields[3]
                            envelope.submitter_id = fields[9]
                            self.submitters[envelope_key(envelope.interchange, envelope.group,
                                                         envelope.transaction)] = \
                                [fields[9], fields[3]]
                    elif code == DMG:
                        if person is not None and fields[1] == "D8" and \
                                (state == SUBSCRIBER or state == PATIENT):
                            person.birth_date = fields[2]
                    elif code == DTP:
                        if state == LINE:
                            if line is not None and fields[1] == "472":
                                if fields[2] != "RD8" and not line.service_date_end:  # no range
                                    line.service_date, line.date_index = fields[3], index
                                else:
                                    self._line_date(fields, index, line, claim, held)
                        elif state == CLAIM and claim is not None:
                            claim.dates[fields[1]] = fields[3]
                    elif code == LX:
                        if claim is not None:
                            if line is not None:
                                line.last_index = index - 1
                            line = ServiceLine(fields[1], index)
                            claim.lines.append(line)
                            drug = None
                            state = LINE
                    elif code == SERVICE:
                        if claim is not None:
                            if state == LINE and line is not None and not line.segment_id:
                                self._service(fields, index, line, claim, component, held)
                            else:
                                line = self._service_segment(fields, index, line, claim,
                                                             state == LINE, component, held)
                            drug, state = None, LINE
                    elif code == CLM:
                        done = close_claim(index - 1)
                        if done is not None:
                            yield done
                        claim = self._claim_read(text, fields, index, component, held)
                        problem = claim_problem(claim, not under_subscriber, glued)
                        if problem is not None:
                            finding("EDI007", ERROR, problem, segment_index=index,
                                    segment="CLM", loop="2300", claim=claim,
                                    value=claim.charge, held=held)
                        claim.billing_provider = billing
                        claim.subscriber_id = subscriber_id
                        claim.patient_is_subscriber = not in_patient
                        claim.payer_name = payer_name
                        claim.payer_id = payer_id
                        claim.filing_indicator = filing
                        claim.payer_responsibility = responsibility
                        claim.relationship = relationship
                        claim.subscriber = subscriber
                        if in_patient:
                            claim.patient = patient
                        claim.context_findings = level_findings["20"] + level_findings["22"] + \
                            (level_findings["23"] if in_patient else ())
                        state = CLAIM
                    elif code == LIN:
                        if line is not None and state != CLAIM and state != DRUG:
                            if state != LINE:
                                self._late_lin(fields, index, claim, line, held)
                            drug = DrugIdentification(fields[2], fields[3],
                                                      index)
                            line.drug = drug
                            state = DRUG
                    elif code == CTP:
                        if drug is not None and state == DRUG:
                            drug.quantity = fields[4]
                            drug.unit = fields[5].split(component, 1)[0]
                            drug.ctp_index = index
                    elif code == REF:
                        if state == DRUG:
                            if drug is not None:
                                drug.references.append((fields[1], fields[2]))
                        elif state == LINE:
                            if line is not None and fields[1] == "6R":
                                line.control_number = fields[2]
                        elif state == CLAIM:
                            if claim is not None and fields[1] == "F8":
                                claim.original_reference = fields[2]
                    elif code == HI:
                        if claim is not None and state == CLAIM:
                            add_diagnoses(fields, index, claim, component)
                    elif code == HL:
                        done = close_claim(index - 1)
                        if done is not None:
                            yield done
                        if hl_checked:  # in order: the fast path checked it (Hierarchy.take)
                            state, in_patient, found = LEVEL_STATE[fields[3]], \
                                fields[3] == "23", ()
                        else:
                            state, in_patient, found = self._next_hl(fields, index)
                        person = None
                        if state == BILLING:
                            billing, under_subscriber = None, False
                            level_findings = {"20": found, "22": (), "23": ()}
                        elif state == SUBSCRIBER:
                            under_subscriber = True
                            subscriber_id = payer_name = payer_id = filing = ""
                            responsibility = relationship = ""
                            subscriber = patient = None
                            level_findings["22"], level_findings["23"] = found, ()
                        else:
                            patient = None
                            level_findings["23"] = found
                    elif code == SBR:
                        if state == SUBSCRIBER:
                            filing = fields[9]
                            responsibility, relationship = fields[1], fields[2]
                        elif state == CLAIM:
                            state = OTHER_PAYER  # 2320: its NM1s are 2330x, not ours
                    elif code == LINE_END:
                        if state in (LINE, DRUG, LINE_PROVIDER, LINE_OTHER):
                            state = LINE_OTHER  # 2430 / 2440 until the next LX
                    elif code == BHT:
                        if state == HEADER and self._envelope is not None:
                            self._envelope.reference = fields[3]
                    continue
                if code < ENVELOPE:
                    continue  # loop segments in a set that is not read (not an 837)
                # -- envelopes ------------------------------------------------------------
                if stray is not None:
                    self._stray_segments(*stray)
                    stray = None
                if code == ISA:
                    if len(fields) < ISA_FIELDS:  # a short ISA inside an interchange
                        fields += ("",) * (ISA_FIELDS - len(fields))
                    if st is not None:
                        abandon_claim("no SE before the next ISA", index, "ISA")
                    self._interchange_opens(fields[13], index, isa is not None)
                    isa, groups_in_isa = fields, 0
                    self._isa_fields = fields
                    gs = st = None
                    reading = self.in_claim_set = False
                    self._isa13 = fields[13]
                    self._gs06 = self._st02 = None
                    self.interchanges += 1
                    component = batch.delimiters.component
                elif code == GS:
                    self._group_opens(fields, index, isa is not None, gs is not None)
                    gs, sets_in_gs = fields, 0
                    groups_in_isa += 1
                    self._gs06 = fields[6]
                elif code == ST:
                    if st is not None:
                        abandon_claim("no SE before the next ST", index, "ST")
                    st, st_start, ids.bad = fields, index, 0
                    sets_in_gs += 1
                    self.transactions += 1
                    self._st02 = fields[2]
                    envelope = self._open_transaction(fields, gs, index)
                    reading = self.in_claim_set = envelope is not None
                    if envelope is not None:
                        self.claim_sets += 1
                        claim_providers = CLAIM_PROVIDERS[envelope.kind]
                        line_providers = LINE_PROVIDERS[envelope.kind]
                        self._envelope = envelope
                        state, billing, subscriber, patient, person = HEADER, None, None, None, None
                        subscriber_id = payer_name = payer_id = filing = ""
                        responsibility = relationship = ""
                        in_patient, level_findings = False, {"20": (), "22": (), "23": ()}
                        under_subscriber = False
                        self.hierarchy = Hierarchy()
                elif code == SE:
                    if st is None:
                        self._trailer_alone(index, "SE", "ST")
                    else:
                        done = close_claim(index - 1)
                        if done is not None:
                            yield done
                        self._check_trailer(fields, index, "SE", 1, index - st_start + 1,
                                            "segments", 2, st[2], "ST02")
                    st = None
                    reading = self.in_claim_set = False
                    self._st02 = None
                elif code == GE:
                    if gs is None:
                        self._trailer_alone(index, "GE", "GS")
                    else:
                        if st is not None:
                            abandon_claim("no SE before GE", index, "GE")
                            st = None
                            reading = self.in_claim_set = False
                        self._check_trailer(fields, index, "GE", 1, sets_in_gs,
                                            "transaction sets", 2, gs[6], "GS06")
                    gs = None
                    self._gs06 = None
                elif code == IEA:
                    if isa is None:
                        self._trailer_alone(index, "IEA", "ISA")
                    else:
                        if st is not None:
                            abandon_claim("no SE before IEA", index, "IEA")
                            st = None
                            reading = self.in_claim_set = False
                        if gs is not None:
                            finding("EDI002", ERROR, f"group {self._gs06} is not closed "
                                    "(no GE before IEA)", segment_index=index, segment="IEA")
                            gs = None
                        self._check_trailer(fields, index, "IEA", 1, groups_in_isa, "groups",
                                            2, isa[13], "ISA13")
                    isa = None
                    self._isa13 = None
        last_index = index
        if stray is not None:
            self._stray_segments(*stray)
        # -- end of file: anything still open is truncated -------------------------
        end = last_index or None
        if st is not None:
            abandon_claim("the file ends inside it: truncated?", end, "SE")
        self._file_ends(end, gs is not None, isa is not None)
