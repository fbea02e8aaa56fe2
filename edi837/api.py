"""edi837 from Python: :func:`check`, :func:`iter_findings`, :func:`extract`, :func:`fix` and
:func:`iter_fix` (the `extract` and `fix` commands are clients of them).

For pipelines (Airflow, Dagster, a clearinghouse's own services) that want the
command line's results without a subprocess.  Each function takes what the
command's options give (drug tables, configuration, select/ignore, history,
reference data) as keyword arguments and returns typed results; the findings
are the same :class:`~edi837.findings.Finding` objects the reports are written
from, so a result equals what `edi837 check` reports on the same files.

Problems are exceptions of one family, :class:`Edi837Error`:

* :class:`OptionsError` - an argument cannot be used: a drug table, configuration,
  history store or key that cannot be read, a rule code that matches no rule, an
  unknown report format;
* :class:`InputError` - no file under the paths given, or (with the default
  ``errors="raise"``) a file that cannot be read as X12: it names the file, and
  the segment where reading stopped when there is one.

With ``errors="report"`` an unreadable file is reported instead, as the command
line does: its EDI001/EDI002/EDI005/EDI008 findings are in the result, whose
``exit_status`` is then 2.  ``import edi837`` stays cheap: this module, and the
engine under it, are imported on first use of one of its names.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from os import PathLike
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterable, Iterator, Literal

from .arguments import (
    UNREADABLE_RULES,
    Codes,
    Edi837Error,
    InputError,
    OptionsError,
    PathArg,
    StoreLostError,
    path_arg,
)
from .arguments import configuration as _config
from .arguments import drug_table as _table
from .arguments import input_paths as _paths
from .arguments import rule_codes as _codes
from .checkrun import CheckRun, FindingStream, check_errors, stream
from .findings import ERROR, Finding
from .results import RunFindings

__all__ = ["CheckResult", "DrugLine", "Edi837Error", "Extraction", "FindingStream", "FixRun",
           "InputError", "OptionsError", "StoreLostError", "check", "extract", "fix",
           "iter_findings", "iter_fix"]

Errors = Literal["raise", "report"]


# -- check -----------------------------------------------------------------------------
@dataclass(slots=True)
class CheckResult:
    """A check's outcome: ``report`` is what every report format renders
    (:class:`edi837.engine.Report`); the rest are views of it."""

    report: object  # edi837.engine.Report

    @property
    def files(self) -> list:
        """One :class:`edi837.engine.FileResult` per file: path, status (ok, findings,
        unreadable), claims, drug lines, sha256, its findings in file order."""
        return self.report.files

    @property
    def findings(self) -> RunFindings:
        """Every finding, file by file in file order: a sequence with a length that can
        be iterated again (each time read again, from disk for large files)."""
        return self.report.findings

    @property
    def exit_status(self) -> int:
        """The command line's: 0 no error finding, 1 error findings, 2 a file unreadable."""
        return self.report.exit_status()

    def summary(self) -> dict:
        """Counts, charges held by rule and by payer: the JSON report's ``summary``."""
        from .reports.figures import figures

        return figures(self.report).as_dict()

    def write(self, target: str | Path | IO[str], format: str | None = None, *,
              min_severity: str | None = None) -> None:
        """Write a report as `check -o` does: to a path (atomically; the format from its
        extension unless ``format`` is given) or to an open text stream (``format``,
        default json).  Formats: text, json, annotated, html, csv, xml."""
        from .files import atomic_output
        from .reports import DEFAULT_OPTIONS, WRITERS, ReportOptions, format_for

        if format is None:
            format = (format_for(path_arg(target, "write"))
                      if isinstance(target, (str, bytes, PathLike)) else "json")
            if format is None:
                raise OptionsError(f"{target}: its extension names no report format; give "
                                   f"format= ({', '.join(sorted(WRITERS))})")
        if format not in WRITERS:
            raise OptionsError(f"unknown report format {format!r} for {target}; choose from "
                               f"{', '.join(sorted(WRITERS))}")
        try:
            options = ReportOptions(min_severity) if min_severity else DEFAULT_OPTIONS
        except ValueError as exc:
            raise OptionsError(str(exc)) from None
        if isinstance(target, (str, bytes, PathLike)):
            path = path_arg(target, "write")
            if Path(path).is_dir():
                raise OptionsError(f"{path}: a folder; give a report file's name")
            try:
                with atomic_output(path, newline="") as out:
                    WRITERS[format](self.report, out, options)
            except OSError as exc:  # as check -o: the run's findings are still here
                raise OptionsError(f"{path}: cannot write the report: "
                                   f"{exc.strerror or exc}") from None
        else:
            WRITERS[format](self.report, target, options)

    def render(self, format: str = "json", *, min_severity: str | None = None) -> str:
        """The report as a string (a small run: the whole report is held in memory)."""
        import io

        out = io.StringIO(newline="")
        self.write(out, format, min_severity=min_severity)
        return out.getvalue()


