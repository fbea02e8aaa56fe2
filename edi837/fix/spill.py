"""An append-only list that keeps a bounded number of items in memory.

`fix` collects per-file records whose number grows with the file: the
changes it made and the claims it held.  A nightly file of hundreds of
megabytes can have tens of thousands, and holding them all would make
`fix --split` grow with the file (issue #13, item 14).  A :class:`SpillList`
keeps at most ``limit`` items; past that they go to a temporary file, in
order, and iterating reads them back one at a time before the ones still in
memory.  Small files never touch the disk.

Unlike :class:`edi837.store.FindingStore` it keeps insertion order (nothing
is sorted), so it holds any picklable record.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from typing import Generic, Iterable, Iterator, TypeVar

SPILL_LIMIT = 1_000  # records held in memory before they go to the spill file

T = TypeVar("T")


class SpillList(Generic[T]):
    __slots__ = ("limit", "_buffer", "_spilled", "_path")

    def __init__(self, items: Iterable[T] = (), *, limit: int | None = None) -> None:
        self.limit = limit or SPILL_LIMIT
        self._buffer: list[T] = []
        self._spilled = 0  # items in the spill file
        self._path: str | None = None  # created on the first spill, opened only while used
        self.extend(items)

    def append(self, item: T) -> None:
        self._buffer.append(item)
        if len(self._buffer) >= self.limit:
            self._spill()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def _spill(self) -> None:
        if self._path is None:
            fd, self._path = tempfile.mkstemp(prefix="edi837-fix-")
            os.close(fd)
        with open(self._path, "ab") as handle:
            pickler = pickle.Pickler(handle, pickle.HIGHEST_PROTOCOL)
            for item in self._buffer:
                pickler.dump(item)
                pickler.clear_memo()  # each item loads on its own
        self._spilled += len(self._buffer)
        self._buffer = []

    def __iter__(self) -> Iterator[T]:
        buffered = list(self._buffer)  # what is appended while iterating is not seen
        if self._spilled and self._path is not None:  # spilled: the file is there
            with open(self._path, "rb") as handle:
                for _ in range(self._spilled):
                    yield pickle.load(handle)
        yield from buffered

    def __len__(self) -> int:
        return self._spilled + len(self._buffer)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, item: object) -> bool:
        return any(x == item for x in self)

    def __getitem__(self, position: int) -> T:
        """Item ``position`` (from 0; negative from the end): a read, not for loops."""
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        if position >= self._spilled:
            return self._buffer[position - self._spilled]
        for k, item in enumerate(self):
            if k == position:
                return item
        raise IndexError(position)

    def __eq__(self, other) -> bool:
        if isinstance(other, (SpillList, list)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"SpillList({len(self)} items, {self._spilled} spilled)"

    def __reduce__(self):
        # Sent between processes as the items themselves.
        return (SpillList, (list(self),))

    @property
    def spilled(self) -> bool:
        return self._spilled > 0

    def close(self) -> None:
        """Remove the spill file (the spilled items are gone)."""
        if self._path is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            self._path = None
            self._spilled = 0

    def __del__(self) -> None:
        self.close()
