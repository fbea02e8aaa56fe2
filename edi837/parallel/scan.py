"""The driver's read of a large file: its envelope findings, and where to cut it.

One pass with the ordinary segment reader (so segments are counted and
delimited exactly as when the file is checked whole).  Of each chunk's
segments only the ones that matter here are looked at, found with
``str.find`` on the chunk (in C): ISA, GS, ST, SE, GE, IEA, HL and CLM.  The
envelope segments and HLs, and every segment outside a transaction set, go to
:class:`EnvelopeReader` (the claim reader itself, without claims), so the
envelope findings (EDI001-EDI007 on envelopes and HLs), the file's counts and
its normalisation notes are exactly those of the whole file's read.

Pieces (:mod:`.pieces`) are cut before a CLM or HL segment of a transaction
set read as 837 claims, about every ``piece_size`` bytes, and only where
what a claim takes from above it is known from loops since the set's ST: a
billing provider HL and a subscriber HL have been read in the set (else the
claim reader would carry values over from an earlier set) and no GS or ISA
stood inside the set.  A file with no such place is checked whole.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from ..claims import ClaimReader
from ..x12.reader import SegmentReader, X12SyntaxError
from .pieces import Piece, Span, _Run

TAGS = ("HL", "CLM", "ST", "SE", "GS", "GE", "ISA", "IEA")
ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA")


class EnvelopeReader(ClaimReader):
    """The claim reader fed only envelope segments, HLs and what stands outside
    transaction sets; notes the HL verdicts and which sets are read as claims."""

    def __init__(self, path: str, segments: "Scanner") -> None:
        super().__init__(path)
        self.segments = segments
        self.hl_problems: list[tuple[int, str]] = []  # (HL index, problem), in file order
        self.reading: dict[int, bool] = {}  # ST index -> read as 837 claims

    def _hl_problem(self, fields, index, levels, expected):
        problem = ClaimReader._hl_problem(fields, index, levels, expected)
        if problem:
            self.hl_problems.append((index, problem))
        return problem

    def _finding(self, rule, severity, message, **where):
        found = super()._finding(rule, severity, message, **where)
        if where.get("claim") is not None:
            self.findings.pop()  # a claim's: the worker that reads the claim reports it
        return found

    def _open_transaction(self, st, gs, index):
        envelope = super()._open_transaction(st, gs, index)
        self.reading[index] = envelope is not None
        return envelope

    def problems_between(self, first: int, last: int) -> dict[int, str]:
        problems = self.hl_problems
        at = bisect_left(problems, (first, ""))
        found = {}
        while at < len(problems) and problems[at][0] <= last:
            found[problems[at][0]] = problems[at][1]
            at += 1
        return found


@dataclass
class _Cut:
    """A place to start a piece: the segment there, and the context spans above it."""

    index: int
    offset: int
    end: int  # past the segment's terminator (as a closer)
    context: tuple[Span, ...]
    st_index: int


class Scanner:
    """Segment source of :class:`EnvelopeReader` over a whole file that notes where
    pieces may start.  ``pieces`` fills as the read goes; ``finish`` adds the last."""

    def __init__(self, path: str, stream, piece_size: int, identity: tuple = (),
                 on_piece=None) -> None:
        self.path = path
        self.on_piece = on_piece  # called with each piece as soon as it is cut
        self.inner = SegmentReader(path, stream)
        self.piece_size = piece_size
        self.identity = identity
        self.reader: EnvelopeReader | None = None
        self.pieces: list[Piece] = []
        self.extent: int | None = None  # where the read stopped on a syntax error
        self._cuts: list[_Cut] = []  # confirmed
        self._pending: list[_Cut] = []  # waiting for the reader's verdict on their set
        self._target = piece_size
        self._delimiters = None
        # the structure the context is taken from
        self._isa: list[Span] = []
        self._gs: Span | None = None
        self._st: int | None = None  # index of the open set's ST
        self._header: list | None = None  # [offset, first index], closed into a Span
        self._loops: list[tuple[str, list]] = []  # (kind, [offset, first, end, count])
        self._open: list | None = None  # the span whose end is the next hit
        self._billing = self._subscriber = False
        self._unsafe = False
        self._made = 0  # pieces made

    # -- what ClaimReader asks of a segment source ------------------------------------
    @property
    def source(self):
        return self.inner.source

    @property
    def delimiters(self):
        return self.inner.delimiters

    @property
    def segment_count(self) -> int:
        return self.inner.segment_count

    def batches(self):
        fed = last = 0  # indices of the last segment fed to the reader, and read
        final = None
        try:
            for batch in self.inner.batches():
                texts, first = batch.texts, batch.first_index
                if not self._cuts:  # the first piece starts with the file's first segment
                    self._cuts.append(_Cut(first, batch.offset(0), 0, (), 0))
                self._confirm()
                outside = self._st is None
                start = 0  # first segment of the batch not yet fed or passed over
                for k, tag, text in self._hits(batch):
                    if outside and k > start:  # strays, TA1: the reader judges them
                        yield _Run(batch.delimiters, texts[start:k], first + start)
                    self._structure(batch, k, tag, text)
                    if tag != "CLM" or outside:  # a CLM outside a set is a stray
                        yield _Run(batch.delimiters, [text], first + k)
                        fed = first + k
                    start = k + 1
                    outside = self._st is None
                if outside and start < len(texts):
                    yield _Run(batch.delimiters, texts[start:], first + start)
                    fed = first + len(texts) - 1
                self._delimiters = batch.delimiters
                last, final = first + len(texts) - 1, (batch.delimiters, texts[-1])
        except X12SyntaxError as exc:
            self.extent = exc.offset  # the whole file's read stops here too
            self._confirm()  # the reader has judged every segment before it
            raise
        if last > fed:  # the reader's end-of-file findings name the file's last segment
            yield _Run(final[0], [final[1]], last)
        self._confirm()

    # -- finding the segments that matter ---------------------------------------------
    @staticmethod
    def _hits(batch) -> list[tuple[int, str, str]]:
        texts = batch.texts
        terminator, element = batch.delimiters.segment, batch.delimiters.element
        joined = terminator.join(texts)
        marks = []
        for tag in TAGS:
            head = tag + element
            if texts[0].startswith(head):
                marks.append((0, tag))
            needle = terminator + head
            at = joined.find(needle)
            while at >= 0:
                marks.append((at + 1, tag))
                at = joined.find(needle, at + 1)
        marks.sort()
        hits, k, last = [], 0, 0
        for at, tag in marks:
            k += joined.count(terminator, last, at)
            last = at
            hits.append((k, tag, texts[k]))
        return hits

    def _structure(self, batch, k: int, tag: str, text: str) -> None:
        """Follow the envelopes and HL loops (what the claim reader keeps of them for
        a claim), and note a cut before this segment when one is due."""
        index, offset = batch.first_index + k, batch.offset(k)
        if self._open is not None:  # a header or loop head ends at the next segment here
            self._open[2], self._open[3] = offset, index - self._open[1]
            self._open = None
        if (self._st is not None and tag in ("HL", "CLM") and offset >= self._target
                and self._billing and self._subscriber and not self._unsafe):
            self._pending.append(_Cut(index, offset, offset + len(text) + 1,
                                      self._context(), self._st))
            self._target = offset + self.piece_size
        whole = Span(offset, offset + len(text) + 1, index, 1)
        if tag == "ISA":
            if k == 0 and batch.delimiters is not self._delimiters:
                self._isa = [whole]  # read for its delimiters
            else:
                self._isa = self._isa[:1] + [whole]  # read as a segment of the interchange
            self._gs, self._st = None, None
        elif tag == "GS":
            self._gs = whole
            self._unsafe = self._unsafe or self._st is not None
        elif tag == "ST":
            self._st = index
            self._header = self._open = [offset, index, None, None]
            self._loops = []
            self._billing = self._subscriber = self._unsafe = False
        elif tag == "SE":
            self._st = None
        elif tag in ("GE", "IEA"):
            self._st = self._gs = None
        elif tag == "HL" and self._st is not None:
            fields = text.split(batch.delimiters.element)
            level = fields[3] if len(fields) > 3 else ""
            kind = "20" if level == "20" else "23" if level == "23" else "22"
            # what a later HL makes the claim reader forget (claims.ClaimReader._read):
            # billing resets the billing provider and the patient; a subscriber level
            # resets the subscriber and the patient; a patient the patient
            gone = {"20": ("20", "23"), "22": ("22", "23"), "23": ("23",)}[kind]
            self._loops = [loop for loop in self._loops if loop[0] not in gone]
            self._open = [offset, index, None, None]
            self._loops.append((kind, self._open))
            self._billing = self._billing or kind == "20"
            self._subscriber = self._subscriber or kind == "22"

    def _context(self) -> tuple[Span, ...]:
        spans = list(self._isa)
        if self._gs is not None:
            spans.append(self._gs)
        for offset, first, end, count in [self._header] + [loop for _, loop in self._loops]:
            spans.append(Span(offset, end, first, count))
        return tuple(spans)

    # -- pieces -------------------------------------------------------------------------
    def _confirm(self) -> None:
        """Cuts in sets the reader has now judged: keep those in sets read as claims,
        and make a piece of the stretch since the cut before."""
        reading = self.reader.reading
        for cut in self._pending:
            if reading.get(cut.st_index):
                self._piece(self._cuts[-1], cut)
                self._cuts.append(cut)
        self._pending = []

    def _piece(self, start: _Cut, closer: _Cut | None, end: int = 0) -> None:
        """The piece from ``start`` up to ``closer`` (None: up to ``end``, the end of
        what was read)."""
        spans = list(start.context)
        if closer is not None:
            spans.append(Span(start.offset, closer.offset, start.index,
                              closer.index - start.index))
            spans.append(Span(closer.offset, closer.end, closer.index, 1))
        else:
            spans.append(Span(start.offset, end, start.index, None))
        problems = {}
        for span in spans:
            stop = span.first + span.count - 1 if span.count is not None else float("inf")
            problems.update(self.reader.problems_between(span.first, stop))
        piece = Piece(self.path, self._made, tuple(spans), problems, self.identity)
        self._made += 1
        if self.on_piece is not None:
            self.on_piece(piece)
        else:
            self.pieces.append(piece)

    def take_pieces(self) -> list[Piece]:
        """The pieces made since the last call."""
        pieces, self.pieces = self.pieces, []
        return pieces

    @property
    def split(self) -> bool:
        """Whether the file was cut at all (else it is checked whole)."""
        return len(self._cuts) > 1

    def finish(self, size: int) -> None:
        """After the read: the last piece, to where the read ended."""
        if self.split:
            self._piece(self._cuts[-1], None, self.extent if self.extent is not None else size)
