"""Records and findings handed from where a file was checked to where the
history is kept: a worker process (or machine) checks, the driver judges the
claims in input order, and a worker writes the reports.  They cross as files
in one process's own folders, and as bytes in a task's result between a
worker and the driver (issue 26: no folder is shared between hosts).

Pickle streams written a chunk of plain tuples at a time and read back the
same way, so a file of any size crosses with flat memory, and fast (one
pickle per dataclass cost the driver about ten microseconds an item, longer
than judging it: a 100 MB file has some 130,000 claim records).  They hold
what the reports hold (findings) and keyed patient hashes (records): never a
name, member id or birth date.
"""
from __future__ import annotations

import io
import os
import pickle
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..findings import Finding
from ..store import FindingStore
from .identity import PatientKeys
from .records import ClaimRecord, LineRecord, claim_record

CHUNK = 512  # items per pickle
# a batch job's work folder (and a task's result): a check's findings and claim records,
# the history's findings
FINDINGS, RECORDS, HISTORY = "findings", "records", "history"

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
    """Items to ``path``, encoded by ``encode``, a chunk at a time; fsynced, then put
    in place whole on close (a reader never sees half a file, and a worker that
    Dask runs again after its first attempt was taken puts the same bytes in
    place of the same file)."""

    def __init__(self, path: str | Path, encode: Callable) -> None:
        self.path = Path(path)
        self._temp = self.path.with_name(f".{self.path.name}.{os.getpid()}-{id(self):x}.tmp")
        self._handle = open(self._temp, "wb")
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
        try:
            self._flush()
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except BaseException:
            self.abort()  # (disk full at the last chunk): no file, no temporary left
            raise
        os.replace(self._temp, self.path)
        return self.count

    def abort(self) -> None:
        """Drop what was written: the file is not made."""
        try:
            self._handle.close()
        except OSError:  # its last buffer could not be written either (disk full)
            pass
        try:
            os.unlink(self._temp)
        except FileNotFoundError:
            pass


def dump(items: Iterable, path: str | Path, encode: Callable) -> int:
    writer = ChunkWriter(path, encode)
    try:
        for item in items:
            writer.write(item)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def load(path: str | Path, decode: Callable) -> Iterator:
    """The items of a file written by :func:`dump` or :class:`ChunkWriter`."""
    with open(path, "rb") as handle:
        yield from _chunks(handle, decode)


def _chunks(handle, decode: Callable) -> Iterator:
    while True:
        try:
            chunk = pickle.load(handle)
        except EOFError:
            return
        yield from map(decode, chunk)


class BytesWriter(ChunkWriter):
    """A :class:`ChunkWriter` into memory: ``data`` (the same bytes the file would
    hold) once closed, for a task's result."""

    def __init__(self, encode: Callable) -> None:
        self._handle = io.BytesIO()
        self._encode = encode
        self._chunk: list = []
        self.count = 0
        self.data = b""

    def close(self) -> int:
        self._flush()
        self.data = self._handle.getvalue()
        self._handle.close()
        return self.count

    def abort(self) -> None:
        self._handle.close()


def dumps(items: Iterable, encode: Callable) -> bytes:
    """:func:`dump` into bytes."""
    writer = BytesWriter(encode)
    for item in items:
        writer.write(item)
    writer.close()
    return writer.data


def loads(data: bytes, decode: Callable) -> Iterator:
    """The items of bytes made by :func:`dumps` (or read from a :func:`dump` file)."""
    return _chunks(io.BytesIO(data), decode)


class RecordSink:
    """Stands in for the history stage where a file (or a piece of one) is only
    checked: keeps the claims' records for the driver, in a file (``path``) or in
    memory (``path`` None: ``data`` once the file is done), judges nothing."""

    hash_first = False  # the driver knows the file's hash

    def __init__(self, path: str | Path | None, key: bytes, *, persistent: bool,
                 named: str | None = None, shards: int = 0) -> None:
        self.path = Path(path) if path is not None else None
        self.named = named  # the input the records name, when a copy of it is checked
        self.keys = PatientKeys(key)
        self.persistent = persistent
        # in memory, split by the patient's shard (edi837.parallel.shards): ``data`` is
        # then a list of bytes, one per shard
        self.shards = shards
        self._writer: ChunkWriter | None = None
        self._writers: list[BytesWriter] = []

    @property
    def data(self):
        """The records as bytes (an in-memory sink; ``b""`` before the file ends), or
        with ``shards``, a list of bytes: each shard's records."""
        if self.shards:
            return [writer.data for writer in self._writers] if self._writers \
                else [b""] * self.shards
        return getattr(self._writer, "data", b"")

    def begin_file(self, sha256: str | None = None) -> None:
        if self.shards:
            self._writers = [BytesWriter(record_tuple) for _ in range(self.shards)]
            return
        self._writer = ChunkWriter(self.path, record_tuple) if self.path is not None \
            else BytesWriter(record_tuple)

    def add_claim(self, claim, lines, patient: bytes, held: bool, known) -> list:
        return self.add(claim_record(claim, lines, patient, held, known))

    def add(self, record: ClaimRecord) -> list:
        if self.named is not None:
            record.path = self.named
        if self.shards:
            self._writers[shard_of(record.patient, self.shards)].write(record)
        else:
            self._writer.write(record)
        return []

    def end_file(self, sha256: str, *, keep: bool = True, commit: bool = True) -> list:
        if self.shards:
            for writer in self._writers:
                writer.close()
        else:
            self._writer.close()
        return []


def shard_of(patient: bytes, shards: int) -> int:
    """The history shard of a patient's keyed hash (HMAC bytes, uniform already; the
    Bloom filter of the store probes bytes 0-11, so these are 12-15)."""
    return int.from_bytes(patient[12:16], "little") % shards


# -- the kinds a batch or check hands over --------------------------------------------
def dump_findings(findings: Iterable[Finding], path: str | Path) -> int:
    return dump(findings, path, finding_tuple)


def read_findings(path: str | Path) -> Iterator[Finding]:
    return load(path, finding_of)


def load_findings(path: str | Path) -> FindingStore:
    """Findings back into a store (which spills to disk past its limit)."""
    store = FindingStore()
    store.extend(read_findings(path))
    return store


def read_records(path: str | Path) -> Iterator[ClaimRecord]:
    return load(path, record_of)


def findings_bytes(findings: Iterable[Finding]) -> bytes:
    return dumps(findings, finding_tuple)


def findings_of_bytes(data: bytes) -> Iterator[Finding]:
    return loads(data, finding_of)


def records_of_bytes(data: bytes) -> Iterator[ClaimRecord]:
    return loads(data, record_of)
