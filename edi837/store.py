"""A file's findings, kept in file order, spilled to disk when there are many.

A nightly file of hundreds of megabytes can carry hundreds of thousands of
findings (most of them infos).  Holding them all would make memory grow with
the file, which the reader itself is careful never to do.  A
:class:`FindingStore` keeps at most ``limit`` findings in memory: when the
buffer fills it is sorted and written to a temporary file as one sorted run,
and iterating merges the runs and the buffer, so every pass yields the
findings in file order (segment index, then rule) while holding one finding
per run.  Small files (the usual case) never touch the disk.

It behaves like the list it replaces for what the rest of the program does
with findings: append, extend, iterate (as often as needed), len, truth,
sort (a no-op: it is always in order).

Findings are settled as they are added, so that nothing reads them back to
settle them:

* a claim's DOC notes marked for its checklist (edi837.checklist) become its
  one DOC000 as they come in: the notes of a claim wait aside until a note of
  another claim arrives (or the store is read), then are folded into the
  DOC000, which joins the findings; a note arriving later for a claim whose
  DOC000 is still held (the history stage judges claims some 64 behind the
  rules) is folded again with the claim's notes, as if it had come with
  them.  A DOC000 is held back from spilling for the last ``HELD`` claims;
  a note for a claim already spilled (none in a check of one process) marks
  the store ``late``: FileResult.settle_status then merges the claim's
  DOC000s in one rewrite, as before;
* :attr:`counts` holds the findings by severity, so a file's status, the
  report's summary and its exit status need no pass over the findings;
* :attr:`version` changes with every change, so the reports' figures are
  counted once per report (edi837.reports.figures).

A run is written as pickled lists of each finding's field values, ROWS
findings a list: pickling a finding object by object (its class and field
names each time) and loading it back cost about four times as much.  The
reports read the findings once (the JSON report counts its figures while it
encodes the findings).  Merging holds one list per run.
"""
from __future__ import annotations

import heapq
import os
from copy import copy
from operator import attrgetter
from typing import Iterable, Iterator

from .checklist import CHECKLIST, ITEMS, MARK, checklist
from .findings import Finding

SPILL_LIMIT = 2_000  # findings held in memory before a run is written out
ROWS = 16  # findings per pickled list of a run: what merging holds of each run (a
# 500 MB file spills 100 runs or more, so this is what memory gains or loses)
HELD = 256  # claims whose DOC000 stays in memory at a spill, for notes that come later
_values = attrgetter(*Finding.__slots__)  # a finding's fields, in Finding's order
_FOLDED = frozenset(ITEMS) | {CHECKLIST}
_sort_key = Finding.sort_key


