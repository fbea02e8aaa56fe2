"""Operator trial 7b, item 2: the PostgreSQL server goes away mid-run (here its backend
is terminated, as `pg_ctl -m fast stop` does: "terminating connection due to
administrator command").  `check --history` says so as a message an operator can act on
(exit 2, no "internal error"), the API raises edi837.StoreLostError (an Edi837Error),
`batch --watch` idle logs what it logs mid-file; the store keeps nothing of the run."""
import os
import time

import pytest
from pg_support import drop_schema, new_schema, query
from store_support import key_file, popen
from test_history import claim, night, subscriber

import edi837
from edi837 import entry
from edi837.engine import Engine


@pytest.fixture
def pg_url():
    url = new_schema()
    yield url
    drop_schema(url)


def terminate(url, pid: int) -> int:
    """Terminate the server's backends of edi837 process ``pid``; how many."""
    rows = query(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = %s", (f"edi837[{pid}]",))
    return len(rows)


def two_nights(tmp_path):
    return [night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115")),
            night(tmp_path, "b.edi", subscriber(2), claim("C2", "20260301"))]


def lines(url) -> int:
    return query(url, "SELECT COUNT(*) FROM history_lines")[0][0]


def test_the_api_raises_store_lost_and_the_store_keeps_nothing(tmp_path, pg_url):
    key = key_file(tmp_path)
    files = two_nights(tmp_path)
    edi837.check(files[:1], history=pg_url, history_key=key)  # FAIL case's baseline
    before = lines(pg_url)
    stream = edi837.iter_findings(files, history=pg_url, history_key=key)
    next(stream)  # the run holds the store now
    assert terminate(pg_url, os.getpid()) == 1
    with pytest.raises(edi837.StoreLostError) as lost:
        list(stream)
    assert isinstance(lost.value, edi837.Edi837Error)
    message = str(lost.value)
    assert "went away" in message and "run again" in message and "terminating" in message
    assert lines(pg_url) == before
    # PASS: the server back (a new connection), the same run completes
    assert edi837.check(files, history=pg_url, history_key=key).exit_status == 0


def test_check_says_what_to_do_not_internal_error(tmp_path, pg_url, monkeypatch, capsys):
    key = key_file(tmp_path)
    files = two_nights(tmp_path)
    checked = Engine.check_file

    def then_gone(self, path):
        if str(path).endswith("b.edi"):
            terminate(pg_url, os.getpid())
        return checked(self, path)

    monkeypatch.setattr(Engine, "check_file", then_gone)
    with pytest.raises(SystemExit) as ended:
        entry.main(["check", "--history", pg_url, "--history-key", str(key),
                    "-o", str(tmp_path / "r.json"), *map(str, files)])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert "went away" in err and "nothing of it was stored" in err, err
    assert "internal error" not in err and "Pipeline" not in err and "Traceback" not in err
    assert lines(pg_url) == 0  # (the tables were made when the store was opened)


@pytest.mark.slow
def test_batch_watch_idle_logs_the_store_went_away(tmp_path, pg_url):
    key = key_file(tmp_path)
    (tmp_path / "inbox").mkdir()
    log = tmp_path / "batch.log"
    process = popen("batch", "inbox", "--out", "out", "--ledger", pg_url, "--history-key",
                    key, "--settle", "0", "--watch", "--interval", "1", "--log-file", log,
                    "-q", cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and "watching" in log.read_text()):
            assert time.monotonic() < deadline and process.poll() is None, process.stderr
            time.sleep(0.2)
        time.sleep(1.5)  # idle: between two looks at the inbox
        while terminate(pg_url, process.pid) == 0:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # its next look at the ledger (a file came) finds the server gone
        night(tmp_path / "inbox", "a.edi", subscriber(2), claim("C1", "20260115"))
        assert process.wait(timeout=60) == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    (line,) = [line for line in log.read_text().splitlines() if " ERROR " in line]
    assert "stopped: the ledger or history store went away" in line, line
    assert "PgError" not in line and "run" in line

