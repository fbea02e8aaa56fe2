"""`edi837 extract`: one row per drug line, CSV or JSON lines."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .support import (
    EXIT_OK,
    EXIT_TROUBLE,
    complain,
    input_files,
    load_table_or_exit,
    no_fast_option,
    output_stream,
    quiet_option,
    refuse_outputs_over_inputs,
    report_reader_errors,
)


class _OutputFailed(Exception):
    """Writing extract's rows failed (the cause): not a problem of the input file."""


@click.command()
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
    from ..claims import ClaimReader
    from ..engine import fast_path_wanted
    from ..extract import RowWriter, rows
    from ..progress import Progress, total_size, wanted

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
