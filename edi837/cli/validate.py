"""The `edi837 validate` command: a thin click layer over :mod:`edi837.validate`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..files import discover
from .support import (
    EXIT_TROUBLE,
    Location,
    complain,
    quiet_option,
    refuse_outputs_in_input_folders,
    report_reader_errors,
    report_targets,
    write_reports,
)


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=Location())
@click.option("--format", "fmt", default="text", show_default=True,
              help="Report format for stdout and for outputs whose extension says nothing "
                   "(text or json; `check`'s other formats work too).")
@click.option("-o", "--output", "outputs", multiple=True,
              help="Write a report here (atomically); repeat for several, format from the "
                   "extension (-o report.json -o report.txt).")
@click.option("--ack", "ack_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write each file's 999 acknowledgment here as <name>.999.")
@click.option("--control-numbers", "counter", type=click.Path(dir_okay=False, path_type=Path),
              help="The counter file the 999s take their ISA13/GS06 control numbers from "
                   "(default: control-numbers in $EDI837_STATE, else in "
                   "${XDG_DATA_HOME:-~/.local/share}/edi837/).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (at least 1).  The findings do not depend on it.")
@quiet_option
def validate(paths: tuple[Path, ...], fmt: str, outputs: tuple[str, ...],
             ack_dir: Path | None, counter: Path | None, jobs: int, quiet: bool) -> None:
    """Validate the 837 files and folders PATHS against the 5010 implementation
    guides (005010X222A1, 005010X223A2) with pyx12.

    Findings: IGH<n> envelope, IGS<n> segment (999 IK3 code) and IGE<n>
    element (999 IK4 code) errors; IG001 when pyx12 cannot validate a file;
    EDI005 warnings for version ids validated as the nearest guide, EDI005
    errors for transaction sets that are not 5010 837s (as `check`: the 999
    rejects them, IK5 R 1).

    Every 999 gets its own interchange and group control number from a
    counter kept between runs (--control-numbers), safe to share between
    processes.

    Exit status: 0 no error finding, 1 error findings, 2 a file could not be
    read whole (not X12, no 837 in it, an 837 set of another version,
    truncated: as `check` says), a 999 could not be written, or the command
    was misused.
    """
    from ..acks import ControlNumberError, ControlNumbers
    from ..validate import Pyx12Missing, ack_path, require_pyx12, validate_paths

    try:
        require_pyx12()
    except Pyx12Missing as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    report_targets(fmt, outputs)  # an -o whose extension names no format: exit 2 now
    refuse_outputs_in_input_folders(outputs, paths)
    if counter is not None and ack_dir is None:
        complain("--control-numbers is for the 999s: give --ack DIR too")
        sys.exit(EXIT_TROUBLE)
    numbers = None
    if ack_dir is not None:
        numbers = ControlNumbers(counter)
        try:
            ack_dir.mkdir(parents=True, exist_ok=True)
            numbers.last()  # a counter that cannot be used stops the run before it starts
        except OSError as exc:
            complain(f"cannot create --ack directory {ack_dir}: {exc.strerror or exc}")
            sys.exit(EXIT_TROUBLE)
        except ControlNumberError as exc:
            complain(str(exc))
            sys.exit(EXIT_TROUBLE)
    from ..progress import Progress, total_size, wanted

    inputs = _discovered(paths)
    progress = Progress(total_size(inputs), "edi837 validate", enabled=wanted(quiet))
    try:
        with progress.ticking():  # pyx12 on one large file: minutes without a byte counted
            report = validate_paths(_taken(inputs, progress), jobs=jobs, ack_dir=ack_dir,
                                    control_numbers=numbers)
    except ControlNumberError as exc:  # the counter broke during the run (disk full...)
        progress.close()
        complain(f"{exc}; the run was stopped")
        sys.exit(EXIT_TROUBLE)
    except OSError as exc:  # a 999 could not be written (disk full): none half written
        progress.close()
        complain(f"cannot write a 999 in {ack_dir}: {exc.strerror or exc}; the run was stopped")
        sys.exit(EXIT_TROUBLE)
    progress.close()
    write_reports(report, fmt, outputs, announce=True)
    for result in report.files:
        if result.status == "unreadable":
            report_reader_errors(result)
        elif ack_dir is not None and not ack_path(result.path, ack_dir).exists():
            complain(f"{result.path}: no 999 written: pyx12 could not acknowledge it")
    sys.exit(report.exit_status())


def _discovered(paths) -> list:
    """The files under PATHS; exit 2 when a URL's store cannot be listed (no driver
    installed, unreachable, no access)."""
    try:
        return list(discover(paths))
    except OSError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)


def _taken(paths: list[Path], progress):
    """The paths, one by one as validation takes them: a file counts as done when
    the next one is taken (validate_paths gives no finer signal)."""
    from ..progress import total_size

    previous = None
    for path in paths:
        if previous is not None:
            progress.advance(total_size([previous]))
        previous = path
        yield path
    if previous is not None:
        progress.advance(total_size([previous]))
