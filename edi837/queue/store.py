"""The work queue: every claim a batch run held, until it is resolved.

Kept in the batch ledger's database (``OUTDIR/ledger.sqlite3``, or the shared
ledger of ``--ledger postgresql://...``; tables ``queue_*``, created by
:func:`ensure_schema` when the ledger opens).  A held
claim (an error finding) enters the queue with its payer, billing NPI,
submitter, charge, rules, and the file and night it came in.  It leaves when

* it comes back clean in a later file: the same CLM01, payer, billing NPI and
  patient (``resolved``, by ``clean`` or, CLM05-3 = 7, ``replacement``), or
  the corrected resend of the same service under another claim id: same
  patient, payer, NPI, date of service and HCPCS of every drug service the held
  claim has, in a new claim (not the replacement or void of another claim id)
  (``resend``; needs the lasting patient history, whose key hashes the patient).
  Either only from a file taken after the hold, in the ledger's order (the
  claims after it in the same file, or a file another host took before it and
  synced after it, resolve nothing): runs in any order leave the same queue;
* it is voided (CLM05-3 = 8, ``voided``);
* an operator closes it with a reason (``closed``).

Sent again and held again, it stays open and counts a resubmission.  The
store keeps no name, member id or birth date: the patient and its services
only as keyed hashes (the patient history's HMAC).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterable

OPEN, RESOLVED, VOIDED, CLOSED = "open", "resolved", "voided", "closed"
STATUSES = (OPEN, RESOLVED, VOIDED, CLOSED)
REPLACEMENT, VOID = "7", "8"  # CLM05-3

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_claims (
    id              INTEGER PRIMARY KEY,
    claim_id        TEXT NOT NULL,      -- CLM01
    payer_id        TEXT NOT NULL,      -- 2010BB NM109
    payer_name      TEXT,
    billing_npi     TEXT NOT NULL,      -- 2010AA NM109
    patient         TEXT NOT NULL,      -- keyed hash (history key), '' without one
    submitter       TEXT,               -- 1000A NM109
    submitter_name  TEXT,               -- 1000A NM103
    charge          TEXT,               -- CLM02 as sent, of the last time held
    rules           TEXT,               -- JSON [rule codes of its error findings]
    first_run       TEXT NOT NULL,
    first_night     TEXT NOT NULL,      -- YYYY-MM-DD (UTC) of first_run
    first_file      TEXT,
    last_run        TEXT,
    last_file       TEXT,
    last_sha256     TEXT,
    resubmissions   INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,      -- open | resolved | voided | closed
    resolution      TEXT,               -- clean | replacement | resend | void | closed
    resolved_by_run TEXT,
    resolved_file   TEXT,
    resolved_at     TEXT,
    reason          TEXT                -- an operator's reason for closing it
);
CREATE INDEX IF NOT EXISTS queue_claims_open ON queue_claims(status, claim_id, payer_id);
CREATE TABLE IF NOT EXISTS queue_services (
    service TEXT NOT NULL,              -- facts.service_key: keyed, no patient in clear
    claim   INTEGER NOT NULL REFERENCES queue_claims(id)
);
CREATE INDEX IF NOT EXISTS queue_services_by_key ON queue_services(service);
CREATE TABLE IF NOT EXISTS queue_notes (
    id    INTEGER PRIMARY KEY,
    claim INTEGER NOT NULL REFERENCES queue_claims(id),
    at    TEXT NOT NULL,
    text  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_inputs (  -- ledger inputs whose claims the queue has seen
    input_id INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL,
    claims   INTEGER NOT NULL
);
"""


def ensure_schema(db: sqlite3.Connection) -> None:
    """The queue's tables, added when missing, statement by statement (in the caller's
    transaction, if any: sqlite3's executescript would commit it)."""
    for statement in SCHEMA.split(";"):
        db.execute(statement)


def has_queue(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'queue_claims'").fetchone() \
        is not None


def night_of(run_id: str) -> str:
    """A run id (20260105T021500.000000Z) as its night, 2026-01-05."""
    return f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def today() -> date:
    return datetime.now(timezone.utc).date()


def age_days(first_night: str, as_of: date | None = None) -> int:
    return max(0, ((as_of or today()) - date.fromisoformat(first_night)).days)


def cents(charge: str | None) -> Decimal:
    """A claim's charge (CLM02 as written) in dollars and cents; 0 for one that is not a
    finite number ("NaN", "1E+999"), which no total may take in."""
    try:
        value = Decimal(charge or "0")
    except InvalidOperation:
        return Decimal(0)
    return value.quantize(Decimal("0.01")) if value.is_finite() and abs(value) < 10 ** 15 \
        else Decimal(0)


def dict_row(cursor: sqlite3.Cursor, values: tuple) -> dict:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}


