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

import json
import logging
import shutil
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from ..parallel.keys import install
from . import durable
from .archive import Archiver
from .executors import Executor, dask_executor, make_executor
from .history import BatchHistory
from .inbox import Inbox, Scan, Settle
from .ledger import (
    FINISHED,
    INTERRUPTED,
    REPORTED,
    STOPPED,
    WORK_DIR,
    Ledger,
    recover,
    warn_if_ledger_lost,
)
from .ledger_db import LEDGER_NAME
from .locks import Locks
from .names import shown
from .options import EXIT_OK, EXIT_TROUBLE, BatchError, BatchOptions, StopFlag, check_options
from .pipeline import Run as _Run
from .pipeline import _Pipeline
from .run import WorkerSettings
from .startup import progress_bar, tables
from .summary import log_run_end, write_summary

log = logging.getLogger("edi837.batch")


def _new_run_id() -> str:
    # UTC to the microsecond: run folders sort in the order the runs started
    # (one batch at a time per OUTDIR: the lock)
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


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
        self._new_stores: list[str] = []  # a new, empty ledger or history: the same
        self._recovered: dict[str, int] = {}  # killed runs' statuses no run said yet
        self._pipeline: _Pipeline | None = None  # the current run's files in hand

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
        if options.marker and not options.marker.startswith("."):
            log.warning("--marker %s does not start with a dot: a marker is a suffix, so NAME "
                        "is taken once NAME%s exists (for NAME.%s: --marker .%s)",
                        shown(options.marker), shown(options.marker), shown(options.marker),
                        shown(options.marker))
        self._ledger_lost = warn_if_ledger_lost(options)
        if self._ledger_lost:  # the scheduler must see it: status 2, and the run says why
            self.status = EXIT_TROUBLE
        new_ledger = not options.ledger and not (options.out / LEDGER_NAME).exists()
        self.ledger = Ledger.for_batch(options)
        self.archiver = Archiver(self.ledger, options)
        table, reference = tables(options)
        self._history = BatchHistory(options, self.ledger, table, options.config)
        self._history.open()
        self._new_stores = new_stores(options, new_ledger and not self._ledger_lost,
                                      self._history.store)
        self._settings = WorkerSettings(
            drug_tables=tuple(str(p) for p in options.drug_tables), config=options.config,
            formats=options.formats, fix=options.fix or options.split, split=options.split,
            validate=options.validate, select=options.select, ignore=options.ignore,
            ack277=options.ack277, history_key_id=install(self._history.key),
            history_persistent=self._history.persistent,
            history_store=self._history.store.where if self._history.store else None,
            refdata=str(reference.directory) if reference is not None else None,
            refdata_snapshot=reference.snapshot if reference is not None else None,
            control_numbers=str(options.control_numbers) if options.control_numbers else None)
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
            stopped = ("the run was stopped early (killed or the power lost); the next start "
                       "finished the files it had checked, the others are taken again")
            # the summary the run wrote on its fault (a full disk, the ledger gone) said why
            problems = _problems_said(self.options.out / run_id)
            if not any("stopped early" in p for p in problems):
                problems.append(stopped)
            self._write_summary(_Run(run_id, self.options.out / run_id, problems=problems),
                                INTERRUPTED, status)

        from .queue_sync import sync_run

        # a file whose move failed in a run that ended: its claims reach the queue
        # when the move is finished here (a killed run's, when close_run writes it)
        unmoved = dict.fromkeys(r["run_id"] for r in self.ledger.in_state(REPORTED))
        recover(self.ledger, self.options, close_run=close_run,
                complete=self.archiver.complete)
        for run_id in unmoved:
            sync_run(self.ledger, run_id, self.options.out)
        # the killed runs' own status (their files' findings, 2 for a quarantine), said
        # by no run of theirs: this start's run takes it in (README "Exit status")
        self._recovered = {run_id: self.ledger.exit_status(run_id)
                           for run_id in self.ledger.unreported()}
        self.status = max(self.status, *self._recovered.values(),
                          EXIT_TROUBLE if self.archiver.trouble else 0)

    # -- one run ----------------------------------------------------------------------------
    def run_once(self, stop: StopFlag | None = None, *, watching: bool = False) -> int:
        """Take every settled file in the inbox once; return this run's exit status."""
        stop = stop if stop is not None else StopFlag()
        scan = self.inbox.scan()
        if not watching and self.inbox.settle.ahead:
            scan = self._watch_ahead(scan, stop)
        self._run, self._waiting, self._skipped = None, scan.waiting, scan.skipped
        pipeline = self._pipeline = _Pipeline(
            self.options, self.ledger, self.archiver, self._executor, self._begin_run,
            scan.waiting, scan.skipped, self._history)
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
        if run is None and self._recovered:  # the status the process returns, said
            log.warning("exit status %d: of the interrupted run%s %s, closed here",
                        max(self._recovered.values()), "" if len(self._recovered) == 1
                        else "s", ", ".join(self._recovered))
        if run is None:  # nothing taken: no run directory, no summary
            if scan.candidates and stop and not watching:
                log.warning("stopped (signal %s) before taking any file", stop.signal)
                self.status = EXIT_TROUBLE
                return EXIT_TROUBLE
            return EXIT_OK
        if run.stopped and not watching:
            run.problems.append(f"stopped by signal {stop.signal} before every file was taken")
        run.problems += self.archiver.failures  # files that could not be moved
        self.archiver.failures = []
        shutil.rmtree(run.directory / WORK_DIR, ignore_errors=True)
        status = self.ledger.exit_status(run.run_id, trouble=bool(run.problems or run.skipped))
        for run_id, said in self._recovered.items():  # a killed run's, said by this one
            if said > status:
                run.notices.append(f"exit status {said}: of the interrupted run {run_id} "
                                   "(see its summary), closed by this start")
                status = said
        self._recovered = {}  # said: once this run ends, the next start says it no more
        state = STOPPED if run.stopped else FINISHED
        self._write_summary(run, state, status)
        self.ledger.end_run(run.run_id, state, status)
        durable.checkpoint("run-finished")
        self._history.prune()  # the run ended: a killed one never pruned (BatchHistory.prune)
        log_run_end(self.ledger, run.run_id, run.directory, state=state, status=status,
                    waiting=len(run.waiting), skipped=len(run.skipped), problems=run.problems)
        self.status = max(self.status, status)
        return status

    def failed(self, exc: BaseException) -> None:
        """A run stopped by an error after it started (the ledger or history store
        gone, a full disk): ``exc.started`` and ``exc.in_hand`` (the file being
        checked) for its message, and the run's summary written if it can be, saying
        why (else the next start writes it)."""
        in_hand = self._pipeline.in_hand if self._pipeline is not None else None
        vars(exc).update(started=True, in_hand=in_hand)  # (read with getattr)
        run, self._run = self._run, None
        if run is None or self.ledger is None:
            return
        why = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        run.problems.append(f"the run was stopped early: {why}"
                            + (f" while checking {shown(in_hand)}" if in_hand else ""))
        try:  # the run stays 'running' in the ledger: the next start closes it
            shutil.rmtree(run.directory / WORK_DIR, ignore_errors=True)
            self._write_summary(run, STOPPED, EXIT_TROUBLE)
        except Exception:  # what cannot be written now, the next start writes
            return
        vars(exc)["summary"] = run.directory / "summary.json"

    def _watch_ahead(self, scan: Scan, stop: StopFlag) -> Scan:
        """A one-shot run and files whose mtime is in the future (a sender's clock
        ahead): their age says nothing, so the run watches them itself for --settle
        seconds, as --watch does, and takes those that did not change."""
        seconds = self.options.settle
        log.warning("%d file%s modified in the future (sender clock ahead?): watching "
                    "%s for %g s before taking %s", len(self.inbox.settle.ahead),
                    "" if len(self.inbox.settle.ahead) == 1 else "s",
                    "it" if len(self.inbox.settle.ahead) == 1 else "them", seconds,
                    "it" if len(self.inbox.settle.ahead) == 1 else "them")
        watched = set(self.inbox.settle.ahead)
        deadline = time.monotonic() + seconds
        while not stop and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        if stop:
            return scan
        # only those: the others were judged at the run's start (as without them)
        settled = [c for c in self.inbox.scan().candidates if c[1] in watched]
        taken = {c[0] for c in settled}
        return Scan(sorted(scan.candidates + settled, key=lambda c: c[0]),
                    [w for w in scan.waiting if w["name"] not in taken], scan.skipped,
                    scan.new_skips)

    def _begin_run(self, count: int = 0) -> _Run:
        """The current run, begun when its first file is taken (or its first entry
        skipped): a poll that does neither leaves no trace."""
        if self._run is None:
            run_id = _new_run_id()
            while not self.ledger.begin_run(run_id):  # taken: the same microsecond as the
                run_id = _new_run_id()  # last run here, or another host's (shared ledger)
            self._history.begin_run(run_id)
            self._run = _Run(run_id, self.options.out / run_id, self._waiting, self._skipped)
            if self._ledger_lost:
                self._run.problems.append(self._ledger_lost)
                self._ledger_lost = None
            self._run.notices += self._new_stores  # (the first run's summary says them)
            self._new_stores = []
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
                      skipped=run.skipped, problems=run.problems, notices=run.notices)


