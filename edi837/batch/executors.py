"""Where files are checked: in the batch process, or in local worker processes.

With ``jobs`` > 1 the checking and report writing of each input run in
worker processes, while the batch process alone hashes, records in the
ledger and moves files, so the order of operations (``ledger``) holds.
Workers are forked: on Linux each is killed when its parent dies
(``PR_SET_PDEATHSIG``), and each holds the inherited locks while it lives,
so no orphan can write into a run that a restart is repairing (a restart
waits ``lock_wait`` seconds for dying workers).  Workers ignore
SIGINT/SIGTERM and finish their file; the parent stops handing out new
ones.  A worker that dies (out of memory) rolls back the files in hand,
which wait for the next run.  Reports depend only on the input, so ``jobs``
changes nothing in them.
"""
from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor

from .run import Job, Worker, WorkerSettings

_worker: Worker | None = None


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this worker when the batch process dies, however it dies, so a
    restarted batch never races an orphan writing into the run it is repairing."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _init_pool_worker(settings: WorkerSettings, parent: int) -> None:
    global _worker
    _die_with_parent(parent)
    # a terminal's Ctrl-C and systemd's SIGTERM reach every process of the group:
    # the worker finishes its file, the parent decides to stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _worker = Worker(settings)


def _pool_run(job: Job) -> dict:
    return _worker.run(job)


class LocalPool:
    """``jobs`` worker processes on this machine, started at the first file."""

    def __init__(self, settings: WorkerSettings, jobs: int) -> None:
        self.settings = settings
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, job: Job) -> Future:
        if self._pool is None:
            import multiprocessing

            # fork where there is one: workers are then children of this process
            # (what PR_SET_PDEATHSIG needs) and hold its locks while they live
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=context,
                initializer=_init_pool_worker, initargs=(self.settings, os.getpid()))
        return self._pool.submit(_pool_run, job)

    def broken(self) -> None:
        """The pool lost a worker: start a new one for the next file."""
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
