"""Where `check --jobs N` runs its units: worker processes on this machine.

The same members as the batch's executors (edi837.batch.executors.Executor) (``slots``,
``submit``, ``wait``, ``result``, ``close``), for :class:`~.work.Unit` jobs;
the Dask version is in :mod:`.cluster`.  Workers are forked children that die
with the driver and leave Ctrl-C to it.
"""
from __future__ import annotations

import os
import signal
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from ..workers import ProcessPool, WorkerLost, die_with_parent, forked_pool
from .keys import install_all, installed
from .work import CheckSettings, Unit, check_unit

_settings: CheckSettings | None = None


def _init(settings: CheckSettings, parent: int, keys: dict) -> None:
    global _settings
    die_with_parent(parent)
    install_all(keys)  # the history key, once per process (not in every unit)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops the run
    _settings = settings


def _run(unit: Unit) -> dict:
    return check_unit(_settings, unit)


def _judge(run_id: str, files: list) -> list:
    from .shards import judge_shard

    return judge_shard(_settings, run_id, files)


class LocalUnits(ProcessPool):
    """``jobs`` worker processes, forked now: they share the driver's engine (its drug
    table and reference data, loaded once) while it is small, before any file is read,
    so no worker holds a second copy or a copy of the driver's buffers.  Waiting and
    results as the batch's pool (a dead worker: WorkerLost)."""

    remote = False  # a unit it cannot read, the driver checks itself (as one job would)

    def __init__(self, settings: CheckSettings, jobs: int, engine=None) -> None:
        self.settings = settings
        self.slots = jobs
        if engine is not None and engine.table.reference is None:
            # (imported reference data is read through SQLite, whose connections must not
            # cross a fork: then each worker opens its own)
            from . import work

            work.adopt(settings, engine)
        self._pool = forked_pool(jobs, _init, (settings, os.getpid(), installed()))
        for future in [self._pool.submit(os.getpid) for _ in range(jobs)]:
            future.result()  # start them all now (a pool forks as work arrives)

    def submit(self, unit: Unit) -> Future:
        if self._pool is None:
            raise WorkerLost("worker processes died")
        try:
            return self._pool.submit(_run, unit)
        except BrokenProcessPool:
            raise WorkerLost("worker processes died") from None

    def judge(self, run_id: str, files: list, index: int) -> Future:
        """One shard of the run's own history (edi837.parallel.shards.judge_shard)."""
        if self._pool is None:
            raise WorkerLost("worker processes died")
        try:
            return self._pool.submit(_judge, run_id, files)
        except BrokenProcessPool:
            raise WorkerLost("worker processes died") from None
