"""Helpers shared by the click commands: exit codes, outputs, loading data."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NoReturn, TextIO

import click

from ..arguments import UNREADABLE_RULES
from ..files import atomic_output
from ..findings import SEVERITIES
from ..safetext import shown

EXIT_OK, EXIT_FINDINGS, EXIT_TROUBLE = 0, 1, 2


@contextmanager
def output_stream(output: str | None) -> Iterator[TextIO]:
    """stdout, or a file written atomically; a file that cannot be written ends
    the command with a message and exit status 2, not a traceback."""
    if output in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        with atomic_output(output, newline="") as handle:
            yield handle
    except OSError as exc:
        complain(f"cannot write {output}: {exc.strerror or exc}")
        sys.exit(EXIT_TROUBLE)


def complain(message: str) -> None:
    """One line on stderr; names and values from files shown safely (no terminal
    escapes, line breaks or bidirectional overrides pass through)."""
    click.echo(f"edi837: {shown(message)}", err=True)


class Location(click.ParamType):
    """A command-line argument that is a local path (a Path) or a URL that fsspec reads
    (kept a string; edi837.locations); ``file://`` URLs become paths."""

    name = "path or URL"

    def __init__(self, local: click.ParamType | None = None) -> None:
        self.local = local  # how a local path is checked (e.g. click.Path(exists=True))

    def convert(self, value, param, ctx):
        from ..locations import is_url, local_path

        if value == "":  # an unset variable ("$INBOX"): never the current folder
            self.fail("an empty path (an unset variable?); give a file or folder (\".\" "
                      "for the current folder)", param, ctx)
        if not isinstance(value, Path) and is_url(value) and local_path(value) is None:
            return value
        value = local_path(value) or value if isinstance(value, str) else value
        return Path(value) if self.local is None else self.local.convert(value, param, ctx)


def input_files(paths, what: str = "837 files") -> list[Path]:
    """The files under PATHS (edi837.arguments.input_paths); exit 2 when there are none:
    a nightly job pointed at the wrong folder must not look clean."""
    from ..arguments import InputError, input_paths

    try:
        return input_paths(paths)
    except InputError as exc:
        complain(str(exc).replace("no 837 files", f"no {what}", 1))
        sys.exit(EXIT_TROUBLE)


def local_inputs_only(inputs, option: str | bool) -> None:
    """Exit 2 when ``option`` is given with an input by URL (a string): its tools read
    local files only for now."""
    urls = [given for given in inputs if isinstance(given, str)]
    if option and urls:
        complain(f"{option} reads its inputs as local files: not with a URL ({urls[0]}) yet")
        sys.exit(EXIT_TROUBLE)


def refuse_outputs_over_inputs(outputs, inputs: list[Path]) -> None:
    """Exit 2 when an output would replace one of the inputs (`check a.edi -o a.edi`)."""
    import os

    from ..locations import is_url, local_path, missing_bucket

    urls = {given for given in inputs if isinstance(given, str)}
    inputs = [given for given in inputs if not isinstance(given, str)]
    for output in outputs:
        if output in (None, "-"):
            continue
        if is_url(output):
            if output in urls:
                complain(f"output {output} is one of the input files; choose another name")
                sys.exit(EXIT_TROUBLE)
            bucket = missing_bucket(output) if local_path(output) is None else None
            if bucket is not None:  # before the run, not after it ("no such object")
                complain(f"cannot write {output}: the bucket {bucket} does not exist; "
                         "create it or write elsewhere (nothing was checked)")
                sys.exit(EXIT_TROUBLE)
            continue
        target = Path(output)
        try:
            clash = target.exists() and any(os.path.samefile(target, given) for given in inputs
                                            if given.exists())
        except OSError:
            clash = False
        if clash or target.resolve() in {given.resolve() for given in inputs}:
            complain(f"output {output} is one of the input files; choose another name")
            sys.exit(EXIT_TROUBLE)


def refuse_outputs_in_input_folders(outputs, paths) -> None:
    """Exit 2 when an output would land inside an input folder under a name the next
    run reads as an 837 (`check inbox/ -o inbox/r.txt`: that run would fail on it).
    Outputs folder reading passes over (`.json`, `.html`, `.999`...) are let be; an
    input file is never skipped for looking like a report."""
    for output in outputs:
        if output in (None, "-"):
            continue
        folder = input_folder_reading(output, paths)
        if folder is not None:
            complain(f"output {output} is inside the input folder {folder}: the next "
                     f"run would read it as an 837 file (and fail on it); write it "
                     f"outside {folder}, or in a format folders are not read for "
                     f"(.json, .html, .csv, .xml)")
            sys.exit(EXIT_TROUBLE)