class FindingStore:
    __slots__ = ("limit", "_buffer", "_runs", "_path", "_count", "counts", "version",
                 "late", "_notes", "_folded", "_spilled")

    def __init__(self, findings: Iterable[Finding] = (), *, limit: int | None = None) -> None:
        self.limit = limit or SPILL_LIMIT
        self._buffer: list[Finding] = []
        self._runs: list[tuple[int, int]] = []  # (offset in the spill file, findings)
        self._path: str | None = None  # the spill file; opened only while used, so a
        self._count = 0                # batch of many files holds no descriptor per file
        self.counts: dict[str, int] = {}  # severity -> findings (once the notes are folded)
        self.version = 0  # changes whenever the findings do
        self.late = False  # a claim's notes are in two DOC000s (see the module's doc)
        self._notes: dict[tuple, list[Finding]] = {}  # claim -> its notes waiting
        # claim -> its DOC000 and notes (None: the DOC000 came whole, it is its notes)
        self._folded: dict[tuple, tuple[Finding, list[Finding] | None]] = {}
        self._spilled: dict[str, int] = {}  # path -> last claim whose DOC000 was spilled
        self.extend(findings)

    # -- adding -------------------------------------------------------------------
    def append(self, finding: Finding) -> None:
        if finding.rule in _FOLDED and MARK in finding.extra:
            self._note(finding)
            return
        self._buffer.append(finding)
        self._count += 1
        self.version += 1
        counts = self.counts
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
        if len(self._buffer) >= self.limit:
            self._spill()

    def extend(self, findings: Iterable[Finding]) -> None:
        append = self.append
        for finding in findings:
            append(finding)

    def _note(self, note: Finding) -> None:
        """A note for a claim's checklist (or a DOC000 folded elsewhere): kept aside."""
        self.version += 1
        key = (note.path, note.claim_first)
        if self._notes and key not in self._notes:
            self._fold()
        held = self._folded.get(key)
        if held is not None:  # the claim's DOC000 is still here: fold it again
            before, claim_notes = held
            if claim_notes is None:  # it came whole: its notes are it, as it came
                claim_notes = [copy(before)]
                self._folded[key] = (before, claim_notes)
            claim_notes.append(note)
            after = _checklist(claim_notes)
            counts = self.counts
            counts[before.severity] -= 1
            counts[after.severity] = counts.get(after.severity, 0) + 1
            for name in Finding.__slots__:  # the same object: it is in the buffer
                setattr(before, name, getattr(after, name))
            return
        if note.claim_first is None or \
                note.claim_first <= self._spilled.get(note.path, -1):
            self.late = self.late or bool(self._runs)
        elif note.rule == CHECKLIST and key not in self._notes:
            # a claim's DOC000 made whole (the engine makes them): it joins as it is
            buffer = self._buffer
            buffer.append(note)
            self._count += 1
            self.counts[note.severity] = self.counts.get(note.severity, 0) + 1
            self._folded[key] = (note, None)
            if len(buffer) >= self.limit:
                self._spill()
            return
        self._notes.setdefault(key, []).append(note)

    def _fold(self) -> None:
        """The waiting notes into their claims' DOC000s."""
        notes, self._notes = self._notes, {}
        buffer, counts, folded = self._buffer, self.counts, self._folded
        for key, claim_notes in notes.items():
            doc = _checklist(claim_notes)
            if doc is claim_notes[0]:  # a DOC000 folded elsewhere: its notes keep it as is
                doc = copy(doc)
            buffer.append(doc)
            self._count += 1
            counts[doc.severity] = counts.get(doc.severity, 0) + 1
            if key[1] is not None:
                folded[key] = (doc, claim_notes)
        if len(buffer) >= self.limit:
            self._spill()

    def _spill(self) -> None:
        if self._path is None:
            import tempfile  # past SPILL_LIMIT findings only (a small check never spills)

            from .spilldir import folder  # (a process killed midway: swept by the next)

            fd, self._path = tempfile.mkstemp(prefix="edi837-findings-", dir=folder())
            os.close(fd)
        buffer = self._buffer
        kept: list[Finding] = []
        folded = self._folded
        if folded:  # the last claims' DOC000s stay, for notes that may still come
            keys = list(folded)
            stay = keys[len(keys) - min(HELD, self.limit // 4, len(keys)):]
            for key in keys[:len(keys) - len(stay)]:
                if key[1] > self._spilled.get(key[0], -1):
                    self._spilled[key[0]] = key[1]
                del folded[key]
            if stay:
                held = {id(folded[key][0]) for key in stay}
                kept = [f for f in buffer if id(f) in held]
                buffer = [f for f in buffer if id(f) not in held]
        buffer.sort(key=_sort_key)
        import pickle  # (here: a check that never spills does not load it)

        with open(self._path, "ab") as handle:
            self._runs.append((handle.tell(), len(buffer)))
            for start in range(0, len(buffer), ROWS):
                pickle.dump(list(map(_values, buffer[start:start + ROWS])), handle,
                            pickle.HIGHEST_PROTOCOL)
        self._buffer = kept

    # -- reading ------------------------------------------------------------------
    @staticmethod
    def _run(handle, offset: int, count: int) -> Iterator[Finding]:
        import pickle

        position = offset
        while count > 0:
            handle.seek(position)  # other runs move the shared file position
            rows = pickle.load(handle)
            position = handle.tell()
            count -= len(rows)
            for row in rows:
                yield Finding(*row)

    def __iter__(self) -> Iterator[Finding]:
        if self._notes:
            self._fold()
        self._buffer.sort(key=_sort_key)
        if not self._runs or self._path is None:  # runs: spilled to the file at _path
            return iter(list(self._buffer))
        return self._merged(self._path, list(self._buffer))

    def _merged(self, path: str, buffered: list[Finding]) -> Iterator[Finding]:
        with open(path, "rb") as handle:
            runs = [self._run(handle, offset, count) for offset, count in self._runs]
            yield from heapq.merge(*runs, buffered, key=_sort_key)

    def __len__(self) -> int:
        if self._notes:
            self._fold()
        return self._count

    def __bool__(self) -> bool:
        return len(self) > 0

    def severities(self) -> dict[str, int]:
        """Findings by severity (notes folded), without reading them."""
        if self._notes:
            self._fold()
        return self.counts

    def sort(self, key=None) -> None:
        """Findings are always yielded in file order; kept for list compatibility."""
        self._buffer.sort(key=_sort_key)

    def __reduce__(self):
        # Sent between processes (batch, validate workers) as the findings themselves.
        return (FindingStore, (list(self),))

    def __eq__(self, other) -> bool:
        if isinstance(other, (FindingStore, list)):
            return list(self) == list(other)
        return NotImplemented

    @property
    def spilled(self) -> bool:
        return bool(self._runs)

    def close(self) -> None:
        """Remove the spill file (what was spilled is gone afterwards)."""
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
            self._runs = []
            self._count = len(self._buffer)
            counts: dict[str, int] = {}
            for finding in self._buffer:
                counts[finding.severity] = counts.get(finding.severity, 0) + 1
            self.counts = counts
            self.version += 1

    def __del__(self) -> None:
        self.close()


def _checklist(notes: list[Finding]) -> Finding:
    """A claim's DOC000 from its notes, as edi837.checklist.fold makes it from the
    notes in file order (a DOC000 folded elsewhere, alone, is that DOC000)."""
    if len(notes) == 1 and notes[0].rule == CHECKLIST:
        return notes[0]
    if len(notes) > 1:
        notes.sort(key=_sort_key)
    return checklist(notes)
