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
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from ..parallel.keys import install_all, installed
from ..workers import InputUnreachable, ProcessPool, WorkerLost, forked_pool
from ..workers import die_with_parent as _die_with_parent
from .run import Job, Worker, WorkerSettings

__all__ = ["Executor", "InProcess", "InputUnreachable", "LocalPool", "WorkerLost",
           "dask_executor", "make_executor"]

_worker: Worker | None = None


def _init_pool_worker(settings: WorkerSettings, parent: int, keys: dict) -> None:
    global _worker
    _die_with_parent(parent)
    install_all(keys)  # the history key, once per process (not in every job)
    # a terminal's Ctrl-C and systemd's SIGTERM reach every process of the group:
    # the worker finishes its file, the parent decides to stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _worker = Worker(settings)


def _pool_run(job: Job) -> dict:
    return _worker.run(job)


class Executor(Protocol):
    """Where jobs run.  The driver owns all state and every ledger write and move;
    an executor only runs :meth:`Worker.run` on a :class:`Job` (plain, picklable
    arguments) and hands back its dict of facts (plain, picklable).

    The Dask executor (``--dask ADDRESS``, edi837.parallel.cluster.DaskExecutor) is
    one more class with these members: ``submit`` -> ``client.submit(f, settings,
    job, pure=False)`` with ``f`` keeping one ``Worker(settings)`` per worker process
    and running the job in a scratch folder (edi837.batch.remote), ``wait`` ->
    ``distributed.wait(..., return_when="FIRST_COMPLETED")``; ``result`` raising
    ``ClusterLost`` (a WorkerLost: the file waits for the next run) when the cluster
    failed, and turning a file that kills its workers and a process of its own on this
    host into a quarantine outcome (edi837.parallel.faults); workers need only reach
    the inputs: work folders and outputs cross in the results (InputUnreachable when
    a worker cannot read an input)."""

    slots: int  # jobs that may run at once
    table_version: str  # the drug table the workers use, for the summary

    def submit(self, job: Job) -> Future: ...

    def wait(self, futures: list[Future]) -> None:
        """Block until at least one of ``futures`` is done."""

    def result(self, future: Future) -> dict:
        """The job's facts; WorkerLost if its worker died; other exceptions as raised."""

    def close(self) -> None: ...


class InProcess:
    """``--jobs 1``: each job runs in the batch process, when submitted."""

    slots = 1

    def __init__(self, settings: WorkerSettings) -> None:
        self.worker = Worker(settings)
        self.table_version = self.worker.table.version

    def submit(self, job: Job) -> Future:
        future = Future()
        try:
            future.set_result(self.worker.run(job))
        except Exception as exc:  # e.g. the disk is full: raised again by result()
            future.set_exception(exc)
        return future

    def wait(self, futures: list[Future]) -> None:
        return None  # every future is done when submit returns

    def result(self, future: Future) -> dict:
        return future.result()

    def close(self) -> None:
        return None


class LocalPool(ProcessPool):
    """``jobs`` worker processes on this machine, started at the first job."""

    def __init__(self, settings: WorkerSettings, jobs: int) -> None:
        from ..drugs import load_drug_table

        self.settings = settings
        self.slots = jobs
        self.table_version = load_drug_table(list(settings.drug_tables)).version
        self._pool = None

    def submit(self, job: Job) -> Future:
        if self._pool is None:
            self._pool = forked_pool(self.slots, _init_pool_worker,
                                     (self.settings, os.getpid(), installed()))
        try:
            return self._pool.submit(_pool_run, job)
        except BrokenProcessPool:
            self._pool = None  # a new pool for the next job
            raise WorkerLost("worker processes died") from None


def make_executor(settings: WorkerSettings, jobs: int) -> Executor:
    return InProcess(settings) if jobs == 1 else LocalPool(settings, jobs)


def dask_executor(settings: WorkerSettings, address: str, insecure: bool) -> Executor:
    """``--dask ADDRESS``: jobs as tasks on a Dask cluster (edi837.parallel.cluster)."""
    from ..parallel import check
    from ..parallel.cluster import ClusterError, DaskExecutor, connect
    from .options import BatchError
    from .remote import RemoteJobs, job_name, run_remote

    try:
        client, cluster = connect(address, insecure)
    except ClusterError as exc:
        raise BatchError(str(exc)) from None
    try:
        executor = DaskExecutor(settings, client, cluster, task=run_remote,
                                piece_size=check.PIECE_SIZE, name=job_name)
    except ClusterError as exc:  # e.g. the workers did not take the history key
        client.close()
        if cluster is not None:
            cluster.close()
        raise BatchError(str(exc)) from None
    return RemoteJobs(executor)
