"""What a worker does for `check --jobs/--dask`: check one file, or one piece of
one, or read a large file once to cut it (its hash and where to cut it).

Workers get plain arguments (:class:`CheckSettings`, a :class:`Unit`) and
return a plain dict, findings and claim records in it as bytes
(:mod:`edi837.history.handover`): no folder is shared with the driver, so a
cluster's worker runs in a folder of its own on a host of its own.  They read
the input at the location the driver gave (an absolute path, or a URL:
:func:`edi837.locations.open_input`); one that cannot says so (``unreachable``:
a cluster problem).  A lasting history is judged by the driver, in input
order; the run's own history is judged by workers too, by patient shard
(:mod:`.shards`: a unit's records come back split by shard).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import Config
from ..history.handover import RecordSink, findings_bytes
from ..locations import is_url, open_input
from ..workers import unreachable
from .keys import key_for
from .pieces import Piece, file_identity
from .sets import SetPiece, SetReader


@dataclass(frozen=True)
class CheckSettings:
    """What a worker needs to check like the driver; picklable."""

    drug_tables: tuple[str, ...]
    config: Config
    history_key_id: str  # the key's fingerprint: the key reaches workers once (keys)
    history_persistent: bool  # DOC001's first-dose note then comes from HIS003
    refdata: str | None = None  # imported reference data folder, and the import the
    refdata_snapshot: int | None = None  # driver read (every worker judges by the same)


@dataclass(frozen=True)
class Unit:
    path: str  # where the input is: an absolute path, or a URL
    piece: Piece | SetPiece | None = None  # None: the whole file
    sha256: str = ""  # the whole file's, as the scan hashed it (checked when given)
    scan: int = 0  # a piece size: read the file to cut it (:func:`scan_unit`) if large
    shards: int = 0  # the claim records split by patient shard (edi837.parallel.shards)


_engine: list = [None, None]  # [settings, engine] of this process: the table loads once


def adopt(settings: CheckSettings, engine) -> None:
    """Use ``engine`` for ``settings`` in this process (forked workers inherit it)."""
    _engine[:] = [settings, engine]


def engine_for(settings: CheckSettings):
    if _engine[0] is not None and _engine[0] == settings:
        return _engine[1]
    from pathlib import Path

    from ..drugs import load_drug_table
    from ..engine import Engine

    reference = None
    if settings.refdata is not None:
        from ..refdata import open_reference

        reference = open_reference(Path(settings.refdata), settings.refdata_snapshot)
    table = load_drug_table(list(settings.drug_tables), refdata=reference)
    _engine[:] = [settings, Engine(table, settings.config)]
    return _engine[1]


class _PieceRead:
    """A piece as Engine.check_file takes it, keeping the reader it made."""

    def __init__(self, piece: Piece | SetPiece) -> None:
        self.piece = piece
        self.made = None

    def open(self):
        return self.piece.open()

    def reader(self, path, stream):
        self.made = self.piece.reader(path, stream)
        return self.made


def check_unit(settings: CheckSettings, unit: Unit) -> dict:
    """Check a file or piece (or scan a large file: :func:`scan_unit`).

    Returns the file's facts with its ``findings`` and claim ``records`` (bytes),
    or ``unreachable`` (this worker cannot open the input), ``changed`` (the
    file is not the one the scan read), ``failed`` (edi837 failed on it: EDI008)
    or ``mismatch`` (the piece does not hold the segments the scan counted) for
    a piece the driver must not use (it then has the file checked whole)."""
    trouble = unreachable(unit.path, open_input)
    if trouble is not None:
        return trouble
    if unit.scan:
        return scan_unit(settings, unit)
    engine = engine_for(settings)
    piece = unit.piece
    if piece is not None and file_identity(unit.path) != piece.identity:
        return {"changed": True}
    read = _PieceRead(piece) if piece is not None else None
    sink = RecordSink(None, key_for(settings.history_key_id),
                      persistent=settings.history_persistent, shards=unit.shards)
    result = engine.check_file(unit.path, history=sink, piece=read)
    try:
        findings = findings_bytes(result.findings)
    finally:
        result.findings.close()
    facts = {"path": result.path, "status": result.status, "transactions": result.transactions,
             "claims": result.claims, "drug_lines": result.drug_lines, "size": result.size,
             "sha256": result.sha256, "submitters": result.submitters,
             "payer_ids": sorted(result.payer_ids), "broken_sets": result.broken_sets,
             "findings": findings, "records": sink.data}
    if piece is None:
        if unit.sha256 and result.sha256 != unit.sha256:
            return {"changed": True}
        return facts
    reader = read.made
    if reader is None or any(f.rule == "EDI008" for f in reader.findings):
        return {"failed": True}
    if reader.segments.mismatch:
        return {"mismatch": True}
    if file_identity(unit.path) != piece.identity:
        return {"changed": True}
    if isinstance(reader, SetReader):  # what the driver judges the envelopes by
        facts.update(reader.facts())
    return facts


def scan_unit(settings: CheckSettings, unit: Unit) -> dict:
    """Read a large file once (:func:`.scan.read_and_cut`): ``scanned`` (its size, hash,
    transaction sets and submitters), its ``pieces``, its ``envelope`` findings
    (bytes) and whether it is ``unreadable``.  A file not worth cutting (small, or
    mostly passed over by the fast path: :mod:`.density`), not cut, or changed
    while read is checked whole here and then (:func:`check_unit`'s result), so
    the driver only hashes and cuts nothing."""
    from .density import mostly_passed_over
    from .scan import read_and_cut, worth_splitting

    whole = replace(unit, scan=0)
    engine = engine_for(settings)
    if is_url(unit.path) or not worth_splitting(unit.path, unit.scan) or \
            (engine.fast and mostly_passed_over(unit.path, engine.table.drugs)):
        return check_unit(settings, whole)
    pieces: list[Piece] = []
    try:
        read = read_and_cut(unit.path, unit.scan, pieces.append)
    except Exception:  # the whole file's check says what is wrong
        read = None
    if read is None:
        return check_unit(settings, whole)
    result = read.result
    envelope = engine_for(settings)._reader_findings(read.envelope)
    return {"scanned": {"size": result.size, "sha256": result.sha256,
                        "transactions": result.transactions, "submitters": result.submitters},
            "pieces": pieces, "envelope": findings_bytes(envelope),
            "unreadable": read.unreadable}
