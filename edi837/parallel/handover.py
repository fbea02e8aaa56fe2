"""Findings and claim records from a worker to the driver, through files, fast.

Like :mod:`edi837.history.handover` (pickle streams, flat memory, the same
content: findings and keyed patient hashes, never a name), but items travel
as plain tuples, a few hundred to a pickle: a 100 MB file has some 130,000
claim records, and one pickle per dataclass costs the driver about ten
microseconds each, longer than judging them.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..findings import Finding
from ..history.identity import PatientKeys
from ..history.records import ClaimRecord, LineRecord

CHUNK = 512  # items per pickle

_FINDING = attrgetter(*Finding.__slots__)
_CLAIM = attrgetter(*[f.name for f in fields(ClaimRecord) if f.name != "lines"])
_LINE = attrgetter(*[f.name for f in fields(LineRecord)])


def finding_tuple(finding: Finding) -> tuple:
    return _FINDING(finding)


def finding_of(values: tuple) -> Finding:
    return Finding(*values)


def record_tuple(record: ClaimRecord) -> tuple:
    return _CLAIM(record), [_LINE(line) for line in record.lines]


def record_of(values: tuple) -> ClaimRecord:
    claim, lines = values
    return ClaimRecord(*claim, [LineRecord(*line) for line in lines])


class ChunkWriter:
    """Items to ``path``, encoded by ``encode``, a chunk at a time; fsynced on close."""

    def __init__(self, path: str | Path, encode: Callable) -> None:
        self._handle = open(path, "wb")
        self._encode = encode
        self._chunk: list = []
        self.count = 0

    def write(self, item) -> None:
        self._chunk.append(self._encode(item))
        self.count += 1
        if len(self._chunk) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._chunk:
            pickle.dump(self._chunk, self._handle, pickle.HIGHEST_PROTOCOL)
            self._chunk = []

    def close(self) -> int:
        self._flush()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return self.count


def dump(items: Iterable, path: str | Path, encode: Callable) -> int:
    writer = ChunkWriter(path, encode)
    try:
        for item in items:
            writer.write(item)
    finally:
        count = writer.close()
    return count


def load(path: str | Path, decode: Callable) -> Iterator:
    """The items of a file written by :func:`dump` or :class:`ChunkWriter`."""
    with open(path, "rb") as handle:
        while True:
            try:
                chunk = pickle.load(handle)
            except EOFError:
                return
            yield from map(decode, chunk)


class ChunkSink:
    """Stands in for the history stage where a file (or piece) is only checked, like
    :class:`edi837.history.handover.RecordSink`, in chunks."""

    hash_first = False  # the driver knows the file's hash

    def __init__(self, path: str | Path, key: bytes, *, persistent: bool) -> None:
        self.path = Path(path)
        self.keys = PatientKeys(key)
        self.persistent = persistent
        self._writer: ChunkWriter | None = None

    def begin_file(self, sha256: str | None = None) -> None:
        self._writer = ChunkWriter(self.path, record_tuple)

    def add(self, record: ClaimRecord) -> list:
        self._writer.write(record)
        return []

    def end_file(self, sha256: str, *, keep: bool = True, commit: bool = True) -> list:
        self._writer.close()
        return []
