"""The fast path: pass over the claims no rule reads, without reading them.

A clearinghouse's nightly file is mostly office visits and labs; only claims
with a drug line (`edi837.extract.is_drug_line`) are checked, and go to the
patient history.  The claim reader (`edi837.reader.claims`) looks at every segment;
this module hands it only the segments that can matter, from chunks of text
the segment reader gives unsplit (`SegmentReader.blocks`: nothing between
segments, every segment followed by the same separator).

What the claim reader still reads, segment by segment: the envelopes
(ISA/GS/ST/SE/GE/IEA) and all that stands outside a transaction set; each
set's header (before its first HL); every claim that may be a drug claim with
its HL loop; and for such a claim, the HL loops above it whose segments it
has not seen (the billing provider, subscriber and patient it takes its
fields from).  What it is told instead of reading: for a stretch of claims
with no drug line, where the open claim ends and how many claims there are
(a `Skip`).  Everything else falls back to reading every segment: chunks
with white space or empty segments between segments, a transaction set cut
short, HLs out of order.

Why the findings are the same as the full reader's:

* *Drug claims*: a claim is a drug claim when a line has a LIN, or an SV1/SV2
  whose procedure matches a drug-line pattern (policies.toml ``[[drug_lines]]``:
  J*, C9399, Q5[1-9]??) or is a code of the drug table.  The search
  (`_Patterns.events`) is wider than that: any segment starting LIN, and
  for any segment starting SV1 or SV2, the second component of its first or
  second element, prefix-matched (a pattern up to its ``*``), whatever the
  loop state.  A claim it
  wrongly takes for a drug claim is read in full (time only); it cannot miss
  one, since the reader takes a procedure from nowhere else.
* *Passed-over claims* raise no reader finding: the only findings inside a
  claim are on its lines (EDI007), and the reader keeps them for drug claims
  only (on both paths).  They are counted from their CLM segments (the
  reader's dispatch: a segment starting "CLM"), and only in stretches that
  end at an HL or SE, where the reader too would have closed them.
* *HL order* (EDI007) covers every HL: a chunk's HLs are checked at once by
  `Hierarchy.take`, which accepts them only when checking them one by one
  would find nothing; else the chunk is read segment by segment.
* *What a drug claim takes from above it*: the billing provider is set in
  the latest HL 20 loop, the subscriber, payer and SBR in the latest HL 22
  loop, the patient in the latest HL 22 or 23 loop; nothing else carries
  over from one HL loop to the next (a claim's own segments never change
  them).  The latest loop of each level that the reader has not seen is kept
  (`_pending`, up to its first CLM) and read, in file order, before anything
  else is read in the set, so the reader is in the state it would be in.
  These HLs were checked already: they are read as checked (``hl_checked``).
* *Positions*: every segment handed over keeps its index in the file; a
  drug claim ends where the next segment read or skipped begins, as in the
  file.

`tests/reader/test_fast.py` compares both paths on generated files, every defect,
both kinds, line breaks, odd delimiters, several interchanges and the
hostile inputs of the tests.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Collection, Iterator

from ..x12.blocks import EventWalks
from ..x12.reader import Batch, Block, Delimiters
from .fast_search import _event_stops, _Patterns

# A unit (an HL and what follows it up to the next HL) may be carried from one
# chunk to the next while its end is not known; one bigger than this is read
# segment by segment instead, so memory stays bounded.
MAX_CARRY = 4 << 20
# A stretch with more than one drug claim in this many HL loops is read whole;
# so is the rest of a block once DENSE_RUN segments that may make a drug claim
# came less than DENSE_SPACING characters apart on average.
DENSE = 4
DENSE_RUN, DENSE_SPACING = 16, 2048
# Chunks then read the ordinary way before blocks are tried again: 1 after the first
# dense block, doubling while blocks keep coming dense, up to DENSE_CHUNKS (a sparse
# file's one cluster of drug claims costs one chunk read whole, not eight)
DENSE_CHUNKS = 8


class Skip:
    """Claims passed over unread: the open claim ends before segment
    ``first_index``, and ``claims`` more claims are counted."""

    __slots__ = ("first_index", "claims")

    def __init__(self, first_index: int, claims: int) -> None:
        self.first_index = first_index
        self.claims = claims


class _Loop:
    """An HL loop the reader has not read, up to its first CLM: where it is, to be
    split only if it is read.  ``text[start:stop]`` are its segments."""

    __slots__ = ("text", "start", "stop", "index", "offset", "separator", "delimiters")

    def __init__(self, text: str, start: int, stop: int, index: int, offset: int,
                 separator: str, delimiters: Delimiters) -> None:
        self.text, self.start, self.stop = text, start, stop
        self.index, self.offset = index, offset
        self.separator, self.delimiters = separator, delimiters

    def batch(self) -> Batch:
        texts = self.text[self.start:self.stop].split(self.separator)
        return Batch(self.delimiters, texts, self.index, self.offset, texts, None,
                     len(self.separator), hl_checked=True)


# The levels whose latest loop a loop of this level takes its fields from: a billing
# provider's (20) claims keep the subscriber and patient, a subscriber (22) resets
# both but keeps the billing provider, a patient (23) keeps both.
_ABOVE = {"20": ("22", "23"), "22": ("20",), "23": ("20", "22")}


class FastPath:
    """Turn a file's blocks and batches into what the claim reader reads.

    Pulled one item at a time by the reader, so the reader's state (``in_claim_set``,
    ``hierarchy``) is that of everything handed over before.
    """

    def __init__(self, reader, drug_codes: Collection[str]) -> None:
        self._reader = reader
        self._codes = drug_codes
        self._patterns: dict[tuple, _Patterns] = {}
        # segments of an open set whose end was not in the last block: (block key,
        # text with a separator after each segment, first index, file offset)
        self._carry: tuple[tuple, str, int, int] | None = None
        self._next_index = 0  # the index after the carried segments
        # level -> the latest HL loop of that level that the reader has not read
        self._pending: dict[str, _Loop] = {}
        self._delimiters: Delimiters | None = None
        self._separator = ""
        self._dense = False  # the last block was read whole: drug claims all over
        self._dense_streak = 0  # dense blocks in a row
        self._batches_left = 0
        # the carried segments' events (positions in the next block's text), if listed
        self._carry_events: list[int] | None = None
        # the segment reader lists the events of each block as its walk finds them
        self._walks: dict[Delimiters, EventWalks] = {}
        reader.segments.block_events = self._event_walks

    def _event_walks(self, delimiters: Delimiters) -> EventWalks:
        walks = self._walks.get(delimiters)
        if walks is None:
            walks = self._walks[delimiters] = EventWalks(
                delimiters.element, _event_stops(delimiters, self._codes))
        return walks

    # -- the items --------------------------------------------------------------------
    def items(self, chunks: Iterator[Batch | Block]) -> Iterator[Batch | Skip]:
        segments = self._reader.segments
        for chunk in chunks:
            if chunk.__class__ is Block:
                yield from self._block(chunk)
                if self._dense:  # the next chunks split the ordinary way, then try again
                    self._dense = False
                    self._batches_left = min(DENSE_CHUNKS, 1 << self._dense_streak)
                    self._dense_streak += 1
                    segments.blocks_wanted = False
                else:
                    self._dense_streak = 0
            else:
                yield from self._flush()
                yield chunk
                self._batches_left -= 1
                if self._batches_left <= 0:
                    segments.blocks_wanted = True
        yield from self._flush()

    def _flush(self) -> Iterator[Batch]:
        """Everything held back, for segments that follow to be read one by one."""
        yield from self._feed_pending()
        if self._carry is not None:
            (delimiters, separator), text, index, offset = self._carry
            self._carry = None
            texts = text[:-len(separator)].split(separator)
            yield Batch(delimiters, texts, index, offset, texts, None, len(separator))

    def _feed_pending(self) -> Iterator[Batch]:
        """The loops passed over whose fields the reader needs before it reads on."""
        if self._pending:
            for loop in self._take_pending():
                yield loop.batch()

    def _take_pending(self, level: str | None = None) -> list[_Loop]:
        """In file order, the pending loops a loop of ``level`` needs (all: None); the
        others are forgotten, as that loop's HL resets what they set."""
        pending, self._pending = self._pending, {}
        wanted = pending.values() if level is None else \
            [pending[above] for above in _ABOVE[level] if above in pending]
        return sorted(wanted, key=_index)

    # -- one block --------------------------------------------------------------------
    def _block(self, block: Block) -> Iterator[Batch | Skip]:
        key = (block.delimiters, block.separator)
        carry = self._carry
        if carry is not None and (carry[0] != key or block.first_index != self._next_index):
            yield from self._flush()
            carry = None
        patterns = self._patterns.get(key)
        if patterns is None:
            patterns = self._patterns[key] = _Patterns(block.delimiters, block.separator,
                                                       self._codes)
        self._delimiters, self._separator = key
        sep = block.separator
        events = block.events  # positions of the separators before them, in ``text``
        if carry is None:
            text = sep + block.text[:block.end]
            first, offset = block.first_index, block.base
        else:
            self._carry = None
            text = sep + carry[1] + block.text[:block.end]
            first, offset = carry[2], carry[3]
            if events is not None:
                if self._carry_events is None:
                    events = None
                else:
                    shift = len(carry[1])
                    events = self._carry_events + [at + shift for at in events]
        self._carry_events = None
        walk = _Walk(self, patterns, text, first, offset, events)
        yield from walk.items()
        block.count = walk.index(walk.end) - block.first_index  # spares the reader a count


