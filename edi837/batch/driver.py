"""The batch driver: open (check options, lock, recover), scan, process, finish.

The driver alone owns the ledger and every step that moves an input or
records it; checking and report writing are handed to a worker (``run``), in
this process or in worker processes (``executors``).  A run begins when its
first file is taken, or when an entry is skipped that this process has not
reported yet (a poll that takes and skips nothing leaves no trace), and ends
with its summary (``summary``).

Exit status: 0 no error finding, 1 error findings, 2 a file quarantined or
skipped, or a problem.  ``watch`` returns 0 when stopped by a signal: each
run's status is in its summary and log line, and a service stopped on
purpose has not failed.

Logs name files (escaped: ``names.shown``), counts, rule codes and run ids,
never the content of a file: finding messages and exception messages (which
may quote segments with names, member ids or birth dates) go only to reports
and reason files, which sit beside the data they describe.
"""
from __future__ import annotations

import logging
import shutil
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..parallel.keys import install
from . import durable
from .archive import Archiver, place_secured, secure_checked
from .executors import Executor, WorkerLost, dask_executor, make_executor
from .history import BatchHistory
from .inbox import Changed, Inbox, NotAnInput, Opened, Settle, Stopped, open_candidate
from .ledger import (
    DUPLICATE,
    FILES_DIR,
    FINISHED,
    INTERRUPTED,
    LEDGER_NAME,
    REPORTED,
    STOPPED,
    WORK_DIR,
    Ledger,
    recover,
    warn_if_ledger_lost,
)
from .locks import Locks
from .names import shown
from .options import EXIT_OK, EXIT_TROUBLE, BatchError, BatchOptions, StopFlag, check_options
from .run import Job, ReportJob, WorkerSettings
from .startup import progress_bar, tables
from .summary import log_run_end, write_summary

DEFER = "defer"  # a copy of content being checked right now: take it after that one
# files taken ahead of the oldest unfinished one, per worker slot: enough to keep
# every worker busy behind one large file, few enough to redo after a crash
LOOKAHEAD = 4

log = logging.getLogger("edi837.batch")


def _new_run_id() -> str:
    # UTC to the microsecond: run folders sort in the order the runs started
    # (one batch at a time per OUTDIR: the lock)
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


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


@dataclass
class _Run:
    run_id: str
    directory: Path
    waiting: list[dict] = field(default_factory=list)  # left for a later run, and why
    skipped: list[dict] = field(default_factory=list)  # not read as they are, and why
    problems: list[str] = field(default_factory=list)
    stopped: bool = False


