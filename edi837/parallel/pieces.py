"""A piece of a large file, and how a worker reads it as if it read the whole file.

A piece is a few byte ranges of the file (:class:`Span`), read one after the
other as one stream by the ordinary reader:

* the *context*: the segments a claim needs from above it, copied from where
  they stand in the file: the interchange's ISA (and a later ISA read as a
  plain segment), the open GS, the transaction set's ST up to its first HL,
  and the head (HL up to its first CLM or HL) of each HL loop still open at
  the piece's first segment: billing provider 2000A/2010AA, subscriber
  2000B/2010BA/2010BB, patient 2000C;
* the *range*: the piece's own segments, from a CLM or HL on;
* the *closer*: the segment after the range (the next piece's first, a CLM or
  HL), so the range's last claim ends as it ends in the whole file.

Each span carries the file index of its first segment, so segment indices are
the file's (:class:`PieceSegments` maps them), and findings, claim records and
reports are what the whole file's read gives.  Envelope findings (counts,
control numbers, HL order, truncation, stray segments) are the driver's: it
reads them from the whole file (``scan``); the piece's reader drops its own,
and takes the HL verdicts of the whole file for the claims' held status.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

from ..reader.claims import ClaimReader
from ..x12.reader import CHUNK_SIZE, SegmentReader


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes ``offset``..``end`` of the file: ``count`` whole segments, the first
    with file index ``first`` (``count`` None: as many as there are, to the end
    of what the whole file's read read)."""

    offset: int
    end: int
    first: int
    count: int | None


@dataclass(frozen=True)
class Piece:
    path: str
    number: int  # 0, 1, ... in file order
    spans: tuple[Span, ...]  # context, range, closer
    hl_problems: dict = field(default_factory=dict)  # HL index -> the whole file's verdict
    identity: tuple = ()  # (device, inode, size, mtime) the driver read

    def open(self) -> "PieceStream":
        return PieceStream(self.path, self.spans)

    def reader(self, path: str, stream) -> "PieceReader":
        return PieceReader(path, stream, self)


def file_identity(path: str) -> tuple:
    """What tells a file changed between the driver's read and a worker's: its size and
    modification time (not its device and inode, which differ between the machines
    that mount one share)."""
    status = os.stat(path)
    return (status.st_size, status.st_mtime_ns)


class PieceChanged(Exception):
    """The file is not the one the driver read: the piece cannot be read."""


class PieceStream(io.RawIOBase):
    """The spans of a file, read one after the other as one binary stream."""

    def __init__(self, path: str, spans: tuple[Span, ...]) -> None:
        super().__init__()
        self._file = open(path, "rb")
        self._spans = list(spans)
        self._left = 0  # bytes left in the current span
        self._next = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = CHUNK_SIZE if size is None or size < 0 else size
        while self._left == 0:
            if self._next >= len(self._spans):
                return b""
            span = self._spans[self._next]
            self._next += 1
            self._file.seek(span.offset)
            self._left = span.end - span.offset
        data = self._file.read(min(size, self._left))
        if not data:
            raise PieceChanged("the file is shorter than when it was read")
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


class _Run:
    """Consecutive segments of one interchange, for ClaimReader (what a reader Batch
    gives it: delimiters, texts, the file index of the first)."""

    __slots__ = ("delimiters", "texts", "first_index")

    def __init__(self, delimiters, texts: list[str], first_index: int) -> None:
        self.delimiters = delimiters
        self.texts = texts
        self.first_index = first_index


class SegmentSource:
    """What ClaimReader asks of its segment reader besides ``batches()``: the inner
    reader's (a piece's reader and the driver's read wrap the ordinary one)."""

    inner: SegmentReader

    @property
    def source(self):
        return self.inner.source

    @property
    def delimiters(self):
        return self.inner.delimiters

    @property
    def segment_count(self) -> int:
        return self.inner.segment_count


class PieceSegments(SegmentSource):
    """The ordinary segment reader over a piece's stream, segments numbered as in the
    file.  ``mismatch`` is set when the piece does not hold the segments the driver
    counted in it (then its findings are not used: the file is read whole)."""

    def __init__(self, path: str, stream, spans: tuple[Span, ...]) -> None:
        self.inner = SegmentReader(path, stream)
        # local index (1-based, in the piece's stream) where each span starts
        self._starts, self._firsts, local = [], [], 1
        for span in spans:
            self._starts.append(local)
            self._firsts.append(span.first)
            local += span.count if span.count is not None else 0
        self._closed = spans[-1].count is not None
        self._total = local - 1
        self.mismatch = False

    def batches(self):
        starts, firsts = self._starts, self._firsts
        span = 0
        for batch in self.inner.batches():
            texts, local = batch.texts, batch.first_index
            done = 0
            while done < len(texts):
                while span + 1 < len(starts) and starts[span + 1] <= local + done:
                    span += 1
                if self._closed and local + done > self._total:
                    self.mismatch = True  # more segments than the driver counted
                    return
                stop = len(texts)
                if span + 1 < len(starts):
                    stop = min(stop, starts[span + 1] - local)
                yield _Run(batch.delimiters, texts[done:stop],
                           firsts[span] + local + done - starts[span])
                done = stop
        if self._closed and self.inner.segment_count != self._total:
            self.mismatch = True


class PieceReader(ClaimReader):
    """ClaimReader over a piece: file indices, the whole file's HL verdicts, and only
    the findings that belong to a claim (the envelope's are the driver's)."""

    def __init__(self, path: str, stream, piece: Piece) -> None:
        super().__init__(path, stream)
        self.segments = PieceSegments(path, stream, piece.spans)
        self._problems = piece.hl_problems
        # the piece's own segments (the range): each segment of the file is in one
        # piece's range; its context segments are other pieces'
        own = piece.spans[-1] if piece.spans[-1].count is None else piece.spans[-2]
        self._first = own.first
        self._last = own.first + own.count - 1 if own.count is not None else float("inf")

    def _hl_problem(self, fields, index, levels, expected):
        return self._problems.get(index)

    def _finding(self, rule, severity, message, **where):
        unreadable = self.unreadable
        found = super()._finding(rule, severity, message, **where)
        claim, held = where.get("claim"), where.get("held")
        if claim is None and held is None and (rule != "EDI007" or where.get("segment") == "HL"):
            # an envelope finding, or one the piece's own edges make up: the driver
            # reports the whole file's; an HL's verdict still marks its claims held.
            self.findings.pop()
            self.unreadable = unreadable
        elif not self._own(where.get("segment_index")) and \
                (claim is None or not self._own(claim.first_index)):
            # a segment of the piece's context, not of a claim in its range (a bad
            # segment id, lines outside any claim): the piece whose range holds it
            # reports it.  (A segment's own EDI007 outside a claim, or one held for
            # lines outside any claim, is the piece's to report if in its range.)
            (self.findings if held is None else held).pop()
            self.unreadable = unreadable
        return found

    def _own(self, index) -> bool:
        return index is not None and self._first <= index <= self._last
