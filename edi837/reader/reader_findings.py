"""The claim reader's own findings: how one is made (and held for a claim's lines),
the HL order and SV1/SV2 lines (EDI007), a file it cannot read on (EDI001/EDI002)
and what it normalised to read it (EDI006).  A mixin of
`edi837.reader.claims.ClaimReader`."""
from __future__ import annotations

import re
from typing import ClassVar, Collection

from ..findings import ERROR, INFO, WARNING, Finding, Fix
from ..model import Claim, Envelope, ServiceLine, is_x12_number
from ..x12.code_lists import SEGMENTS, codes_as_written
from ..x12.edit import Edit
from ..x12.reader import Delimiters, SegmentReader, X12SyntaxError
from .loops import (
    BILLING,
    CLAIM,
    CLM,
    HEADER,
    HL_OUT_OF_ORDER,
    LEVEL_STATE,
    OTHER_PAYER,
    PATIENT,
    SEGMENT_CODES,
    SERVICE_LATE,
    SERVICE_WITHOUT_LX,
    SUBSCRIBER,
    X12_ID,
    Hierarchy,
    date_range_problem,
    hl_problem,
    line_date,
    new_claim,
    read_service,
    service_problems,
)

_X12_ID = re.compile(X12_ID)
# the segments whose coded values are judged as written (x12.code_lists), but CLM: the
# claim reader asks of these (_coded_values) when they may hold one (``suspect``, written
# out there for speed), and of a CLM as it reads it (_claim_read)
CODED = frozenset(SEGMENT_CODES[tag] for tag in SEGMENTS) - {CLM}
_LEVEL_OF_STATE = {BILLING: "20", SUBSCRIBER: "22", PATIENT: "23"}
_LOOP_OF_STATE = {HEADER: "1000", BILLING: "2000A", SUBSCRIBER: "2000B", PATIENT: "2000C"}


