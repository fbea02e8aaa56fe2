"""The routing decision: is a claim accepted or held, and why.

A claim is *held* when an error finding lies inside it (CLM up to the
segment before the next HL, CLM or SE), on a hierarchy level above it
(billing provider 20, subscriber 22, patient 23: the HL and its segments up
to the next HL or CLM), or on its envelopes (ISA, GS, and the transaction
set header: ST, BHT and the submitter/receiver loops).  Otherwise it is
*accepted*.  Trailer findings (EDI003 control numbers, EDI004 counts) hold
nothing: whoever writes claims out rebuilds SE/GE/IEA.  An ISA13 repeated in the
file (EDI003 on the second ISA) holds that interchange's claims: the ISA is
copied, and a receiver rejects the duplicate interchange.

:class:`ClaimWalk` makes that decision in one streaming pass over a file,
claim by claim, and keeps what a writer needs to copy a claim with its
envelopes and hierarchy.  :func:`route_claims` is the decision alone, for
anything that reports per claim (the accepted/held split, a 277CA).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from ..findings import ERROR, Finding
from ..reader.boundaries import ClaimBoundaries
from ..reader.loops import X12_ID
from ..x12.writer import RawSegment, RawSegmentReader

# Trailer problems routing never carries over: writers rebuild SE/GE/IEA.  (EDI003 on
# an ISA, an interchange control number repeated in the file, is no trailer's: the
# writers copy the ISA, so it holds the interchange's claims.)
TRAILER_RULES = frozenset(["EDI003", "EDI004"])
LEVELS = ("20", "22", "23")  # billing provider, subscriber, patient


class SetHolder(Protocol):
    """What holds a whole transaction set (edi837.fix.rejected.RejectedSets)."""

    def hold(self, path: str | Path, isa: RawSegment, gs: RawSegment,
             st: RawSegment) -> Finding | None: ...


class SplitError(Exception):
    """The file's structure does not allow routing its claims one by one
    (truncated, a claim outside a hierarchy)."""


@dataclass(slots=True)
class RoutedClaim:
    """A claim and the error findings that hold it (none: accepted)."""

    claim_id: str  # CLM01
    transaction: str  # ST02
    charge: str  # CLM02
    reasons: list[Finding] = field(default_factory=list)
    segment_index: int | None = None  # of the CLM, in the file routed

    @property
    def accepted(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict:
        return {"claim_id": self.claim_id, "transaction": self.transaction,
                "charge": self.charge, "segment_index": self.segment_index,
                "reasons": [{"rule": f.rule, "severity": f.severity, "message": f.message,
                             "segment": f.segment, "segment_index": f.segment_index,
                             "line_number": f.line_number} for f in self.reasons]}


def element(segment: RawSegment, position: int) -> str:
    fields = segment.fields
    return fields[position] if len(fields) > position else ""


@dataclass(slots=True)
class Loop:
    """One 2000A/2000B/2000C level: its HL and the segments up to the next HL or CLM."""

    hl: RawSegment
    segments: list[RawSegment] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)

    @property
    def key(self) -> int:
        return self.hl.index


@dataclass(slots=True)
class Envelope:
    """The open ISA, GS and ST with the set's header segments (BHT, 1000A/B),
    and the error findings on each: they hold every claim inside."""

    isa: RawSegment
    gs: RawSegment | None = None
    header: list[RawSegment] = field(default_factory=list)  # ST first
    interchange_errors: list[Finding] = field(default_factory=list)
    group_errors: list[Finding] = field(default_factory=list)
    set_errors: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return self.interchange_errors + self.group_errors + self.set_errors


def trailer_finding(finding: Finding) -> bool:
    """A trailer's count or control number (EDI003/EDI004 on SE, GE, IEA): rebuilt."""
    return finding.rule in TRAILER_RULES and finding.segment != "ISA"


class _ErrorCursor:
    """The error findings that can hold a claim, read as the walk reaches their segment.

    The findings come in file order (as `check` returns them, spilled to disk
    when there are many), so only those of the current segment are in memory.
    Any EDI002 error (an interchange, group or set cut short) stops the
    routing: what it would say about the claims around it cannot be trusted.
    """

    def __init__(self, findings: Iterable[Finding]) -> None:
        self._source = iter(findings)
        self._index = 0  # segment index of the findings read so far
        self._ahead: Finding | None = None  # read, for a segment not reached yet

    def _read(self) -> Finding | None:
        for finding in self._source:
            if finding.rule == "EDI002" and finding.severity == ERROR:
                raise SplitError("an interchange, group or transaction set is not closed "
                                 f"(EDI002 at segment {finding.segment_index})")
            index = finding.segment_index or 0
            if index < self._index:
                raise ValueError(f"findings are not in file order: segment {index} "
                                 f"after segment {self._index}")
            self._index = index
            if finding.severity == ERROR and index and not trailer_finding(finding):
                return finding
        return None

    def at(self, index: int) -> list[Finding]:
        """The error findings at segment ``index``; earlier ones are passed over."""
        found: list[Finding] = []
        while True:
            finding = self._ahead if self._ahead is not None else self._read()
            self._ahead = None
            if finding is None:
                return found
            if (finding.segment_index or 0) > index:  # (_read gives only indexed ones)
                self._ahead = finding
                return found
            if finding.segment_index == index:
                found.append(finding)

    def finish(self) -> None:
        """Read the rest, so an EDI002 after the last segment looked at still counts."""
        while self._read() is not None:
            pass


