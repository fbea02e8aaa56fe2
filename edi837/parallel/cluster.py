"""Dask: files and pieces as tasks on a cluster (`check --dask`, `batch --dask`).

The driver stays the only writer (ledger, history, moves, every report); a
task gets plain arguments, reads its input at the location the driver gave
(an absolute path on every host, or a URL), writes nothing the driver reads,
and returns a plain dict (findings, claim records and outputs as bytes), so
it can run on any worker, in any folder, and again.  A worker that cannot
read an input is a cluster problem: exit 2, naming the file and the worker.

* ``local`` / ``local:N``: a LocalCluster of N worker processes (default: the
  CPU count), one thread each.
* ``tls://HOST:PORT``: certificates from Dask's security settings
  (``distributed.comm.tls.ca-file``, ``.client.cert``, ``.client.key``, e.g.
  ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE``).
* ``tcp://HOST:PORT``: findings are protected health information, so a plain
  TCP scheduler is refused unless it is on the loopback address or
  ``--insecure`` is given.

A worker lost mid-task is retried (the scheduler's ``allowed-failures``: 1 on a
local cluster; set it on yours).  What then is the file's fault and what the
cluster's is decided in :mod:`.faults`: a task that kills its workers is
checked once more in a process of its own on the driver's host; a lost
scheduler stops the run (exit status 2).  The patient history's key reaches
each worker once, by a worker plugin (:func:`register_key`), never in a task.
"""
from __future__ import annotations

import importlib
import ipaddress
import os
import socket
import sys
from contextlib import contextmanager
from urllib.parse import urlsplit

from ..workers import ClusterError

__all__ = ["ClusterError", "DaskExecutor", "DaskUnits", "check_address", "connect",
           "require_dask"]

INSTALL_HINT = "--dask needs Dask: pip install 'edi837[dask]'"
KILLED = ("edi837's Dask workers died while checking this file, and so did a process of its "
          "own on the driver's host with a worker's memory limit: the file needs "
          "more memory than a worker has, or makes edi837 crash (please report it); the "
          "file was not checked")


def require_dask():
    """Dask's ``distributed``, imported lean (:func:`_lean_import`); ClusterError without
    it."""
    try:
        with _lean_import():
            import distributed
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    quiet_distributed()
    return distributed


@contextmanager
def _lean_import():
    """Importing ``distributed`` is most of a driver's fixed CPU (issue 26: the driver at
    most 15% of one process's).  Two of its costs buy a command-line client nothing, and
    are left out while it is imported: Dask parses its YAML defaults with PyYAML's
    pure-Python loader where PyYAML's C loader (libyaml, same YAML, same values) is
    there, and imports jinja2 for the notebook HTML of its objects (``dask.widgets``
    falls back without it; jinja2 stays importable afterwards).  About 17% of the
    instructions of ``import distributed`` (benchmarks/results/cluster.md).  Once
    imported, nothing is changed: every later import and YAML load is Dask's own."""
    if "distributed" in sys.modules:
        yield
        return
    try:  # (PyYAML, which Dask needs: imported by name, as untyped as it is)
        yaml = importlib.import_module("yaml")
    except ImportError:  # no Dask either, then: require_dask says so
        yaml = None
    safe_load = getattr(yaml, "safe_load", None)
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        yaml.safe_load = lambda stream: yaml.load(stream, Loader=fast)
    blocked = "jinja2" not in sys.modules
    if blocked:
        sys.modules["jinja2"] = None  # an ImportError  # type: ignore[assignment]
    try:
        yield
    finally:
        if fast is not None:
            yaml.safe_load = safe_load
        if blocked and sys.modules.get("jinja2", False) is None:
            del sys.modules["jinja2"]


