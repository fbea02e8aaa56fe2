"""A sparse file cut at transaction sets: each piece read by a worker with the fast path.

The claim reader keeps nothing from one transaction set to the next but the
ISA/GS context (the loop state, the HL order and what a claim takes from the
loops above it start again at each ST), so a run of whole sets read after the
ISA and GS in force before it reads as it does in the whole file.  The driver
(:func:`cut_at_sets`) reads the file once, as raw bytes: it hashes it, counts
its terminators (a segment's index is the terminators before it, plus one)
and cuts it before the first ``ST`` at or after every few MB (one search from
there); a piece goes out as soon as the read reaches its start.  It splits no
segment.  A piece (:class:`SetPiece`) is read by :class:`SetReader`, the claim
reader with the fast path, over a stream of its context (the ISA and GS texts)
and its own bytes, segments numbered as in the file.

The envelope findings (EDI002-EDI005 on ISA/GS/ST/SE/GE/IEA: counts,
control numbers, a repeated ISA13, groups and interchanges left open, the end
of the file) are the driver's: each piece hands back the envelope segments of
its range (a few per transaction set), and :class:`EnvelopeJudge` runs the
claim reader's own envelope handlers over all of them in file order, with
their file indices: the findings one job's read makes of them.  A piece keeps
the findings of its claims, its lines and its sets' HLs and segments (EDI007),
and drops the envelope findings its own edges make up.

The context of a piece is guessed (the last ISA and GS in the 64 KiB before
it, else those of the piece before) and checked when the pieces are judged in
file order: each piece says the last ISA and GS of its range, and a piece read
with another context than the one in force at its start is read again with
the right one.  Anything not plain (a piece
whose segments are not the ones counted, a normalisation note, segments
outside a set, a syntax error, envelopes not nested ISA(GS(ST..SE)+GE)+IEA with
nothing between them) makes the driver check the file whole, as before: the
findings are always one job's.
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field, replace

from ..files import HashingReader
from ..reader.claims import ClaimReader
from ..reader.loops import GE, GS, IEA, ISA, PADDING, SE, SEGMENT_CODES, ST
from ..x12.reader import CHUNK_SIZE, ISA_LENGTH, Delimiters, SegmentReader, X12SyntaxError
from .pieces import file_identity

READ_SIZE = 1 << 20  # bytes the driver reads at a time
WINDOW = 1 << 16  # bytes searched at a time for the ST a piece starts at
# bytes before a piece searched for the ISA and GS in force at its start (a guess: else
# the last piece's is taken; a wrong one costs the piece a second read)
CONTEXT_WINDOW = 1 << 16
MIN_PIECE = 2 << 20  # bytes: a smaller piece costs more to hand out than it saves
_WHITE = b" \t\r\n"
_HEAD = 4  # bytes a segment reader reads first (to tell the encoding)


@dataclass(frozen=True)
class SetPiece:
    """Bytes ``offset``..``end`` of the file (whole transaction sets, the first an ST
    with file index ``first``), read after ``context`` (the texts of the ISA and GS
    in force before it; none for the piece at the start of the file)."""

    path: str
    number: int
    offset: int
    end: int
    first: int
    context: tuple[str, ...]
    separator: str  # the file's: the terminator, with its line break if it has one
    identity: tuple = ()

    def open(self) -> "SetStream":
        prefix = "".join(text + self.separator for text in self.context)
        return SetStream(self.path, prefix.encode("latin-1"), self.offset, self.end)

    def reader(self, path: str, stream) -> "SetReader":
        if isinstance(stream, HashingReader):
            stream.unhashed("piece")  # the driver hashed the file
        return SetReader(path, stream, self)


class SetStream(io.RawIOBase):
    """``prefix``, then bytes ``offset``..``end`` of the file, as one binary stream."""

    def __init__(self, path: str, prefix: bytes, offset: int, end: int) -> None:
        super().__init__()
        self._file = open(path, "rb")
        self._file.seek(offset)
        self._prefix = prefix
        self._left = end - offset

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = CHUNK_SIZE if size is None or size < 0 else size
        if self._prefix:
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        if self._left <= 0:
            return b""
        # the file's own chunks: where a read of the whole file has them (its first 4
        # bytes read alone, then CHUNK_SIZE at a time: x12.reader._open_text_chunks), so
        # the fast path's blocks, and what it judges dense, are those of one job's read
        grid = CHUNK_SIZE - (self._file.tell() - _HEAD) % CHUNK_SIZE
        data = self._file.read(min(size, self._left, grid))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


class _Shifted(SegmentReader):
    """The segment reader over a piece's stream, segments numbered as in the file (the
    context's as the segments just before the piece's first)."""

    def __init__(self, path: str, stream, shift: int) -> None:
        super().__init__(path, stream)
        self.shift = shift
        self.mismatch = False  # the piece cannot be used: the file is checked whole

    def _chunks(self, blocks: bool):
        shift = self.shift
        for chunk in super()._chunks(blocks):
            chunk.first_index += shift
            yield chunk


_PADDED = len(PADDING)


class SetReader(ClaimReader):
    """The claim reader (fast path) over a piece: keeps the findings of its claims and
    EDI007 (segments, HLs), notes its envelope segments for the driver."""

    def __init__(self, path: str, stream, piece: SetPiece) -> None:
        super().__init__(path, stream, fast=True)
        self.segments = _Shifted(path, stream, piece.first - 1 - len(piece.context))
        self._first = piece.first
        self._context = len(piece.context)
        self.envelopes: list[tuple[int, list[str]]] = []  # (index, fields) of its range
        # the texts of the last ISA and GS read so far (the next piece's context)
        self.last = list(piece.context) + [""] * (2 - len(piece.context))

    def facts(self) -> dict:
        return {"envelopes": self.envelopes, "last": tuple(self.last),
                "segments": self.segments.segment_count - self._context}

    def _finding(self, rule, severity, message, **where):
        unreadable = self.unreadable
        found = super()._finding(rule, severity, message, **where)
        if rule != "EDI007" and where.get("claim") is None and where.get("held") is None:
            # an envelope finding (the driver's), or one the piece's edges make up
            self.findings.pop()
            self.unreadable = unreadable
        return found

    def _note(self, fields: list[str], index: int) -> None:
        if index >= self._first:
            written = fields[:len(fields) - _PADDED]
            self.envelopes.append((index, written))
            if written[0] in ("ISA", "GS"):
                delimiters = self._delimiters
                assert delimiters is not None
                self.last[written[0] == "GS"] = delimiters.element.join(written)

    def _on_isa(self, s, fields, index):
        self._note(fields, index)
        return super()._on_isa(s, fields, index)

    def _on_gs(self, s, fields, index):
        self._note(fields, index)
        return super()._on_gs(s, fields, index)

    def _on_st(self, s, fields, index):
        self._note(fields, index)
        return super()._on_st(s, fields, index)

    def _on_se(self, s, fields, index):
        self._note(fields, index)
        return super()._on_se(s, fields, index)

    def _on_ge(self, s, fields, index):
        self._note(fields, index)
        return super()._on_ge(s, fields, index)

    def _on_iea(self, s, fields, index):
        self._note(fields, index)
        return super()._on_iea(s, fields, index)

    # -- what makes the piece of no use (the file is checked whole) ---------------------
    def _stray_segments(self, first, tag, count, outside):
        self.segments.mismatch = True

    def _syntax_error(self, exc):
        self.segments.mismatch = True
        super()._syntax_error(exc)

    def _file_ends(self, end, group_open, interchange_open):
        pass  # the driver's (EnvelopeJudge): a piece ends where its last set does

    def _normalisations(self):
        if self.segments.source.normalisations():
            self.segments.mismatch = True


# -- the driver's read ----------------------------------------------------------------------
@dataclass
class SetCut:
    """What the driver's read of a file found: its hash and size, and each piece's
    segments (as counted: a piece's reader must find as many)."""

    sha256: str
    size: int
    delimiters: Delimiters
    counts: list[int] = field(default_factory=list)
    segments: int = 0  # in the whole file


def _head(path: str) -> tuple[Delimiters, str, tuple[str, str], int] | None:
    """The file's delimiters, separator, first ISA and GS texts and where the GS ends,
    if it starts with an ISA (no byte-order mark, no white space) followed by a GS and
    ends with an IEA (and white space): a file cut short or with text after its end is
    checked whole (a piece could not say what its end means)."""
    with open(path, "rb") as handle:
        head = handle.read(ISA_LENGTH + 4096)
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
        tail = handle.read().rstrip(_WHITE)
    if not head.startswith(b"ISA") or len(head) < ISA_LENGTH:
        return None
    mark = head[ISA_LENGTH - 1:ISA_LENGTH]  # the terminator
    last = tail[:-1].rsplit(mark, 1)[-1].lstrip(_WHITE)
    if not tail.endswith(mark) or not last.startswith(b"IEA" + head[3:4]):
        return None
    text = head.decode("latin-1")
    try:
        delimiters = Delimiters.from_isa(text)
    except X12SyntaxError:
        return None
    terminator = delimiters.segment
    if text[ISA_LENGTH - 1] != terminator or terminator in text[:ISA_LENGTH - 1] or \
            terminator in _WHITE.decode() or terminator.isalnum():
        return None
    separator = delimiters.separator_after(text, ISA_LENGTH - 1)
    start = ISA_LENGTH - 1 + len(separator)
    end = text.find(terminator, start)
    gs = text[start:end]
    if end < 0 or not gs.startswith("GS" + delimiters.element):
        return None
    return delimiters, separator, (text[:ISA_LENGTH - 1], gs), end


def cut_at_sets(path: str, piece_size: int, slots: int, on_piece) -> SetCut | None:
    """Read ``path`` once (hash, terminators) and cut it before an ST every
    ``piece_size`` bytes or so (at least two pieces a worker slot); ``on_piece`` gets
    each :class:`SetPiece` as soon as the read reaches its start.  None: not cut (no
    plain start, no place to cut, or the file changed while read)."""
    head = _head(path)
    if head is None:
        return None
    delimiters, separator, context, after = head
    identity = file_identity(path)
    size = identity[0]
    step = max(MIN_PIECE, min(piece_size, size // (2 * max(slots, 1)) + 1))
    with open(path, "rb") as handle:
        starts = _starts(handle.fileno(), size, step, after + 1,
                         (separator + "ST" + delimiters.element).encode("latin-1"),
                         len(separator))
        contexts = [()]
        for start in starts:
            contexts.append(_context_before(handle.fileno(), start, separator,
                                            delimiters, contexts[-1] or context))
    if not starts:
        return None
    starts = [0] + starts
    ends = starts[1:] + [size]
    terminator = delimiters.segment.encode("latin-1")
    digest = hashlib.sha256()
    before: list[int] = []  # terminators before each piece's start
    counted = at = 0  # terminators before ``at``
    buffer = bytearray(READ_SIZE)  # one buffer, read into: hashed and counted in cache
    with open(path, "rb", buffering=0) as handle:
        while True:
            got = handle.readinto(buffer)
            if not got:
                break
            chunk = buffer if got == READ_SIZE else buffer[:got]
            digest.update(chunk)
            stop = at + got
            k = 0  # where in the chunk counting is
            while len(before) < len(starts) and starts[len(before)] < stop:
                number = len(before)
                here = starts[number] - at
                counted += chunk.count(terminator, k, here)
                k = here
                before.append(counted)
                on_piece(SetPiece(path, number, starts[number], ends[number], counted + 1,
                                  contexts[number], separator, identity))
            counted += chunk.count(terminator, k)
            at = stop
    if at != size or len(before) != len(starts) or file_identity(path) != identity:
        return None
    return SetCut(digest.hexdigest(), size, delimiters,
                  [b - a for a, b in zip(before, before[1:] + [counted], strict=True)], counted)


def _starts(fd: int, size: int, step: int, after: int, needle: bytes,
            skip: int) -> list[int]:
    """Offsets of the pieces after the first: each the first ST at or after ``step``
    bytes past the one before, and past ``after`` (the first set's ST is the first
    piece's); none closer than half a step to the end."""
    starts: list[int] = []
    target = max(step, after)
    while target + step // 2 < size:
        found = _find(fd, needle, target, size)
        if found is None or found + skip + step // 2 >= size:
            break
        starts.append(found + skip)
        target = found + skip + step
    return starts


def _context_before(fd: int, offset: int, separator: str, delimiters: Delimiters,
                    before: tuple[str, ...]) -> tuple[str, ...]:
    """The texts of the ISA and GS in force at ``offset``, as far as the
    CONTEXT_WINDOW bytes before it tell (else those of ``before``)."""
    start = max(0, offset - CONTEXT_WINDOW)
    text = os.pread(fd, offset - start, start).decode("latin-1")
    terminator, element = delimiters.segment, delimiters.element
    isa, gs = before
    found = text.rfind(separator + "ISA" + element)
    end = found + len(separator) + ISA_LENGTH - 1
    if found >= 0 and text.startswith(terminator, end):
        isa = text[found + len(separator):end]
    found = text.rfind(separator + "GS" + element)
    end = text.find(terminator, found + len(separator))
    if found >= 0 and end > 0:
        gs = text[found + len(separator):end]
    return isa, gs


def _find(fd: int, needle: bytes, offset: int, size: int) -> int | None:
    """The file offset of ``needle`` at or after ``offset``, read a window at a time."""
    while offset < size:
        window = os.pread(fd, WINDOW + len(needle), offset)
        found = window.find(needle)
        if found >= 0:
            return offset + found
        offset += WINDOW
    return None


# -- the envelope findings ------------------------------------------------------------------
_CODE = {tag: SEGMENT_CODES[tag] for tag in ("ISA", "GS", "ST", "SE", "GE", "IEA")}
# what may follow each envelope segment: nested ISA(GS(ST..SE)+GE)+IEA, and nothing
# between them but the segments of a set
_NEXT = {None: ("ISA",), "ISA": ("GS",), "GS": ("ST",), "ST": ("SE",), "SE": ("ST", "GE"),
         "GE": ("GS", "IEA"), "IEA": ("ISA",)}


class EnvelopeJudge(ClaimReader):
    """The claim reader's envelope handlers over a file's envelope segments, in file
    order with their file indices (what each piece read), and its end of file: the
    envelope findings (and counts) of reading the file whole.  Fed piece after piece,
    so only its findings are held, not the envelopes."""

    def __init__(self, path: str, delimiters: Delimiters) -> None:
        super().__init__(path, io.BytesIO(b""))
        self._delimiters = delimiters
        self._before: str | None = None  # the last envelope segment's id ...
        self._last = 0  # ... and index

    def feed(self, envelopes) -> bool:
        """Run the handlers over ``envelopes`` ((index, fields), in file order); False
        (and nothing judged) when they are not plainly nested with nothing between
        them: the file is then checked whole."""
        before, last = self._before, self._last
        for index, fields in envelopes:
            tag = fields[0]
            if tag not in _NEXT[before] or (before != "ST" and index != last + 1):
                return False
            before, last = tag, index
        self._before, self._last = before, last
        s = self.state
        handlers = self._handlers()[1]
        for index, fields in envelopes:
            handlers[_CODE[fields[0]] - ISA](self, s, fields + list(PADDING), index)
        return True

    def finish(self, segments: int) -> bool:
        """The end of a file of ``segments`` segments: False unless its last is the
        last IEA."""
        if self._before != "IEA" or self._last != segments:
            return False
        s = self.state
        self._file_ends(segments, s.gs is not None, s.isa is not None)
        return True


assert (ISA, GS, ST, SE, GE, IEA) == tuple(_CODE.values())


class SetFile:
    """The driver's side of a file cut at sets: its pieces, judged in file order."""

    def __init__(self, path: str, cut: SetCut, pieces: list[SetPiece]) -> None:
        self.cut = cut
        self.pieces = pieces
        self.judge = EnvelopeJudge(path, cut.delimiters)
        self.last: tuple[str, ...] = ()  # the last ISA and GS of the pieces judged so far

    def take(self, number: int, facts: dict) -> SetPiece | bool:
        """A piece's result, in file order: True (used), False (of no use: the file is
        checked whole), or the piece again with the context in force at its start
        (it was read with another)."""
        piece = self.pieces[number]
        if "envelopes" not in facts or facts["segments"] != self.cut.counts[number]:
            return False
        if number and piece.context != self.last:
            if not all(self.last) or piece.context == ():
                return False
            self.pieces[number] = replace(piece, context=self.last)
            return self.pieces[number]
        self.last = tuple(facts["last"])
        return self.judge.feed(facts["envelopes"])

    def finish(self) -> EnvelopeJudge | None:
        """The judge with the envelope findings of the whole file (None: the file does
        not end with its last interchange)."""
        return self.judge if self.judge.finish(self.cut.segments) else None
