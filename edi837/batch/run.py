"""Running one file: check it, write its reports (and corrected EDI), say what happened.

This is the work a worker does, in two steps with the patient history between
them; it runs in the batch process or in a worker process (``executors``).

1. :class:`Job`: check the file; keep its findings, and the records of its drug
   claims, in the job's work folder.  The batch process then judges the
   records against the patient history, in input order (``driver``), and puts
   the history's findings beside them.
2. :class:`ReportJob`: write the reports (and corrected EDI) from both, and
   return a plain dict of facts; the batch process records them in the ledger
   and moves the input (``archive``).

Workers get plain arguments, write only below the job's output and work
folders, and return plain dicts.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..config import Config
from ..files import atomic_output
from ..history.handover import FINDINGS, HISTORY, RECORDS
from . import durable
from .inbox import Identity, same_file
from .ledger import FILES_DIR
from .options import EXIT_TROUBLE

FIX_DIR = "fixed"  # corrected and split EDI inside an input's output directory
ACK999 = "999"  # with --ack277: the file's 999, written in step 1 (in the work folder)


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs; picklable (the drug table itself is not: each worker loads it)."""

    drug_tables: tuple[str, ...]
    config: Config
    formats: tuple[str, ...]
    fix: bool
    split: bool
    validate: bool
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    ack277: bool = False  # a 999 and a 277CA beside each file's reports
    history_key_id: str = ""  # the fingerprint of the key workers hash patients with:
    # the key itself reaches each worker process once (edi837.parallel.keys)
    history_persistent: bool = True  # DOC001's first-dose note then comes from HIS003
    refdata: str | None = None  # imported reference data folder, and the import the run
    refdata_snapshot: int | None = None  # started with (every worker judges by the same)
    history_store: str | None = None  # where the lasting history is (reports name it)
    control_numbers: str | None = None  # --split: the counter of the split files' ISA13/GS06


@dataclass(frozen=True)
class Job:
    path: str
    name: str
    sha256: str
    identity: Identity  # device, inode, size, mtime when it was taken
    out_dir: str  # OUTDIR/<run-id>/files/<name>
    work_dir: str = ""  # OUTDIR/<run-id>/.work/<sha256>: what step 1 hands to step 2


@dataclass(frozen=True)
class ReportJob:
    """Step 2: the checked file's facts, and the history's findings (in work_dir)."""

    job: Job
    checked: dict  # FileResult facts of step 1
    # on a cluster: the work folder's files as bytes (name -> bytes), as the worker has no
    # access to the driver's folders (edi837.batch.remote)
    handover: dict | None = None


__all__ = ["FINDINGS", "HISTORY", "RECORDS", "Job", "ReportJob", "Worker", "WorkerSettings"]


def report_extension(fmt: str) -> str:
    """File extension of a report format, from the report registry (html -> .html)."""
    from ..reports import EXTENSIONS, load_writers

    load_writers()
    for ext, name in EXTENSIONS.items():
        if name == fmt:
            return ext
    return f".{fmt}"


