"""Steps 4-7 of an input: record its outcome, then reason file, move, marker, done.

Only the batch process runs these (never a worker), one input at a time, so
each step is durable before the next begins (see ``ledger``).  ``complete``
is idempotent: recovery calls it again for inputs a killed run had recorded
but not finished.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import sqlite3
from pathlib import Path
from typing import Callable

from ..files import atomic_output
from . import durable
from .inbox import REASON_SUFFIX, NotAnInput, hash_input, open_input
from .ledger import FILES_DIR, FINDINGS, OK, QUARANTINED, Ledger
from .names import fitting, shown
from .options import BatchOptions
from .run import Job
from .summary import describe

log = logging.getLogger("edi837.batch")


def reason_path(destination: Path) -> Path:
    """``<name>.reason.txt`` beside a quarantined file, shortened if the name is long."""
    return destination.parent / fitting(destination.name, REASON_SUFFIX)


class Archiver:
    def __init__(self, ledger: Ledger, options: BatchOptions) -> None:
        self.ledger = ledger
        self.options = options
        self.trouble = False  # an input could not be moved: exit status 2

    def record(self, job: Job, row_id: int, outcome: dict, run_id: str,
               run_dir: Path) -> dict | None:
        """Step 4 for a checked file: its outcome, counts, outputs and destination.
        None when the file changed while being checked: its outputs are removed
        and its row forgotten, so the next run takes it as new."""
        options = self.options
        if outcome.get("changed"):
            shutil.rmtree(job.out_dir, ignore_errors=True)
            self.ledger.forget(row_id)
            log.warning("%s: changed while being checked; left for a later run",
                        shown(job.name))
            return None
        quarantine = outcome["quarantine"]
        root = options.quarantine_dir if quarantine else options.archive_dir
        destination = root / run_id / job.name
        reason = None
        if quarantine:
            reason = (f"edi837 batch put this file in quarantine.\n\n"
                      f"File:     {shown(job.name)}\nFrom:     {shown(job.path)}\n"
                      f"SHA-256:  {job.sha256}\nRun:      {run_id}\n"
                      f"Reports:  {shown(str(run_dir / FILES_DIR / job.name))}\n"
                      f"\nWhy:\n{outcome['reason']}\n\n"
                      "What to do: ask the sender for a complete, readable file and drop it "
                      "into the inbox.  (Quarantined content is examined again if the same "
                      "bytes are dropped again, for example after an edi837 upgrade.)\n")
        facts = {key: outcome.get(key) for key in ("claims", "drug_lines", "errors",
                                                   "warnings", "infos", "problem")}
        if outcome.get("size") is not None:
            facts["size"] = outcome["size"]
        if quarantine:
            verdict = QUARANTINED
        else:
            verdict = FINDINGS if outcome["status"] != "ok" else OK
        self.ledger.report(row_id, outcome=verdict, rules=json.dumps(outcome.get("rules", {})),
                           outputs=json.dumps(outcome.get("outputs", [])),
                           destination=str(destination), reason=reason, **facts)
        durable.checkpoint("reported")
        row = self.ledger.row(row_id)
        if quarantine:
            log.warning("%s: quarantined (%s); reason in %s", shown(job.name),
                        outcome["log_reason"], shown(str(reason_path(destination))))
        else:
            log.info("%s: %s; archived", shown(job.name), describe(row))
        if outcome.get("problem"):
            log.error("%s: %s", shown(job.name), outcome["log_problem"])
        return row

    def complete(self, row: dict, *, verify: bool,
                 also: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """Steps 5-7, idempotent: reason file, move, marker, done.  ``verify``: hash
        the source first (recovery: it may have been replaced since).  ``also`` is
        passed to :meth:`Ledger.done`: rows written in the done transaction."""
        source, destination = Path(row["source"]), Path(row["destination"])
        if row["outcome"] == QUARANTINED and row["reason"]:
            with atomic_output(reason_path(destination)) as out:
                out.write(row["reason"])
            durable.checkpoint("reason-written")
        problem = None
        try:
            source_ours = os.path.lexists(source) and (
                not verify or _sha256_of(source, row["size"]) == row["sha256"])
            if os.path.lexists(destination):
                if source_ours:
                    if _sha256_of(destination, row["size"]) == row["sha256"]:  # a finished copy
                        os.unlink(source)
                        durable.fsync_dir(source.parent)
                    else:
                        problem = (f"{shown(str(destination))} already exists; input left "
                                   "in the inbox")
            elif source_ours:
                durable.move_file(source, destination)
            elif os.path.lexists(source):
                problem = ("the input was replaced by another file of the same name before it "
                           "was archived; the new file is left in the inbox")
            else:
                problem = "the input disappeared from the inbox before it was archived"
        except OSError as exc:
            # e.g. no permission to remove from the inbox: the row stays 'reported'
            # and every later start tries again
            log.error("%s: cannot move to %s: %s", shown(row["name"]), shown(str(destination)),
                      exc.strerror or type(exc).__name__)
            self.trouble = True
            return
        durable.checkpoint("moved")
        if problem:
            log.error("%s: %s", shown(row["name"]), problem)
            self.ledger.note_problem(row["id"], problem)
        if row["marker"]:
            self._remove_marker(row)
        self.ledger.done(row["id"], also=also)
        durable.checkpoint("done")

    def _remove_marker(self, row: dict) -> None:
        """The marker of a file now archived.  Only a file or a link is removed: a
        folder of that name is left, and said so, never a reason to stop."""
        marker = row["marker"]
        try:
            st = os.lstat(marker)
            if stat.S_ISDIR(st.st_mode):
                log.warning("%s: its marker %s is a folder; left in place", shown(row["name"]),
                            shown(os.path.basename(marker)))
                return
            os.unlink(marker)
            durable.fsync_dir(Path(marker).parent)
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("%s: cannot remove its marker %s: %s", shown(row["name"]),
                      shown(os.path.basename(marker)), exc.strerror or type(exc).__name__)
            return
        durable.checkpoint("marker-removed")


def _sha256_of(path: Path, size: int) -> str | None:
    """Hash of a regular file no larger than ``size`` bytes, or None."""
    try:
        fd = open_input(path)[0]
    except (OSError, NotAnInput):
        return None
    try:
        return hash_input(fd, max_size=size)
    except NotAnInput:
        return None
    finally:
        os.close(fd)