class _Walk:
    """One block's text: positions are those of the separator before a segment
    (the text starts with one), so a segment is ``text[p + len(sep):next p]``."""

    def __init__(self, fast: FastPath, patterns: _Patterns, text: str, first: int,
                 offset: int, events: list[int] | None = None) -> None:
        self.fast, self.p, self.text = fast, patterns, text
        self.events = events  # the events' positions, as the block's walk listed them
        self.sep = fast._separator
        self.element = fast._delimiters.element
        self.end = len(text) - len(self.sep)  # the separator after the last segment
        self.offset = offset - len(self.sep)  # file offset of text[k] is offset + k
        self._at, self._index = 0, first  # a known position and its segment's index

    def index(self, position: int) -> int:
        """The file index of the segment after the separator at ``position``."""
        at, text = self._at, self.text
        # a separator holds one terminator, and a segment none
        if position >= at:
            self._index += text.count(self.p.terminator, at, position)
        else:
            self._index -= text.count(self.p.terminator, position, at)
        self._at = position
        return self._index

    def batch(self, start: int, stop: int, checked: bool = False) -> Batch:
        sep = self.sep
        texts = self.text[start + len(sep):stop].split(sep)
        return Batch(self.fast._delimiters, texts, self.index(start),
                     self.offset + start + len(sep), texts, None, len(sep),
                     hl_checked=checked)

    def read(self, start: int, stop: int) -> Iterator[Batch]:
        """Segments read one by one: what the reader skipped must come first."""
        if start < stop:
            yield from self.fast._feed_pending()
            yield self.batch(start, stop)

    def segment_end(self, position: int) -> int:
        return self.text.find(self.sep, position + len(self.sep))

    # -- the walk ---------------------------------------------------------------------
    def items(self) -> Iterator[Batch | Skip]:
        reader, text, p, end = self.fast._reader, self.text, self.p, self.end
        position = 0
        while position < end:
            if not reader.in_claim_set:
                # outside a set read as claims: up to and with the next ST
                found = text.find(p.st, position, end)
                stop = end if found < 0 else self.segment_end(found)
                yield from self.read(position, stop)
                position = stop
                continue
            evidence = []
            for at, envelope in self.events_from(position):
                if envelope:
                    stop = at
                    break
                evidence.append(at)
                if len(evidence) >= DENSE_RUN and at - position < len(evidence) * DENSE_SPACING:
                    # drug claims all over (a dense mix): the rest of the block is read
                    # whole, segment by segment, which costs less than searching it
                    yield from self.read(position, end)
                    self.fast._dense = True
                    return
            else:  # the set goes on in the next block
                last = text.rfind(p.hl, position, end)
                if last > position:
                    yield from self.body(position, last, evidence)
                    position = last
                if end - position > MAX_CARRY:  # one huge HL loop: read as it is
                    yield from self.read(position, end)
                else:
                    self.carry(position)
                return
            if text.startswith(p.se, stop + len(self.sep)):
                yield from self.body(position, stop, evidence)
            else:  # cut short by another envelope: the reader reports it, reading all
                yield from self.read(position, stop)
            after = self.segment_end(stop)
            yield from self.read(stop, after)  # the envelope segment itself
            position = after

    def events_from(self, position: int) -> Iterator[tuple[int, bool]]:
        """The events from ``position`` on: (position, whether an envelope)."""
        text, p, end, envelopes = self.text, self.p, self.end, self.p.envelopes
        events = self.events
        if events is None:
            for event in p.events.finditer(text, position, end):
                yield event.start(), event.group(1) is not None
            return
        start = len(self.sep)
        for k in range(bisect_left(events, position), len(events)):
            at = events[k]
            if at >= end:
                return
            yield at, text.startswith(envelopes, at + start)

    def carry(self, position: int) -> None:
        """Keep the segments from ``position`` for the next block (they end no HL loop)."""
        fast = self.fast
        events = self.events
        fast._carry_events = None if events is None else \
            [at - position for at in events[bisect_left(events, position):] if at < self.end]
        fast._carry = ((fast._delimiters, self.sep), self.text[position + len(self.sep):],
                       self.index(position), self.offset + position + len(self.sep))
        fast._next_index = self.index(self.end)

    def body(self, start: int, stop: int, evidence: list[int]) -> Iterator[Batch | Skip]:
        """A read set's segments from ``start`` to ``stop`` (an HL, the SE, or where
        the block ends), with the positions of the segments that may make a drug
        claim: every HL loop in it is complete."""
        text, p = self.text, self.p
        first_hl = text.find(p.hl, start, stop)
        if first_hl < 0:
            yield from self.read(start, stop)  # the set's header, or no HL at all
            return
        yield from self.read(start, first_hl)
        hls = p.hl_fields.findall(text, first_hl, stop)
        if not self.fast._reader.hierarchy.take(hls):
            yield from self.read(first_hl, stop)
            return
        claims = self.drug_claims(first_hl, stop, evidence)
        if claims is None or len(claims) * DENSE > len(hls):
            # drug claims all over (a dense mix): reading the stretch whole costs less
            # than cutting it up; or lines with no claim before them in their HL loop,
            # which the reader reports when they are drug lines; its HLs are checked
            yield from self.fast._feed_pending()
            yield self.batch(first_hl, stop, checked=True)
            return
        yield from Units(self, hls, first_hl, stop).items(claims)

    def drug_claims(self, start: int, stop: int, evidence: list[int]) -> list[int] | None:
        """Positions of the CLMs of the claims that may have a drug line; None when a
        segment that may make a drug line stands before its HL loop's first CLM
        (lines outside any claim: the stretch is read whole)."""
        text, p = self.text, self.p
        found: list[int] = []
        for at in evidence:
            if at < start or at >= stop:
                continue
            clm = text.rfind(p.clm, start, at)
            if clm < 0 or text.rfind(p.hl, start, at) > clm:
                return None  # before its loop's first claim: no claim reads it
            if not found or clm != found[-1]:
                found.append(clm)
        return found


