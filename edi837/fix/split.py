"""Split a (corrected) file into accepted and held claims, each a complete interchange.

Each claim is routed by :class:`~edi837.fix.route.ClaimWalk` and copied, with
the envelopes and hierarchy levels above it, into ``<stem>.accepted.edi`` or
``<stem>.held.edi``.  Both keep the input's ISA13/GS06/ST02 control numbers:
they are two views of one submission, and only the accepted file is meant to
be sent as is; the held one goes back to the biller, to be corrected and re-run.
Given a counter (``numbers``: `fix --split --control-numbers FILE`), each
interchange and group written takes a new ISA13/IEA02 and GS06/GE02 from it
instead: the accepted file of a corrected resend does not repeat the interchange
number of the first one's, which a payer rejects as a duplicate.  ST02 stays.
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable

from ..files import atomic_output
from ..findings import Finding
from ..model import parse_decimal
from ..x12.writer import RawSegment, RawSegmentReader, TextSink, serialise
from .route import (
    LEVELS,
    ClaimWalk,
    Envelope,
    Hierarchy,
    Loop,
    RoutedClaim,
    SetHolder,
    SplitError,
    element,
)
from .single_byte import NotSingleByte, SingleByteHandle
from .spill import SpillList


@dataclass(slots=True)
class SplitResult:
    """Where the claims went.  Accepted claims are only counted (a large file
    has many); held ones are kept with their reasons for the held report,
    spilled to disk past a bounded number."""

    accepted: int = 0
    accepted_charge: Decimal = Decimal(0)
    held: SpillList[RoutedClaim] = field(default_factory=SpillList)
    held_charge: Decimal = Decimal(0)
    # transaction sets that are not 837s: in neither file, so named here
    not_carried: SpillList[str] = field(default_factory=SpillList)
    written: list[str] = field(default_factory=list)


class _SplitFile:
    """One output of the split, written as claims are routed to it.

    Envelopes are opened only when a first claim arrives, so a set, group or
    interchange without claims for this file is left out, and a file without
    claims is never created.  The hierarchy is rebuilt per transaction set:
    HL01 numbered from 1, HL02 pointing at the HL written for the parent, and
    HL04 saying whether a child level follows.  A subscriber (2000B) is
    written again when the file needs it both with and without patient loops
    (2000C) under it, which the guide allows, so HL04 is always right without
    looking ahead.
    """

    def __init__(self, path: Path | None, reader: RawSegmentReader, stack: ExitStack,
                 numbers: Callable[[], int] | None = None) -> None:
        self.path = path
        self._numbers = numbers  # new control numbers (None: the input's)
        self._isa13 = self._gs06 = ""  # those written for the open interchange, group
        self._reader = reader
        self._stack = stack
        self._sink: TextSink | None = None
        self._output: SingleByteHandle | None = None
        # the input segments of the open envelopes
        self._isa: RawSegment | None = None
        self._gs: RawSegment | None = None
        self._st: RawSegment | None = None
        self._groups = self._sets = self._segments = 0
        self._hl_number = 0
        self._emitted: dict[str, tuple[int, int] | None] = {}  # level -> (input HL, output HL01)
        self._subscriber_has_patients = False

    # -- writing ------------------------------------------------------------
    def _write(self, text: str, trailer: str) -> None:
        if self._sink is None:
            handle = None
            if self.path is not None:  # single-byte X12 text, as fix writes (no BOM)
                handle = self._output = SingleByteHandle(
                    self._stack.enter_context(atomic_output(self.path, "wb")),
                    self._reader.encoding)
            self._sink = TextSink(handle, self._reader.encoding)
            self._sink.write(self._reader.head)
        self._sink.write(text + trailer)
        self._segments += 1

    def _copy(self, segment: RawSegment) -> None:
        self._write(segment.text, segment.trailer)

    def _rebuild(self, segment: RawSegment, values: dict[int, str]) -> None:
        fields = list(segment.fields)
        fields += [""] * (max(values) + 1 - len(fields))
        for position, value in values.items():
            fields[position] = value
        self._write(serialise(fields, segment.delimiters), segment.trailer)

    # -- envelopes ------------------------------------------------------------
    def _open(self, envelope: Envelope) -> None:
        if self._isa is not envelope.isa:
            self._isa13 = element(envelope.isa, 13)
            if self._numbers is None:
                self._copy(envelope.isa)
            else:
                self._isa13 = f"{self._numbers():09d}"
                self._rebuild(envelope.isa, {13: self._isa13})
            self._isa, self._gs, self._groups = envelope.isa, None, 0
        if self._gs is not envelope.gs:
            assert envelope.gs is not None  # routing carries no set from outside a group
            self._gs06 = element(envelope.gs, 6)
            if self._numbers is None:
                self._copy(envelope.gs)
            else:
                self._gs06 = str(self._numbers())
                self._rebuild(envelope.gs, {6: self._gs06})
            self._gs, self._st, self._sets = envelope.gs, None, 0
            self._groups += 1
        if self._st is not envelope.header[0]:
            self._st = envelope.header[0]
            self._sets += 1
            self._segments = 0
            for segment in envelope.header:
                self._copy(segment)
            self._hl_number = 0
            self._emitted = dict.fromkeys(LEVELS)

    def close(self, trailer: RawSegment) -> None:
        """Rebuild an SE, GE or IEA for what this file holds of its envelope."""
        tag = trailer.tag
        if tag == "SE" and self._st is not None:
            self._rebuild(trailer, {1: str(self._segments + 1), 2: element(self._st, 2)})
            self._st = None
        elif tag == "GE" and self._gs is not None:
            self._rebuild(trailer, {1: str(self._sets), 2: self._gs06})
            self._gs = None
        elif tag == "IEA" and self._isa is not None:
            self._rebuild(trailer, {1: str(self._groups), 2: self._isa13})
            self._isa = None

    def finish(self) -> bool:
        """Flush; True when anything was written."""
        if self._isa is not None:
            raise SplitError(f"interchange {element(self._isa, 13)} has no IEA")
        if self._sink is not None:
            self._sink.close()
        if self._output is not None:
            self._output.close()
        return self._sink is not None

    # -- claims ------------------------------------------------------------------
    def add_claim(self, envelope: Envelope, hierarchy: Hierarchy,
                  claim: list[RawSegment]) -> None:
        self._open(envelope)
        self._write_hierarchy(hierarchy["20"], hierarchy["22"], hierarchy["23"])
        for segment in claim:
            self._copy(segment)

    def _write_hierarchy(self, billing: Loop, subscriber: Loop, patient: Loop | None) -> None:
        emitted = self._emitted

        def output_hl(level: str) -> int:  # the HL01 written for the level above
            written = emitted[level]
            assert written is not None  # written just before, if it was not already
            return written[1]

        if not self._is_current("20", billing):
            self._write_loop("20", billing, parent=None, has_children=True)
            emitted["22"] = emitted["23"] = None
        wants_patients = patient is not None
        if not self._is_current("22", subscriber) or \
                self._subscriber_has_patients != wants_patients:
            self._write_loop("22", subscriber, parent=output_hl("20"),
                             has_children=wants_patients)
            self._subscriber_has_patients = wants_patients
            emitted["23"] = None
        if patient is not None and not self._is_current("23", patient):
            self._write_loop("23", patient, parent=output_hl("22"), has_children=False)

    def _is_current(self, level: str, loop: Loop) -> bool:
        emitted = self._emitted[level]
        return emitted is not None and emitted[0] == loop.key

    def _write_loop(self, level: str, loop: Loop, *, parent: int | None,
                    has_children: bool) -> None:
        self._hl_number += 1
        self._rebuild(loop.hl, {1: str(self._hl_number), 2: str(parent) if parent else "",
                                4: "1" if has_children else "0"})
        for segment in loop.segments:
            self._copy(segment)
        self._emitted[level] = (loop.key, self._hl_number)


class _Splitter(ClaimWalk):
    """The walk, writing each claim to the accepted or the held output."""

    def __init__(self, path: str | Path, findings: Iterable[Finding],
                 accepted: Path | None, held: Path | None, stack: ExitStack,
                 spill_limit: int | None, numbers: Callable[[], int] | None = None,
                 held_sets: SetHolder | None = None) -> None:
        super().__init__(path, findings, held_sets)
        self.accepted = _SplitFile(accepted, self.reader, stack, numbers)
        self.held = _SplitFile(held, self.reader, stack, numbers)
        self.result = SplitResult(held=SpillList(limit=spill_limit),
                                  not_carried=SpillList(limit=spill_limit))

    def run(self) -> SplitResult:
        for _ in self.claims():
            pass
        for output in (self.accepted, self.held):
            if output.finish() and output.path is not None:
                self.result.written.append(str(output.path))
        return self.result

    def claim_routed(self, routed: RoutedClaim, envelope: Envelope, hierarchy: Hierarchy,
                     segments: list[RawSegment]) -> None:
        if routed.accepted:
            self.result.accepted += 1
            self.result.accepted_charge += parse_decimal(routed.charge) or Decimal(0)
            self.accepted.add_claim(envelope, hierarchy, segments)
        else:
            self.result.held.append(routed)
            self.result.held_charge += parse_decimal(routed.charge) or Decimal(0)
            self.held.add_claim(envelope, hierarchy, segments)

    def trailer(self, segment: RawSegment) -> None:
        for output in (self.accepted, self.held):
            output.close(segment)

    def not_an_837(self, segment: RawSegment) -> None:
        self.result.not_carried.append(
            f"transaction set {element(segment, 2)} ({element(segment, 1) or 'no id'}) "
            f"at segment {segment.index} is not an 837")


def split_claims(path: str | Path, findings: Iterable[Finding], *,
                 accepted: Path | None = None, held: Path | None = None,
                 spill_limit: int | None = None,
                 numbers: Callable[[], int] | None = None,
                 held_sets: SetHolder | None = None) -> SplitResult:
    """Route each claim of ``path`` by its error ``findings`` (from checking that
    file, in file order) and write it to ``accepted`` or ``held``.

    The decision is :mod:`edi837.fix.route`'s.  ``accepted`` and ``held`` are
    the output files (None: route only, write nothing); a file that would
    hold no claim is not created.  Raises SplitError, leaving neither file,
    when the claims cannot all be routed.  ``spill_limit``: held claims kept
    in memory before they go to a temporary file.  ``numbers``: where each interchange
    and group written takes a new control number (default: the input's are kept).
    ``held_sets``: the transaction sets whose every claim is held (a 999's rejected
    sets: edi837.fix.rejected.RejectedSets).
    """
    with ExitStack() as stack:  # the outputs are renamed into place only on success
        try:
            return _Splitter(path, findings, accepted, held, stack, spill_limit,
                             numbers, held_sets).run()
        except NotSingleByte as exc:
            raise SplitError(str(exc)) from None
