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
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from .reader import Delimiters, SegmentReader, X12SyntaxError, sniff_encoding

# Text read ahead of the segment reader, and written out at a time.  A quarter of
# the reader's 1 MiB chunks: the reader's own chunk is in memory beside these
# (and `fix --split` has three files open at once), and larger blocks are no faster.
BLOCK_SIZE = 1 << 18


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
        self._position = 0  # offset of the next character to hand out
        self._exhausted = False

    def _read_more(self) -> bool:
        if self._exhausted:
            return False
        chunk = self._stream.read(BLOCK_SIZE)
        self._exhausted = not chunk
        # Drop what was handed out already so memory stays flat.
        used = self._position - self._start
        self._buffer = self._buffer[used:] + self._decoder.decode(chunk, final=not chunk)
        self._start = self._position
        return True

    def take(self, end: int) -> str:
        """The text from the current position up to offset ``end``."""
        while end - self._start > len(self._buffer) and self._read_more():
            pass
        text = self._buffer[self._position - self._start:end - self._start]
        self._position += len(text)
        return text

    def take_rest(self) -> str:
        while self._read_more():
            pass
        return self.take(self._start + len(self._buffer))


class RawSegment:
    """One segment with the exact text it was read from."""

    __slots__ = ("index", "text", "trailer", "delimiters", "_fields")

    def __init__(self, index: int, text: str, trailer: str, delimiters: Delimiters) -> None:
        self.index = index  # 1-based position in the file
        self.text = text  # the segment as written, without its terminator
        self.trailer = trailer  # its terminator and the white space up to the next segment
        self.delimiters = delimiters
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

    Text after the last complete interchange that is not X12 (a mail
    footer, a stray line: `check` reports it as an EDI002 warning) ends the
    segments: the last trailer stops where that text starts, and the text
    itself is in ``trailing`` (its would-be segment number in
    ``trailing_index``) once the iteration is over.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.head = ""
        self.encoding = LATIN1
        self.trailing = ""
        self.trailing_index: int | None = None

    def __iter__(self) -> Iterator[RawSegment]:
        with open(self.path, "rb") as stream:
            source = SourceText(stream)
            self.encoding = source.encoding
            previous: tuple[int, Delimiters] | None = None
            stop = None  # where the text after the last interchange starts
            try:
                for batch in SegmentReader(self.path).batches():
                    delimiters, first = batch.delimiters, batch.first_index
                    for k in range(len(batch.texts)):
                        raw = source.take(batch.offset(k))
                        if previous is None:
                            self.head = raw
                        else:
                            yield _raw_segment(raw, *previous)
                        previous = (first + k, delimiters)
            except X12SyntaxError as exc:
                if not exc.after_interchange or previous is None or exc.offset is None:
                    raise
                stop, self.trailing_index = exc.offset, exc.segment_index
            if previous is not None:
                if stop is None:
                    yield _raw_segment(source.take_rest(), *previous)
                else:
                    yield _raw_segment(source.take(stop), *previous)
                    self.trailing = source.take_rest()


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
