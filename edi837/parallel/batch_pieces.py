"""`batch --dask`: a large inbox file checked as pieces, behind the batch's Job.

The batch driver hands the executor a :class:`~edi837.batch.run.Job` (step 1:
check the file, hand back its findings and claim records) and takes back a
dict of facts.  For a large file the Dask executor does that step as pieces:
it reads the file once in the driver (envelope findings, hash, cuts:
:func:`.scan.read_and_cut`), sends each piece as a task, and when all are
back makes the work folder's files exactly as the worker's step 1 would
(findings in file order, then the claim records, for the driver's history
stage), as bytes in the outcome's ``handover`` (edi837.batch.remote writes
them).  Anything unusual (the hash is not the one taken, a piece cannot be
used) makes it run the Job whole, as for a small file.  Nothing here imports
edi837.batch (which imports this package): a job is anything with ``path``,
``sha256``, ``out_dir`` and ``work_dir``.
"""
from __future__ import annotations

import shutil
from itertools import chain

from ..history.handover import (
    FINDINGS,
    RECORDS,
    dumps,
    finding_tuple,
    findings_of_bytes,
    record_tuple,
    records_of_bytes,
)
from .scan import Read, read_and_cut, worth_splitting
from .work import CheckSettings, Unit


def check_settings(settings) -> CheckSettings:
    """A batch worker's settings (edi837.batch.run.WorkerSettings) as a piece's."""
    return CheckSettings(settings.drug_tables, settings.config, settings.history_key,
                         settings.history_persistent, settings.refdata,
                         settings.refdata_snapshot)


class SplitJob:
    """A Job whose file is being checked as pieces: done when every piece is."""

    def __init__(self, job, read: Read, units: list) -> None:
        self.job = job
        self.read = read
        self.units = units  # [(Unit, future)] in file order

    def done(self) -> bool:
        return all(future.done() for _, future in self.units)

    def pending(self) -> list:
        return [future for _, future in self.units if not future.done()]


def split_job(job, submit, piece_size: int) -> SplitJob | None:
    """Read ``job``'s file and send its pieces (``submit(unit)`` -> future); None when
    it is checked whole instead (small, not cut, not the content taken)."""
    if not worth_splitting(job.path, piece_size):
        return None
    for leftover in (job.out_dir, job.work_dir):  # only complete runs of a step count
        shutil.rmtree(leftover, ignore_errors=True)
    units = []

    def on_piece(piece) -> None:
        unit = Unit(job.path, piece)
        units.append((unit, submit(unit)))

    try:
        read = read_and_cut(job.path, piece_size, on_piece)
    except Exception:  # noqa: BLE001 - the whole job's worker reports what is wrong
        read = None
    if read is None or read.result.sha256 != job.sha256:
        for _, future in units:
            future.cancel()
        return None
    return SplitJob(job, read, units)


def finish(split: SplitJob, results, reader_findings) -> dict | None:
    """The job's facts, its work folder's files made from its pieces' (``results``:
    their facts, in order) in ``handover``; None when a piece cannot be used (then
    the job runs whole).  ``reader_findings`` applies the configuration to the
    envelope findings."""
    if not all(facts.get("sha256") for facts in results):
        return None
    envelope = reader_findings(split.read.envelope)
    counted = [0]

    def counting(finding):
        counted[0] += 1
        return finding_tuple(finding)

    handover = {
        FINDINGS: dumps(chain(*(findings_of_bytes(f["findings"]) for f in results), envelope),
                        counting),
        RECORDS: dumps(chain(*(records_of_bytes(f["records"]) for f in results)), record_tuple)}
    count = counted[0]
    result = split.read.result
    submitters = dict(result.submitters)
    for facts in results:  # each piece read the heads of its sets (1000A)
        submitters.update(facts.get("submitters") or {})
    status = "unreadable" if split.read.unreadable else "findings" if count else "ok"
    return {"handover": handover,
            "checked": {"path": result.path, "status": status,
                        "transactions": result.transactions,
                        "claims": sum(facts["claims"] for facts in results),
                        "drug_lines": sum(facts["drug_lines"] for facts in results),
                        "size": result.size, "sha256": result.sha256,
                        "submitters": submitters}}
