"""A run stopped by an error after it started says so, naming the file in hand and,
for a full disk, the path; the summary is written when it can be."""
import errno
import json

import pytest
from batch_support import CLEAN, DEFECT, drop, edi, run_dirs
from click.testing import CliRunner

from edi837.batch import BatchError, durable
from edi837.cli import main

URL = "postgresql://edi837@127.0.0.1:5432/postgres"


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["store gone", "disk full"])
def test_a_run_stopped_midway_says_where_and_writes_its_summary(tmp_path, monkeypatch, fault):
    inbox, out, log = tmp_path / "inbox", tmp_path / "out", tmp_path / "batch.log"
    drop(inbox, "a.edi", edi(CLEAN, "000000001"))
    drop(inbox, "b.edi", edi(DEFECT, "000000002"))
    judged = []

    def checkpoint(name):
        if name == "judged":
            judged.append(name)
            if len(judged) == 2:  # b.edi, once a.edi is done
                if fault == "store gone":
                    raise BatchError(f"{URL}: cannot write it: terminating connection due "
                                     "to administrator command")
                raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable, "checkpoint", checkpoint)
    result = CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out), "--settle",
                                       "0", "--log-file", str(log), "-q"])
    assert result.exit_code == 2
    text = log.read_text()
    assert "not started" not in text
    (line,) = [line for line in text.splitlines() if "ERROR stopped" in line]
    assert "while checking b.edi" in line
    if fault == "store gone":
        assert "the ledger or history store went away" in line and URL in line
    else:
        assert "No space left on device" in line and f"writing in {out}" in line
        assert "Errno" not in line
    (run,) = run_dirs(out)
    assert f"summary {run / 'summary.json'}" in line
    summary = json.loads((run / "summary.json").read_text())
    assert summary["run"]["exit_status"] == 2
    assert any("stopped early" in p and "b.edi" in p for p in summary["problems"])
    monkeypatch.setattr(durable, "checkpoint", lambda name: None)
    assert CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out), "--settle",
                                     "0", "-q"]).exit_code == 1  # b.edi taken again
    assert not (inbox / "b.edi").exists() and not (inbox / "a.edi").exists()


def test_the_last_log_line_of_a_status_2_run_says_why(tmp_path):
    """An input nobody may read (chmod 000): its reason in the line cron mails."""
    import subprocess

    from batch_support import batch_argv, subprocess_env, unprivileged

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop(inbox, "locked.edi", edi(CLEAN)).chmod(0o000)
    result = subprocess.run(unprivileged([*batch_argv(), str(inbox), "--out", str(out),
                                          "--settle", "0"]),
                            capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "exit status 2 (locked.edi: cannot read: Permission denied)" in last, last
