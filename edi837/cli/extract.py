"""`edi837 extract`: one row per drug line, CSV or JSON lines."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .support import (
    Location,
    exit_for,
    no_fast_option,
    output_stream,
    quiet_option,
    refuse_outputs_in_input_folders,
    refuse_outputs_over_inputs,
    say_reader_problem,
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=Location())
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              help="Row format [default: what -o's extension says (.csv, .jsonl), else "
                   "csv].")
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
    from ..api import Edi837Error
    from ..api import extract as drug_lines
    from ..extract import RowWriter
    from ..progress import Progress, total_size, wanted

    fmt = _row_format(fmt, output)

    try:  # the reading is edi837.api's; this writes the rows and says each file's problems
        lines = drug_lines(paths, drug_tables=drug_tables, errors="report")
    except Edi837Error as exc:
        exit_for(exc)
    refuse_outputs_over_inputs([output], lines.inputs)
    refuse_outputs_in_input_folders([output], paths)
    with output_stream(output) as out, Progress(total_size(lines.inputs), "edi837 extract",
                                                enabled=wanted(quiet)) as progress:

        def said(path: Path, problems: list) -> None:
            # a skipped set that is not an 837 too; with segments not read (not an X12
            # id, drug lines outside any claim) the EDI007s too, and status 1: a drug
            # line may be missing from the rows
            progress.clear()
            for finding in problems:
                say_reader_problem(finding)

        lines.on_file, lines.opened = said, progress.reading
        writer = RowWriter(out, fmt)
        for record in lines.records():
            writer.write(record)  # an OSError here is the output's: output_stream says so
    sys.exit(lines.exit_status)


ROW_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


def _row_format(fmt: str, output: str | None) -> str:
    """The rows' format: -o's extension says it (rows.jsonl), unless --format is given;
    an extension naming the other format than an explicit --format is misuse (exit 2),
    as for check's reports."""
    from .support import EXIT_TROUBLE, complain, given_on_command_line

    if output in (None, "-"):
        return fmt
    named = next((f for ext, f in ROW_FORMATS.items() if output.lower().endswith(ext)), None)
    if named is None or named == fmt:
        return fmt
    if given_on_command_line("fmt"):
        complain(f"{output}: its extension names {named} rows, but --format {fmt} was given; "
                 "drop --format, or name the output for the format you want")
        sys.exit(EXIT_TROUBLE)
    return named
