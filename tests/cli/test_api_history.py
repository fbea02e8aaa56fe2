"""The Python API with a history store: a run's lines are committed together once the
run completes (as `check --history`), never for findings the caller did not handle.

A pipeline forwards what it iterated: a loop that raises or breaks, or a process
killed half-way, forwarded nothing, so the store must not hold that run's claims
(the next run would call them duplicates, HIS001, of claims never sent)."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys

import pytest
from batch_support import subprocess_env
from conftest import CLEAN_J2350_CLAIM
from store_support import key_file

import edi837


def stored_lines(store) -> int:
    with sqlite3.connect(store) as db:
        count = db.execute("SELECT COUNT(*) FROM history_lines "
                           "WHERE removed_by IS NULL").fetchone()[0]
    db.close()
    return count


def first_and_resent(edi_file):
    """A clean J2350 claim, and the same dose billed again on claim C2 (a HIS001
    error only when the first file's line is in the store)."""
    return (edi_file(CLEAN_J2350_CLAIM, name="good1.edi"),
            edi_file(CLEAN_J2350_CLAIM.replace("CLM*C1", "CLM*C2"), name="resend1.edi"))


def his001(paths, store, key) -> list[str]:
    return [f.claim_id for f in edi837.iter_findings(paths, history=store, history_key=key,
                                                    history_days=0) if f.rule == "HIS001"]


def test_a_completed_iteration_commits_the_run(edi_file, tmp_path):
    good, resent = first_and_resent(edi_file)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    assert his001([good, resent], store, key) == ["C2"]  # judged within the run
    assert stored_lines(store) == 1  # C1 forwarded and kept; C2 held
    assert his001([resent], store, key) == ["C2"]  # judged against the stored C1


def stopped_early(paths, store, key, stop: str) -> None:
    """Iterate the findings of ``paths`` and stop after the first, as ``stop`` says."""
    arguments = {"history": store, "history_key": key, "history_days": 0}
    if stop == "raise":  # the loop of the README's example, failing to forward
        with pytest.raises(RuntimeError):
            for _ in edi837.iter_findings(paths, **arguments):
                raise RuntimeError("the caller could not forward it")
    elif stop == "break":
        for _ in edi837.iter_findings(paths, **arguments):
            break
    elif stop == "close":  # a stream kept in a variable: closed when done with
        stream = edi837.iter_findings(paths, **arguments)
        next(stream)
        stream.close()
    else:  # a stream kept in a variable, closed by its with block as the caller raises
        with pytest.raises(RuntimeError):
            with edi837.iter_findings(paths, **arguments) as stream:
                next(stream)
                raise RuntimeError("the caller could not forward it")


@pytest.mark.parametrize("stop", ["raise", "break", "close", "with"])
def test_a_caller_that_stops_early_leaves_the_store_as_it_was(edi_file, tmp_path, stop):
    good, resent = first_and_resent(edi_file)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    stopped_early([good, resent], store, key, stop)
    assert stored_lines(store) == 0
    # nothing was forwarded: the resend is a first claim, not a duplicate
    assert his001([resent], store, key) == []
    assert stored_lines(store) == 1


def test_check_that_raises_half_way_commits_nothing(edi_file, tmp_path):
    good, resent = first_and_resent(edi_file)
    junk = edi_file("hello world\n", wrap=False, name="junk.edi")
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    with pytest.raises(edi837.InputError, match="junk.edi"):
        edi837.check([good, junk], history=store, history_key=key)
    assert stored_lines(store) == 0
    assert his001([resent], store, key) == []


# the caller: iterates, tells the test the first finding was handed over, then waits
CALLER = """
import os, sys
import edi837
for finding in edi837.iter_findings(sys.argv[3:], history=sys.argv[1], history_key=sys.argv[2],
                                    history_days=0):
    print(finding.rule, flush=True)
    if sys.argv[-1] == "exit":
        os._exit(0)
    sys.stdin.readline()  # until the test kills it
"""


@pytest.mark.parametrize("death", ["SIGKILL", "os._exit"])
def test_a_process_killed_after_its_first_finding_leaves_no_line(edi_file, tmp_path, death):
    good, resent = first_and_resent(edi_file)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    args = [sys.executable, "-c", CALLER, str(store), str(key), str(good), str(resent)]
    process = subprocess.Popen(args + (["exit"] if death == "os._exit" else []),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=subprocess_env())
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip(), process.communicate(timeout=60)
        if death == "SIGKILL":
            process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == (-signal.SIGKILL if death == "SIGKILL" else 0)
    assert stored_lines(store) == 0
    assert his001([resent], store, key) == []


# as CALLER, with a retention that prunes the stored line (its date of service is
# long past 30 days ago)
PRUNING_CALLER = CALLER.replace("history_days=0", "history_days=30")


def test_the_prune_of_a_run_that_raises_or_is_killed_is_undone(edi_file, tmp_path):
    good, resent = first_and_resent(edi_file)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    edi837.check([good], history=store, history_key=key, history_days=0)
    assert stored_lines(store) == 1
    junk = edi_file("hello world\n", wrap=False, name="junk.edi")
    with pytest.raises(edi837.InputError, match="junk.edi"):
        edi837.check([resent, junk], history=store, history_key=key, history_days=30)
    assert stored_lines(store) == 1  # not pruned: the run raised
    process = subprocess.Popen(
        [sys.executable, "-c", PRUNING_CALLER, str(store), str(key), str(resent)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=subprocess_env())
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip(), process.communicate(timeout=60)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert stored_lines(store) == 1  # not pruned: the run was killed
    import datetime as dt

    recent = (dt.date.today() - dt.timedelta(days=2)).strftime("%Y%m%d")
    edi837.check([edi_file(CLEAN_J2350_CLAIM.replace("CLM*C1", "CLM*C9")
                           .replace("20260115", recent), name="recent.edi")],
                 history=store, history_key=key, history_days=30)
    assert stored_lines(store) == 1  # a run that completes prunes: C1 went, C9 came
