"""The run's own history judged by patient shard on workers (edi837.parallel.shards,
issue 26 item 3): the same reports as one process, on multi-night corpora whose
duplicates, schedule slips, replacements and voids cross files, and on copies of a
file (every claim a duplicate of a claim in another file, in both shards); with
units checked here (each shard judged in this process), and on real worker
processes (`--jobs 2`) and a real scheduler with two workers (`--dask`).  A lasting
history (`--history`) stays the driver's and gives the one-process report too."""
import shutil
from pathlib import Path

import pytest
from batch_support import new_key
from click.testing import CliRunner
from test_parallel_check import (
    SerialUnits,
    _table,
    generated,
    one_job,
    reports,
    without_times,
)

from edi837.cli import main
from edi837.config import Config
from edi837.engine import Engine
from edi837.history.handover import records_of_bytes, shard_of
from edi837.parallel import check as parallel_check
from edi837.parallel.check import ParallelCheck
from edi837.parallel.keys import install
from edi837.parallel.work import CheckSettings


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> list[Path]:
    """A 120-night corpus (planted events across nights) and a dense file given twice."""
    folder = tmp_path_factory.mktemp("nights")
    result = CliRunner().invoke(main, ["generate", "--nights", "120", "--seed", "3",
                                       "--out-dir", str(folder / "n")])
    assert result.exit_code == 0, result.output
    paths = sorted((folder / "n").glob("*.edi"))
    dense = generated(folder, "dense.edi", claims=150, seed=5)
    again = folder / "dense-again.edi"
    shutil.copyfile(dense, again)
    return paths[:24] + [dense] + paths[24:] + [again]


def sharded(paths, piece_size=1, remote=False, shards=None):
    """The report with files cut everywhere and the history judged by shard here, and
    the executor (its units and each shard's files)."""
    engine = Engine(_table(), Config())
    stage = engine.history
    executor = SerialUnits(CheckSettings((), engine.config, install(stage.keys.key),
                                         stage.persistent), remote)
    try:
        report = ParallelCheck(engine, executor, piece_size=piece_size, shards=shards).run(
            [str(p) for p in paths])
        return reports(report), executor
    finally:
        engine.close()


def rules_in(text: str) -> set[str]:
    return {rule for rule in ("HIS001", "HIS002", "HIS004", "UNT001", "UNT002")
            if f'"rule": "{rule}"' in text}


@pytest.mark.slow
@pytest.mark.parametrize("remote", [False, True], ids=["driver cuts", "worker cuts"])
def test_sharded_history_gives_the_one_process_reports(nights, remote):
    whole = one_job(nights)
    texts, executor = sharded(nights, piece_size=20_000, remote=remote)
    for fmt, text in whole.items():
        assert texts[fmt] == text, fmt
    # the history had something to say, across files
    assert {"HIS001", "HIS002"} <= rules_in(whole["json"])
    # both shards judged claims, of the dense file and of the nights (a patient of the
    # copied file in each: its lines are in two files)
    assert len(executor.judged) == 2
    for files in executor.judged:
        assert any(name.endswith("dense.edi") for name in files)
        assert any(name.endswith("dense-again.edi") for name in files)
        assert any("night-" in name for name in files)
    assert any(u.piece is not None for u in executor.units)  # the dense files were cut


def test_more_shards_than_workers_and_one_shard_judge_the_same(nights):
    whole = one_job(nights[20:])
    for shards in (1, 3):
        texts, executor = sharded(nights[20:], shards=shards)
        assert texts["json"] == whole["json"], shards
        assert len(executor.judged) == shards


def test_the_driver_judges_when_told_to(nights):
    whole = one_job(nights[20:])
    texts, executor = sharded(nights[20:], shards=0)
    assert texts["json"] == whole["json"]
    assert executor.judged == []
    assert all(unit.shards == 0 for unit in executor.units)


@pytest.mark.parametrize("hold", [1, 20000], ids=["first file", "mid-run"])
def test_past_the_hold_bound_the_driver_judges_from_there_on(nights, monkeypatch, hold):
    """The records held for the shards are bounded (memory must not grow with the run):
    past SHARD_HOLD the driver judges the files held so far, in input order, then every
    later one, reading the units already sent out sharded; the report is the same."""
    paths = nights[20:]
    whole = one_job(paths)
    monkeypatch.setattr(parallel_check, "SHARD_HOLD", hold)
    taken_over = []  # files held when the driver took over
    real = ParallelCheck._judge_here

    def judge_here(self):
        taken_over.append(len(self._sharded))
        real(self)

    monkeypatch.setattr(ParallelCheck, "_judge_here", judge_here)
    texts, executor = sharded(paths, piece_size=20_000)
    assert texts["json"] == whole["json"]
    assert {"HIS001", "HIS002"} <= rules_in(whole["json"])
    assert executor.judged == []  # no shard task: the driver took over
    assert any(unit.shards for unit in executor.units)  # units were sent out sharded
    assert len(taken_over) == 1  # once, then the driver's from there on
    assert taken_over[0] == 1 if hold == 1 else 1 < taken_over[0] < len(paths)


