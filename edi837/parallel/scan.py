"""The driver's read of a large file: its envelope findings, and where to cut it.

One pass with the ordinary segment reader (so segments are counted and
delimited exactly as when the file is checked whole).  Of each chunk's
segments only the ones that matter here are looked at, found by their first
three characters as the claim reader dispatches on them (a set of them, then
``list.index``: in C): ISA, GS, ST, SE, GE, IEA, HL and CLM.  The
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

import os
from bisect import bisect_left
from dataclasses import dataclass, field
from operator import itemgetter

from ..engine import FileResult
from ..files import HashingReader
from ..reader.claims import ClaimReader
from ..x12.reader import ISA_LENGTH, SegmentReader, X12SyntaxError, sniff_encoding
from .pieces import Piece, SegmentSource, Span, _Run, file_identity

TAGS = ("HL", "ST", "SE", "GS", "GE", "ISA", "IEA")  # and a CLM where a piece is cut
_HEAD = itemgetter(slice(0, 3))
ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA")
_STAND_IN = "ZZZ"  # a segment the claim reader passes over without a finding


class EnvelopeReader(ClaimReader):
    """The claim reader fed only envelope segments, HLs and what stands outside
    transaction sets; notes the HL verdicts and which sets are read as claims."""

    def __init__(self, path: str, segments: "Scanner") -> None:
        super().__init__(path)
        self.segments = segments
        self.hl_problems: list[tuple[int, str]] = []  # (HL index, problem), in file order
        self.reading: dict[int, bool] = {}  # ST index -> read as 837 claims

    def _hl(self, fields, index, levels, expected):
        real = self.segments.real
        if real is not None:  # a run of HLs only, numbered as if consecutive
            index = real[index - real[0]]
        return super()._hl(fields, index, levels, expected)

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


class _Head:
    """The head of a transaction set (ST up to its first HL) or of an HL loop (HL up
    to its first CLM or HL), where it is in the file.  Where it ends is worked out
    only for a head still open when a piece needs it or its chunk is done (most are
    replaced by the next HL first), and offsets only for a piece."""

    __slots__ = ("batch", "k", "limit", "end")

    def __init__(self, batch, k: int) -> None:
        self.batch, self.k = batch, k
        self.limit: int | None = None  # k of the next segment that matters in the chunk
        self.end: tuple | None = None  # (batch, k) of the segment after it

    def settle(self, heads: list[str]) -> None:
        """Its end, if it is in the head's chunk (``heads``: that chunk's segment ids)."""
        if self.end is not None:
            return
        stop = self.limit if self.limit is not None else len(heads)
        found = _index(heads, "CLM", self.k + 1, stop)
        if found is not None:
            self.end = (self.batch, found)
        elif self.limit is not None:
            self.end = (self.batch, self.limit)

    def span(self) -> Span:
        first = self.batch.first_index + self.k
        end_batch, end_k = self.end
        return Span(self.batch.offset(self.k), end_batch.offset(end_k), first,
                    end_batch.first_index + end_k - first)


def _index(heads: list[str], head: str, start: int, stop: int) -> int | None:
    try:
        return heads.index(head, start, stop)
    except ValueError:
        return None


class _Above:
    """What a claim takes from above it, followed as the claim reader keeps it: the
    ISA (and a later one read as a segment), the open GS and ST, and the heads of the
    HL loops still in force; and whether a piece may start here (see the module
    docstring)."""

    def __init__(self) -> None:
        self.isa: list[Span] = []
        self.gs: Span | None = None
        self.st: int | None = None  # index of the open set's ST
        self.heads: dict[str, _Head] = {}  # "ST" or HL kind -> its head, still in force
        self.open: _Head | None = None  # the last head, whose next mark is not known yet
        self.carried: _Head | None = None  # a head that ends in a later chunk
        self.billing = self.subscriber = False
        self.unsafe = False
        self.split_isa = False  # the interchange's ISA holds its own terminator
        self.delimiters = None  # of the chunk before: a new object after a real ISA

    def carry(self, batch, heads: list[str], marks) -> None:
        """A head open at the end of the chunk before ends at this chunk's first CLM or
        mark, if it has one."""
        if self.carried is None:
            return
        stop = marks[0][0] if marks else len(heads)
        found = _index(heads, "CLM", 0, stop)
        if found is not None or marks:
            self.carried.end = (batch, found if found is not None else stop)
            self.carried = None

    def mark(self, k: int) -> None:
        """The next mark after the last head: it ends there at the latest."""
        if self.open is not None:
            self.open.limit = k
            self.open = None

    def context(self, batch, heads: list[str]) -> tuple | None:
        """The spans a piece starting here needs, or None if it may not start here."""
        if self.st is None or not (self.billing and self.subscriber) or self.unsafe \
                or self.split_isa:
            return None
        loops = sorted(self.heads.values(), key=lambda head: head.batch.first_index + head.k)
        for head in loops:
            if head.batch is batch:
                head.settle(heads)
        if any(head.end is None for head in loops):
            return None
        spans = list(self.isa) + ([self.gs] if self.gs is not None else [])
        return tuple(spans + [head.span() for head in loops])

    def chunk_done(self, batch, heads: list[str]) -> None:
        for head in self.heads.values():  # what this chunk can still tell
            if head.batch is batch:
                head.settle(heads)
                if head.end is None:
                    self.carried = head
        self.open = None
        self.delimiters = batch.delimiters

    def follow(self, batch, k: int, tag: str, text: str) -> None:
        """An envelope segment or HL (claims.ClaimReader._read keeps the same)."""
        if tag == "HL":
            if self.st is None:
                return
            fields = text.split(batch.delimiters.element, 4)
            level = fields[3] if len(fields) > 3 else ""
            kind = "20" if level == "20" else "23" if level == "23" else "22"
            # billing resets the billing provider and the patient; a subscriber level
            # resets the subscriber and the patient; a patient the patient
            if kind != "22":
                self.billing = self.billing or kind == "20"
            else:
                self.subscriber = True
            if kind != "23":
                self.heads.pop("23", None)
            self.heads[kind] = self.open = _Head(batch, k)
            return
        index = batch.first_index + k
        if tag in ("ISA", "GS"):
            offset = batch.offset(k)
            whole = Span(offset, offset + len(text) + 1, index, 1)
            if tag == "GS":
                self.gs = whole
                self.unsafe = self.unsafe or self.st is not None
            elif k == 0 and batch.delimiters is not self.delimiters:
                self.isa = [whole]  # read for its delimiters
                # a terminator inside the ISA (a space): the reader made several segments
                # of it, which a piece's context would not hold: not cut
                self.split_isa = len(text) < ISA_LENGTH - 1
            else:
                self.isa = self.isa[:1] + [whole]  # read as a segment of the interchange
        if tag == "ISA":
            self.gs, self.st = None, None
        elif tag == "ST":
            self.st = index
            self.heads = {"ST": _Head(batch, k)}
            self.open = self.heads["ST"]
            self.billing = self.subscriber = self.unsafe = False
        elif tag == "SE":
            self.st = None
        elif tag in ("GE", "IEA"):
            self.st = self.gs = None


class Scanner(SegmentSource):
    """Segment source of :class:`EnvelopeReader` over a whole file that notes where
    pieces may start; ``on_piece`` gets each piece as soon as it is cut.

    Of each chunk the reader gets the envelope segments and what stands outside
    transaction sets, and each stretch of HLs as one run: the claims inside sets
    are the workers'."""

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
        self._above = _Above()
        self._made = 0  # pieces made
        self.real: list | None = None  # file indices of the HLs of the run in hand

    def batches(self):
        try:
            for batch in self.inner.batches():
                if not self._cuts:  # the first piece starts with the file's first segment
                    self._cuts.append(_Cut(batch.first_index, batch.offset(0), 0, (), 0))
                self._confirm()
                for run, real in self._runs(batch):
                    self.real = real
                    yield run
        except X12SyntaxError as exc:
            self.extent = exc.offset  # the whole file's read stops here too
            self._confirm()  # the reader has judged every segment before it
            raise
        self._confirm()

    # -- one chunk ------------------------------------------------------------------------
    def _runs(self, batch) -> list[tuple[_Run, list | None]]:
        """What the reader gets of a chunk, in order: envelope segments and what stands
        outside sets as they are, and each stretch of HLs with nothing else between
        them for the reader as one run, numbered as if consecutive (with the HLs'
        file indices beside it: :meth:`EnvelopeReader._hl` takes them back)."""
        texts, delimiters = batch.texts, batch.delimiters
        # each segment's first three characters, as the claim reader dispatches on them
        heads = list(map(_HEAD, texts))
        marks = self._marks(batch, heads, delimiters.element)
        above = self._above
        runs: list[tuple[_Run, list | None]] = []
        hls: list[str] = []
        real: list[int] = []  # file indices of ``hls``
        first = batch.first_index

        def give(start: int, stop: int) -> None:
            if hls:
                runs.append((_Run(delimiters, hls[:], real[0]), real[:]))
                del hls[:], real[:]
            if stop > start:
                runs.append((_Run(delimiters, texts[start:stop], first + start), None))

        above.carry(batch, heads, marks)
        outside = above.st is None
        start = 0  # first segment not yet given to the reader
        for k, _, tag in marks:
            above.mark(k)
            if tag == "CUT":
                context = above.context(batch, heads)
                if context is not None:
                    self._cut(batch, k, texts[k], context)
                continue
            if outside and k > start:  # strays, TA1: the reader judges them
                give(start, k)
            above.follow(batch, k, tag, texts[k])
            if tag == "HL" and not outside:
                hls.append(texts[k])
                real.append(first + k)
            else:
                give(k, k + 1)
            start, outside = k + 1, above.st is None
        if outside:
            give(start, len(texts))
        elif start < len(texts):
            # the reader's end-of-file findings name the last segment: it gets that
            # segment's index, but not the segment (an SV1 or LX there would open a
            # "claim" of lines outside any claim, a bad id be reported without its claim:
            # the worker that reads the claim judges it)
            give(0, 0)
            runs.append((_Run(delimiters, [_STAND_IN], first + len(texts) - 1), None))
        give(0, 0)
        above.chunk_done(batch, heads)
        return runs

    def _marks(self, batch, heads: list[str], element: str) -> list[tuple[int, int, str]]:
        """(segment number in the chunk, order, tag) of the segments that matter, in
        order, and a "CUT" where the next piece is due: the first CLM or HL from
        there on.  Found in C (set, list.index): a chunk has some 40,000 segments."""
        marks = []
        present = set(heads)
        for tag in TAGS:
            head = tag + element if len(tag) == 2 else tag
            if head in present:
                k = heads.index(head)
                while True:
                    marks.append((k, 1, tag))
                    k = _index(heads, head, k + 1, len(heads))
                    if k is None:
                        break
        count, hl = len(heads), "HL" + element
        end, target = batch.offset(count - 1), self._target
        while target <= end:  # (a cut not taken leaves the target for the next chunk)
            k = bisect_left(range(count), target, key=batch.offset)
            found = [i for i in (_index(heads, "CLM", k, count), _index(heads, hl, k, count))
                     if i is not None]
            if not found:
                break
            marks.append((min(found), 0, "CUT"))  # before the HL there, if one is
            target = batch.offset(min(found)) + self.piece_size
        marks.sort()
        return marks

    def _cut(self, batch, k: int, text: str, context: tuple) -> None:
        """A piece may start before segment ``k``: once the reader says its set is read
        as claims (:meth:`_confirm`)."""
        index, offset = batch.first_index + k, batch.offset(k)
        self._pending.append(_Cut(index, offset, offset + len(text) + 1, context,
                                  self._above.st))
        self._target = offset + self.piece_size

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


