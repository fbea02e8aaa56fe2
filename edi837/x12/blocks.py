"""Chunks that need no splitting: the segment reader's blocks (`SegmentReader.blocks`).

Most files put nothing between segments but the terminator and one line
break.  Such a chunk can go to a reader unsplit, as a Block, for the reader
to search (edi837.reader.fast) and split only what it needs.  ``block_cut`` decides,
with one search per chunk, whether a chunk may go over as a block and where
it ends; anything unusual (white space, empty segments, text after an IEA
that the ordinary way would judge differently) sends it the ordinary way.
"""
from __future__ import annotations

import re
import string
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .reader import Batch, Delimiters

# White space the segment reader passes over between segments (and notes, EDI006).
_WHITESPACE = " \t\r\n\x0b\x0c"


class Block:
    """The complete segments of one buffered chunk, unsplit (``SegmentReader.blocks``).

    ``text[:end]`` holds segments ``first_index`` onwards, each followed by
    ``separator`` (the terminator, with its line break when every terminator
    has the same one) and by nothing else: no white space, no empty segment,
    no interchange after an IEA.  A block is given only where the chunk's
    batch would have ``texts`` equal to ``text[:end].split(separator)`` (less
    the empty piece after the last separator), so a reader may search the
    text and split only what it needs (edi837.reader.fast); ``batch()`` is the same
    segments as a Batch.
    """

    __slots__ = ("delimiters", "text", "end", "separator", "first_index", "base", "count",
                 "events")

    def __init__(self, delimiters: Delimiters, text: str, end: int, separator: str,
                 first_index: int, base: int, events: list[int] | None = None) -> None:
        self.delimiters = delimiters
        self.text = text
        self.end = end
        self.separator = separator
        self.first_index = first_index
        self.base = base  # file offset of text[0]
        self.count: int | None = None  # segments; a reader that counted them may say
        # where the segments a reader asked for (``EventWalks``) start, in order; None
        # when it asked for none.  Some may lie past ``end`` (the reader ignores them).
        self.events = events

    def batch(self) -> Batch:
        from .reader import Batch

        texts = self.text[:self.end - len(self.separator)].split(self.separator)
        return Batch(self.delimiters, texts, self.first_index, self.base, texts, None,
                     len(self.separator))


def _segment_start(element: str, terminator: str) -> str:
    """A segment id (edi837.reader.loops.X12_ID: a capital letter, one or two capitals or
    digits) and what may follow it, or the start of one where the text ends (the
    rest comes later)."""
    e, t = re.escape(element), re.escape(terminator)
    return f"[A-Z](?:[A-Z0-9](?:[A-Z0-9](?:{e}|{t}|\\Z)|{e}|{t}|\\Z)|\\Z)"


def block_forms(delims: Delimiters, events: Callable[[Delimiters], EventWalks] | None = None
                ) -> list[tuple[str, re.Pattern, re.Pattern, tuple | None]]:
    """For each separator a block may have (terminator with CR LF, with LF, alone):
    a search for the first terminator that is not followed by exactly that and a
    segment id (white space, an empty segment, a segment whose id is not an X12
    id, which the ordinary way reports), or that is followed by an IEA; a walk
    (`_walk`) that finds the same place in one match; and with ``events`` (a
    reader's `EventWalks` for these delimiters), the walks that also list the
    events (`EventWalks.walks`), else None."""
    t = delims.segment
    iea = re.escape("IEA" + delims.element)
    start = _segment_start(delims.element, t)
    forms = [(t + b, re.compile(f"{re.escape(t)}(?:(?={b}({iea}))|(?!{b}{start}))"))
             for b in ("\r\n", "\n") if t not in b]
    forms.append((t, re.compile(f"{re.escape(t)}(?:(?=({iea}))|(?!{start}))")))
    walks = events(delims) if events is not None else None
    return [(separator, search, _walk(delims.element, separator),
             walks.walks(separator) if walks is not None else None)
            for separator, search in forms]


def _walk(element: str, separator: str) -> re.Pattern:
    """Segments each followed by ``separator``, from the start of a chunk, as far as
    they go: each an X12 id (not an IEA's), then nothing or the element separator
    and anything but a terminator.  One match runs over a whole clean chunk (a
    search tried at every terminator costs several times more); where it stops,
    the search of `block_forms` would find its first hit (`block_cut`)."""
    e, t, s = (re.escape(x) for x in (element, separator[0], separator))
    return re.compile(f"(?:(?!IEA{e})[A-Z][A-Z0-9][A-Z0-9]?+(?:{e}[^{t}]*+)?+{s})*+")


