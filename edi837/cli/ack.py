"""The `edi837 ack` command, and `--ack277 DIR` of `check` and `fix --split`.

All three write, for each input file, a 999 and a 277CA claim acknowledgment.
Which transaction sets the 999 accepts comes from a 999 itself: the one edi837
writes now with pyx12 (``<stem>.999`` beside the 277CA, slow: about 0.25 MB/s,
spread over ``--jobs``), or, with ``ack --999 DIR``, the one `edi837 validate
--ack DIR` already wrote.  The 277CA then answers only the sets that 999
accepted.  The work is edi837.acks.run's; this module says what it did.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from .support import (
    EXIT_TROUBLE,
    complain,
    input_files,
    load_config_or_exit,
    load_table_or_exit,
    parse_codes,
    refdata_option,
)


class Acknowledger:
    """edi837.acks.run.Acknowledger for a command: each file's problem on stderr, its
    277CA's outcome on stdout, and a run that cannot go on ends with exit status 2."""

    def __init__(self, out_dir: Path, identity, *, read_999: Path | None = None,
                 force: bool = False) -> None:
        from ..acks.run import Acknowledger as Run

        self.run = Run(out_dir, identity, read_999=read_999, force=force, on_problem=complain)

    @property
    def status(self) -> int:
        return self.run.status

    def trouble(self, message: str) -> None:
        self.run.trouble(message)

    def start(self, paths: list[Path], jobs: int = 1) -> list[Path]:
        """edi837.acks.run.Acknowledger.start; exit 2 when the run cannot go on."""
        from ..acks.run import AckRunError

        try:
            return self.run.start(paths, jobs)
        except AckRunError as exc:
            complain(str(exc))
            sys.exit(EXIT_TROUBLE)

    def acknowledge(self, path: Path, findings) -> None:
        """Write ``path``'s 277CA from its findings; say what it says."""
        self.said(path, self.run.acknowledge(path, findings))

    @staticmethod
    def said(path: Path, result) -> None:
        if result is not None and result.output is not None:
            click.echo(f"{path}: 277CA -> {result.output}: {result.sets} transaction set(s), "
                       f"{result.accepted} claim(s) accepted, {result.rejected} rejected")


def identity_or_exit(config, sender_id: str | None = None, receiver_id: str | None = None,
                     counter: Path | None = None):
    """The configured [acknowledgments] with the command line's overrides."""
    from ..config import ConfigError, parse_acknowledgments

    overrides = {name: value for name, value in (("sender_id", sender_id),
                                                 ("receiver_id", receiver_id)) if value}
    try:
        identity = parse_acknowledgments(overrides, "command line", config.acknowledgments)
    except ConfigError as exc:
        complain(str(exc).replace("command line.sender_id", "--sender-id")
                 .replace("command line.receiver_id", "--receiver-id"))
        sys.exit(EXIT_TROUBLE)
    return replace(identity, control_numbers=str(counter)) if counter else identity


ack277_option = click.option(
    "--ack277", "ack277_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Also write each file's 999 (validated now with pyx12, slow) and 277CA claim "
         "acknowledgment here: <stem>.999, <stem>.277.")


@click.command("ack")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(path_type=Path, readable=False))
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Write <stem>.277 (and, unless --999, <stem>.999) here.")
@click.option("--999", "read_999", type=click.Path(file_okay=False, exists=True,
                                                   path_type=Path),
              help="Read each file's 999 from here (as `validate --ack DIR` writes them) "
                   "instead of validating with pyx12 now.")
@click.option("--force", is_flag=True, help="Overwrite acknowledgments that already exist.")
@click.option("--sender-id", help="ISA06/GS02 of the acknowledgments [the 837's ISA08/GS03].")
@click.option("--receiver-id", help="ISA08/GS03 of the acknowledgments [the 837's ISA06/GS02].")
@click.option("--control-numbers", "counter", type=click.Path(dir_okay=False, path_type=Path),
              help="The counter file the control numbers come from (default: the 999s' "
                   "counter, control-numbers in $EDI837_STATE or ~/.local/share/edi837/).")
@click.option("--select", help="Only the fixes of these rule codes or prefixes, as `fix`.")
@click.option("--ignore", help="Not the fixes of these rule codes or prefixes, as `fix`.")
@click.option("--drug-table", "drug_tables", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra drug table (TOML) adding to or overriding the shipped one.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: ./edi837.toml when present).")
@refdata_option
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes for the pyx12 validation; 0 = one per CPU.")
def ack(paths: tuple[Path, ...], out_dir: Path, read_999: Path | None, force: bool,
        sender_id: str | None, receiver_id: str | None, counter: Path | None,
        select: str | None, ignore: str | None, drug_tables: tuple[Path, ...],
        config_path: str | None, refdata: Path | None, jobs: int) -> None:
    """Write a 999 and a 277CA claim acknowledgment for each 837 file in PATHS.

    A claim is accepted (STC A1:20) or rejected exactly as `fix --split`
    accepts or holds it: after the safe fixes, by the errors that remain.  A
    rejected claim gets one STC per reason (A3/A6/A7/A8 with the status code
    and entity of the rule's row in the status table, `edi837 rules CODE`),
    and each service line a finding rejects an SVC loop.  Transaction sets
    the 999 rejects get no 277CA.

    Exit status: 0 every claim accepted, 1 claims or transaction sets
    rejected, 2 a file could not be acknowledged (no 999, or a 999 that does
    not mention its transaction sets) or the command was misused.
    """
    from ..progress import Progress, total_size, wanted

    table = load_table_or_exit(drug_tables, refdata)
    config = load_config_or_exit(config_path, None, None, table)
    acks = Acknowledger(out_dir, identity_or_exit(config, sender_id, receiver_id, counter),
                        read_999=read_999, force=force)
    inputs = input_files(paths)
    chosen, left_out = parse_codes(select), parse_codes(ignore)  # before any 999
    progress = Progress(total_size(inputs), "edi837 ack", enabled=wanted(False))
    with progress.ticking():  # the 999s: pyx12 validates every file first
        taken = acks.start(inputs, jobs)
    for path in taken:
        with progress.ticking():  # fix --split's decision, then the 277CA
            result = acks.run.acknowledge_as_split(path, table, config, chosen, left_out)
        progress.done += total_size([path])
        acks.said(path, result)
    sys.exit(acks.status)
