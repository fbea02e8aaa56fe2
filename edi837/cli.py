"""The `edi837` command line: thin click commands over the library."""
from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from . import __version__
from .cli_ack import Acknowledger, ack277_option
from .cli_history import commit_history_or_exit, history_options, open_history_or_exit
from .cli_parallel import check_parallel_options, parallel_options, run_parallel
from .cli_support import (
    EXIT_OK,
    EXIT_TROUBLE,
    complain,
    input_files,
    load_config_or_exit,
    load_table_or_exit,
    no_fast_option,
    output_stream,
    quiet_option,
    refdata_option,
    refuse_outputs_over_inputs,
    report_options,
    report_reader_errors,
    report_targets,
    write_reports,
)


def _print_version(ctx: click.Context, param, value: bool) -> None:
    """--version: the program, the drug table it judges by, and where both were loaded
    from (a release and a checkout can sit side by side on one machine)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib import resources

    from .drugs import DrugTableError, load_drug_table

    package = Path(__file__).resolve().parent
    click.echo(f"edi837, version {__version__}")
    click.echo(f"package: {package}")
    data = resources.files("edi837.drugs").joinpath("table.toml")
    try:
        table = load_drug_table([])
    except (DrugTableError, OSError) as exc:
        click.echo(f"drug table: cannot be loaded from {data}: {exc}")
        ctx.exit(EXIT_TROUBLE)
    click.echo(f"drug table: {table.version} ({data})")
    ctx.exit(0)


def _debug(ctx: click.Context, param, value: bool) -> None:
    if value:  # edi837.entry prints the traceback of an internal error
        import os

        os.environ["EDI837_DEBUG"] = "1"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version,
              help="Show the version, the drug table's version and where they were loaded "
                   "from, and exit.")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help="On an internal error, print its traceback too [$EDI837_DEBUG=1].")
def main() -> None:
    """Read X12 837P/837I claim files and check their drug lines."""
    for stream in (sys.stdout, sys.stderr):
        try:  # a file name that is not UTF-8 is printed escaped, not a traceback
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass


class _OutputFailed(Exception):
    """Writing extract's rows failed (the cause): not a problem of the input file."""


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path, readable=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True, help="Row format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write rows here (atomically) instead of stdout.")
@click.option("--drug-table", "drug_tables", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra drug table (TOML) adding to or overriding the shipped one.")
@no_fast_option
@quiet_option
def extract(paths: tuple[Path, ...], fmt: str, output: str | None,
            drug_tables: tuple[Path, ...], quiet: bool) -> None:
    """Print one row per drug line of the 837 files and folders PATHS.

    Exit status: 0 every file and segment read; 1 a segment could not be
    read (EDI007 on stderr: a segment id that is not an X12 id, drug lines
    outside any claim), so a drug line may be missing from the rows; 2 a
    file could not be read (not X12, truncated) or the command was misused.
    """
    from .claims import ClaimReader
    from .engine import fast_path_wanted
    from .extract import RowWriter, rows
    from .progress import Progress, total_size, wanted

    table = load_table_or_exit(drug_tables)
    inputs = input_files(paths)
    refuse_outputs_over_inputs([output], inputs)
    status = EXIT_OK
    fast = fast_path_wanted()
    with output_stream(output) as out, \
            Progress(total_size(inputs), "edi837 extract", enabled=wanted(quiet)) as progress:
        writer = RowWriter(out, fmt)
        for path in inputs:
            try:
                raw = open(path, "rb")
            except OSError:
                raw = None  # the reader opens it again, and says why it cannot (EDI001)
            reader = ClaimReader(path, progress.reading(raw) if raw is not None else None,
                                 drug_codes=table.drugs, fast=fast)
            try:
                for record in rows(reader.claims(), table.drugs.__contains__):
                    try:
                        writer.write(record)
                    except OSError as exc:  # the output's, not this file's (disk full)
                        raise _OutputFailed from exc
            except BrokenPipeError:
                raise  # the reader of the rows stopped (| head): click ends quietly, status 1
            except _OutputFailed as failed:
                # output_stream says so (exit 2); the output is not put in place
                raise failed.__cause__ from None
            except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the rest
                complain(f"{path}: EDI008 edi837 failed while reading this file: "
                         f"{type(exc).__name__}: {exc} (a bug in edi837: please report it)")
                status = EXIT_TROUBLE
            finally:
                if raw is not None:
                    raw.close()
            progress.clear()
            # a skipped set that is not an 837 too; with segments not read (not an X12
            # id, drug lines outside any claim) the EDI007s too, and status 1: a drug
            # line may be missing from the rows
            report_reader_errors(reader, also=("EDI007",) if reader.unread else ())
            if reader.unread and status == 0:
                status = 1
            if reader.unreadable:
                status = EXIT_TROUBLE
    sys.exit(status)


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path, readable=False))
@report_options
@click.option("--validate", "ig_validate", is_flag=True,
              help="Also validate against the 5010 implementation guide with pyx12 "
                   "(IGH/IGS/IGE findings; slow, about 0.2 MB/s).")