def quiet_distributed() -> None:
    """Dask's own loggers say nothing on the driver (``--debug`` / EDI837_DEBUG=1 keeps
    them): a lost scheduler is edi837's one line ("cluster error ... lost the connection
    to the scheduler"), not that line among ``distributed.client - ERROR`` tracebacks
    (CancelledError, CommClosedError), some printed after the batch's last log line."""
    import logging

    # --debug sets EDI837_DEBUG as the command line is read (edi837.cli), before any
    # command asks for Dask; reading it here keeps parallel/ below the command layer
    if os.environ.get("EDI837_DEBUG", "") not in ("", "0"):
        return
    names = [name for name in list(logging.root.manager.loggerDict)
             if name in ("distributed", "tornado") or name.startswith(("distributed.",
                                                                       "tornado."))]
    for name in {"distributed", "tornado", *names}:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:  # a name: every address it resolves to must be on this machine
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def check_address(address: str, insecure: bool) -> tuple[str, int | None]:
    """("local", workers) or (scheduler address, None); ClusterError when refused."""
    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2]
        if count and (not count.isdigit() or int(count) < 1):
            raise ClusterError(f"--dask {address}: local:N needs a number of workers, "
                               "such as local:2")
        return "local", int(count) if count else (os.cpu_count() or 1)
    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or not parts.hostname:
        raise ClusterError(f"--dask {address}: give tls://HOST:PORT, tcp://HOST:PORT, local "
                           "or local:N")
    if parts.scheme == "tcp" and not insecure and not _loopback(parts.hostname):
        raise ClusterError(f"--dask {address}: findings are protected health information and "
                           "tcp:// sends them unencrypted; use tls:// with Dask's certificate "
                           "settings, or --insecure on a network you trust")
    return address, None


def connect(address: str, insecure: bool):
    """A Dask client (and the LocalCluster it owns, or None)."""
    where, workers = check_address(address, insecure)
    distributed = require_dask()
    import dask

    if where == "local":
        # retried once on a lost worker, then KilledWorker
        dask.config.set({"distributed.scheduler.allowed-failures": 1})
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
        return distributed.Client(cluster), cluster
    security = None
    if where.startswith("tls://"):
        security = distributed.security.Security()  # Dask's own TLS settings
        if not security.tls_ca_file:
            raise ClusterError(f"--dask {address}: tls:// needs Dask's TLS settings "
                               "(distributed.comm.tls.ca-file, .client.cert, .client.key; "
                               "e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE)")
    try:
        return distributed.Client(where, security=security, timeout="20s"), None
    except Exception as exc:  # unreachable, refused, a TLS setting wrong
        raise ClusterError(f"cluster error: --dask {address}: cannot connect to the "
                           f"scheduler: {type(exc).__name__}: {exc}") from None


def register_key(client, key_id: str) -> None:
    """Give every worker of ``client``'s cluster (those joining later too) the history
    key named ``key_id`` (its fingerprint), once: a worker plugin."""
    from .key_plugin import HistoryKey
    from .keys import key_for

    try:
        client.register_plugin(HistoryKey(key_for(key_id)))
    except Exception as exc:  # the scheduler or a worker refused it, or the scheduler
        # went while asked (killed as the run starts): a cluster error, named as one
        address = getattr(client.scheduler, "address", None) or "(unknown)"
        raise ClusterError(f"cluster error at Dask scheduler {address}: cannot give the "
                           "Dask workers the patient history's key: "
                           f"{type(exc).__name__}: {exc}") from None


def _stderr(message: str) -> None:
    import sys

    print(f"edi837: warning: {message}", file=sys.stderr)


class DaskUnits:
    """`check` units as Dask tasks: the members of LocalUnits."""

    remote = True  # workers read and cut large files; one that cannot read: ClusterError

    def __init__(self, client, settings) -> None:
        from .faults import Guard

        self.client = client
        self.settings = settings
        self.slots = max(1, sum(client.nthreads().values()))
        register_key(client, settings.history_key_id)
        self.guard = Guard(client, warn=_stderr)

    def submit(self, unit):
        from .work import check_unit

        return self.guard.submit(check_unit, self.settings, unit, name=unit.path)

    def judge(self, run_id: str, files: list, index: int):
        """One shard of the run's own history (edi837.parallel.shards.judge_shard)."""
        from .shards import judge_shard

        return self.guard.submit(judge_shard, self.settings, run_id, files,
                                 name=f"the patient history's shard {index + 1}")

    def wait(self, futures) -> None:
        self.guard.wait(futures)

    def result(self, future) -> dict:
        from .faults import Poison

        try:
            return self.guard.result(future)
        except Poison as exc:
            return {"killed": True, "how": str(exc)}

    def close(self) -> None:
        return None


