"""Worker processes on this machine, and what tells a worker's trouble apart from a
file's: the pieces that `batch` (edi837.batch.executors) and `check --jobs`
(edi837.parallel.executors) share, so that neither imports the other.

* :class:`ProcessPool` - forked worker processes that die with the driver; waiting
  and results, a dead worker being :class:`WorkerLost`.
* :class:`ClusterError` - a cluster that cannot or must not be used (exit 2).
* :class:`InputUnreachable` - a batch worker could not read an input that the run was
  given (a path not there on that host): a problem of the cluster, not of the
  file, so the run stops (exit 2) and the file is left for the next run.
"""
from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool


class ClusterError(Exception):
    """A --dask address that cannot or must not be used, or a cluster that cannot do
    the run (a worker that cannot read an input): exit status 2."""


class WorkerLost(Exception):
    """The worker running a job died (killed, out of memory): the job's outcome is
    unknown and the file waits for the next run."""


class InputUnreachable(WorkerLost):
    """A worker cannot read an input the driver was given: the run stops (exit 2),
    the file waits for the next run; never "changed while being checked"."""


UNREACHABLE = "unreachable"  # a task's result key: why the worker could not read its input


def worker_name() -> str:
    """The Dask worker running this task (its name and address), or this process."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return f"process {os.getpid()} on {os.uname().nodename}"
    name, address = str(worker.name), worker.address
    return address if name == address else f"{name} ({address})"


def unreachable(location: str, open_input) -> dict | None:
    """None when this process can open ``location`` (``open_input``), else the result
    a task returns for it: ``{"unreachable": reason, "worker": name}``."""
    try:
        open_input(location).close()
    except OSError as exc:
        return {UNREACHABLE: exc.strerror or type(exc).__name__, "worker": worker_name()}
    return None


def unreachable_message(location: str, outcome: dict) -> str:
    return (f"{location}: the worker {outcome.get('worker', '?')} cannot read this input "
            f"({outcome[UNREACHABLE]}): every worker must reach each input at the location "
            "given (the same path on every host, or a URL); the run stopped, nothing was "
            "quarantined")


def die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this worker when the driver dies, however it dies, so a
    restarted batch never races an orphan writing into the run it is repairing."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def forked_pool(jobs: int, initializer, initargs: tuple) -> ProcessPoolExecutor:
    """``jobs`` worker processes, forked where the system can: children of this
    process (what PR_SET_PDEATHSIG needs) that hold its locks while they live."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=initializer,
                               initargs=initargs)


class ProcessPool:
    """Waiting, results and closing of a pool of worker processes (``_pool``)."""

    slots: int
    _pool: ProcessPoolExecutor | None = None

    def wait(self, futures: list[Future]) -> None:
        wait(futures, return_when=FIRST_COMPLETED)

    def result(self, future: Future) -> dict:
        try:
            return future.result()
        except BrokenProcessPool:
            # which file killed it cannot be told: every file in hand is lost
            self._pool = None
            raise WorkerLost("a worker process died (killed, or out of memory?)") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