def test_records_come_back_split_by_the_patients_shard(tmp_path):
    from edi837.parallel import work

    path = generated(tmp_path, claims=40, seed=2)
    engine = Engine(_table(), Config())
    settings = CheckSettings((), engine.config, install(engine.history.keys.key), False)
    facts = work.check_unit(settings, work.Unit(str(path), shards=3))
    engine.close()
    parts = facts["records"]
    assert isinstance(parts, list) and len(parts) == 3
    counts = []
    for shard, part in enumerate(parts):
        records = list(records_of_bytes(part))
        assert all(shard_of(r.patient, 3) == shard for r in records)
        counts.append(len(records))
    assert facts["drug_lines"] and all(counts)  # every shard got some


def test_a_file_that_changed_under_the_workers_is_checked_here_and_sharded(
        nights, monkeypatch):
    """The driver's own check of a file (its worker saw another file) sends its records
    to the shards like a worker's: the copy is still judged against the dense file."""
    paths = nights[22:]
    whole = one_job(paths)
    real = SerialUnits.submit

    def changed_once(self, unit):
        if unit.path.endswith("dense-again.edi") and not self.seen:
            self.seen = True
            self.units.append(unit)
            from concurrent.futures import Future
            future = Future()
            future.set_result({"changed": True})
            return future
        return real(self, unit)

    monkeypatch.setattr(SerialUnits, "seen", False, raising=False)
    monkeypatch.setattr(SerialUnits, "submit", changed_once)
    texts, executor = sharded(paths, piece_size=10**9)
    assert texts["json"] == whole["json"]
    assert '"rule": "HIS001"' in texts["json"]


def test_not_forwarded_claims_are_held_in_the_shards_too(nights):
    """Claims a 999 rejected (Engine.not_forwarded) join no shard's history."""
    dense = next(p for p in nights if p.name == "dense.edi")
    again = next(p for p in nights if p.name == "dense-again.edi")

    def run(parallel):
        engine = Engine(_table(), Config())
        engine.not_forwarded = {str(dense): set(range(0, 10**6))}  # every claim held
        try:
            if not parallel:
                return reports(engine.run([str(dense), str(again)]))["json"]
            stage = engine.history
            executor = SerialUnits(CheckSettings((), engine.config, install(stage.keys.key),
                                                 False))
            return reports(ParallelCheck(engine, executor, piece_size=20_000).run(
                [str(dense), str(again)]))["json"]
        finally:
            engine.close()

    one = run(False)
    assert run(True) == one
    # nothing of the first file was forwarded: its copy is no duplicate
    assert '"rule": "HIS001"' not in one


# -- real processes -----------------------------------------------------------------------
def _check(tmp_path, name, paths, *args) -> tuple[int, str]:
    out = tmp_path / f"{name}.json"
    result = CliRunner().invoke(main, ["check", *map(str, paths), *args, "-o", str(out)])
    return result.exit_code, without_times(out.read_text())


