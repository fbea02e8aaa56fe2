"""Issue 26: the batch ledger's schema versions, on both stores (OUTDIR's SQLite file and
a shared PostgreSQL schema): a ledger of schema 1 (made by hand here, as edi837 made
it before owners were kept) is brought forward at open and keeps what it knew; one of
a newer edi837 is refused untouched.  (The history store's versions: test_store_refusals,
test_history_postgres.)"""
import hashlib
import os
import sqlite3

import pytest
from batch_support import drop, generated
from store_support import edi837, key_file

# schema 1 of the ledger, as edi837 wrote it (the work queue's tables: added at open)
SCHEMA_1 = """
CREATE TABLE runs (run_id TEXT PRIMARY KEY, state TEXT NOT NULL, started TEXT NOT NULL,
    finished TEXT, exit_status INTEGER, pid INTEGER);
CREATE TABLE inputs (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL,
    run_id TEXT NOT NULL REFERENCES runs(run_id), name TEXT NOT NULL, source TEXT NOT NULL,
    size INTEGER NOT NULL, state TEXT NOT NULL, outcome TEXT, claims INTEGER,
    drug_lines INTEGER, errors INTEGER, warnings INTEGER, infos INTEGER, rules TEXT,
    outputs TEXT, destination TEXT, marker TEXT, reason TEXT, problem TEXT,
    duplicate_of INTEGER REFERENCES inputs(id), started TEXT NOT NULL, finished TEXT,
    figures TEXT);
CREATE INDEX inputs_by_sha256 ON inputs(sha256, state);
CREATE INDEX inputs_by_run ON inputs(run_id);
"""
OLD_RUN = "20260101T010000.000000Z"


def _old_rows(db, sha: str) -> None:
    db.execute("INSERT INTO runs (run_id, state, started, finished, exit_status, pid) "
               "VALUES (?, 'finished', '2026-01-01T01:00:00+00:00', "
               "'2026-01-01T01:01:00+00:00', 0, 1)", (OLD_RUN,))
    db.execute("INSERT INTO inputs (sha256, run_id, name, source, size, state, outcome, "
               "claims, drug_lines, errors, warnings, infos, rules, outputs, started) "
               "VALUES (?, ?, 'old.edi', '/in/old.edi', 1, 'done', 'ok', 1, 1, 0, 0, 0, "
               "'{}', '[]', '2026-01-01T01:00:00+00:00')", (sha, OLD_RUN))


def sqlite_ledger(tmp_path, sha: str):
    out = tmp_path / "out"
    out.mkdir()
    db = sqlite3.connect(out / "ledger.sqlite3", isolation_level=None)
    db.executescript(SCHEMA_1)
    _old_rows(db, sha)
    db.execute("PRAGMA user_version = 1")
    db.close()

    def look(statement):
        with sqlite3.connect(out / "ledger.sqlite3") as db:
            return db.execute(statement).fetchall()

    return [], look, lambda: look("PRAGMA user_version")[0][0]


def pg_ledger(url: str, sha: str):
    """Schema 1 on the server, made through the seam as edi837 would have made it."""
    from pg_support import query

    from edi837.pgdb import connect

    db = connect(url)
    db.executescript(SCHEMA_1)
    _old_rows(db, sha)
    db.execute("PRAGMA user_version = 1")
    db.close()
    return (["--ledger", url], lambda statement: query(url, statement),
            lambda: int(query(url, "SELECT value FROM ledger_meta")[0][0]))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """Makes a schema-1 ledger holding one done input of the given content, on each
    store: gives the batch's ledger options, a query on it, and its version."""
    if request.param == "sqlite":
        yield lambda sha: sqlite_ledger(tmp_path, sha)
        return
    from pg_support import drop_schema, new_schema

    url = new_schema()
    yield lambda sha: pg_ledger(url, sha)
    drop_schema(url)


def test_a_ledger_of_schema_1_is_brought_forward_and_keeps_what_it_knew(tmp_path, store):
    data = generated(claims=2, seed=11)
    options, look, version = store(hashlib.sha256(data).hexdigest())
    drop(tmp_path / "inbox", "copy.edi", data)
    result = edi837("batch", tmp_path / "inbox", "--out", tmp_path / "out", "--settle", "0",
                    "--history-key", key_file(tmp_path), *options)
    assert result.returncode == 0, result.stderr
    assert version() == 2
    # the content the old ledger had done is a duplicate: nothing forgotten
    assert look("SELECT name, outcome, duplicate_of, owner IS NULL FROM inputs ORDER BY id") \
        == [("old.edi", "ok", None, True), ("copy.edi", "duplicate", 1, False)]
    assert look("SELECT COUNT(*) FROM queue_claims") == [(0,)]  # the queue's tables added
    assert look("SELECT COUNT(*) FROM runs WHERE owner IS NOT NULL") == [(1,)]


def test_a_ledger_of_a_newer_edi837_is_refused_untouched(tmp_path, store):
    options, look, version = store("0" * 64)
    if options:
        look("UPDATE ledger_meta SET value = '99'")
    else:
        with sqlite3.connect(tmp_path / "out" / "ledger.sqlite3") as db:
            db.execute("PRAGMA user_version = 99")
    drop(tmp_path / "inbox", "new.edi", generated(claims=2, seed=12))
    before = look("SELECT * FROM inputs")
    result = edi837("batch", tmp_path / "inbox", "--out", tmp_path / "out", "--settle", "0",
                    "--history-key", key_file(tmp_path), *options)
    assert result.returncode == 2 and "schema 99" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    listed = edi837("queue", "list", *(options or ["--out", tmp_path / "out"]))
    assert listed.returncode == 2 and "schema 99" in listed.stderr, listed.stderr
    assert version() == 99 and look("SELECT * FROM inputs") == before
    tables = look("SELECT name FROM sqlite_master WHERE type = 'table'") if not options else \
        look("SELECT table_name FROM information_schema.tables WHERE "
             "table_schema = current_schema()")
    assert not {"queue_claims", "history_lines"} & {name for (name,) in tables}
    assert os.listdir(tmp_path / "inbox") == ["new.edi"]
