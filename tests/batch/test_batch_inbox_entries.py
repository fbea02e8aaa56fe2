"""Inbox entries the batch will not read (issue #13, items 4, 9 and 10): links,
FIFOs, devices, files over the size cap, markers that are not files.  Each is
skipped with a reason, the other files are processed, the run exits 2, and the
next run is never wedged."""
import hashlib
import os
import subprocess
import types
from pathlib import Path

from batch_support import (
    CLEAN,
    DEFECT,
    batch_argv,
    by_name,
    drop,
    edi,
    ledger,
    options,
    subprocess_env,
    summaries,
)
from click.testing import CliRunner

from edi837.batch import StopFlag, durable, inbox, run_batch
from edi837.cli.batch import batch as batch_command


def test_a_link_out_of_the_inbox_is_not_followed(tmp_path):
    opts = options(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "secret.edi"
    secret.write_bytes(edi(DEFECT))
    os.symlink(secret, opts.inbox / "link.edi")
    os.symlink(outside, opts.inbox / "linked-folder")
    drop(opts.inbox, "good.edi", edi(CLEAN))

    assert run_batch(opts) == 2
    assert [r["name"] for r in ledger(opts.out)] == ["good.edi"]  # the outside file: never read
    [summary] = summaries(opts.out)
    skipped = {s["name"]: s["why"] for s in summary["skipped"]}
    assert sorted(skipped) == ["link.edi", "linked-folder"]
    assert all("symbolic link" in why for why in skipped.values())
    assert secret.read_bytes() == edi(DEFECT) and (opts.inbox / "link.edi").is_symlink()
    assert not list(opts.out.rglob("secret*"))

    assert run_batch(opts) == 2  # still there, still said; nothing else happens
    assert len(ledger(opts.out)) == 1 and len(summaries(opts.out)) == 2


def test_a_fifo_or_a_link_to_a_device_never_hangs_the_batch(tmp_path):
    opts = options(tmp_path)
    os.mkfifo(opts.inbox / "pipe.edi")
    os.symlink("/dev/zero", opts.inbox / "zero.edi")
    drop(opts.inbox, "good.edi", edi(CLEAN))
    argv = batch_argv() + [str(opts.inbox), "--out", str(opts.out)]

    # timeout: only a guard against the hang this test is about; it takes a second
    first = subprocess.run(argv, env=subprocess_env(), capture_output=True, timeout=60)
    assert first.returncode == 2, first.stderr.decode()
    assert [r["name"] for r in ledger(opts.out)] == ["good.edi"]
    [summary] = summaries(opts.out)
    skipped = {s["name"]: s["why"] for s in summary["skipped"]}
    assert "FIFO" in skipped["pipe.edi"] and "symbolic link" in skipped["zero.edi"]
    assert b"Traceback" not in first.stderr and b"pipe.edi: skipped" in first.stderr
    assert sorted(p.name for p in opts.inbox.iterdir()) == ["pipe.edi", "zero.edi"]

    again = subprocess.run(argv, env=subprocess_env(), capture_output=True, timeout=60)
    assert again.returncode == 2 and len(ledger(opts.out)) == 1


def test_a_file_over_the_size_cap_is_skipped_not_read(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "huge.edi", edi(CLEAN) + b" " * 5000)
    drop(opts.inbox, "good.edi", edi(CLEAN))
    result = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                                "--max-size", "4k"])
    assert result.exit_code == 2, result.output
    assert [r["name"] for r in ledger(opts.out)] == ["good.edi"]
    [summary] = summaries(opts.out)
    assert "more than --max-size 4,096" in summary["skipped"][0]["why"]
    assert summary["totals"]["skipped"] == 1 and summary["options"]["max_size"] == 4096
    assert (opts.inbox / "huge.edi").exists()
    bad = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                             "--max-size", "lots"])
    assert bad.exit_code == 2 and "not a size" in bad.output


def test_a_stop_signal_stops_hashing_a_large_file(tmp_path, monkeypatch):
    """The first SIGTERM stops the batch even while it hashes a large file: the
    file is left for the next run, not taken."""
    opts = options(tmp_path)
    drop(opts.inbox, "large.edi", edi(CLEAN) + b" " * 64_000)
    stop = StopFlag()

    class Digest:  # the signal arrives while the first chunk is hashed
        def __init__(self):
            self.real = hashlib.sha256()

        def update(self, data):
            stop.set()
            self.real.update(data)

        def hexdigest(self):
            return self.real.hexdigest()

    monkeypatch.setattr(inbox, "CHUNK_SIZE", 4096, raising=False)
    monkeypatch.setattr(inbox, "hashlib", types.SimpleNamespace(sha256=Digest), raising=False)
    assert run_batch(opts, stop=stop) == 2  # one-shot: stopped before taking the file
    assert not ledger(opts.out) and (opts.inbox / "large.edi").exists()


def test_a_marker_that_is_a_folder_neither_stops_the_batch_nor_recovery(tmp_path, monkeypatch):
    opts = options(tmp_path, marker=".done")
    drop(opts.inbox, "a.edi", edi(CLEAN))
    (opts.inbox / "a.edi.done").mkdir()  # not a marker: a.edi is skipped, with the reason
    drop(opts.inbox, "b.edi", edi(CLEAN, control="000000002"))
    drop(opts.inbox, "b.edi.done", b"")

    def checkpoint(step: str) -> None:  # b's marker becomes a folder before it is removed
        if step == "moved":
            os.unlink(opts.inbox / "b.edi.done")
            (opts.inbox / "b.edi.done").mkdir()

    monkeypatch.setattr(durable, "checkpoint", checkpoint)
    assert run_batch(opts) == 2
    monkeypatch.setattr(durable, "checkpoint", lambda step: None)
    assert [(r["name"], r["state"]) for r in ledger(opts.out)] == [("b.edi", "done")]
    [summary] = summaries(opts.out)
    assert "marker a.edi.done is not a regular file" in by_name({"files": summary["skipped"]})[
        "a.edi"]["why"]
    assert sorted(p.name for p in opts.inbox.iterdir()) == ["a.edi", "a.edi.done", "b.edi.done"]

    assert run_batch(opts) == 2  # the next start recovers nothing, takes nothing, says why
    assert len(ledger(opts.out)) == 1
    assert Path(ledger(opts.out)[0]["destination"]).read_bytes() == edi(CLEAN, control="000000002")
