"""Real Dask parts for the tests: a ``dask scheduler`` and ``dask worker`` processes,
as on a cluster (issue 26).

``dask_cluster`` (session): the cluster CI started (``EDI837_TEST_DASK``, see
.ci/run), or else one started here for the session: a scheduler and two
workers, each worker in an empty folder of its own as its working directory,
one thread each.  ``own_cluster`` starts one for a test alone (a test that kills
its scheduler).  Starting one takes a few seconds: tests using them are slow.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_support import subprocess_env

WORKERS = 2
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask(*args: str) -> list[str]:
    return [sys.executable, "-m", "dask", *args]


class Cluster:
    """A scheduler and its workers, processes of their own."""

    def __init__(self, folder: Path, workers: int = WORKERS, memory_limit: str = "2GiB") -> None:
        self.folder = folder
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        port = self.address.rsplit(":", 1)[1]
        log = open(folder / "scheduler.log", "wb")
        self.scheduler = subprocess.Popen(
            _dask("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"),
            cwd=folder, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT)
        self.memory_limit = memory_limit
        self.workers = []
        try:
            for n in range(workers):
                self.add_worker(f"worker-{n}")
            self.wait_for_workers(workers)
        except BaseException:
            self.stop()
            raise

    def add_worker(self, name: str, hidden=(), scratch: Path | None = None,
                   env: dict | None = None) -> Path:
        """One more worker, ``name``, in an empty folder of its own as its working
        directory (returned; Dask's own files go to ``scratch``, else there too).
        ``hidden``: folders the worker sees as an empty tmpfs (a mount namespace of
        its own: ``unshare --mount``, Linux as root), so what the driver keeps there
        is out of its reach.  ``env``: its environment (default the tests')."""
        home = self.folder / name  # an empty folder: no path of the tests' works here
        home.mkdir(parents=True)
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
        argv = _dask("worker", self.address, "--name", name, "--nthreads", "1",
                     "--no-dashboard", "--memory-limit", self.memory_limit,
                     "--local-directory", str(scratch or home))
        if hidden:
            mounts = "".join(f'mount -t tmpfs tmpfs "{p}" && ' for p in hidden)
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    f'{mounts}cd "{home}" && exec "$0" "$@"', *argv]
        log = open(self.folder / f"{name}.log", "wb")
        self.workers.append(subprocess.Popen(argv, cwd=home, env=env or subprocess_env(),
                                             stdout=log,
                                             stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL))
        return home

    def wait_for_workers(self, count: int) -> None:
        import distributed

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited: {self.log('scheduler')}")
            try:
                with distributed.Client(self.address, timeout="5s") as client:
                    if count:
                        client.wait_for_workers(count,
                                                timeout=max(1, deadline - time.monotonic()))
                    return
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError("the Dask workers did not start: "
                                       f"{self.log('worker-0')}") from None
                time.sleep(0.2)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-2000:]

    def kill_scheduler(self) -> None:
        self.scheduler.kill()
        self.scheduler.wait()

    def stop(self) -> None:
        """The workers first (their nannies stop their worker processes), then the
        scheduler."""
        for group in (self.workers, [self.scheduler]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextlib.contextmanager
def own_cluster(folder: Path, **options):
    folder.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(folder, **options)
    try:
        yield cluster
    finally:
        cluster.stop()


def session_cluster(tmp_path_factory):
    """The address of a real scheduler with two workers in folders of their own, until
    the generator is closed (the ``dask_cluster`` fixture of tests/conftest.py)."""
    pytest.importorskip("distributed")
    given = os.environ.get("EDI837_TEST_DASK")
    if given:
        yield given
        return
    with own_cluster(tmp_path_factory.mktemp("dask-cluster")) as cluster:
        yield cluster.address