def check(paths: PathArg, *, drug_tables: Iterable[str | Path] = (),
          config: str | Path | Literal[False] | None = None, select: Codes = None,
          ignore: Codes = None,
          refdata: str | Path | None = None, history: str | Path | None = None,
          history_key: str | Path | None = None, history_days: int | None = None,
          fast: bool | None = None, validate: bool = False,
          errors: Errors = "raise") -> CheckResult:
    """Check the drug lines of the 837 files and folders ``paths``, as `edi837 check`.

    ``drug_tables``: extra drug tables (TOML) over the shipped one; ``config``: a
    configuration file (default ./edi837.toml when present); ``select``/``ignore``:
    rule codes or prefixes ("NDC,MOD001" or a list); ``refdata``: a folder of imported
    CMS files; ``history``: a patient history store (SQLite, created when missing)
    judged by and added to, with ``history_key`` and ``history_days`` as
    `--history-key`/`--history-days`; ``fast``: None as the command line (on unless
    $EDI837_FAST=0); ``validate``: also pyx12's implementation-guide findings (IGH/IGS/
    IGE, as `--validate`; slow).  Raises :class:`OptionsError`, :class:`InputError`."""
    run = CheckRun(paths, drug_tables, config, select, ignore, refdata, history, history_key,
                   history_days, fast, errors)

    def validated() -> None:  # before the history is committed: all or nothing
        from .validate import add_validation

        add_validation(run.report, run.engine.config)

    for _ in run.files(validated if validate else None):
        pass
    return CheckResult(run.report)


def iter_findings(paths: PathArg, *, drug_tables: Iterable[str | Path] = (),
                  config: str | Path | Literal[False] | None = None, select: Codes = None,
                  ignore: Codes = None, refdata: str | Path | None = None,
                  history: str | Path | None = None, history_key: str | Path | None = None,
                  history_days: int | None = None, fast: bool | None = None,
                  errors: Errors = "raise") -> FindingStream:
    """The findings of :func:`check`, file by file as each file is checked, in file
    order; only the current file's findings are held (spilled to disk when many).

    The arguments are checked when this is called, before the first finding is asked
    for; an unreadable file raises :class:`InputError` when iteration reaches it.
    With ``history``, the run's lines are committed when the iteration completes: a
    loop that raises or breaks, a stream closed early (:meth:`FindingStream.close`,
    or leaving its ``with`` block) or a killed process leaves the store as it was.
    The store is held (other runs on it wait) from the first finding until then."""
    run = CheckRun(paths, drug_tables, config, select, ignore, refdata, history, history_key,
                   history_days, fast, errors)
    return FindingStream(stream(run))