class OpenIndex:
    """What the open queue could match, in memory: most claims of a night match nothing
    and need no query (a file of 150,000 claims: seconds less).  Read once per run and
    kept up to date as files open claims; a member that a rolled-back file added, or a
    claim resolved since, only costs a query that then finds nothing."""

    def __init__(self, db: sqlite3.Connection) -> None:
        cursor = db.cursor()
        cursor.row_factory = None
        self.keys = set(cursor.execute(
            "SELECT claim_id, payer_id, billing_npi FROM queue_claims WHERE status = ?",
            (OPEN,)))
        self.services = {service for (service,) in cursor.execute(
            "SELECT s.service FROM queue_services s JOIN queue_claims c ON c.id = s.claim "
            "WHERE c.status = ?", (OPEN,))}


class _Apply:
    """The claims of one file, in file order, against the queue (one transaction)."""

    def __init__(self, db: sqlite3.Connection, *, run_id: str, file: str, sha256: str,
                 index: "OpenIndex | None" = None, input_id: int | None = None) -> None:
        self.db, self.run_id, self.file, self.sha256 = db, run_id, file, sha256
        self.input_id = input_id  # the ledger's row of this file: its place in the order
        self.counts = {"opened": 0, "resubmitted": 0, "resolved": 0, "voided": 0}
        index = index or OpenIndex(db)
        self.keys, self.services = index.keys, index.services

    def _open_entry(self, claim: dict) -> dict | None:
        if (claim["claim_id"], claim["payer_id"], claim["billing_npi"]) not in self.keys:
            return None
        return self.db.execute(
            "SELECT * FROM queue_claims WHERE status = ? AND claim_id = ? AND payer_id = ? "
            "AND billing_npi = ? AND (patient = ? OR patient = '' OR ? = '') "
            "ORDER BY id LIMIT 1",
            (OPEN, claim["claim_id"], claim["payer_id"], claim["billing_npi"],
             claim["patient"], claim["patient"])).fetchone()

    def claim(self, claim: dict) -> None:
        if claim.get("listed"):
            return  # warnings only, and no drug claim: for the run's own work list
        entry = self._open_entry(claim)
        if claim.get("frequency") == VOID and entry is not None \
                and not self._held_later(entry):
            # the sender withdraws the held claim: it leaves the queue even if the void
            # repeats the claim's defect (and is held itself: nothing reaches the payer);
            # not a hold of a file taken after this one (another host's, synced first)
            self._resolve(entry["id"], VOIDED, "void")
        elif claim["held"]:
            self._held(claim, entry)
        elif claim.get("frequency") == VOID:
            pass  # a void of a claim the queue does not hold open resolves nothing
        elif entry is not None:
            if self._after_hold(entry):
                self._resolve(entry["id"], RESOLVED, "replacement"
                              if claim.get("frequency") == REPLACEMENT else "clean")
        elif claim.get("frequency") != REPLACEMENT:  # a replacement is of its own claim id
            for found in self._by_services(claim["services"]):
                self._resolve(found, RESOLVED, "resend")

    def _after_hold(self, entry: dict) -> bool:
        """Whether this file came after the held claim's (last) hold, in the ledger's
        order (its inputs' ids): not the same file, nor one taken before it."""
        if entry["last_run"] == self.run_id and entry["last_sha256"] == self.sha256:
            return False
        return not self._held_later(entry)

    def _held_later(self, entry: dict) -> bool:
        """Whether the held claim's (last) hold came from a file taken after this one,
        in the ledger's order: another host's, whose run ended first."""
        if self.input_id is None:
            return False
        row = self.db.execute("SELECT id FROM inputs WHERE run_id = ? AND sha256 = ? "
                              "ORDER BY id DESC LIMIT 1",
                              (entry["last_run"], entry["last_sha256"])).fetchone()
        return row is not None and row["id"] > self.input_id

    def _held(self, claim: dict, entry: dict | None) -> None:
        db, rules = self.db, json.dumps(claim["rules"])
        if entry is not None and self._held_later(entry):
            # held again by a file taken after this one and synced first: a resubmission
            # all the same, but that later file stays the claim's last hold
            db.execute("UPDATE queue_claims SET resubmissions = resubmissions + 1 "
                       "WHERE id = ?", (entry["id"],))
            self.counts["resubmitted"] += 1
            row_id = entry["id"]
        elif entry is not None:
            again = entry["last_sha256"] != self.sha256  # not the same content checked again
            db.execute("UPDATE queue_claims SET charge = ?, rules = ?, last_run = ?, "
                       "last_file = ?, last_sha256 = ?, resubmissions = resubmissions + ? "
                       "WHERE id = ?", (claim["charge"], rules, self.run_id, self.file,
                                        self.sha256, int(again), entry["id"]))
            self.counts["resubmitted"] += int(again)
            row_id = entry["id"]
        else:
            row_id = db.execute(
                "INSERT INTO queue_claims (claim_id, payer_id, payer_name, billing_npi, "
                "patient, submitter, submitter_name, charge, rules, first_run, first_night, "
                "first_file, last_run, last_file, last_sha256, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (claim["claim_id"], claim["payer_id"], claim["payer_name"],
                 claim["billing_npi"], claim["patient"], claim["submitter"],
                 claim["submitter_name"], claim["charge"], rules, self.run_id,
                 night_of(self.run_id), self.file, self.run_id, self.file, self.sha256,
                 OPEN)).lastrowid
            self.counts["opened"] += 1
            self.keys.add((claim["claim_id"], claim["payer_id"], claim["billing_npi"]))
        self.services.update(claim["services"])
        db.executemany("INSERT INTO queue_services (service, claim) VALUES (?, ?)",
                       [(s, row_id) for s in claim["services"]])

    def _by_services(self, services: list[str]) -> list[int]:
        """The open held claims this claim resends: each of their drug services is
        one of its own (a claim of the same day and drug for only part of them is
        another claim), and their hold came before it."""
        found: list[int] = []
        for service in services:
            if service not in self.services:
                continue
            for row in self.db.execute(
                    "SELECT c.* FROM queue_services s JOIN queue_claims c ON c.id = s.claim "
                    "WHERE s.service = ? AND c.status = ?", (service, OPEN)).fetchall():
                if row["id"] in found or not self._after_hold(row):
                    continue
                own = {r["service"] for r in self.db.execute(
                    "SELECT service FROM queue_services WHERE claim = ?", (row["id"],))}
                if own <= set(services):
                    found.append(row["id"])
        return found

    def _resolve(self, row_id: int, status: str, how: str) -> None:
        self.db.execute("UPDATE queue_claims SET status = ?, resolution = ?, "
                        "resolved_by_run = ?, resolved_file = ?, resolved_at = ? WHERE id = ?",
                        (status, how, self.run_id, self.file, now(), row_id))
        self.counts["voided" if status == VOIDED else "resolved"] += 1


