"""Where a claim starts and ends: one rule for the claim reader and for fix's routing
(edi837.fix.route.ClaimWalk walks by ``ClaimBoundaries``; the reader's own loop applies
the same rule inline, segment by segment, as its handlers: tests/test_claim_boundaries.py
holds the two to the same spans).

A claim (loop 2300 with its 2310-2440 loops) starts at a CLM inside a transaction set
read as claims, and ends before the next HL, CLM or SE (complete), or before an ISA, ST,
GE or IEA that comes while its set is open (the set cut short: EDI002; the reader drops
such a claim, routing refuses the file).  A segment is an HL, CLM ... only when that id
is its whole first element ('CLMX*...' is no CLM, nor is a CLM glued onto the segment
before it), and a bare two-letter id with no element ('HL') is no segment the reader
knows: it is a line of the claim or loop it stands in, not a boundary.
"""
from __future__ import annotations

CLOSES = frozenset(["HL", "CLM", "SE"])  # the open claim is complete before it
CUTS = frozenset(["ISA", "ST", "GE", "IEA"])  # inside an open set: the set is cut short
_BOUNDARIES = CLOSES | CUTS


def boundary(tag: str, text: str) -> str | None:
    """``tag`` (the segment's first element) when the segment starts or ends a claim
    or a set, else None; ``text`` is the whole segment (a bare 'HL' is none)."""
    if tag not in _BOUNDARIES or (len(tag) == 2 and len(text) == 2):
        return None
    return tag


class ClaimBoundaries:
    """The claims' spans, one segment at a time: ``step`` for each segment in file order
    returns the claim that ends before it, as (first index, last index, complete), or
    None; ``finish`` the one still open at the end of the file (never complete).  Which
    sets hold claims is the caller's to say (``read_set`` at each ST): the reader reads
    an 837 of a version it knows, routing any 837."""

    __slots__ = ("first", "in_set")

    def __init__(self) -> None:
        self.first: int | None = None  # the open claim's CLM
        self.in_set = False  # inside a set whose CLMs start claims

    def step(self, index: int, tag: str, text: str) -> tuple[int, int, bool] | None:
        kind = boundary(tag, text)
        if kind is None:
            return None
        ended = None
        if self.first is not None:
            ended = (self.first, index - 1, kind in CLOSES)
            self.first = None
        if kind == "CLM":
            if self.in_set:
                self.first = index
        elif kind != "HL":
            self.in_set = False  # SE, or a set cut short (ST: until read_set says)
        return ended

    def read_set(self, reads: bool) -> None:
        """The ST just stepped over opens a set whose CLMs are claims (or not)."""
        self.in_set = reads

    def finish(self, last_index: int) -> tuple[int, int, bool] | None:
        if self.first is None:
            return None
        ended, self.first = (self.first, last_index, False), None
        return ended
