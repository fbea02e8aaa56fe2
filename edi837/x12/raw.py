"""A file's segments with the exact text they were read from.

:class:`RawSegmentReader` pairs each segment the
:class:`~edi837.x12.reader.SegmentReader` finds with the text it came from,
split into the segment itself and its *trailer* (the terminator and whatever
white space follows, up to the next segment), so that
:mod:`edi837.x12.writer` can copy a file byte for byte except where a fix
changes it.

The text is the file decoded as latin-1 (one character per byte, so offsets
are byte offsets and re-encoding gives back the same bytes; a UTF-8 BOM is
simply its three characters), or, for UTF-16 input, the decoded text, written
back as UTF-16 of the same byte order with the same BOM.

Padding is the one text not kept: the segment reader passes over NULs, Ctrl-Z,
blank lines and doubled terminators between segments and interchanges in
bounded memory, whatever their length, and so does this reader.  A gap of
more than :data:`PADDING_KEPT` characters after a segment's terminator (and
its line break) is read past without being made into a string, and described
by a :class:`Padding` on the segment it follows; so is a long run before the
first segment, and text after the last interchange is kept only in part.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from ..locations import open_input
from .reader import Delimiters, SegmentReader, X12SyntaxError, sniff_encoding

# Text read ahead of the segment reader, and written out at a time.  A quarter of
# the reader's 1 MiB chunks: the reader's own chunk is in memory beside these
# (and `fix --split` has three files open at once), and larger blocks are no faster.
BLOCK_SIZE = 1 << 18
# Filler after a segment's terminator and line break up to this length is copied like
# any other text (a few blank lines, a short run of NULs); longer, it is padding, left out.
PADDING_KEPT = 1 << 16
UTF8_BOM = "\xef\xbb\xbf"  # as latin-1 text
# An ISA or CLM segment (an id, then a delimiter) in the text after the last
# interchange: claims edi837 could not read, which dropping that text would lose.
CLAIM_SEGMENT = re.compile(r"(?<![A-Za-z0-9])(?:ISA|CLM)[^A-Za-z0-9\s]")
_FILLER = (("\x00", "NUL"), ("\x1a", "Ctrl-Z"), ("\n", "line breaks"), ("\r", "line breaks"),
           (" ", "spaces"), ("\t", "tabs"), ("\x0b", "vertical tabs"), ("\x0c", "form feeds"))


# -- the file as text ----------------------------------------------------------------

@dataclass(slots=True, frozen=True)
class TextEncoding:
    """How text maps back to the file's bytes.

    latin-1 gives back the bytes as read (a UTF-8 BOM is part of the text);
    for UTF-16 the BOM is written separately before the encoded text.
    """

    codec: str = "latin-1"
    bom: bytes = b""


LATIN1 = TextEncoding()


def detect_encoding(head: bytes) -> TextEncoding:
    """The encoding of a file from its first bytes, decided as the reader does.

    A UTF-8 BOM is kept as text (latin-1 reads it as three characters), so it
    is copied like any other byte.
    """
    codec, bom = sniff_encoding(head)
    return LATIN1 if codec == "latin-1" else TextEncoding(codec, bom)


class SourceText:
    """A file's text read forward in chunks, addressed by the reader's offsets."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        head = stream.read(4)
        self.encoding = detect_encoding(head)
        self._decoder = codecs.getincrementaldecoder(self.encoding.codec)(errors="replace")
        self._buffer = self._decoder.decode(head[len(self.encoding.bom):])
        self._start = 0  # offset of _buffer[0]
        self.position = 0  # offset of the next character to hand out
        self._exhausted = False

    def _read_more(self) -> bool:
        if self._exhausted:
            return False
        chunk = self._stream.read(BLOCK_SIZE)
        self._exhausted = not chunk
        # Drop what was handed out already so memory stays flat.
        used = self.position - self._start
        self._buffer = self._buffer[used:] + self._decoder.decode(chunk, final=not chunk)
        self._start = self.position
        return True

    def take(self, end: int) -> str:
        """The text from the current position up to offset ``end``."""
        while end - self._start > len(self._buffer) and self._read_more():
            pass
        text = self._buffer[self.position - self._start:end - self._start]
        self.position += len(text)
        return text

    def take_rest(self) -> str:
        while self._read_more():
            pass
        return self.take(self._start + len(self._buffer))

    def reaches(self, end: int) -> bool:
        """Whether the text runs to offset ``end`` (read ahead as far as needed)."""
        while end > self._start + len(self._buffer):
            if not self._read_more():
                return False
        return True

    def after(self, terminator: str, end: int | None) -> int | None:
        """The offset just past the first ``terminator`` from the current position,
        and past a line break (LF, CR LF) right after it, if it is not one itself;
        None when there is none before ``end`` (None: the end of the file)."""
        offset = self.position
        while True:
            limit = self._start + len(self._buffer)
            if end is not None:
                limit = min(limit, end)
            at = self._buffer.find(terminator, offset - self._start, limit - self._start)
            if at >= 0:
                cut = self._start + at + len(terminator)
                break
            offset = limit
            if (end is not None and limit >= end) or not self._read_more():
                return None
        if terminator not in "\r\n":
            self.reaches(cut + 2)
            if self.startswith("\r\n", cut):
                cut += 2
            elif self.startswith("\n", cut):
                cut += 1
        return cut if end is None else min(cut, end)

    def startswith(self, text: str, offset: int) -> bool:
        """Whether ``text`` is read at ``offset`` (at or past the current position,
        within what is read ahead)."""
        return self._buffer.startswith(text, offset - self._start)

    def skip(self, end: int | None, terminator: str = "") -> tuple[int, tuple[str, ...]]:
        """Pass over the text up to offset ``end`` (None: the end of the file) a
        block at a time, never making it into one string: how many characters,
        and which kinds of filler were among them (``terminator``: doubled ones)."""
        passed, seen = 0, set()
        names = _FILLER + ((terminator, "terminators"),) if terminator else _FILLER
        while True:
            limit = self._start + len(self._buffer)
            if end is not None:
                limit = min(limit, end)
            low, high = self.position - self._start, limit - self._start
            seen.update(name for char, name in names
                        if name not in seen and self._buffer.find(char, low, high) >= 0)
            passed += limit - self.position
            self.position = limit
            if (end is not None and limit >= end) or not self._read_more():
                break
        return passed, tuple(name for name in dict.fromkeys(n for _, n in names) if name in seen)

    def scan_rest(self, keep: int, pattern: re.Pattern) -> tuple[str, int, bool]:
        """The text from the current position to the end of the file, a block at a
        time: its first ``keep`` characters, its length, and whether ``pattern``
        (matches of at most 4 characters, with one of look-behind) occurs in it."""
        kept, length, found, tail = [], 0, False, ""
        while True:
            block = self._buffer[self.position - self._start:]
            if block:
                found = found or pattern.search(tail + block, 1 if tail else 0) is not None
                if length < keep:
                    kept.append(block[:keep - length])
                length += len(block)
                tail = (tail + block)[-5:]
                self.position += len(block)
            if not self._read_more():
                return "".join(kept), length, found


