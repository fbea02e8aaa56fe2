"""Records and findings handed from where a file was checked to where the
history is kept, through files: a worker process (or machine) checks, the
driver judges the claims in input order, and a worker writes the reports.

Each is a pickle stream written one item at a time and read back the same
way, so a file of any size crosses with flat memory.  They hold what the
reports hold (findings) and keyed patient hashes (records): never a name,
member id or birth date.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Iterable, Iterator

from ..store import FindingStore
from .identity import PatientKeys
from .records import ClaimRecord


def dump(items: Iterable, path: str | Path) -> int:
    """Write items to ``path`` (replacing it); returns how many."""
    count = 0
    with open(path, "wb") as handle:
        pickler = pickle.Pickler(handle, pickle.HIGHEST_PROTOCOL)
        for item in items:
            pickler.dump(item)
            pickler.clear_memo()
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    return count


def load(path: str | Path) -> Iterator:
    """The items of a stream written by :func:`dump`, one at a time."""
    with open(path, "rb") as handle:
        while True:
            try:
                # a new unpickler each time: the writer cleared its memo after each item
                yield pickle.load(handle)
            except EOFError:
                return


def load_findings(path: str | Path) -> FindingStore:
    """Findings back into a store (which spills to disk past its limit)."""
    store = FindingStore()
    store.extend(load(path))
    return store


class RecordSink:
    """Stands in for the history stage where a file is only checked: keeps the
    claims' records in a file for the driver, judges nothing."""

    def __init__(self, path: str | Path, key: bytes, *, persistent: bool) -> None:
        self.path = Path(path)
        self.keys = PatientKeys(key)
        self.persistent = persistent
        self.hash_first = False  # the driver knows the file's hash
        self._handle = None
        self._pickler = None
        self.count = 0

    def begin_file(self, sha256: str | None = None) -> None:
        self._handle = open(self.path, "wb")
        self._pickler = pickle.Pickler(self._handle, pickle.HIGHEST_PROTOCOL)

    def add_claim(self, claim, lines, patient: bytes, held: bool, known) -> list:
        from .records import claim_record

        return self.add(claim_record(claim, lines, patient, held, known))

    def add(self, record: ClaimRecord) -> list:
        self._pickler.dump(record)
        self._pickler.clear_memo()
        self.count += 1
        return []

    def end_file(self, sha256: str, *, keep: bool = True, commit: bool = True) -> list:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = self._pickler = None
        return []
