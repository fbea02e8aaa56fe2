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
  synced after it, resolve nothing; one another host took after it and synced
  before it does, from ``queue_later``): runs in any order leave the same queue;
* it is voided (CLM05-3 = 8, ``voided``), by a void in the same order;
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
CREATE TABLE IF NOT EXISTS queue_later (  -- claims that may resolve a hold of a file taken
    input_id INTEGER NOT NULL,            -- before theirs and synced after (another host's
    run_id   TEXT NOT NULL,               -- run still open): kept until no such file is left
    file     TEXT,
    fact     TEXT NOT NULL                -- JSON: keys, CLM05-3, keyed services (hashes)
);
CREATE INDEX IF NOT EXISTS queue_later_by_input ON queue_later(input_id);
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
        self.held: list[int] = []  # the queue rows this file held
        # its claims that may resolve the hold of a file taken before it, not synced yet
        # (another host's): kept in queue_later when there is such a file (_Later)
        self.keep_later = False
        self.resolving: list[dict] = []

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
        if self.keep_later and (claim.get("frequency") == VOID or not claim["held"]):
            self.resolving.append({k: claim.get(k) for k in LATER_FACTS})
            if len(self.resolving) >= 1000:
                self.keep_resolving()
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
        hold = self.hold_input(entry)
        return hold is not None and hold > self.input_id

    def hold_input(self, entry: dict) -> int | None:
        """The ledger's row (its place in the order) of the held claim's last hold."""
        row = self.db.execute("SELECT id FROM inputs WHERE run_id = ? AND sha256 = ? "
                              "ORDER BY id DESC LIMIT 1",
                              (entry["last_run"], entry["last_sha256"])).fetchone()
        return row["id"] if row is not None else None

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
        self.held.append(row_id)

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

    def keep_resolving(self) -> None:
        self.db.executemany(
            "INSERT INTO queue_later (input_id, run_id, file, fact) VALUES (?, ?, ?, ?)",
            [(self.input_id, self.run_id, self.file, json.dumps(fact))
             for fact in self.resolving])
        self.resolving = []

    def _resolve(self, row_id: int, status: str, how: str) -> None:
        self.resolve_by(row_id, status, how, self.run_id, self.file)

    def resolve_by(self, row_id: int, status: str, how: str, run_id: str, file: str) -> None:
        self.db.execute("UPDATE queue_claims SET status = ?, resolution = ?, "
                        "resolved_by_run = ?, resolved_file = ?, resolved_at = ? WHERE id = ?",
                        (status, how, run_id, file, now(), row_id))
        self.counts["voided" if status == VOIDED else "resolved"] += 1


LATER_FACTS = ("claim_id", "payer_id", "billing_npi", "patient", "frequency", "services",
               "held")


class _Later:
    """Files synced out of the ledger's order: host K takes a file that holds a claim,
    host J takes the file that resolves it (clean, void, resend) after it, and J's run
    ends first.  The resolving claims of a file synced while a file taken before it is
    still unsynced (its run open) are kept in ``queue_later``; the earlier file, synced
    at last, is resolved by them as if it had been synced first."""

    def __init__(self, step: _Apply) -> None:
        self.step, self.db = step, step.db
        self.first = self._first_unsynced()
        step.keep_later = self.first is not None and self.first < (step.input_id or 0)

    def _first_unsynced(self) -> int | None:
        """The first input taken, other than this file, whose claims may still reach the
        queue: a checked file of a run not ended, not synced yet."""
        row = self.db.execute(
            "SELECT MIN(i.id) AS first FROM inputs i JOIN runs r ON r.run_id = i.run_id "
            "WHERE r.state = 'running' AND i.id != ? AND i.state != 'abandoned' AND "
            "(i.outcome IS NULL OR i.outcome IN ('ok', 'findings')) AND i.id NOT IN "
            "(SELECT input_id FROM queue_inputs)", (self.step.input_id,)).fetchone()
        return row["first"] if row else None

    def apply(self) -> None:
        """Once the file's claims are applied: its holds resolved by later files' claims,
        its own claims kept if needed, and what no unsynced file can need deleted."""
        step = self.step
        if step.held:
            self._resolve_held()
        if step.resolving:
            step.keep_resolving()
        if self.first is None:
            self.db.execute("DELETE FROM queue_later")
        else:
            self.db.execute("DELETE FROM queue_later WHERE input_id < ?", (self.first,))

    def _resolve_held(self) -> None:
        """This file's holds, by the claims of files taken after it and synced before."""
        step = self.step
        later = [(row["input_id"], row["run_id"], row["file"], json.loads(row["fact"]))
                 for row in self.db.execute(
                     "SELECT * FROM queue_later WHERE input_id > ? ORDER BY input_id",
                     (step.input_id,)).fetchall()]
        if not later:
            return
        for row_id in dict.fromkeys(step.held):
            entry = self.db.execute("SELECT * FROM queue_claims WHERE id = ?",
                                    (row_id,)).fetchone()
            if entry is None or entry["status"] != OPEN:
                continue
            hold = step.hold_input(entry) or step.input_id
            own = {r["service"] for r in self.db.execute(
                "SELECT service FROM queue_services WHERE claim = ?", (row_id,))}
            for input_id, run_id, file, fact in later:
                how = _resolves(entry, own, fact) if input_id > hold else None
                if how is not None:
                    status = VOIDED if how == "void" else RESOLVED
                    step.resolve_by(row_id, status, how, run_id, file)
                    break


def _resolves(entry: dict, own: set[str], fact: dict) -> str | None:
    """How a claim of a later file resolves the held claim ``entry`` (its services
    ``own``), as :meth:`_Apply.claim` would have, or None."""
    same = (fact["claim_id"], fact["payer_id"], fact["billing_npi"]) == \
        (entry["claim_id"], entry["payer_id"], entry["billing_npi"]) and \
        (fact["patient"] == entry["patient"] or "" in (fact["patient"], entry["patient"]))
    if fact.get("frequency") == VOID:
        return "void" if same else None
    if fact["held"]:
        return None
    if same:
        return "replacement" if fact.get("frequency") == REPLACEMENT else "clean"
    if fact.get("frequency") != REPLACEMENT and own and own <= set(fact["services"] or ()):
        return "resend"
    return None


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
        later = _Later(step) if input_id is not None else None
        for claim in claims:
            step.claim(claim)
        if later is not None:
            later.apply()
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