@history_options
@ack277_option
@parallel_options
@no_fast_option
@quiet_option
def check(paths: tuple[Path, ...], fmt: str, outputs: tuple[str, ...], select: str | None,
          ignore: str | None, min_severity: str | None, drug_tables: tuple[Path, ...],
          config_path: str | None, refdata: Path | None, ig_validate: bool,
          history_path: str | None, history_key: str | None, history_days: int | None,
          ack277_dir: Path | None, jobs: int, dask_address: str | None, insecure: bool,
          work_dir: Path | None, quiet: bool) -> None:
    """Check the drug lines of the 837 files and folders PATHS against the billing rules.

    The files are one run: claims are judged against each other in the order
    given (folders sorted), and with --history against earlier runs too.
    With --jobs N or --dask, files and pieces of large files are checked in
    parallel; the report is the same as with one job.

    Exit status: 0 no error finding, 1 error findings, 2 a file could not be
    read or the command was misused.
    """
    from .engine import Engine
    from .history import HistoryStoreError
    from .progress import Progress, total_size, wanted

    check_parallel_options(jobs, dask_address, insecure)
    table = load_table_or_exit(drug_tables, refdata)
    config = load_config_or_exit(config_path, select, ignore, table)
    inputs = input_files(paths)
    refuse_outputs_over_inputs(outputs, inputs)
    report_targets(fmt, outputs)  # an -o whose extension names no format: exit 2 now
    store = open_history_or_exit(history_path, history_key, history_days)
    if store is not None:  # closed however the command ends: uncommitted, rolled back
        click.get_current_context().call_on_close(store.close)
    engine = Engine(table, config, history=store)
    # bytes read, drawn by this process (workers of --jobs/--dask read elsewhere: no bar)
    one_job = jobs == 1 and dask_address is None
    engine.progress = Progress(total_size(inputs), "edi837 check",
                               enabled=one_job and wanted(quiet))
    try:
        if store is not None:  # the run holds the store: committed whole, or not at all
            store.begin_run()  # (committed once the reports are out, below)
        if one_job:
            report = engine.run(inputs)
        else:
            report = run_parallel(engine, inputs, jobs=jobs, dask=dask_address,
                                  insecure=insecure, work_dir=work_dir,
                                  drug_tables=drug_tables)
    except HistoryStoreError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    finally:
        engine.progress.close()
        engine.close()
    del engine  # the engine's caches go before the reports
    if ig_validate:
        from .validate import add_validation

        add_validation(report, config)
    write_reports(report, fmt, outputs, min_severity, announce=True)
    for result in report.files:
        if result.status == "unreadable":
            report_reader_errors(result)
    status = report.exit_status()
    if ack277_dir is not None:  # claims with error findings rejected, the rest accepted
        acks = Acknowledger(ack277_dir, config.acknowledgments)
        readable = {Path(r.path): r for r in report.files if r.status != "unreadable"}
        for path in acks.start(list(readable)):
            acks.acknowledge(path, readable[path].findings)
        status = max(status, acks.status)
    commit_history_or_exit(store)  # a run killed before this point has not happened
    sys.exit(status)


@main.command()
@click.argument("code", required=False)
def rules(code: str | None) -> None:
    """List the rules, or print one rule's documentation."""
    from .rules import all_rules, find_rule

    registry = all_rules()
    if code is None:
        for rule in registry.values():
            fix = " [fix]" if rule.fix == "safe" else ""
            click.echo(f"{rule.code:<6}  {rule.severities:<15}  {rule.summary}{fix}")
        return
    rule = find_rule(code)
    if rule is None:
        complain(f"no rule {code!r}; `edi837 rules` lists them")
        sys.exit(EXIT_TROUBLE)
    click.echo(f"{rule.code} ({rule.severities}, fix: {rule.fix})\n")
    click.echo(rule.doc)
    from .acks.statuses import status_table

    click.echo("\n" + status_table().describe(rule.code))


