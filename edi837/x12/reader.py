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
import re
from dataclasses import dataclass
from itertools import accumulate, chain
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ..locations import open_input
from .blocks import _WHITESPACE, Block, EventWalks, block_cut, block_forms
from .text import display  # noqa: F401 - also imported from here, where it was first

CHUNK_SIZE = 1 << 20
ISA_LENGTH = 106
# No 837 segment comes near this (the longest elements are a few hundred
# characters); longer means the terminator is wrong.  Kept small so a file
# with no terminator at all is refused before it costs memory.
MAX_SEGMENT = 2 * CHUNK_SIZE
_PADDING = "\x00\x1a"  # NULs and a DOS end-of-file (Ctrl-Z) after an interchange


class X12SyntaxError(Exception):
    """The input cannot be read as X12 at a given position."""

    def __init__(self, message: str, *, segment_index: int | None = None,
                 offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.segment_index = segment_index
        self.offset = offset
        self.after_interchange = False  # raised on text after a complete interchange
        self.at_isa = False  # the text that could not be read starts with "ISA"
        self.x12_follows = False  # segments (an id and a separator) are in the text after

    @property
    def trailer_only(self) -> bool:
        """Every interchange was read whole and what follows holds no X12 (a mail
        footer, padding, a binary blob): ignoring it loses no claim."""
        return self.after_interchange and not self.at_isa and not self.x12_follows


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
        if pos + 2 >= len(text):
            raise X12SyntaxError("no component separator and segment terminator after ISA16")
        if pos + 3 < ISA_LENGTH:
            raise X12SyntaxError(
                f"ISA segment is {pos + 3} characters long, shorter than {ISA_LENGTH}")
        component = text[pos + 1]
        terminator = text[pos + 2]
        fields = text[:pos].split(element)
        if terminator.isalnum() or terminator == element:
            raise X12SyntaxError(f"ISA segment terminator {terminator!r} is not a delimiter")
        if component.isalnum() or component in (element, terminator) \
                or component in _WHITESPACE:
            raise X12SyntaxError(f"ISA16 component separator {component!r} is not a delimiter "
                                 "distinct from the element separator and segment terminator")
        if fields[11] == terminator:
            # Splitting on the terminator would cut the ISA itself at element 11.
            raise X12SyntaxError(f"ISA11 repetition separator {terminator!r} is the segment "
                                 "terminator: the ISA cannot be read")
        repetition = fields[11] if len(fields[11]) == 1 and not fields[11].isalnum() else "^"
        return cls(element, repetition, component, terminator)

    def separator_after(self, text: str, terminator_at: int) -> str:
        """The segment separator as written where ``text`` has a terminator at
        ``terminator_at``: the terminator and the line break after it (CR LF or LF,
        never one holding the terminator), or the terminator alone."""
        terminator = self.segment
        return next((terminator + brk for brk in ("\r\n", "\n")
                     if terminator not in brk and text.startswith(brk, terminator_at + 1)),
                    terminator)

    @property
    def composites_ambiguous(self) -> bool:
        """ISA16 equal to ISA11: a composite cannot be told from a repetition."""
        return self.component == self.repetition


@dataclass(slots=True)
class Source:
    """What was done to the input so it could be read (EDI006)."""

    path: str
    size: int = 0
    bom: bool = False
    utf16: bool = False
    # A line break (LF or CR LF) after a terminator is how most senders write
    # X12: read past, not reported.  Anything else between segments is.
    line_breaks: bool = False
    whitespace_between_segments: bool = False  # spaces, tabs, lone CRs, blank lines
    padding: bool = False  # NULs or Ctrl-Z between or after interchanges

    def normalisations(self) -> list[str]:
        """What was unusual about the input (EDI006), not the ordinary line breaks."""
        notes = []
        if self.bom:
            notes.append("UTF-8 byte-order mark")
        if self.utf16:
            notes.append("UTF-16 encoding")
        if self.whitespace_between_segments:
            notes.append("spaces, tabs, lone CRs or blank lines between segments")
        if self.padding:
            notes.append("NUL or Ctrl-Z padding between or after interchanges")
        return notes

    def note_filler(self, start: str, padding: bool, at_end: bool) -> None:
        """Classify what was passed over between interchanges, from its first
        three characters (``start``) and whether it held NULs or Ctrl-Z."""
        if padding:
            self.padding = True
        if at_end:
            return  # trailing line breaks and blanks after the last IEA are ordinary
        if start not in ("\n", "\r\n"):
            self.whitespace_between_segments = True
        else:
            self.line_breaks = True


def sniff_encoding(head: bytes) -> tuple[str, bytes]:
    """(codec, byte-order mark) of a file from its first bytes.

    ASCII and UTF-8 are read as latin-1 (byte for byte); UTF-16 is recognised
    by its BOM or, without one, by the NUL bytes of "ISA" in UTF-16.
    """
    if head[:3] == codecs.BOM_UTF8:
        return "latin-1", codecs.BOM_UTF8
    if head[:2] == codecs.BOM_UTF16_LE:
        return "utf-16-le", codecs.BOM_UTF16_LE
    if head[:2] == codecs.BOM_UTF16_BE:
        return "utf-16-be", codecs.BOM_UTF16_BE
    if head[1:2] == b"\x00":
        return "utf-16-le", b""
    if head[:1] == b"\x00":
        return "utf-16-be", b""
    return "latin-1", b""


def _segments_in(buf: str, chunks: Iterator[str], element: str) -> bool:
    """Whether the rest of the input holds what reads as a segment (an id of two or
    three capitals and digits, then the element separator): a stray line between
    two interchanges or a claim after the IEA, which must not be passed over.
    Reads the rest a chunk at a time."""
    segment = re.compile("[A-Z][A-Z0-9]{1,2}" + re.escape(element))
    tail = ""
    for text in chain((buf,), chunks):
        if segment.search(tail + text):
            return True
        tail = text[-3:]
    return False


def _open_text_chunks(stream: BinaryIO, source: Source) -> Iterator[str]:
    """Yield latin-1 text chunks, with a BOM removed and UTF-16 transcoded."""
    head = stream.read(4)
    codec, bom = sniff_encoding(head)
    head = head[len(bom):]
    source.bom = bom == codecs.BOM_UTF8
    if codec != "latin-1":
        source.utf16 = True
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
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


class Batch:
    """The complete segments of one buffered chunk, all in one interchange.

    ``texts`` are the segments without their terminator and without white
    space before them; segment ``k`` has file index ``first_index + k``.
    Offsets are computed only when asked for (most segments never are).
    """

    __slots__ = ("delimiters", "texts", "first_index", "hl_checked", "_base", "_raw", "_keep",
                 "_lengths", "_gap")

    def __init__(self, delimiters: Delimiters, texts: list[str], first_index: int, base: int,
                 raw: list[str], keep: list[int] | None, gap: int, *,
                 hl_checked: bool = False) -> None:
        self.delimiters = delimiters
        self.texts = texts
        self.first_index = first_index
        # the fast path checked these segments' HLs in bulk (edi837.reader.fast): the claim
        # reader takes their levels as they are
        self.hl_checked = hl_checked
        self._base = base
        self._raw = raw  # the pieces between separators
        self._keep = keep
        self._gap = gap  # separator length: the terminator, with its line break if split on it
        self._lengths: list[int] | None = None

    def offset(self, k: int) -> int:
        """Offset in the file of the first character of segment ``k``."""
        if self._lengths is None:  # summed lengths of the raw pieces before each
            self._lengths = list(accumulate(map(len, self._raw), initial=0))
        j = k if self._keep is None else self._keep[k]
        return (self._base + self._lengths[j] + j * self._gap
                + len(self._raw[j]) - len(self.texts[k]))


class SegmentReader:
    """Iterate over the segments of one file.

    Each item is ``(fields, index, offset)``: the segment split into elements
    (``fields[0]`` is the segment id), its 1-based index in the file, and the
    offset of its first character (a byte offset, except in UTF-16 input,
    where it is an offset into the decoded text).  ``delimiters`` always holds
    those of the current interchange.  ``batches()`` gives the same segments a
    chunk at a time, unsplit, for readers that only look at some of them.
    """

    def __init__(self, path: str | Path, stream: BinaryIO | None = None) -> None:
        self.path = str(path)
        self._stream = stream
        self.source = Source(self.path)
        self.delimiters: Delimiters | None = None
        self.segment_count = 0
        # offset past the last complete segment (and its break, if split on one)
        self.bytes_read = 0
        # blocks(): give clean chunks as blocks (a reader that finds blocks of no use,
        # as in a file of drug claims only, turns this off for a while)
        self.blocks_wanted = True
        self.block_events: Callable[[Delimiters], EventWalks] | None = None  # Block.events

    def __iter__(self) -> Iterator[tuple[list[str], int, int]]:
        for batch in self.batches():
            element = batch.delimiters.element
            first = batch.first_index
            for k, text in enumerate(batch.texts):
                yield text.split(element), first + k, batch.offset(k)

    def batches(self) -> Iterator[Batch]:
        return self._chunks(False)

    def blocks(self) -> Iterator[Batch | Block]:
        """The same segments, but a chunk with nothing between its segments comes
        unsplit, as a Block (the fast path searches it); others as Batches."""
        return self._chunks(True)

    def _chunks(self, blocks: bool) -> Iterator[Batch | Block]:
        if self._stream is not None:
            return self._batches(self._stream, blocks)
        return self._batches_of_path(blocks)

    def _batches_of_path(self, blocks: bool) -> Iterator[Batch | Block]:
        with open_input(self.path) as stream:
            yield from self._batches(stream, blocks)

    def _batches(self, stream: BinaryIO, blocks: bool = False) -> Iterator[Batch | Block]:
        source = self.source
        chunks = _open_text_chunks(stream, source)
        buf = next(chunks, "")  # reading the head sets source.bom
        base = 3 if source.bom else 0  # file offset of buf[0]
        index = 0  # segments so far
        delims: Delimiters | None = None
        exhausted = False
        blank_run = False  # blank lines longer than a chunk were passed over
        filler = _WHITESPACE + _PADDING
        while True:
            if delims is None:
                # Between interchanges: find the next ISA and its delimiters.
                # Padding after an IEA (NULs, a DOS end-of-file Ctrl-Z, a
                # doubled terminator) is passed over like white space, and
                # dropped as it is read: padding of any length costs one chunk.
                dropped, sample, padding = 0, "", False
                while True:
                    stripped = buf.lstrip(filler)
                    gap = len(buf) - len(stripped)
                    if gap:
                        if len(sample) < 3:
                            sample += buf[:min(gap, 3 - len(sample))]
                        padding = padding or bool(buf[:gap].strip(_WHITESPACE))
                        dropped += gap
                        base += gap
                        buf = stripped
                    if len(buf) >= ISA_LENGTH + 2 or exhausted:
                        break
                    chunk = next(chunks, None)
                    if chunk is None:
                        exhausted = True
                    else:
                        buf += chunk
                if dropped and index:
                    source.note_filler(sample, padding, at_end=not buf)
                if not buf:
                    break
                try:
                    delims = Delimiters.from_isa(buf)
                except X12SyntaxError as exc:
                    exc.segment_index = index + 1
                    exc.offset = base
                    exc.after_interchange = index > 0
                    exc.at_isa = buf.startswith("ISA")
                    if exc.after_interchange and self.delimiters is not None:
                        exc.x12_follows = _segments_in(buf, chunks, self.delimiters.element)
                        if exc.x12_follows:
                            exc.message += ("; X12 segments follow it and were not read "
                                            "(a claim after the IEA, or a second interchange "
                                            "behind stray text)")
                            exc.args = (exc.message,)
                    raise
                self.delimiters = delims
                terminator = delims.segment
                iea = "IEA" + delims.element
                spaced = tuple(terminator + w for w in _WHITESPACE if w != terminator)
                # (terminator + line break, a terminator not followed by just that)
                breaks = [(terminator + b, re.compile(
                    re.escape(terminator) + f"(?!{b}[^{re.escape(_WHITESPACE)}])"))
                    for b in ("\r\n", "\n") if terminator not in b]
                filler = _WHITESPACE + _PADDING + terminator
                # after a terminator: more than one ordinary line break (LF or CR LF)
                unusual = re.compile(f"(?:^|{re.escape(terminator)})(?:\\r?\\n)?+"
                                     f"[{re.escape(_WHITESPACE)}]")
                forms = block_forms(delims, self.block_events)
            # Split what is buffered; the last piece may be incomplete.  When every
            # terminator is followed by the same line break and nothing else
            # (the usual "~\n" or "~\r\n"), split on both at once: no piece then
            # needs white space stripped.
            text = buf
            cut = block_cut(text, exhausted, terminator, forms, iea, events := []) \
                if blocks and self.blocks_wanted else None
            if cut is not None:
                # Nothing between the segments: the chunk goes over unsplit.
                separator, end, rest = cut
                if separator != terminator:
                    source.line_breaks = True
                if blank_run:
                    source.whitespace_between_segments = True
                    blank_run = False
                block = Block(delims, text, end, separator, index + 1, base, forms[0][3] and events)
                yield block
                # one terminator per separator, and none in a segment
                index += block.count if block.count is not None \
                    else text.count(terminator, 0, end)
                self.segment_count = index
                base += end
                self.bytes_read = base
                if rest is not None:
                    buf = rest
                    delims = None
                    continue
                buf = "" if exhausted else text[end:]
                last = text.rfind(separator, 0, end - len(separator)) + len(separator)
                ends_interchange = text.startswith(iea, last if last >= len(separator) else 0)
            else:
                separator = terminator
                hold = 0  # characters at the end of text left for the next round
                at = text.find(terminator)
                for brk, odd in breaks:
                    if text.startswith(brk, at):
                        # the previous chunk may have stopped inside this break
                        tail = brk[1:] if text.startswith(brk[1:]) else ""
                        stop = len(text)
                        last = text.rfind(terminator)
                        if exhausted:
                            if text.endswith(brk):  # the file's last break: nothing follows
                                stop -= len(brk)
                        elif brk.startswith(text[last:]):
                            # the chunk ends in or just after the last terminator's break:
                            # what follows it is not known yet, so that segment waits for
                            # the next round (judged there with what follows)
                            stop = last
                            hold = len(text) - last if text.endswith(brk) else 0
                        if text[len(tail):len(tail) + 1] not in _WHITESPACE and \
                                odd.search(text, 0, stop) is None:
                            if tail:
                                text = text[len(tail):]
                                base += len(tail)
                            separator = brk
                            source.line_breaks = True
                        else:
                            hold = 0
                        break
                limit = len(text) - hold
                raw = text[:limit].split(separator)
                if exhausted:
                    if not raw[-1].strip(_WHITESPACE):
                        raw.pop()
                    buf = ""
                else:
                    buf = raw.pop() + text[limit:]
                # A new interchange may use other delimiters: stop after an IEA
                # that is followed by more, and re-read them from its ISA.
                rest = None
                if iea in text:
                    for n, piece in enumerate(raw):
                        if piece.lstrip(_WHITESPACE).startswith(iea) and n + 1 < len(raw):
                            rest = raw[n + 1:]
                            del raw[n + 1:]
                            break
                # Strip white space between segments only where there is some.
                first = raw[0][:1] if raw else ""
                if separator != terminator:
                    texts = raw
                elif (first and first in _WHITESPACE) or any(s in text for s in spaced):
                    texts = [p.lstrip(_WHITESPACE) for p in raw]
                    # up to the last segment: white space at the end of the buffer is
                    # judged with what follows it (nothing, at the end of the file)
                    if unusual.search(text, 0, len(text.rstrip(_WHITESPACE))):
                        source.whitespace_between_segments = True
                    else:
                        source.line_breaks = True
                else:
                    texts = raw
                keep = None
                if "" in texts:
                    source.padding = True  # an empty segment: a doubled terminator
                    keep = [j for j, t in enumerate(texts) if t]
                    texts = [texts[j] for j in keep]
                if texts:
                    if blank_run:
                        source.whitespace_between_segments = True
                        blank_run = False
                    yield Batch(delims, texts, index + 1, base, raw, keep, len(separator))
                index += len(texts)
                self.segment_count = index
                base += sum(map(len, raw)) + len(raw) * len(separator)
                self.bytes_read = base
                if rest is not None:
                    buf = separator.join(rest) + ("" if exhausted else separator + buf)
                    delims = None
                    continue
                ends_interchange = bool(raw) and raw[-1].lstrip(_WHITESPACE).startswith(iea)
            if exhausted:
                break
            if len(buf) > CHUNK_SIZE and not buf.strip(_WHITESPACE):
                # a run of blank lines: read past, not buffered; unusual only if
                # a segment follows it (not at the end of the file)
                base += len(buf)
                buf = ""
                blank_run = True
            if len(buf) > MAX_SEGMENT:
                raise X12SyntaxError(
                    f"no segment terminator {terminator!r} in {len(buf)} characters",
                    segment_index=index + 1, offset=base)
            if ends_interchange:
                delims = None  # the next interchange may use other delimiters
            chunk = next(chunks, None)
            if chunk is None:
                exhausted = True
            else:
                buf += chunk


def read_segments(data: bytes, path: str = "<bytes>") -> list[tuple[list[str], int, int]]:
    """Read all segments of an in-memory file (for tests and small inputs)."""
    return list(SegmentReader(path, io.BytesIO(data)))