def refuse_out_dir_in_input_folders(out_dir: Path, paths) -> None:
    """Exit 2 when `fix --out-dir` lies inside an input folder (`fix inbox/ --out-dir
    inbox/fixed`): the corrected .edi files written there would be read again by the
    next `check inbox/`, each claim twice.  A hidden folder (inbox/.fixed) is not read."""
    folder = input_folder_reading(out_dir / "corrected.edi", paths)
    if folder is not None:
        complain(f"--out-dir {out_dir} is inside the input folder {folder}: the next run "
                 f"would read the corrected .edi files written there as 837 files again "
                 f"(every claim twice); write them outside {folder}")
        sys.exit(EXIT_TROUBLE)


def input_folder_reading(output: str | Path, paths) -> Path | None:
    """The input folder among ``paths`` whose reading would take ``output`` as a claim
    file (a name folder reading takes, under no hidden folder), or None."""
    from ..files import is_candidate
    from ..locations import is_url, local_path

    if isinstance(output, str) and is_url(output):
        return None
    target = Path(output).resolve()
    for given in paths:
        if isinstance(given, str) and is_url(given) and local_path(given) is None:
            continue
        folder = Path(local_path(given) or given) if isinstance(given, str) else Path(given)
        if not folder.is_dir():
            continue
        try:
            inside = target.relative_to(folder.resolve())
        except ValueError:
            continue
        if is_candidate(target) and not any(part.startswith(".")
                                             for part in inside.parts[:-1]):
            return folder
    return None


def parse_codes(value: str | None, option: str = "--select/--ignore") -> tuple[str, ...]:
    """Comma- or space-separated rule codes and prefixes; exit 2 naming the close
    matches when one matches no rule (edi837.arguments.rule_codes)."""
    from ..arguments import OptionsError, rule_codes

    try:
        return rule_codes(value, option)
    except OptionsError as exc:
        exit_for(exc)


def load_config_or_exit(config_path: str | None, select: str | None, ignore: str | None,
                        table=None):
    """The configuration, with --select/--ignore; given the drug ``table``, a profile's
    schedule for a code the table does not have (a typo: J2530) is refused too: it would
    never apply (edi837.arguments.configuration)."""
    from ..arguments import OptionsError, configuration

    try:
        config = configuration(config_path, select, ignore, table,
                               names=("--select", "--ignore"))
    except OptionsError as exc:
        exit_for(exc)
    for warning in config.warnings:  # a profile an earlier one shadows: said, not refused
        complain(f"warning: {warning}")
    return config


def notice_unmatched_profiles(report, config) -> None:
    """A profile whose payer ids no checked claim carries: on stderr and in the report's
    run section (edi837.profile_match), with the configuration's warnings (a profile
    that never applies); the exit status is the findings'."""
    from ..profile_match import unmatched_payer_ids

    seen = (payer_id for result in report.files for payer_id in result.payer_ids)
    unmatched = unmatched_payer_ids(config.profiles, seen)
    # a profile that never applies (said as a warning when the configuration was read)
    # is in the report's notices too, first, as the Python API's (edi837.checkrun)
    report.notices.extend(config.warnings)
    report.notices.extend(unmatched)
    for notice in unmatched:
        complain(f"notice: {notice}")


def exit_for(exc) -> NoReturn:
    """What edi837.arguments (or edi837.api) refused: each problem on a line, exit 2."""
    for line in getattr(exc, "lines", (str(exc),)):
        complain(line)
    sys.exit(EXIT_TROUBLE)


refdata_option = click.option(
    "--refdata", "refdata", type=click.Path(file_okay=False, path_type=Path),
    help="Folder of imported CMS reference data (edi837 refdata import) [$EDI837_REFDATA, "
         "else ~/.local/share/edi837/refdata when it exists].")


class FormatOption(click.Option):
    """--format, whose help lists the formats of the registry (edi837.formats) when it is
    shown: a format a plug-in registers is listed too."""

    def get_help_record(self, ctx):
        from ..formats import FORMATS

        self.help = ("Report format for stdout and for outputs whose extension says "
                     f"nothing (or .txt): {', '.join(FORMATS)}.")
        return super().get_help_record(ctx)


