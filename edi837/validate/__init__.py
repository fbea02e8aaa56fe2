"""Implementation-guide validation (SNIP 1-2) with pyx12, without its sharp edges.

pyx12 validates 837s against the 5010 guides and writes 999 acknowledgments,
but unattended jobs trip over it (``shared/reference/peers.md``).  This module
calls it in-process, as a library, and works around what it does badly:

* It reads files as ASCII and raises UnicodeDecodeError on a byte-order mark,
  UTF-16 or any non-ASCII byte; with CRLF plus indentation it reports "leading
  space" on every segment; and it takes the delimiters of the first ISA for
  the whole file.  So it never sees the input file: our reader decodes it and
  we hand pyx12 text with one segment per line, no white space around, in the
  first interchange's delimiters.
* GS08/ST03 variants (X222, X222A2, X223A1, ...) raise an uncaught "Map not
  found": they are rewritten to the nearest guide, with an EDI005 warning.
* Any other exception (broken structure makes it raise IndexError, ValueError,
  AttributeError) becomes one file-level finding, IG001, and the run goes on.
* ``x12n_document`` builds its error handler itself: we substitute a subclass
  for the call so we can read the error tree, keep the errors it drops
  (segment errors outside a transaction set, reader errors on a segment the
  map does not know) and fill in the IK3 loop id it leaves blank.
* It logs every error to stderr and its exit status means nothing: the log is
  captured and the findings are the result.
* It writes the 999 as ``<name>.997``: we write ``<name>.999``.
* It builds the 999's ISA13 from the clock, to the minute, so 999s written in
  the same minute share one: each takes its own from a persistent counter
  (:mod:`edi837.x12.control`) for ISA13/IEA02 and GS06/GE02.
* It parses the guide's XML map again on every run: maps are cached per process.

The normalised copy has one segment per line, so its line k is segment k of
the input as our reader counts them (the index every finding uses).

Validation is slow (about 0.2 MB/s), so each file is cut into work units that
can run in parallel: runs of transaction sets wrapped in their own ISA/GS and
a synthetic GE/IEA, plus one "skeleton" of the file (every segment outside the
transaction sets, each set reduced to its ST and a synthetic SE) that pyx12
checks the envelopes on.  Each unit maps its lines back to input segments and
keeps only the errors that belong to it, so errors are not repeated; errors on
the synthetic segments are artefacts and dropped.  The split does not depend
on ``jobs``: one process or many give the same findings in the same order.

Findings: ``IGH<code>`` envelope errors (ISA/GS/ST level), ``IGS<code>``
segment errors (999 IK3 codes, plus pyx12's own HL1/HL2/LX/SEG1),
``IGE<code>`` element errors (999 IK4 codes), each at its segment index in
the original file.

A file `check` cannot read whole (a segment reader error, or an envelope its
claim reader finds open or broken: EDI001/EDI002 errors) is unreadable here
too, and each IG finding in a claim carries the claim's CLM02 charge, payer
and billing provider as `check`'s findings do, so reports count it alike.

Layout: ``prepare`` (normalise and cut a file into work units), ``pyx12_run``
(pyx12 in-process), ``results`` (errors to findings, 999s to one), ``reading``
(what `check`'s claim reader says of the file and its claims), ``units`` (the
work units); the public functions here.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Iterable

from ..files import atomic_output
from ..findings import Finding
from ..results import Report
from ..x12.control import ControlNumbers, stamp
from .prepare import _prepare
from .pyx12_run import Pyx12Missing, _run_unit, require_pyx12
from .results import _finish
from .units import CHUNK_SEGMENTS, CRASH_RULE, NOT_A_DRUG_TABLE, _Unit, _UnitResult

__all__ = ["CRASH_RULE", "NOT_A_DRUG_TABLE", "Pyx12Missing", "ack_path", "add_validation",
           "require_pyx12", "validate_file", "validate_paths", "write_999"]


# -- public API -------------------------------------------------------------------
def ack_path(path: str | Path, out_dir: str | Path) -> Path:
    """Where the 999 of ``path`` goes: ``out_dir/<name>.999``."""
    return Path(out_dir) / (Path(path).stem + ".999")


def _results(units: list[_Unit], executor: Executor | None) -> list:
    if executor is None:
        return [_run_unit(unit) for unit in units]
    return [executor.submit(_run_unit, unit) for unit in units]


def validate_file(path: str | Path, *, reader_findings: bool = True) -> list[Finding]:
    """IG findings for one file, sorted like `check`'s.  Nothing pyx12 does
    raises; only a missing pyx12 does (Pyx12Missing).

    With ``reader_findings`` False only the IG findings come back (no
    EDI001/EDI002/EDI005/EDI006), ready to extend the findings of the
    FileResult `check` made for the same file.
    """
    result, _ = _validate_one(str(path), reader_findings)
    return list(result.findings)


def _validate_one(path: str, reader_findings: bool = True):
    require_pyx12()
    prep = _prepare(path, CHUNK_SEGMENTS)
    try:
        return _finish(prep, _results(prep.units, None), reader_findings)
    finally:
        prep.close()


def write_999(path: str | Path, out_dir: str | Path, *,
              control_numbers: ControlNumbers | None = None) -> Path | None:
    """Validate ``path`` and write its 999 as ``out_dir/<name>.999``; return
    that path, or None when pyx12 could not produce one (see the findings).

    The 999's ISA13/IEA02 and GS06/GE02 are the next number of
    ``control_numbers`` (default: the user's counter, see
    :mod:`edi837.x12.control`).  Raises ControlNumberError when the counter
    cannot be used; no 999 is written then.
    """
    _, ack = _validate_one(str(path))
    return _write_ack(str(path), out_dir, ack, control_numbers or ControlNumbers())


def _outcome(result) -> _UnitResult:
    if isinstance(result, _UnitResult):
        return result
    try:
        return result.result()
    except Exception as exc:  # noqa: BLE001 - a worker process died
        return _UnitResult([], [], f"worker failed: {type(exc).__name__}: {exc}")


def _write_ack(path: str, out_dir: str | Path, ack: str | None,
               control_numbers: ControlNumbers) -> Path | None:
    """Write the 999, or remove a stale one: after a run, ``<name>.999``
    exists exactly when this run acknowledged the file.

    pyx12 builds ISA13 from the clock (to the minute) and GS06 at random, so
    999s written in the same minute shared an ISA13: each takes its own
    number from the counter instead, for both."""
    target = ack_path(path, out_dir)
    if ack is None:
        target.unlink(missing_ok=True)
        return None
    ack = stamp(ack, control_numbers.next())
    with atomic_output(target, newline="") as handle:
        handle.write(ack)
    return target


def validate_paths(paths: Iterable[str | Path], jobs: int = 1,
                   ack_dir: str | Path | None = None,
                   control_numbers: ControlNumbers | None = None) -> Report:
    """Validate files; a Report like Engine.run's.  ``jobs`` > 1 runs the work
    units of all files on that many processes, with the same result.  With
    ``ack_dir``, each file's 999 is written there (files pyx12 could not
    acknowledge get none; their findings say why), its control numbers taken
    from ``control_numbers`` (default: the user's counter).  Raises
    ControlNumberError when the counter cannot be used."""
    require_pyx12()
    if ack_dir is not None and control_numbers is None:
        control_numbers = ControlNumbers()
    report = Report([], NOT_A_DRUG_TABLE)
    jobs = jobs if jobs > 0 else os.cpu_count() or 1
    executor = None
    if jobs > 1:
        executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    pending: deque = deque()

    def finish_oldest() -> None:
        prep, results = pending.popleft()
        try:
            result, ack = _finish(prep, [_outcome(r) for r in results], True)
        finally:
            prep.close()
        report.files.append(result)
        if ack_dir is not None:
            _write_ack(prep.path, ack_dir, ack, control_numbers)

    try:
        for path in paths:
            prep = _prepare(str(path), CHUNK_SEGMENTS)
            pending.append((prep, _results(prep.units, executor)))
            while len(pending) > max(jobs, 1):  # bound the files in flight
                finish_oldest()
        while pending:
            finish_oldest()
    finally:
        for prep, _ in pending:
            prep.close()
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    report.finished = time.time()
    return report


def add_validation(report, config=None) -> None:
    """Merge IG findings into a check report (``check --validate``, ``batch --validate``).

    The check's reader has already reported the EDI findings, so only the IG
    ones are added; --select/--ignore and severities apply to them as to any code.
    """
    for result in report.files:
        if result.status == "unreadable":
            continue
        found = validate_file(result.path, reader_findings=False)
        if config is not None:
            found = [f for f in found if config.enabled(f.rule)]
            for finding in found:
                finding.severity = config.severity.get(finding.rule, finding.severity)
        if found:
            result.findings.extend(found)
            result.findings.sort(key=Finding.sort_key)
            result.settle_status()