def new_stores(options: BatchOptions, new_ledger: bool, store) -> list[str]:
    """A ledger or history store this start made (a mistyped OUTDIR or --history?):
    each said as a WARNING now, and a notice in the first run's summary."""
    said = []
    if new_ledger:
        said.append(f"new, empty ledger created at {shown(str(options.out / LEDGER_NAME))}: "
                    "no file is known as processed before"
                    + ("" if options.history_path is not None or not options.history else
                       ", and its patient history has seen nobody (no duplicate of an "
                       "earlier claim can be found)") + " (a mistyped --out?)")
    if store is not None and store.created and options.history_path is not None \
            and str(options.history_path) != options.ledger:
        said.append(f"new, empty history store created at {shown(str(options.history_path))}"
                    ": it has seen nobody, so no claim sent before is found as a duplicate "
                    "(a mistyped --history?)")
    for notice in said:
        log.warning("%s", notice)
    return said


def _problems_said(directory: Path) -> list[str]:
    """The problems of the summary a run wrote in ``directory`` before it stopped on a
    fault (``Batch.failed``); none if it wrote none (killed) or it cannot be read."""
    try:
        said = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
        return [p for p in said.get("problems", []) if isinstance(p, str)]
    except (OSError, ValueError, AttributeError):
        return []


def run_batch(options: BatchOptions, *, watch: bool = False,
              stop: StopFlag | None = None) -> int:
    """Open OUTDIR (lock, repair), run once or watch; the exit status: 0 no error
    finding, 1 error findings, 2 a file quarantined or skipped, or a problem
    (watch: 0 when stopped by a signal, see :meth:`Batch.watch`)."""
    stop = stop if stop is not None else StopFlag()
    with Batch(options) as batch:
        try:
            if watch:
                return batch.watch(stop)
            status = batch.run_once(stop)
        except (BatchError, OSError, sqlite3.Error) as exc:
            batch.failed(exc)
            raise
        if status == EXIT_OK and batch.last_run is None:
            # one line per cron run, for the log
            waiting = batch._waiting
            if waiting:  # not "every file processed": uploads in progress wait
                log.info("%s: nothing taken: %d file%s not settled yet, left for a later "
                         "run (%s)", shown(str(options.inbox)), len(waiting),
                         "" if len(waiting) == 1 else "s",
                         "; ".join(f"{shown(w['name'])}: {w['why']}" for w in waiting[:3])
                         + ("; ..." if len(waiting) > 3 else ""))
            else:
                log.info("%s: nothing new", shown(str(options.inbox)))
        return batch.status