@pytest.mark.slow
def test_check_jobs_2_on_worker_processes_gives_the_one_process_report(nights, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    one = _check(tmp_path, "one", nights)
    jobs = _check(tmp_path, "jobs", nights, "--jobs", "2")
    assert jobs == one
    assert {"HIS001", "HIS002"} <= rules_in(one[1])


@pytest.mark.slow
def test_check_dask_on_a_scheduler_and_workers_gives_the_one_process_report(
        nights, tmp_path, monkeypatch, dask_cluster):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    one = _check(tmp_path, "one", nights)
    dask = _check(tmp_path, "dask", nights, "--dask", dask_cluster)
    assert dask == one


@pytest.mark.slow
def test_a_lasting_history_stays_the_drivers_and_judges_as_one_process(nights, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    key = new_key(tmp_path / "key")
    results = []
    for name, args in (("one", ()), ("jobs", ("--jobs", "2"))):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)  # the store's name is in the report
        first = _check(tmp_path, name + "1", nights[:25], "--history", "h.sqlite",
                       "--history-key", str(key), *args)
        second = _check(tmp_path, name + "2", nights[25:], "--history", "h.sqlite",
                        "--history-key", str(key), *args)
        results.append((first, second))
    assert results[0] == results[1]
    assert '"rule": "HIS001"' in results[0][1][1]  # the copy, against the stored file


# -- check --history --jobs/--dask: each input hashed once, by a worker --------------------
def _rerun(tmp_path, monkeypatch, paths, store, *args):
    """Two identical `check --history` runs: their reports, and how many inputs the
    driver hashed itself."""
    from edi837 import engine as engine_module

    hashed = []
    real = engine_module.sha256_of
    monkeypatch.setattr(engine_module, "sha256_of", lambda path: hashed.append(path) or
                        real(path))
    key = str(new_key(tmp_path / "key"))
    runs = [_check(tmp_path, f"run{n}", paths, "--history", store, "--history-key", key, *args)
            for n in (1, 2)]
    return runs, hashed


@pytest.mark.slow
@pytest.mark.parametrize("how", ["one", "jobs", "dask"])
def test_a_rerun_with_a_lasting_history_hashes_each_input_once(nights, tmp_path, monkeypatch,
                                                               how, dask_cluster):
    """The files of a run come out of the store before any is judged again, by the hashes
    the workers make (the driver hashes none), so a rerun says what the first run said."""
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    monkeypatch.chdir(tmp_path)
    args = {"one": (), "jobs": ("--jobs", "2"), "dask": ("--dask", dask_cluster)}[how]
    paths = nights[18:]
    (first, second), hashed = _rerun(tmp_path, monkeypatch, paths, "h.sqlite", *args)
    assert second == first
    assert '"rule": "HIS001"' in first[1]  # the copy of the dense file
    # one process hashes every input before the run; the drivers of workers none
    assert len(hashed) == (2 * len(paths) if how == "one" else 0)


@pytest.mark.slow
def test_a_large_run_with_a_lasting_history_is_hashed_by_the_driver_first(
        nights, tmp_path, monkeypatch):
    """Past WORKERS_HASH_UP_TO bytes of input the driver hashes the inputs before the
    run (the workers' hashes would hold every file's result until the last is in: memory
    growing with the run); the rerun's report is the same."""
    from edi837.cli import check as check_command

    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    monkeypatch.setattr(check_command, "WORKERS_HASH_UP_TO", 1000)
    monkeypatch.chdir(tmp_path)
    paths = nights[18:]
    (first, second), hashed = _rerun(tmp_path, monkeypatch, paths, "h.sqlite", "--jobs", "2")
    assert second == first
    assert '"rule": "HIS001"' in first[1]
    assert len(hashed) == 2 * len(paths)


@pytest.mark.slow
def test_a_rerun_on_postgresql_with_jobs_gives_the_first_runs_report(nights, tmp_path,
                                                                     monkeypatch):
    from pg_support import drop_schema, new_schema

    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    url = new_schema()
    try:
        (first, second), hashed = _rerun(tmp_path, monkeypatch, nights[18:], url,
                                         "--jobs", "2")
    finally:
        drop_schema(url)
    assert second == first and hashed == []
    assert '"rule": "HIS001"' in first[1]


def test_a_rerun_whose_file_changed_under_the_workers_takes_it_out_by_the_drivers_hash(
        tmp_path, monkeypatch):
    """A file the workers return no hash of (it changed under them) is hashed by the
    driver for the take-out, and checked by it: the rerun still says what the first
    run said (test_history_rerun's files: mA's R1, held, was judged against mB's
    stored R1B when mB's old lines stayed in: UNT002)."""
    from concurrent.futures import Future

    from test_history import claim, night, subscriber

    from edi837 import engine as engine_module
    from edi837.history import HistoryStore

    first_file = night(tmp_path, "mA.edi", subscriber(2),
                       claim("R1", "20260113", modifiers=""))  # no JZ: MOD001, held
    second_file = night(tmp_path, "mB.edi", subscriber(2), claim("R1B", "20260113"))
    paths = [str(first_file), str(second_file)]
    real = SerialUnits.submit

    def changed(self, unit):
        if unit.path == str(second_file.resolve()):
            self.units.append(unit)
            future = Future()
            future.set_result({"changed": True})
            return future
        return real(self, unit)

    def twice(folder, parallel):
        texts = []
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)  # (the store's name is in the report)
        for _ in range(2):
            store = HistoryStore.open("h.sqlite", b"k" * 32)
            engine = Engine(_table(), Config(), history=store)
            store.begin_run()
            try:
                if parallel:
                    executor = SerialUnits(CheckSettings(
                        (), engine.config, install(store.keys.key), True))
                    report = ParallelCheck(engine, executor, take_out=True).run(paths)
                else:
                    engine.hashes = {p: engine_module.sha256_of(p) for p in paths}
                    store.take_out_rechecked(engine.hashes.values())
                    report = engine.run(paths)
                store.commit_run()
                texts.append(reports(report)["json"])
            finally:
                engine.close()
                store.close()
        return texts

    one = twice("one", False)
    assert one[1] == one[0] and '"rule": "UNT002"' not in one[0]
    monkeypatch.setattr(SerialUnits, "submit", changed)
    assert twice("jobs", True) == one
