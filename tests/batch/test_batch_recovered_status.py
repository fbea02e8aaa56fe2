"""The start that closes a killed run (SIGKILL: a real process, a fork of this one)
returned one exit status and said another in its last log line and summary.json,
and a quarantine made by a killed run was never reported with status 2 when the
recovering start was killed too (trial 8c, item 5).  The rule (README "Exit
status"): that start's own run takes in the killed runs' own status (their files'
findings, 2 for a quarantine), one number in the process, the log and the
summary; until a run of the batch has ended saying it, every start does."""
from __future__ import annotations

import logging
import os
import re

from batch_support import CLEAN, DEFECT, drop, edi, killed_in_fork, options, summaries

from edi837.batch import run_batch


def killed_after_a_file(opts) -> None:
    assert os.WIFSIGNALED(killed_in_fork(opts, lambda name: name == "done"))


def start(opts, caplog) -> tuple[int, int, dict]:
    """(the process's exit status, its last log line's, its run's summary)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        status = run_batch(opts)
    [last] = [r.getMessage() for r in caplog.records if " finished: " in r.getMessage()]
    said = int(re.search(r"exit status (\d)", last).group(1))
    summary = max(summaries(opts.out), key=lambda s: s["run"]["id"])
    return status, said, summary


def test_the_killed_runs_findings_are_the_restarts_status_everywhere(tmp_path, caplog):
    opts = options(tmp_path)
    drop(opts.inbox, "a.edi", edi(DEFECT, "000000001"))  # error findings: status 1
    drop(opts.inbox, "b.edi", edi(CLEAN.replace("SYN000000001", "SYN000000077"), "000000002"))
    killed_after_a_file(opts)
    status, said, summary = start(opts, caplog)  # its own file (b.edi) is clean
    assert status == said == summary["run"]["exit_status"] == 1
    assert any("of the interrupted run" in n for n in summary["notices"])
    # said once: the next start is its own
    drop(opts.inbox, "c.edi", edi(CLEAN.replace("SYN000000001", "SYN000000078"), "000000003"))
    status, said, summary = start(opts, caplog)
    assert status == said == summary["run"]["exit_status"] == 0


def test_a_quarantine_of_a_killed_run_is_status_2_through_a_second_kill(tmp_path, caplog):
    opts = options(tmp_path)
    drop(opts.inbox, "a.edi", b"not an X12 file at all\n")  # quarantined: status 2
    drop(opts.inbox, "b.edi", edi(DEFECT, "000000002"))
    drop(opts.inbox, "c.edi", edi(CLEAN.replace("SYN000000001", "SYN000000079"), "000000003"))
    killed_after_a_file(opts)  # a.edi quarantined, then killed
    killed_after_a_file(opts)  # the start that closed that run: killed after b.edi
    status, said, summary = start(opts, caplog)
    assert status == said == summary["run"]["exit_status"] == 2
    assert [s["totals"]["quarantined"] for s in summaries(opts.out)] == [1, 0, 0]
    drop(opts.inbox, "d.edi", edi(CLEAN.replace("SYN000000001", "SYN000000080"), "000000004"))
    status, said, summary = start(opts, caplog)
    assert status == said == summary["run"]["exit_status"] == 0
