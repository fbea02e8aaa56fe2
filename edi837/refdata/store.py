"""The reference store: one SQLite file holding every imported CMS file and its facts.

``DIR/refdata.sqlite3`` keeps each imported file (its kind, name, SHA-256,
the date it takes effect, preliminary or final, and when it was imported) and
its rows, keyed by that file: nothing is overwritten, so any earlier quarter
stays answerable and ``edi837 refdata status`` can say what replaced what.

An import is one transaction: a file that fails changes nothing, and the
same content imported again (same kind and effective date) is recognised
by its SHA-256 and changes nothing either.  Readers never write, and see
only committed imports.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..safetext import shown
from . import STORE_NAME, store_path  # noqa: F401 - re-exported for the store's readers
from .errors import RefDataError

SCHEMA_VERSION = 1
_APPLICATION_ID = 0x65383337  # "e837": tells our store from any other SQLite file

# One table of facts per file family; every row belongs to one imported file.
_SCHEMA = """
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,            -- asp-crosswalk, opps-crosswalk, asp-pricing, ...
    name TEXT NOT NULL,            -- as given on the command line (ZIP!member for a member)
    sha256 TEXT NOT NULL,
    effective_from TEXT NOT NULL,  -- ISO date the file takes effect
    status TEXT NOT NULL,          -- final or preliminary
    rows INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    imported_at TEXT NOT NULL,     -- ISO UTC time
    UNIQUE (kind, sha256, effective_from)
);
CREATE TABLE crosswalk (
    file_id INTEGER NOT NULL REFERENCES files(id), hcpcs TEXT NOT NULL, ndc TEXT NOT NULL,
    labeler TEXT, drug_name TEXT, dosage TEXT, package_size TEXT, package_quantity TEXT,
    billing_units TEXT, billing_units_per_package TEXT);
CREATE INDEX crosswalk_hcpcs ON crosswalk (file_id, hcpcs);
CREATE INDEX crosswalk_ndc ON crosswalk (file_id, ndc);
CREATE TABLE pricing (
    file_id INTEGER NOT NULL REFERENCES files(id), hcpcs TEXT NOT NULL, description TEXT,
    dosage TEXT, payment_limit TEXT NOT NULL);
CREATE INDEX pricing_hcpcs ON pricing (file_id, hcpcs);
CREATE TABLE mue (
    file_id INTEGER NOT NULL REFERENCES files(id), hcpcs TEXT NOT NULL, value INTEGER NOT NULL,
    mai INTEGER NOT NULL, rationale TEXT);
CREATE INDEX mue_hcpcs ON mue (file_id, hcpcs);
CREATE TABLE icd10cm (
    file_id INTEGER NOT NULL REFERENCES files(id), code TEXT NOT NULL, billable INTEGER NOT NULL,
    short_title TEXT, long_title TEXT);
CREATE INDEX icd10cm_code ON icd10cm (file_id, code);
"""
# Added later: created in a store that predates them when an import needs them.
_LATER = """
CREATE TABLE IF NOT EXISTS dates (
    file_id INTEGER NOT NULL REFERENCES files(id),
    key TEXT NOT NULL, -- a HCPCS code, an NDC (11 digits) or a product (its first 9)
    first_day TEXT, last_day TEXT, name TEXT);
CREATE INDEX IF NOT EXISTS dates_key ON dates (file_id, key);
"""

FACT_TABLES = ("crosswalk", "pricing", "mue", "icd10cm", "dates")


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One imported file, as ``files`` keeps it."""

    id: int
    kind: str
    name: str
    sha256: str
    effective_from: dt.date
    status: str
    rows: int
    skipped: int
    imported_at: str


def connect_readonly(directory: Path) -> sqlite3.Connection:
    """A connection that only reads the store in ``directory``; RefDataError when it is not one.

    Opened read-write with ``query_only`` rather than ``mode=ro``: should an import have
    been killed in the middle of its commit, SQLite can then roll its journal back on open
    (where the folder is writable) instead of refusing every reader."""
    path = store_path(directory)
    if not path.is_file():
        raise RefDataError(str(directory), "no reference data imported here "
                                           "(edi837 refdata import FILE... --refdata DIR)")
    try:
        connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
        connection.execute("PRAGMA query_only = ON")
        _check_store(connection, path)
    except sqlite3.Error as error:
        raise RefDataError(str(path), f"cannot be read as an edi837 reference store: {error}") \
            from None
    return connection