class Batch:
    """One OUTDIR's batches: open() locks and repairs, run_once() or watch() works."""

    def __init__(self, options: BatchOptions) -> None:
        if options.jobs < 1:
            raise BatchError("--jobs must be at least 1")
        self.options = options
        self.inbox = Inbox(options.inbox, Settle(options.settle, options.marker),
                           marker=options.marker, max_size=options.max_size)
        self.ledger: Ledger | None = None
        self.archiver: Archiver | None = None
        self.status = EXIT_OK  # worst exit status of everything this process did
        self._locks = Locks()
        self._settings: WorkerSettings | None = None
        self._history: BatchHistory | None = None
        self._executor: Executor | None = None
        self._run: _Run | None = None
        self.last_run: str | None = None  # id of the last run that took a file
        # what this poll's scan left waiting and skipped; a run begun now lists them
        self._waiting: list[dict] = []
        self._skipped: list[dict] = []
        self._ledger_lost: str | None = None  # said in the summary of the first run

    def __enter__(self) -> "Batch":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- opening: checks, lock, repair ------------------------------------------------------
    def open(self) -> None:
        options = self.options
        check_options(options)
        durable.makedirs(options.out)
        self._locks.acquire(options)
        self._ledger_lost = warn_if_ledger_lost(options)
        if self._ledger_lost:  # the scheduler must see it: status 2, and the run says why
            self.status = EXIT_TROUBLE
        self.ledger = Ledger(options.out / LEDGER_NAME)
        self.archiver = Archiver(self.ledger, options)
        table, reference = tables(options)
        self._history = BatchHistory(options, self.ledger, table, options.config)
        self._history.open()
        self._settings = WorkerSettings(
            drug_tables=tuple(str(p) for p in options.drug_tables), config=options.config,
            formats=options.formats, fix=options.fix or options.split, split=options.split,
            validate=options.validate, select=options.select, ignore=options.ignore,
            ack277=options.ack277, history_key_id=install(self._history.key),
            history_persistent=self._history.persistent,
            history_store=self._history.store.where if self._history.store else None,
            refdata=str(reference.directory) if reference is not None else None,
            refdata_snapshot=reference.snapshot if reference is not None else None)
        self._executor = make_executor(self._settings, options.jobs) if options.dask is None \
            else dask_executor(self._settings, options.dask, options.insecure)
        self.recover()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None
        if self._history is not None:
            self._history.close()
            self._history = None
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None
        self._locks.release()

    def recover(self) -> None:
        """Repair what a killed run left (``ledger.recover``)."""
        def close_run(run_id: str, status: int) -> None:
            self._write_summary(_Run(run_id, self.options.out / run_id), INTERRUPTED, status)

        status = recover(self.ledger, self.options, close_run=close_run,
                         complete=self.archiver.complete)
        self.status = max(self.status, status, EXIT_TROUBLE if self.archiver.trouble else 0)

    # -- one run ----------------------------------------------------------------------------
    def run_once(self, stop: StopFlag | None = None, *, watching: bool = False) -> int:
        """Take every settled file in the inbox once; return this run's exit status."""
        stop = stop if stop is not None else StopFlag()
        scan = self.inbox.scan()
        self._run, self._waiting, self._skipped = None, scan.waiting, scan.skipped
        pipeline = _Pipeline(self.options, self.ledger, self.archiver, self._executor,
                             self._begin_run, scan.waiting, scan.skipped, self._history)
        with progress_bar(self.options.progress, len(scan.candidates)) as bar:
            pipeline.process(scan.candidates, stop, bar)
        if pipeline.stopped and self._run is not None:
            self._run.stopped = True
        if self._run is None and scan.skipped and (scan.new_skips or not watching):
            self._begin_run(len(scan.candidates))  # a skipped entry is reported in a summary
        run, self._run = self._run, None
        self.last_run = run.run_id if run else None
        if self.archiver.trouble:
            self.status = EXIT_TROUBLE
        if run is None:  # nothing taken: no run directory, no summary
            if scan.candidates and stop and not watching:
                log.warning("stopped (signal %s) before taking any file", stop.signal)
                self.status = EXIT_TROUBLE
                return EXIT_TROUBLE
            return EXIT_OK
        if run.stopped and not watching:
            run.problems.append(f"stopped by signal {stop.signal} before every file was taken")
        shutil.rmtree(run.directory / WORK_DIR, ignore_errors=True)
        status = self.ledger.exit_status(run.run_id, trouble=bool(run.problems or run.skipped))
        state = STOPPED if run.stopped else FINISHED
        self._write_summary(run, state, status)
        self.ledger.end_run(run.run_id, state, status)
        durable.checkpoint("run-finished")
        log_run_end(self.ledger, run.run_id, run.directory, state=state, status=status,
                    waiting=len(run.waiting), skipped=len(run.skipped))
        self.status = max(self.status, status)
        return status

    def _begin_run(self, count: int = 0) -> _Run:
        """The current run, begun when its first file is taken (or its first entry
        skipped): a poll that does neither leaves no trace."""
        if self._run is None:
            run_id = _new_run_id()
            while self.ledger.run(run_id) is not None:  # same microsecond as the last one
                run_id = _new_run_id()
            self.ledger.begin_run(run_id)
            self._history.begin_run(run_id)
            self._run = _Run(run_id, self.options.out / run_id, self._waiting, self._skipped)
            if self._ledger_lost:
                self._run.problems.append(self._ledger_lost)
                self._ledger_lost = None
            durable.makedirs(self._run.directory)
            durable.checkpoint("run-started")
            log.info("run %s: %d files to take, %d waiting, %d skipped", run_id, count,
                     len(self._waiting), len(self._skipped))
        return self._run

    def watch(self, stop: StopFlag) -> int:
        """Poll the inbox every ``interval`` seconds until ``stop`` is set.

        Returns 0: a service stopped on purpose has not failed.  Each run's exit
        status is in its summary and its last log line; a problem that stops
        the watching (disk full, ledger unwritable) raises instead (exit 2), and
        a lost Dask cluster returns 2 after the run that found it."""
        options = self.options
        log.info("watching %s every %g s (settle %s); SIGTERM or Ctrl-C stops after the "
                 "current file", shown(str(options.inbox)), options.interval,
                 f"marker {shown(options.marker)}" if options.marker else f"{options.settle:g} s")
        while not stop:
            getattr(self._executor, "new_run", lambda: None)()  # --dask: faults per run
            self.run_once(stop, watching=True)
            if getattr(self._executor, "lost", None):  # exit 2: restarted, it reconnects
                log.error("stopped watching: %s", self._executor.lost)
                self.status = EXIT_TROUBLE
                return EXIT_TROUBLE
            deadline = time.monotonic() + options.interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.1, options.interval))
        log.info("stopped (signal %s); worst run exit status %d", stop.signal, self.status)
        return EXIT_OK

    def _write_summary(self, run: _Run, state: str, status: int) -> None:
        from .queue_sync import sync_run

        sync_run(self.ledger, run.run_id, self.options.out)  # the work queue, then its page
        write_summary(self.ledger, run.run_id, run.directory,
                      drug_table=self._executor.table_version, options=self.options,
                      state=state, exit_status=status, waiting=run.waiting,
                      skipped=run.skipped, problems=run.problems)


