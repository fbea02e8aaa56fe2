"""The `edi837` command line: one module per command under edi837/cli/, loaded lazily.

The group knows each command's name and one-line help (COMMANDS) without importing
its module, so `edi837 check --format json` imports the check command and what it
uses, not the batch, queue or history commands, lxml or the HTML report.  A new
command is a module here with a click command of the command's name, and a line
in COMMANDS (tests/cli/test_cli_lazy.py checks the line against the command's help).
"""
from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..entry import PACKAGE_DIR, started

EXIT_TROUBLE = 2  # edi837.cli.support's; not imported, so --version and --help start lean

# name -> (its module under edi837.cli, the first paragraph of its help, which
# `edi837 --help` shortens to one line as click does)
COMMANDS: dict[str, tuple[str, str]] = {
    "ack": ("ack", "Write a 999 and a 277CA claim acknowledgment for each 837 file in PATHS."),
    "batch": ("batch", "Check every file dropped into INBOX once: reports, then archive or "
                       "quarantine."),
    "check": ("check", "Check the drug lines of the 837 files and folders PATHS against the "
                       "billing rules."),
    "drugs": ("drugs", "List the drug table, or print one drug's facts with their sources: "
                       "the table's, then those of the imported CMS files in force on --date."),
    "extract": ("extract", "Print one row per drug line of the 837 files and folders PATHS."),
    "fix": ("fix", "Apply the safe fixes to the 837 files and folders PATHS, writing to "
                   "--out-dir."),
    "generate": ("generate", "Write a synthetic 837P/837I file (all data made up) for tests "
                             "and benchmarks."),
    "history": ("history", "Inspect and correct a patient history store."),
    "policy": ("policy", "List the shipped payer policies, or, given --payer/--filing/"
                         "--bill-type/--pos/--date, print the policy a claim would be judged "
                         "by and every requirement with its source."),
    "queue": ("queue", "The work queue: claims held by batch runs, open until they come back "
                       "clean, are voided, or an operator closes them."),
    "refdata": ("refdata", "Import CMS reference files (NDC-HCPCS crosswalks, ASP pricing, "
                           "MUE, ICD-10-CM) and show what is loaded. `check` judges NDCs, daily "
                           "maximums and diagnosis codes by them."),
    "rules": ("rules", "List the rules, or print one rule's documentation."),
    "validate": ("validate", "Validate the 837 files and folders PATHS against the 5010 "
                             "implementation guides (005010X222A1, 005010X223A2) with pyx12."),
}


# Commands that load more before their work starts, and say when their start-up is done
# (edi837.entry.started): check, once its drug table, configuration and engine are made.
STARTS_ITSELF = frozenset({"check"})


class LazyGroup(click.Group):
    """A click group whose commands are imported when they run or show their own help;
    the group's help lists them from COMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS.keys() | self.commands.keys())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module = importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")
            self.add_command(getattr(module, name), name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click.Group's, with a command not yet imported shortened from COMMANDS."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name][1])
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _print_version(ctx: click.Context, param, value: bool) -> None:
    """--version: the program, the drug table it judges by, and where both were loaded
    from (a release and a checkout can sit side by side on one machine)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib import resources

    from ..drugs import DrugTableError, load_drug_table

    click.echo(f"edi837, version {__version__}")
    click.echo(f"package: {PACKAGE_DIR}")
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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version,
              help="Show the version, the drug table's version and where they were loaded "
                   "from, and exit.")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help="On an internal error, print its traceback too [$EDI837_DEBUG=1].")
def main() -> None:
    """Read X12 837P/837I claim files and check their drug lines."""
    if click.get_current_context().invoked_subcommand not in STARTS_ITSELF:
        started()  # the command's module is imported: its start-up is done
    for stream in (sys.stdout, sys.stderr):
        try:  # a file name that is not UTF-8 is printed escaped, not a traceback
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass

