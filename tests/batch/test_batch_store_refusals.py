"""batch with a read-only ledger or history store opened a run and stopped at the
first file with "OperationalError: attempt to write a readonly database", and a
full disk under the ledger said only "OperationalError: database or disk is full"
(trial 8c, item 4).  It refuses before starting now, naming the file and what to
do, as `check --history` does; a full disk mid-run names the files and their
folder.  A writable store starts as usual (the PASS case)."""
from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
from batch_support import CLEAN, DEFECT, drop, edi, run_dirs
from click.testing import CliRunner

from edi837.batch import durable
from edi837.cli import main


@pytest.fixture
def read_only():
    """Make a file read-only for this user, root included (chattr +i), as the trial did."""
    made = []

    def make(path):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            path.chmod(0o444)
        made.append(path)

    yield make
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def batch(inbox, out, *args: str):
    log = out.parent / "batch.log"
    result = CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out), "--settle",
                                       "0", "--log-file", str(log), "-q", *args])
    return result.exit_code, log.read_text() if log.exists() else ""


@pytest.mark.parametrize("which", ["ledger", "history"])
def test_a_read_only_store_is_refused_before_a_run_starts(tmp_path, read_only, which):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    store = tmp_path / "h.sqlite3"
    args = ["--history", str(store)] if which == "history" else []
    inbox.mkdir()
    assert batch(inbox, out, *args)[0] == 0  # both made, empty inbox
    target = store if which == "history" else out / "ledger.sqlite3"
    read_only(target)
    drop(inbox, "a.edi", edi(DEFECT, "000000001"))
    status, log = batch(inbox, out, *args)
    assert status == 2
    [line] = [line for line in log.splitlines() if "ERROR" in line]
    assert f"not started: {target}: the file is read-only for this user" in line
    assert "give write access, or another file" in line
    assert (inbox / "a.edi").exists() and run_dirs(out) == []


def test_a_writable_store_starts(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop(inbox, "a.edi", edi(DEFECT, "000000001"))
    status, log = batch(inbox, out, "--history", str(tmp_path / "h.sqlite3"))
    assert status == 1 and "ERROR" not in log


def test_a_full_disk_under_the_ledger_names_the_files_and_the_folder(tmp_path, monkeypatch):
    inbox, out, store = tmp_path / "inbox", tmp_path / "out", tmp_path / "hist" / "h.sqlite3"
    store.parent.mkdir()
    drop(inbox, "a.edi", edi(CLEAN, "000000001"))
    drop(inbox, "b.edi", edi(DEFECT, "000000002"))
    judged = []

    def checkpoint(name):
        if name == "judged":
            judged.append(name)
            if len(judged) == 2:  # b.edi, once a.edi is done: SQLite's SQLITE_FULL
                raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(durable, "checkpoint", checkpoint)
    status, log = batch(inbox, out, "--history", str(store))
    assert status == 2
    [line] = [line for line in log.splitlines() if "ERROR stopped" in line]
    assert "OperationalError" not in line
    assert (f"the disk is full writing the ledger {out / 'ledger.sqlite3'} or the history "
            f"store {store} (database or disk is full): free space in {out}, {store.parent}"
            " while checking b.edi") in line
