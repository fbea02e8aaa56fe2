"""The places the batch driver keeps for what comes next: rows written in the
same transaction as an input's 'done', and results handled in input order."""
import sqlite3
from concurrent.futures import Future
from pathlib import Path

import pytest
from batch_support import CLEAN, drop, edi, ledger, options

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