@dataclass
class Read:
    """What the driver's read of a file found, for a file it cut into pieces."""

    result: FileResult  # size, hash, transaction sets; claims and findings come from pieces
    envelope: list = field(default_factory=list)  # the envelope findings, as read
    unreadable: bool = False


def worth_splitting(path: str, piece_size: int) -> bool:
    """Two pieces or more, and not UTF-16 (whose offsets are not byte offsets)."""
    try:
        if os.path.getsize(path) < 2 * piece_size:
            return False
        with open(path, "rb") as handle:
            return sniff_encoding(handle.read(4))[0] == "latin-1"
    except OSError:
        return False


def read_and_cut(path: str, piece_size: int, on_piece) -> Read | None:
    """Read ``path`` once, handing each piece to ``on_piece`` as it is cut; None when
    it was not cut (or changed meanwhile: then it is checked whole).  Envelope
    findings are as the reader makes them (the caller applies the configuration)."""
    identity = file_identity(path)
    with open(path, "rb") as raw:
        stream = HashingReader(raw)
        scanner = Scanner(path, stream, piece_size, identity, on_piece=on_piece)
        reader = scanner.reader = EnvelopeReader(path, scanner)
        for _ in reader.claims():
            pass
        sha256 = stream.finish()
    scanner.finish(stream.size)
    if not scanner.split or file_identity(path) != identity:
        return None
    return Read(FileResult(path, size=stream.size, sha256=sha256,
                           transactions=reader.transactions, submitters=reader.submitters),
                reader.findings, reader.unreadable)
