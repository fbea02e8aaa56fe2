"""Opening the SQLite files edi837 keeps (the patient history, the batch ledger).

A file is looked at before anything is written to it: a file that is not
SQLite, a SQLite database of something else (tables, none of them ours) or
one written by a newer edi837 is refused as it is (no table added, no switch
to WAL, no row written).  A file this user cannot write gets a message that
says so, never a traceback.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
READ_ONLY = "read-only"


class PgError(sqlite3.OperationalError):
    """A PostgreSQL error (edi837.pgdb), as the store's SQLite error handling knows them."""


class StoreGone(PgError):
    """The server went away mid-run (stopped, restarted, its backend terminated, the
    network cut): the server rolls back the transaction in hand.  Its message says so
    for an operator (what is lost, what to do), naming the store (password masked)."""


class DatabaseRefused(Exception):
    """A database edi837 will not open or cannot use (message names the file)."""


def error_code(exc: sqlite3.Error) -> int:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF


def is_busy(exc: sqlite3.Error) -> bool:
    return error_code(exc) in BUSY or "locked" in str(exc)


def trouble(path, exc: sqlite3.Error, doing: str = "use") -> str:
    """What went wrong with ``path``, for a person.  A PostgreSQL server gone away
    is no trouble of the store's (its message says what to do): raised as it is."""
    if isinstance(exc, StoreGone):
        raise exc
    code = error_code(exc)
    if code == sqlite3.SQLITE_READONLY or "readonly" in str(exc):
        return (f"{path}: the file is {READ_ONLY} for this user (or its folder is): cannot "
                f"{doing} it ({exc}); give write access, or another file")
    if code == sqlite3.SQLITE_CANTOPEN:
        return (f"{path}: cannot open it ({exc}); SQLite needs to write the file and "
                f"create {Path(path).name}-wal and -shm beside it: a {READ_ONLY} folder?")
    if code == sqlite3.SQLITE_NOTADB:
        return f"{path}: not a SQLite database ({exc}): refused, nothing written to it"
    return f"{path}: cannot {doing} it: {exc}"


def probe_write(db: sqlite3.Connection) -> None:
    """Write nothing, in the caller's write transaction (rolled back by the caller), in
    a way SQLite refuses on a file it could only open read-only (chattr +i, a read-only
    mount): sqlite3.OperationalError "attempt to write a readonly database"."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    db.execute(f"PRAGMA user_version = {version}")


def connect(path, *, what: str, mine: set[str], read_only: bool = False,
            timeout: float = 2.0) -> tuple[sqlite3.Connection, set[str]]:
    """A connection to ``path`` and the names of its tables, before anything is
    written: refused when it holds tables but none of ``mine`` (it belongs to
    something else).  ``what``: the kind of file, for messages ("history store")."""
    uri = f"file:{quote(str(Path(path).absolute()))}?mode=ro"
    # read only, in a folder this user cannot write (no -shm can be made): immutable
    for name in ([uri, uri + "&immutable=1"] if read_only else [str(path)]):
        db = None
        try:
            db = sqlite3.connect(name, uri=read_only, isolation_level=None, timeout=timeout)
            tables = {table for (table,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            break
        except sqlite3.Error as exc:
            problem = exc
            if db is not None:
                db.close()
    else:
        raise DatabaseRefused(trouble(path, problem, "read")) from None
    if tables and not tables & mine:
        db.close()
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise DatabaseRefused(
            f"{path}: a SQLite database of something else (tables {shown}), not an edi837 "
            f"{what}: refused, nothing written to it; give a new file name")
    return db, tables


def newer(path, what: str, found: int | str, known: int | str) -> DatabaseRefused:
    return DatabaseRefused(
        f"{path}: an edi837 {what} of schema {found}, written by a newer edi837 (this one "
        f"knows schema {known} at most): refused, nothing written to it; use a newer edi837")


def begin_immediate(db: sqlite3.Connection, path, *, waiting: Callable[[str], None] | None,
                    patience: float = 2.0) -> None:
    """BEGIN IMMEDIATE: the database's write lock, waited for as long as another
    process holds it (said once through ``waiting``); another error raises
    DatabaseRefused."""
    said = False
    while True:
        try:
            db.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise DatabaseRefused(trouble(path, exc, "write")) from None
            if not said and waiting is not None:
                waiting(f"{path}: another edi837 is writing it; waiting for it to finish "
                        "(runs on one store take turns)")
            said = True
            time.sleep(min(patience, 0.05))
    if said and waiting is not None:
        waiting(f"{path}: its turn came; going on")


@contextmanager
def write_transaction(db: sqlite3.Connection, path, *,
                      waiting: Callable[[str], None] | None) -> Iterator[sqlite3.Connection]:
    """The database's write lock (:func:`begin_immediate`), then one transaction:
    committed when the block ends, rolled back on any exception."""
    begin_immediate(db, path, waiting=waiting)
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
