"""Issue 26 item 1: the patient history on a real PostgreSQL server (`--history
postgresql://...`), with the semantics of the SQLite store (tests/history/test_history_kills.py,
test_history_concurrency.py): `edi837` in processes of its own, killed for real.

The server's URL comes from EDI837_TEST_PG (.ci/start-postgres starts one; in CI a
test that cannot reach it fails).  Each test gets a schema of its own, dropped after.
Every input is synthetic.
"""
import hashlib
import json
import secrets
import sqlite3

import pytest
from click.testing import CliRunner
from pg_support import drop_schema, live_lines, new_schema, query
from store_support import check_killed_reading, edi837, findings, key_file, popen, race_two_checks
from test_history import claim, night, ours, run, subscriber
from test_history_kills import checked, nights, void_taken_out

from edi837.cli import main


@pytest.fixture
def pg_url():
    """A URL whose search_path is a fresh schema (created here, dropped after)."""
    url = new_schema()
    yield url
    drop_schema(url)


# -- one process -----------------------------------------------------------------------------
def test_a_store_on_postgresql_judges_as_the_sqlite_store_and_holds_its_lines(tmp_path, pg_url):
    key = key_file(tmp_path)
    files = nights(tmp_path / "in")
    copy = night(tmp_path, "4-copy.edi", subscriber(2, member="SYN000000003", first="ANN"),
                 claim("C9", "20260115"))
    on_sqlite = [checked(tmp_path / "h.sqlite3", key, [path], tmp_path / f"s{n}.json")
                 for n, path in enumerate([*files, copy])]
    on_pg = [checked(pg_url, key, [path], tmp_path / f"p{n}.json")
             for n, path in enumerate([*files, copy])]
    assert on_pg == on_sqlite
    assert ("HIS001", "C9") in on_pg[3]["4-copy.edi"]  # a run after the others saw them
    assert live_lines(pg_url) == 2  # C1 (replaced), C3; the copy was held as a duplicate
    [(schema,)] = query(pg_url, "SELECT value FROM history_meta WHERE name = 'schema'")
    assert schema == "3"


def test_a_void_taken_out_puts_its_original_back(tmp_path, pg_url):
    from edi837.history import HistoryStore

    store = HistoryStore.open(pg_url, secrets.token_bytes(32))
    try:
        void_taken_out(store, tmp_path)
    finally:
        store.close()
    # the void's file is forgotten: the original is back, unmarked (the copy was held)
    assert query(pg_url, "SELECT claim_id, duplicate FROM history_lines WHERE removed_by IS "
                 "NULL ORDER BY claim_id") == [("C1", 0)]


