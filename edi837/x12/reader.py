"""Streaming X12 segment reader.

Reads a file in 1 MiB chunks and yields its segments one at a time, so memory
does not grow with file size.  Delimiters come from each ISA (element separator
= 4th character, repetition = ISA11, component = ISA16, segment terminator =
the character after ISA16), so files with several interchanges using different
delimiters read correctly.

The text is decoded as latin-1, which maps every byte to one character: string
offsets are byte offsets into the file, and re-encoding gives back the exact
bytes (the fixer relies on this).  UTF-8 byte-order marks and UTF-16 input are
normalised and reported, as are line breaks and spaces between segments.
"""
from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK_SIZE = 1 << 20
ISA_LENGTH = 106
MAX_SEGMENT = 16 * CHUNK_SIZE  # longer means the terminator is wrong
_WHITESPACE = " \t\r\n\x0b\x0c"


class X12SyntaxError(Exception):
    """The input cannot be read as X12 at a given position."""

    def __init__(self, message: str, *, segment_index: int | None = None,
                 offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.segment_index = segment_index
        self.offset = offset


@dataclass(slots=True, frozen=True)
class Delimiters:
    element: str
    repetition: str
    component: str
    segment: str

    @classmethod
    def from_isa(cls, text: str) -> "Delimiters":
        """Read the delimiters from the start of an ISA segment.

        ``text`` starts at the "I" of ISA.  Raises X12SyntaxError when it is
        not an ISA or is shorter than the fixed 106 characters.
        """
        if not text.startswith("ISA") or len(text) < 4:
            raise X12SyntaxError("no ISA segment at the start of the interchange")
        element = text[3]
        if element.isalnum() or element in _WHITESPACE:
            raise X12SyntaxError(f"ISA element separator {element!r} is not a delimiter")
        # Tolerant of senders who pad ISA fields wrongly: find the 16th element
        # separator rather than trusting fixed column 103.
        pos = 0
        for _ in range(16):
            pos = text.find(element, pos + 1)
            if pos < 0:
                raise X12SyntaxError("ISA segment has fewer than 16 elements")
        if pos + 2 >= len(text) or pos + 3 < ISA_LENGTH:
            raise X12SyntaxError(
                f"ISA segment is {pos + 3} characters long, shorter than {ISA_LENGTH}")
        component = text[pos + 1]
        terminator = text[pos + 2]
        fields = text[:pos].split(element)
        repetition = fields[11] if len(fields[11]) == 1 and not fields[11].isalnum() else "^"
        if terminator.isalnum() or terminator == element:
            raise X12SyntaxError(f"ISA segment terminator {terminator!r} is not a delimiter")
        return cls(element, repetition, component, terminator)


@dataclass(slots=True)
class Source:
    """What was done to the input so it could be read (EDI006)."""

    path: str
    size: int = 0
    bom: bool = False
    utf16: bool = False
    whitespace_between_segments: bool = False

    def normalisations(self) -> list[str]:
        notes = []
        if self.bom:
            notes.append("UTF-8 byte-order mark")
        if self.utf16:
            notes.append("UTF-16 encoding")
        if self.whitespace_between_segments:
            notes.append("line breaks or spaces between segments")
        return notes


def _open_text_chunks(stream: BinaryIO, source: Source) -> Iterator[str]:
    """Yield latin-1 text chunks, with a BOM removed and UTF-16 transcoded."""
    head = stream.read(4)
    if head[:3] == codecs.BOM_UTF8:
        source.bom = True
        head = head[3:]
    elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or head[1:2] == b"\x00" \
            or head[:1] == b"\x00":
        source.utf16 = True
        if head[:2] == codecs.BOM_UTF16_LE or head[1:2] == b"\x00":
            encoding = "utf-16-le"
        else:
            encoding = "utf-16-be"
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            head = head[2:]
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        chunk = head
        while True:
            text = decoder.decode(chunk, final=not chunk)
            if text:
                # Characters outside latin-1 cannot occur in valid X12 (basic
                # and extended character sets); keep them visible as '?'.
                yield text.encode("latin-1", "replace").decode("latin-1")
            if not chunk:
                return
            chunk = stream.read(CHUNK_SIZE)
    yield head.decode("latin-1")
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk.decode("latin-1")


class SegmentReader:
    """Iterate over the segments of one file.

    Each item is ``(fields, index, offset)``: the segment split into elements
    (``fields[0]`` is the segment id), its 1-based index in the file, and the
    offset of its first character (a byte offset, except in UTF-16 input,
    where it is an offset into the decoded text).  ``delimiters`` always holds
    those of the current interchange.
    """

    def __init__(self, path: str | Path, stream: BinaryIO | None = None) -> None:
        self.path = str(path)
        self._stream = stream
        self.source = Source(self.path)
        self.delimiters: Delimiters | None = None
        self.segment_count = 0
        self.bytes_read = 0

    def __iter__(self) -> Iterator[tuple[list[str], int, int]]:
        if self._stream is not None:
            yield from self._segments(self._stream)
            return
        with open(self.path, "rb") as stream:
            yield from self._segments(stream)

    def _segments(self, stream: BinaryIO) -> Iterator[tuple[list[str], int, int]]:
        source = self.source
        chunks = _open_text_chunks(stream, source)
        buf = next(chunks, "")  # reading the head sets source.bom
        base = 3 if source.bom else 0  # file offset of buf[0]
        index = 0
        delims: Delimiters | None = None
        exhausted = False
        whitespace_seen = False
        while True:
            if delims is None:
                # Between interchanges: find the next ISA and its delimiters.
                stripped = buf.lstrip(_WHITESPACE)
                while len(stripped) < ISA_LENGTH + 2 and not exhausted:
                    chunk = next(chunks, None)
                    if chunk is None:
                        exhausted = True
                    else:
                        buf += chunk
                        stripped = buf.lstrip(_WHITESPACE)
                if not stripped:
                    break
                if len(stripped) != len(buf):
                    whitespace_seen = whitespace_seen or index > 0
                    base += len(buf) - len(stripped)
                    buf = stripped
                try:
                    delims = Delimiters.from_isa(buf)
                except X12SyntaxError as exc:
                    exc.segment_index = index + 1
                    exc.offset = base
                    raise
                self.delimiters = delims
                element, terminator = delims.element, delims.segment
            # Split what is buffered; the last piece may be incomplete.
            pieces = buf.split(terminator)
            if exhausted:
                tail = pieces.pop()
                if tail.strip(_WHITESPACE):
                    pieces.append(tail)
                buf = ""
            else:
                buf = pieces.pop()
            offset = base
            consumed = 0
            restart = False
            for n, piece in enumerate(pieces):
                length = len(piece) + 1
                if piece[:1] in _WHITESPACE:
                    text = piece.lstrip(_WHITESPACE)
                    if not text:
                        offset += length
                        consumed += length
                        continue
                    whitespace_seen = True
                    seg_offset = offset + len(piece) - len(text)
                else:
                    text = piece
                    seg_offset = offset
                offset += length
                consumed += length
                index += 1
                fields = text.split(element)
                yield fields, index, seg_offset
                if fields[0] == "IEA" and n + 1 < len(pieces):
                    # The next interchange may use other delimiters: re-read
                    # them from its ISA before splitting any further.
                    restart = True
                    break
            if restart:
                rest = terminator.join(pieces[n + 1:])
                buf = rest if exhausted else rest + terminator + buf
                base += consumed
                delims = None
                continue
            base = offset
            if exhausted:
                break
            if len(buf) > MAX_SEGMENT:
                raise X12SyntaxError(
                    f"no segment terminator {terminator!r} in {len(buf)} characters",
                    segment_index=index + 1, offset=base)
            if pieces and pieces[-1].lstrip(_WHITESPACE).startswith("IEA"):
                delims = None  # the next interchange may use other delimiters
            chunk = next(chunks, None)
            if chunk is None:
                exhausted = True
            else:
                buf += chunk
        self.segment_count = index
        source.whitespace_between_segments = whitespace_seen
        self.bytes_read = base


def read_segments(data: bytes, path: str = "<bytes>") -> list[tuple[list[str], int, int]]:
    """Read all segments of an in-memory file (for tests and small inputs)."""
    return list(SegmentReader(path, io.BytesIO(data)))


def display(value: str) -> str:
    """Text for people: latin-1-read UTF-8 bytes back to the characters meant."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
