"""One run's files, from candidate to done (the batch driver's pipeline): take
(open, hash, record in the ledger), check (the executor), and handle each result in
the order the files were taken (record, move, done).  The driver (``driver``) owns
the run; this owns the files in hand."""
from __future__ import annotations

import logging
import shutil
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import durable
from .archive import Archiver, place_secured, secure_checked
from .executors import Executor, WorkerLost
from .history import BatchHistory
from .inbox import Changed, NotAnInput, Opened, Stopped, open_candidate
from .ledger import (
    FILES_DIR,
    WORK_DIR,
    Ledger,
)
from .names import shown
from .options import BatchOptions, StopFlag
from .run import Job, ReportJob

DEFER = "defer"  # a copy of content being checked right now: take it after that one
# files taken ahead of the oldest unfinished one, per worker slot: enough to keep
# every worker busy behind one large file, few enough to redo after a crash
LOOKAHEAD = 4
HELD_POLL = 0.1  # seconds between two tries of a file that waits for another batch

log = logging.getLogger("edi837.batch")


@dataclass
class Run:
    """One run of the batch: its id, folder, and what it left, skipped or met."""

    run_id: str
    directory: Path
    waiting: list[dict] = field(default_factory=list)  # left for a later run, and why
    skipped: list[dict] = field(default_factory=list)  # not read as they are, and why
    problems: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # said, the exit status unchanged
    stopped: bool = False


@dataclass
class _Taken:
    """A file taken in this run (ledger row written), with the descriptor it was
    hashed through, and its job and the job's future; no job for a duplicate,
    which is archived without being checked.  ``judged``: the history has seen
    its claims (the future is then its reports' job), or there was nothing to
    judge (``outcome`` then holds its final outcome)."""

    job: Job | None
    row_id: int
    opened: Opened
    future: Future | None = None
    judged: bool = False
    outcome: dict | None = None
    checked: dict | None = None  # its check's facts, for its reports' job
    secured: Path | None = None  # its checked bytes, copied to the archive (re-sent)

    def running(self) -> bool:
        return self.future is not None and not self.future.done()

    def ready(self) -> bool:
        return self.judged and not self.running()


