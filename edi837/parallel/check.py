"""The driver of `check --jobs N` / `check --dask`: the same report as one job.

Files are taken in the order given.  A small file is one unit, checked whole
by a worker; a large one is read once (``scan``: its envelope findings, its
hash and where to cut it) and its pieces are checked by workers.  With
`--jobs` the driver reads it, handing out pieces while the read goes on; on a
cluster a worker does (``work.scan_unit``: the file's location goes out, the
pieces' spans and the hash come back), so the driver hashes and cuts nothing.
Workers return findings and claim records in their results (bytes): no
folder is shared, and the driver writes nothing for them.  The driver alone
judges the patient history: each file's claim records, piece after piece, in
input order, with the run's one :class:`~edi837.history.HistoryStage` (the
`--history` store or the run's own).  A file's findings are its pieces' (in
file order), the history's, and the envelope findings of the scan; the
report writers sort them as always.  A piece that cannot be used (the file
changed, edi837 failed on it, its segments are not the ones counted) makes
the driver have that file checked whole, so the result is always the whole
file's.  A cluster's worker that cannot read an input stops the run
(``ClusterError``, exit 2), naming the file and the worker.
"""
from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field, replace

from ..engine import Engine, FileResult, Report
from ..history.handover import findings_of_bytes, records_of_bytes
from ..locations import is_url
from ..workers import UNREACHABLE, ClusterError, unreachable_message
from .density import mostly_passed_over
from .scan import read_and_cut, worth_splitting
from .work import Unit

PIECE_SIZE = 8 << 20  # bytes: a few MB, so a piece's fixed costs stay small
LOOKAHEAD = 4  # units planned ahead of the oldest unjudged one, per worker slot


@dataclass
class _File:
    """A file in hand: its units in file order, each with its future."""

    path: str
    units: list = field(default_factory=list)  # [unit, future]
    scanned: FileResult | None = None  # split: what the scan found
    envelope: list = field(default_factory=list)  # split: the scan's envelope findings
    unreadable: bool = False
    judged: int = 0  # units whose records the history has
    result: FileResult | None = None
    scanning: bool = False  # units[0] is a worker's scan: pieces, or the whole file's check


