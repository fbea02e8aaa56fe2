"""Feeding the batch's checked files to the work queue, once each, in the order
they were taken.

Called before a run's summary is written (also for a run that recovery
closes): every input of the run that is done and was checked, and not yet
seen by the queue, has its ``queue.jsonl`` applied, in one transaction with
the row that says it was (``queue_inputs``), so a kill at any moment neither
loses a file's claims nor counts them twice.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..queue.facts import QUEUE_FILE, read_facts
from ..queue.store import OpenIndex, apply_file
from .ledger import DONE, DONE_CONTENT, FILES_DIR, Ledger
from .names import as_text

log = logging.getLogger("edi837.batch")


def sync_run(ledger: Ledger, run_id: str, out: Path) -> dict:
    """Apply the run's done, checked inputs to the queue; the counts of what changed."""
    counts = {"opened": 0, "resubmitted": 0, "resolved": 0, "voided": 0}
    index = None
    rows = ledger.db.execute(
        "SELECT id, name, sha256 FROM inputs WHERE run_id = ? AND state = ? "
        "AND outcome IN (?, ?) AND id NOT IN (SELECT input_id FROM queue_inputs) "
        "ORDER BY id", (run_id, DONE, *DONE_CONTENT)).fetchall()
    for row in rows:
        path = out / run_id / FILES_DIR / row["name"] / QUEUE_FILE
        with ledger.transaction() as db:
            seen = [0]
            if path.exists():
                # read once for the run's files; a shared ledger's other hosts may have
                # changed the queue since: read in this file's transaction (its lock)
                index = OpenIndex(db) if index is None or ledger.shared else index
                for key, n in apply_file(db, _counted(read_facts(path), seen), run_id=run_id,
                                         file=as_text(row["name"]),
                                         sha256=row["sha256"], index=index,
                                         input_id=row["id"]).items():
                    counts[key] += n
            db.execute("INSERT INTO queue_inputs (input_id, run_id, claims) VALUES (?, ?, ?)",
                       (row["id"], run_id, seen[0]))
    if any(counts.values()):
        log.info("run %s: work queue: %d opened, %d resubmitted, %d resolved, %d voided",
                 run_id, counts["opened"], counts["resubmitted"], counts["resolved"],
                 counts["voided"])
    return counts


def _counted(items, seen: list[int]):
    for item in items:
        seen[0] += 1
        yield item
