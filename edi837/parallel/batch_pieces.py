"""`batch --dask`: a large inbox file checked as pieces, behind the batch's Job.

The batch driver hands the executor a :class:`~edi837.batch.run.Job` (step 1:
check the file, hand back its findings and claim records) and takes back a
dict of facts.  For a large file the Dask executor does that step as pieces:
a worker reads the file once (envelope findings, hash, cuts:
:func:`.work.scan_unit`), the driver sends each piece as a task, and when all
are back makes the work folder's files exactly as the worker's step 1 would
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

from ..history.broken import breaks_set
from ..history.handover import (
    FINDINGS,
    RECORDS,
    dumps,
    finding_tuple,
    findings_of_bytes,
    record_tuple,
    records_of_bytes,
)
from .scan import worth_splitting
from .work import CheckSettings, Unit


def check_settings(settings) -> CheckSettings:
    """A batch worker's settings (edi837.batch.run.WorkerSettings) as a piece's."""
    return CheckSettings(settings.drug_tables, settings.config, settings.history_key_id,
                         settings.history_persistent, settings.refdata,
                         settings.refdata_snapshot)


class SplitJob:
    """A Job whose file is being cut by a worker (its scan), then checked as pieces:
    done when the scan is back and every piece is.  The pieces are sent when the
    scan is seen done (:meth:`done`, :meth:`pending`); a scan that cannot be used
    leaves no pieces and no ``scanned``: then the job runs whole."""

    def __init__(self, job, scan, submit) -> None:
        self.job = job
        self.scan = scan  # the future of the worker's scan (work.scan_unit)
        self._submit = submit
        self.units: list | None = None  # [(Unit, future)] in file order, once scanned
        self.scanned: dict | None = None  # size, hash, sets, submitters; unreadable
        self.envelope = b""  # the scan's envelope findings, configured (bytes)

    def _expand(self) -> bool:
        """Whether the scan is back (and the pieces sent)."""
        if self.units is not None:
            return True
        if not self.scan.done():
            return False
        self.units = []
        try:
            facts = self.scan.result()
        except Exception:  # its worker died: the job runs whole, and says
            return True
        if "scanned" not in facts or facts["scanned"]["sha256"] != self.job.sha256:
            return True  # not cut, not the content taken, or not readable there
        self.scanned = {**facts["scanned"], "unreadable": facts["unreadable"]}
        self.envelope = facts["envelope"]
        for piece in facts["pieces"]:
            unit = Unit(self.job.path, piece)
            self.units.append((unit, self._submit(unit)))
        return True

    def done(self) -> bool:
        return self._expand() and all(future.done() for _, future in self.units)

    def pending(self) -> list:
        if not self._expand():
            return [self.scan]
        return [future for _, future in self.units if not future.done()]


def split_job(job, submit, piece_size: int) -> SplitJob | None:
    """Have a worker read and cut ``job``'s file (``submit(unit)`` -> future), its
    pieces sent when the cuts are back; None when it is checked whole instead
    (small).  The driver reads nothing of the file here."""
    if not worth_splitting(job.path, piece_size):
        return None
    for leftover in (job.out_dir, job.work_dir):  # only complete runs of a step count
        shutil.rmtree(leftover, ignore_errors=True)
    return SplitJob(job, submit(Unit(job.path, scan=piece_size)), submit)


def finish(split: SplitJob, results, reader_findings=None) -> dict | None:
    """The job's facts, its work folder's files made from its pieces' (``results``:
    their facts, in order) in ``handover``; None when the scan or a piece cannot be
    used (then the job runs whole).  (``reader_findings`` is not used: the worker's
    scan applied the configuration to the envelope findings.)"""
    if split.scanned is None or not all(facts.get("sha256") for facts in results):
        return None
    envelope = findings_of_bytes(split.envelope)
    counted = [0]

    broken: list = []  # sets a 999 rejects (edi837.history.broken): out of the history

    def counting(finding):
        counted[0] += 1
        if breaks_set(finding):
            broken.append((finding.interchange, finding.group, finding.transaction))
        return finding_tuple(finding)

    handover = {
        FINDINGS: dumps(chain(*(findings_of_bytes(f["findings"]) for f in results), envelope),
                        counting),
        RECORDS: dumps(chain(*(records_of_bytes(f["records"]) for f in results)), record_tuple)}
    count = counted[0]
    result = split.scanned
    submitters = dict(result["submitters"])
    payer_ids: set[str] = set()  # which payer profiles matched (the run's notices)
    for facts in results:  # each piece read the heads of its sets (1000A)
        submitters.update(facts.get("submitters") or {})
        payer_ids.update(facts.get("payer_ids") or ())
    status = "unreadable" if result["unreadable"] else "findings" if count else "ok"
    return {"handover": handover,
            "checked": {"path": split.job.path, "status": status,
                        "transactions": result["transactions"],
                        "claims": sum(facts["claims"] for facts in results),
                        "drug_lines": sum(facts["drug_lines"] for facts in results),
                        "size": result["size"], "sha256": result["sha256"],
                        "submitters": submitters, "payer_ids": sorted(payer_ids),
                        "broken_sets": len(set(broken))}}
