"""An append-only list that keeps a bounded number of items in memory.

`fix` collects per-file records whose number grows with the file: the
changes it made and the claims it held.  A nightly file of hundreds of
megabytes can have tens of thousands, and holding them all would make
`fix --split` grow with the file (issue #13, item 14).  A :class:`SpillList`
keeps at most ``limit`` items; past that they go to a temporary file, in
order, and iterating reads them back one at a time before the ones still in
memory.  Small files never touch the disk.  The temporary file has no name
(removed as soon as it is made, held open): a process killed with SIGKILL
leaves nothing behind in the temporary folder.

Unlike :class:`edi837.store.FindingStore` it keeps insertion order (nothing
is sorted), so it holds any picklable record.
"""
from __future__ import annotations

import pickle
import tempfile
from typing import IO, Generic, Iterable, Iterator, TypeVar

SPILL_LIMIT = 1_000  # records held in memory before they go to the spill file

T = TypeVar("T")


class SpillList(Generic[T]):
    __slots__ = ("limit", "_buffer", "_spilled", "_file")

    def __init__(self, items: Iterable[T] = (), *, limit: int | None = None) -> None:
        self.limit = limit or SPILL_LIMIT
        self._buffer: list[T] = []
        self._spilled = 0  # items in the spill file
        self._file: IO[bytes] | None = None  # the nameless spill file, made on the first spill
        self.extend(items)

    def append(self, item: T) -> None:
        self._buffer.append(item)
        if len(self._buffer) >= self.limit:
            self._spill()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def _spill(self) -> None:
        handle = self._file
        if handle is None:
            handle = self._file = tempfile.TemporaryFile(prefix="edi837-fix-")
        handle.seek(0, 2)  # appended at the end, whatever a reader left the offset at
        pickler = pickle.Pickler(handle, pickle.HIGHEST_PROTOCOL)
        for item in self._buffer:
            pickler.dump(item)
            pickler.clear_memo()  # each item loads on its own
        self._spilled += len(self._buffer)
        self._buffer = []

    def __iter__(self) -> Iterator[T]:
        buffered = list(self._buffer)  # what is appended while iterating is not seen
        handle, count, offset = self._file, self._spilled, 0
        if count and handle is not None:  # spilled: the file is there
            handle.flush()
            for _ in range(count):
                handle.seek(offset)  # a spill between two items moved the offset
                item = pickle.load(handle)
                offset = handle.tell()
                yield item
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
        """Close the spill file, which goes with it (the spilled items are gone)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._spilled = 0

    def __del__(self) -> None:
        self.close()
