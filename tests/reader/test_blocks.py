"""`block_cut` finds in one match (the walk) what a search tried at every terminator
finds: the same chunks go over as blocks, cut at the same places."""
from __future__ import annotations

import random

import pytest

from edi837.x12.blocks import block_cut, block_forms
from edi837.x12.reader import Delimiters


def reference_cut(text, exhausted, terminator, forms, iea):
    """block_cut as it was: the forms' search run over the chunk."""
    from edi837.x12.blocks import _first_segment

    if not text or text.startswith(iea) or not _first_segment(iea[3:], terminator).match(text):
        return None
    at = text.find(terminator)
    if at < 0:
        return None
    separator, search, _, _ = next((f for f in forms if text.startswith(f[0], at)),
                                   forms[-1])
    last = text.rfind(terminator)
    if exhausted:
        if not text.endswith(separator):
            return None
        stop, end = len(text) - len(separator), len(text)
    elif len(text) - last <= len(separator):
        stop = last
        end = text.rfind(terminator, 0, last) + len(separator)
        if end < len(separator):
            return None
    else:
        stop, end = len(text), last + len(separator)
    found = search.search(text, 0, stop)
    if found is None:
        return separator, end, None
    if found.group(1) is None:
        return None
    start = found.start() + len(separator)
    close = text.find(terminator, start)
    if close >= 0 and text.startswith(separator, close):
        if any(odd.group(1) is None for odd in search.finditer(text, close, stop)):
            return None
        end = close + len(separator)
        return separator, end, text[end:]
    if exhausted:
        return None
    return separator, start, None


PIECES = ["CLM*A*1", "NM1*IL", "HL*1**20*1", "IEA*1*000000001", "LX", "A", "AB", "ABC",
          "ABCD*x", "clm*x", "", " ", "\n", "\r\n", "IEA", "IEA~", "N3*A~B", "SE*3*0001", "X*",
          "Q1", "GE*1*1", "ISA*00*", "S", "1X*", "IEB*2", "IE", "IEA1*"]


@pytest.mark.parametrize("element,terminator", [("*", "~"), ("|", "\n"), ("*", "'")])
def test_the_walk_cuts_where_the_search_cuts(element, terminator):
    rng = random.Random(f"{element}{terminator}")
    forms = block_forms(Delimiters(element, "^", ":", terminator))
    iea = "IEA" + element
    separators = [terminator + "\n", terminator + "\r\n", terminator, terminator + "\n\n",
                  terminator + " "]
    blocks = 0
    for _ in range(20000):
        main = rng.choice(separators[:3])
        parts = []
        for _ in range(rng.randint(1, 8)):
            parts.append(rng.choice(PIECES).replace("*", element).replace("~", terminator))
            parts.append(main if rng.random() < 0.85 else rng.choice(separators))
        text = "".join(parts)
        if rng.random() < 0.3:
            text = text[:rng.randint(0, len(text))]
        exhausted = rng.random() < 0.5
        cut = block_cut(text, exhausted, terminator, forms, iea)
        assert cut == reference_cut(text, exhausted, terminator, forms, iea), (text, exhausted)
        blocks += cut is not None
    assert blocks > 500  # the chunks are not all refused


EVENT_PIECES = PIECES + ["SV1*HC:J2350*100", "SV1*HC:99213*1", "SV2*0636*HC:J1100*5",
                         "SV2*0250**1", "SV1*hc: j2350", "SV3*HC:J1", "LIN**N4*1", "LINX*1",
                         "LI", "ST*837*1", "SE*3*1", "GS*HC", "GE*1*1", "GSX", "ST", "S",
                         "SV1*HC:Q5103", "SV1*ZZ*HC:J9035", "SV1*HC", "IEA*1*1", "ISA"]


@pytest.mark.parametrize("element,terminator", [("*", "~"), ("|", "\n"), ("*", "'")])
def test_the_walk_lists_the_events_the_search_finds(element, terminator):
    """With the fast path's events folded into the walk (EventWalks), a chunk is cut
    as without them, and the events listed before the cut are where the fast path's
    own search (`_Patterns.events`) finds them in the block."""
    from edi837.reader.fast_search import _event_stops, _Patterns
    from edi837.x12.blocks import EventWalks

    rng = random.Random(f"events{element}{terminator}")
    delimiters = Delimiters(element, "^", ":", terminator)
    plain = block_forms(delimiters)
    forms = block_forms(delimiters, lambda delimiters: EventWalks(
        element, _event_stops(delimiters, {"J1100", "90371"})))
    iea = "IEA" + element
    separators = [terminator + "\n", terminator + "\r\n", terminator, terminator + " "]
    listed = 0
    for _ in range(20000):
        main = rng.choice(separators[:3])
        parts = []
        for _ in range(rng.randint(1, 10)):
            parts.append(rng.choice(EVENT_PIECES).replace("*", element)
                         .replace("~", terminator))
            parts.append(main if rng.random() < 0.9 else rng.choice(separators))
        text = "".join(parts)
        if rng.random() < 0.3:
            text = text[:rng.randint(0, len(text))]
        exhausted = rng.random() < 0.5
        events: list[int] = []
        cut = block_cut(text, exhausted, terminator, forms, iea, events)
        assert cut == block_cut(text, exhausted, terminator, plain, iea), (text, exhausted)
        if cut is None:
            continue
        separator, end, _ = cut
        search = _Patterns(delimiters, separator, {"J1100", "90371"}).events
        expected = [found.start() for found in search.finditer(separator + text[:end], 0,
                                                                 end)]
        assert [at for at in events if at < end] == expected, (text, exhausted)
        listed += bool(expected)
    assert listed > 500  # chunks with events, not only chunks without