# -- extract ---------------------------------------------------------------------------
@dataclass(slots=True, frozen=True)
class DrugLine:
    """One drug line with its claim context: a row of `edi837 extract` (the same
    columns, the EDI values as sent; ``segment_index`` is the SV1/SV2's 1-based index)."""

    file: str
    interchange_control_number: str
    group_control_number: str
    transaction_control_number: str
    transaction_type: str
    claim_id: str
    line_number: str
    payer_id: str
    payer_name: str
    claim_filing_indicator: str
    date_of_service: str
    date_of_service_end: str
    hcpcs: str
    modifiers: str
    units: str
    unit_basis: str
    charge: str
    revenue_code: str
    ndc_qualifier: str
    ndc: str
    ndc_quantity: str
    ndc_unit: str
    diagnosis_codes: str
    pointed_diagnosis_codes: str
    rendering_npi: str
    ordering_npi: str
    referring_npi: str
    segment_index: int | None

    def as_dict(self) -> dict:
        """The row as `extract --format jsonl` writes it (before escaping)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(slots=True)
class Extraction:
    """The drug lines of :func:`extract`, read as they are iterated (once).

    After iteration: ``problems`` holds the reader's findings that mean a drug line
    may be missing (EDI007: a segment not read) or a file was not read (with
    ``errors="report"``), and ``exit_status`` is the command's (0, 1 or 2).
    ``on_file`` is called after each file with its path and its problems (the
    command prints them); ``opened`` wraps each input as it is opened (a progress
    display counting the bytes read)."""

    inputs: list[Path]
    table: object
    fast: bool | None
    errors: str
    problems: list[Finding] = field(default_factory=list)
    exit_status: int = 0
    on_file: Callable[[Path, list[Finding]], None] | None = None
    opened: Callable[[BinaryIO], BinaryIO] | None = None
    _started: bool = False

    def __iter__(self) -> Iterator[DrugLine]:
        return (DrugLine(**record) for record in self.records())

    def records(self) -> Iterator[dict]:
        """The drug lines as the rows `edi837 extract` writes (dicts of the
        :class:`DrugLine` fields), without building a DrugLine for each."""
        if self._started:
            raise Edi837Error("an Extraction is read once; call extract() again")
        self._started = True
        return self._records()

    def _records(self) -> Iterator[dict]:
        from .engine import fast_path_wanted

        fast, drugs = fast_path_wanted(self.fast), self.table.drugs
        for path in self.inputs:
            yield from self._file(path, drugs, fast)

    def _file(self, path: Path, drugs, fast: bool) -> Iterator[dict]:
        from .extract import rows
        from .locations import open_input
        from .reader.claims import ClaimReader

        raw = None
        if self.opened is not None:
            try:
                raw = open_input(path)
            except OSError:
                pass  # the reader opens it again, and says why it cannot (EDI001)
        try:
            reader = ClaimReader(path, self.opened(raw) if raw is not None else None,
                                 drug_codes=drugs, fast=fast)
            try:
                yield from rows(reader.claims(), drugs.__contains__)
            except Exception as exc:  # as the command: EDI008, not internals
                reader.unreadable = True
                reader.findings.append(Finding(
                    "EDI008", ERROR, f"edi837 failed while reading this file: "
                    f"{type(exc).__name__}: {exc} (a bug in edi837: please report it)",
                    str(path)))
        finally:
            if raw is not None:
                raw.close()
        self._finished(path, reader)

    def _finished(self, path: Path, reader) -> None:
        unread = ("EDI007",) if reader.unread else ()
        problems = [f for f in reader.findings if f.severity == ERROR and
                    (f.rule in UNREADABLE_RULES or f.rule in unread)]
        self.problems += problems
        if self.on_file is not None:
            self.on_file(path, problems)
        if reader.unreadable:
            if self.errors == "raise":
                raise InputError.from_findings(str(path), reader.findings)
            self.exit_status = 2
        elif reader.unread:
            self.exit_status = max(self.exit_status, 1)


def extract(paths: PathArg, *, drug_tables: Iterable[str | Path] = (),
            fast: bool | None = None, errors: Errors = "raise",
            on_file: Callable[[Path, list[Finding]], None] | None = None) -> Extraction:
    """The drug lines of the 837 files and folders ``paths``, as `edi837 extract`:
    an iterable of :class:`DrugLine`, read as it is consumed; ``on_file(path,
    problems)`` is called as each file is done.  Raises :class:`OptionsError` (a drug
    table) and :class:`InputError` (no file; a file not X12, when iteration reaches
    it)."""
    check_errors(errors)
    table = _table(drug_tables)
    return Extraction(_paths(paths), table, fast, errors, on_file=on_file)


# -- fix -------------------------------------------------------------------------------
@dataclass(slots=True)
class FixRun:
    """What :func:`fix` did: one :class:`edi837.fix.FixResult` per file (status, the
    changes applied and skipped, the errors that remain, the split, files written)."""

    files: list = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """The command line's: 0 written and clean, 1 errors remain, 2 trouble."""
        return max((result.exit_status for result in self.files), default=0)


def fix(paths: PathArg, out_dir: str | Path, *, select: Codes = None, ignore: Codes = None,
        dry_run: bool = False, force: bool = False, split: bool = False,
        drug_tables: Iterable[str | Path] = (), config: str | Path | Literal[False] | None = None,
        refdata: str | Path | None = None, errors: Errors = "raise") -> FixRun:
    """Apply the safe fixes to the 837 files and folders ``paths``, as `edi837 fix`:
    corrected files, change logs and (``split``) accepted/held files in ``out_dir``;
    inputs are never modified, an existing output is replaced only with ``force``.
    ``select``/``ignore`` choose the fixes; the check itself runs as ``config`` says,
    with the imported reference data of ``refdata`` (as :func:`check`'s).  Raises
    :class:`OptionsError`, :class:`InputError` (with ``errors="raise"``, at the first
    file that cannot be read; the files before it are fixed)."""
    return FixRun(list(iter_fix(paths, out_dir, select=select, ignore=ignore,
                                dry_run=dry_run, force=force, split=split,
                                drug_tables=drug_tables, config=config, refdata=refdata,
                                errors=errors)))


