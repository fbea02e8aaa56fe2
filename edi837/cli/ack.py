"""The `edi837 ack` command, and `--ack277 DIR` of `check` and `fix --split`.

All three write, for each input file, a 999 and a 277CA claim acknowledgment.
Which transaction sets the 999 accepts comes from a 999 itself: the one edi837
writes now with pyx12 (``<stem>.999`` beside the 277CA, slow: about 0.25 MB/s,
spread over ``--jobs``), or, with ``ack --999 DIR``, the one `edi837 validate
--ack DIR` already wrote.  The 277CA then answers only the sets that 999
accepted.
"""
from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import click

from .support import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_TROUBLE,
    complain,
    input_files,
    load_config_or_exit,
    load_table_or_exit,
    parse_codes,
)


class Acknowledger:
    """Writes the 999 and 277CA of one run's files into ``out_dir``."""

    def __init__(self, out_dir: Path, identity, *, read_999: Path | None = None,
                 force: bool = False) -> None:
        from ..acks import ControlNumbers

        self.out_dir, self.identity, self.force = out_dir, identity, force
        self.read_999 = read_999
        self.numbers = ControlNumbers(identity.control_numbers)
        self.status = EXIT_OK
        self._ready = False
        self._taken: dict[Path, Path] = {}  # every output -> the input it is written for

    def trouble(self, message: str) -> None:
        complain(message)
        self.status = EXIT_TROUBLE

    def start(self, paths: list[Path], jobs: int = 1) -> list[Path]:
        """Check the folder and the counter (exit 2 when unusable), refuse inputs whose
        outputs exist or collide, and write the 999s of the rest (unless --999).
        Returns the inputs that may be acknowledged."""
        from ..acks import ControlNumberError
        from ..acks.ack277 import ack_path
        from ..validate import Pyx12Missing, require_pyx12, validate_paths
        from ..validate import ack_path as path_999

        if not self._ready:
            try:
                if self.read_999 is None:
                    require_pyx12()
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self.numbers.last()  # a broken counter stops the run before anything is written
            except (OSError, ControlNumberError, Pyx12Missing) as exc:
                complain(f"acknowledgments: {getattr(exc, 'strerror', None) or exc}")
                sys.exit(EXIT_TROUBLE)
            self._ready = True
        taken = self._taken
        kept = []
        for path in paths:
            targets = [ack_path(path, self.out_dir)]
            if self.read_999 is None:
                targets.append(path_999(path, self.out_dir))
            clash = next((t for t in targets if t in taken), None)
            if clash is not None:
                self.trouble(f"{path}: no acknowledgments: {clash} is already written for "
                              f"{taken[clash]}")
                continue
            existing = [t for t in targets if t.exists()]
            if existing and not self.force:
                self.trouble(f"{path}: no acknowledgments: {existing[0]} exists "
                              "(use --force to overwrite)")
                continue
            taken.update((t, path) for t in targets)
            kept.append(path)
        if self.read_999 is None and kept:
            try:
                validate_paths(kept, jobs=jobs, ack_dir=self.out_dir,
                               control_numbers=self.numbers)
            except ControlNumberError as exc:
                complain(f"{exc}; the run was stopped")
                sys.exit(EXIT_TROUBLE)
            except OSError as exc:  # disk full: no 999 is put in place half written
                complain(f"acknowledgments: cannot write a 999 in {self.out_dir}: "
                         f"{exc.strerror or exc}; the run was stopped")
                sys.exit(EXIT_TROUBLE)
        return kept

    def acknowledge(self, path: Path, findings) -> None:
        """Write ``path``'s 277CA from its findings (file order) and the 999 `start`
        wrote or --999 names; report on stdout, problems on stderr."""
        from ..acks.ack277 import Ack277Error, write_acknowledgments
        from ..validate import ack_path as path_999

        try:
            result = write_acknowledgments(
                path, findings, self.out_dir, identity=self.identity,
                control_numbers=self.numbers, force=self.force,
                read_999=path_999(path, self.read_999 or self.out_dir))
        except Ack277Error as exc:
            self.trouble(str(exc))
            return
        except OSError as exc:  # disk full: the 277CA is not put in place half written
            self.trouble(f"{path}: cannot write its 277CA in {self.out_dir}: "
                         f"{exc.strerror or exc}")
            return
        for note in result.skipped:
            complain(f"{path}: {note}")
        if result.unmatched:  # the 999 is another file's: as with no 999 (README)
            self.status = EXIT_TROUBLE
        elif result.skipped or result.rejected:
            self.status = max(self.status, EXIT_FINDINGS)
        if result.output is not None:
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
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes for the pyx12 validation; 0 = one per CPU.")
def ack(paths: tuple[Path, ...], out_dir: Path, read_999: Path | None, force: bool,
        sender_id: str | None, receiver_id: str | None, counter: Path | None,
        select: str | None, ignore: str | None, drug_tables: tuple[Path, ...],
        config_path: str | None, jobs: int) -> None:
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
    from ..fix import fix_file
    from ..progress import Progress, total_size, wanted

    table = load_table_or_exit(drug_tables)
    config = load_config_or_exit(config_path, None, None, table)
    acks = Acknowledger(out_dir, identity_or_exit(config, sender_id, receiver_id, counter),
                        read_999=read_999, force=force)
    inputs = input_files(paths)
    progress = Progress(total_size(inputs), "edi837 ack", enabled=wanted(False))
    with progress.ticking():  # the 999s: pyx12 validates every file first
        taken = acks.start(inputs, jobs)
    for path in taken:
        # fix --split's decision exactly: its own run, into a folder thrown away after
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".ack277-") as work:
            try:
                with progress.ticking():
                    fixed = fix_file(path, work, table=table, config=config,
                                     select=parse_codes(select), ignore=parse_codes(ignore),
                                     split=True)
                progress.done += total_size([path])
            except Exception as exc:  # noqa: BLE001 - one file's failure never stops the others
                acks.trouble(f"{path}: no 277CA: fix failed: {type(exc).__name__}: {exc} "
                              "(a bug in edi837, please report it)")
                continue
            if fixed.exit_status == EXIT_TROUBLE:
                why = "; ".join(fixed.problems) or fixed.status
                acks.trouble(f"{path}: no 277CA: `fix --split` would not split it: {why}")
                continue
            acks.acknowledge(path, fixed.remaining)
    sys.exit(acks.status)
