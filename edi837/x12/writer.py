"""Byte-preserving X12 rewriting.

A corrected file must differ from its input only where a fix changed it: a
receiver, an auditor or `cmp` should see every other byte exactly as sent
(delimiters, terminators, CR/LF, spaces between segments, a byte-order mark).
So the input is never re-serialised as a whole.  :class:`RawSegmentReader`
pairs each segment the :class:`~edi837.x12.reader.SegmentReader` finds with the
exact text it came from, split into the segment itself and its *trailer* (the
terminator and whatever white space follows, up to the next segment).
:func:`rewrite` copies that text through unchanged, except for the segments a
transform replaces, which it serialises with the file's own delimiters.

The text is the file decoded as latin-1 (one character per byte, so offsets
are byte offsets and re-encoding gives back the same bytes; a UTF-8 BOM is
simply its three characters), or, for UTF-16 input, the decoded text, written
back as UTF-16 of the same byte order with the same BOM (:mod:`.raw`).

A transform may also delete a segment or insert segments after it; SE01, GE01
and IEA01 are then recomputed for the envelopes whose counts changed, and left
exactly as they were otherwise.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from .edit import Edit

# the file as text: also imported from here, where they were first
from .raw import (  # noqa: F401
    BLOCK_SIZE,
    LATIN1,
    Padding,
    RawSegment,
    RawSegmentReader,
    SourceText,
    TextEncoding,
    detect_encoding,
)
from .reader import Delimiters


class EditMismatch(Exception):
    """An edit does not fit the segment it is aimed at."""


# -- elements and components -----------------------------------------------------------

def current_value(fields: list[str], position: int, component: int | None,
                  separator: str) -> str:
    """The value at an element (or component) position, "" when absent."""
    if position >= len(fields):
        return ""
    element = fields[position]
    if component is None:
        return element
    parts = element.split(separator)
    return parts[component - 1] if component <= len(parts) else ""


def apply_edit(fields: list[str], edit: Edit, separator: str) -> list[str]:
    """A copy of ``fields`` with the edit applied.

    The element list (or the composite) is extended with empty values when
    the edit addresses a position beyond its current end, as adding a JZ to
    ``HC:J2350`` or a pointer to a missing SV107 needs.  Raises EditMismatch
    when the segment is not the one the edit names.
    """
    if fields[0] != edit.segment_id:
        raise EditMismatch(f"segment {edit.segment_index} is {fields[0]}, "
                           f"not {edit.segment_id}")
    if edit.position < 1 or (edit.component is not None and edit.component < 1):
        raise EditMismatch(f"{edit.reference}: positions start at 1")
    fields = list(fields)
    if edit.position >= len(fields):
        if not edit.after:
            return fields  # clearing a value that is not there
        fields.extend([""] * (edit.position + 1 - len(fields)))
    if edit.component is None:
        fields[edit.position] = edit.after
        return fields
    parts = fields[edit.position].split(separator)
    if edit.component > len(parts):
        if not edit.after:
            return fields
        parts.extend([""] * (edit.component - len(parts)))
    parts[edit.component - 1] = edit.after
    fields[edit.position] = separator.join(parts)
    return fields


def serialise(fields: list[str], delimiters: Delimiters) -> str:
    """One segment's text, without its terminator."""
    return delimiters.element.join(fields)


class ByteOutput(Protocol):
    """Where the bytes go: a binary file, or anything that writes bytes as one does
    (fix's SingleByteHandle)."""

    def write(self, data: bytes, /) -> int: ...


class TextSink:
    """Write text to a binary file in a given encoding (None: write nothing).

    Text is gathered and encoded a chunk at a time: a write per segment
    would cost more than reading the file.
    """

    def __init__(self, handle: ByteOutput | None, encoding: TextEncoding) -> None:
        self._handle = handle
        self._encoder = codecs.getincrementalencoder(encoding.codec)()
        self._pending: list[str] = []
        self._size = 0
        if handle is not None and encoding.bom:
            handle.write(encoding.bom)

    def write(self, text: str) -> None:
        if self._handle is None:
            return
        self._pending.append(text)
        self._size += len(text)
        if self._size >= BLOCK_SIZE:
            self._flush()

    def _flush(self, final: bool = False) -> None:
        if self._handle is None:
            return
        self._handle.write(self._encoder.encode("".join(self._pending), final=final))
        self._pending.clear()
        self._size = 0

    def close(self) -> None:
        if self._handle is not None:
            self._flush(final=True)


# -- rewriting -----------------------------------------------------------------

# A transform gets each segment and returns None to keep it as it is, or the
# field lists to write instead: [] deletes it, [fields] replaces it, more
# insert segments after it.
Transform = Callable[[RawSegment], "list[list[str]] | None"]
# An observer sees each segment with the texts written instead (None: unchanged).
Observer = Callable[[RawSegment, "list[str] | None"], None]
# Told of each run of padding left out (RawSegmentReader: past PADDING_KEPT characters).
PaddingObserver = Callable[[Padding], None]