def iter_fix(paths: PathArg, out_dir: str | Path, *, select: Codes = None,
             ignore: Codes = None, dry_run: bool = False, force: bool = False,
             split: bool = False, drug_tables: Iterable[str | Path] = (),
             config: str | Path | Literal[False] | None = None, refdata: str | Path | None = None,
             errors: Errors = "raise", control_numbers=None,
             rejected_sets: Callable[[Path], tuple] | None = None) -> FixIteration:
    """:func:`fix`, one :class:`edi837.fix.FixResult` at a time as each file is done
    (the arguments are checked when this is called).  ``control_numbers``: a
    :class:`edi837.x12.control.ControlNumbers` the split files take new ISA13/GS06 from
    (default: the input's).  ``rejected_sets``: called with each input before it is
    fixed, gives (an :class:`edi837.fix.rejected.RejectedSets` or None, the CLM indices
    of its claims in them): the transaction sets a 999 rejects, held whole by the split
    and kept out of the run's history (`fix --split --ack277`)."""
    check_errors(errors)
    table = _table(drug_tables, refdata)
    settings = _config(config, table=table)
    chosen, left_out = _codes(select, "select"), _codes(ignore, "ignore")
    inputs = _paths(paths)
    return FixIteration(inputs, settings, _fixing(inputs, Path(path_arg(out_dir, "out_dir")),
                                                  table, settings,
                                                  chosen, left_out, dry_run, force, split,
                                                  errors, control_numbers, rejected_sets))


@dataclass(slots=True)
class FixIteration:
    """:func:`iter_fix`'s results, an iterator of :class:`edi837.fix.FixResult`;
    ``inputs``: the files found under the paths, ``config``: the configuration the
    fixed files are checked by (edi837.config.Config)."""

    inputs: list[Path]
    config: object
    results: Iterator

    def __iter__(self) -> "FixIteration":
        return self

    def __next__(self):
        return next(self.results)


def _fixing(inputs: list[Path], out_dir: Path, table, settings, chosen: tuple[str, ...],
            left_out: tuple[str, ...], dry_run: bool, force: bool, split: bool,
            errors: str, control_numbers=None, rejected_sets=None) -> Iterator:
    from .engine import Engine

    written: dict[Path, Path] = {}  # every output -> the input it is written for
    engine = Engine(table, settings)  # one run: each file judged against those before it
    try:
        yield from _fix_each(inputs, out_dir, table, settings, chosen, left_out, dry_run,
                             force, split, errors, engine, written, control_numbers,
                             rejected_sets)
    finally:
        engine.close()


def _fix_each(inputs, out_dir, table, settings, chosen, left_out, dry_run, force, split,
              errors, engine, written, control_numbers=None, rejected_sets=None) -> Iterator:
    from .fix import EXISTS, FAILED, UNREADABLE, FixResult, Targets, fix_file

    for path in inputs:
        targets = Targets.for_input(path, out_dir).all(split)
        taken = next((t for t in targets if t in written), None)
        if taken is not None:  # same name in two folders: one input's outputs only
            yield FixResult(str(path), status=EXISTS, problems=[
                f"skipped, {taken} is already written for {written[taken]}"])
            continue
        written.update((t, path) for t in targets)
        try:
            held_sets, not_forwarded = rejected_sets(path) if rejected_sets else (None, ())
            result = fix_file(path, out_dir, table=table, config=settings, select=chosen,
                              ignore=left_out, dry_run=dry_run, force=force, split=split,
                              engine=engine, control_numbers=control_numbers,
                              held_sets=held_sets, not_forwarded=not_forwarded)
        except Exception as exc:  # as the command: the other files go on
            result = FixResult(str(path), status=FAILED, problems=[
                f"fix failed: {type(exc).__name__}: {exc} (its outputs were removed; this "
                "is a bug in edi837, please report it)"])
        if result.status == UNREADABLE and errors == "raise":  # as check(): where, which rule
            raise _unreadable(path)
        yield result


def _unreadable(path) -> InputError:
    """The InputError check() raises for ``path`` (segment_index, rule): the file read
    again up to where its reader stops (a file fix could not read)."""
    from .reader.claims import ClaimReader

    reader = ClaimReader(path)
    try:
        for _ in reader.claims():
            pass
    except Exception:  # (as check: EDI008; the findings so far still say where)
        pass
    return InputError.from_findings(str(path), reader.findings)