@dataclass(slots=True, frozen=True)
class Padding:
    """Filler left out after segment ``index`` (0: before the first segment), whose
    id is ``after``: how many characters, and what they were."""

    index: int
    after: str
    characters: int
    kinds: tuple[str, ...]

    def __str__(self) -> str:
        kinds = ", ".join(self.kinds) or "filler"
        return f"{self.characters} characters of padding ({kinds})"


class RawSegment:
    """One segment with the exact text it was read from."""

    __slots__ = ("index", "text", "trailer", "delimiters", "padding", "_fields")

    def __init__(self, index: int, text: str, trailer: str, delimiters: Delimiters,
                 padding: Padding | None = None) -> None:
        self.index = index  # 1-based position in the file
        self.text = text  # the segment as written, without its terminator
        self.trailer = trailer  # its terminator and the white space up to the next segment
        self.delimiters = delimiters
        self.padding = padding  # what followed the trailer and was left out, if anything
        self._fields: list[str] | None = None

    @property
    def fields(self) -> list[str]:
        """The elements; fields[0] is the segment id.  Split on first use only:
        most segments are copied through without ever being looked into."""
        if self._fields is None:
            self._fields = self.text.split(self.delimiters.element)
        return self._fields

    @property
    def tag(self) -> str:
        return self.text.partition(self.delimiters.element)[0]


