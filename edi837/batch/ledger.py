"""The run ledger, the order of operations it records, and recovery.

``OUTDIR/ledger.sqlite3`` (stdlib sqlite3, WAL with synchronous=FULL, each
statement its own transaction unless a step needs several; keep OUTDIR on a
local disk, as SQLite needs) has one row per input taken, keyed by the
SHA-256 of its content, with its run, name, outcome, counts, outputs and
destination.  Content already done with outcome ok or findings is not
checked again, whatever its name: a copy dropped again is archived as a
``duplicate`` with no new reports, unless ``reprocess``.  Quarantined
content is not remembered that way: the same bytes dropped again are
examined again (perhaps by a newer edi837).

Order of operations, and why it survives SIGKILL at any moment
--------------------------------------------------------------
For each input, in this order (a later step never starts before the earlier
one is durable):

1. hash the settled file; skip or archive it as a duplicate;
2. ledger row ``processing`` (hash, run, name, source path) is committed
   *before* any output exists;
3. every output is written to a temporary name beside its target, fsynced
   and renamed (``files.atomic_output``), then its directory is fsynced;
   all of one input's outputs live in ``OUTDIR/<run-id>/files/<name>/``;
4. ledger row ``reported``: outcome, counts, outputs, destination (archive or
   quarantine path, chosen now and never again) and quarantine reason;
5. quarantine only: ``<name>.reason.txt`` written atomically at the destination;
6. the input is moved to its destination, only if it still holds the bytes
   that were checked (``archive``): one atomic rename on the same file
   system; across file systems a copy to a temporary name, fsync, rename,
   and only then the source is removed; directories are fsynced.  Then the
   marker file, if any, is removed;
7. ledger row ``done``.

A run has a row ``running`` before its first input is taken; after its last
input is done its summary is written (atomically) and the run is marked
``finished`` (``stopped`` when a signal ended it early).

Every start takes the locks (``locks``), then repairs what a killed run left
(:func:`recover`), before it looks at the inbox:

* rows still ``processing`` were killed between steps 2 and 4: their outputs
  may be incomplete, but the input has not moved (step 6 comes after step 4).
  The output directory is deleted and the row removed: the input is taken
  again as new.  So an output directory exists only for inputs whose
  outcome is recorded, and no report is ever finished from a half-run.
* rows ``reported`` were killed between steps 4 and 7: their outputs are
  complete (step 3 was durable before step 4 was committed), and steps 5-7
  are redone from the recorded facts, each idempotent: the reason file is
  written again; if the destination exists the move has happened (a rename
  is atomic and a cross-device copy is renamed into place only when
  complete), so a source still present with the same hash is the leftover of
  a copy and is removed; otherwise the source is moved; the marker is
  removed; the row is marked done.
* runs still ``running`` died: temporary files under their directories are
  removed (only this process can be writing, it holds the lock); each gets
  its summary (the problems of one the run wrote on its fault kept), with
  status ``interrupted`` and exit status 2, a run with no input left too
  (only its empty archive and quarantine folders are removed).

Hence, however often runs are killed and restarted: an input leaves the inbox
only after its outcome and complete outputs are recorded (no input lost), its
content has exactly one checked ``done`` row and one output directory, each
input one archived or quarantined copy (processed exactly once), and every
file in OUTDIR is either complete or a temporary name that the next start
deletes (no partial output).  The fsyncs make the same hold after a power cut.
An error while writing (disk full) stops the batch the same way a kill does.

A ledger shared by several batch hosts (``--ledger postgresql://...``)
--------------------------------------------------------------------
Each host has its own inbox and OUTDIR; every run and input row names its
``owner`` (``ledger_db.owner_of``), whose session lock the batch holds while
it runs.  Steps 1-2 are one transaction in the ledger's write lock
(:meth:`Ledger.claim`), so one host checks a content and the others find it
busy (left in their inbox) or done (a duplicate).  Recovery repairs the
host's own rows only; another host's ``processing`` row whose owner is gone
is ``abandoned`` by the next claim of its content (with its history), and
its owner's next start removes its outputs as for ``processing``.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..dbfiles import DatabaseRefused, write_transaction
from ..history.holders import finish_file
from . import durable
from .ledger_db import LEDGER_NAME, open_ledger, owner_of
from .names import from_db, shown, to_db, to_text_db
from .options import EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, BatchError, BatchOptions

FILES_DIR = "files"  # OUTDIR/<run-id>/files/<name>/ holds one input's outputs

# ledger states of an input (see the module docstring for the order)
PROCESSING, REPORTED, DONE = "processing", "reported", "done"
ABANDONED = "abandoned"  # processing when its batch died; another host took the content
# outcomes
OK, FINDINGS, QUARANTINED, DUPLICATE = "ok", "findings", "quarantined", "duplicate"
DONE_CONTENT = (OK, FINDINGS)  # outcomes whose content is not checked again
# run states
RUNNING, FINISHED, STOPPED, INTERRUPTED = "running", "finished", "stopped", "interrupted"

log = logging.getLogger("edi837.batch")

def _row(cursor: sqlite3.Cursor, values: tuple) -> dict:
    """A row as a dict, names stored as bytes (not UTF-8) given back as the file
    system's names (``names.to_db``)."""
    return {column[0]: from_db(value)
            for column, value in zip(cursor.description, values, strict=True)}