def where(exc: BaseException) -> str:
    """Exception type and innermost frame, never its message (which may quote data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


class Worker:
    def __init__(self, settings: WorkerSettings) -> None:
        from ..drugs import load_drug_table
        from ..engine import Engine
        from ..reports import load_writers

        self.settings = settings
        reference = None
        if settings.refdata is not None:
            from ..refdata import open_reference

            reference = open_reference(Path(settings.refdata), settings.refdata_snapshot)
        self.table = load_drug_table(list(settings.drug_tables), refdata=reference)
        self.engine = Engine(self.table, settings.config)
        writers = load_writers()
        self.writers = [(writers[fmt], f"report{report_extension(fmt)}")
                        for fmt in settings.formats]

    def run(self, job: Job | ReportJob) -> dict:
        return self.report(job) if isinstance(job, ReportJob) else self.check(job)

    def check(self, job: Job) -> dict:
        """Step 1: check one file; its findings and claim records go to the job's work
        folder.  Returns ``{"checked": facts}``, or the outcome of a file that failed
        (quarantined) or is not the one taken (``{"changed": True}``)."""
        from ..history.handover import RecordSink, dump_findings
        from ..parallel.keys import key_for

        settings = self.settings
        work = Path(job.work_dir)
        # Nothing is removed here: Dask may run a step again after its first result
        # was taken (its worker died holding it); a second run only puts the same
        # files in place whole (each is written atomically), never takes any away.
        if not same_file(job.path, job.identity):  # also: never open a FIFO or link put there
            return {"changed": True}
        key = key_for(settings.history_key_id)  # missing: a cluster problem, not the file's
        try:
            durable.makedirs(work)
            sink = RecordSink(work / RECORDS, key,
                              persistent=settings.history_persistent)
            result = self.engine.check_file(job.path, history=sink)
            if settings.validate:
                from ..validate import validate_file

                # the reader's own EDI findings are in the result already
                result.findings.extend(validate_file(job.path, reader_findings=False))
                result.findings.sort(key=lambda f: f.sort_key())
            dump_findings(result.findings, work / FINDINGS)
            if settings.split and result.status != "unreadable":
                self._forwarded_records(job, work, key)
            if settings.ack277 and result.status != "unreadable":
                self._acknowledged_sets(job, work)
        except OSError:
            raise  # the disk, not this file: stop; the next start rolls back
        except Exception as exc:  # one bad file never stops the batch
            return failed(exc, "checking")
        if result.sha256 != job.sha256:
            return {"changed": True}
        return {"checked": {"path": result.path, "status": result.status,
                            "transactions": result.transactions, "claims": result.claims,
                            "drug_lines": result.drug_lines, "size": result.size,
                            "sha256": result.sha256, "submitters": result.submitters,
                            # its claims' payer ids: which payer profiles matched (summary)
                            "payer_ids": sorted(result.payer_ids),
                            # sets a 999 rejects: the file's claims stay out of the history
                            "broken_sets": result.broken_sets}}

    def _forwarded_records(self, job: Job, work: Path, key: bytes) -> None:
        """With --split, the history keeps the claims as they are forwarded: the safe
        fixes applied (a claim held only for what they correct goes out in
        accepted.edi, and its resend must be a duplicate), so the records the driver
        judges are those of the corrected file's re-check, named by the input.  When
        the file cannot be fixed, the input's records stay."""
        from ..fix.forwarded import forwarded_records

        scratch = work / "forwarded"
        records = work / (RECORDS + ".forwarded")
        try:  # the findings name the input, not the corrected copy
            if forwarded_records(job.path, records, scratch, key=key,
                                 persistent=self.settings.history_persistent,
                                 table=self.table, config=self.settings.config):
                os.replace(records, work / RECORDS)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            records.unlink(missing_ok=True)

    def _acknowledged_sets(self, job: Job, work: Path) -> None:
        """With --ack277, the file's 999 is written now (``work/999``), before the driver
        judges its claims: those of a transaction set it rejects are sent again by the
        submitter, so their records are held (the history keeps none of them).  Step 2
        sends this 999 and answers the sets it accepts.  No 999 now (pyx12 could not
        write one, the counter is broken): step 2 tries again and says why."""
        from ..acks.ack277 import not_accepted_claims
        from ..acks.ack999 import Acceptance, AckReadError
        from ..fix.forwarded import hold_records
        from ..validate import Pyx12Missing, write_999
        from ..x12.control import ControlNumberError, ControlNumbers

        numbers = ControlNumbers(self.settings.config.acknowledgments.control_numbers)
        folder = Path(tempfile.mkdtemp(prefix=".ack999-", dir=work))
        try:
            written = write_999(job.path, folder, control_numbers=numbers)
            if written is None:
                return
            rejected = not_accepted_claims(job.path, Acceptance.from_999(written))
            os.replace(written, work / ACK999)
        except (ControlNumberError, Pyx12Missing, AckReadError):
            return
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        hold_records(work / RECORDS, rejected)

    def report(self, step: ReportJob) -> dict:
        """Step 2: write one file's outputs from its findings and the history's;
        returns the facts the ledger keeps.

        Quarantined is what ``edi837 check`` calls unreadable (file status
        ``unreadable``: not X12, no 837 in it, cut short, or edi837 failed on it),
        not a file with an EDI warning such as text after the last IEA.  A file
        that is not the one taken, before or after its outputs are written (the
        HTML and annotated reports read it again), gives ``{"changed": True}``."""
        from ..engine import FileResult, Report
        from ..findings import ERROR
        from ..history.handover import load_findings

        settings, job = self.settings, step.job
        out_dir, work = Path(job.out_dir), Path(job.work_dir)
        # out_dir is not emptied first (see check): every output is put in place whole,
        # the same ones by any run of this step; the driver removes a rolled-back file's
        if not same_file(job.path, job.identity):
            return {"changed": True}
        try:
            result = FileResult(**step.checked, findings=load_findings(work / FINDINGS))
            # in file order and spilled past a bounded number (a DOC001 note per first
            # dose: as many as the claims), for the reports and for fix
            history = load_findings(work / HISTORY) if (work / HISTORY).exists() else ()
            result.findings.extend(history)
            result.settle_status()
        except OSError:
            raise
        except Exception as exc:
            return failed(exc, "reading back the findings of")

        quarantine_it = result.status == "unreadable"
        quarantine = [f for f in result.findings if quarantine_it
                      and f.rule.startswith("EDI") and f.severity == ERROR]
        report = Report([result], self.table.version, config_source=settings.config.source,
                        reference_data={**self.table.reference_data(),
                                        "history": self._history_facts()})
        report.finished = time.time()
        from ..fix.forwarded import held_outside_charges

        report.held_outside_of = held_outside_charges  # the summary names what they hold
        outputs = []
        problem = log_problem = None
        rejected_sets = 0  # transaction sets the file's 999 rejects (--ack277)
        try:
            durable.makedirs(out_dir)
            for write, name in self.writers:
                with atomic_output(out_dir / name, newline="") as out:
                    write(report, out)
                outputs.append(name)
                durable.checkpoint("report-written")
            fixed = None
            if (settings.fix or settings.split) and not quarantine_it:
                problem, log_problem, fixed = self._fix(job, out_dir / FIX_DIR, history)
                if (out_dir / FIX_DIR).is_dir():
                    outputs += sorted(p.relative_to(out_dir).as_posix()
                                      for p in (out_dir / FIX_DIR).rglob("*")
                                      if p.is_file() and not durable.is_temp(p.name))
            if settings.ack277 and not quarantine_it:
                # what a split forwards is what the 277CA accepts; else the file as sent
                final = fixed.remaining if settings.split and fixed is not None and \
                    fixed.split is not None else result.findings
                written, trouble, rejected_sets = self._acknowledge(job, out_dir, final)
                outputs += written
                if trouble and problem is None:
                    problem, log_problem = trouble, "277CA not written (see the summary)"
            if not quarantine_it:  # its claims, held or not, for the work queue
                # with --split, what it holds after the safe fixes (a claim they corrected
                # was forwarded in accepted.edi: no biller works it)
                after = getattr(fixed.remaining, "every", fixed.remaining) \
                    if settings.split and fixed is not None and fixed.split is not None \
                    else result.findings
                self._queue_facts(after, work, out_dir, result.submitters)
        except OSError:
            raise  # the disk, not this file (full? read-only?): stop; the next start rolls back
        except Exception as exc:  # a report writer failed on this file
            if same_file(job.path, job.identity):  # else a late second run: leave them
                shutil.rmtree(out_dir, ignore_errors=True)  # no partial set of reports
            return failed(exc, "writing the reports of")
        for directory in sorted({out_dir, *(p.parent for p in out_dir.rglob("*"))}):
            durable.fsync_dir(directory)
        durable.fsync_dir(out_dir.parent)
        if not same_file(job.path, job.identity):
            return {"changed": True}  # the batch process removes the outputs
        durable.checkpoint("outputs-complete")

        counts = Counter(f.severity for f in result.findings)
        from ..reports.figures import figures

        numbers = figures(report).as_dict()  # charges held, by payer and rule: the summary's
        if settings.split and fixed is not None and fixed.split is not None:
            # what the split holds (held.edi, the 277CA): counted after the safe fixes
            after = FileResult(result.path, status=result.status, claims=result.claims,
                               drug_lines=result.drug_lines,
                               findings=getattr(fixed.remaining, "every", fixed.remaining))
            numbers = figures(Report([after], self.table.version)).as_dict()
        if result.payer_ids:  # the run's summary: a payer profile that matched no claim
            numbers["payer_ids"] = sorted(result.payer_ids)
        if rejected_sets:  # the submitter sends them again: as an error finding is
            numbers["sets_rejected"] = rejected_sets  # (ledger.exit_status: 1, as ack's)
        reasons = [f"  {f.rule} (segment {f.segment_index or '-'}): {f.message}"
                   for f in quarantine]
        codes = Counter(f.rule for f in quarantine)
        return {
            "quarantine": quarantine_it, "size": result.size,
            "status": "findings" if rejected_sets and result.status == "ok" else result.status,
            "claims": result.claims, "drug_lines": result.drug_lines,
            "errors": counts[ERROR], "warnings": counts["warning"], "infos": counts["info"],
            "rules": dict(sorted(Counter(f.rule for f in result.findings).items())),
            "outputs": [f"{FILES_DIR}/{job.name}/{o}" for o in outputs],
            "reason": ("The file cannot be read as 837 claims, or an interchange in it is "
                       "incomplete:\n"
                       + "\n".join(reasons or ["  the file cannot be read"]))
            if quarantine_it else None,
            "log_reason": ", ".join(f"{c} x{n}" for c, n in sorted(codes.items()))
            or "unreadable",
            "problem": problem, "log_problem": log_problem, "figures": numbers,
        }

    def _history_facts(self) -> dict:
        """The history the file was judged by, as ``check`` names it (Engine.history_facts)."""
        settings = self.settings
        if not settings.history_persistent:
            return {"store": None, "lasting": False}
        return {"store": settings.history_store, "lasting": True,
                "key_fingerprint": settings.history_key_id}

    def _queue_facts(self, findings, work: Path, out_dir: Path, submitters: dict) -> None:
        """``queue.jsonl`` beside the reports: the work queue takes it when the file
        is done (``edi837.queue``)."""
        from ..history.handover import read_records
        from ..queue.facts import QUEUE_FILE, claim_facts, write_facts

        records = read_records(work / RECORDS) if (work / RECORDS).exists() else ()
        write_facts(claim_facts(records, findings, submitters=submitters,
                                persistent=self.settings.history_persistent),
                    out_dir / QUEUE_FILE)

    def _acknowledge(self, job: Job, out_dir: Path, findings) -> tuple[list[str], str | None,
                                                                         int]:
        """The file's 999 and 277CA beside its reports (edi837.acks): the outputs
        written, the problem if none could be (a problem, not a quarantine), and how
        many transaction sets got no 277CA (the 999 rejects them)."""
        from ..acks.ack277 import Ack277Error, OutputExists, write_acknowledgments
        from ..validate import ack_path

        identity = self.settings.config.acknowledgments
        ready = Path(job.work_dir) / ACK999  # written in step 1
        try:
            if ready.exists():  # sent as it was read when the history judged the file
                with atomic_output(ack_path(job.path, out_dir), "wb") as out:
                    out.write(ready.read_bytes())
            done = write_acknowledgments(job.path, findings, out_dir, identity=identity,
                                         force=True, read_999=ack_path(job.path, out_dir)
                                         if ready.exists() else None)
        except (Ack277Error, OutputExists) as exc:
            return [], f"277CA: {exc}", 0
        # what it wrote is in out_dir: the 999 and, unless every set was rejected, the 277CA
        return sorted(p.name for p in out_dir.iterdir()
                      if p.suffix in (".999", ".277") and not durable.is_temp(p.name)), None, \
            len(done.skipped)

    def _fix(self, job: Job, out_dir: Path, history: Iterable) -> tuple:
        """Corrected (and split) EDI by edi837.fix.  A failure is a problem (exit
        status 2), not a quarantine: the input was read and reported.  Returns the
        problem for the ledger and summary, a data-free version for the log, and
        the fix's result (None when it failed)."""
        from ..fix import fix_file

        settings = self.settings
        numbers = None
        if settings.control_numbers is not None:  # each number written to the counter
            from ..x12.control import ControlNumbers  # before a split file uses it: a

            numbers = ControlNumbers(settings.control_numbers)  # killed run reuses none
        held_sets = self._rejected_sets(job) if settings.split and settings.ack277 else None
        try:
            result = fix_file(job.path, out_dir, table=self.table, config=settings.config,
                              select=settings.select, ignore=settings.ignore,
                              split=settings.split, history_findings=history,
                              force=True,  # a second run of this step (see report)
                              control_numbers=numbers, held_sets=held_sets)
        except Exception as exc:
            return (f"fix failed: {''.join(traceback.format_exception_only(type(exc), exc))}",
                    f"fix failed: internal error {where(exc)}", None)
        if result.exit_status == EXIT_TROUBLE:
            # problems may quote finding messages (values from the file): not for the log
            return ("fix: " + "; ".join(result.problems or [result.status]),
                    f"fix: {result.status}, {len(result.problems)} problems (see the summary)",
                    None)
        return None, None, result


    @staticmethod
    def _rejected_sets(job: Job):
        """The sets step 1's 999 rejects, whose claims the split holds whole (the
        submitter sends the set again: forwarded, they would reach the payer twice), as
        `fix --split --ack277` does (edi837.fix.rejected); None without that 999."""
        from ..acks.ack999 import Acceptance, AckReadError
        from ..fix.rejected import RejectedSets

        ready = Path(job.work_dir) / ACK999
        try:
            return RejectedSets(Acceptance.from_999(ready)) if ready.exists() else None
        except (AckReadError, OSError):
            return None


def failed(exc: Exception, doing: str) -> dict:
    """A file edi837 itself failed on: quarantined, with the exception in the reason
    file (beside the data it may quote) and only its type and place in the log."""
    message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"quarantine": True, "log_reason": f"internal error {where(exc)}",
            "reason": f"edi837 failed while {doing} this file (a bug in edi837; please "
                      f"report it with this file's reports, not the file):\n  {message}"}
