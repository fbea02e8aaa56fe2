"""`batch --dask`: jobs on a cluster whose workers share no folder with the driver.

A worker runs a job's step in a scratch folder of its own and hands back what
the step wrote, as bytes in the task's result: step 1 (check) its work folder
(findings, claim records), step 2 (reports) the file's outputs.  The driver
writes both where they belong, in its own OUTDIR, and hands step 2 the work
folder (now with the history's findings) in the job (``ReportJob.handover``).
So a worker needs to reach only the inputs (at the path the driver gave, or
a URL), and one that cannot (a path not there on its host) is a cluster
problem: :class:`~edi837.workers.InputUnreachable` (the run stops, exit 2,
the file waits in the inbox), never "changed while being checked".

* :func:`run_remote` - the task, on a worker.
* :class:`RemoteJobs` - the driver's side: wraps the Dask executor
  (edi837.parallel.cluster.DaskExecutor) with the batch Executor's members.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from ..locations import open_input
from ..workers import UNREACHABLE, InputUnreachable, unreachable, unreachable_message
from . import durable
from .inbox import identity
from .names import shown
from .run import ACK999, FINDINGS, HISTORY, RECORDS, Job, ReportJob, Worker

_worker: list = [None, None]  # [settings, Worker] of this worker process


def _here(job):
    """The job with the file's identity as this machine sees it, when only the device
    and inode differ (a shared path): the SHA-256 check after reading decides."""
    inner = job.job if isinstance(job, ReportJob) else job
    try:
        seen = identity(os.lstat(inner.path))
    except OSError:
        return job
    if seen[2:] != tuple(inner.identity)[2:]:
        return job
    inner = replace(inner, identity=seen)
    return replace(job, job=inner) if isinstance(job, ReportJob) else inner


def _files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative name -> bytes), but temporaries."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not durable.is_temp(p.name)}


def run_remote(settings, job, upstream: dict | None = None, taken=()) -> dict:
    """A batch job's step on a Dask worker, in a scratch folder of its own: the step's
    outcome, with ``handover`` (step 1: its work folder) or ``files`` (step 2: the
    outputs) as bytes; ``unreachable`` when this worker cannot read the input.

    Step 2 of a file checked whole gets step 1's outcome as ``upstream`` (Dask hands
    it from the worker that holds it) and takes the files named ``taken`` from its
    handover: the driver sends only what it wrote itself (the history's findings),
    never the findings and claim records a worker made (megabytes for a large file)."""
    if upstream is not None:
        made = upstream.get("handover")
        if made is None or any(name not in made for name in taken):
            return {"changed": True}  # step 1 run again (its worker lost) and it changed
        job = replace(job, handover={**{name: made[name] for name in taken},
                                     **(job.handover or {})})
    inner = job.job if isinstance(job, ReportJob) else job
    trouble = unreachable(inner.path, open_input)
    if trouble is not None:
        return trouble
    if _worker[0] is None or _worker[0] != settings:
        _worker[:] = [settings, Worker(settings)]
    worker, job = _worker[1], _here(job)
    with tempfile.TemporaryDirectory(prefix="edi837-job-") as scratch:
        work, out = Path(scratch, "work"), Path(scratch, "out")
        if isinstance(job, ReportJob):
            work.mkdir()
            for name, data in (job.handover or {}).items():
                (work / name).write_bytes(data)
            local = replace(job.job, work_dir=str(work), out_dir=str(out))
            outcome = worker.report(replace(job, job=local, handover=None))
            if outcome.get("outputs"):
                outcome["files"] = _files(out)
            outcome["scratch"] = str(out)  # the driver names its own folder instead
            return outcome
        outcome = worker.check(replace(job, work_dir=str(work), out_dir=str(out)))
        if "checked" in outcome:
            outcome["handover"] = _files(work)
        return outcome


def job_name(job) -> str:
    """A job's file as the cluster's warnings name it (escaped, as in the log)."""
    return shown((job.job if isinstance(job, ReportJob) else job).name)


def _put(path: Path, data: bytes) -> None:
    """``data`` in place whole at ``path`` (fsynced; the directory is the caller's)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


HANDED = (FINDINGS, RECORDS, HISTORY, ACK999)  # the work folder a ReportJob needs


def handover_of(job: Job, unchanged: dict | None = None) -> tuple[dict[str, bytes], list]:
    """The work folder a ReportJob needs (the check's findings and records, the
    history's findings), as bytes; but the files still as a worker wrote them
    (``unchanged``: name -> their stat when written), only named: the worker takes
    those from step 1's outcome.  Returns (bytes by name, the names taken)."""
    work, unchanged = Path(job.work_dir), unchanged or {}
    files, taken = {}, []
    for name in HANDED:
        try:
            seen = os.stat(work / name)
        except FileNotFoundError:
            continue
        if unchanged.get(name) == (seen.st_size, seen.st_mtime_ns, seen.st_ino):
            taken.append(name)
        else:
            files[name] = (work / name).read_bytes()
    return files, taken


def write_handover(job: Job, files: dict[str, bytes]) -> dict:
    """The files in the job's work folder; returns each one's (size, mtime, inode)."""
    work = Path(job.work_dir)
    durable.makedirs(work)
    written = {}
    for name, data in files.items():
        _put(work / name, data)
        seen = os.stat(work / name)
        written[name] = (seen.st_size, seen.st_mtime_ns, seen.st_ino)
    return written


def _relocated(name: str, data: bytes, scratch: str, out: str) -> bytes:
    """An output naming the worker's scratch folder (a fix's change log names its
    corrected file) names the driver's output folder instead, as if written there."""
    if not scratch or scratch.encode() not in data:
        return data
    if name.endswith(".json"):
        import json

        return data.replace(json.dumps(scratch)[1:-1].encode(), json.dumps(out)[1:-1].encode())
    return data.replace(scratch.encode(), out.encode())


def write_outputs(job: Job, files: dict[str, bytes], scratch: str = "") -> None:
    """A file's outputs, written by the driver where the worker would have."""
    out = Path(job.out_dir)
    folders = {out}
    for name, data in files.items():
        path = out / name
        durable.makedirs(path.parent)
        _put(path, _relocated(name, data, scratch, job.out_dir))
        folders.update(p for p in path.parents if out in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        durable.fsync_dir(folder)
    durable.fsync_dir(out.parent)


class RemoteJobs:
    """The batch Executor's members over a Dask executor whose workers share no folder
    with the driver: work folders and outputs cross in the tasks' results."""

    def __init__(self, executor) -> None:
        self.executor = executor
        self.slots = executor.slots
        self.table_version = executor.table_version
        self._jobs: dict[int, tuple] = {}  # id(future) -> (future, job)
        # a file checked whole: work folder -> (step 1's future, its files as written)
        self._upstream: dict[str, tuple] = {}

    @property
    def lost(self) -> str | None:
        """Why the cluster is lost (the run stops), or None (edi837.parallel.faults)."""
        return self.executor.lost

    def new_run(self) -> None:
        """``--watch``: the cluster's faults are counted per run."""
        self.executor.new_run()
        self._upstream.clear()

    def submit(self, job):
        upstream, taken = None, []
        if isinstance(job, ReportJob) and job.handover is None:
            upstream, written = self._upstream.pop(job.job.work_dir, (None, None))
            handover, taken = handover_of(job.job, written if upstream is not None else None)
            job = replace(job, handover=handover)
        if taken:  # Dask moves step 1's outcome between workers, not through the driver
            future = self.executor.submit(job, upstream=upstream, taken=taken)
        else:
            future = self.executor.submit(job)
        self._jobs[id(future)] = (future, job)
        return future

    def wait(self, futures) -> None:
        self.executor.wait(futures)

    def result(self, future) -> dict:
        _, job = self._jobs.pop(id(future), (None, None))
        outcome = self.executor.result(future)
        if UNREACHABLE in outcome:
            inner = job.job if isinstance(job, ReportJob) else job
            raise InputUnreachable(unreachable_message(inner.path if inner else "?", outcome))
        if "handover" in outcome:
            written = write_handover(job, outcome.pop("handover"))
            if _whole(future):  # its outcome stays on a worker until step 2 takes it
                self._upstream[job.work_dir] = (future, written)
        scratch = outcome.pop("scratch", "")
        if "files" in outcome:
            write_outputs(job.job, outcome.pop("files"), scratch)
        for key in ("problem", "reason"):  # (a fix's message may name its output)
            if scratch and isinstance(outcome.get(key), str):
                outcome[key] = outcome[key].replace(scratch, job.job.out_dir)
        return outcome

    def close(self) -> None:
        self._upstream.clear()
        self.executor.close()


def _whole(future) -> bool:
    """A Dask future of a whole job's task (not a file sent as pieces) that finished."""
    from ..parallel.batch_pieces import SplitJob

    # (finished: its outcome is on a worker; not one checked again in a process of its
    # own on this host after the task killed its workers, an erred future)
    return not isinstance(future, SplitJob) and getattr(future, "status", "") == "finished"
