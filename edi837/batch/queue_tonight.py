"""The run's own claims with warnings and no error, for the morning page.

The work queue holds the claims a run held (an error finding); the morning
page also lists, beside them, the claims of this run's files whose worst
finding is a warning, as the per-file HTML report does, so the run's work
list is whole.  They are read back from each checked file's ``queue.jsonl``
(``edi837.queue.facts``: ``warnings``), and are not held: the page keeps
their dollars apart from the held ones.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ..queue.facts import QUEUE_FILE, read_facts
from ..queue.store import cents, night_of
from ..queue.view import bucket
from .ledger import DONE, DONE_CONTENT, FILES_DIR
from .names import as_text

WARNED_LIMIT = 40_000  # claims with warnings the page carries (as the per-file report)


def warned_claims(db, run_id: str, directory: Path) -> tuple[list[dict], int, Decimal]:
    """This run's claims with warnings and no error, in the order the files were
    taken (at most :data:`WARNED_LIMIT`), how many there were in all and their
    charges (CLM02) in all.
    ``directory``: the run's folder (OUTDIR/<run-id>)."""
    rows = db.execute("SELECT name FROM inputs WHERE run_id = ? AND state = ? AND outcome "
                      "IN (?, ?) ORDER BY id", (run_id, DONE, *DONE_CONTENT)).fetchall()
    night, found, total, charges = night_of(run_id), [], 0, Decimal(0)
    for row in rows:
        path = Path(directory) / FILES_DIR / row["name"] / QUEUE_FILE
        if not path.exists():
            continue
        name = as_text(row["name"])
        for fact in read_facts(path):
            if fact["held"] or not fact.get("warnings"):
                continue
            total += 1
            charges += cents(fact["charge"])
            if len(found) >= WARNED_LIMIT:
                continue
            found.append({
                "claim_id": fact["claim_id"], "payer_id": fact["payer_id"],
                "billing_npi": fact["billing_npi"], "charge": float(cents(fact["charge"])),
                "rules": fact["warnings"], "first_run": run_id, "age_days": 0,
                "resubmissions": 0, "payer_name": fact["payer_name"] or "",
                "submitter": fact.get("submitter") or "",
                "submitter_name": fact.get("submitter_name") or "", "first_night": night,
                "first_file": name, "last_file": name, "age": bucket(0), "new": False,
                "tonight": True, "severity": "warning"})
    return found, total, charges
