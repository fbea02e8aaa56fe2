"""Failures of the cluster are not failures of the file (issue 26).

:class:`Guard` stands between the driver and a Dask client (``check --dask``,
``batch --dask``) and tells the two apart:

* **The cluster is lost**: the connection to the scheduler is closed or cancels
  the tasks (the scheduler was killed, the network went), a call to it fails or
  times out, or no worker has been there for ``NO_WORKERS`` seconds.  That is a
  :class:`ClusterLost` (exit status 2, naming the scheduler): ``check`` writes
  no report; ``batch`` leaves every file it has not finished in the inbox for
  the next run (its ledger rows undone: nothing quarantined).
* **A task kills its workers** (KilledWorker: the scheduler gave up on it after
  its ``allowed-failures``).  The file is not quarantined on that alone: the
  driver runs the same task once more in a child process of its own on the
  driver's host, limited to a worker's memory (``isolated``).  If the child
  dies too, the file is at fault: :class:`Poison` (EDI008, quarantined by
  batch).  If it gives a result, that result is used and the worker deaths
  are counted as a fault of the cluster; at ``MAX_FAULTS`` such files in one
  run the cluster is lost (workers killed, or too little memory for the
  files), and the run stops as above.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import CancelledError

from ..workers import WorkerLost
from .keys import KeyMissing

MAX_FAULTS = 3  # files whose workers died though they check fine alone: then stop
NO_WORKERS = 120.0  # seconds without any worker before the run stops
POLL = 5.0  # seconds between looks at the cluster while waiting for tasks
ANSWER = 60.0  # seconds the scheduler has to answer such a look

log = logging.getLogger("edi837.batch")


class ClusterLost(WorkerLost):
    """The cluster failed: not the fault of any file (exit status 2)."""


class Poison(Exception):
    """The task killed its workers and a process of its own on the driver's host."""


def killed(exc: BaseException) -> bool:
    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover - only reached with Dask
        return False
    return isinstance(exc, KilledWorker)


def _lost_connection(exc: BaseException) -> bool:
    """An exception of a task's future that says the cluster, not the task, failed: the
    comm layer's (CommClosedError), the stream's under it (tornado's StreamClosedError,
    "Stream is closed", which is no CommClosedError) or the socket's (ConnectionError)
    when the scheduler dies while a result is on its way."""
    return isinstance(exc, (CancelledError, TimeoutError, ConnectionError)) or \
        from_the_cluster(exc)


def from_the_cluster(exc: BaseException) -> bool:
    """Whether ``exc`` is the Dask client's or its network layer's own exception (a
    connection closed under it), not one a task raised."""
    from distributed.comm.core import CommClosedError

    return isinstance(exc, CommClosedError) or \
        type(exc).__module__.split(".")[0] in ("distributed", "tornado") and \
        isinstance(exc, OSError)


