"""Opening the batch ledger's database, its schema, and its versions.

The ledger is a SQLite file in OUTDIR (``ledger.sqlite3``, the default: one
host), or a PostgreSQL schema (``--ledger postgresql://...``) that several batch
hosts share, each with its own inbox and OUTDIR (:mod:`edi837.pgdb`: the same
statements on either).  A database of something else, or of a newer edi837, is
refused untouched (BatchError).

Versions (SQLite's ``PRAGMA user_version``; on PostgreSQL a row of
``ledger_meta``): a ledger of an older version is brought forward at open,
one migration after the other, in the ledger's write lock and one transaction,
looking at the version again once the lock is held (another host may have
migrated it meanwhile):

0. before the version was kept: no ``figures`` column, no work-queue tables;
1. ``figures`` and the work queue (``edi837.queue``);
2. ``owner`` of runs and inputs: which batch (host and OUTDIR) took them, so
   that each host repairs its own runs and files, and a file another host is
   checking is left to it (:mod:`edi837.batch.ledger`).
"""
from __future__ import annotations

import logging
import os
import socket
import sqlite3
import uuid
from pathlib import Path

from ..dbfiles import (
    DatabaseRefused,
    connect,
    newer,
    probe_write,
    trouble,
    write_transaction,
)
from ..pgdb import is_url, masked, open_database
from ..queue.store import ensure_schema as queue_schema
from .options import BatchError

LEDGER_NAME = "ledger.sqlite3"
LEDGER_VERSION = 2  # PRAGMA user_version (0: a ledger from before it was set)
LEDGER_TABLES = {"runs", "inputs"}
QUEUE_TABLES = {"queue_claims", "queue_services", "queue_notes", "queue_inputs"}
HISTORY_TABLES = {"history_meta", "history_files", "history_lines"}  # (history.store's)
OWNER_FILE = "ledger.owner"  # OUTDIR's name in a shared ledger, made at its first start

log = logging.getLogger("edi837.batch")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    state       TEXT NOT NULL,          -- running | finished | stopped | interrupted
    started     TEXT NOT NULL,
    finished    TEXT,
    exit_status INTEGER,
    pid         INTEGER,
    owner       TEXT                    -- the batch that ran it (host, OUTDIR)
);
CREATE TABLE IF NOT EXISTS inputs (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL,         -- the key: content, not name
    run_id       TEXT NOT NULL REFERENCES runs(run_id),
    name         TEXT NOT NULL,         -- path relative to the inbox
    source       TEXT NOT NULL,         -- where it was taken from
    size         INTEGER NOT NULL,
    state        TEXT NOT NULL,         -- processing | reported | done | abandoned
    outcome      TEXT,                  -- ok | findings | quarantined | duplicate
    claims       INTEGER, drug_lines INTEGER,
    errors       INTEGER, warnings INTEGER, infos INTEGER,
    rules        TEXT,                  -- JSON {rule code: findings}
    outputs      TEXT,                  -- JSON [paths relative to OUTDIR/<run-id>]
    destination  TEXT,                  -- archive or quarantine path, fixed at 'reported'
    marker       TEXT,                  -- marker file to remove after the move
    reason       TEXT,                  -- quarantine reason (reason file text)
    problem      TEXT,                  -- e.g. fix failed: archived, but exit status 2
    duplicate_of INTEGER REFERENCES inputs(id),
    started      TEXT NOT NULL,
    finished     TEXT,
    figures      TEXT,                  -- JSON: the file's report summary (charges held ...)
    owner        TEXT                   -- the batch that took it (host, OUTDIR)
);
CREATE INDEX IF NOT EXISTS inputs_by_sha256 ON inputs(sha256, state);
CREATE INDEX IF NOT EXISTS inputs_by_run ON inputs(run_id);
"""


def _columns(db, table: str) -> set[str]:
    cursor = db.cursor()
    return {row[1] for row in cursor.execute(f"PRAGMA table_info({table})")}


def _to_1(db) -> None:
    """A ledger from before versions: the figures column and the work queue's tables."""
    if "figures" not in _columns(db, "inputs"):
        db.execute("ALTER TABLE inputs ADD COLUMN figures TEXT")
    queue_schema(db)


def _to_2(db) -> None:
    """Who took each run and input: several batch hosts may share the ledger."""
    for table in ("runs", "inputs"):
        if "owner" not in _columns(db, table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN owner TEXT")
    db.execute("CREATE INDEX IF NOT EXISTS inputs_by_owner ON inputs(owner, state)")


MIGRATIONS = {1: _to_1, 2: _to_2}  # version reached: the step that reaches it


def _version(db, where: str) -> int:
    version = db.cursor().execute("PRAGMA user_version").fetchone()[0]
    if version > LEDGER_VERSION:
        raise BatchError(str(newer(where, "batch ledger", version, LEDGER_VERSION)))
    return version


def migrate(db, where: str) -> None:
    """Create the tables, or bring an older ledger forward (in the write lock)."""
    tables = {name for (name,) in db.cursor().execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if _version(db, where) == LEDGER_VERSION and LEDGER_TABLES | QUEUE_TABLES <= tables:
        return  # nothing to write
    try:
        with write_transaction(db, where, waiting=log.warning):
            version = _version(db, where)  # again, in the lock
            for statement in SCHEMA.split(";"):  # (executescript would commit)
                db.execute(statement)
            for step in range(version + 1, LEDGER_VERSION + 1):
                MIGRATIONS[step](db)
            queue_schema(db)  # the work queue's tables (edi837.queue), added when missing
            db.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
    except DatabaseRefused as exc:
        raise BatchError(str(exc)) from None


def open_ledger(target) -> tuple:
    """``(connection, where, shared)`` of the ledger at ``target`` (a SQLite path, or a
    postgresql:// URL: ``shared``), its schema current; BatchError when refused."""
    shared = is_url(target)
    where = masked(target) if shared else str(target)
    try:
        if shared:
            db = open_database(target, what="batch ledger", mine=LEDGER_TABLES | HISTORY_TABLES)
        else:
            db, _ = connect(target, what="batch ledger", mine=LEDGER_TABLES, timeout=60)
    except DatabaseRefused as exc:
        raise BatchError(str(exc)) from None
    try:
        _version(db, where)  # a newer ledger is refused before anything is written
        if not shared:
            # WAL: one fsync per commit instead of three; FULL: that fsync happens before
            # the commit returns, so a recorded step survives a power cut too
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        migrate(db, where)
        if not shared:  # refused now, not at the first file's step (chattr +i, ro mount)
            db.execute("BEGIN IMMEDIATE")
            try:
                probe_write(db)
            finally:
                db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        db.close()
        raise BatchError(trouble(where, exc, "write")) from None
    except BaseException:
        db.close()
        raise
    return db, where, shared


def owner_of(out: Path) -> str:
    """OUTDIR's name in a shared ledger: host, folder and a random part, made at the
    first start and kept in OUTDIR (so a moved OUTDIR keeps its runs)."""
    path = out / OWNER_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    name = f"{socket.gethostname()}:{os.path.abspath(out)}:{uuid.uuid4().hex[:8]}"
    temporary = out / f".{OWNER_FILE}.{os.getpid()}.tmp"
    temporary.write_text(name + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return name
