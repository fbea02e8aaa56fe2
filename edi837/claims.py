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

from .extract import is_drug_line
from .findings import ERROR, INFO, WARNING, Finding
from .loops import (BHT, BILLING, CLAIM, CLAIM_PROVIDERS, CLM, CTP, DIAGNOSIS_QUALIFIERS, DMG,
                    DRUG, DTP, ENVELOPE, GE, GS, GUIDES, HEADER, HI, HL, IEA, ISA, ISA_FIELDS,
                    LEVEL_STATE, LIN, LINE, LINE_END, LINE_OTHER, LINE_PROVIDER, LINE_PROVIDERS,
                    LX, NM1, OTHER_PAYER, PADDING, PATIENT, REF, SBR, SE, SERVICE, ST, SUBSCRIBER,
                    VARIANTS, INTERCHANGE_LEVEL, Hierarchy, add_diagnoses, dispatch_table, hl_problem,
                    line_date, new_claim, provider, read_service, service_problems)
from .model import Claim, DrugIdentification, Envelope, Person, Provider, ServiceLine
from .envelopes import EnvelopeChecks
from .x12.reader import SegmentReader, X12SyntaxError

__all__ = ["ClaimReader", "GUIDES", "VARIANTS", "DIAGNOSIS_QUALIFIERS", "CLAIM_PROVIDERS",
           "LINE_PROVIDERS"]