@contextmanager
def _transaction(db: sqlite3.Connection, where: str) -> Iterator[sqlite3.Connection]:
    """The ledger's write lock (waited for), then a transaction."""
    try:
        with write_transaction(db, where, waiting=log.warning):
            yield db
    except DatabaseRefused as exc:
        raise BatchError(str(exc)) from None


WORK_DIR = ".work"  # OUTDIR/<run-id>/.work: what a file's check hands to its reports


@dataclass(frozen=True)
class Claim:
    """What :meth:`Ledger.claim` made of a file's content: a row taken (``row_id``;
    with ``original``, a duplicate of that row), or ``busy``: another input of the
    same content is not finished (``why``), and nothing was written."""

    row_id: int | None = None
    original: dict | None = None
    busy: dict | None = None
    why: str = ""


class Ledger:
    """The run ledger.  Autocommit: each statement is a durable transaction;
    :meth:`transaction` groups several into one.  Rows are dicts.  A name or
    path that is not UTF-8 is stored as its bytes (SQLite text must be UTF-8)."""

    def __init__(self, target, *, owner: str | None = None) -> None:
        """Open (or create) the ledger at ``target`` (a SQLite path, or a postgresql://
        URL shared by several batch hosts); a database of something else, or of a
        newer edi837, is refused untouched (BatchError), as is one that cannot be
        written.  ``owner``: this batch's name among the hosts of a shared ledger."""
        self.history = None  # the patient history (edi837.history.HistoryStore), if any
        self.db, self.where, self.shared = open_ledger(target)
        self._to_db = to_text_db if self.shared else to_db  # a name that is not UTF-8
        self.owner = owner
        if self.shared and owner is not None and not self.db.hold(owner):
            self.db.close()
            raise BatchError(f"{self.where}: another edi837 batch of the same OUTDIR "
                             f"({owner}) is using this ledger; not starting a second one")
        self.db.row_factory = _row

    @classmethod
    def for_batch(cls, options: BatchOptions) -> "Ledger":
        """The ledger of a batch: ``--ledger URL`` (its owner's name kept in OUTDIR),
        or OUTDIR's own file (one owner, named for the rows only)."""
        if options.ledger:
            return cls(options.ledger, owner=owner_of(options.out))
        return cls(options.out / LEDGER_NAME, owner=f"{socket.gethostname()}:{options.out}")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements on the yielded connection commit together, or not at all."""
        with _transaction(self.db, self.where) as db:
            yield db

    def _mine(self) -> tuple[str, tuple]:
        """A condition on rows this batch took (on a shared ledger; every row on
        OUTDIR's own file, whatever its owner)."""
        if not self.shared:
            return "1 = 1", ()
        return "(owner = ? OR owner IS NULL)", (self.owner,)

    # runs
    def begin_run(self, run_id: str) -> bool:
        """Record the run; False when ``run_id`` is taken (another host of a shared
        ledger began a run in the same microsecond): the caller draws another."""
        return self.db.execute("INSERT INTO runs (run_id, state, started, pid, owner) "
                               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING",
                               (run_id, RUNNING, durable.now(), os.getpid(),
                                self.owner)).rowcount == 1

    def end_run(self, run_id: str, state: str, exit_status: int) -> None:
        self.db.execute("UPDATE runs SET state = ?, finished = ?, exit_status = ? "
                        "WHERE run_id = ?", (state, durable.now(), exit_status, run_id))

    def run(self, run_id: str) -> dict:
        return self.db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()

    def runs_in_state(self, state: str) -> list[dict]:
        """This batch's runs in ``state`` (on a shared ledger, other hosts' are theirs)."""
        mine, owner = self._mine()
        return self.db.execute(f"SELECT * FROM runs WHERE state = ? AND {mine} "
                               "ORDER BY run_id", (state, *owner)).fetchall()

    def unreported(self) -> list[str]:
        """This batch's interrupted runs that ended after its last run that ended
        itself: their own status (a quarantine: 2) is not said yet by a run of theirs,
        so the next run's status takes it in (through repeated kills too)."""
        mine, owner = self._mine()
        return [row["run_id"] for row in self.db.execute(
            f"SELECT run_id FROM runs WHERE state = ? AND {mine} AND finished > COALESCE("
            f"(SELECT MAX(finished) FROM runs WHERE state IN (?, ?) AND {mine}), '') "
            "ORDER BY run_id", (INTERRUPTED, *owner, FINISHED, STOPPED, *owner))]

    # inputs
    def take(self, *, sha256: str, run_id: str, name: str, source: Path, size: int,
             marker: str | None, state: str = PROCESSING, **facts) -> int:
        columns = {"sha256": sha256, "run_id": run_id, "name": name, "source": str(source),
                   "size": size, "marker": marker, "state": state, "started": durable.now(),
                   "owner": self.owner, **facts}
        cursor = self.db.execute(
            f"INSERT INTO inputs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            tuple(map(self._to_db, columns.values())))
        return cursor.lastrowid

    def report(self, row_id: int, **facts) -> None:
        """Step 4; the file's history lines count for other batches from now on (in
        the same transaction when the history lives in the ledger)."""
        facts["state"] = REPORTED
        sets = ", ".join(f"{column} = ?" for column in facts)
        with self.transaction() as db:
            db.execute(f"UPDATE inputs SET {sets} WHERE id = ?",
                       (*map(self._to_db, facts.values()), row_id))
            row = self.row(row_id)
            if self.history is not None and self.history.db is self.db:
                finish_file(self.history, row["sha256"], row["run_id"])
        self.finish_history(row)

    def finish_history(self, row: dict) -> None:
        """A reported file's lines in a history of its own count for other batches
        (after step 4: a batch killed in between holds them until its next start,
        which finishes them in :func:`recover`; meanwhile others do not see them)."""
        history = self.history
        if history is not None and history.db is not self.db:
            durable.checkpoint("reported-in-ledger")
            with history.transaction():
                finish_file(history, row["sha256"], row["run_id"])

    def note_problem(self, row_id: int, problem: str | None, *, moved: bool = True) -> None:
        """A problem with an input (exit status 2); ``moved=False``: the checked
        bytes are not at the recorded destination, which is cleared."""
        self.db.execute("UPDATE inputs SET problem = ?, destination = "
                        "CASE WHEN ? THEN destination END WHERE id = ?",
                        (self._to_db(problem), moved, row_id))

    def done(self, row_id: int, *,
             also: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """Mark an input done (step 7).  ``also(db)`` may write more rows through
        ``db`` (e.g. a patient-history store in this file): they are committed in
        the same transaction, so they exist exactly when the input is done.
        Recovery finishes inputs recorded before a crash without their worker's
        result: rows made from that result must be rebuilt (from the reports) or
        stored with step 4 for recovery to pass them on."""
        with self.transaction() as db:
            db.execute("UPDATE inputs SET state = ?, finished = ? WHERE id = ?",
                       (DONE, durable.now(), row_id))
            if also is not None:
                also(db)

    def forget(self, row_id: int) -> None:
        """Forget an input that will be taken again, and what its check added to the
        patient history (:attr:`history`), so the file never counts twice."""
        history = self.history
        if history is None:
            self.db.execute("DELETE FROM inputs WHERE id = ?", (row_id,))
            return
        row = self.row(row_id)
        if history.db is not self.db:  # a store of its own: undone first, then forgotten
            if row is not None:
                with history.transaction():
                    history.undo_file(row["sha256"], row["run_id"])
            self.db.execute("DELETE FROM inputs WHERE id = ?", (row_id,))
            return
        with self.transaction() as db:
            if row is not None:
                history.undo_file(row["sha256"], row["run_id"])
            db.execute("DELETE FROM inputs WHERE id = ?", (row_id,))

    def row(self, row_id: int) -> dict:
        return self.db.execute("SELECT * FROM inputs WHERE id = ?", (row_id,)).fetchone()

    def done_content(self, sha256: str) -> dict | None:
        """The input that processed this content, if any: done, or (on a shared
        ledger) checked and reported by another host, which finishes it."""
        found = self.db.execute(
            "SELECT * FROM inputs WHERE sha256 = ? AND state = ? AND outcome IN (?, ?) "
            "ORDER BY id LIMIT 1", (sha256, DONE, *DONE_CONTENT)).fetchone()
        if found is None and self.shared:
            found = self.db.execute(
                "SELECT * FROM inputs WHERE sha256 = ? AND state = ? AND outcome IN (?, ?) "
                "AND owner != ? ORDER BY id LIMIT 1",
                (sha256, REPORTED, *DONE_CONTENT, self.owner)).fetchone()
        return found

    def unfinished_content(self, sha256: str) -> dict | None:
        """An input of this content not finished (it holds the content back), if any.
        On a shared ledger another host's input counts while that host is alive,
        and its reported outcome of checked content not at all (``done_content``)."""
        for row in self.db.execute("SELECT * FROM inputs WHERE sha256 = ? AND state NOT IN "
                                   "(?, ?) ORDER BY id", (sha256, DONE, ABANDONED)).fetchall():
            if not self.shared or row["owner"] in (None, self.owner):
                return row
            if row["state"] == REPORTED and row["outcome"] in DONE_CONTENT:
                continue
            if self.db.alive(row["owner"]):
                return row
        return None

    def why_busy(self, row: dict) -> str:
        if self.shared and row["owner"] not in (None, self.owner):
            return (f"another batch ({row['owner']}) is checking the same content; "
                    "taken by the next run here, as a duplicate, when it is done")
        return "same content as an input whose archiving is not finished"

    def claim(self, *, sha256: str, run_id: str, name: str, source: Path, size: int,
              marker: str | None, duplicate_to: Path | None) -> Claim:
        """Steps 1-2 of a file whose content is ``sha256``, in one transaction in the
        ledger's write lock (several batch hosts may claim the same content at once:
        one checks it, the others find it busy or done).  ``duplicate_to``: where a
        copy of content done before is archived (None: check it again, reprocess).

        An input of a host that died while checking it (``processing``, its
        owner's session gone) is abandoned here, with what its check added to the
        patient history: the ledger is as if that run had stopped before the file;
        that host's next start removes its outputs (``recover``)."""
        history = self.history
        if self.shared and history is not None and history.db is not self.db:
            # a store of its own: undone first, outside the ledger's lock (two locks
            # never held together); undoing again, by anyone, finds nothing
            for row in self._dead(sha256):
                with history.transaction():
                    history.undo_file(row["sha256"], row["run_id"])
        with self.transaction():
            busy = self.unfinished_content(sha256)
            if busy is not None:
                return Claim(busy=busy, why=self.why_busy(busy))
            if self.shared:
                self._abandon_dead(sha256)
            original = self.done_content(sha256) if duplicate_to is not None else None
            if original is not None:
                row_id = self.take(sha256=sha256, run_id=run_id, name=name, source=source,
                                   size=size, marker=marker, state=REPORTED,
                                   outcome=DUPLICATE, destination=str(duplicate_to),
                                   duplicate_of=original["id"])
                return Claim(row_id, original)
            return Claim(self.take(sha256=sha256, run_id=run_id, name=name, source=source,
                                   size=size, marker=marker))

    def _dead(self, sha256: str) -> list[dict]:
        """Other hosts' inputs of this content left ``processing`` by a dead batch."""
        rows = self.db.execute("SELECT * FROM inputs WHERE sha256 = ? AND state = ? AND "
                               "owner != ?", (sha256, PROCESSING, self.owner)).fetchall()
        return [row for row in rows if not self.db.alive(row["owner"])]

    def _abandon_dead(self, sha256: str) -> None:
        """Abandon :meth:`_dead` inputs, and what they added to a history kept in the
        ledger (in the caller's transaction)."""
        for row in self._dead(sha256):
            history = self.history
            if history is not None and history.db is self.db:
                history.undo_file(row["sha256"], row["run_id"])
            self.db.execute("UPDATE inputs SET state = ? WHERE id = ?", (ABANDONED, row["id"]))
            log.warning("%s of %s: its batch stopped while checking it; abandoned here "
                        "(that batch removes its outputs when it starts again)",
                        shown(row["name"]), row["owner"])

    def in_state(self, state: str) -> list[dict]:
        """This batch's inputs in ``state``."""
        mine, owner = self._mine()
        return self.db.execute(f"SELECT * FROM inputs WHERE state = ? AND {mine} ORDER BY id",
                               (state, *owner)).fetchall()

    def inputs_of(self, run_id: str) -> list[dict]:
        return self.db.execute("SELECT * FROM inputs WHERE run_id = ? ORDER BY name, id",
                               (run_id,)).fetchall()

    def exit_status(self, run_id: str, *, trouble: bool = False) -> int:
        """A run's exit status: 2 a file quarantined, a problem, or ``trouble`` (what
        the ledger does not hold: an entry skipped, a file that could not be read);
        1 an error finding, or a transaction set its 999 rejects (--ack277, as `ack`
        and `check --ack277` say it); 0 otherwise."""
        rows = self.inputs_of(run_id)
        if trouble or any(r["outcome"] == QUARANTINED or r["problem"] or r["state"] != DONE
                           for r in rows):
            return EXIT_TROUBLE
        if any((r["errors"] or 0) > 0 or json.loads(r["figures"] or "{}").get("sets_rejected")
               for r in rows if r["outcome"] in DONE_CONTENT):
            return EXIT_FINDINGS
        return EXIT_OK


def recover(ledger: Ledger, options: BatchOptions, *,
            complete: Callable[[dict], None],
            close_run: Callable[[str, int], None]) -> int:
    """Repair what a killed run left (see the module docstring).  ``complete(row)``
    redoes steps 5-7 of a ``reported`` row, checking the source's hash;
    ``close_run(run_id, status)`` writes an interrupted run's summary.  Returns
    the worst exit status of the runs it closed."""
    out, worst = options.out, EXIT_OK
    for row in ledger.in_state(PROCESSING) + ledger.in_state(ABANDONED):
        out_dir = out / row["run_id"] / FILES_DIR / row["name"]
        shutil.rmtree(out_dir, ignore_errors=True)
        if out_dir.exists():
            raise BatchError(f"cannot remove the unfinished outputs in {out_dir}")
        ledger.forget(row["id"])
        log.warning("recovery: %s was being checked by run %s when it stopped; "
                    "its outputs are removed and it will be checked again",
                    shown(row["name"]), row["run_id"])
    for row in ledger.in_state(REPORTED):
        log.warning("recovery: finishing %s of run %s (%s)", shown(row["name"]),
                    row["run_id"], row["outcome"])
        ledger.finish_history(row)
        complete(row)
    for run in ledger.runs_in_state(RUNNING):
        run_id = run["run_id"]
        shutil.rmtree(out / run_id / WORK_DIR, ignore_errors=True)  # handovers of its steps
        rows = ledger.inputs_of(run_id)
        dirs = {out / run_id, options.archive_dir / run_id, options.quarantine_dir / run_id}
        dirs.update(Path(r["destination"]).parent for r in rows if r["destination"])
        removed = sum(durable.remove_temps(d) for d in dirs)
        emptied = [] if rows else _remove_empty(dirs - {out / run_id}, run_id)
        durable.makedirs(out / run_id)  # (a run killed before it made its folder)
        status = ledger.exit_status(run_id, trouble=True)  # stopped early: exit status 2
        close_run(run_id, status)
        ledger.end_run(run_id, INTERRUPTED, status)
        # this start's own status takes the run's findings, not its stop: the killed
        # run is said in its summary, and every start after a crash is not a failure
        worst = max(worst, ledger.exit_status(run_id))
        log.warning("recovery: run %s was interrupted; %s, summary written (stopped "
                    "early, exit status 2)%s%s", run_id,
                    f"{len(rows)} files finished" if rows else "it finished no file",
                    f", {removed} temporary files removed" if removed else "",
                    "".join(f", its empty {shown(str(d))} removed" for d in emptied))
    return worst


def _remove_empty(dirs: set[Path], run_id: str) -> list[Path]:
    """The run's own folders among ``dirs`` (archive/<run-id>, quarantine/<run-id>) that
    hold nothing and that no input names: removed; the run's folder, with its summary,
    is kept.  Returns what was removed."""
    emptied = []
    for directory in sorted(dirs):
        if directory.name == run_id and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            emptied.append(directory)
    return emptied


def warn_if_ledger_lost(options: BatchOptions) -> str | None:
    """Say loudly when OUTDIR holds earlier runs but no ledger: a new ledger knows
    no content (files seen before are checked and archived again) and, when the
    history is kept in it, no patient.  Returns the problem, or None."""
    if options.ledger or (options.out / LEDGER_NAME).exists():
        return None  # (a shared ledger is not in OUTDIR)
    runs = [p for p in options.out.iterdir() if p.is_dir() and p.name[:1].isdigit()]
    kept = [d for d in (options.archive_dir, options.quarantine_dir)
            if d.is_dir() and any(d.iterdir())]
    if not (runs or kept):
        return None
    problem = (f"{shown(str(options.out))} holds {len(runs)} earlier run folders"
               f"{' and an archive or quarantine' if kept else ''} but no ledger {LEDGER_NAME} "
               "(deleted or moved?): a new, empty ledger was started; content processed "
               "before will be checked and archived again if it is dropped again"
               + ("" if options.history_path is not None or not options.history else
                  ", and the patient history kept in the ledger starts empty"))
    log.error("%s", problem)
    return problem


def iter_inputs(ledger_path: Path) -> Iterator[dict]:
    """Every ledger row as a dict (for tests and operators' scripts)."""
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
    db.row_factory = _row
    try:
        yield from db.execute("SELECT * FROM inputs ORDER BY id")
    finally:
        db.close()