def apply_file(db: sqlite3.Connection, claims: Iterable[dict], *, run_id: str, file: str,
               sha256: str, index: OpenIndex | None = None,
               input_id: int | None = None) -> dict:
    """One file's claims (``facts.claim_facts``) against the queue, in file order, on
    ``db`` (the caller's transaction); ``index``: the run's :class:`OpenIndex` (read
    here when not given); ``input_id``: the file's ledger row (the ledger's order of
    files; without it, only the claims of the file itself are known to come
    before).  Returns how many were opened, resubmitted, resolved and
    voided."""
    factory = db.row_factory
    db.row_factory = dict_row
    try:
        step = _Apply(db, run_id=run_id, file=file, sha256=sha256, index=index,
                      input_id=input_id)
        for claim in claims:
            step.claim(claim)
        return step.counts
    finally:
        db.row_factory = factory


def close(db: sqlite3.Connection, row_id: int, reason: str) -> None:
    db.execute("UPDATE queue_claims SET status = ?, resolution = 'closed', reason = ?, "
               "resolved_by_run = 'operator', resolved_at = ? WHERE id = ? AND status = ?",
               (CLOSED, reason, now(), row_id, OPEN))


def note(db: sqlite3.Connection, row_id: int, text: str) -> None:
    db.execute("INSERT INTO queue_notes (claim, at, text) VALUES (?, ?, ?)",
               (row_id, now(), text))