class ClaimReader(EnvelopeChecks):
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
        # envelope context
        self._isa13 = self._gs06 = self._st02 = None
        self._isa_fields: list[str] = [""] * ISA_FIELDS
        self._envelope: Envelope | None = None
        # what the fast path needs to know between the items it hands over
        self.hierarchy = Hierarchy()  # the HL order of the open transaction set
        self.in_claim_set = False  # inside a transaction set read as 837 claims
        self._delimiters = None  # of the segments being read

    # -- findings -------------------------------------------------------
    def _finding(self, rule: str, severity: str, message: str, *,
                 segment_index: int | None, segment: str | None, value: str | None = None,
                 loop: str | None = None, claim: Claim | None = None,
                 line: ServiceLine | None = None, fix=None,
                 held: list[Finding] | None = None) -> Finding:
        """A reader finding; one about a claim's lines is ``held`` until the claim is
        read, and kept only if it is a drug claim."""
        finding = Finding(
            rule=rule, severity=severity, message=message, path=self.path,
            segment_index=segment_index, segment=segment, loop=loop, value=value,
            claim_id=claim.claim_id if claim else None,
            line_number=line.line_number if line else None,
            hcpcs=(line.procedure or None) if line else None,
            interchange=self._isa13, group=self._gs06, transaction=self._st02,
            payer_id=(claim.payer_id or None) if claim else None,
            charge=(line.charge or None) if line else None,
            fix=fix)
        if claim is not None:
            finding.payer_name = claim.payer_name or None
            finding.service_date = (claim.line_date(line) if line else claim.service_date) or None
            finding.billing_npi = claim.billing_provider.npi or None \
                if claim.billing_provider else None
            finding.claim_charge = claim.charge or None
        (self.findings if held is None else held).append(finding)
        if rule == "EDI002" and severity == ERROR:
            self.unreadable = True  # part of the file is missing or cut: not fully read
        return finding

    # -- reading ----------------------------------------------------------
    def claims(self) -> Iterator[Claim]:
        try:
            yield from self._read()
        except X12SyntaxError as exc:
            where = (f"{exc.message} (segment {exc.segment_index}, byte {exc.offset})"
                     if exc.offset is not None else exc.message)
            if exc.trailer_only:
                # Every interchange was complete; only what follows the last is not X12.
                self._finding("EDI002", WARNING, f"text after the last interchange ignored: "
                              f"{where}", segment_index=exc.segment_index, segment=None)
            else:
                self.unreadable = True
                rule = "EDI001" if self.interchanges == 0 else "EDI002"
                self._finding(rule, ERROR, where, segment_index=exc.segment_index,
                              segment="ISA")
        except OSError as exc:
            self.unreadable = True
            self._finding("EDI001", ERROR, f"cannot read file: {exc.strerror or exc}",
                          segment_index=None, segment=None)
        source = self.segments.source
        notes = source.normalisations()
        if notes:
            self._finding("EDI006", INFO, "input normalised to read it: " + ", ".join(notes),
                          segment_index=1 if self.segments.segment_count else None,
                          segment="ISA", value=", ".join(notes))

    def _items(self):
        """What the state machine reads: batches of segments, and with ``fast``
        also the fast path's skipped claims."""
        if self.fast:
            from .fast import FastPath

            return FastPath(self, self.drug_codes).items(self.segments.blocks())
        return self.segments.batches()

    def _drug_claim(self, claim: Claim) -> bool:
        codes = self.drug_codes
        return any(is_drug_line(line, codes.__contains__) for line in claim.lines)

    def _read(self) -> Iterator[Claim]:  # noqa: C901 - one flat state machine, on purpose
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
        dispatch: dict[str, int] = {}
        index = 0
        batch = None

        def close_claim(end_index: int) -> Claim | None:
            nonlocal claim, line, drug
            done = claim
            if done is not None:
                done.last_index = end_index
                if line is not None:
                    line.last_index = end_index
                self.claim_count += 1
                if held:
                    release(done)
            claim = line = drug = None
            return done

        def release(done: Claim) -> None:
            if self._drug_claim(done):
                self.findings.extend(held)
            held.clear()

        def abandon_claim(why: str, index: int, tag: str) -> None:
            """A transaction set cut short: report it, and drop its unfinished claim
            (rules on half a claim would only mislead)."""
            nonlocal claim, line, drug
            if claim is not None:
                self.incomplete_claims += 1
                if held:
                    release(claim)
            finding("EDI002", ERROR, f"transaction {self._st02} is not closed ({why})",
                    segment_index=index, segment=tag)
            claim = line = drug = None

        def flush_stray() -> None:
            """One finding for a run of segments outside any transaction set: claims
            there are read by nobody, so the file cannot be forwarded as it is."""
            nonlocal stray
            first, tag, count, outside = stray
            stray = None
            span = f"segment {first}" if count == 1 else f"{count} segments from {first}"
            finding("EDI002", ERROR, f"{tag} outside any {outside} ({span}): segments "
                    "there are not read", segment_index=first, segment=tag)

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
                dispatch = dispatch_table(element)
            hl_checked = getattr(batch, "hl_checked", False)  # edi837.parallel's runs have none
            for index, text in enumerate(batch.texts, batch.first_index):
                code = dispatch.get(text[:3])
                if code is None or (code < ENVELOPE and st is None):
                    if st is None:
                        tag = text.split(element, 1)[0]
                        if stray is not None:
                            stray[2] += 1
                        elif isa is None:
                            stray = [index, tag, 1, "interchange"]
                        elif not (gs is None and tag in INTERCHANGE_LEVEL):
                            stray = [index, tag, 1, "transaction set"]
                    continue
                fields = text.split(element)
                fields += PADDING  # so fields[n] needs no length check
                if code < ENVELOPE and reading:
                    # -- inside an 837 transaction set: the loop state machine ---------
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
                            self._envelope.submitter_name = fields[3]
                            self._envelope.submitter_id = fields[9]
                    elif code == DMG:
                        if person is not None and fields[1] == "D8" and \
                                (state == SUBSCRIBER or state == PATIENT):
                            person.birth_date = fields[2]
                    elif code == DTP:
                        if state == LINE:
                            if line is not None and fields[1] == "472":
                                line_date(fields, index, line)
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
                        if line is not None and state == LINE:
                            self._service(fields, index, line, claim, component, held)
                    elif code == CLM:
                        done = close_claim(index - 1)
                        if done is not None:
                            yield done
                        claim = new_claim(fields, index, component, self._envelope)
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
                                # The guide reads 2410 right after the line's own
                                # segments; a translator drops or rejects it here.
                                finding("EDI007", ERROR, "LIN (2410 drug identification) after "
                                        "the line's 2420/2430 loops, where the guide does not "
                                        "read it: move it after the line's DTP/REF segments",
                                        segment_index=index, segment="LIN", loop="2410",
                                        claim=claim, line=line, value=fields[3], held=held)
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
                            hierarchy = self.hierarchy
                            state, in_patient, problem = self._hl(
                                fields, index, hierarchy.levels, hierarchy.expected)
                            hierarchy.expected += 1
                            found = (problem,) if problem is not None else ()
                        person = None
                        if state == BILLING:
                            billing = None
                            level_findings = {"20": found, "22": (), "23": ()}
                        elif state == SUBSCRIBER:
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
                    flush_stray()
                if code == ISA:
                    if len(fields) < ISA_FIELDS:  # a short ISA inside an interchange
                        fields += ("",) * (ISA_FIELDS - len(fields))
                    if st is not None:
                        abandon_claim("no SE before the next ISA", index, "ISA")
                    if isa is not None:
                        finding("EDI002", ERROR, f"interchange {self._isa13} is not closed "
                                "(no IEA before the next ISA)", segment_index=index,
                                segment="ISA")
                    isa, groups_in_isa = fields, 0
                    self._isa_fields = fields
                    gs = st = None
                    reading = self.in_claim_set = False
                    self._isa13 = fields[13]
                    self._gs06 = self._st02 = None
                    self.interchanges += 1
                    component = batch.delimiters.component
                elif code == GS:
                    if isa is None:
                        finding("EDI002", ERROR, "GS outside an interchange",
                                segment_index=index, segment="GS")
                    if fields[1] != "HC":
                        finding("EDI005", WARNING, f"GS01 functional identifier is "
                                f"{fields[1] or '(empty)'}, not HC (health care claim)",
                                segment_index=index, segment="GS", value=fields[1])
                    if gs is not None:
                        finding("EDI002", ERROR, f"group {self._gs06} is not closed (no GE)",
                                segment_index=index, segment="GS")
                    gs, sets_in_gs = fields, 0
                    groups_in_isa += 1
                    self._gs06 = fields[6]
                elif code == ST:
                    if st is not None:
                        abandon_claim("no SE before the next ST", index, "ST")
                    st, st_start = fields, index
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
                        state = HEADER
                        billing = None
                        subscriber_id = payer_name = payer_id = filing = ""
                        self.hierarchy = Hierarchy()
                elif code == SE:
                    if st is None:
                        finding("EDI002", ERROR, "SE without ST", segment_index=index,
                                segment="SE")
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
                        finding("EDI002", ERROR, "GE without GS", segment_index=index,
                                segment="GE")
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
                        finding("EDI002", ERROR, "IEA without ISA", segment_index=index,
                                segment="IEA")
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
            flush_stray()
        # -- end of file: anything still open is truncated -------------------------
        end = last_index or None
        if st is not None:
            abandon_claim("the file ends inside it: truncated?", end, "SE")
        if gs is not None:
            finding("EDI002", ERROR, f"file ends inside group {self._gs06} (no GE): truncated?",
                    segment_index=end, segment="GE")
        if isa is not None:
            finding("EDI002", ERROR, f"file ends inside interchange {self._isa13} (no IEA): "
                    "truncated?", segment_index=end, segment="IEA")
        if self.interchanges == 0 and end is None:
            self.unreadable = True
            finding("EDI001", ERROR, "empty file: no ISA segment", segment_index=None,
                    segment=None)
        elif self.transactions and not self.claim_sets:
            self.unreadable = True  # X12, but nothing in it is an 837 we can read (EDI005)

    def _hl(self, fields: list[str], index: int, levels: dict[str, str],
            expected: int) -> tuple[int, bool, Finding | None]:
        """Track the HL hierarchy: (loop state, a patient level, the EDI007 finding
        when it is out of order)."""
        hl_id, level = fields[1], fields[3]
        problem = self._hl_problem(fields, index, levels, expected)
        found = None
        if problem:
            found = self._finding("EDI007", ERROR, f"HL out of order: {problem}",
                                  segment_index=index, segment="HL", value=hl_id, loop="2000")
        levels[hl_id] = level
        return LEVEL_STATE.get(level, SUBSCRIBER), level == "23", found

    @staticmethod
    def _hl_problem(fields: list[str], index: int, levels: dict[str, str],
                    expected: int) -> str | None:
        """What is wrong with an HL's place in the hierarchy, or None.  A method of
        its own so a reader of one piece of a file (edi837.parallel) can take the
        verdict of the whole file's read instead."""
        return hl_problem(fields[1], fields[2], fields[3], levels, expected)

    # -- claim helpers ----------------------------------------------------------
    def _service(self, fields: list[str], index: int, line: ServiceLine, claim: Claim,
                 component: str, held: list[Finding]) -> None:
        composite = read_service(fields, index, line, component)
        problems = service_problems(line)
        if problems:
            delimiters = self._delimiters
            if delimiters is not None and delimiters.composites_ambiguous:
                problems.append(f"ISA16 component separator {delimiters.component!r} equals "
                                "ISA11 repetition separator, so composites cannot be split")
            self._finding("EDI007", ERROR, f"malformed {fields[0]}: " + "; ".join(problems),
                          segment_index=index, segment=fields[0], loop="2400", claim=claim,
                          line=line, value=composite, held=held)
