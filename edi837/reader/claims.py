"""Read 837P / 837I files into claims, checking the envelopes as it goes.

One pass over the segments (``ClaimReader._read``): each is split, and its id looked
up; an envelope segment (ISA/GS/ST/SE/GE/IEA) goes to its handler here, which checks
control numbers and counts (EDI002-EDI005); a segment of an 837 transaction set goes
to the handler the open loop has for it (loop_table.READS, handlers in segments.py),
which fills the claim and moves the loop state (state.ReadState).  Each claim (loop
2300 with its 2310/2400/2410/2420 loops) is yielded as soon as it ends.  Only the
current claim and its hierarchy (billing provider, subscriber, payer) are held, so
memory does not grow with the size of a file or a transaction set.

Loops the rules do not need (2320/2330 other payer, 2430 line adjudication,
2440 forms, PWK, other 2310/2420 providers) are read past: their NM1, DTP and
REF segments are never mistaken for the claim's own.
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, ClassVar, Collection, Iterator

from ..findings import ERROR, Finding
from ..model import Claim, Envelope
from ..x12.code_lists import suspect
from ..x12.reader import SegmentReader, X12SyntaxError
from .envelopes import EnvelopeChecks
from .loop_table import READS
from .loops import (
    CLAIM_PROVIDERS,
    CLM,
    DIAGNOSIS_QUALIFIERS,
    ENVELOPE,
    GUIDES,
    INTERCHANGE_LEVEL,
    ISA,
    ISA_FIELDS,
    LINE_PROVIDERS,
    LX,
    MAX_FIELDS,
    PADDING,
    SEGMENT_CODES,
    VARIANTS,
    Hierarchy,
    SegmentIds,
    glued_message,
    segment_id_shown,
)
from .reader_findings import CODED
from .segments import LoopSegments
from .state import ReadState

# the loop segments whose codes are judged as written (reader_findings._coded_values), and
# the CLM, judged by its handler
CODED_OR_CLM = CODED | {CLM}

__all__ = ["ClaimReader", "GUIDES", "VARIANTS", "DIAGNOSIS_QUALIFIERS", "CLAIM_PROVIDERS",
           "LINE_PROVIDERS"]

# The loop segment codes in order (loops.SEGMENT_CODES: NM1 0 ... BHT 13), by one id each.
_LOOP_IDS = tuple(tag for code, tag in sorted((code, tag) for tag, code in SEGMENT_CODES.items()
                                               if code < ENVELOPE and tag not in ("SV2", "LQ")))


class ClaimReader(LoopSegments, EnvelopeChecks):
    """Read one file: ``claims()`` yields Claim objects; ``findings`` collects
    the reader's own findings (EDI codes); counters describe the file.

    ``drug_codes`` are the HCPCS codes of the drug table: a claim is a drug
    claim when a line is a drug line (``edi837.extract.is_drug_line``), and
    only a drug claim's malformed lines are reported (EDI007), as only its
    lines are checked.  ``fast``: yield every drug claim, but pass over other
    claims without reading them where that cannot change a finding (they are
    counted in ``claim_count``; edi837.reader.fast says when) - some may still be
    yielded.  Without it every claim is yielded (the reference reader).
    """

    _handler_tables: ClassVar[tuple[tuple, tuple]]  # (_handlers: each class its own)

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
        self._isa13_seen: dict[str, int] = {}  # edi837.reader.envelopes: a repeated ISA13
        self._isa_fields: list[str] = [""] * ISA_FIELDS
        self._envelope: Envelope | None = None
        # each transaction set's submitter (1000A NM109, NM103) by its control numbers
        # (ISA13, GS06, ST02): the reports' submitter column (FileResult.submitters)
        self.submitters: dict[str, list[str]] = {}
        # what the fast path needs to know between the items it hands over
        self.hierarchy = Hierarchy()  # the HL order of the open transaction set
        self.in_claim_set = False  # inside a transaction set read as 837 claims
        self._delimiters = None  # of the segments being read
        self.state = ReadState()

    @classmethod
    def _handlers(cls) -> tuple[tuple, tuple]:
        """(loop state -> the handler of each loop segment code there, None where it is
        passed over; the envelope segments' handlers, ISA to IEA): the class's
        functions (a subclass's overrides count), made once per class.  Functions, not
        bound methods, so a reader holds no reference to itself and is freed (with its
        open file) as soon as it is dropped."""
        tables = cls.__dict__.get("_handler_tables")
        if tables is None:
            loops = tuple(tuple(getattr(cls, reads[tag]) if tag in reads else None
                                for tag in _LOOP_IDS)
                          for _, reads in sorted(READS.items()))
            envelopes = (cls._on_isa, cls._on_gs, cls._on_st, cls._on_se, cls._on_ge,
                         cls._on_iea)
            tables = cls._handler_tables = (loops, envelopes)
        return tables

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

        s = self.state
        finding = self._finding
        codes_get = SEGMENT_CODES.get
        coded = CODED_OR_CLM
        (loops, envelopes), max_fields = self._handlers(), MAX_FIELDS
        reading = False  # s.reading (refreshed after each envelope segment) ...
        outside = True  # ... and s.st is None: no transaction set open
        element = ""  # the batch's element separator
        ids = s.ids
        spaced: dict[str, bool] = {}  # suspect's verdicts on segments with spaces
        index = 0
        for batch in self._items():
            if batch.__class__ is Skip:  # claims the fast path passed over
                yield from self._passed_over(s, batch)
                continue
            self._delimiters = batch.delimiters
            if batch.delimiters.element != element:
                element = batch.delimiters.element
                s.ids = ids = SegmentIds(element)
            s.hl_checked = getattr(batch, "hl_checked", False)  # edi837.parallel's runs: none
            for index, text in enumerate(batch.texts, batch.first_index):
                # split first: the id is a whole element ('CLMX*...' is no CLM); a bare
                # two-letter id ('LX', no element) is no segment the reader knows
                fields = text.split(element)
                count = len(fields)  # the id and its elements
                code = codes_get(fields[0])
                if code is not None and count == 1 and len(text) == 2:
                    code = None
                # (an element separator last: the last of several fields is empty)
                if reading and not fields[-1] and count > 1 and \
                        (code is None or code < ENVELOPE):
                    self._trailing_separators(s, fields, index)  # EDI009
                if code is None or (code < ENVELOPE and outside):
                    if reading and code is None and text[:4] not in ids.plain:
                        problem = ids.problem(text)
                        if problem is not None:
                            self.unread += 1
                            # the id and element count only: the values may be a
                            # patient's name, member id or birth date
                            shown = segment_id_shown(text, element)
                            finding("EDI007", ERROR, problem, segment_index=index,
                                    segment=shown, claim=s.claim,
                                    value=f"{shown} ({count - 1} elements)")
                    if outside:
                        self._outside(s, fields[0], index)
                    continue
                if code < ENVELOPE:
                    if not reading:
                        continue  # loop segments in a set that is not read (not an 837)
                    # more elements than the guide has: the next segment glued on?
                    if count > max_fields[code]:
                        self._glued(s, fields, code, index, element)
                    fields += PADDING  # so fields[n] needs no length check
                    # (suspect's first tests written out: most segments pass them)
                    if code in coded and (text != text.upper() or " " in text
                                          or "\t" in text) and suspect(text, spaced):
                        self._as_written(s, code, text, fields, index)
                    handler = loops[s.loop][code]
                    if handler is not None:
                        done = handler(self, s, fields, index)
                        if done is not None:
                            yield done
                    continue
                fields += PADDING
                self._end_stray(s)
                done = envelopes[code - ISA](self, s, fields, index)
                if done is not None:
                    yield done
                reading, outside = s.reading, s.st is None
        if s.stray is not None:
            self._stray_segments(*s.stray)
        # -- end of file: anything still open is truncated -------------------------
        end = index or None
        if s.st is not None:
            # (index is end: a set is open, so there were segments)
            self._abandon_claim(s, "the file ends inside it: truncated?", index, "SE")
        self._file_ends(end, s.gs is not None, s.isa is not None)

    def _passed_over(self, s: ReadState, skip) -> Iterator[Claim]:
        """Claims the fast path passed over (a ``Skip``): the open claim ends before
        them, and they are counted."""
        done = self._close_claim(s, skip.first_index - 1)
        if done is not None:
            yield done
        self.claim_count += skip.claims

    def _as_written(self, s: ReadState, code: int, text: str, fields: list[str],
                    index: int) -> None:
        """A loop segment that may hold a code in lower case or padded ("mb" for MB):
        read as meant and held (reader_findings._coded_values); a CLM's by its handler
        (_claim_read)."""
        if code == CLM:
            s.suspect = True
        else:
            self._coded_values(text, fields, index, s.loop, s.claim, s.line, s.held,
                               s.level_findings)

    def _glued(self, s: ReadState, fields: list[str], code: int, index: int,
               element: str) -> None:
        """A loop segment with more elements than the guide has: the next segment glued
        on?  Reported on the claim (a CLM's by its handler, with what else is wrong)."""
        glued = glued_message(fields, code, element)
        if glued and code == CLM:
            s.glued = glued
        elif glued and s.claim is not None:
            self._finding("EDI007", ERROR, glued, segment_index=index, segment=fields[0],
                          line=None if code == LX else s.line, claim=s.claim, held=s.held)

    def _end_stray(self, s: ReadState) -> None:
        """An envelope segment ends a run of segments outside any set: said."""
        if s.stray is not None:
            self._stray_segments(*s.stray)
            s.stray = None

    def _outside(self, s: ReadState, tag: str, index: int) -> None:
        """A segment outside any transaction set: counted into a run of them."""
        if s.stray is not None:
            s.stray[2] += 1
        elif s.isa is None:
            s.stray = [index, tag, 1, "interchange"]
        elif not (s.gs is None and tag in INTERCHANGE_LEVEL):
            s.stray = [index, tag, 1, "transaction set"]

    # -- envelope segments ------------------------------------------------------
    def _end_set(self, s: ReadState) -> None:
        s.st = None
        s.reading = self.in_claim_set = False

    def _on_isa(self, s: ReadState, fields: list[str], index: int) -> None:
        if len(fields) < ISA_FIELDS:  # a short ISA inside an interchange
            fields += ("",) * (ISA_FIELDS - len(fields))
        if s.st is not None:
            self._abandon_claim(s, "no SE before the next ISA", index, "ISA")
        self._interchange_opens(fields[13], index, s.isa is not None)
        s.isa, s.groups_in_isa = fields, 0
        self._isa_fields = fields
        s.gs = None
        self._end_set(s)
        self._isa13 = fields[13]
        self._gs06 = self._st02 = None
        self.interchanges += 1
        delimiters = self._delimiters
        assert delimiters is not None  # (the batch's)
        s.component = delimiters.component

    def _on_gs(self, s: ReadState, fields: list[str], index: int) -> None:
        self._group_opens(fields, index, s.isa is not None, s.gs is not None)
        s.gs, s.sets_in_gs = fields, 0
        s.groups_in_isa += 1
        self._gs06 = fields[6]

    def _on_st(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.st is not None:
            self._abandon_claim(s, "no SE before the next ST", index, "ST")
        s.st, s.st_start, s.ids.bad = fields, index, 0
        s.sets_in_gs += 1
        self.transactions += 1
        self._st02 = fields[2]
        envelope = self._open_transaction(fields, s.gs, index)
        s.reading = self.in_claim_set = envelope is not None
        if envelope is not None:
            self.claim_sets += 1
            s.claim_providers = CLAIM_PROVIDERS[envelope.kind]
            s.line_providers = LINE_PROVIDERS[envelope.kind]
            self._envelope = envelope
            s.new_set()
            self.hierarchy = Hierarchy()

    def _on_se(self, s: ReadState, fields: list[str], index: int) -> Claim | None:
        done = None
        if s.st is None:
            self._trailer_alone(index, "SE", "ST")
        else:
            done = self._close_claim(s, index - 1)
            self._check_trailer(fields, index, "SE", 1, index - s.st_start + 1, "segments",
                                2, s.st[2], "ST02")
        self._end_set(s)
        self._st02 = None
        return done

    def _on_ge(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.gs is None:
            self._trailer_alone(index, "GE", "GS")
        else:
            if s.st is not None:
                self._abandon_claim(s, "no SE before GE", index, "GE")
                self._end_set(s)
            self._check_trailer(fields, index, "GE", 1, s.sets_in_gs, "transaction sets",
                                2, s.gs[6], "GS06")
        s.gs = None
        self._gs06 = None

    def _on_iea(self, s: ReadState, fields: list[str], index: int) -> None:
        if s.isa is None:
            self._trailer_alone(index, "IEA", "ISA")
        else:
            if s.st is not None:
                self._abandon_claim(s, "no SE before IEA", index, "IEA")
                self._end_set(s)
            if s.gs is not None:
                self._finding("EDI002", ERROR, f"group {self._gs06} is not closed (no GE "
                              "before IEA)", segment_index=index, segment="IEA")
                s.gs = None
            self._check_trailer(fields, index, "IEA", 1, s.groups_in_isa, "groups", 2,
                                s.isa[13], "ISA13")
        s.isa = None
        self._isa13 = None