def _check_store(connection: sqlite3.Connection, path: Path) -> None:
    application, = connection.execute("PRAGMA application_id").fetchone()
    version, = connection.execute("PRAGMA user_version").fetchone()
    if application != _APPLICATION_ID:
        raise RefDataError(str(path), "is not an edi837 reference store")
    if version > SCHEMA_VERSION:
        raise RefDataError(str(path), f"was written by a newer edi837 (store version {version}); "
                                      "upgrade edi837")


def read_files(connection: sqlite3.Connection) -> list[FileRecord]:
    rows = connection.execute(
        "SELECT id, kind, name, sha256, effective_from, status, rows, skipped, imported_at "
        "FROM files ORDER BY kind, effective_from, id").fetchall()
    # Names are stored escaped (sources.py); a store written before that may hold raw ones.
    return [FileRecord(row[0], row[1], shown(row[2]), row[3], dt.date.fromisoformat(row[4]),
                       *row[5:]) for row in rows]


class ImportTransaction:
    """Every change of one ``refdata import`` command, committed together or not at all.

    Use as a context manager: leaving it by an exception rolls back, and a
    store file this transaction created is removed again, so a failed first
    import leaves the folder as it was.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = store_path(self.directory)
        # folders this import creates (the store's and missing parents), deepest first
        self._created_dirs = [d for d in (self.directory, *self.directory.parents)
                              if not d.exists()]
        self._created = not self.path.exists() or self.path.stat().st_size == 0
        self._connection: sqlite3.Connection | None = None
        self.imported_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def __enter__(self) -> "ImportTransaction":
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._connection = connection
            connection.execute("BEGIN IMMEDIATE")  # one importer at a time; readers go on
            if self._created:
                connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
            else:
                _check_store(connection, self.path)
            for statement in _LATER.split(";"):
                if statement.strip():
                    connection.execute(statement)
        except (OSError, sqlite3.Error) as error:
            self._abandon()
            raise RefDataError(str(self.path), f"cannot be opened for import: {error}") from None
        except RefDataError:
            self._abandon()
            raise
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            try:
                self._connection.execute("COMMIT")
                self._connection.close()
                return
            except sqlite3.Error as failure:
                self._abandon()
                raise RefDataError(str(self.path), f"the import could not be saved: {failure}") \
                    from None
        self._abandon()

    def _abandon(self) -> None:
        if self._connection is not None:
            try:
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._connection.close()
            self._connection = None
        if self._created:
            for suffix in ("", "-journal"):
                try:
                    os.unlink(f"{self.path}{suffix}")
                except OSError:
                    pass
        for directory in self._created_dirs:
            try:
                directory.rmdir()
            except OSError:
                break

    # -- writing -------------------------------------------------------------------------
    def existing(self, kind: str, sha256: str, effective_from: dt.date | None = None
                 ) -> FileRecord | None:
        """The record of this very content, already imported for this kind and date (any
        date when ``effective_from`` is None: the first import of a snapshot)."""
        if effective_from is None:
            row = self._connection.execute(
                "SELECT id FROM files WHERE kind = ? AND sha256 = ? ORDER BY id",
                (kind, sha256)).fetchone()
        else:
            row = self._connection.execute(
                "SELECT id FROM files WHERE kind = ? AND sha256 = ? AND effective_from = ?",
                (kind, sha256, effective_from.isoformat())).fetchone()
        if row is None:
            return None
        return next(f for f in read_files(self._connection) if f.id == row[0])

    def add_file(self, kind: str, name: str, sha256: str, effective_from: dt.date,
                 status: str) -> int:
        cursor = self._connection.execute(
            "INSERT INTO files (kind, name, sha256, effective_from, status, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, name, sha256, effective_from.isoformat(), status, self.imported_at))
        return cursor.lastrowid

    def add_rows(self, table: str, file_id: int, rows: Iterable[tuple]) -> int:
        """Insert ``rows`` (without the file id) into a fact table; returns how many."""
        if table not in FACT_TABLES:
            raise ValueError(table)
        count = 0

        def numbered():
            nonlocal count
            for row in rows:
                count += 1
                yield (file_id, *row)

        columns = {"crosswalk": 10, "pricing": 5, "mue": 5, "icd10cm": 5, "dates": 5}[table]
        self._connection.executemany(
            f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})", numbered())
        return count

    def set_counts(self, file_id: int, rows: int, skipped: int) -> None:
        self._connection.execute("UPDATE files SET rows = ?, skipped = ? WHERE id = ?",
                                 (rows, skipped, file_id))