class _Pipeline:
    """One run's files, from candidate to done: take (open, hash, record), check
    (the executor), and handle each result in the order the files were taken
    (record, move, done).  The Batch owns the run; this owns the files in hand."""

    def __init__(self, options: BatchOptions, ledger: Ledger, archiver: Archiver,
                 executor: Executor, begin_run: Callable[..., Run], waiting: list[dict],
                 skipped: list[dict], history: BatchHistory) -> None:
        self.options, self.ledger, self.archiver, self.executor = (options, ledger, archiver,
                                                                   executor)
        self.history = history
        self.begin_run = begin_run  # the run begins when it first has something to say
        self.waiting, self.skipped = waiting, skipped  # the run's lists, once it has begun
        self.stopped = False  # a stop signal left files for the next run
        self.in_hand: str | None = None  # the file being judged or finished (for messages)

    def process(self, candidates, stop: StopFlag, bar) -> None:
        """Take candidates in order while a worker slot is free; hand each result
        to :meth:`_handle` in the order the files were taken."""
        executor, total = self.executor, len(candidates)
        queue, deferred = deque(candidates), []
        taken: deque[_Taken] = deque()  # in the order taken; the head is handled first
        flying: set[str] = set()  # hashes being checked now
        advance = bar.update if bar is not None else (lambda n: None)
        while True:
            if not self._judge(taken, flying):
                queue.clear()  # a worker died: what is not taken yet waits
            while taken and taken[0].ready():
                if not self._handle(taken.popleft(), flying):
                    queue.clear()  # a worker died: what is not taken yet waits
                advance(1)
            if (queue and not stop and len(taken) < LOOKAHEAD * executor.slots
                    and sum(t.running() for t in taken) < executor.slots):
                candidate = queue.popleft()
                entry = self._take(candidate, flying, stop, total)
                if entry == DEFER:
                    deferred.append(candidate)
                elif entry is None:
                    advance(1)
                elif entry.job is None or self._submit(entry, flying):
                    taken.append(entry)
                else:
                    queue.clear()
                    advance(1)
                continue
            if taken:
                running = [t.future for t in taken if t.running()]
                if running:
                    executor.wait(running)
                elif self.history.held and stop:
                    self._give_up_waiting(taken, flying)
                elif self.history.held:
                    time.sleep(HELD_POLL)  # another batch finishes a file first
                continue
            if stop and (queue or deferred):
                log.warning("stop requested (signal %s): the files in hand are finished; "
                            "%d left for the next run", stop.signal, len(queue) + len(deferred))
                self.stopped = True
                return
            if deferred and not queue:
                # copies of content checked earlier in this run: duplicates of it now
                queue.extend(deferred)
                deferred = []
                continue
            if not queue:
                return

    def _submit(self, entry: _Taken, flying: set[str], job=None) -> bool:
        try:
            entry.future = self.executor.submit(job or entry.job)
            return True
        except WorkerLost as exc:
            self._roll_back(entry, str(exc), flying)
            return False

    def _judge(self, taken: deque, flying: set[str]) -> bool:
        """The history stage: each checked file's claims, judged in the order the
        files were taken (a later file waits for every earlier one), then its
        reports' job.  False if a worker died (its files are rolled back)."""
        for entry in list(taken):
            if entry.judged:
                continue
            if entry.job is None:  # a duplicate: nothing to check or judge
                entry.judged = True
                continue
            if entry.running():
                return True  # the files after it wait for it
            self.in_hand = entry.job.name
            try:
                outcome = self.executor.result(entry.future)
            except WorkerLost as exc:
                taken.remove(entry)
                self._roll_back(entry, str(exc), flying)
                return False
            checked = outcome.get("checked")
            if outcome.get("changed") and self._secure(entry):
                if not self._submit(entry, flying):  # checked again, from the archive
                    taken.remove(entry)
                    return False
                return True
            if checked is None:  # failed (quarantine) or changed: that is its outcome
                entry.judged = True
                entry.future, entry.outcome = None, outcome
                continue
            held = self.history.held
            if self.history.judge(Path(entry.job.work_dir), checked["sha256"],
                                  readable=checked["status"] != "unreadable"
                                  and not checked.get("broken_sets")) is None:
                if held != self.history.held:
                    log.warning("%s: waits for another batch (%s) to finish a file of the "
                                "same patients", shown(entry.job.name), self.history.held)
                return True  # judged again on the next pass; the files after it wait
            entry.judged, self.history.held = True, None
            durable.checkpoint("judged")
            entry.checked = checked
            if not self._submit(entry, flying, ReportJob(entry.job, checked)):
                taken.remove(entry)
                return False
        return True

    def _handle(self, entry: _Taken, flying: set[str]) -> bool:
        """Every file taken passes here once, in the order taken (the driver's one
        place for results in input order, whatever ``--jobs``): steps 4-7.  A stage
        that needs files in order (patient history) goes here, between the
        worker's result and ``complete(..., also=...)``.  False if its worker died."""
        self.in_hand = entry.job.name if entry.job is not None else None
        try:
            if entry.job is None:
                self.archiver.complete(self.ledger.row(entry.row_id), opened=entry.opened)
                return True
            flying.discard(entry.job.sha256)
            try:
                outcome = entry.outcome if entry.future is None else \
                    self.executor.result(entry.future)
                entry.future = None  # released: Dask need not keep (or redo) its result
                if outcome.get("changed") and entry.checked and self._secure(entry):
                    # re-sent after its check: its reports are written from the archive
                    checked = {**entry.checked, "path": entry.job.path}
                    future = self.executor.submit(ReportJob(entry.job, checked))
                    self.executor.wait([future])
                    outcome = self.executor.result(future)
            except WorkerLost as exc:
                self._roll_back(entry, str(exc), flying)
                return False
            finally:
                shutil.rmtree(entry.job.work_dir, ignore_errors=True)
            run = self.begin_run()
            row = self.archiver.record(entry.job, entry.row_id, outcome, run.run_id,
                                       run.directory)
            if row is None:
                self.waiting.append({"name": entry.job.name,
                                     "why": "changed while being checked"})
                return True
            if entry.secured is not None:
                place_secured(entry.secured, Path(row["destination"]))
            self.archiver.complete(row, opened=entry.opened)
            return True
        finally:
            entry.opened.close()

    def _secure(self, entry: _Taken) -> bool:
        """A file replaced in the inbox while it was checked: its checked bytes go to
        the archive now, to be checked from there (archive.secure_checked)."""
        place = self.options.archive_dir / self.begin_run().run_id / entry.job.name
        job = secure_checked(entry.job, entry.opened, place) if not entry.secured else None
        entry.job, entry.secured = (job, place) if job else (entry.job, entry.secured)
        return job is not None

    def _take(self, candidate, flying: set[str], stop: StopFlag, total: int):
        """Steps 1-2: open and hash a candidate, then record it: a :class:`_Taken`,
        DEFER (a copy of content in hand, or a stop signal while hashing: left
        for later), or None (not taken)."""
        name, path, seen = candidate
        ledger, options = self.ledger, self.options
        try:
            opened = open_candidate(path, seen, max_size=options.max_size, stop=stop)
        except Stopped:
            return DEFER
        except FileNotFoundError:
            log.info("%s: gone before it was taken", shown(name))
            return None
        except Changed as exc:
            self.waiting.append({"name": name, "why": str(exc)})
            return None
        except NotAnInput as exc:  # it became one after the scan
            log.warning("%s: skipped: %s", shown(name), exc)
            self.skipped.append({"name": name, "why": str(exc)})
            self.begin_run(total)
            return None
        except OSError as exc:
            self.begin_run(total).problems.append(
                f"{shown(name)}: cannot read: {exc.strerror or type(exc).__name__}")
            log.error("%s: cannot read (%s); left in the inbox", shown(name),
                      exc.strerror or type(exc).__name__)
            return None
        sha = opened.sha256
        busy = None if sha in flying else ledger.unfinished_content(sha)
        claim = None
        if sha not in flying and busy is None:
            marker = str(path) + options.marker if options.marker else None
            run = self.begin_run(total)
            copy_to = None if options.reprocess else options.archive_dir / run.run_id / name
            # in the ledger's lock: another batch host may claim the same content now
            claim = ledger.claim(sha256=sha, run_id=run.run_id, name=name, source=path,
                                 size=seen[2], marker=marker, duplicate_to=copy_to)
            busy = claim.busy
        if claim is None or busy is not None:
            opened.close()
            if sha in flying:
                return DEFER
            log.warning("%s: %s; left in the inbox", shown(name), ledger.why_busy(busy))
            return None
        row_id = claim.row_id
        durable.checkpoint("claimed")
        if claim.original is not None:
            log.info("%s: duplicate of %s (run %s), not checked again; archived",
                     shown(name), shown(claim.original["name"]), claim.original["run_id"])
            return _Taken(None, row_id, opened)
        flying.add(sha)
        out_dir = run.directory / FILES_DIR / name
        work_dir = run.directory / WORK_DIR / sha
        return _Taken(Job(str(path), name, sha, seen, str(out_dir), str(work_dir)), row_id,
                      opened)

    def _give_up_waiting(self, taken: deque, flying: set[str]) -> None:
        """A stop signal while a file waits for another batch (``history.holders``):
        the files not judged yet are left in the inbox for the next run, nothing of
        them kept; those judged are finished."""
        for entry in [t for t in taken if not t.judged]:
            taken.remove(entry)
            self._drop(entry, flying)
            log.warning("%s: stop requested while it waited for another batch; left in "
                        "the inbox for the next run", shown(entry.job.name))
        self.history.held = None
        self.stopped = True

    def _drop(self, entry: _Taken, flying: set[str]) -> None:
        """A taken file given back: its outputs and work removed, its ledger row
        forgotten (the file stays in the inbox for the next run)."""
        job = entry.job
        flying.discard(job.sha256)
        entry.opened.close()
        shutil.rmtree(job.out_dir, ignore_errors=True)
        shutil.rmtree(job.work_dir, ignore_errors=True)
        self.ledger.forget(entry.row_id)

    def _roll_back(self, entry: _Taken, why: str, flying: set[str]) -> None:
        job = entry.job
        self._drop(entry, flying)
        self.begin_run().problems.append(f"{shown(job.name)}: {why}; left in the inbox")
        log.error("%s: %s; left in the inbox for the next run", shown(job.name), why)
