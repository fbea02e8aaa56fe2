"""`check --history` prunes the store in its run's transaction, as the Python API does
(edi837.checkrun): a run killed or failing after it opened the store leaves the
store exactly as it was, the lines past the retention included, and says "pruned"
only once the run's lines (and the prune) are committed.

A run whose every file is unreadable forwarded nothing: it commits nothing either
(its prune included); a run that read some of its files commits those, and its prune.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys

from batch_support import FullDisk, new_key, subprocess_env
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main

PRUNED = "line(s) with a date of service more than 30 days ago pruned"


def days_ago(days: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).strftime("%Y%m%d")


def lines_by_date(store) -> list[str]:
    db = sqlite3.connect(store)
    try:
        return sorted(row[0] for row in db.execute(
            "SELECT service_date FROM history_lines WHERE removed_by IS NULL"))
    finally:
        db.close()


def seeded(edi_file, tmp_path):
    """A store holding one line of 200 days ago (kept with --history-days 0), a file of
    a dose two days ago, and the argv of a run pruning to 30 days."""
    old = edi_file(CLEAN_J2350_CLAIM.replace("20260115", days_ago(200)), name="old.edi")
    recent = edi_file(CLEAN_J2350_CLAIM.replace("CLM*C1", "CLM*C9")
                      .replace("20260115", days_ago(2)), name="recent.edi")
    store, key = tmp_path / "h.sqlite3", new_key(tmp_path / "h.key")
    first = CliRunner().invoke(main, ["check", str(old), "--history", str(store),
                                      "--history-key", str(key), "--history-days", "0"])
    assert first.exit_code == 0, first.output
    assert lines_by_date(store) == [days_ago(200)]
    return store, ["check", "--history", str(store), "--history-key", str(key),
                   "--history-days", "30"], recent


# `edi837 check`, stopped once its files are checked (the store held, pruned in the run's
# transaction, this run's line written), before its reports: the test kills it there
STALLED = """
import sys
from edi837.cli import check, main
real = check.write_reports
def write_reports(*args, **kwargs):
    print("checked", flush=True)
    sys.stdin.readline()
    return real(*args, **kwargs)
check.write_reports = write_reports
main.main(args=sys.argv[1:], prog_name="edi837")
"""


def test_check_killed_after_opening_the_store_leaves_the_lines_it_would_prune(
        edi_file, tmp_path):
    store, argv, recent = seeded(edi_file, tmp_path)
    process = subprocess.Popen([sys.executable, "-c", STALLED, *argv, str(recent)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=subprocess_env())
    try:
        assert process.stdout is not None
        said = process.stdout.readline()
        assert said.strip() == "checked", process.communicate(timeout=60)
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert lines_by_date(store) == [days_ago(200)]  # neither pruned nor added
    assert "pruned" not in stderr  # it was not: nothing was committed
    done = CliRunner().invoke(main, [*argv, str(recent)])  # the same run, completed
    assert done.exit_code == 0, done.output
    assert lines_by_date(store) == [days_ago(2)]
    assert f"history: 1 {PRUNED}" in done.stderr


def test_check_whose_report_meets_a_full_disk_leaves_the_store_as_it_was(
        edi_file, tmp_path, monkeypatch):
    store, argv, recent = seeded(edi_file, tmp_path)
    real = os.fdopen
    with monkeypatch.context() as full:
        full.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real(fd, *a, **k)))
        result = CliRunner().invoke(main, [*argv, str(recent), "-o",
                                           str(tmp_path / "night.json")])
    assert result.exit_code == 2, result.output
    assert "night.json" in result.stderr and "Traceback" not in result.output
    assert lines_by_date(store) == [days_ago(200)]
    assert "pruned" not in result.stderr


def test_check_that_read_none_of_its_files_leaves_the_store_as_it_was(edi_file, tmp_path):
    store, argv, recent = seeded(edi_file, tmp_path)
    junk = edi_file("hello world\n", wrap=False, name="junk.edi")
    result = CliRunner().invoke(main, [*argv, str(junk)])
    assert result.exit_code == 2 and "junk.edi" in result.stderr
    assert lines_by_date(store) == [days_ago(200)]  # nothing was forwarded, nothing pruned
    assert "pruned" not in result.stderr
    # a run that read some of its files commits them, and its prune (exit 2 all the same)
    result = CliRunner().invoke(main, [*argv, str(recent), str(junk)])
    assert result.exit_code == 2 and "junk.edi" in result.stderr
    assert lines_by_date(store) == [days_ago(2)]
    assert f"history: 1 {PRUNED}" in result.stderr