def report_options(function):
    """Options shared by the commands that write reports (check, batch)."""
    options = [
        click.option("--format", "fmt", default="text", show_default=True, cls=FormatOption,
                     help="Report format for stdout and for outputs whose extension says "
                          "nothing (or .txt)."),
        click.option("-o", "--output", "outputs", multiple=True,
                     help="Write a report here (atomically); repeat for several, format "
                          "from the extension (-o report.html -o findings.csv)."),
        click.option("--select", help="Only these rule codes or prefixes (comma-separated)."),
        click.option("--ignore", help="Skip these rule codes or prefixes (comma-separated)."),
        click.option("--min-severity", type=click.Choice(SEVERITIES), default=None,
                     help="Text and HTML: list findings of this severity and above "
                          "[default: warning; the summary counts the rest]."),
        click.option("--drug-table", "drug_tables", multiple=True,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Extra drug table (TOML) adding to or overriding the shipped one."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="Configuration file (default: ./edi837.toml when present)."),
        refdata_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _read_every_claim(ctx: click.Context, param, value: bool) -> None:
    """--no-fast: every engine of this command, and its worker processes, reads every
    claim with the full reader (edi837.engine.fast_path_wanted), until it ends."""
    import os

    if not value:
        return
    before = os.environ.get("EDI837_FAST")
    os.environ["EDI837_FAST"] = "0"

    def restore() -> None:
        if before is None:
            os.environ.pop("EDI837_FAST", None)
        else:
            os.environ["EDI837_FAST"] = before

    ctx.call_on_close(restore)


no_fast_option = click.option(
    "--no-fast", is_flag=True, expose_value=False, callback=_read_every_claim,
    help="Read every claim in full, not only those with drug lines (the reference "
         "reader: the same findings, slower).")

quiet_option = click.option(
    "-q", "--quiet", is_flag=True,
    help="No progress display (shown on a terminal when the work takes more than a few "
         "seconds).")


def write_reports(report, fmt: str, outputs: tuple[str, ...], min_severity: str | None = None,
                  *, announce: bool = False) -> None:
    """Write the report to stdout, or to each output in the format its name implies.

    ``announce``: after writing files, print the run's summary and the paths
    written to stderr, so `check -o report.html` does not end in silence.
    """
    from ..reports import DEFAULT_OPTIONS, ReportOptions, load_writers

    writers = load_writers()
    if fmt not in writers:
        complain(f"unknown report format {fmt!r}; choose from {', '.join(sorted(writers))}")
        sys.exit(EXIT_TROUBLE)
    options = ReportOptions(min_severity) if min_severity else DEFAULT_OPTIONS
    targets = report_targets(fmt, outputs)
    for output, name in targets:
        with output_stream(output) as out:
            writers[name](report, out, options)
    if announce and outputs:
        announce_outputs(report, targets)


def given_on_command_line(param: str) -> bool:
    """Whether the running command's option ``param`` was typed (not its default)."""
    context = click.get_current_context(silent=True)
    if context is None or param not in context.params:
        return False
    source = context.get_parameter_source(param)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def report_targets(fmt: str, outputs: tuple[str, ...]) -> list[tuple[str | None, str]]:
    """Each output with the format it is written in: the one its extension names, else
    --format when given on the command line (an extension naming another format than
    an explicit --format is misuse, exit 2; ``.txt`` takes an explicit --format).  An
    output whose extension names no format (`-o report.pdf`) with no --format is misuse,
    exit 2: a report that silently comes out as text would be mistaken for the one asked
    for.  Called before the work starts, so a typo costs no night's run."""
    from ..reports import EXTENSIONS, format_for

    if not outputs:
        return [(None, fmt)]
    explicit = given_on_command_line("fmt")
    targets: list[tuple[str | None, str]] = []
    for output in outputs:
        name = format_for(output) if output != "-" else fmt
        if explicit and output.lower().endswith(".txt"):
            name = fmt  # "a text file": any report may be one; --format says which
        if explicit and name is not None and name != fmt:
            complain(f"{output}: its extension names the {name} format, but --format {fmt} "
                     "was given; drop --format, or name the output for the format you want")
            sys.exit(EXIT_TROUBLE)
        if name is None and not explicit:
            known = ", ".join(sorted(EXTENSIONS, key=lambda e: (EXTENSIONS[e], e)))
            complain(f"{output}: its extension names no report format; use one of {known}, "
                     "or give --format")
            sys.exit(EXIT_TROUBLE)
        targets.append((output, name or fmt))
    return targets


def announce_outputs(report, targets) -> None:
    from ..reports.figures import figures
    from ..reports.text import held_line, summary_line

    numbers = figures(report)
    click.echo(f"{summary_line(numbers)}; {held_line(numbers)}", err=True)
    for output, name in targets:
        if output not in (None, "-"):
            click.echo(f"  wrote {shown(output)} ({name})", err=True)


def report_reader_errors(reader, also: tuple[str, ...] = ()) -> bool:
    """Print a reader's (or file result's) errors that stop claims being read
    (EDI001, EDI002, EDI005 errors, and those of ``also``) to stderr, one line each:
    file, segment, code.  True if there were any."""
    trouble = False
    for finding in reader.findings:
        if (finding.rule in UNREADABLE_RULES or finding.rule in also) \
                and finding.severity == "error":
            say_reader_problem(finding)
            trouble = True
    return trouble


def say_reader_problem(finding) -> None:
    """A reader's error on stderr, one line: file, segment, code, message."""
    where = f":{finding.segment_index}" if finding.segment_index else ""
    complain(f"{finding.path}{where}: {finding.rule} {finding.message}")


def load_table_or_exit(extra: tuple[Path, ...], refdata: Path | None = None):
    """The drug table with ``extra`` files, and the imported reference data of ``refdata``
    (else of $EDI837_REFDATA, else of the per-user folder when it has any) laid over it
    (edi837.arguments.drug_table); exit 2 naming each problem."""
    from ..arguments import OptionsError, drug_table

    try:
        return drug_table(extra, refdata,
                          hint=" (--refdata, $EDI837_REFDATA, or the per-user folder)")
    except OptionsError as exc:
        exit_for(exc)
