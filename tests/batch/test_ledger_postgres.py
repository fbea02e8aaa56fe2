"""Issue 26 item 1: the batch ledger (with its work queue and the patient history) on a
real PostgreSQL server (`batch --ledger postgresql://...`), shared by several batch
hosts, each with its own inbox and OUTDIR: `edi837` in processes of its own, killed
for real.

The server's URL comes from EDI837_TEST_PG (.ci/start-postgres starts one; in CI a
test that cannot reach it fails).  Each test gets a schema of its own, dropped after.
Every input is synthetic.
"""
import hashlib
import json
import signal
import subprocess
import sys

import pytest
from batch_support import DEFECT, drop, edi, generated, subprocess_env, wait_for
from pg_support import drop_schema, new_schema, query
from store_support import KILLED_AT, edi837, key_file, popen


@pytest.fixture
def pg_url():
    """A URL whose search_path is a fresh schema (created here, dropped after)."""
    url = new_schema()
    yield url
    drop_schema(url)


def batch(host, url, key, *more):
    """`edi837 batch` of one host (tmp/HOST/inbox, tmp/HOST/out) on the shared ledger."""
    return edi837("batch", host / "inbox", "--out", host / "out", "--settle", "0",
                  "--ledger", url, "--history-key", key, "--history-days", "0", *more)


def batch_process(host, url, key):
    return popen("batch", host / "inbox", "--out", host / "out", "--settle", "0",
                 "--ledger", url, "--history-key", key, "--history-days", "0")


def killed_batch_at(step, host, url, key, *more):
    """The host's batch, SIGKILLed by its own hand at the checkpoint ``step``."""
    result = subprocess.run(
        [sys.executable, "-c", KILLED_AT, step, "batch", str(host / "inbox"), "--out",
         str(host / "out"), "--settle", "0", "--ledger", url, "--history-key", str(key),
         "--history-days", "0", *map(str, more)], capture_output=True, text=True,
        timeout=120, env=subprocess_env())
    assert result.returncode == -signal.SIGKILL, (result.returncode, result.stderr)


def rows(url, sha=None):
    where, parameters = ("WHERE sha256 = %s", (sha,)) if sha else ("", ())
    return query(url, "SELECT name, state, outcome, owner, duplicate_of FROM inputs "
                 f"{where} ORDER BY id", parameters)


def no_batch_alive(url) -> bool:
    """No process holds its OUTDIR's name in the ledger (a killed one's session ended)."""
    return query(url, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                 "classid = 838")[0][0] == 0


def test_a_batch_keeps_its_ledger_queue_and_history_on_the_server(tmp_path, pg_url):
    key, host = key_file(tmp_path), tmp_path / "a"
    drop(host / "inbox", "held.edi", edi(DEFECT, "000000101"))
    drop(host / "inbox", "clean.edi", generated(claims=3, seed=4))
    first = batch(host, pg_url, key)
    assert first.returncode == 1, first.stderr  # an error finding (NDC002)
    assert not (host / "out" / "ledger.sqlite3").exists()
    assert sorted(r[:3] for r in rows(pg_url)) == [("clean.edi", "done", "ok"),
                                                    ("held.edi", "done", "findings")]
    assert query(pg_url, "SELECT value FROM ledger_meta WHERE name = 'schema'") == [("2",)]
    # the work queue lives there too, read and written through --ledger
    listed = edi837("queue", "list", "--ledger", pg_url)
    assert listed.returncode == 0, listed.stderr
    assert "NDC002" in listed.stdout and "1 claim," in listed.stdout
    [(claim_id,)] = query(pg_url, "SELECT claim_id FROM queue_claims WHERE status = 'open'")
    noted = edi837("queue", "note", claim_id, "called the sender", "--ledger", pg_url)
    assert noted.returncode == 0, noted.stderr
    closed = edi837("queue", "close", claim_id, "--reason", "written off", "--ledger", pg_url)
    assert closed.returncode == 0, closed.stderr
    assert query(pg_url, "SELECT status, reason FROM queue_claims") == [("closed",
                                                                         "written off")]
    rules = edi837("queue", "list", "--ledger", pg_url, "--rule", "NDC002", "--all")
    assert "closed" in rules.stdout, rules.stdout + rules.stderr  # (json_each on PostgreSQL)
    # and the patient history, which `history stats` reads in the same schema
    stats = edi837("history", "stats", pg_url, "--history-key", key)
    assert stats.returncode == 0, stats.stderr
    lines = query(pg_url, "SELECT COUNT(*) FROM history_lines")[0][0]
    assert lines > 0 and f"{lines} drug line" in stats.stdout
    # the same content dropped again: a duplicate, not checked again
    drop(host / "inbox", "again.edi", edi(DEFECT, "000000101"))
    again = batch(host, pg_url, key)
    assert again.returncode == 0, again.stderr
    assert rows(pg_url)[-1][:3] == ("again.edi", "done", "duplicate")
    assert query(pg_url, "SELECT COUNT(*) FROM history_lines")[0][0] == lines