class Guard:
    """Submit, wait and take results through ``client``, telling cluster failures
    (ClusterLost) and poison files (Poison) from the tasks' own results."""

    def __init__(self, client, warn=None) -> None:
        self.client = client
        self.address = getattr(client.scheduler, "address", None) or "(unknown)"
        self.warn = warn or log.warning
        self.lost: str | None = None  # why the cluster is lost, once it is
        self.faults = 0  # files whose workers died though they check fine alone
        self._tasks: dict = {}  # future key -> (future, function, args, name)
        self._alone_since: float | None = None

    # -- the cluster lost --------------------------------------------------------------------
    def lose(self, why: str) -> ClusterLost:
        """Mark the cluster lost (every task in flight is cancelled) and the error."""
        if self.lost is None:
            self.lost = f"cluster error at Dask scheduler {self.address}: {why}"
            futures = [task[0] for task in self._tasks.values()]
            try:  # done now (cancelled): the driver stops waiting for them
                self.client.cancel(futures, force=True, reason="edi837-cluster-lost")
            except Exception:  # a closed client refuses even this
                for future in futures:
                    future._state.cancel(reason="edi837-cluster-lost")
            self._tasks.clear()
        return ClusterLost(self.lost)

    def _raise_if_lost(self) -> None:
        if self.lost is not None:
            raise ClusterLost(self.lost)
        if self.client.status in ("closing", "closed"):
            raise self.lose("the client's connection to the scheduler is closed")

    # -- the executor's members -------------------------------------------------------------
    def submit(self, function, *args, name: str):
        self._raise_if_lost()
        try:
            future = self.client.submit(function, *args, pure=False)
        except Exception as exc:  # whatever the client says: it cannot send
            raise self.lose(f"cannot send a task: {type(exc).__name__}: {exc}") from None
        self._tasks[future.key] = (future, function, args, name)
        return future

    def wait(self, futures) -> None:
        """Until one of ``futures`` is done.  A lost cluster is not raised here but by
        :meth:`result` (the driver asks for the results of what is done, and every
        task in flight is then done: cancelled)."""
        import distributed

        while self.lost is None:
            try:
                distributed.wait(futures, timeout=POLL, return_when="FIRST_COMPLETED")
                return
            except TimeoutError:
                try:
                    self._look()
                except ClusterLost:
                    return
            except Exception as exc:  # waiting fails only when the cluster does
                self.lose(_why(exc))

    def _look(self) -> None:
        """Between waits: the scheduler answers and has workers (or had, lately)."""
        try:
            workers = len(self.client.nthreads(callback_timeout=ANSWER))
        except TimeoutError:
            raise self.lose(f"the scheduler did not answer for {ANSWER:g} s") from None
        except Exception as exc:  # no answer: lost
            raise self.lose(_why(exc)) from None
        if workers:
            self._alone_since = None
            return
        now = time.monotonic()
        self._alone_since = self._alone_since or now
        if now - self._alone_since >= NO_WORKERS:
            raise self.lose(f"no worker for {NO_WORKERS:g} s")

    def result(self, future):
        """The task's result (or the exception it raised); ClusterLost; Poison."""
        self._raise_if_lost()
        try:
            return future.result()
        except Exception as exc:
            if killed(exc):
                return self._alone(future)
            if _lost_connection(exc):
                raise self.lose(_why(exc)) from None
            if isinstance(exc, KeyMissing):  # a worker the key plugin did not reach
                raise self.lose(str(exc)) from None
            raise
        finally:
            self._tasks.pop(future.key, None)

    def forget(self, future) -> None:
        """A task whose result was taken without :meth:`result` (a batch file's scan,
        edi837.parallel.batch_pieces): not held, nor cancelled, any more."""
        self._tasks.pop(future.key, None)

    def _alone(self, future):
        """The task checked again in a child process here (``isolated``)."""
        from . import isolated

        _, function, args, name = self._tasks[future.key]
        args = _values(args)
        try:
            value = isolated.run(function, args, memory_limit=self.memory_limit())
        except isolated.ChildDied as exc:
            self.warn(f"{name}: killed its Dask workers and a process of its own on this "
                      f"host ({exc}): the file's fault")
            raise Poison(str(exc)) from None
        self.faults += 1
        if self.faults >= MAX_FAULTS:
            raise self.lose(f"workers died on {self.faults} files that were checked fine in a "
                            "process of their own on the driver's host (workers killed, or "
                            "short of memory?)")
        self.warn(f"{name}: its Dask workers died, but it was checked fine in a process of "
                  f"its own on this host: a fault of the cluster ({self.faults} of "
                  f"{MAX_FAULTS} allowed in a run)")
        return value

    def memory_limit(self) -> int | None:
        """The smallest memory limit of the cluster's workers (None: none)."""
        try:
            workers = self.client.scheduler_info()["workers"].values()
            limits = [w.get("memory_limit") or 0 for w in workers]
        except Exception:  # no answer: no limit known
            return None
        limits = [limit for limit in limits if limit > 0]
        return min(limits) if limits else None


def _why(exc: BaseException) -> str:
    if isinstance(exc, CancelledError):
        return "lost the connection to the scheduler (the tasks were cancelled)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"lost the connection to the scheduler ({type(exc).__name__}{': ' if text else ''}" \
           f"{text})"


def _values(args: tuple) -> tuple:
    """A task's arguments with each Dask future (an earlier task's outcome that
    Dask would hand the task) replaced by its result, for a process of its own."""
    import distributed

    return tuple(arg.result() if isinstance(arg, distributed.Future) else arg for arg in args)
