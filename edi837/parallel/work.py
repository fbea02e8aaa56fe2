"""What a worker does for `check --jobs/--dask`: check one file, or one piece of one.

Workers get plain arguments (:class:`CheckSettings`, a :class:`Unit`) and
return a plain dict; findings and claim records go to the unit's handover
files (``.findings``, ``.records``), beside which the driver reads them.  They
read the input at the path the driver gave (a path they share), and never
judge the patient history: that is the driver's, in input order.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from ..history.handover import RecordSink, dump_findings
from .pieces import Piece, file_identity


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
    path: str
    work: str  # handover files: work + ".findings", work + ".records"
    piece: Piece | None = None  # None: the whole file
    sha256: str = ""  # the whole file's, as the driver hashed it (checked when given)


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

    def __init__(self, piece: Piece) -> None:
        self.piece = piece
        self.made = None

    def open(self):
        return self.piece.open()

    def reader(self, path, stream):
        self.made = self.piece.reader(path, stream)
        return self.made


def check_unit(settings: CheckSettings, unit: Unit) -> dict:
    """Check a file or piece; its findings and records go to the handover files.

    Returns the file's facts, and ``changed`` (the file is not the one the
    driver read), ``failed`` (edi837 failed on it: EDI008) or ``mismatch``
    (the piece does not hold the segments the driver counted) for a piece the
    driver must not use (it then checks the file whole)."""
    engine = engine_for(settings)
    piece = unit.piece
    if piece is not None and file_identity(unit.path) != piece.identity:
        return {"changed": True}
    read = _PieceRead(piece) if piece is not None else None
    from .keys import key_for

    sink = RecordSink(unit.work + ".records", key_for(settings.history_key_id),
                     persistent=settings.history_persistent)
    result = engine.check_file(unit.path, history=sink, piece=read)
    try:
        dump_findings(result.findings, unit.work + ".findings")
    finally:
        result.findings.close()
    facts = {"path": result.path, "status": result.status, "transactions": result.transactions,
             "claims": result.claims, "drug_lines": result.drug_lines, "size": result.size,
             "sha256": result.sha256, "submitters": result.submitters}
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
    return facts