def test_queue_commands_need_one_ledger_and_refuse_a_path_as_url(tmp_path, pg_url):
    both = edi837("queue", "list", "--ledger", pg_url, "--out", tmp_path)
    assert both.returncode == 2 and "one of them" in both.stderr
    path = edi837("queue", "list", "--ledger", str(tmp_path / "x.sqlite3"))
    assert path.returncode == 2 and "not a postgresql:// URL" in path.stderr
    bad = edi837("batch", tmp_path, "--out", tmp_path / "o", "--ledger", "ledger.sqlite3")
    assert bad.returncode == 2 and "not a postgresql:// URL" in bad.stderr


def test_the_same_file_in_two_inboxes_is_checked_once(tmp_path, pg_url):
    """Two hosts at once, the same large file in both inboxes: one checks it, the other
    archives it as a duplicate (at once, or on its next run if it found it being
    checked); each host's own file is checked by it."""
    key, a, b = key_file(tmp_path), tmp_path / "a", tmp_path / "b"
    big = generated(claims=1500, seed=9)
    for host, seed in ((a, 1), (b, 2)):
        drop(host / "inbox", "0-big.edi", big)
        drop(host / "inbox", "1-own.edi", generated(claims=3, seed=seed + 20))
    processes = [batch_process(host, pg_url, key) for host in (a, b)]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr
    for host in (a, b):  # what one found being checked by the other is taken now
        assert batch(host, pg_url, key).returncode in (0, 1)
        assert not any((host / "inbox").iterdir())
    sha = hashlib.sha256(big).hexdigest()
    outcomes = sorted(r[2] for r in rows(pg_url, sha))
    assert outcomes in (["duplicate", "findings"], ["duplicate", "ok"]), rows(pg_url, sha)
    assert {r[1] for r in rows(pg_url)} == {"done"}
    assert len({r[3] for r in rows(pg_url)}) == 2  # each host's rows are its own
    assert query(pg_url, "SELECT COUNT(*) FROM history_files WHERE sha256 = %s",
                 (sha,)) == [(1,)]
    reports = [p for host in (a, b) for p in (host / "out").rglob("0-big.edi/report.json")]
    assert len(reports) == 1


@pytest.fixture(params=["history in the ledger", "history of its own"])
def history_url(request, pg_url):
    """Where the hosts keep the patient history: the ledger's schema, or another."""
    if request.param == "history in the ledger":
        yield pg_url, ()
        return
    url = new_schema()
    yield url, ("--history", url)
    drop_schema(url)