# -- batch -------------------------------------------------------------------------------
class DaskExecutor:
    """`batch --dask`: the batch Executor protocol (edi837.batch.executors) on Dask; a
    large file's check is sent as pieces (edi837.parallel.batch_pieces).  ``task``
    (settings, job) -> dict runs a job on a worker (edi837.batch.remote.run_remote,
    which hands the job's files back as bytes: edi837.batch.remote.RemoteJobs);
    ``name`` (job) -> str names a job's file in the cluster's warnings."""

    def __init__(self, settings, client, cluster=None, *, task, piece_size: int,
                 name=None) -> None:
        from ..drugs import load_drug_table
        from ..engine import Engine
        from .batch_pieces import check_settings
        from .faults import Guard

        self.settings = settings
        self.client = client
        self.cluster = cluster
        self.task = task
        self.piece_size = piece_size  # a file of two pieces or more is cut, by a worker
        self.name = name or (lambda job: str(getattr(job, "job", job).path))
        self.slots = max(1, sum(client.nthreads().values()))
        register_key(client, settings.history_key_id)
        self.guard = Guard(client)
        table = load_drug_table(list(settings.drug_tables))
        self.table_version = table.version
        self._pieces = check_settings(settings)
        self._engine = Engine(table, settings.config)  # the configuration, for envelopes

    def submit(self, job, *, upstream=None, taken=()):
        """``upstream``: step 1's future, whose outcome's handover files ``taken``
        step 2 reads on its worker (edi837.batch.remote.run_remote)."""
        from .batch_pieces import split_job
        from .work import check_unit

        if upstream is not None:
            return self.guard.submit(self.task, self.settings, job, upstream, list(taken),
                                     name=self.name(job))
        step1 = not hasattr(job, "checked")  # a Job, not a ReportJob
        # validation reads it whole; so does --split, whose history keeps the claims
        # as the corrected whole file forwards them (batch.run.Worker._forwarded_records)
        if step1 and not self.settings.validate and not self.settings.split:
            split = split_job(job, lambda unit: self.guard.submit(
                check_unit, self._pieces, unit, name=self.name(job)), self.piece_size)
            if split is not None:
                return split
        return self._whole(job)

    @property
    def lost(self) -> str | None:
        """Why the cluster is lost (the run stops), or None."""
        return self.guard.lost

    def new_run(self) -> None:
        """``--watch``: the cluster's faults are counted per run."""
        self.guard.faults = 0

    def _whole(self, job):
        return self.guard.submit(self.task, self.settings, job, name=self.name(job))

    def wait(self, futures) -> None:
        from .batch_pieces import SplitJob

        expanded = []
        for future in futures:
            expanded += future.pending() if isinstance(future, SplitJob) else [future]
        if expanded:
            self.guard.wait(expanded)

    def result(self, future) -> dict:
        """The job's facts; ClusterLost (a WorkerLost: the file waits for the next run)
        when the cluster failed; EDI008 and quarantine when the file kills its
        workers and a process of its own (``faults``)."""
        from .batch_pieces import SplitJob, finish
        from .faults import Poison

        try:
            if isinstance(future, SplitJob):
                self.guard.forget(future.scan)  # its result was taken by the SplitJob
                facts = [self._piece(f) for _, f in future.units]
                outcome = finish(future, facts, self._engine._reader_findings)
                if outcome is not None:
                    return outcome
                whole = self._whole(future.job)
                self.guard.wait([whole])
                return self.guard.result(whole)
            return self.guard.result(future)
        except Poison as exc:  # the file's fault: quarantined, the run goes on
            return {"quarantine": True, "log_reason": "EDI008 killed its workers and a "
                    "process of its own", "reason": f"EDI008 {KILLED} (that process: {exc})"}

    def _piece(self, future) -> dict:
        from .faults import Poison

        try:
            return self.guard.result(future)
        except Poison:
            return {"killed": True}  # the file is checked whole, and reported if fatal

    def close(self) -> None:
        self._engine.close()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
