"""The history store: one SQLite row per drug line of every forwarded claim.

What a row holds: the patient's keyed hash (never a name, member id or birth
date), date of service, HCPCS, units, modifiers, NDC, billing NPI, payer id,
payer responsibility (SBR01), claim id (CLM01), claim frequency (CLM05-3), the
payer's original claim number (REF*F8), and the file (SHA-256) and run it came
from.  Dates and claim ids are still protected health information: keep the
store where claims are kept.

Writes are grouped per input file: a file's rows are committed together, and
a file that turns out unreadable is rolled back, so a file is never counted
half.  In ``edi837 batch`` the rows live in the ledger's own database and are
committed in the same transaction that records the file's outcome.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from .identity import PatientKeys, fingerprint
from .records import units_of

SCHEMA_VERSION = "1"
DEFAULT_DAYS = 400
PENDING = "pending"  # a file's SHA-256 until the file has been read to its end

SCHEMA = """
CREATE TABLE IF NOT EXISTS history_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history_files (
    id      INTEGER PRIMARY KEY,
    sha256  TEXT NOT NULL,          -- the input file's content
    run_id  TEXT NOT NULL,
    added   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history_lines (
    id                 INTEGER PRIMARY KEY,
    patient            BLOB NOT NULL,     -- keyed hash (history/identity.py)
    service_date       TEXT NOT NULL,     -- CCYYMMDD
    hcpcs              TEXT NOT NULL,
    units              TEXT NOT NULL,
    modifiers          TEXT NOT NULL,     -- as billed, space-separated
    ndc                TEXT NOT NULL,
    billing_npi        TEXT NOT NULL,
    payer_id           TEXT NOT NULL,
    responsibility     TEXT NOT NULL,     -- SBR01
    claim_id           TEXT NOT NULL,     -- CLM01
    frequency          TEXT NOT NULL,     -- CLM05-3
    original_reference TEXT NOT NULL,     -- 2300 REF*F8
    duplicate          INTEGER NOT NULL,  -- flagged HIS001: never summed
    file               INTEGER NOT NULL REFERENCES history_files(id)
);
CREATE INDEX IF NOT EXISTS history_by_patient ON history_lines(patient, hcpcs, service_date);
CREATE INDEX IF NOT EXISTS history_files_by_sha256 ON history_files(sha256);
"""

INSERT = ("INSERT INTO history_lines (patient, service_date, hcpcs, units, modifiers, ndc, "
          "billing_npi, payer_id, responsibility, claim_id, frequency, original_reference, "
          "duplicate, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_COLUMNS = ("id, patient, service_date, hcpcs, units, modifiers, ndc, billing_npi, payer_id, "
            "responsibility, claim_id, frequency, duplicate")


class HistoryStoreError(Exception):
    """The store cannot be opened or used (wrong key, not a history, busy, damaged)."""


@dataclass(slots=True, eq=False)
class Row:
    """A drug line in the history (``id`` None: added in this window, not yet written)."""

    id: int | None
    patient: bytes
    date: str
    hcpcs: str
    units: int | Decimal | None
    modifiers: tuple[str, ...]
    ndc: str
    npi: str
    payer: str
    responsibility: str
    claim_id: str
    frequency: str
    duplicate: bool
    original_reference: str = ""
    removed: bool = False

    @property
    def discarded(self) -> bool:
        return "JW" in self.modifiers


def _row(values) -> Row:
    (id_, patient, date, hcpcs, units, modifiers, ndc, npi, payer, responsibility, claim_id,
     frequency, duplicate) = values
    amount = units_of(units)
    return Row(id_, patient, date, hcpcs, amount, tuple(modifiers.split()), ndc, npi, payer,
               responsibility, claim_id, frequency, bool(duplicate))


class PatientFilter:
    """Which patients the store may hold lines of (a Bloom filter): a night's new
    members, most of them, need no query.  Fixed size, so memory stays flat
    whatever the store's size; a false "may hold" costs one query, never a
    wrong answer.  Patient keys are HMAC outputs, uniformly random already, so
    their own bytes are the probe positions."""

    __slots__ = ("_bits", "_mask")

    def __init__(self, expected: int = 0) -> None:
        size = 1 << 21  # bits: 256 KiB, under 1% false positives at 100,000 patients
        while size < expected * 16 and size < 1 << 26:
            size <<= 1
        self._bits = bytearray(size >> 3)
        self._mask = size - 1

    def _probes(self, patient: bytes):
        mask = self._mask
        return (int.from_bytes(patient[0:4], "little") & mask,
                int.from_bytes(patient[4:8], "little") & mask,
                int.from_bytes(patient[8:12], "little") & mask)

    def add(self, patient: bytes) -> None:
        bits = self._bits
        for probe in self._probes(patient):
            bits[probe >> 3] |= 1 << (probe & 7)

    def __contains__(self, patient: bytes) -> bool:
        bits = self._bits
        for probe in self._probes(patient):
            if not bits[probe >> 3] & (1 << (probe & 7)):
                return False
        return True


class HistoryStore:
    """A history store on a SQLite connection.

    ``persistent``: a store that outlives the run (``--history FILE``, batch's
    ledger).  Without one, a run still has a history of its own files (a
    private temporary database), but cannot tell a first dose from a member it
    has never seen, so HIS003 and first-dose documentation are not reported.
    """

    def __init__(self, db: sqlite3.Connection, key: bytes, *, persistent: bool,
                 owns_connection: bool = True, where: str = "history") -> None:
        self.db = db
        # its own cursor, tuples: the connection may be the batch ledger's, whose
        # rows come as dicts
        self._cursor = db.cursor()
        self._cursor.row_factory = None
        self.keys = PatientKeys(key)
        self.persistent = persistent
        self.where = where
        self._owns = owns_connection
        self._file: int | None = None
        self._savepoint = False
        try:
            db.executescript(SCHEMA)
            self._check_key(key)
            self.patients = self._load_filter()
        except sqlite3.DatabaseError as exc:
            raise HistoryStoreError(f"{where}: not a usable history store: {exc}") from None

    def _load_filter(self) -> PatientFilter:
        count = self._query("SELECT COUNT(*) FROM history_lines").fetchone()[0]
        patients = PatientFilter(count)
        for (patient,) in self._query("SELECT DISTINCT patient FROM history_lines"):
            patients.add(patient)
        return patients

    # -- opening --------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, key: bytes) -> "HistoryStore":
        """A persistent store in its own file (created when missing)."""
        try:
            db = sqlite3.connect(str(path), isolation_level=None, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise HistoryStoreError(f"{path}: cannot open the history store: {exc}") from None
        return cls(db, key, persistent=True, where=str(path))

    @classmethod
    def ephemeral(cls) -> "HistoryStore":
        """This run's own history: a private temporary database, gone when closed."""
        import secrets

        db = sqlite3.connect("", isolation_level=None)
        # a private temporary database: kept in memory up to its page cache, then on
        # disk; a small cache keeps a large run's memory flat
        db.execute("PRAGMA cache_size = -512")
        return cls(db, secrets.token_bytes(32), persistent=False, where="this run")

    def close(self) -> None:
        if self._owns:
            self.db.close()

    def _query(self, statement: str, parameters=()) -> sqlite3.Cursor:
        return self._cursor.execute(statement, parameters)

    def _check_key(self, key: bytes) -> None:
        self.fingerprint = mine = fingerprint(key)
        found = dict(self._query("SELECT name, value FROM history_meta").fetchall())
        if not found:
            self.db.executemany("INSERT INTO history_meta (name, value) VALUES (?, ?)",
                                [("key_fingerprint", mine), ("schema", SCHEMA_VERSION)])
        elif found.get("key_fingerprint") != mine:
            raise HistoryStoreError(
                f"{self.where}: this history was written with another key (fingerprint "
                f"{found.get('key_fingerprint')}, this key {mine}): give the store's key "
                "with --history-key, or start a new store")

    def origin(self, row_id: int | None) -> dict | None:
        """Where a stored line came from, for messages: its file's SHA-256, the night
        it was added (YYYY-MM-DD, UTC), its run, and the file's name when the store
        lives in a batch ledger (whose inputs table names files).  None for a line
        of the file being judged now (written or not yet)."""
        if row_id is None:
            return None
        found = self._query("SELECT f.id, f.sha256, f.run_id, f.added FROM history_lines l "
                            "JOIN history_files f ON f.id = l.file WHERE l.id = ?",
                            (row_id,)).fetchone()
        if found is None or found[0] == self._file or found[1] == PENDING:
            return None  # the file being judged (its lines of an earlier window)
        _, sha256, run_id, added = found
        name = None
        try:
            named = self._query("SELECT name FROM inputs WHERE sha256 = ? ORDER BY id LIMIT 1",
                                (sha256,)).fetchone()
        except sqlite3.Error:  # a store of its own: no file names
            named = None
        if named is not None:
            name = named[0].decode("utf-8", "backslashreplace") if isinstance(named[0], bytes) \
                else named[0]
        return {"sha256": sha256, "night": (added or "")[:10], "name": name, "run_id": run_id}

    # -- one input file -------------------------------------------------------------
    def begin_file(self, run_id: str, sha256: str | None = None) -> None:
        """Start a file's transaction (unless the caller holds one already).  A file
        whose content the history holds already (``sha256``) is checked again, not
        resent: what an earlier run added from it is taken out first, in the same
        transaction.  A copy of it in this same run is a second sending: judged
        against the first (HIS001), as without a lasting history."""
        self._savepoint = self.db.in_transaction
        if self._savepoint:  # the caller's transaction (batch: the ledger's)
            self.db.execute("SAVEPOINT history_file")
        else:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise HistoryStoreError(f"{self.where}: {exc} (another run is writing "
                                        "the history)") from None
        if sha256 and self.persistent:
            self._forget(sha256.lower(), other_than=run_id)
        cursor = self.db.execute(
            "INSERT INTO history_files (sha256, run_id, added) VALUES (?, ?, ?)",
            (sha256 or PENDING, run_id, _now()))
        self._file = cursor.lastrowid

    def end_file(self, sha256: str, *, keep: bool, commit: bool = True) -> None:
        """Record the file's SHA-256 and commit its rows, or roll them back
        (``keep`` False: the file was unreadable, nothing of it is forwarded).
        ``commit`` False: the caller commits (batch: with the file's outcome)."""
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
            self.db.execute("COMMIT")
        self._file = None

    # -- rows -----------------------------------------------------------------------
    def rows_for(self, patients: Iterable[bytes]) -> dict[bytes, list[Row]]:
        """Every row of these patients, by patient, in date order (patients the
        store has no line of are left out)."""
        found: dict[bytes, list[Row]] = {}
        known = self.patients
        patients = [patient for patient in patients if patient in known]
        for start in range(0, len(patients), 500):
            part = patients[start:start + 500]
            query = (f"SELECT {_COLUMNS} FROM history_lines WHERE patient IN "
                     f"({', '.join('?' * len(part))}) ORDER BY service_date, id")
            for values in self._query(query, part):
                found.setdefault(values[1], []).append(_row(values))
        return found

    def write(self, added: Iterable[Row], removed: Iterable[int],
              values: list[tuple] = ()) -> None:
        """Delete removed rows and add new ones: ``added`` as rows, ``values`` as
        the columns of INSERT_COLUMNS up to the file (in the file's transaction)."""
        removed = [(row_id,) for row_id in removed]
        if removed:
            self.db.executemany("DELETE FROM history_lines WHERE id = ?", removed)
        add = self.patients.add
        for row in added:
            add(row.patient)
        for value in values:
            add(value[0])
        file = (self._file,)
        self.db.executemany(INSERT, [(
            row.patient, row.date, row.hcpcs, "" if row.units is None else str(row.units),
            " ".join(row.modifiers), row.ndc, row.npi, row.payer, row.responsibility,
            row.claim_id, row.frequency, row.original_reference, int(row.duplicate)) + file
            for row in added])
        if values:
            self.db.executemany(INSERT, [value + file for value in values])

    # -- upkeep ---------------------------------------------------------------------
    def prune(self, days: int, today: dt.date | None = None) -> int:
        """Delete lines whose date of service is more than ``days`` days before
        today; 0 keeps everything.  Returns how many went."""
        if days <= 0:
            return 0
        cutoff = ((today or dt.date.today()) - dt.timedelta(days=days)).strftime("%Y%m%d")
        return self._delete("DELETE FROM history_lines WHERE service_date < ?", (cutoff,))

    def _forget(self, sha256: str, run_id: str | None = None, *,
                other_than: str | None = None) -> int:
        """Delete a file's lines (of one run only, with ``run_id``; of every run but
        ``other_than``), in the caller's transaction."""
        where, parameters = "sha256 = ?", (sha256,)
        if run_id is not None:
            where, parameters = "sha256 = ? AND run_id = ?", (sha256, run_id)
        elif other_than is not None:
            where, parameters = "sha256 = ? AND run_id != ?", (sha256, other_than)
        gone = self.db.execute(f"DELETE FROM history_lines WHERE file IN "
                               f"(SELECT id FROM history_files WHERE {where})",
                               parameters).rowcount
        self.db.execute(f"DELETE FROM history_files WHERE {where}", parameters)
        return gone

    def undo_file(self, sha256: str, run_id: str) -> int:
        """Take out what one run added from a file (batch recovery: the file is
        rolled back and will be checked again), in the caller's transaction."""
        return self._forget(sha256.lower(), run_id)

    def knows_file(self, sha256: str) -> bool:
        return self._query("SELECT 1 FROM history_files WHERE sha256 = ? LIMIT 1",
                           (sha256.lower(),)).fetchone() is not None

    def forget_file(self, sha256: str) -> int:
        """Delete every line that came from the file with this SHA-256."""
        # a full scan, which only this rare correction pays (an index on the file
        # would cost every insert of every night)
        return self._delete("DELETE FROM history_lines WHERE file IN "
                            "(SELECT id FROM history_files WHERE sha256 = ?)", (sha256.lower(),))

    def _delete(self, statement: str, parameters: tuple) -> int:
        """Delete lines, and files left with none, in one transaction."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            gone = self.db.execute(statement, parameters).rowcount
            self.db.execute("DELETE FROM history_files WHERE sha256 != ? AND id NOT IN "
                            "(SELECT DISTINCT file FROM history_lines)", (PENDING,))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise HistoryStoreError(f"{self.where}: {exc}") from None
        return gone

    def stats(self) -> dict:
        one = self._query
        lines, patients, first, last = one(
            "SELECT COUNT(*), COUNT(DISTINCT patient), MIN(service_date), MAX(service_date) "
            "FROM history_lines").fetchone()
        files, runs = one("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM history_files "
                          "WHERE sha256 != ?", (PENDING,)).fetchone()
        by_hcpcs = dict(one("SELECT hcpcs, COUNT(*) FROM history_lines GROUP BY hcpcs "
                            "ORDER BY hcpcs").fetchall())
        last_run = one("SELECT MAX(added) FROM history_files").fetchone()[0]
        meta = dict(one("SELECT name, value FROM history_meta").fetchall())
        return {"lines": lines, "patients": patients, "first_date": first, "last_date": last,
                "files": files, "runs": runs, "lines_by_hcpcs": by_hcpcs,
                "last_added": last_run, "key_fingerprint": meta.get("key_fingerprint"),
                "schema": meta.get("schema")}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
