"""A file that cannot be moved to the archive (a read-only inbox or archive): the run
says so in its summary, and the start that finishes the move feeds its held claims to
the work queue."""
import json
import subprocess

import pytest
from batch_support import batch_argv, subprocess_env, unprivileged
from queue_support import claim, drop_night

from edi837.batch import run_batch
from edi837.batch.options import BatchOptions


@pytest.mark.parametrize("refusing", ["inbox", "archive"])
def test_a_move_refused_then_finished_feeds_the_queue_and_is_reported(tmp_path, refusing):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop_night(inbox, "g6.edi", [claim("H1", "001", "20251201", held=True),
                                 claim("H2", "002", "20251201", held=True),
                                 claim("C3", "003", "20251201")], "000000001")
    folder = inbox if refusing == "inbox" else out / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    argv = [*batch_argv(), str(inbox), "--out", str(out), "--settle", "0", "--format", "json"]
    try:
        failed = subprocess.run(unprivileged(argv), capture_output=True, text=True,
                                env=subprocess_env(), timeout=120)
    finally:
        folder.chmod(0o755)
    assert failed.returncode == 2, failed.stderr
    assert f"{folder} is not writable" in failed.stderr
    (run,) = [p for p in out.iterdir() if p.name[:1].isdigit()]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["run"]["exit_status"] == 2
    assert any("g6.edi" in p and str(folder) in p for p in summary["problems"]), summary
    (entry,) = summary["files"]
    assert entry["moved_to"] is None
    assert entry["problem"] and str(folder) in entry["problem"]
    assert (inbox / "g6.edi").exists()

    status = run_batch(BatchOptions(inbox=inbox, out=out, settle=0.0, formats=("json",)))
    assert status == 0  # nothing new; the move finished
    assert not (inbox / "g6.edi").exists()
    assert (out / "archive" / run.name / "g6.edi").exists()
    listed = subprocess.run([*batch_argv()[:-1], "queue", "list", "--out", str(out),
                             "--format", "json"], capture_output=True, text=True,
                            env=subprocess_env(), timeout=60)
    assert listed.returncode == 0, listed.stderr
    claims = sorted(json.loads(line)["claim_id"] for line in listed.stdout.splitlines())
    assert claims == ["H1", "H2"]