class EventWalks:
    """The walk of `_walk` that also stops before every event segment, so that one
    pass over a clean chunk finds both where the walk stops and where those segments
    are (edi837.reader.fast: the segments that may make a drug claim, and the
    envelopes): ``stops`` gives, for a segment's first letter, what follows it in an
    event segment (a regular expression).  Folding the search into the walk costs
    less than a second search over the chunk (s30.edi: 69 ms against 44 + 46 ms),
    and the walk tries the lookahead only on segments starting with such a letter."""

    def __init__(self, element: str, stops: dict[str, str]) -> None:
        self.element, self.stops = element, stops
        self._walks: dict[str, tuple[re.Pattern, re.Pattern, re.Pattern]] = {}

    def walks(self, separator: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
        """(the walk stopping before an event, one segment as `_walk` reads it, an
        event segment's start)"""
        found = self._walks.get(separator)
        if found is None:
            e, t, s = (re.escape(x) for x in (self.element, separator[0], separator))
            rest = f"[A-Z0-9][A-Z0-9]?+(?:{e}[^{t}]*+)?+{s}"
            others = "".join(sorted(set(string.ascii_uppercase) - set(self.stops)))
            # an IEA is where the walk of `_walk` stops: an event whatever ``stops`` say
            stops = dict(self.stops)
            stops["I"] = f"EA{e}|{stops['I']}" if "I" in stops else f"EA{e}"
            branches = [f"[{others}]{rest}"] + [f"{letter}(?!{stop}){rest}"
                                                 for letter, stop in sorted(stops.items())]
            found = self._walks[separator] = (
                re.compile(f"(?:{'|'.join(branches)})*+"),
                re.compile(f"(?!IEA{e})[A-Z]{rest}"),
                re.compile("|".join(f"{letter}(?:{stop})" for letter, stop in stops.items())))
        return found


def _walk_events(text: str, stop: int, walks: tuple[re.Pattern, re.Pattern, re.Pattern],
                 events: list[int]) -> int:
    """Where `_walk` stops in ``text[:stop]``, with the starts of the event segments
    before it appended to ``events``: the folded walk stops at each; one that is a
    segment as `_walk` reads it is passed over, else the walk ends there (and it is
    listed if an event: a block may end with it, an IEA or its last segment)."""
    fold, one, event = walks
    at = _walked(fold, text, 0, stop)
    while at < stop:
        segment = one.match(text, at, stop)
        if segment is None:
            if event.match(text, at, stop) is not None:
                events.append(at)
            return at
        events.append(at)
        at = _walked(fold, text, segment.end(), stop)
    return at


def _walked(walk: re.Pattern, text: str, at: int, stop: int) -> int:
    """Where a walk from ``at`` ends (a repeat: it matches, if only nothing)."""
    found = walk.match(text, at, stop)
    return at if found is None else found.end()


@lru_cache(maxsize=64)
def _tail(element: str, terminator: str) -> re.Pattern:
    """The start of the last segment of a searched range, with no terminator after it
    in the range (what ``_segment_start`` matches there)."""
    e = re.escape(element)
    return re.compile(f"[A-Z](?:[A-Z0-9](?:[A-Z0-9](?:{e}|\\Z)|{e}|\\Z)|\\Z)")


@lru_cache(maxsize=64)
def _first_segment(element: str, terminator: str) -> re.Pattern:
    return re.compile(_segment_start(element, terminator))


def block_cut(text: str, exhausted: bool, terminator: str, forms: list, iea: str,
              events: list[int] | None = None) -> tuple[str, int, str | None] | None:
    """(separator, end, rest) when ``text[:end]`` can go over as a Block: segments
    each followed by the separator and nothing else.  ``rest`` is what follows an
    IEA that ends the block (another interchange, read after its ISA), or None.
    None when the chunk must be split the ordinary way (white space, empty
    segments, an IEA at its start, an unterminated last segment).  With ``events``
    and forms that list them (`block_forms`), the starts of the event segments the
    walk passed are appended to ``events``."""
    if not text or text.startswith(iea) or not _first_segment(iea[3:], terminator).match(text):
        return None  # white space, an empty segment or not an X12 id first; an IEA
    at = text.find(terminator)
    if at < 0:
        return None
    # the form whose separator follows the first terminator, else the last one
    separator, search, walk, walks = next(
        (form for form in forms if text.startswith(form[0], at)), forms[-1])
    last = text.rfind(terminator)
    if exhausted:
        if not text.endswith(separator):
            return None  # trailing text after the last separator: the ordinary way
        stop, end = len(text) - len(separator), len(text)  # the last: nothing follows it
    elif len(text) - last <= len(separator):
        # what follows the last terminator is not known yet: its segment waits
        stop = last
        end = text.rfind(terminator, 0, last) + len(separator)
        if end < len(separator):
            return None
    else:
        stop, end = len(text), last + len(separator)
    # the first terminator that the search would find: where the walk stops
    start = walk.match(text, 0, stop).end() if walks is None or events is None else \
        _walk_events(text, stop, walks, events)
    if not text.startswith(iea, start, stop):
        if text.find(terminator, start, stop) < 0 and \
                _tail(iea[3:], terminator).match(text, start, stop) is not None:
            return separator, end, None  # clean up to the last segment, cut by ``stop``
        return None  # white space or an empty segment between segments
    # the IEA segment (not the first: block_cut's caller reads that one)
    close = text.find(terminator, start)
    if close >= 0 and text.startswith(separator, close):
        # The ordinary way judges white space over the whole chunk, past the IEA
        # (and then strips every segment of it): only a chunk clean to the end
        # may go over as a block, so the notes (EDI006) come out the same.
        if any(odd.group(1) is None for odd in search.finditer(text, close, stop)):
            return None
        end = close + len(separator)
        return separator, end, text[end:]
    if exhausted:
        return None
    return separator, start, None  # the IEA waits for the next round
