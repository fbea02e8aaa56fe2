"""A run killed (SIGKILL, power lost) is closed by the next start: its summary says it
was stopped early, as a run stopped by SIGTERM does, with exit status 2."""
import os
import signal

from batch_support import DEFECT, drop, edi, killed_in_fork, options, summaries

from edi837.batch import run_batch


def killed_after_first_file(opts) -> None:
    status = killed_in_fork(opts, lambda name: name == "done")
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_a_killed_run_is_closed_with_status_2_and_says_it_was_stopped(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "a.edi", edi(DEFECT, "000000001"))  # error findings: status 1 alone
    drop(opts.inbox, "b.edi", edi(DEFECT, "000000002"))
    killed_after_first_file(opts)
    restart = run_batch(opts)
    first = summaries(opts.out)[0]
    assert first["run"]["state"] == "interrupted"
    assert first["run"]["exit_status"] == 2
    assert any("stopped early" in p for p in first["problems"]), first["problems"]
    # the start that closed it: its own status (b.edi's findings), as after any crash
    assert restart == 1
    assert summaries(opts.out)[1]["run"]["exit_status"] == 1
