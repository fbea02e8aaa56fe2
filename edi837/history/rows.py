"""The history store's tables and its row: what one drug line of a forwarded claim
keeps (edi837.history.store reads and writes them, on SQLite or, through
edi837.history.pg, PostgreSQL)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import units_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS history_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history_files (
    id      INTEGER PRIMARY KEY,
    sha256  TEXT NOT NULL,          -- the input file's content
    run_id  TEXT NOT NULL,
    added   TEXT NOT NULL,
    holder  TEXT                    -- the batch whose outcome of it is not recorded yet
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
    file               INTEGER NOT NULL REFERENCES history_files(id),
    removed_by         INTEGER            -- taken out by a void or replacement in this file
);
CREATE INDEX IF NOT EXISTS history_by_patient ON history_lines(patient, hcpcs, service_date);
CREATE INDEX IF NOT EXISTS history_files_by_sha256 ON history_files(sha256);
"""

PENDING = "pending"  # a file's SHA-256 (history_files) until the file has been read to its end

INSERT = ("INSERT INTO history_lines (patient, service_date, hcpcs, units, modifiers, ndc, "
          "billing_npi, payer_id, responsibility, claim_id, frequency, original_reference, "
          "duplicate, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
COLUMNS = ("id, patient, service_date, hcpcs, units, modifiers, ndc, billing_npi, payer_id, "
            "responsibility, claim_id, frequency, duplicate, file")


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


def row_from(values) -> Row:
    (id_, patient, date, hcpcs, units, modifiers, ndc, npi, payer, responsibility, claim_id,
     frequency, duplicate, _) = values  # (the file: edi837.history.store's origin())
    amount = units_of(units)
    return Row(id_, patient, date, hcpcs, amount, tuple(modifiers.split()), ndc, npi, payer,
               responsibility, claim_id, frequency, bool(duplicate))