def test_a_host_killed_mid_file_is_repaired_by_the_other_host_then_by_itself(
        tmp_path, pg_url, history_url):
    """Host A is SIGKILLed after its file's history was committed, before its outcome
    was: host B, given the same file, abandons A's claim (and what its check added to
    the history) and checks it; A's next start removes its half outputs and archives
    its copy as a duplicate of B's."""
    key, a, b = key_file(tmp_path), tmp_path / "a", tmp_path / "b"
    history, more = history_url
    data = generated(claims=40, seed=3)
    sha = hashlib.sha256(data).hexdigest()
    drop(a / "inbox", "night.edi", data)
    killed_batch_at("judged", a, pg_url, key, *more)
    assert [r[1] for r in rows(pg_url, sha)] == ["processing"]
    assert query(history, "SELECT COUNT(*) FROM history_files WHERE sha256 = %s",
                 (sha,)) == [(1,)]
    lines = query(history, "SELECT COUNT(*) FROM history_lines")[0][0]
    assert lines > 0
    assert wait_for(lambda: no_batch_alive(pg_url), timeout=30)
    drop(b / "inbox", "night.edi", data)
    taken = batch(b, pg_url, key, *more)
    assert taken.returncode in (0, 1), taken.stderr
    assert "abandoned here" in taken.stderr
    checked = rows(pg_url, sha)[1][2]
    assert checked in ("ok", "findings")
    assert [r[1:3] for r in rows(pg_url, sha)] == [("abandoned", None), ("done", checked)]
    # A's lines were taken out, B's put in: the history holds the file once
    assert query(history, "SELECT COUNT(*) FROM history_files WHERE sha256 = %s",
                 (sha,)) == [(1,)]
    assert query(history, "SELECT COUNT(*) FROM history_lines")[0][0] == lines
    again = batch(a, pg_url, key, *more)
    assert again.returncode == 0, again.stderr
    assert [r[1:3] for r in rows(pg_url, sha)] == [("done", checked), ("done", "duplicate")]
    assert not list((a / "out").rglob("files/night.edi"))  # A's half outputs are gone
    assert [p.name for p in (a / "out" / "archive").rglob("night.edi")] == ["night.edi"]
    # A's killed run, with no file left, kept and closed: stopped early, exit status 2
    assert query(pg_url, "SELECT state FROM runs ORDER BY run_id") == [
        ("interrupted",), ("finished",), ("finished",)]
    assert query(pg_url, "SELECT exit_status FROM runs ORDER BY run_id")[0] == (2,)
    killed = sorted(p for p in (a / "out").iterdir() if p.name[:1].isdigit())[0]
    assert json.loads((killed / "summary.json").read_text())["run"]["exit_status"] == 2


def test_a_second_batch_of_one_outdir_is_refused(pg_url, monkeypatch):
    import edi837.pgdb as pgdb
    from edi837.batch.ledger import Ledger
    from edi837.batch.options import BatchError

    monkeypatch.setitem(pgdb.PgConnection.hold.__kwdefaults__, "patience", 0.2)
    first = Ledger(pg_url, owner="host:/out:1")
    try:
        with pytest.raises(BatchError, match="same OUTDIR"):
            Ledger(pg_url, owner="host:/out:1")
        Ledger(pg_url, owner="host:/other:2").close()  # another OUTDIR: welcome
    finally:
        first.close()
    Ledger(pg_url, owner="host:/out:1").close()  # its holder gone: free again


def _reports(*outs) -> dict:
    """Night file name -> the history's findings in its report (wherever it was checked)."""
    from test_history_postgres import _night_rules

    found = {}
    for out in outs:
        for report in out.rglob("report.json"):
            name = report.parent.name
            assert name not in found, f"{name} checked twice"
            found[name] = _night_rules(report)
    return found