@main.command()
@click.argument("hcpcs", required=False)
@click.option("--drug-table", "drug_tables", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra drug table (TOML) adding to or overriding the shipped one.")
@refdata_option
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Date of service for imported reference facts [today].")
def drugs(hcpcs: str | None, drug_tables: tuple[Path, ...], refdata: Path | None, day) -> None:
    """List the drug table, or print one drug's facts with their sources: the table's,
    then those of the imported CMS files in force on --date."""
    table = load_table_or_exit(drug_tables, refdata)
    if hcpcs is None:
        click.echo(f"drug table {table.version}")
        for drug in table.drugs.values():
            click.echo(f"{drug.hcpcs}  {drug.descriptor}  ({drug.route}, "
                       f"{'single-dose' if drug.single_dose else 'multi-dose'})")
        return
    drug = table.drug(hcpcs.upper())
    if drug is None:
        complain(f"{hcpcs} is not in drug table {table.version}")
        sys.exit(EXIT_TROUBLE)
    click.echo(describe_drug(drug))
    from .cli_refdata import describe_reference
    imported = describe_reference(table, drug, day.date() if day else datetime.date.today())
    if imported:
        click.echo(imported)


def describe_drug(drug) -> str:
    lines = [f"{drug.hcpcs}: {drug.descriptor}  (from the drug table: sources in brackets)",
             f"  1 unit = {drug.amount_per_unit} {drug.unit_of_measure}; route {drug.route}; "
             f"{'single-dose' if drug.single_dose else 'not single-dose'}  [{drug.provenance}]",
             f"  labeled doses (units): {', '.join(map(str, drug.labeled_doses)) or 'weight-based'}"
             f"; maximum per day: {drug.max_units_per_day or 'n/a'}  [{drug.dosing.provenance}]",
             f"  administration: {', '.join(drug.administration_codes) or 'none listed'}"
             f"  [{drug.administration.provenance}]"]
    if drug.revenue:
        lines.append(f"  837I revenue code: {drug.revenue.code}  [{drug.revenue.provenance}]")
    if drug.code_dates is not None:
        dates = drug.code_dates
        lines.append(f"  code valid: {dates.start or 'unknown'} to {dates.end or '...'}  "
                     f"[{dates.source}]")
    for package in drug.ndcs:
        billable = "billable" if package.billable else "NOT billable"
        marketed = (f", marketed {package.marketing_start or '...'} to "
                    f"{package.marketing_end or '...'}"
                    if package.marketing_start or package.marketing_end else "")
        lines.append(f"  NDC {package.ndc}: {package.package} ({billable}{marketed})  "
                     f"[{package.provenance}]")
    if drug.ndc_units is not None:
        lines.append(f"  NDC units (CTP05-1): {', '.join(drug.ndc_units.units)}  "
                     f"[{drug.ndc_units.provenance}]")
    for code in drug.diagnoses:
        valid = f"{code.valid_from or '...'} to {code.valid_to or '...'}"
        review = " (review)" if code.review else ""
        lines.append(f"  dx {code.code}{'*' if code.prefix else ''} {code.group}{review}, "
                     f"valid {valid}")
    for related in drug.related:
        lines.append(f"  related: {related.hcpcs or '?'} {related.name}")
    schedule = drug.schedule
    if schedule is not None:
        induction = ""
        if schedule.induction_dose:
            low, high = schedule.induction_window_days or (None, None)
            induction = (f"induction {schedule.induction_dose} units twice, "
                         f"{schedule.induction_interval_days} days apart (allowed {low}-{high}); ")
        lines.append(f"  schedule: {induction}then {schedule.maintenance_dose or 'a dose'} units "
                     f"every {schedule.maintenance_interval_days} days (flagged under "
                     f"{schedule.maintenance_min_days})  [{schedule.provenance}; windows: "
                     f"{schedule.tolerance_source}]")
    if any("§" in line for line in lines):
        lines.append("  § N: section N of billing-rules.md, the maintainers' reference notes (not "
                     "published with edi837); a document named beside it is the public source")
    return "\n".join(lines)


MIN_NIGHTS = 30  # edi837.generator.nights.MIN_NIGHTS, not imported: the CLI starts lean


@main.command()
@click.option("--kind", type=click.Choice(["837P", "837I"]), default="837P", show_default=True)
@click.option("--claims", type=click.IntRange(min=1), help="Exact number of claims.")
@click.option("--size", help="Approximate file size instead, e.g. 10MB, 500MB.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Same seed, same bytes.")
@click.option("--defect-rate", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Share of drug claims with one billing defect (visits carry none).")
@click.option("--drug-share", type=click.FloatRange(0, 1, min_open=True),
              help="Share of episodes with a drug claim (a nightly mix: 0.02); default the "
                   "dense mix of about 80%.")
@click.option("--nights", type=click.IntRange(min=MIN_NIGHTS),
              help="Instead: a patient-history corpus, one file per night for this many "
                   "nights, with planted duplicates, schedule slips, replacements and voids "
                   f"(manifest.json says which); needs --out-dir.  At least {MIN_NIGHTS}: "
                   "members start over the first two months, so fewer nights hold few "
                   "doses or none; a year plants every kind of event.")
@click.option("--out-dir", type=click.Path(file_okay=False),
              help="Folder for --nights files.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="File to write (atomically).")
@click.option("--force", is_flag=True,
              help="Replace OUTPUT if it exists; with --nights, the corpus in --out-dir.")
def generate(kind: str, claims: int | None, size: str | None, seed: int, defect_rate: float,
             drug_share: float | None, nights: int | None, out_dir: str | None,
             output: str | None, force: bool) -> None:
    """Write a synthetic 837P/837I file (all data made up) for tests and benchmarks."""
    from .generator import generate as write_claims

    if nights is not None:
        defect_rate_given = click.get_current_context().get_parameter_source("defect_rate") \
            not in (ParameterSource.DEFAULT, None)
        _generate_nights(kind, nights, seed, out_dir, {
            "-o": output, "--claims": claims, "--size": size, "--drug-share": drug_share,
            "--defect-rate": defect_rate if defect_rate_given else None}, force)
        return
    if out_dir is not None:
        complain("--out-dir is for --nights N; for one file give -o FILE")
        sys.exit(EXIT_TROUBLE)
    if output is None:
        complain("give -o FILE (or --nights with --out-dir)")
        sys.exit(EXIT_TROUBLE)
    if (claims is None) == (size is None):
        complain("give exactly one of --claims or --size")
        sys.exit(EXIT_TROUBLE)
    if output != "-" and Path(output).exists() and not force:
        complain(f"{output} exists; use --force to replace it")
        sys.exit(EXIT_TROUBLE)
    from .progress import Progress, wanted

    target = _parse_size(size) if size else None
    with output_stream(output) as out, \
            Progress(target or 0, "edi837 generate", enabled=wanted(False)) as progress:
        stats = write_claims(_Counted(out, progress), kind, claims=claims, size=target,
                             seed=seed, defect_rate=defect_rate, drug_share=drug_share)
    click.echo(f"{output}: {stats['claims']} claims, {stats['drug_lines']} drug lines, "
               f"{stats['bytes']} bytes", err=True)


class _Counted:
    """A text output whose writes advance a progress line (generate: bytes written;
    the generator writes ASCII, a character a byte)."""

    def __init__(self, out, progress) -> None:
        self._out, self._progress = out, progress

    def write(self, text: str) -> int:
        self._progress.advance(len(text))
        return self._out.write(text)

    def __getattr__(self, name):
        return getattr(self._out, name)


def _generate_nights(kind: str, nights: int, seed: int, out_dir: str | None,
                     single_file_options: dict, force: bool = False) -> None:
    from .generator.nights import generate_nights

    given = [name for name, value in single_file_options.items() if value is not None]
    wrong = []
    if out_dir is None:
        wrong.append("needs --out-dir DIR (the folder for the nightly files and manifest.json)")
    if given:
        wrong.append(f"does not take {', '.join(given)} "
                     f"({'options' if len(given) > 1 else 'an option'} for one file)")
    if wrong:
        complain("--nights " + " and ".join(wrong))
        sys.exit(EXIT_TROUBLE)
    try:
        manifest = generate_nights(Path(out_dir), nights=nights, seed=seed, kind=kind,
                                   force=force)
    except (OSError, ValueError) as exc:
        complain(f"cannot write nights into {out_dir}: {exc}")
        sys.exit(EXIT_TROUBLE)
    click.echo(f"{out_dir}: {len(manifest['files'])} nightly files, "
               f"{len(manifest['claims'])} claims, {manifest['planted']} planted events",
               err=True)


def _parse_size(text: str) -> int:
    """'500000', '10MB', '1.5GB' -> bytes (MB = 2^20); exit 2 on anything else."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMG]?)B?\s*", text.upper())
    size = int(float(match.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20,
                                        "G": 1 << 30}[match.group(2)]) if match else 0
    if not 0 < size <= 1 << 40:
        complain(f"--size {text!r} is not a size such as 500000, 10MB or 1GB")
        sys.exit(EXIT_TROUBLE)
    return size




# Commands kept in modules of their own.
from .cli_batch import batch  # noqa: E402
from .cli_fix import fix  # noqa: E402
from .cli_history import history  # noqa: E402
from .cli_validate import validate  # noqa: E402

main.add_command(fix)
main.add_command(history)
main.add_command(validate)
main.add_command(batch)
from .cli_refdata import refdata  # noqa: E402

main.add_command(refdata)
from .cli_ack import ack  # noqa: E402

main.add_command(ack)
from .cli_policy import policy  # noqa: E402

main.add_command(policy)
from .cli_queue import queue  # noqa: E402

main.add_command(queue)

if __name__ == "__main__":  # pragma: no cover
    main()