class ReaderFindings:
    """Needs the reader's ``path``, ``findings``, ``unreadable``, ``segments``,
    ``interchanges``, ``_delimiters`` and envelope context (``_isa13``, ``_gs06``,
    ``_st02``)."""

    # the reader's (ClaimReader.__init__ sets them)
    path: str
    findings: list[Finding]
    unreadable: bool
    segments: SegmentReader
    interchanges: int
    _delimiters: Delimiters | None
    hierarchy: Hierarchy
    _isa13: str | None
    _gs06: str | None
    _st02: str | None
    _envelope: Envelope | None
    drug_codes: Collection[str]

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


    def _stray_segments(self, first: int, tag: str, count: int, outside: str) -> None:
        """One finding for a run of segments outside any transaction set: claims
        there are read by nobody, so the file cannot be forwarded as it is."""
        span = f"segment {first}" if count == 1 else f"{count} segments from {first}"
        self._finding("EDI002", ERROR, f"{tag} outside any {outside} ({span}): segments "
                      "there are not read", segment_index=first, segment=tag)

    def _claim_dropped(self, claim: Claim, index: int) -> None:
        """The findings on a claim dropped unfinished (its set cut short at ``index``)
        carry its span: the dropped claim's, not the next one's."""
        for found in reversed(self.findings):
            if (found.segment_index or 0) < claim.first_index:
                break
            if found.claim_id is not None and found.claim_first is None:
                found.claim_first, found.claim_last = claim.first_index, index

    def _late_lin(self, fields: list[str], index: int, claim: Claim | None,
                  line: ServiceLine, held: list[Finding]) -> None:
        """LIN after the line's 2420/2430 loops: the guide reads 2410 right after the
        line's own segments; a translator drops or rejects it here."""
        self._finding("EDI007", ERROR, "LIN (2410 drug identification) after the line's "
                      "2420/2430 loops, where the guide does not read it: move it after the "
                      "line's DTP/REF segments", segment_index=index, segment="LIN",
                      loop="2410", claim=claim, line=line, value=fields[3], held=held)

    # whether HLs are checked in place (Hierarchy.check) rather than through _next_hl,
    # _hl and _hl_problem: when a subclass overrides none of them (edi837.parallel's do)
    _hl_in_place: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._hl_in_place = all(getattr(cls, name) is getattr(ReaderFindings, name)
                               for name in ("_hl", "_next_hl", "_hl_problem"))

    def _hl_found(self, problem: str, hl_id: str, index: int) -> Finding:
        """EDI007 on an HL out of order."""
        return self._finding("EDI007", ERROR, f"{HL_OUT_OF_ORDER}: {problem}",
                             segment_index=index, segment="HL", value=hl_id, loop="2000")

    def _hl(self, fields: list[str], index: int, levels: dict[str, str],
            expected: int) -> tuple[int, bool, Finding | None]:
        """Track the HL hierarchy: (loop state, a patient level, the EDI007 finding
        when it is out of order)."""
        hl_id, level = fields[1], fields[3]
        problem = self._hl_problem(fields, index, levels, expected)
        found = None
        if problem:
            found = self._hl_found(problem, hl_id, index)
        levels[hl_id] = level
        return LEVEL_STATE.get(level, SUBSCRIBER), level == "23", found

    def _next_hl(self, fields: list[str], index: int) -> tuple[int, bool, tuple]:
        """An HL the fast path did not check, in the open set's hierarchy: (loop state,
        a patient level, its EDI007 finding when out of order, or nothing)."""
        hierarchy = self.hierarchy
        state, in_patient, problem = self._hl(fields, index, hierarchy.levels,
                                              hierarchy.expected)
        hierarchy.expected += 1
        return state, in_patient, (problem,) if problem is not None else ()

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
        self._service_read(fields[0], index, line, claim, composite, held)

    def _service_read(self, tag: str, index: int, line: ServiceLine, claim: Claim,
                      composite: str, held: list[Finding]) -> None:
        """A line read from its SV1/SV2 (read_service): its codes as written, and what
        makes it unreadable for the rules (EDI007)."""
        procedure = line.procedure
        if composite != composite.upper() or " " in composite or "\t" in composite:
            self._code_as_written(tag, index, line, claim, composite, held)
            procedure = line.procedure
        charge, units = line.charge, line.units
        if procedure and (not charge or is_x12_number(charge)) and \
                (not units or is_x12_number(units)):
            return  # the usual line: nothing service_problems would find
        problems = service_problems(line)
        if problems:
            delimiters = self._delimiters
            if delimiters is not None and delimiters.composites_ambiguous:
                problems.append(f"ISA16 component separator {delimiters.component!r} equals "
                                "ISA11 repetition separator, so composites cannot be split")
            self._finding("EDI007", ERROR, f"malformed {tag}: " + "; ".join(problems),
                          segment_index=index, segment=tag, loop="2400", claim=claim,
                          line=line, value=composite, held=held)

    def _code_as_written(self, tag: str, index: int, line: ServiceLine, claim: Claim,
                         composite: str, held: list[Finding]) -> None:
        """A composite whose codes a payer cannot read as written: a procedure code or
        qualifier in lower case ("hc:j2350"), a code or modifier with spaces or tabs
        around it ("J2350 ", "JZ "; pyx12: IGE5-IGE7).  Judged as the codes it means
        (the line's rules still run: no "add JZ" for a "JZ " there already) and held
        (EDI007), since the payer's reader rejects the set.  A modifier in lower case
        alone is the modifier rules' (MOD001 says so, and its fix upper-cases it)."""
        said = []
        qualifier, procedure = line.qualifier, line.procedure
        if qualifier != qualifier.strip() or qualifier != qualifier.upper():
            said.append(f"qualifier {qualifier!r}")
            line.qualifier = qualifier.strip().upper()
        if procedure != procedure.strip() or procedure != procedure.upper():
            said.append(f"procedure code {procedure!r}")
            line.procedure = procedure.strip().upper()
        slots = line.modifier_slots
        if any(slot != slot.strip() for slot in slots):
            said += [f"modifier {slot!r}" for slot in slots if slot != slot.strip()]
            line.modifier_slots = slots = tuple(slot.strip() for slot in slots)
            line.modifiers = tuple(filter(None, slots))
        if not said:
            return
        meant = ":".join(filter(None, (line.qualifier, line.procedure, *line.modifiers)))
        self._finding("EDI007", ERROR, f"{tag} {', '.join(said)} not as payers read codes "
                      f"(upper case, no spaces): read as {meant}; send it so",
                      segment_index=index, segment=tag, loop="2400", claim=claim,
                      line=line, value=composite, held=held)

    # -- coded values as written (x12.code_lists) -----------------------------------
    def _coded_values(self, text: str, fields: list[str], index: int, state: int,
                      claim: Claim | None, line: ServiceLine | None, held: list[Finding],
                      level_findings: dict[str, tuple]) -> bool:
        """EDI007 for a segment's codes in lower case or padded ("mb", "MB " in SBR09):
        pyx12 and the payer reject the set, so the claims it concerns are held; the
        segment is read as the codes meant (``fields`` set to them).  Asked of a
        segment with lower case or white space in it.  In a claim, the claim's (on
        its lines, the line's; ``held`` with them); on an HL level, the level's
        (``level_findings``: the context of each claim under it), said with the first
        drug claim under it (:meth:`_level_said`); in a set's header, said at once
        (both paths read it).  Whether there was any."""
        delimiters, envelope = self._delimiters, self._envelope
        if delimiters is None or envelope is None:
            return False
        said = codes_as_written(envelope.kind, fields, delimiters.component)
        if not said:
            return False
        parts = ", ".join(f"{name} {written!r}" for name, written, _ in said)
        meant = ", ".join(f"{name} {code}" for name, _, code in said)
        message = (f"{parts} not as payers read codes (upper case, no spaces): read as "
                   f"{meant}; send it so")
        tag, value = fields[0], said[0][1]
        level = _LEVEL_OF_STATE.get(state)
        if state in _LOOP_OF_STATE or claim is None:  # above the claims
            found = self._finding("EDI007", ERROR, message, segment_index=index, segment=tag,
                                  loop=_LOOP_OF_STATE.get(state), value=value,
                                  held=None if level is None else self.hierarchy.unsaid)
            if level is not None:
                level_findings[level] += (found,)
        else:  # the claim's, or one of its lines'
            in_line = line is not None and state != CLAIM and state != OTHER_PAYER
            self._finding("EDI007", ERROR, message, segment_index=index, segment=tag,
                          loop="2400" if in_line else "2300", claim=claim,
                          line=line if in_line else None, value=value, held=held)
        return True

    def _trailing_separators(self, s, fields: list[str], index: int) -> None:
        """EDI009: a segment of a set being read that ends in empty elements (an element
        separator right before its terminator: X12 syntax forbids it, pyx12 reports
        SEG1 and the 999 rejects the set).  Its fix drops them, no value changes.  Said
        where a coded value as written is (_coded_values): the claim's (held with it),
        an HL level's (with the first drug claim under it), a set header's at once."""
        tag = fields[0]
        if _X12_ID.fullmatch(tag) is None:
            return  # no segment id: EDI007 says so, and which segment it is is not known
        kept = len(fields)
        while kept > 1 and not fields[kept - 1]:
            kept -= 1
        empty = len(fields) - kept
        many = f"{empty} empty elements" if empty > 1 else "an empty element"
        message = (f"{tag} ends in {many} (an element separator right before the "
                   "terminator): X12 syntax does not allow it, the 999 rejects the "
                   "transaction set; drop the separators after the last value")
        # (a segment with no value left is no segment to write: reported, not fixed)
        fix = Fix(f"drop the {many[3:] if empty == 1 else many} at the end of {tag} "
                  "(no value changes)", (Edit(index, tag, kept, None, "", ""),)) \
            if kept > 1 else None
        value = f"{tag} ({empty} trailing)"  # never the values: they may be a patient's
        state, claim = s.loop, s.claim
        level = _LEVEL_OF_STATE.get(state)
        if state in _LOOP_OF_STATE or claim is None:  # above the claims
            found = self._finding("EDI009", ERROR, message, segment_index=index, segment=tag,
                                  loop=_LOOP_OF_STATE.get(state), value=value, fix=fix,
                                  held=None if level is None else self.hierarchy.unsaid)
            if level is not None:
                s.level_findings[level] += (found,)
        else:  # the claim's, or one of its lines'
            line = s.line
            in_line = line is not None and state != CLAIM and state != OTHER_PAYER
            self._finding("EDI009", ERROR, message, segment_index=index, segment=tag,
                          loop="2400" if in_line else "2300", claim=claim,
                          line=line if in_line else None, value=value, fix=fix, held=s.held)

    def _claim_read(self, fields: list[str], index: int, component: str,
                    held: list[Finding], suspect: bool) -> Claim:
        """The claim a CLM opens, its coded values read as meant (_coded_values) when
        the CLM may hold one (``suspect``: x12.code_lists.suspect of its text)."""
        envelope = self._envelope
        assert envelope is not None  # a CLM is read inside an 837 transaction set
        claim = new_claim(fields, index, component, envelope)
        if suspect and self._coded_values("", fields, index, CLAIM, claim, None, held, {}):
            claim = new_claim(fields, index, component, envelope)
        return claim

    def _level_said(self, claim: Claim) -> list[Finding]:
        """The findings on the HL levels above a drug claim not said yet (and none
        of levels above no drug claim: Hierarchy.unsaid is emptied)."""
        unsaid = self.hierarchy.unsaid
        context = set(map(id, claim.context_findings))
        said = [found for found in unsaid if id(found) in context]
        unsaid.clear()
        return said

    def _line_date(self, fields: list[str], index: int, line: ServiceLine, claim: Claim,
                   held: list[Finding]) -> None:
        """A line's DTP*472: its date, and a range (RD8) that ends before it starts or on
        no date reported (EDI007), as no rule can tell which date was meant."""
        line_date(fields, index, line)
        problem = date_range_problem(line)
        if problem:
            self._finding("EDI007", ERROR, f"malformed DTP*472: {problem}", segment_index=index,
                          segment="DTP", loop="2400", claim=claim, line=line, value=fields[3],
                          held=held)

    def _service_segment(self, fields: list[str], index: int, line: ServiceLine | None,
                         claim: Claim, in_place: bool, component: str,
                         held: list[Finding]) -> ServiceLine:
        """An SV1/SV2 of ``claim``: the line's (after its LX, reported when after the
        line's LIN/CTP or 2420 loops), or a line of its own when the line has one
        already or there is none (no LX: reported).  Returns the line it is read as."""
        tag = fields[0]
        if line is not None and not line.segment_id:
            if not in_place:
                self._finding("EDI007", ERROR, SERVICE_LATE.format(tag=tag), segment_index=index,
                              segment=tag, loop="2400", claim=claim, line=line, held=held)
            self._service(fields, index, line, claim, component, held)
            return line
        line = ServiceLine("", index)
        claim.lines.append(line)
        self._service(fields, index, line, claim, component, held)
        if claim.claim_id or claim.clm_index != index:  # (lines outside a claim: said so)
            self._finding("EDI007", ERROR, SERVICE_WITHOUT_LX.format(tag=tag),
                          segment_index=index, segment=tag, loop="2400", claim=claim,
                          line=line, held=held)
        return line

    # -- the file as a whole ------------------------------------------------------
    def _syntax_error(self, exc: X12SyntaxError) -> None:
        """The segment reader stopped: text after the last interchange (a warning), or
        the file cannot be read on (EDI001 before any interchange, else EDI002)."""
        where = (f"{exc.message} (segment {exc.segment_index}, byte {exc.offset})"
                 if exc.offset is not None else exc.message)
        if exc.trailer_only:
            # Every interchange was complete; only what follows the last is not X12.
            self._finding("EDI002", WARNING, f"text after the last interchange ignored: "
                          f"{where}", segment_index=exc.segment_index, segment=None)
        else:
            self.unreadable = True
            rule = "EDI001" if self.interchanges == 0 else "EDI002"
            self._finding(rule, ERROR, where, segment_index=exc.segment_index, segment="ISA")

    def _normalisations(self) -> None:
        """EDI006: what the segment reader had to pass over or convert to read the file."""
        notes = self.segments.source.normalisations()
        if notes:
            self._finding("EDI006", INFO, "input normalised to read it: " + ", ".join(notes),
                          segment_index=1 if self.segments.segment_count else None,
                          segment="ISA", value=", ".join(notes))