class _Pipeline:
    """One run's files, from candidate to done: take (open, hash, record), check
    (the executor), and handle each result in the order the files were taken
    (record, move, done).  The Batch owns the run; this owns the files in hand."""

    def __init__(self, options: BatchOptions, ledger: Ledger, archiver: Archiver,
                 executor: Executor, begin_run: Callable[..., _Run], waiting: list[dict],
                 skipped: list[dict], history: BatchHistory) -> None:
        self.options, self.ledger, self.archiver, self.executor = (options, ledger, archiver,
                                                                   executor)
        self.history = history
        self.begin_run = begin_run  # the run begins when it first has something to say
        self.waiting, self.skipped = waiting, skipped  # the run's lists, once it has begun
        self.stopped = False  # a stop signal left files for the next run

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
            entry.judged = True
            if checked is None:  # failed (quarantine) or changed: that is its outcome
                entry.future, entry.outcome = None, outcome
                continue
            self.history.judge(Path(entry.job.work_dir), checked["sha256"],
                               readable=checked["status"] != "unreadable")
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
        if sha in flying or ledger.unfinished_content(sha) is not None:
            opened.close()
            if sha in flying:
                return DEFER
            log.warning("%s: same content as an input whose archiving is not finished; "
                        "left in the inbox", shown(name))
            return None
        marker = str(path) + options.marker if options.marker else None
        original = None if options.reprocess else ledger.done_content(sha)
        run = self.begin_run(total)
        if original is not None:
            row_id = ledger.take(sha256=sha, run_id=run.run_id, name=name, source=path,
                                 size=seen[2], marker=marker, state=REPORTED,
                                 outcome=DUPLICATE,
                                 destination=str(options.archive_dir / run.run_id / name),
                                 duplicate_of=original["id"])
            durable.checkpoint("claimed")
            log.info("%s: duplicate of %s (run %s), not checked again; archived",
                     shown(name), shown(original["name"]), original["run_id"])
            return _Taken(None, row_id, opened)
        row_id = ledger.take(sha256=sha, run_id=run.run_id, name=name, source=path,
                             size=seen[2], marker=marker)
        durable.checkpoint("claimed")
        flying.add(sha)
        out_dir = run.directory / FILES_DIR / name
        work_dir = run.directory / WORK_DIR / sha
        return _Taken(Job(str(path), name, sha, seen, str(out_dir), str(work_dir)), row_id,
                      opened)

    def _roll_back(self, entry: _Taken, why: str, flying: set[str]) -> None:
        job = entry.job
        flying.discard(job.sha256)
        entry.opened.close()
        shutil.rmtree(job.out_dir, ignore_errors=True)
        shutil.rmtree(job.work_dir, ignore_errors=True)
        self.ledger.forget(entry.row_id)
        self.begin_run().problems.append(f"{shown(job.name)}: {why}; left in the inbox")
        log.error("%s: %s; left in the inbox for the next run", shown(job.name), why)


def run_batch(options: BatchOptions, *, watch: bool = False,
              stop: StopFlag | None = None) -> int:
    """Open OUTDIR (lock, repair), run once or watch; the exit status: 0 no error
    finding, 1 error findings, 2 a file quarantined or skipped, or a problem
    (watch: 0 when stopped by a signal, see :meth:`Batch.watch`)."""
    stop = stop if stop is not None else StopFlag()
    with Batch(options) as batch:
        if watch:
            return batch.watch(stop)
        if batch.run_once(stop) == EXIT_OK and batch.last_run is None:
            # one line per cron run, for the log
            log.info("%s: nothing new", shown(str(options.inbox)))
        return batch.status
