"""The driver of `check --jobs N` / `check --dask`: the same report as one job.

Files are taken in the order given.  A small file is one unit, checked whole
by a worker; a large one is read once (``scan``: its envelope findings, its
hash and where to cut it) and its pieces are checked by workers; a large
sparse one (:mod:`.density`) is cut at transaction sets (:mod:`.sets`: the
driver hashes and counts its bytes, the pieces hand back their envelope
segments, whose findings the driver makes once every piece is in).  With
`--jobs` the driver reads it, handing out pieces while the read goes on; on a
cluster a worker does (``work.scan_unit``: the file's location goes out, the
pieces' spans and the hash come back), so the driver hashes and cuts nothing.
Workers return findings and claim records in their results (bytes): no
folder is shared, and the driver writes nothing for them.  A lasting history
(`--history`) is judged by the driver: each file's claim records, piece after
piece, in input order, with the run's one :class:`~edi837.history.HistoryStage`.
The run's own history is judged by workers, by patient shard (:mod:`.shards`):
units hand their records back split by shard, and once every file is
checked each shard's records go, in input order, to one task whose findings
join each file's.  A file's findings are its pieces' (in file order), the
history's, and the envelope findings of the scan; the report writers sort
them as always.  A piece that cannot be used (the file
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
from ..history.broken import broken_sets
from ..history.handover import findings_of_bytes, records_of_bytes
from ..locations import is_url
from ..workers import UNREACHABLE, ClusterError, unreachable_message
from .density import mostly_passed_over
from .scan import read_and_cut, worth_splitting
from .sets import SetFile, cut_at_sets
from .work import Unit

PIECE_SIZE = 8 << 20  # bytes: a few MB, so a piece's fixed costs stay small
# The claim records the driver holds for the shards, at most: past it the driver judges
# the run's own history itself from there on (as with a lasting history), so its memory
# does not grow with the run's size (a dense 500 MB file's records are about 125 MB).
SHARD_HOLD = 16 << 20
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
    parts: list = field(default_factory=list)  # sharded: each judged unit's records by shard
    sets: SetFile | None = None  # cut at transaction sets (sparse: .sets)


class ParallelCheck:
    """Run ``engine``'s check of files on ``executor`` (LocalUnits or Dask)."""

    def __init__(self, engine: Engine, executor, *, piece_size: int | None = None,
                 shards: int | None = None, take_out: bool = False) -> None:
        """``shards``: how many shards judge the run's own history on workers (default:
        the executor's slots; 0: the driver judges it); a lasting history is the
        driver's whatever it says (:mod:`.shards`).  ``take_out``: the run holds a
        lasting store (``begin_run``) and nobody hashed its inputs: what earlier runs
        added from them is taken out, by the hashes the workers make, before the
        first file is judged (the files wait for all of them: their results are
        held meanwhile)."""
        self.engine = engine
        self.executor = executor
        self.piece_size = piece_size or PIECE_SIZE
        # a cluster's workers read and cut large files; local ones leave it to the driver
        self.remote = getattr(executor, "remote", False)
        self.shards = 0 if engine.history.persistent else \
            executor.slots if shards is None else shards
        self._sharded: list[tuple[FileResult, tuple]] = []  # results waiting for the shards
        self._held = 0  # bytes of records in self._sharded
        self.take_out = take_out and engine.history.persistent

    def run(self, paths) -> Report:
        engine = self.engine
        report = Report([], engine.table.version, config_source=engine.config.source,
                        reference_data=engine.table.reference_data())
        files: deque[_File] = deque()
        pending = deque(str(p) for p in paths)
        # a run that holds a lasting store takes its files' earlier lines out before the
        # first is judged (HistoryStore.take_out_rechecked): with the hashes the workers
        # make as they check, so each input is hashed once
        hold = self.take_out and len(pending) > 1
        while pending or files:
            if hold and not pending and all(map(self._hashed, files)):
                self._take_out(files)
                hold = False
            while not hold and files and self._judge(files[0]):
                report.files.append(files.popleft().result)
            self._expand(files)
            if pending and (hold or self._in_hand(files) < LOOKAHEAD * self.executor.slots):
                files.append(self._plan(pending.popleft()))
                continue
            if files:
                running = [f for _, f in files[0].units[files[0].judged:] if not f.done()]
                # and later files' scans, whose pieces are then handed out
                running += [f.units[0][1] for f in files if f.scanning
                            and not f.units[0][1].done()]
                if hold:  # what the hashes wait for: each file's first unit
                    running += [f.units[0][1] for f in files
                                if f.units and not f.units[0][1].done()]
                if running:
                    self.executor.wait(running)
        if self._sharded:
            self._judge_shards()
        report.finished = time.time()
        report.reference_data["history"] = engine.history_facts()
        return report

    def _judge_shards(self) -> None:
        """The run's own history, judged by shard on workers; each file's findings
        joined by the history's."""
        from .shards import shard_parts

        results = [result for result, _ in self._sharded]
        files = [(path, sha256, keep, skip, shard_parts(parts, self.shards))
                 for _, (path, sha256, keep, skip, parts) in self._sharded]
        self._sharded = []
        run_id = self.engine.history.run_id
        futures = [self.executor.judge(run_id, [(path, sha256, keep, skip, by_shard[i])
                                                for path, sha256, keep, skip, by_shard in files],
                                       i)
                   for i in range(self.shards)]
        del files
        while not all(future.done() for future in futures):
            self.executor.wait([future for future in futures if not future.done()])
        found = [self.executor.result(future) for future in futures]
        for i, shard in enumerate(found):
            if isinstance(shard, dict):  # its task killed its workers and a process here
                raise ClusterError(f"the patient history's shard {i + 1} of {self.shards} "
                                   "could not be judged: its task killed its workers and a "
                                   "process of its own on this host")
        for k, result in enumerate(results):
            for shard in found:
                if shard[k]:
                    result.findings.extend(findings_of_bytes(shard[k]))
            result.settle_status()  # the history's DOC notes join the claims' DOC000s

    def _hashed(self, file: _File) -> bool:
        """Whether the file's hash is known (or will never come from a worker)."""
        if file.scanned is not None:
            return True
        if not file.units or not file.units[0][1].done():
            return False
        if file.scanning:  # a worker's scan: its pieces go out, or its whole check is in
            self._scanned(file)
            return True
        future = file.units[0][1]
        if not isinstance(future, _Done):  # the whole file's result, taken once
            file.units[0][1] = _Done(self.executor.result(future))
        return True

    def _take_out(self, files) -> None:
        """Every input's earlier lines out of the lasting store, before any is judged."""
        from ..engine import sha256_of

        hashes = []
        for file in files:
            if file.scanned is not None:
                hashes.append(file.scanned.sha256)
                continue
            facts = file.units[0][1].facts
            # (no hash: the file changed, or could not be read there; the driver's own
            # check will read it, hashing it first)
            sha256 = facts.get("sha256") or sha256_of(file.path)
            if sha256:
                self.engine.hashes[file.path] = sha256
                hashes.append(sha256)
        self.engine.history.store.take_out_rechecked(hashes)

    @staticmethod
    def _in_hand(files) -> int:
        return sum(len(f.units) - f.judged for f in files)

    # -- planning: a file whole, or read and cut into pieces -------------------------------
    def _unit(self, path: str, piece=None, scan: int = 0) -> Unit:
        # workers (a cluster's run in other folders) are given absolute paths; reports
        # name each file as it was given
        where = path if is_url(path) else os.path.abspath(path)
        if piece is not None and piece.path != where:
            piece = replace(piece, path=where)
        return Unit(where, piece, scan=scan, shards=self.shards)

    def _plan(self, path: str) -> _File:
        file = _File(path)
        if self.remote:  # a worker reads it: checks it whole, or cuts it (work.scan_unit)
            file.scanning = True
            self._submit(file, self._unit(path, scan=self.piece_size))
            return file
        engine = self.engine
        if not worth_splitting(path, self.piece_size):
            self._submit(file, self._unit(path))
            return file
        if engine.fast and mostly_passed_over(path, engine.table.drugs):
            if not self._cut_sets(file):  # checked whole
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

    def _cut_sets(self, file: _File) -> bool:
        """A sparse file cut at transaction sets, its pieces read with the fast path
        (:mod:`.sets`); False when it is not cut."""
        path, pieces = file.path, []

        def hand_out(piece) -> None:
            pieces.append(piece)
            self._submit(file, self._unit(path, piece))

        try:
            cut = cut_at_sets(path, self.piece_size, self.executor.slots, hand_out)
        except Exception:  # the driver's read failed: the worker's will say why
            cut = None
        if cut is None:
            self._drop(file)
            file.units = []
            return False
        file.sets = SetFile(path, cut, pieces)
        file.scanned = FileResult(path, size=cut.size, sha256=cut.sha256)
        return True

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
            taken = facts.get("sha256") and (file.sets is None or
                                             file.sets.take(file.judged, facts))
            if not taken:  # this piece cannot be used: check the file whole
                return self._again(file)
            if taken is not True:  # read with another ISA/GS than the one in force there
                again = self._unit(file.path, taken)
                file.units[file.judged] = [again, self.executor.submit(again)]
                return False
            result = file.scanned
            if file.judged == 0 and not self.shards:
                stage.begin_file(result.sha256)
            result.claims += facts["claims"]
            result.drug_lines += facts["drug_lines"]
            result.submitters.update(facts.get("submitters") or {})  # each piece's sets
            result.payer_ids.update(facts.get("payer_ids") or ())
            result.broken_sets += facts.get("broken_sets", 0)  # each piece's reader's
            result.findings.extend(_named(findings_of_bytes(facts["findings"]), file.path))
            if self.shards:
                file.parts.append(facts["records"])
            else:
                for record in self.engine.held_records(
                        _named(_records(facts["records"]), file.path), file.path):
                    result.findings.extend(stage.add(record))
            file.units[file.judged][1] = None  # its result is no longer held
            file.judged += 1
        result = file.scanned
        if file.sets is not None:  # the envelope findings, from the pieces' envelopes
            judge = file.sets.finish()
            if judge is None:
                return self._again(file)
            file.envelope = self.engine._reader_findings(judge.findings)
            file.unreadable, result.transactions = judge.unreadable, judge.transactions
        # a set a 999 rejects (edi837.history.broken): the file's lines stay out too
        result.broken_sets += broken_sets(file.envelope)
        keep = not (file.unreadable or result.broken_sets)
        if self.shards:
            self._shard(result, file.path, keep, file.parts)
        else:
            result.findings.extend(stage.end_file(result.sha256, keep=keep))
        result.findings.extend(file.envelope)
        result.status = "unreadable" if file.unreadable else "ok"
        result.settle_status()
        file.result = result
        return True

    def _again(self, file: _File) -> bool:
        """A piece cannot be used: the file is checked whole."""
        if file.judged and not self.shards and file.scanned is not None:
            self.engine.history.end_file(file.scanned.sha256, keep=False)
        self._drop(file)
        file.scanned, file.judged, file.envelope, file.parts = None, 0, [], []
        file.units, file.sets = [], None
        self._submit(file, self._unit(file.path))
        return False

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
            file.result = self._here(file.path)
            return True
        findings, records = facts.pop("findings"), facts.pop("records")
        result = FileResult(**{**facts, "path": file.path,
                               "payer_ids": set(facts.get("payer_ids") or ())})
        result.findings.extend(_named(findings_of_bytes(findings), file.path))
        if self.shards:
            self._shard(result, file.path, result.status != "unreadable"
                        and not result.broken_sets, [records])
        else:
            result.findings.extend(stage.apply_file(
                self.engine.held_records(_named(_records(records), file.path), file.path),
                result.sha256, keep=result.status != "unreadable" and not result.broken_sets))
        result.settle_status()  # the history's DOC notes join the claims' DOC000s
        file.judged = len(file.units)
        file.result = result
        return True

    def _here(self, path: str) -> FileResult:
        """A file checked by the driver (it changed under the workers), as one job
        would; sharded, its records go to the shards as a worker's would."""
        if not self.shards:
            return self.engine.check_file(path)
        from ..history.handover import RecordSink

        stage = self.engine.history
        sink = RecordSink(None, stage.keys.key, persistent=False, shards=self.shards)
        result = self.engine.check_file(path, history=sink)
        self._shard(result, path, result.status != "unreadable", [sink.data])
        return result

    def _shard(self, result: FileResult, path: str, keep: bool, parts: list) -> None:
        """A file checked: its records (by unit, by shard) wait for the shards.  Past
        SHARD_HOLD bytes held, the driver judges the files held so far, in input order,
        and every later file as it comes (``self.shards`` is 0 from then on; units
        already out still return their records by shard, read here all the same)."""
        skip = tuple(self.engine.not_forwarded.get(path, ()))
        self._sharded.append((result, (path, result.sha256, keep, skip, parts)))
        self._held += sum(len(part) for unit in parts for part in
                          (unit if isinstance(unit, list) else (unit,)))
        if self._held > SHARD_HOLD:
            self._judge_here()

    def _judge_here(self) -> None:
        """The files held for the shards judged by the driver's stage, in input order; the
        run's own history is the driver's from here on."""
        stage = self.engine.history
        held, self._sharded, self._held, self.shards = self._sharded, [], 0, 0
        for result, (path, sha256, keep, _, parts) in held:
            records = (record for unit in parts for record in _records(unit))
            result.findings.extend(stage.apply_file(
                self.engine.held_records(_named(records, path), path), sha256, keep=keep))
            result.settle_status()

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


def _records(data):
    """A unit's claim records: bytes, or (the unit sent out sharded) a list of bytes by
    shard, shard after shard (each patient's records are in one shard, in file order)."""
    if isinstance(data, list):
        return (record for part in data if part for record in records_of_bytes(part))
    return records_of_bytes(data)


def check_files(engine: Engine, paths, *, jobs: int = 1, dask: str | None = None,
                insecure: bool = False, work_dir: str | None = None,
                drug_tables=(), piece_size: int | None = None,
                shards: int | None = None, take_out: bool = False) -> Report:
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
        return ParallelCheck(engine, executor, piece_size=piece_size or PIECE_SIZE,
                             shards=shards, take_out=take_out).run(paths)
    finally:
        executor.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
