"""Reading the work queue: entries with their age, filters, totals and groups.

What ``edi837 queue list|show|export`` print and what the batch summary shows
come from here, so they agree.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterator

from .store import OPEN, age_days, cents, dict_row, has_queue

AGE_BUCKETS = ((0, 0, "today"), (1, 7, "1-7 days"), (8, 30, "8-30 days"),
               (31, 90, "31-90 days"), (91, None, "over 90 days"))


@dataclass(frozen=True)
class Filters:
    """The same filters as the HTML work list; all given ones must hold."""

    payer: str | None = None
    rule: str | None = None
    npi: str | None = None
    submitter: str | None = None
    file: str | None = None
    claim: str | None = None
    min_age: int | None = None
    all: bool = False  # resolved, voided and closed entries too
    resolved_by_run: str | None = None  # only those this run resolved

    def where(self) -> tuple[str, list]:
        parts, values = [], []
        if not self.all:
            parts.append("status = ?")
            values.append(OPEN)
        for column, value in (("payer_id", self.payer), ("billing_npi", self.npi),
                              ("submitter", self.submitter), ("claim_id", self.claim),
                              ("resolved_by_run", self.resolved_by_run)):
            if value is not None:
                parts.append(f"{column} = ?")
                values.append(value)
        if self.file is not None:
            parts.append("(first_file = ? OR last_file = ?)")
            values += [self.file, self.file]
        if self.rule is not None:
            parts.append("EXISTS (SELECT 1 FROM json_each(queue_claims.rules) "
                         "WHERE json_each.value = ?)")
            values.append(self.rule)
        return (" WHERE " + " AND ".join(parts)) if parts else "", values


def _query(db: sqlite3.Connection, sql: str, values) -> Iterator[dict]:
    """Rows as dicts whatever the connection's row factory (the ledger has its own)."""
    cursor = db.cursor()
    cursor.row_factory = None
    cursor.execute(sql, values)
    for row in cursor:
        yield dict_row(cursor, row)


def entries(db: sqlite3.Connection, filters: Filters = Filters(), *,
            as_of: date | None = None) -> list[dict]:
    """Queue entries matching ``filters``, oldest first, then the largest charge;
    each with ``age_days`` (to ``as_of``, default today) and its rules as a list."""
    if not has_queue(db):
        return []
    where, values = filters.where()
    found = []
    for entry in _query(db, f"SELECT * FROM queue_claims{where} ORDER BY first_run, id",
                        values):
        entry["rules"] = json.loads(entry["rules"] or "[]")
        entry["age_days"] = age_days(entry["first_night"], as_of)
        if filters.min_age is not None and entry["age_days"] < filters.min_age:
            continue
        found.append(entry)
    found.sort(key=lambda e: (-e["age_days"], -cents(e["charge"]), e["id"]))
    return found


def notes(db: sqlite3.Connection, row_id: int) -> list[dict]:
    return list(_query(db, "SELECT at, text FROM queue_notes WHERE claim = ? ORDER BY id",
                       (row_id,)))


def contract(entry: dict, *, with_status: bool) -> dict:
    """An entry as ``queue list --format json`` prints it (one object a line)."""
    out = {"claim_id": entry["claim_id"], "payer_id": entry["payer_id"],
           "billing_npi": entry["billing_npi"], "charge": float(cents(entry["charge"])),
           "rules": entry["rules"], "first_run": entry["first_run"],
           "age_days": entry["age_days"], "resubmissions": entry["resubmissions"]}
    if with_status:
        out["status"] = entry["status"]
        out["resolved_by_run"] = entry["resolved_by_run"]
    return out


def totals(found: list[dict]) -> dict:
    """Claims and dollars of a list of entries."""
    return {"claims": len(found), "charges": sum((cents(e["charge"]) for e in found),
                                                 Decimal(0))}


def groups(found: list[dict]) -> dict:
    """Open entries by payer, billing provider, submitter, rule and age bucket:
    claims and dollars each (a claim held by two rules counts under both)."""
    out: dict[str, dict] = {"payer": {}, "provider": {}, "submitter": {}, "rule": {},
                            "age": {}}

    def add(kind: str, key: str, entry: dict, name: str = "") -> None:
        slot = out[kind].setdefault(key, {"key": key, "name": name, "claims": 0,
                                          "charges": Decimal(0)})
        slot["claims"] += 1
        slot["charges"] += cents(entry["charge"])

    for entry in found:
        add("payer", entry["payer_id"], entry, entry["payer_name"] or "")
        add("provider", entry["billing_npi"], entry)
        add("submitter", entry["submitter"] or "", entry, entry["submitter_name"] or "")
        for rule in entry["rules"]:
            add("rule", rule, entry)
        add("age", bucket(entry["age_days"]), entry)
    order = {label: n for n, (_, _, label) in enumerate(AGE_BUCKETS)}
    result = {}
    for kind, slots in out.items():
        rows = list(slots.values())
        if kind == "age":
            rows.sort(key=lambda s: order[s["key"]])
        else:
            rows.sort(key=lambda s: (-s["charges"], s["key"]))
        result[kind] = rows
    return result


def bucket(age: int) -> str:
    for low, high, label in AGE_BUCKETS:
        if age >= low and (high is None or age <= high):
            return label
    return AGE_BUCKETS[-1][2]


def unknown_values(db: sqlite3.Connection, filters: Filters) -> list[str]:
    """The --payer/--npi/--submitter values no claim of the queue has ever had (open or
    not): a typo, most likely (`queue list` says so beside its empty list), each with
    a few of the values the queue has that start alike or, failing that, any."""
    said = []
    for column, value, what in (("payer_id", filters.payer, "payer id"),
                                ("billing_npi", filters.npi, "billing NPI"),
                                ("submitter", filters.submitter, "submitter")):
        if value is None or next(_query(db, f"SELECT 1 FROM queue_claims WHERE {column} = ? "
                                            "LIMIT 1", [value]), None) is not None:
            continue
        known = [row[column] for row in _query(
            db, f"SELECT DISTINCT {column} FROM queue_claims WHERE {column} IS NOT NULL "
                f"ORDER BY {column}", [])]
        alike = [k for k in known if k.startswith(value[:3])] or known
        shown = ", ".join(alike[:6]) + (", ..." if len(alike) > 6 else "")
        said.append(f"no claim in the queue (open or closed) has {what} {value}"
                    + (f"; it has {shown}" if shown else "; it is empty"))
    return said