@dataclass(slots=True)
class RewriteSummary:
    segments: int = 0  # segments read
    changed: list[int] = field(default_factory=list)  # indexes of segments written differently
    recounted: list[int] = field(default_factory=list)  # trailers whose count was recomputed
    dropped: str = ""  # text after the last interchange, left out (RawSegmentReader.trailing:
    dropped_length: int = 0  # its first PADDING_KEPT characters; all of them: this many)
    dropped_claims: bool = False  # an ISA or CLM segment is in it (RawSegmentReader)
    dropped_index: int | None = None  # the segment number it would have had
    padding: int = 0  # characters of padding left out between segments (Padding)


class _EnvelopeCounts:
    """How many segments, sets and groups were inserted or deleted per envelope.

    Only those differences are tracked (an unchanged segment costs nothing);
    a trailer count is recomputed only where one is not zero, so a file whose
    segment counts did not change keeps its SE01/GE01/IEA01 exactly.
    """

    def __init__(self) -> None:
        self.st_index = 0
        self.segments_added = self.sets_added = self.groups_added = 0
        self.sets_read = self.groups_read = 0

    def open(self, tag: str, segment: RawSegment) -> None:
        """Before an envelope header is written: start counting what it opens."""
        if tag == "ST":
            self.st_index, self.segments_added = segment.index, 0
            self.sets_read += 1
        elif tag == "GS":
            self.sets_added = self.sets_read = 0
            self.groups_read += 1
        elif tag == "ISA":
            self.groups_added = self.groups_read = 0

    def added(self, tag: str, replacement: list[list[str]]) -> None:
        added = len(replacement) - 1
        self.segments_added += added
        if tag == "ST":
            self.sets_added += added
        elif tag == "GS":
            self.groups_added += added

    def close(self, tag: str, segment: RawSegment,
              replacement: list[list[str]] | None) -> list[list[str]] | None:
        """A trailer's replacement with its count recomputed, when that changed."""
        if tag == "SE" and self.segments_added:
            return _set_count(segment, replacement,
                              segment.index - self.st_index + 1 + self.segments_added)
        if tag == "GE" and self.sets_added:
            return _set_count(segment, replacement, self.sets_read + self.sets_added)
        if tag == "IEA" and self.groups_added:
            return _set_count(segment, replacement, self.groups_read + self.groups_added)
        return replacement


ENVELOPE_HEADERS = frozenset(["ISA", "GS", "ST"])
ENVELOPE_TRAILERS = frozenset(["SE", "GE", "IEA"])


def _set_count(segment: RawSegment, replacement: list[list[str]] | None,
               count: int) -> list[list[str]] | None:
    """Trailer element 01 counts what it closes."""
    if replacement == []:
        return replacement  # the trailer itself is deleted
    trailers = replacement if replacement is not None else [list(segment.fields)]
    recounted = []
    for fields in trailers:
        fields = list(fields) + [""] * (2 - len(fields))
        fields[1] = str(count)
        recounted.append(fields)
    return recounted


def rewrite(path: str | Path, handle: ByteOutput | None, transform: Transform,
            observer: Observer | None = None,
            padding: PaddingObserver | None = None) -> RewriteSummary:
    """Copy ``path`` to ``handle`` (None: write nothing), replacing what ``transform`` says.

    Every segment the transform keeps is written byte for byte with its
    trailer; a replaced segment is serialised with the delimiters of its
    interchange and keeps its original trailer (inserted segments get the
    same trailer).  Text after the last interchange that is not X12 is left
    out and returned in the summary (``dropped``).  So is padding longer
    than PADDING_KEPT characters between segments, or before the first:
    each run is passed to ``padding``, after the segment it follows.
    """
    reader = RawSegmentReader(path)
    counts = _EnvelopeCounts()
    summary = RewriteSummary()
    sink: TextSink | None = None
    for segment in reader:
        if sink is None:
            sink = TextSink(handle, reader.encoding)
            sink.write(reader.head)
            if reader.head_padding is not None:
                _left_out(reader.head_padding, summary, padding)
        summary.segments += 1
        tag = segment.tag
        if tag in ENVELOPE_HEADERS:
            counts.open(tag, segment)
        replacement = transform(segment)
        if replacement is not None and len(replacement) != 1:
            counts.added(tag, replacement)
        if tag in ENVELOPE_TRAILERS:
            recounted = counts.close(tag, segment, replacement)
            if recounted is not replacement:
                summary.recounted.append(segment.index)
                replacement = recounted
        texts = None
        if replacement is not None:
            texts = [serialise(fields, segment.delimiters) for fields in replacement]
            if texts == [segment.text]:
                texts = None  # an edit that writes the value already there
        if texts is None:
            sink.write(segment.text)
            sink.write(segment.trailer)
        else:
            summary.changed.append(segment.index)
            for text in texts:
                sink.write(text + segment.trailer)
        if observer is not None:
            observer(segment, texts)
        if segment.padding is not None:
            _left_out(segment.padding, summary, padding)
    if sink is not None:
        sink.close()
    # What follows the last interchange is not X12: a corrected file is meant
    # to be forwarded, and a receiver may reject the whole file for it.
    summary.dropped, summary.dropped_index = reader.trailing, reader.trailing_index
    summary.dropped_length, summary.dropped_claims = reader.trailing_length, \
        reader.trailing_claims
    return summary


def _left_out(run: Padding, summary: RewriteSummary, observer: PaddingObserver | None) -> None:
    summary.padding += run.characters
    if observer is not None:
        observer(run)
