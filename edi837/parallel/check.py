"""The driver of `check --jobs N` / `check --dask`: the same report as one job.

Files are taken in the order given.  A small file is one unit, checked whole
by a worker; a large one is read once here (``scan``: its envelope findings,
its hash and where to cut it) and its pieces are checked by workers while the
read goes on.  The driver alone judges the patient history: each file's
claim records, piece after piece, in input order, with the run's one
:class:`~edi837.history.HistoryStage` (the `--history` store or the run's
own).  A file's findings are its pieces' (in file order), the history's, and
the envelope findings of the driver's read; the report writers sort them as
always.  A piece that cannot be used (the file changed, edi837 failed on it,
its segments are not the ones counted) makes the driver check that file
whole, so the result is always the whole file's.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..engine import Engine, FileResult, Report
from ..history.handover import read_findings, read_records
from .scan import read_and_cut, worth_splitting
from .work import Unit

PIECE_SIZE = 8 << 20  # bytes: a few MB, so a piece's fixed costs stay small
LOOKAHEAD = 4  # units planned ahead of the oldest unjudged one, per worker slot


@dataclass
class _File:
    """A file in hand: its units in file order, each with its future."""

    path: str
    units: list = field(default_factory=list)  # [unit, future]
    scanned: FileResult | None = None  # split: what the driver's read found
    envelope: list = field(default_factory=list)  # split: the read's envelope findings
    unreadable: bool = False
    judged: int = 0  # units whose records the history has
    result: FileResult | None = None


class ParallelCheck:
    """Run ``engine``'s check of files on ``executor`` (LocalUnits or Dask)."""

    def __init__(self, engine: Engine, executor, *, work_dir: str | None = None,
                 piece_size: int | None = None) -> None:
        self.engine = engine
        self.executor = executor
        self.piece_size = piece_size or PIECE_SIZE
        # workers (a cluster's run in other folders) are given absolute paths; reports
        # name each file as it was given
        self._work = tempfile.mkdtemp(prefix=".edi837-work-", dir=work_dir and
                                      os.path.abspath(work_dir))
        self._count = 0

    def run(self, paths) -> Report:
        engine = self.engine
        report = Report([], engine.table.version, config_source=engine.config.source,
                        reference_data=engine.table.reference_data())
        files: deque[_File] = deque()
        pending = deque(str(p) for p in paths)
        try:
            while pending or files:
                while files and self._judge(files[0]):
                    report.files.append(files.popleft().result)
                if pending and self._in_hand(files) < LOOKAHEAD * self.executor.slots:
                    files.append(self._plan(pending.popleft()))
                    continue
                if files:
                    running = [f for _, f in files[0].units[files[0].judged:] if not f.done()]
                    if running:
                        self.executor.wait(running)
        finally:
            shutil.rmtree(self._work, ignore_errors=True)
        report.finished = time.time()
        report.reference_data["history"] = engine.history_facts()
        return report

    @staticmethod
    def _in_hand(files) -> int:
        return sum(len(f.units) - f.judged for f in files)

    # -- planning: a file whole, or read here and cut into pieces -------------------------
    def _unit(self, path: str, piece=None, sha256: str = "") -> Unit:
        self._count += 1
        where = os.path.abspath(path)
        if piece is not None and piece.path != where:
            piece = replace(piece, path=where)
        return Unit(where, os.path.join(self._work, str(self._count)), piece, sha256)

    def _plan(self, path: str) -> _File:
        file = _File(path)
        if not worth_splitting(path, self.piece_size):
            self._submit(file, self._unit(path))
            return file
        try:
            self._scan(file)
        except Exception:  # the driver's read failed: the worker's will say why
            file.scanned = None
        if file.scanned is None:  # not cut, or changed while read: checked whole
            self._drop(file)
            file.units = []
            self._submit(file, self._unit(path))
        return file

    def _scan(self, file: _File) -> None:
        path = file.path
        read = read_and_cut(path, self.piece_size,
                            lambda piece: self._submit(file, self._unit(path, piece)))
        if read is not None:
            file.scanned, file.unreadable = read.result, read.unreadable
            file.envelope = self.engine._reader_findings(read.envelope)

    def _submit(self, file: _File, unit: Unit) -> None:
        file.units.append([unit, self.executor.submit(unit)])

    # -- judging, in input order -----------------------------------------------------------
    def _judge(self, file: _File) -> bool:
        """Take the file's finished units in order into the history; True when the
        file is complete (its result made)."""
        stage = self.engine.history
        while file.judged < len(file.units):
            unit, future = file.units[file.judged]
            if not future.done():
                return False
            facts = self.executor.result(future)
            if file.scanned is None:  # the whole file, checked by one worker
                return self._whole(file, unit, facts)
            if not facts.get("sha256"):  # this piece cannot be used: check the file whole
                if file.judged:
                    stage.end_file(file.scanned.sha256, keep=False)
                self._drop(file)
                file.scanned, file.judged = None, 0
                file.units = []
                self._submit(file, self._unit(file.path))
                return False
            result = file.scanned
            if file.judged == 0:
                stage.begin_file(result.sha256)
            result.claims += facts["claims"]
            result.drug_lines += facts["drug_lines"]
            result.submitters.update(facts.get("submitters") or {})  # each piece's sets
            result.findings.extend(_named(read_findings(unit.work + ".findings"), file.path))
            for record in _named(read_records(unit.work + ".records"), file.path):
                result.findings.extend(stage.add(record))
            self._remove(unit)
            file.judged += 1
        result = file.scanned
        result.findings.extend(stage.end_file(result.sha256, keep=not file.unreadable))
        result.findings.extend(file.envelope)
        result.status = "unreadable" if file.unreadable else "ok"
        result.settle_status()
        file.result = result
        return True

    def _whole(self, file: _File, unit: Unit, facts: dict) -> bool:
        stage = self.engine.history
        if facts.get("killed"):  # it killed its worker twice: reported, the run goes on
            from ..findings import ERROR, Finding
            from .cluster import KILLED

            self._remove(unit)
            file.result = FileResult(file.path, status="unreadable")
            file.result.findings.extend(self.engine._reader_findings(
                [Finding("EDI008", ERROR, KILLED, file.path)]))
            return True
        if "sha256" not in facts:  # changed under us: check it here, as one job would
            self._remove(unit)
            file.result = self.engine.check_file(file.path)
            return True
        result = FileResult(**{**facts, "path": file.path})
        result.findings.extend(_named(read_findings(unit.work + ".findings"), file.path))
        records = _named(read_records(unit.work + ".records"), file.path)
        result.findings.extend(stage.apply_file(records, result.sha256,
                                                keep=result.status != "unreadable"))
        result.settle_status()  # the history's DOC notes join the claims' DOC000s
        self._remove(unit)
        file.judged = len(file.units)
        file.result = result
        return True

    def _drop(self, file: _File) -> None:
        for _unit, future in file.units:
            future.cancel()
        for unit, future in file.units:
            if not future.cancelled():
                try:
                    self.executor.result(future)
                except Exception:  # its findings are not used anyway
                    pass
            self._remove(unit)

    @staticmethod
    def _remove(unit: Unit) -> None:
        for suffix in (".findings", ".records"):
            try:
                os.unlink(unit.work + suffix)
            except FileNotFoundError:
                pass


