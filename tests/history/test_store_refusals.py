"""Issue 24 item 4: a database that is not ours, is newer than we know, or cannot
be written is refused with a clear message and exit status 2, and left as it was."""
import hashlib
import sqlite3

import pytest
from batch_support import CLEAN, drop, edi, new_key
from store_support import (
    as_unprivileged,
    can_drop_privileges,
    edi837,
    give_to_unprivileged,
    key_file,
    shared_folder,
)
from test_history import claim, night, subscriber


def foreign(path):
    """Somebody else's SQLite database (rollback journal, one table, one row)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (number TEXT, amount INTEGER)")
        db.execute("INSERT INTO invoices VALUES ('A-1', 100)")
    db.close()
    return path


def shape(path):
    """What a refusal must leave alone: tables, rows, journal mode, no WAL beside it."""
    with sqlite3.connect(path) as db:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master "
                                                 "WHERE type = 'table'"))
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        rows = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    db.close()
    return tables, mode, rows


def refused(result, *words):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def claims(tmp_path):
    return night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115"))


# -- the history store ---------------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "batch", "stats", "prune", "forget-file"])
def test_a_foreign_database_is_not_adopted_as_a_history(tmp_path, claims, command):
    store, key = foreign(tmp_path / "accounts.db"), key_file(tmp_path)
    before = shape(store)
    if command == "check":
        result = edi837("check", claims, "--history", store, "--history-key", key)
    elif command == "batch":
        drop(tmp_path / "inbox", "a.edi", claims.read_bytes())
        result = edi837("batch", tmp_path / "inbox", "--out", tmp_path / "out", "--settle", "0",
                        "--history", store, "--history-key", key)
    else:
        extra = ["0" * 64] if command == "forget-file" else []
        result = edi837("history", command, store, "--history-key", key, *extra)
    refused(result, str(store), "not an edi837 history store")
    assert shape(store) == before
    assert not (tmp_path / "accounts.db-wal").exists()


def test_a_new_or_empty_file_becomes_a_history(tmp_path, claims):
    key = key_file(tmp_path)
    (tmp_path / "empty.sqlite3").write_bytes(b"")
    for store in (tmp_path / "new.sqlite3", tmp_path / "empty.sqlite3"):
        result = edi837("check", claims, "--history", store, "--history-key", key)
        assert result.returncode == 0, result.stderr
        assert "history_lines" in shape(store)[0]


def test_a_file_that_is_not_sqlite_is_refused(tmp_path, claims):
    store = tmp_path / "notes.txt"
    store.write_text("not a database, but a page of notes\n" * 200)
    result = edi837("check", claims, "--history", store, "--history-key", key_file(tmp_path))
    refused(result, str(store))
    assert store.read_text().startswith("not a database")


def test_a_history_of_a_newer_schema_is_refused(tmp_path, claims):
    store, key = tmp_path / "history.sqlite3", key_file(tmp_path)
    assert edi837("check", claims, "--history", store, "--history-key", key).returncode == 0
    with sqlite3.connect(store) as db:
        db.execute("UPDATE history_meta SET value = '99' WHERE name = 'schema'")
    db.close()
    before = shape(store)
    for args in (["check", claims, "--history", store], ["history", "stats", store],
                 ["history", "prune", store]):
        refused(edi837(*args, "--history-key", key), str(store), "schema 99")
    assert shape(store) == before


@pytest.mark.parametrize("version", ["1", "2"])
def test_an_older_history_is_migrated_and_keeps_its_lines(tmp_path, claims, version):
    """Stores written before removed lines were kept (schema 1) or before a batch held
    its files (schema 2: no history_files.holder) are upgraded in place."""
    store, key = tmp_path / "history.sqlite3", key_file(tmp_path)
    assert edi837("check", claims, "--history", store, "--history-key", key).returncode == 0
    with sqlite3.connect(store) as db:  # back to what that schema looked like
        if version == "1":
            db.execute("ALTER TABLE history_lines DROP COLUMN removed_by")
        db.execute("ALTER TABLE history_files DROP COLUMN holder")
        db.execute("UPDATE history_meta SET value = ? WHERE name = 'schema'", (version,))
    db.close()
    again = night(tmp_path, "tuesday.edi", subscriber(2), claim("C7", "20260115"))
    result = edi837("check", again, "--history", store, "--history-key", key)
    assert result.returncode == 1 and "HIS001" in result.stdout, result.stdout
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT value FROM history_meta WHERE name = 'schema'"
                          ).fetchone()[0] == "3"
        assert "holder" in {row[1] for row in db.execute("PRAGMA table_info(history_files)")}
        assert db.execute("SELECT COUNT(*), COUNT(holder) FROM history_files"
                          ).fetchone() == (2, 0)  # both files, neither held by a batch
    db.close()
    stats = edi837("history", "stats", store, "--history-key", key)
    assert stats.returncode == 0 and "2 files" in stats.stdout, stats.stdout


# -- a store its user cannot write -------------------------------------------------------------
@pytest.mark.skipif(not can_drop_privileges(), reason="needs setpriv to drop root")
@pytest.mark.parametrize("busy", [False, True], ids=["closed", "open-elsewhere"])
def test_a_read_only_history_is_a_clear_refusal(tmp_path, busy):
    with shared_folder() as folder:
        claims = night(folder, "monday.edi", subscriber(2), claim("C1", "20260115"))
        claims.chmod(0o644)
        store, key = folder / "history.sqlite3", key_file(folder)
        assert edi837("check", claims, "--history", store, "--history-key", key
                      ).returncode == 0
        give_to_unprivileged(key, store)
        store.chmod(0o444)
        holder = None
        if busy:  # another reader holds it open: its -wal and -shm files exist, read-only too
            folder.chmod(0o777)
            holder = sqlite3.connect(store)
            holder.execute("SELECT COUNT(*) FROM history_lines").fetchall()
            for side in (folder / "history.sqlite3-wal", folder / "history.sqlite3-shm"):
                give_to_unprivileged(side)
                side.chmod(0o444)
        folder.chmod(0o555)
        try:
            before = shape(store)
            sha = hashlib.sha256(claims.read_bytes()).hexdigest()
            for args in (["check", claims, "--history", store],
                         ["history", "prune", store, "--history-days", "1"],
                         ["history", "forget-file", store, sha]):
                result = as_unprivileged(*args, "--history-key", key, cwd=folder)
                refused(result, str(store), "read-only")
            assert shape(store) == before
            looked = as_unprivileged("history", "stats", store, "--history-key", key,
                                     cwd=folder)  # reading needs no writing
            assert looked.returncode == 0 and "1 drug line of 1 patient" in looked.stdout, \
                looked.stderr
        finally:
            folder.chmod(0o755)
            if holder is not None:
                holder.close()


# -- the batch ledger ----------------------------------------------------------------------------
def batch(tmp_path, *extra):
    drop(tmp_path / "inbox", "a.edi", edi(CLEAN))
    return edi837("batch", tmp_path / "inbox", "--out", tmp_path / "out", "--settle", "0",
                  "--history-key", new_key(tmp_path / "history.key"), *extra)


def test_a_foreign_database_is_not_adopted_as_the_ledger(tmp_path):
    key_file(tmp_path)
    (tmp_path / "out").mkdir()
    ledger = foreign(tmp_path / "out" / "ledger.sqlite3")
    before = shape(ledger)
    refused(batch(tmp_path), str(ledger), "not an edi837 batch ledger")
    assert shape(ledger) == before
    assert (tmp_path / "inbox" / "a.edi").exists()


@pytest.mark.parametrize("what", ["ledger", "history"])
def test_a_ledger_of_a_newer_schema_is_refused(tmp_path, what):
    key_file(tmp_path)
    assert batch(tmp_path).returncode == 0
    ledger = tmp_path / "out" / "ledger.sqlite3"
    with sqlite3.connect(ledger) as db:
        if what == "ledger":
            db.execute("PRAGMA user_version = 99")
        else:
            db.execute("UPDATE history_meta SET value = '99' WHERE name = 'schema'")
    db.close()
    before = shape(ledger)
    drop(tmp_path / "inbox", "b.edi", edi(CLEAN, "000000002"))
    refused(batch(tmp_path), str(ledger), "99")
    assert shape(ledger) == before
    assert (tmp_path / "inbox" / "b.edi").exists()
