"""The history store: one SQLite row per drug line of every forwarded claim.

What a row holds: the patient's keyed hash (never a name, member id or birth
date), date of service, HCPCS, units, modifiers, NDC, billing NPI, payer id,
payer responsibility (SBR01), claim id (CLM01), claim frequency (CLM05-3), the
payer's original claim number (REF*F8), and the file (SHA-256) and run it came
from.  Dates and claim ids are still protected health information: keep the
store where claims are kept.

Writes are grouped per input file: a file's rows are committed together, and
a file that turns out unreadable is rolled back, so a file is never counted
half.  `check --history` holds the store for its whole run (:meth:`begin_run`):
its files are committed together at the end, so a run killed half-way leaves
nothing, and a second run on the store waits for the first (runs take turns:
as if one ran after the other).  In ``edi837 batch`` the rows are committed a
file at a time, in the ledger's own database with the file's outcome, or in a
store of its own.  A line a void or a replacement takes out is kept, marked
with the file that removed it (``removed_by``), so undoing that file (a batch
killed before its outcome was recorded, a file checked again, ``history
forget-file``) puts it back.

Every file write begins by taking the store's write lock and, if another
process wrote in between, reloading the filter of known patients: no process
judges by a stale picture of the store.  (A batch holds its files: ``holders``.)
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ..dbfiles import (
    DatabaseRefused,
    begin_immediate,
    connect,
    is_busy,
    newer,
    probe_write,
    trouble,
)
from . import upkeep
from .holders import alive_for, held_files, wait_for_holders, warn_waiting
from .identity import PatientKeys, fingerprint
from .patients import PatientFilter
from .pg import is_url, not_a_store, open_store
from .rows import COLUMNS, INSERT, PENDING, SCHEMA, Row, row_from

SCHEMA_VERSION = "3"  # 3: history_files.holder; 2: removed_by (1: removed lines deleted)
HISTORY_TABLES = {"history_meta", "history_files", "history_lines"}


DEFAULT_DAYS = 400


class HistoryStoreError(Exception):
    """The store cannot be opened or used (wrong key, not a history, busy, damaged)."""


class HistoryStore:
    """A history store on a SQLite connection.

    ``persistent``: a store that outlives the run (``--history FILE``, batch's
    ledger).  Without one, a run still has a history of its own files (a
    private temporary database), but cannot tell a first dose from a member it
    has never seen, so HIS003 and first-dose documentation are not reported.
    ``read_only``: only looked at (`history stats`): nothing is created or upgraded.
    """

    created = False  # :meth:`open` made a new, empty store (a mistyped path?): said by callers

    def __init__(self, db: sqlite3.Connection, key: bytes, *, persistent: bool,
                 owns_connection: bool = True, where: str = "history",
                 read_only: bool = False) -> None:
        self.db = db
        # its own cursor, tuples: the connection may be the batch ledger's, whose
        # rows come as dicts
        self._cursor = db.cursor()
        self._cursor.row_factory = None
        self.keys = PatientKeys(key)
        self.persistent = persistent
        self.where = where
        self.waiting = warn_waiting  # told when another process holds the store
        self._owns = owns_connection
        self._file: int | None = None
        self._row_files: dict[int, int] = {}  # the file of each row rows_for last gave
        self._origins: dict[int, dict | None] = {}  # origin() of a file, while one is judged
        self._savepoint = False
        self._run = False  # a run holds the store's transaction (begin_run)
        self._data_version = None
        self.holder: str | None = None  # a batch's name in its files (holders.py)
        self.alive: Callable[[str], bool] = alive_for(db)  # is that holder alive?
        try:
            self._set_up(key, read_only)
            self.patients = self._load_filter()
        except DatabaseRefused as exc:
            raise HistoryStoreError(str(exc)) from None
        except sqlite3.Error as exc:
            raise HistoryStoreError(trouble(where, exc, "use")) from None

    def _set_up(self, key: bytes, read_only: bool) -> None:
        """Refuse a newer schema or another key; create or upgrade the tables (in the
        write lock, looking again: another process may have made them meanwhile)."""
        self.fingerprint = fingerprint(key)
        tables = self._meta()
        if read_only:
            if not HISTORY_TABLES <= tables:
                raise DatabaseRefused(f"{self.where}: not an edi837 history store")
            columns = {row[1] for row in self._query("PRAGMA table_info(history_lines)")}
            self._live = "removed_by IS NULL" if "removed_by" in columns else "1"
            return
        self._live = "removed_by IS NULL"
        if HISTORY_TABLES <= tables and self._version == SCHEMA_VERSION:
            return  # nothing to write
        self._begin()
        try:
            fresh = not self._meta()
            for statement in SCHEMA.split(";"):  # (executescript would commit)
                self.db.execute(statement)
            columns = {row[1] for row in self._query("PRAGMA table_info(history_lines)")}
            if "removed_by" not in columns:  # schema 1 deleted removed lines: none to mark
                self.db.execute("ALTER TABLE history_lines ADD COLUMN removed_by INTEGER")
            files = self._query("PRAGMA table_info(history_files)").fetchall()
            if "holder" not in {row[1] for row in files}:  # schema 2: all were finished
                self.db.execute("ALTER TABLE history_files ADD COLUMN holder TEXT")
            self.db.execute("INSERT OR REPLACE INTO history_meta (name, value) VALUES (?, ?)",
                            ("schema", SCHEMA_VERSION))
            if fresh:
                self.db.execute("INSERT OR REPLACE INTO history_meta (name, value) "
                                "VALUES (?, ?)", ("key_fingerprint", self.fingerprint))
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def _meta(self) -> set[str]:
        """The tables there are; refuses a newer schema or another key."""
        tables = {name for (name,) in self._query(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(self._query("SELECT name, value FROM history_meta").fetchall()) \
            if "history_meta" in tables else {}
        self._version = version = meta.get("schema", SCHEMA_VERSION)
        if not version.isdigit() or int(version) > int(SCHEMA_VERSION):
            raise newer(self.where, "history store", version, SCHEMA_VERSION)
        found, mine = meta.get("key_fingerprint"), self.fingerprint
        if meta and found != mine:
            raise HistoryStoreError(
                f"{self.where}: this history was written with another key (fingerprint "
                f"{found}, this key {mine}): give the store's key with --history-key, "
                "or start a new store")
        return tables if meta else set()

    def _load_filter(self) -> PatientFilter:
        self._data_version = self._query("PRAGMA data_version").fetchone()[0]
        count = self._query("SELECT COUNT(*) FROM history_lines").fetchone()[0]
        patients = PatientFilter(count)
        patients.add_all([patient for (patient,) in self._query(
            "SELECT DISTINCT patient FROM history_lines")])
        return patients

    def _refresh(self) -> None:
        """Another process committed since the filter was loaded: load it again (in
        the write lock, so it holds until this process commits)."""
        if self._query("PRAGMA data_version").fetchone()[0] != self._data_version:
            self.patients = self._load_filter()

    # -- opening --------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, key: bytes, *, read_only: bool = False) -> "HistoryStore":
        """A persistent store in its own file (created when missing).  A database of
        something else, or of a newer edi837, is refused untouched; so is a store
        this user cannot write, unless ``read_only``."""
        if is_url(path):  # PostgreSQL: the same store through a backend seam (pg.py)
            return open_store(cls, str(path), key, read_only=read_only)
        refused = not_a_store(path, "history store")  # a connection string is no file name
        if refused is not None:
            raise HistoryStoreError(refused)
        try:
            db, tables = connect(path, what="history store", mine=HISTORY_TABLES,
                                 read_only=read_only)
        except DatabaseRefused as exc:
            raise HistoryStoreError(str(exc)) from None
        try:
            store = cls(db, key, persistent=True, where=str(path), read_only=read_only)
            store.created = not tables
            if not read_only:  # WAL once it is known to be ours; then can it be written?
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("BEGIN IMMEDIATE")
                probe_write(db)  # (an immutable file opens, and takes the lock, all the same)
                db.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if not is_busy(exc):  # (busy: writable, another process is writing it)
                db.close()
                raise HistoryStoreError(trouble(path, exc, "write")) from None
        except BaseException:
            db.close()
            raise
        return store

    @classmethod
    def ephemeral(cls) -> "HistoryStore":
        """This run's own history: a private temporary database, gone when closed."""
        import secrets

        db = sqlite3.connect("", isolation_level=None)
        # a private temporary database: kept in memory up to its page cache, then on
        # disk; a small cache keeps a large run's memory flat
        db.execute("PRAGMA cache_size = -512")
        store = cls(db, secrets.token_bytes(32), persistent=False, where="this run")
        # written once a drug line, read for the few patients seen again: an index of
        # the patient alone is cheaper to keep (the rows of a patient are few)
        db.execute("DROP INDEX history_by_patient")
        db.execute("CREATE INDEX history_of_patient ON history_lines(patient)")
        return store

    def close(self) -> None:
        if self._owns:
            self.db.close()

    def _query(self, statement: str, parameters=()) -> sqlite3.Cursor:
        return self._cursor.execute(statement, parameters)

    # -- transactions -----------------------------------------------------------------
    def _begin(self) -> None:
        """The store's write lock, waited for while another process holds it."""
        try:
            begin_immediate(self.db, self.where, waiting=self.waiting)
        except DatabaseRefused as exc:
            raise HistoryStoreError(str(exc)) from None

    def _commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise HistoryStoreError(trouble(self.where, exc, "write")) from None

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements in the block commit together (the write lock waited for)."""
        self._begin()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def begin_run(self) -> None:
        """Hold the store for a whole run (`check --history`): its files are committed
        together by :meth:`commit_run`; a run that dies first leaves nothing, and
        another process's run waits until this one is over (and for files batches hold)."""
        wait_for_holders(self)
        self._run = True
        self._refresh()

    def take_out_rechecked(self, sha256s) -> int:
        """At the start of a run that holds the store (:meth:`begin_run`): take out what
        earlier runs added from the files of this run (their SHA-256s), all at once, so
        that a file judged before another file of the run that was also checked before
        is not judged against that file's old lines (an identical rerun gave new UNT002
        errors); returns how many files' lines went.  In the run's transaction: a run
        that dies leaves them in.  Each file still takes itself out as it begins
        (:meth:`begin_file`), which then finds nothing."""
        if not (self._run and self.persistent):
            return 0
        return sum(self._forget(sha256.lower()) > 0 for sha256 in dict.fromkeys(sha256s)
                   if sha256)

    def commit_run(self) -> None:
        if self._run:
            self._run = False
            self._commit()

    def origin(self, row_id: int | None) -> dict | None:
        """Where a stored line came from, for messages: its file's SHA-256, the night
        it was added (YYYY-MM-DD, UTC), its run, and the file's name when the store
        lives in a batch ledger (whose inputs table names files).  None for a line
        of the file being judged now (written or not yet)."""
        if row_id is None:
            return None
        file = self._row_files.get(row_id)  # (a row rows_for gave: most)
        if file is None:
            found = self._query("SELECT file FROM history_lines WHERE id = ?",
                                (row_id,)).fetchone()
            if found is None:
                return None
            file = found[0]
        if file == self._file:
            return None  # the file being judged (its lines of an earlier window)
        origins = self._origins  # by file, for this file's judging (a night's duplicates
        if file not in origins:  # of one earlier file are many)
            origins[file] = self._origin_of(file)
        return origins[file]

    def _origin_of(self, file: int) -> dict | None:
        found = self._query("SELECT sha256, run_id, added FROM history_files WHERE id = ?",
                            (file,)).fetchone()
        if found is None or found[0] == PENDING:
            return None
        sha256, run_id, added = found
        name = None
        try:
            named = self._query("SELECT name FROM inputs WHERE sha256 = ? ORDER BY id LIMIT 1",
                                (sha256,)).fetchone()
        except sqlite3.Error:  # a store of its own: no file names
            named = None
        if named is not None:
            name = named[0]
            if isinstance(name, str) and name.startswith("\ufffe:"):  # names.to_text_db's
                try:
                    name = bytes.fromhex(name[2:])
                except ValueError:
                    pass
            if isinstance(name, bytes):  # not UTF-8: stored as its bytes (names.to_db)
                name = name.decode("utf-8", "backslashreplace")
        return {"sha256": sha256, "night": (added or "")[:10], "name": name, "run_id": run_id,
                "file": file}

    # -- one input file -------------------------------------------------------------
    def begin_file(self, run_id: str, sha256: str | None = None) -> None:
        """Start a file's transaction (unless the caller holds one already).  A file
        whose content the history holds already (``sha256``) is checked again, not
        resent: what an earlier run added from it is taken out first, in the same
        transaction.  A copy of it in this same run is a second sending: judged
        against the first (HIS001), as without a lasting history."""
        self._origins.clear()
        self._savepoint = self.db.in_transaction
        if self._savepoint:  # the run's, or the caller's transaction (batch: the ledger's)
            self.db.execute("SAVEPOINT history_file")
        else:
            self._begin()
        self._refresh()
        if sha256 and self.persistent:
            self._forget(sha256.lower(), other_than=run_id)
        cursor = self.db.execute(
            "INSERT INTO history_files (sha256, run_id, added, holder) VALUES (?, ?, ?, ?)",
            (sha256 or PENDING, run_id, _now(), self.holder))
        self._file = cursor.lastrowid

    def end_file(self, sha256: str, *, keep: bool, commit: bool = True) -> None:
        """Record the file's SHA-256 and commit its rows, or roll them back
        (``keep`` False: the file was unreadable, nothing of it is forwarded).
        ``commit`` False: the caller commits (batch: with the file's outcome)."""
        self._origins.clear()
        self._row_files = {}
        if self._file is None:
            return
        if keep:
            self.db.execute("UPDATE history_files SET sha256 = ? WHERE id = ?",
                            (sha256, self._file))
        if self._savepoint:
            if not keep:
                self.db.execute("ROLLBACK TO history_file")
            self.db.execute("RELEASE history_file")
        elif not keep:
            self.db.execute("ROLLBACK")
        elif commit:
            self._commit()
        self._file = None

    # -- rows -----------------------------------------------------------------------
    def rows_for(self, patients: Iterable[bytes]) -> dict[bytes, list[Row]]:
        """Every row of these patients, by patient, in date order (patients the
        store has no line of are left out)."""
        found: dict[bytes, list[Row]] = {}
        known = self.patients
        patients = [patient for patient in patients if patient in known]
        self._row_files = files = {}
        rows = [values for start in range(0, len(patients), 500) for values in self._query(
            f"SELECT {COLUMNS}, removed_by FROM history_lines WHERE patient IN "
            f"({', '.join('?' * len(patients[start:start + 500]))}) ORDER BY service_date, id",
            patients[start:start + 500])]
        # a dead batch's files count for nothing, nor what they took out (holders.py)
        hidden = held_files(self, {v[-2] for v in rows} | {v[-1] for v in rows if v[-1]})
        for values in rows:
            if values[-2] not in hidden and (values[-1] is None or values[-1] in hidden):
                found.setdefault(values[1], []).append(row_from(values[:-1]))
                files[values[0]] = values[-2]
        return found

    def write(self, added: Iterable[Row], removed: Iterable[int],
              values: Sequence[tuple] = ()) -> None:
        """Mark removed rows as taken out by this file and add new ones: ``added`` as
        rows, ``values`` as the columns of INSERT up to the file (in the file's
        transaction)."""
        file = self._file
        marks = [(file, row_id) for row_id in removed]
        if marks:
            self.db.executemany("UPDATE history_lines SET removed_by = ? WHERE id = ?",
                                marks)
        lines: list[tuple] = [(
            row.patient, row.date, row.hcpcs, "" if row.units is None else str(row.units),
            " ".join(row.modifiers), row.ndc, row.npi, row.payer, row.responsibility,
            row.claim_id, row.frequency, row.original_reference, int(row.duplicate))
            for row in added]
        if values:
            lines.extend(values)
        if lines:
            if file is None:
                raise HistoryStoreError(f"{self.where}: lines written outside a file (a bug)")
            self.patients.add_all([line[0] for line in lines])
            # the file's id written into the statement (an int of this store's own): the
            # values need no copy with it appended
            self.db.executemany(f"{INSERT[:INSERT.rindex('?')]}{int(file)})", lines)

    # -- upkeep (edi837.history.upkeep) ---------------------------------------------------
    def prune(self, days: int, today: dt.date | None = None) -> int:
        """Delete lines whose date of service is more than ``days`` days before
        today; 0 keeps everything.  Returns how many went."""
        return upkeep.prune(self, days, today)

    def _forget(self, sha256: str, run_id: str | None = None, *,
                other_than: str | None = None) -> int:
        return upkeep.forget(self, sha256, run_id, other_than=other_than)

    def undo_file(self, sha256: str, run_id: str) -> int:
        """Take out what one run did with a file (batch recovery: the file is
        rolled back and will be checked again), in the caller's transaction."""
        return upkeep.forget(self, sha256.lower(), run_id)

    def knows_file(self, sha256: str) -> bool:
        return self._query("SELECT 1 FROM history_files WHERE sha256 = ? LIMIT 1",
                           (sha256.lower(),)).fetchone() is not None

    def files_starting(self, prefix: str, limit: int = 3) -> list[str]:
        """The SHA-256s of stored files that start with ``prefix`` (hex digits: findings
        show the first 12), at most ``limit``."""
        return upkeep.files_starting(self, prefix, limit)

    def forget_file(self, sha256: str) -> int:
        """Take out the file with this SHA-256: delete the lines that came from it,
        and put back the lines its voids and replacements removed."""
        return upkeep.forget_file(self, sha256)

    def stats(self) -> dict:
        """What the store holds: counts and dates, never a patient (`history stats`)."""
        return upkeep.stats(self)

def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
