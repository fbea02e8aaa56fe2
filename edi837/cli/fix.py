"""The `edi837 fix` command: a thin click layer over :func:`edi837.api.iter_fix`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .ack import Acknowledger, ack277_option
from .support import (
    EXIT_OK,
    EXIT_TROUBLE,
    Location,
    complain,
    exit_for,
    local_inputs_only,
    no_fast_option,
    parse_codes,
    quiet_option,
    refdata_option,
    refuse_out_dir_in_input_folders,
)


@click.command("fix")
@click.argument("paths", nargs=-1, required=True, type=Location())
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Write the corrected files, change logs and split files here.")
@click.option("--select", help="Only the fixes of these rule codes or prefixes "
                               "(comma-separated).")
@click.option("--ignore", help="Not the fixes of these rule codes or prefixes "
                               "(comma-separated).")
@click.option("--dry-run", is_flag=True, help="Print a diff of what would change; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite outputs that already exist.")
@click.option("--split", is_flag=True,
              help="Also write <name>.accepted.edi (claims with no remaining error) and "
                   "<name>.held.edi (the rest), with a report of why each claim was held.")
@click.option("--control-numbers", "counter", type=click.Path(dir_okay=False, path_type=Path),
              help="With --split: the counter file (as the acknowledgments') each "
                   "interchange and group of the split files takes a new ISA13/GS06 from, "
                   "so a corrected resend does not repeat the first one's [the input's].")
@click.option("--drug-table", "drug_tables", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra drug table (TOML) adding to or overriding the shipped one.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: ./edi837.toml when present).")
@refdata_option
@ack277_option
@no_fast_option
@quiet_option
def fix(paths: tuple[Path, ...], out_dir: Path, select: str | None, ignore: str | None,
        dry_run: bool, force: bool, split: bool, drug_tables: tuple[Path, ...],
        config_path: str | None, refdata: Path | None, ack277_dir: Path | None,
        quiet: bool, counter: Path | None = None) -> None:
    """Apply the safe fixes to the 837 files and folders PATHS, writing to --out-dir.

    Input files are never modified; outputs are written atomically and an
    existing one is overwritten only with --force.  After writing, each
    output is checked again: every fixed finding must be gone and none new.

    Exit status: 0 every file written and clean, 1 written but errors remain
    (held claims, findings with no safe fix), 2 a file could not be read or
    fixed, an output already exists, or the re-check found a problem.  A file
    that fails is named on stderr and the others are still fixed.
    """
    from ..api import Edi837Error, iter_fix
    from ..progress import Progress, total_size, wanted

    # --select/--ignore choose fixes; the check itself runs as configured, so
    # the errors that remain are the ones `check` would report.
    local_inputs_only(paths, "fix")  # its outputs and re-check: local files, for now
    refuse_out_dir_in_input_folders(out_dir, paths)  # the next check would read them again
    chosen, left_out = parse_codes(select, "--select"), parse_codes(ignore, "--ignore")
    numbers = _counter(counter, split and not dry_run)
    if ack277_dir is not None and (not split or dry_run):
        complain("--ack277 acknowledges what --split forwards: give --split, not --dry-run")
        sys.exit(EXIT_TROUBLE)
    acks: Acknowledger | None = None
    started: set[Path] = set()  # the inputs whose 999 was written, to be acknowledged

    def by_999(path: Path) -> tuple:
        """The 999 first: a set it rejects is held whole by the split (README)."""
        assert acks is not None
        if not acks.start([path]):
            return None, set()
        started.add(path)
        return acks.run.split_by_999(path)

    try:  # the orchestration is edi837.api's; this prints each file's outcome
        results = iter_fix(paths, out_dir, select=chosen, ignore=left_out, dry_run=dry_run,
                           force=force, split=split, drug_tables=drug_tables,
                           config=config_path, refdata=refdata, errors="report",
                           control_numbers=numbers,
                           rejected_sets=by_999 if ack277_dir is not None else None)
    except Edi837Error as exc:
        exit_for(exc)
    if ack277_dir is not None:  # the 277CA rejects exactly the claims the split holds
        acks = Acknowledger(ack277_dir, results.config.acknowledgments, force=force)
    status = EXIT_OK
    progress = Progress(total_size(results.inputs), "edi837 fix", enabled=wanted(quiet))
    progress.advance(0)  # drawn while a file is fixed, once the run takes a while
    while True:
        with progress.ticking():  # one large file (--split of 80 MB: most of a minute)
            result = next(results, None)
        if result is None:
            break
        progress.clear()  # this file's own lines come next
        progress.done += total_size([Path(result.path)])
        _report(result)
        status = max(status, result.exit_status)
        if acks is not None and result.exit_status == EXIT_TROUBLE:
            acks.trouble(f"{result.path}: no 277CA: the file was not fixed and split")
        elif acks is not None and Path(result.path) in started:
            acks.acknowledge(Path(result.path), result.remaining)
        progress.advance(0)
    progress.close()
    sys.exit(max(status, acks.status) if acks is not None else status)


def _counter(path: Path | None, splitting: bool):
    """The split files' control-number counter (--control-numbers), or None; exit 2
    without --split (or with --dry-run), or when it cannot be used."""
    if path is None:
        return None
    if not splitting:
        complain("--control-numbers renumbers the split files: give --split, not --dry-run")
        sys.exit(EXIT_TROUBLE)
    from ..x12.control import ControlNumberError, ControlNumbers

    numbers = ControlNumbers(path)
    try:
        numbers.last()  # a counter that cannot be used stops the run before it starts
    except ControlNumberError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    return numbers


def _report(result) -> None:
    """One summary line per file on stdout (the diff first, in a dry run); problems on stderr."""
    if result.diff:
        click.echo(result.diff, nl=False)
    for problem in result.problems:
        complain(f"{result.path}: {problem}")
    if result.status in ("unreadable", "exists", "failed"):
        return
    verb = "would change" if result.status == "dry-run" else "changed"
    parts = [f"{result.path}: {verb} {len(result.changes)} element(s)"]
    if result.status != "dry-run":
        parts[0] += f" -> {result.output}"
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped")
    if result.split is not None:
        parts.append(f"{result.split.accepted} claim(s) accepted, "
                     f"{len(result.split.held)} held")
    parts.append(f"{len(result.remaining)} error(s) remain")
    click.echo("; ".join(parts))

