"""`batch` prunes its history (--history-days) when a run ends, its files recorded: a
batch killed (SIGKILL, a real process: a fork of this one) or stopped by a failure
after it opened the store leaves the lines past the retention where they were, and
the log says "pruned" only for a prune that was committed.  (`check --history`
prunes in its run's transaction: tests/cli/test_check_history_prune.py.)"""
from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3

import pytest
from batch_support import CLEAN, FullDisk, drop, edi, killed_in_fork, options

from edi837.batch import run_batch


def days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).strftime("%Y%m%d")


def lines_by_date(out) -> list[str]:
    db = sqlite3.connect(out / "ledger.sqlite3")
    try:
        return sorted(row[0] for row in db.execute(
            "SELECT service_date FROM history_lines WHERE removed_by IS NULL"))
    finally:
        db.close()


def seeded(tmp_path):
    """A batch whose history holds a line of 200 days ago (kept with --history-days 0),
    and a file of a dose two days ago (another patient) in its inbox, to be taken by a
    batch keeping 30 days."""
    opts = options(tmp_path, history_days=0)
    drop(opts.inbox, "old.edi", edi(CLEAN.replace("20260115", days_ago(200)), "000000001"))
    assert run_batch(opts) == 0
    assert lines_by_date(opts.out) == [days_ago(200)]
    drop(opts.inbox, "recent.edi", edi(CLEAN.replace("20260115", days_ago(2)), "000000002"))
    return options(tmp_path, history_days=30)


def killed_at(opts, step: str) -> bool:
    """Run the batch in a forked child that SIGKILLs itself at checkpoint ``step``;
    True if it died there."""
    return os.WIFSIGNALED(killed_in_fork(opts, lambda name: name == step))


@pytest.mark.parametrize("step", ["run-started", "judged", "reported", "done",
                                  "summary-json-written", "run-finished"])
def test_a_batch_killed_before_its_run_ended_pruned_nothing(tmp_path, step, caplog):
    opts = seeded(tmp_path)
    assert killed_at(opts, step)
    # the recent file's line is there once its outcome was recorded; the old one stays
    assert days_ago(200) in lines_by_date(opts.out), step
    # the restart repairs, and its run (a file of another patient) prunes as it ends
    drop(opts.inbox, "later.edi", edi(CLEAN.replace("20260115", days_ago(1)), "000000003"))
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        run_batch(opts)
    assert lines_by_date(opts.out) == [days_ago(2), days_ago(1)]
    assert "history: 1 line older than 30 days pruned" in caplog.text


def test_a_batch_stopped_by_a_full_disk_pruned_nothing(tmp_path, monkeypatch, caplog):
    opts = seeded(tmp_path)
    real = os.fdopen
    with monkeypatch.context() as full, caplog.at_level(logging.INFO, logger="edi837.batch"):
        full.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real(fd, *a, **k)))
        with pytest.raises(OSError):
            run_batch(opts)
    # (the file judged before the disk filled is undone as the batch starts again)
    assert days_ago(200) in lines_by_date(opts.out)
    assert "pruned" not in caplog.text
    assert run_batch(opts) == 0
    assert lines_by_date(opts.out) == [days_ago(2)]