class Units:
    """The complete HL loops of a block's stretch of a set, their HLs in order
    (checked: HL01 counts up by one from the first)."""

    def __init__(self, walk: _Walk, hls: list[tuple[str, str, str]], start: int,
                 stop: int) -> None:
        self.walk, self.start, self.stop = walk, start, stop
        self.ids = [hl[0] for hl in hls]
        self.levels = [hl[2] for hl in hls]
        self._first = int(self.ids[0])

    def ordinal(self, position: int) -> int:
        """Which HL of the stretch starts at ``position`` (len when none: the end)."""
        if position >= self.stop:
            return len(self.ids)
        text, p = self.walk.text, self.walk.p
        start = position + len(p.hl)
        return int(text[start:text.find(self.walk.element, start)]) - self._first

    def items(self, claims: list[int]) -> Iterator[Batch | Skip]:
        walk, text, p = self.walk, self.walk.text, self.walk.p
        done = self.start  # everything before is handed over
        k = 0
        while k < len(claims):
            unit = text.rfind(p.hl, done, claims[k] + 1)
            unit_end = _first(text.find(p.hl, claims[k], self.stop), self.stop)
            yield from self.skip(done, unit)
            # what this loop takes from the loops above it, then the loop itself up to
            # its first claim, then its drug claims (read as few batches as they are
            # pieces of text)
            pieces = []
            for loop in walk.fast._take_pending(self.levels[self.ordinal(unit)]):
                if loop.text is text:
                    pieces.append((loop.start - len(walk.sep), loop.stop))
                else:
                    yield loop.batch()
            first_claim = text.find(p.clm, unit, unit_end)
            pieces.append((unit, first_claim))
            at = first_claim
            while k < len(claims) and claims[k] < unit_end:
                clm = claims[k]
                if clm > at:
                    yield from self.read(pieces)
                    yield Skip(walk.index(at), text.count(p.clm, at, clm))
                claim_end = _first(text.find(p.clm, clm + 1, unit_end), unit_end)
                pieces.append((clm, claim_end))
                at = claim_end
                k += 1
            yield from self.read(pieces)
            if at < unit_end:
                yield Skip(walk.index(at), text.count(p.clm, at, unit_end))
            done = unit_end
        yield from self.skip(done, self.stop)

    def read(self, pieces: list[tuple[int, int]]) -> Iterator[Batch]:
        """Pieces of the text (in order, HLs checked) as batches, adjacent ones as one."""
        start = stop = None
        for piece_start, piece_stop in pieces:
            if piece_start != stop:
                if start is not None:
                    yield self.walk.batch(start, stop, checked=True)
                start = piece_start
            stop = piece_stop
        if start is not None:
            yield self.walk.batch(start, stop, checked=True)
        pieces.clear()

    def skip(self, start: int, stop: int) -> Iterator[Skip]:
        """HL loops passed over: their claims counted, the latest of each level kept."""
        if start >= stop:
            return
        walk, text, p = self.walk, self.walk.text, self.walk.p
        skipped = Skip(walk.index(start), text.count(p.clm, start, stop))
        low, high = self.ordinal(start), self.ordinal(stop)
        levels = self.levels[low:high]
        latest = []
        for level in ("20", "22", "23"):
            if level in levels:
                k = low + len(levels) - 1 - levels[::-1].index(level)
                latest.append((text.rfind(f"{p.hl}{self.ids[k]}{walk.element}", start, stop),
                               level))
        for unit, level in sorted(latest):  # in file order: the index only counts forward
            unit_end = _first(text.find(p.hl, unit + 1, stop), stop)
            prefix_end = _first(text.find(p.clm, unit, unit_end), unit_end)
            walk.fast._pending[level] = _Loop(
                text, unit + len(walk.sep), prefix_end, walk.index(unit),
                walk.offset + unit + len(walk.sep), walk.sep, walk.fast._delimiters)
        yield skipped


def _index(loop: _Loop) -> int:
    return loop.index


def _first(found: int, otherwise: int) -> int:
    return otherwise if found < 0 else found
