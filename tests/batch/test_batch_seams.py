"""The places the batch driver keeps for what comes next: rows written in the
same transaction as an input's 'done', and results handled in input order."""
import sqlite3
from concurrent.futures import Future
from pathlib import Path

import pytest
from batch_support import CLEAN, by_name, drop, edi, ledger, options, summaries

from edi837.batch import Ledger, driver, run_batch
from edi837.batch.run import Worker


def test_rows_written_with_done_commit_with_it_or_not_at_all(tmp_path):
    book = Ledger(tmp_path / "ledger.sqlite3")
    book.begin_run("R1")
    first = book.take(sha256="a" * 64, run_id="R1", name="a.edi", source=Path("a.edi"),
                      size=1, marker=None)
    second = book.take(sha256="b" * 64, run_id="R1", name="b.edi", source=Path("b.edi"),
                       size=1, marker=None)

    def history(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS history (input INTEGER, patient TEXT)")
        db.execute("INSERT INTO history VALUES (?, 'keyed hash')", (first,))

    book.done(first, also=history)

    def broken(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO history VALUES (?, 'keyed hash')", (second,))
        raise OSError("disk full")

    with pytest.raises(OSError):
        book.done(second, also=broken)
    assert book.row(first)["state"] == "done"
    assert book.row(second)["state"] == "processing"  # rolled back with its history row
    assert [r["input"] for r in book.db.execute("SELECT input FROM history")] == [first]
    book.close()


class LastFirst:
    """An executor (the interface a Dask one will have) whose jobs finish in the
    reverse of the order they were submitted: the worst case for input order."""

    slots = 2

    def __init__(self, settings, jobs):
        self.worker = Worker(settings)
        self.table_version = self.worker.table.version
        self.waiting: list[tuple[Future, object]] = []

    def submit(self, job):
        future = Future()
        self.waiting.append((future, job))
        return future

    def wait(self, futures):
        future, job = self.waiting.pop()  # the newest first
        future.set_result(self.worker.run(job))

    def result(self, future):
        return future.result()

    def close(self):
        pass


def test_results_are_handled_in_input_order_whatever_order_jobs_finish(tmp_path, monkeypatch):
    """The driver records and archives files in the order it took them, however
    its executor finishes them: the place where a stage that needs input order
    (patient history) hooks in."""
    monkeypatch.setattr(driver, "make_executor", LastFirst)
    opts = options(tmp_path, jobs=2)
    names = [f"f{n}.edi" for n in range(5)]
    for n, name in enumerate(names):
        drop(opts.inbox, name, edi(CLEAN, control=f"00000000{n + 1}"))
    drop(opts.inbox, "f5-copy.edi", edi(CLEAN, control="000000001"))  # a duplicate of f0
    handled = []
    real_done = Ledger.done

    def done(self, row_id, **kwargs):
        handled.append(self.row(row_id)["name"])
        real_done(self, row_id, **kwargs)

    monkeypatch.setattr(Ledger, "done", done)
    assert run_batch(opts) == 0
    assert handled == names + ["f5-copy.edi"]
    assert [r["name"] for r in ledger(opts.out)] == handled


class RunsAgain(LastFirst):
    """An executor that, as Dask does when a worker dies holding a finished task's
    result, runs a job again after its result was taken: once while the driver
    uses the result, and once more after the file was archived."""

    def __init__(self, settings, jobs):
        super().__init__(settings, jobs)
        self.taken: list = []

    def result(self, future):
        outcome = future.result()
        job = next(j for f, j in self.jobs if f is future)
        self.worker.run(job)  # a second run racing the driver's use of the first
        self.taken.append(job)
        return outcome

    def submit(self, job):
        future = super().submit(job)
        self.jobs = getattr(self, "jobs", []) + [(future, job)]
        return future

    def close(self):
        for job in self.taken:  # late runs, after the files were archived
            self.worker.run(job)


def _outputs(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.name not in ("summary.json", "summary.html")}


def test_a_job_run_again_after_its_result_was_taken_removes_no_output(tmp_path, monkeypatch):
    """A second run of a check or report step (Dask redoes a task whose worker died
    holding its result) never takes away outputs the driver already recorded."""
    from batch_support import DEFECT, generated

    inputs = {"a.edi": edi(CLEAN), "b.edi": edi(DEFECT), "c.edi": generated("837I", claims=5)}
    produced = {}
    for name, executor in (("plain", None), ("again", RunsAgain)):
        if executor is not None:
            monkeypatch.setattr(driver, "make_executor", executor)
        opts = options(tmp_path / name, jobs=2, fix=True, formats=("json", "html", "csv"))
        for file, data in inputs.items():
            drop(opts.inbox, file, data)
        assert run_batch(opts) == 1
        [run_dir] = [d for d in opts.out.iterdir() if d.name[:1].isdigit()]
        produced[name] = _outputs(run_dir)
        listed = {out for entry in by_name(summaries(opts.out)[0]).values()
                  for out in entry["reports"]}
        assert listed and all((run_dir / out).is_file() for out in listed)
    assert sorted(produced["again"]) == sorted(produced["plain"])
    assert any("fixed/" in name for name in produced["again"])


def test_a_run_id_already_taken_is_drawn_again(tmp_path, monkeypatch):
    """Two runs begun in the same microsecond (on one host, or two hosts of a shared
    ledger): the second draws another id instead of stopping on the taken one."""
    book = Ledger(tmp_path / "taken.sqlite3")
    assert book.begin_run("R1") is True
    assert book.begin_run("R1") is False  # taken: nothing written
    opts = options(tmp_path, settle=0.0)
    drop(opts.inbox, "a.edi", edi(CLEAN), age=3600)
    assert run_batch(opts) == 0
    [first] = [row["run_id"] for row in ledger(opts.out)]
    ids = iter([first, first, "20990101T000000.000001Z"])
    monkeypatch.setattr(driver, "_new_run_id", lambda: next(ids))
    drop(opts.inbox, "b.edi", edi(CLEAN).replace(b"C1", b"C9"), age=3600)
    assert run_batch(opts) == 1  # its claim again under another id: HIS001, not a stop
    rows = ledger(opts.out)
    assert {row["run_id"] for row in rows} == {first, "20990101T000000.000001Z"}
    assert [row["name"] for row in rows] == ["a.edi", "b.edi"]