def test_the_patient_filter_is_refreshed_when_another_process_wrote(tmp_path, pg_url):
    """Two stores on one URL (two connections, as two processes): the first opened
    an empty store, the second stored a claim since; the first must see it."""
    from edi837.history import HistoryStore

    key = secrets.token_bytes(32)
    first, second = HistoryStore.open(pg_url, key), HistoryStore.open(pg_url, key)
    try:
        run(first, night(tmp_path, "other.edi", subscriber(2, member="SYN000000009",
                                                             first="ANN"),
                         claim("C8", "20260115")))  # first's own write: not another's
        run(second, night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115")))
        resend = night(tmp_path, "b.edi", subscriber(2), claim("C2", "20260115"))
        assert ("HIS001", "C2") in ours(run(first, resend)[0])
    finally:
        first.close()
        second.close()


def test_history_commands_work_on_a_url(tmp_path, pg_url):
    key = key_file(tmp_path)
    old = night(tmp_path, "old.edi", subscriber(2), claim("C1", "20260115"))
    new = night(tmp_path, "new.edi", subscriber(2), claim("C2", "20261101"))
    checked(pg_url, key, [old, new], tmp_path / "r.json")
    stats = edi837("history", "stats", pg_url, "--history-key", key)
    assert stats.returncode == 0, stats.stderr
    assert "2 drug lines of 1 patient" in stats.stdout
    pruned = edi837("history", "prune", pg_url, "--history-key", key, "--history-days", "100")
    assert pruned.returncode == 0, pruned.stderr
    assert "1 line older than 100 days deleted" in pruned.stdout
    sha = hashlib.sha256(new.read_bytes()).hexdigest()
    forgot = edi837("history", "forget-file", pg_url, sha[:12], "--history-key", key)
    assert forgot.returncode == 0, forgot.stderr
    assert sha in forgot.stdout  # the prefix a finding shows names the whole file
    assert live_lines(pg_url) == 0
    again = edi837("history", "forget-file", pg_url, sha, "--history-key", key)
    assert again.returncode == 2 and "holds no line of file" in again.stderr


def test_a_foreign_or_newer_schema_is_refused_untouched(tmp_path, pg_url):
    key = key_file(tmp_path)
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    query(pg_url, "CREATE TABLE patients (id integer)")
    foreign = edi837("check", path, "--history", pg_url, "--history-key", key)
    assert foreign.returncode == 2 and "something else" in foreign.stderr, foreign.stderr
    assert query(pg_url, "SELECT table_name FROM information_schema.tables WHERE "
                 "table_schema = current_schema()") == [("patients",)]
    query(pg_url, "DROP TABLE patients")
    checked(pg_url, key, [path], tmp_path / "r.json")
    query(pg_url, "UPDATE history_meta SET value = '99' WHERE name = 'schema'")
    newer = edi837("check", path, "--history", pg_url, "--history-key", key)
    assert newer.returncode == 2 and "schema 99" in newer.stderr, newer.stderr
    assert "Traceback" not in newer.stderr
    assert query(pg_url, "SELECT COUNT(*) FROM history_lines") == [(1,)]


def test_a_schema_1_store_is_upgraded(tmp_path, pg_url):
    """Migrations: a schema-1 store (no removed_by column) gains the column."""
    from edi837.history import HistoryStore

    key = secrets.token_bytes(32)
    HistoryStore.open(pg_url, key).close()
    query(pg_url, "ALTER TABLE history_lines DROP COLUMN removed_by")
    query(pg_url, "UPDATE history_meta SET value = '1' WHERE name = 'schema'")
    store = HistoryStore.open(pg_url, key)
    store.close()
    assert query(pg_url, "SELECT value FROM history_meta WHERE name = 'schema'") == [("3",)]
    assert query(pg_url, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema "
                 "= current_schema() AND column_name = 'removed_by'") == [(1,)]


def test_a_password_in_the_url_is_never_shown(tmp_path):
    key = key_file(tmp_path)
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    url = "postgresql://someone:hunter2secret@127.0.0.1:9/nowhere"  # port 9: nothing there
    result = edi837("check", path, "--history", url, "--history-key", key)
    assert result.returncode == 2, result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "someone:***@127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


# -- real processes --------------------------------------------------------------------------
def test_check_killed_in_its_third_file_leaves_nothing(tmp_path, pg_url):
    key = key_file(tmp_path)
    files = nights(tmp_path / "in")
    expected = checked(tmp_path / "reference.sqlite3", key, files, tmp_path / "reference.json")
    check_killed_reading(files, pg_url, key, tmp_path / "killed.json")
    assert query(pg_url, "SELECT COUNT(*) FROM history_lines") == [(0,)]
    # and its lock went with it: the next run is not kept waiting
    assert checked(pg_url, key, files, tmp_path / "rerun.json") == expected


@pytest.mark.slow
def test_two_checks_on_one_store_never_both_accept_the_same_service(tmp_path, pg_url):
    flagged = race_two_checks(tmp_path, pg_url, key_file(tmp_path))
    assert len(flagged) == 1, flagged
    assert query(pg_url, "SELECT COUNT(*) FROM history_lines WHERE claim_id IN ('C1', 'C7') "
                 "AND duplicate = 0") == [(1,)]


def _night_rules(report) -> dict:
    found = {}
    for document in json.loads(report.read_text())["files"]:
        for finding in document["findings"]:
            if finding["rule"].startswith(("HIS", "UNT", "DOC")):
                found.setdefault(finding["claim_id"], []).append(finding["rule"])
    return found


@pytest.mark.slow
def test_a_generated_multi_night_corpus_gives_the_findings_of_the_sqlite_store(
        tmp_path, pg_url):
    """`generate --nights 120`, one `check --history` per night, on each store."""
    corpus = tmp_path / "nights"
    made = CliRunner().invoke(main, ["generate", "--nights", "120", "--seed", "5",
                                     "--out-dir", str(corpus)])
    assert made.exit_code == 0, made.output
    files = sorted(p for p in corpus.iterdir() if p.suffix != ".json")
    assert len(files) >= 10
    key = key_file(tmp_path)
    results = {}
    for name, store in (("sqlite", str(tmp_path / "h.sqlite3")), ("pg", pg_url)):
        per_night = []
        for n, path in enumerate(files):
            report = tmp_path / f"{name}{n}.json"
            result = CliRunner().invoke(main, ["check", str(path), "--history", store,
                                               "--history-key", str(key), "--history-days",
                                               "0", "--format", "json", "-o", str(report)])
            assert result.exit_code in (0, 1), result.output
            per_night.append(_night_rules(report))
        results[name] = per_night
    assert results["pg"] == results["sqlite"]
    seen = {rule for night_ in results["pg"] for rules in night_.values() for rule in rules}
    assert {"HIS001", "HIS002"} <= seen, seen  # duplicates and schedule slips across nights
    with sqlite3.connect(tmp_path / "h.sqlite3") as db:
        [(lines,)] = db.execute("SELECT COUNT(*) FROM history_lines WHERE removed_by IS NULL")
    assert live_lines(pg_url) == lines


@pytest.mark.slow
def test_two_batch_hosts_on_one_store_find_a_resend_through_the_other_inbox(tmp_path, pg_url):
    """Two `batch` processes (as two hosts: inboxes, outdirs and ledgers of their
    own) on one PostgreSQL history, at once: the same infusion dropped into both
    inboxes is stored once and found once as a duplicate.  (Each batch opened the
    store before the other stored anything: this fails without the reload of the
    patient filter; the lock's part is the race of two `check` runs above.)"""
    from batch_support import drop, generated

    key = key_file(tmp_path)
    member = dict(member="SYNRACE00002", first="RACE")
    processes = []
    for host, claim_id in (("a", "C1"), ("b", "C7")):
        inbox = tmp_path / host / "inbox"
        drop(inbox, "0-big.edi", generated(claims=2000, seed=ord(host)))
        same = night(tmp_path, f"same-{host}.edi", subscriber(2, **member),
                     claim(claim_id, "20260115"))
        drop(inbox, "1-same.edi", same.read_bytes())
        processes.append(popen("batch", inbox, "--out", tmp_path / host / "out",
                               "--settle", "0", "--history", pg_url, "--history-key", key,
                               "--history-days", "0"))
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr
    flagged = []
    for host in ("a", "b"):
        [report] = (tmp_path / host / "out").rglob("1-same.edi/report.json")
        flagged += [f for f in findings(report)["1-same.edi"] if f[0] == "HIS001"]
    assert len(flagged) == 1, flagged
    assert query(pg_url, "SELECT COUNT(*) FROM history_lines WHERE claim_id IN ('C1', 'C7') "
                 "AND duplicate = 0 AND removed_by IS NULL") == [(1,)]


def test_a_url_naming_a_missing_schema_is_refused_with_a_message(tmp_path, pg_url):
    key = key_file(tmp_path)
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    missing = pg_url.replace("search_path%3Dt_", "search_path%3Dnone_")
    result = edi837("check", path, "--history", missing, "--history-key", key)
    assert result.returncode == 2, result.stderr
    assert "does not exist: create it first" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_psycopg_a_url_says_which_extra_to_install(tmp_path):
    import subprocess
    import sys

    from batch_support import subprocess_env

    key = key_file(tmp_path)
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    no_driver = ("import sys; sys.modules['psycopg'] = None; from edi837.cli import main; "
                 "main(prog_name='edi837')")
    result = subprocess.run([sys.executable, "-c", no_driver, "check", str(path), "--history",
                             "postgresql://someone:pw9secret@localhost/x", "--history-key",
                             str(key)], capture_output=True, text=True, timeout=120,
                            env=subprocess_env())
    assert result.returncode == 2, result.stderr
    assert "pip install 'edi837[postgres]'" in result.stderr
    assert "pw9secret" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_checks_started_half_a_second_apart_judge_as_in_sequence(tmp_path, pg_url):
    """As on SQLite (test_history_concurrency): issue 26's 13 duplicates instead of
    11,544, on the server."""
    from store_support import checks_half_a_second_apart

    key = key_file(tmp_path)
    together, in_sequence = checks_half_a_second_apart(tmp_path, pg_url, key,
                                                       tmp_path / "baseline.sqlite3")
    assert sum(in_sequence.values()) > 10_000
    assert together == in_sequence
    with sqlite3.connect(tmp_path / "baseline.sqlite3") as db:
        [(lines,)] = db.execute("SELECT COUNT(*) FROM history_lines WHERE removed_by IS NULL")
    assert live_lines(pg_url) == lines