def _named(items, path: str):
    """Findings or claim records of a worker, named by the path as given (the worker
    read it at its absolute path)."""
    for item in items:
        if item.path != path:
            item.path = path
        yield item


def check_files(engine: Engine, paths, *, jobs: int = 1, dask: str | None = None,
                insecure: bool = False, work_dir: str | None = None,
                drug_tables=(), piece_size: int | None = None) -> Report:
    """`check --jobs N` / `--dask ADDRESS`: ``engine``'s report on ``paths``, checked by
    worker processes or a Dask cluster.  Raises ``cluster.ClusterError`` (a refused or
    unreachable cluster) and ``WorkerLost`` (a local worker process died)."""
    from .keys import install
    from .work import CheckSettings

    reference = engine.table.reference
    stage = engine.history
    settings = CheckSettings(
        drug_tables=tuple(os.path.abspath(p) for p in drug_tables), config=engine.config,
        history_key_id=install(stage.keys.key), history_persistent=stage.persistent,
        refdata=os.path.abspath(reference.directory) if reference is not None else None,
        refdata_snapshot=reference.snapshot if reference is not None else None)
    if dask is None:
        from .executors import LocalUnits

        executor, client, cluster = LocalUnits(settings, jobs, engine), None, None
    else:
        from .cluster import DaskUnits, connect

        client, cluster = connect(dask, insecure)
        executor = DaskUnits(client, settings)
        if work_dir is None and cluster is None:
            # the workers write their handover files where they read the inputs
            work_dir = str(Path(paths[0]).resolve().parent)
    try:
        return ParallelCheck(engine, executor, work_dir=work_dir,
                             piece_size=piece_size or PIECE_SIZE).run(paths)
    finally:
        executor.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