class RawSegmentReader:
    """Iterate over a file's segments as :class:`RawSegment`.

    ``head`` (what comes before the first segment: a UTF-8 BOM, white space)
    and ``encoding`` are known once the first segment has been yielded; the
    trailer of the last segment runs to the end of the file.  Memory stays
    flat: the file is read in chunks, one segment of look-ahead.

    Padding is not kept: a trailer that would run more than
    :data:`PADDING_KEPT` characters past the terminator and its line break
    ends there, and the segment's ``padding`` says what was passed over; a
    head that long keeps only a UTF-8 BOM (``head_padding``).

    Text after the last complete interchange that is not X12 (a mail
    footer, a stray line: `check` reports it as an EDI002 warning) ends the
    segments: the last trailer stops where that text starts, and the text
    itself is in ``trailing`` (its first :data:`PADDING_KEPT` characters; all
    of them in ``trailing_length``, and ``trailing_claims`` whether an ISA or
    CLM segment is anywhere in it, :data:`CLAIM_SEGMENT`; its would-be segment
    number in ``trailing_index``) once the iteration is over.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.head = ""
        self.head_padding: Padding | None = None
        self.encoding = LATIN1
        self.trailing = ""
        self.trailing_length = 0
        self.trailing_claims = False
        self.trailing_index: int | None = None

    def __iter__(self) -> Iterator[RawSegment]:
        with open_input(self.path) as stream:
            source = SourceText(stream)
            self.encoding = source.encoding
            previous: tuple[int, Delimiters] | None = None
            stop = None  # where the text after the last interchange starts
            try:
                for batch in SegmentReader(self.path).batches():
                    delimiters, first = batch.delimiters, batch.first_index
                    for k in range(len(batch.texts)):
                        end = batch.offset(k)
                        if previous is None:
                            self.head = self._head(source, end)
                        elif end - source.position > PADDING_KEPT:
                            yield _long_segment(source, end, *previous)
                        else:
                            yield _raw_segment(source.take(end), *previous)
                        previous = (first + k, delimiters)
            except X12SyntaxError as exc:
                if not exc.after_interchange or previous is None or exc.offset is None:
                    raise
                stop, self.trailing_index = exc.offset, exc.segment_index
            if previous is not None:
                yield _long_segment(source, stop, *previous)
                if stop is not None:
                    self.trailing, self.trailing_length, self.trailing_claims = \
                        source.scan_rest(PADDING_KEPT, CLAIM_SEGMENT)

    def _head(self, source: SourceText, end: int) -> str:
        if end - source.position <= PADDING_KEPT:
            return source.take(end)
        source.reaches(len(UTF8_BOM))
        head = source.take(len(UTF8_BOM)) if source.startswith(UTF8_BOM, 0) else ""
        self.head_padding = Padding(0, "", *source.skip(end))
        return head


def _long_segment(source: SourceText, end: int | None, index: int,
                  delimiters: Delimiters) -> RawSegment:
    """The segment at the current position, whose text with its trailer runs to
    offset ``end`` (None: the end of the file) and may be long: a trailer of
    more than PADDING_KEPT characters past the terminator and its line break is
    cut there, and the rest passed over as the segment's padding."""
    start = source.position
    if end is None and not source.reaches(start + PADDING_KEPT + 1):
        return _raw_segment(source.take_rest(), index, delimiters)
    if end is not None and end - start <= PADDING_KEPT:
        return _raw_segment(source.take(end), index, delimiters)
    terminator = delimiters.segment
    cut = source.after(terminator, end)
    if cut is None or (end - cut <= PADDING_KEPT if end is not None
                       else not source.reaches(cut + PADDING_KEPT + 1)):
        # a long segment, not a long trailer (or no terminator: the reader bounds it)
        return _raw_segment(source.take_rest() if end is None else source.take(end),
                            index, delimiters)
    segment = _raw_segment(source.take(cut), index, delimiters)
    segment.padding = Padding(index, segment.tag, *source.skip(end, terminator))
    return segment


def _raw_segment(raw: str, index: int, delimiters: Delimiters) -> RawSegment:
    """Split a segment's raw text into the segment and its trailer.

    The text is cut from the file itself (not taken from the reader) so that
    characters the reader shows as '?' in UTF-16 input are written back as
    they were.
    """
    end = raw.find(delimiters.segment)
    if end < 0:  # the last segment of a file without a final terminator
        end = len(raw.rstrip(" \t\r\n\x0b\x0c")) if delimiters.segment.strip() else len(raw)
    return RawSegment(index, raw[:end], raw[end:], delimiters)