_X12_ID = re.compile(X12_ID)
_LINE_TAGS = frozenset(["LX", "SV1", "SV2", "LIN", "CTP"])  # 2400/2410: inside a claim only
Hierarchy = dict  # level ("20", "22", "23") -> the Loop in force, or None


class ClaimWalk:
    """One streaming pass over a file, deciding for each claim accepted or held.

    Iterate :meth:`claims` for the :class:`RoutedClaim` of each claim in file
    order.  ``findings`` are those of checking this file, in file order (as
    `check` returns them); they are read along with the segments.  Holds one
    claim, the hierarchy levels in force and the envelope headers.

    Every CLM segment of the file must end up routed: the walk counts them
    and raises SplitError at the end when one could not be placed (outside
    any transaction set, in a set that is not an 837), so a claim is never
    silently in neither output.  Subclasses that write the claims out
    override the hooks :meth:`claim_routed` (a claim with what surrounds it),
    :meth:`trailer` (SE, GE, IEA) and :meth:`not_an_837`; they must write
    their outputs so that an exception leaves none behind.
    """

    def __init__(self, path: str | Path, findings: Iterable[Finding],
                 held_sets: SetHolder | None = None) -> None:
        self.reader = RawSegmentReader(path)
        self._errors = _ErrorCursor(findings)
        self._path = path
        self._held_sets = held_sets  # the 999's rejected sets (edi837.fix.rejected)
        self.envelope: Envelope | None = None
        self.hierarchy: Hierarchy = dict.fromkeys(LEVELS)
        self.loop: Loop | None = None  # the level the current segments belong to
        self.claim: list[RawSegment] | None = None
        self.claim_errors: list[Finding] = []
        # where claims start and end: the claim reader's rule (edi837.reader.boundaries)
        self.bounds = ClaimBoundaries()
        # Every CLM must be routed: one the walk cannot place (outside any
        # transaction set, say) would otherwise be in neither output.
        self.clm_segments = 0
        self.routed = 0
        self._unrouted: tuple[int, str] | None = None  # the first: (segment index, why)

    # -- hooks -------------------------------------------------------------------
    def claim_routed(self, routed: RoutedClaim, envelope: Envelope, hierarchy: Hierarchy,
                     segments: list[RawSegment]) -> None:
        """A claim was decided; ``segments`` are its own, CLM first."""

    def trailer(self, segment: RawSegment) -> None:
        """An SE, GE or IEA of the input."""

    def not_an_837(self, segment: RawSegment) -> None:
        """The ST of a transaction set that holds no 837 claims."""

    @property
    def carrying(self) -> bool:
        """Inside an 837 transaction set (its CLMs start claims)."""
        return self.bounds.in_set

    # -- the walk ------------------------------------------------------------------
    def claims(self) -> Iterator[RoutedClaim]:
        handlers = {"ISA": self._isa, "GS": self._gs, "ST": self._st, "HL": self._hl,
                    "CLM": self._clm, "SE": self._se, "GE": self.trailer, "IEA": self._iea}
        step = self.bounds.step
        for segment in self.reader:
            tag, text = segment.tag, segment.text
            # the claim in hand ends before this segment? (as the reader ends it)
            routed = self._end_claim() if step(segment.index, tag, text) is not None else None
            # a bare two-letter id ('HL', no element) is no segment the reader knows
            handler = handlers.get(tag) if len(text) != 2 else None
            if handler is not None:
                handler(segment)
            elif self.carrying:
                self._body(segment)
            if routed is not None:
                yield routed
        routed = self._end_claim()
        if routed is not None:
            yield routed
        self._errors.finish()
        if self.routed != self.clm_segments:
            assert self._unrouted is not None  # set with the first claim not carried
            index, why = self._unrouted
            raise SplitError(
                f"{self.clm_segments - self.routed} of {self.clm_segments} claims cannot be "
                f"routed: the CLM at segment {index} is {why}")

    def _found(self, segment: RawSegment) -> list[Finding]:
        return self._errors.at(segment.index)

    # -- envelopes --------------------------------------------------------------
    def _isa(self, segment: RawSegment) -> None:
        self.envelope = Envelope(segment, interchange_errors=list(self._found(segment)))

    def _gs(self, segment: RawSegment) -> None:
        if self.envelope is None:
            raise SplitError(f"GS at segment {segment.index} outside an interchange")
        self.envelope.gs = segment
        self.envelope.group_errors = list(self._found(segment))

    def _st(self, segment: RawSegment) -> None:
        envelope = self.envelope
        if envelope is None or envelope.gs is None:
            raise SplitError(f"ST at segment {segment.index} outside a group")
        envelope.header = [segment]
        envelope.set_errors = list(self._found(segment))
        if self._held_sets is not None:  # a set the 999 rejects holds all its claims
            held = self._held_sets.hold(self._path, envelope.isa, envelope.gs, segment)
            if held is not None:
                envelope.set_errors.append(held)
        self.hierarchy = dict.fromkeys(LEVELS)
        self.loop = None
        self.bounds.read_set(element(segment, 1) == "837")
        if not self.carrying:
            self.not_an_837(segment)

    def _se(self, segment: RawSegment) -> None:
        self.trailer(segment)  # (the set ended with the step over it: not carrying)

    def _iea(self, segment: RawSegment) -> None:
        self.trailer(segment)
        self.envelope = None

    # -- hierarchy and claims -----------------------------------------------------
    def _hl(self, segment: RawSegment) -> None:
        if not self.carrying:
            return
        # Levels nest in file order (X12 hierarchies are written depth first):
        # anything not a billing provider (20) or subscriber (22) is read as a
        # patient level (23); the reader reports odd codes as EDI007.
        level = element(segment, 3)
        level = level if level in ("20", "22") else "23"
        self.loop = Loop(segment, errors=list(self._found(segment)))
        self.hierarchy[level] = self.loop
        if level == "20":
            self.hierarchy["22"] = self.hierarchy["23"] = None
        elif level == "22":
            self.hierarchy["23"] = None

    def _clm(self, segment: RawSegment) -> None:
        self.clm_segments += 1
        if not self.carrying:
            if self._unrouted is None:
                self._unrouted = (segment.index, self._where_not_carried())
            return
        if self.hierarchy["20"] is None or self.hierarchy["22"] is None:
            raise SplitError(f"claim {element(segment, 1)} at segment {segment.index} "
                             "has no billing provider or subscriber HL above it")
        self.claim = [segment]
        self.claim_errors = list(self._found(segment))

    def _where_not_carried(self) -> str:
        envelope = self.envelope
        if envelope is None or envelope.gs is None or not envelope.header:
            return "outside any transaction set"
        st = envelope.header[0]
        if element(st, 1) != "837":
            return f"in transaction set {element(st, 2)}, which is not an 837"
        return f"after the SE of transaction set {element(st, 2)}"

    def _body(self, segment: RawSegment) -> None:
        tag = segment.tag
        if _X12_ID.fullmatch(tag) is None:
            # the check reports it (EDI007); which claim it belongs to is a guess
            raise SplitError(f"segment {segment.index}: {tag[:12]!r} is not an X12 segment "
                             "id, so which claim it belongs to (or starts) is not known")
        if self.claim is None and tag in _LINE_TAGS:
            raise SplitError(f"segment {segment.index}: {tag} outside any claim (the CLM "
                             "before it lost or malformed?): its lines belong to no claim")
        if self.claim is not None:
            self.claim.append(segment)
            self.claim_errors += self._found(segment)
        elif self.loop is not None:
            self.loop.segments.append(segment)
            self.loop.errors += self._found(segment)
        elif self.envelope is not None and self.envelope.header:
            self.envelope.header.append(segment)
            self.envelope.set_errors += self._found(segment)

    def _end_claim(self) -> RoutedClaim | None:
        """Decide the claim in hand, if any: its own errors, its levels', its envelope's."""
        if self.claim is None:
            return None
        clm, segments = self.claim[0], self.claim
        self.claim = None
        envelope = self.envelope
        assert envelope is not None  # a claim is read inside a transaction set
        reasons = list(self.claim_errors)
        for loop in self.hierarchy.values():
            if loop is not None:
                reasons += loop.errors
        reasons += envelope.errors
        routed = RoutedClaim(element(clm, 1), element(envelope.header[0], 2),
                             element(clm, 2), reasons, clm.index)
        self.routed += 1
        self.claim_routed(routed, envelope, self.hierarchy, segments)
        return routed


def route_claims(path: str | Path, findings: Iterable[Finding]) -> Iterator[RoutedClaim]:
    """Each claim of ``path`` in file order, with the error ``findings`` (from
    checking that file, in file order) that hold it; a claim without any is
    accepted (:attr:`RoutedClaim.accepted`).

    Raises SplitError when the file's structure does not allow it: a claim
    outside a hierarchy or outside any 837 transaction set, an EDI002 error.
    The error may come after claims were yielded: consumers that write must
    not keep what they wrote when it does.
    """
    return ClaimWalk(path, findings).claims()
