"""A run killed (SIGKILL, power lost) is closed by the next start: its summary says it
was stopped early, as a run stopped by SIGTERM does, with exit status 2."""
import os
import signal

from batch_support import DEFECT, drop, edi, options, summaries

from edi837.batch import durable, run_batch


def killed_after_first_file(opts) -> None:
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            def checkpoint(name):
                if name == "done":
                    os.kill(os.getpid(), signal.SIGKILL)

            durable.checkpoint = checkpoint
            run_batch(opts)
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
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