class ParallelCheck:
    """Run ``engine``'s check of files on ``executor`` (LocalUnits or Dask)."""

    def __init__(self, engine: Engine, executor, *, piece_size: int | None = None) -> None:
        self.engine = engine
        self.executor = executor
        self.piece_size = piece_size or PIECE_SIZE
        # a cluster's workers read and cut large files; local ones leave it to the driver
        self.remote = getattr(executor, "remote", False)

    def run(self, paths) -> Report:
        engine = self.engine
        report = Report([], engine.table.version, config_source=engine.config.source,
                        reference_data=engine.table.reference_data())
        files: deque[_File] = deque()
        pending = deque(str(p) for p in paths)
        while pending or files:
            while files and self._judge(files[0]):
                report.files.append(files.popleft().result)
            self._expand(files)
            if pending and self._in_hand(files) < LOOKAHEAD * self.executor.slots:
                files.append(self._plan(pending.popleft()))
                continue
            if files:
                running = [f for _, f in files[0].units[files[0].judged:] if not f.done()]
                # and later files' scans, whose pieces are then handed out
                running += [f.units[0][1] for f in files if f.scanning
                            and not f.units[0][1].done()]
                if running:
                    self.executor.wait(running)
        report.finished = time.time()
        report.reference_data["history"] = engine.history_facts()
        return report

    @staticmethod
    def _in_hand(files) -> int:
        return sum(len(f.units) - f.judged for f in files)

    # -- planning: a file whole, or read and cut into pieces -------------------------------
    @staticmethod
    def _unit(path: str, piece=None, scan: int = 0) -> Unit:
        # workers (a cluster's run in other folders) are given absolute paths; reports
        # name each file as it was given
        where = path if is_url(path) else os.path.abspath(path)
        if piece is not None and piece.path != where:
            piece = replace(piece, path=where)
        return Unit(where, piece, scan=scan)

    def _plan(self, path: str) -> _File:
        file = _File(path)
        if self.remote:  # a worker reads it: checks it whole, or cuts it (work.scan_unit)
            file.scanning = True
            self._submit(file, self._unit(path, scan=self.piece_size))
            return file
        engine = self.engine
        if not worth_splitting(path, self.piece_size) or \
                (engine.fast and mostly_passed_over(path, engine.table.drugs)):
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

    def _expand(self, files) -> None:
        """Hand out the pieces of every file whose worker's scan is back."""
        for file in files:
            if file.scanning and file.units[0][1].done():
                self._scanned(file)

    def _scanned(self, file: _File) -> None:
        """A worker's scan is back: the file's pieces go out (or it was checked whole,
        and that check is the file's one unit)."""
        file.scanning = False
        facts = self.executor.result(file.units[0][1])
        self._reachable(file, facts)
        if "scanned" not in facts:
            file.units[0][1] = _Done(facts)
            return
        file.scanned = FileResult(file.path, **facts["scanned"])
        file.unreadable = facts["unreadable"]
        file.envelope = list(_named(findings_of_bytes(facts["envelope"]), file.path))
        file.units = []
        for piece in facts["pieces"]:
            self._submit(file, self._unit(file.path, piece))

    def _reachable(self, file: _File, facts: dict) -> None:
        """A cluster's worker that cannot read the input: a cluster problem, the run
        stops (a local worker's: the driver checks the file, as one job would)."""
        if UNREACHABLE in facts and self.remote:
            raise ClusterError(unreachable_message(file.path, facts))

    # -- judging, in input order -----------------------------------------------------------
    def _judge(self, file: _File) -> bool:
        """Take the file's finished units in order into the history; True when the
        file is complete (its result made)."""
        stage = self.engine.history
        if file.scanning:
            if not file.units[0][1].done():
                return False
            self._scanned(file)
        while file.judged < len(file.units):
            unit, future = file.units[file.judged]
            if not future.done():
                return False
            facts = future.facts if isinstance(future, _Done) else self.executor.result(future)
            self._reachable(file, facts)
            if file.scanned is None:  # the whole file, checked by one worker
                return self._whole(file, unit, facts)
            if not facts.get("sha256"):  # this piece cannot be used: check the file whole
                if file.judged:
                    stage.end_file(file.scanned.sha256, keep=False)
                self._drop(file)
                file.scanned, file.judged, file.envelope = None, 0, []
                file.units = []
                self._submit(file, self._unit(file.path))
                return False
            result = file.scanned
            if file.judged == 0:
                stage.begin_file(result.sha256)
            result.claims += facts["claims"]
            result.drug_lines += facts["drug_lines"]
            result.submitters.update(facts.get("submitters") or {})  # each piece's sets
            result.payer_ids.update(facts.get("payer_ids") or ())
            result.findings.extend(_named(findings_of_bytes(facts["findings"]), file.path))
            for record in self.engine.held_records(
                    _named(records_of_bytes(facts["records"]), file.path), file.path):
                result.findings.extend(stage.add(record))
            file.units[file.judged][1] = None  # its result is no longer held
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

            file.result = FileResult(file.path, status="unreadable")
            file.result.findings.extend(self.engine._reader_findings(
                [Finding("EDI008", ERROR, KILLED, file.path)]))
            return True
        if "sha256" not in facts:  # changed under us: check it here, as one job would
            file.result = self.engine.check_file(file.path)
            return True
        findings, records = facts.pop("findings"), facts.pop("records")
        result = FileResult(**{**facts, "path": file.path,
                               "payer_ids": set(facts.get("payer_ids") or ())})
        result.findings.extend(_named(findings_of_bytes(findings), file.path))
        result.findings.extend(stage.apply_file(
            self.engine.held_records(_named(records_of_bytes(records), file.path), file.path),
            result.sha256, keep=result.status != "unreadable"))
        result.settle_status()  # the history's DOC notes join the claims' DOC000s
        file.judged = len(file.units)
        file.result = result
        return True

    def _drop(self, file: _File) -> None:
        """Cancel the file's units not judged yet (their results are not used)."""
        for _, future in file.units:
            if future is not None:
                future.cancel()


class _Done:
    """A unit's result already in hand (a worker's scan that checked the file whole)."""

    def __init__(self, facts: dict) -> None:
        self.facts = facts

    def done(self) -> bool:
        return True

    def cancel(self) -> bool:
        return False


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
    unreachable cluster, a worker that cannot read an input) and ``WorkerLost`` (a
    local worker process died).  ``work_dir`` is not used any more: workers hand
    their findings back in their results, writing no files."""
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
    try:
        return ParallelCheck(engine, executor, piece_size=piece_size or PIECE_SIZE).run(paths)
    finally:
        executor.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
