"""A run that stopped on a fault before finishing any file (a full disk, the ledger's
server gone, SIGKILL) keeps its folder and its summary, the one the operator was told
about: the next start closes it saying it stopped early (exit status 2), and removes
only the run's empty archive and quarantine folders, saying so.  Synthetic inputs."""
import errno
import json
import os
import signal
import subprocess
import sys

from batch_support import DEFECT, drop, edi, run_dirs, runs, subprocess_env
from click.testing import CliRunner
from store_support import KILLED_AT, edi837

from edi837.batch import durable
from edi837.cli import main


def batch(tmp_path):
    return ["batch", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"), "--settle",
            "0", "--format", "json"]


def closed_run(out, run_id: str) -> dict:
    summary = json.loads((out / run_id / "summary.json").read_text())
    assert summary["run"]["state"] == "interrupted", summary["run"]
    assert summary["run"]["exit_status"] == 2
    assert any("stopped early" in p for p in summary["problems"]), summary["problems"]
    [row] = [r for r in runs(out) if r["run_id"] == run_id]
    assert row["state"] == "interrupted" and row["exit_status"] == 2, row
    return summary


def test_a_run_killed_on_its_first_file_keeps_its_folder_and_summary(tmp_path):
    drop(tmp_path / "inbox", "a.edi", edi(DEFECT, "000000001"))
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, "judged", *batch(tmp_path)],
                            capture_output=True, text=True, timeout=120, env=subprocess_env())
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [first] = run_dirs(tmp_path / "out")
    again = edi837(*batch(tmp_path))
    assert again.returncode == 1, again.stderr  # a.edi checked again: its findings
    assert first.is_dir(), again.stderr
    closed_run(tmp_path / "out", first.name)
    assert f"run {first.name} was interrupted; it finished no file, summary written" \
        in again.stderr
    assert len(run_dirs(tmp_path / "out")) == 2


def test_a_run_stopped_by_a_full_disk_keeps_the_summary_it_wrote(tmp_path, monkeypatch):
    """The disk fills while the first file's report is written: the run stops (exit 2)
    with a summary saying why; the next start (space freed) keeps it, and its reason."""
    drop(tmp_path / "inbox", "a.edi", edi(DEFECT, "000000001"))
    real, real_checkpoint, full = os.fdopen, durable.checkpoint, [False]

    def fdopen(fd, *args, **kwargs):
        handle = real(fd, *args, **kwargs)
        write = handle.write

        def write_full(data):
            if full[0]:
                full[0] = False  # the disk is freed once the failed output is removed
                raise OSError(errno.ENOSPC, "No space left on device")
            return write(data)

        handle.write = write_full
        return handle

    def checkpoint(step):
        full[0] = full[0] or step == "claimed"  # the disk fills once the file is taken

    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(durable, "checkpoint", checkpoint)
    stopped = CliRunner().invoke(main, batch(tmp_path))
    assert stopped.exit_code == 2, stopped.output
    assert "No space left on device" in stopped.output and "Traceback" not in stopped.output
    [first] = run_dirs(tmp_path / "out")
    mailed = json.loads((first / "summary.json").read_text())
    assert any("No space left on device" in p for p in mailed["problems"]), mailed
    monkeypatch.setattr(os, "fdopen", real)  # the disk freed
    monkeypatch.setattr(durable, "checkpoint", real_checkpoint)
    again = CliRunner().invoke(main, batch(tmp_path))
    assert again.exit_code == 1, again.output
    assert first.is_dir(), again.output
    summary = closed_run(tmp_path / "out", first.name)
    assert any("No space left on device" in p for p in summary["problems"]), summary