@pytest.mark.slow
def test_two_hosts_fed_the_nights_through_two_inboxes_find_what_one_host_finds(
        tmp_path, pg_url):
    """`generate --nights 120`: one batch host, a night at a time, against two batch
    processes (real, at once) on one PostgreSQL ledger and history, each night dropped
    into the inbox of one host or of both; one host is SIGKILLed mid-file on a night
    both got, the other takes that night, and the killed host's next start repairs.
    Every duplicate and schedule event (the history's findings of every night) is
    the one host's, and each night is checked once."""
    from click.testing import CliRunner

    from edi837.cli import main

    corpus = tmp_path / "nights"
    made = CliRunner().invoke(main, ["generate", "--nights", "120", "--seed", "5",
                                     "--out-dir", str(corpus)])
    assert made.exit_code == 0, made.output
    files = sorted(p for p in corpus.iterdir() if p.suffix == ".edi")
    assert len(files) >= 40
    key = key_file(tmp_path)
    one, a, b = tmp_path / "one", tmp_path / "a", tmp_path / "b"
    for host in (one, a, b):
        (host / "inbox").mkdir(parents=True)
    killed_night = files[len(files) // 2]
    for n, path in enumerate(files):
        drop(one / "inbox", path.name, path.read_bytes())
        alone = edi837("batch", one / "inbox", "--out", one / "out", "--settle", "0",
                       "--history-key", key, "--history-days", "0")
        assert alone.returncode in (0, 1), alone.stderr
        both = path == killed_night or n % 3 == 2
        for host in ((a, b) if both else (a,) if n % 3 == 0 else (b,)):
            drop(host / "inbox", path.name, path.read_bytes())
        if path == killed_night:
            killed_batch_at("judged", a, pg_url, key)  # A's claim and history: undone by B
            assert wait_for(lambda: no_batch_alive(pg_url), timeout=30)
            taken = batch(b, pg_url, key)
            assert taken.returncode in (0, 1) and "abandoned here" in taken.stderr, \
                taken.stderr
            continue
        processes = [batch_process(host, pg_url, key) for host in (a, b)]
        for process in processes:
            _, stderr = process.communicate(timeout=300)
            assert process.returncode in (0, 1), stderr
    for host in (a, b):  # what a host found being checked by the other: a duplicate now
        assert batch(host, pg_url, key).returncode in (0, 1)
        assert not any((host / "inbox").iterdir())
    expected, shared = _reports(one / "out"), _reports(a / "out", b / "out")
    assert sorted(expected) == [p.name for p in files]
    assert shared == expected
    seen = {rule for night in expected.values() for rules in night.values() for rule in rules}
    assert {"HIS001", "HIS002"} <= seen, seen  # duplicates and schedule slips across nights
    states = query(pg_url, "SELECT state, outcome, COUNT(*) FROM inputs GROUP BY 1, 2")
    checked = sum(count for state, outcome, count in states if outcome in ("ok", "findings"))
    assert checked == len(files) and {state for state, _, _ in states} == {"done"}, states
    duplicates = sum(count for _, outcome, count in states if outcome == "duplicate")
    assert duplicates == sum(n % 3 == 2 or p == killed_night for n, p in enumerate(files))


def test_a_name_that_is_not_utf8_is_kept_on_the_server(tmp_path, pg_url):
    """The server's text is UTF-8 only (as SQLite's): such a name is stored marked, as
    its bytes in hexadecimal, and given back as the file system's name."""
    import json
    import os

    key, host = key_file(tmp_path), tmp_path / "a"
    raw, data = b"night-\xff.edi", generated(claims=2, seed=30)
    drop(host / "inbox", os.fsdecode(raw), data)
    result = batch(host, pg_url, key)
    assert result.returncode in (0, 1), result.stderr
    assert query(pg_url, "SELECT name, state FROM inputs") == [
        ("\ufffe:" + raw.hex(), "done")]
    [archived] = (host / "out" / "archive").rglob("night-*")
    assert os.fsencode(archived.name) == raw
    assert "night-\\xff.edi" in result.stderr  # shown escaped in the log
    # a resend's duplicates name the first file as the history found it in the ledger
    drop(host / "inbox", "resend.edi", data.replace(b"CLM*", b"CLM*R"))
    assert batch(host, pg_url, key).returncode in (0, 1)
    [report] = (host / "out").rglob("resend.edi/report.json")
    messages = [f["message"] for document in json.loads(report.read_text())["files"]
                for f in document["findings"] if f["rule"] == "HIS001"]
    assert messages and all("in file night-\\xff.edi of " in m for m in messages), messages


def test_queue_commands_on_a_schema_without_a_ledger_say_so(tmp_path, pg_url):
    from edi837.history import HistoryStore

    empty = edi837("queue", "list", "--ledger", pg_url)
    assert empty.returncode == 2 and "no edi837 batch ledger" in empty.stderr, empty.stderr
    HistoryStore.open(pg_url, b"k" * 32).close()  # a history store of its own
    history = edi837("queue", "close", "C1", "--reason", "x", "--ledger", pg_url)
    assert history.returncode == 2 and "no edi837 batch ledger" in history.stderr
    assert "Traceback" not in history.stderr
    assert not query(pg_url, "SELECT table_name FROM information_schema.tables WHERE "
                     "table_schema = current_schema() AND table_name LIKE 'queue%'")
