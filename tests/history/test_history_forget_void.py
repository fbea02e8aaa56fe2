"""`edi837 history forget-file` says what it did: the lines of the file it deleted and
the lines its voids and replacements had taken out, which it puts back (a void's
file said "0 lines ... deleted" and put its original back in silence); on SQLite and
on PostgreSQL (EDI837_TEST_PG, as tests/test_history_postgres.py)."""
import hashlib
import sqlite3

import pytest
from pg_support import drop_schema, live_lines, new_schema
from store_support import edi837, key_file
from test_history import claim, night, subscriber
from test_history_kills import checked


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite3")
        return
    url = new_schema()
    yield url
    drop_schema(url)


def lines_in(store: str) -> int:
    if store.startswith("postgresql"):
        return live_lines(store)
    with sqlite3.connect(store) as db:
        count = db.execute("SELECT COUNT(*) FROM history_lines "
                           "WHERE removed_by IS NULL").fetchone()[0]
    db.close()
    return count


def forget(store: str, key, path) -> str:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    done = edi837("history", "forget-file", store, sha[:12], "--history-key", key)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().replace(sha, "SHA")


def test_forgetting_a_void_says_it_restored_its_original(tmp_path, store):
    key = key_file(tmp_path)
    original = night(tmp_path, "1-monday.edi", subscriber(2), claim("C1", "20260115"))
    void = night(tmp_path, "2-tuesday.edi", subscriber(2),
                 claim("C1", "20260115", frequency="8", reference="ICN1"))
    checked(store, key, [original], tmp_path / "1.json")
    checked(store, key, [void], tmp_path / "2.json")
    assert lines_in(store) == 0  # the void took C1 out
    said = forget(store, key, void)
    assert said.endswith(": 0 lines of file SHA deleted; 1 line its voids and "
                         "replacements had taken out restored"), said
    assert lines_in(store) == 1  # C1 is back, as said


def test_forgetting_a_file_that_removed_nothing_says_only_what_it_deleted(tmp_path, store):
    key = key_file(tmp_path)
    first = night(tmp_path, "1-monday.edi", subscriber(2), claim("C1", "20260115"),
                  subscriber(3, member="SYN000000002", first="BOB"), claim("C2", "20260115"))
    checked(store, key, [first], tmp_path / "1.json")
    assert lines_in(store) == 2
    said = forget(store, key, first)
    assert said.endswith(": 2 lines of file SHA deleted"), said
    assert "restored" not in said and lines_in(store) == 0
