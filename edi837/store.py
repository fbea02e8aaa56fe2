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

A run is written as pickled lists of each finding's field values, ROWS
findings a list: pickling a finding object by object (its class and field
names each time) and loading it back cost about four times as much, and the
reports read the findings three times (figures, the report, the summary).
Merging holds one list per run.
"""
from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from operator import attrgetter
from typing import Iterable, Iterator

from .findings import Finding

SPILL_LIMIT = 2_000  # findings held in memory before a run is written out
ROWS = 16  # findings per pickled list of a run: what merging holds of each run (a
# 500 MB file spills 100 runs or more, so this is what memory gains or loses)
_values = attrgetter(*Finding.__slots__)  # a finding's fields, in Finding's order


class FindingStore:
    __slots__ = ("limit", "_buffer", "_runs", "_path", "_count")

    def __init__(self, findings: Iterable[Finding] = (), *, limit: int | None = None) -> None:
        self.limit = limit or SPILL_LIMIT
        self._buffer: list[Finding] = []
        self._runs: list[tuple[int, int]] = []  # (offset in the spill file, findings)
        self._path: str | None = None  # the spill file; opened only while used, so a
        self._count = 0                # batch of many files holds no descriptor per file
        self.extend(findings)

    # -- adding -------------------------------------------------------------------
    def append(self, finding: Finding) -> None:
        self._buffer.append(finding)
        self._count += 1
        if len(self._buffer) >= self.limit:
            self._spill()

    def extend(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.append(finding)

    def _spill(self) -> None:
        if self._path is None:
            fd, self._path = tempfile.mkstemp(prefix="edi837-findings-")
            os.close(fd)
        buffer = self._buffer
        buffer.sort(key=Finding.sort_key)
        with open(self._path, "ab") as handle:
            self._runs.append((handle.tell(), len(buffer)))
            for start in range(0, len(buffer), ROWS):
                pickle.dump(list(map(_values, buffer[start:start + ROWS])), handle,
                            pickle.HIGHEST_PROTOCOL)
        self._buffer = []

    # -- reading ------------------------------------------------------------------
    @staticmethod
    def _run(handle, offset: int, count: int) -> Iterator[Finding]:
        position = offset
        while count > 0:
            handle.seek(position)  # other runs move the shared file position
            rows = pickle.load(handle)
            position = handle.tell()
            count -= len(rows)
            for row in rows:
                yield Finding(*row)

    def __iter__(self) -> Iterator[Finding]:
        self._buffer.sort(key=Finding.sort_key)
        if not self._runs or self._path is None:  # runs: spilled to the file at _path
            return iter(list(self._buffer))
        return self._merged(self._path, list(self._buffer))

    def _merged(self, path: str, buffered: list[Finding]) -> Iterator[Finding]:
        with open(path, "rb") as handle:
            runs = [self._run(handle, offset, count) for offset, count in self._runs]
            yield from heapq.merge(*runs, buffered, key=Finding.sort_key)

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def sort(self, key=None) -> None:
        """Findings are always yielded in file order; kept for list compatibility."""
        self._buffer.sort(key=Finding.sort_key)

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
        """Remove the spill file (the store is empty afterwards)."""
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
            self._runs = []
            self._count = len(self._buffer)

    def __del__(self) -> None:
        self.close()
