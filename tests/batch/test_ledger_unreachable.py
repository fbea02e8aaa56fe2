"""A batch whose PostgreSQL ledger cannot be reached does not start (README "Running on
a cluster", the database row): exit status 2, a line naming the server and why, the
inbox left as it was and nothing written in OUTDIR but what the next start needs (the
audit of 7 December: claimed, never tested).  Needs no server: the port is closed."""
import socket

import pytest
from batch_support import drop, generated
from store_support import edi837, key_file

pytest.importorskip("psycopg", reason="psycopg 3 (pip install 'edi837[postgres]')")


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on once this closes it
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_batch_that_cannot_reach_its_ledger_does_not_start(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    waiting = drop(inbox, "night.edi", generated(claims=3, seed=2))
    url = f"postgresql://edi837:secret-pw@127.0.0.1:{closed_port()}/claims"
    result = edi837("batch", inbox, "--out", out, "--settle", "0", "--ledger", url,
                    "--history-key", key_file(tmp_path), timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "not started" in result.stderr and "127.0.0.1" in result.stderr, result.stderr
    assert "secret-pw" not in result.stderr + result.stdout  # the password is never shown
    assert "Traceback" not in result.stderr
    assert [p.name for p in inbox.iterdir()] == ["night.edi"] and waiting.exists()
    assert not (out.exists() and list(out.rglob("report.json")))  # nothing was checked
