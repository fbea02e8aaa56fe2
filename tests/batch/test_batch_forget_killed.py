"""`history forget-file` of a file held by a batch that was killed (SIGKILL, a real
process: a fork of this one) after judging it said "deleted", and the restart put
every line back (trial 8c, item 3).  It refuses now (exit 2, nothing deleted),
saying the file is still in the inbox and will be checked again; a file whose
outcome was recorded is forgotten as before (the PASS case)."""
from __future__ import annotations

import hashlib
import os
import sqlite3

from batch_support import CLEAN, drop, edi, killed_in_fork, options
from click.testing import CliRunner

from edi837.batch import run_batch
from edi837.cli import main


def lines(out) -> int:
    db = sqlite3.connect(out / "ledger.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM history_lines").fetchone()[0]
    finally:
        db.close()


def forget(out, sha256: str):
    return CliRunner().invoke(main, ["history", "forget-file", str(out / "ledger.sqlite3"),
                                     sha256])


def test_a_file_of_a_killed_batch_is_not_forgotten(tmp_path):
    opts = options(tmp_path)
    data = edi(CLEAN, "000000001")
    sha256 = hashlib.sha256(data).hexdigest()
    drop(opts.inbox, "a.edi", data)
    assert os.WIFSIGNALED(killed_in_fork(opts, lambda name: name == "judged"))
    held = lines(opts.out)
    assert held  # the killed batch's lines, held by it
    done = forget(opts.out, sha256)
    assert done.exit_code == 2, done.output
    assert "which stopped before recording it (killed?)" in done.stderr
    assert "still in that batch's inbox" in done.stderr and "nothing deleted" in done.stderr
    assert "deleted" not in done.stdout
    assert lines(opts.out) == held
    # the restart checks it again; once recorded, it is forgotten
    assert run_batch(opts) == 0
    assert lines(opts.out) == held
    done = forget(opts.out, sha256)
    assert done.exit_code == 0, done.output
    assert f"of file {sha256} deleted" in done.stdout
    assert lines(opts.out) == 0
