"""`edi837 queue`: the work queue of a batch OUTDIR (edi837.queue), listed,
shown, closed, noted and exported.

The queue is read from OUTDIR's ledger (``--out``), or from a ledger several
batch hosts share (``--ledger postgresql://...``, as given to ``edi837 batch``).

Exit status: 0 done (a list may be empty), 2 misuse (no ledger in OUTDIR, no
such open claim, an ambiguous claim id, a ledger that cannot be read).
"""
from __future__ import annotations

import json
import sqlite3
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click

from .support import EXIT_TROUBLE, complain, output_stream

LEDGER = "ledger.sqlite3"  # edi837.batch.ledger.LEDGER_NAME (not imported: a light command)


class LedgerURL(click.ParamType):
    """A shared ledger: a postgresql:// URL (OUTDIR's own ledger is named by --out)."""

    name = "url"

    def convert(self, value, param, ctx):
        from ..pgdb import is_url, masked, not_a_store

        if not is_url(value):  # (a password in it is not shown)
            why = not_a_store(value, "ledger") or f"{masked(value)}: not a postgresql:// URL"
            self.fail(f"{why} (a batch's own ledger is the {LEDGER} in its OUTDIR)",
                      param, ctx)
        return value


def ledger_option(function):
    """--ledger URL (batch and queue)."""
    return click.option(
        "--ledger", "ledger", type=LedgerURL(), default=None,
        help="A ledger (and work queue) several batch hosts share: a postgresql:// URL "
             "(pip install 'edi837[postgres]'); default: ledger.sqlite3 in OUTDIR.")(function)


def _out_option(function):
    function = ledger_option(function)
    return click.option("--out", "out", type=click.Path(file_okay=False),
                        help="The batch's OUTDIR (holds ledger.sqlite3); or --ledger URL."
                        )(function)


def _target(out: str | None, ledger: str | None):
    """What --out and --ledger name: the shared ledger's URL, or OUTDIR's file."""
    if (out is None) == (ledger is None):
        complain("name the queue's ledger: --out OUTDIR, or --ledger URL (one of them)")
        sys.exit(EXIT_TROUBLE)
    if ledger is not None:
        return ledger
    path = Path(out) / LEDGER
    if not path.is_file():
        complain(f"{out}: no {LEDGER} here: not the --out folder of edi837 batch?")
        sys.exit(EXIT_TROUBLE)
    return path


def _filter_options(function):
    options = [
        click.option("--payer", help="Only this payer id (2010BB NM109)."),
        click.option("--rule", help="Only claims held by this rule code."),
        click.option("--npi", help="Only this billing provider NPI (2010AA NM109)."),
        click.option("--submitter", help="Only this submitter id (1000A NM109)."),
        click.option("--file", "file_name",
                     help="Only claims that came in (or back) in this file."),
        click.option("--claim", help="Only this claim id (CLM01)."),
        click.option("--min-age", type=click.IntRange(min=0), help="Only claims open at least "
                     "this many days."),
        click.option("--all", "everything", is_flag=True,
                     help="Resolved, voided and closed claims too, with their status."),
        click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                     help="Age claims to this day (YYYY-MM-DD; default today, UTC)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _filters(payer, rule, npi, submitter, file_name, claim, min_age, everything):
    from ..queue.view import Filters

    if rule is not None:
        # a typo (--rule NDC02) must not show an empty queue that looks worked off
        from ..config import ConfigError, check_codes

        rule = rule.strip().upper()
        try:
            check_codes([rule], "--rule", exact=True)
        except ConfigError as exc:
            complain(str(exc))
            sys.exit(EXIT_TROUBLE)
    return Filters(payer=payer, rule=rule, npi=npi, submitter=submitter, file=file_name,
                   claim=claim, min_age=min_age, all=everything)


def _connect(target, *, write: bool = False) -> sqlite3.Connection:
    """The ledger at ``target`` (read-only unless ``write``)."""
    from ..batch.ledger_db import HISTORY_TABLES, LEDGER_TABLES, LEDGER_VERSION
    from ..dbfiles import DatabaseRefused, connect, newer
    from ..pgdb import is_url, masked, open_database

    path = masked(target) if is_url(target) else target
    try:  # a database of something else, or of a newer edi837, is refused untouched
        if is_url(target):
            db = open_database(target, what="batch ledger", read_only=not write,
                               mine=LEDGER_TABLES | HISTORY_TABLES)
            if not LEDGER_TABLES <= db.tables():  # e.g. a history store of its own
                db.close()
                raise DatabaseRefused(f"{path}: no edi837 batch ledger in schema {db.schema} "
                                      "(yet): `edi837 batch --ledger URL` makes it")
        else:
            db, _ = connect(path, what="batch ledger", mine=LEDGER_TABLES,
                            read_only=not write, timeout=30)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > LEDGER_VERSION:
            db.close()
            raise newer(path, "batch ledger", version, LEDGER_VERSION)
        if write:
            from ..queue.store import ensure_schema

            ensure_schema(db)
    except DatabaseRefused as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    except sqlite3.DatabaseError as exc:
        complain(f"{path}: cannot read the ledger: {exc}")
        sys.exit(EXIT_TROUBLE)
    return db


@contextmanager
def _writing(target):
    """One short write transaction on the ledger (a batch may be running: it waits
    its turn, said once), rolled back on any exit but success."""
    from ..dbfiles import DatabaseRefused, write_transaction
    from ..pgdb import is_url, masked

    where = masked(target) if is_url(target) else target
    db = _connect(target, write=True)
    try:
        with write_transaction(db, where, waiting=complain):
            yield db
    except (sqlite3.OperationalError, DatabaseRefused) as exc:
        complain(f"{where}: cannot write the queue: {exc}")
        sys.exit(EXIT_TROUBLE)
    finally:
        db.close()


def _as_of(value) -> date | None:
    return value.date() if value is not None else None


@click.group()
def queue() -> None:
    """The work queue: claims held by batch runs, open until they come back clean,
    are voided, or an operator closes them."""


@queue.command("list")
@_out_option
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one JSON object a line per claim.")
def list_command(out, ledger, payer, rule, npi, submitter, file_name, claim, min_age, everything,
                 as_of, fmt) -> None:
    """The open claims (with --all every claim the queue has held), oldest first."""
    from ..queue.view import contract, entries, totals, unknown_values
    from ..reports.figures import dollars, plural

    filters = _filters(payer, rule, npi, submitter, file_name, claim, min_age, everything)
    db = _connect(_target(out, ledger))
    found = entries(db, filters, as_of=_as_of(as_of))
    if not found:  # a value no claim ever had: a typo? (an empty list, exit status 0)
        for note in unknown_values(db, filters):
            complain(f"note: {note}")
    if fmt == "json":
        for entry in found:
            click.echo(json.dumps(contract(entry, with_status=everything)))
        return
    columns = ("claim", "payer", "billing NPI", "submitter", "charge", "rules", "first night",
               "age", "resent") + (("status", "resolved by") if everything else ())
    rows = [(e["claim_id"], e["payer_id"], e["billing_npi"], e["submitter"] or "",
             dollars(_amount(e["charge"])), ",".join(e["rules"]), e["first_night"],
             f"{e['age_days']:,} d", f"{e['resubmissions']:,}")
            + ((e["status"], e["resolved_by_run"] or "") if everything else ())
            for e in found]
    _table(columns, rows)
    total = totals(found)
    click.echo(f"{plural(total['claims'], 'claim')}, {dollars(total['charges'])}"
               + ("" if everything else " open"))


def _amount(charge):
    from ..queue.store import cents

    return cents(charge)


def _table(columns, rows) -> None:
    from ..safetext import shown

    rows = [tuple(shown(str(c)) for c in row) for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    right = {4, 7, 8}  # numbers
    for row in [columns, *rows]:
        click.echo("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())


def _claim_selection(function):
    function = click.option("--npi", help="The billing NPI, when the claim id is not enough."
                            )(function)
    function = click.option("--payer", help="The payer id, when the claim id is not enough."
                            )(function)
    return click.argument("claim_id")(function)


def _one_open(db, claim_id: str, payer: str | None, npi: str | None) -> dict:
    from ..queue.view import Filters, entries

    found = entries(db, Filters(claim=claim_id, payer=payer, npi=npi))
    if not found:
        complain(f"no open claim {claim_id} in the queue"
                 + (f" for payer {payer}" if payer else "") + (f" and NPI {npi}" if npi else ""))
        sys.exit(EXIT_TROUBLE)
    if len(found) > 1:
        which = ", ".join(f"payer {e['payer_id']} NPI {e['billing_npi']}" for e in found)
        complain(f"{len(found)} open claims {claim_id} ({which}): say which with --payer "
                 "and --npi")
        sys.exit(EXIT_TROUBLE)
    return found[0]


@queue.command()
@_out_option
@_claim_selection
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Age claims to this day (YYYY-MM-DD; default today, UTC).")
def show(out, ledger, claim_id, payer, npi, as_of) -> None:
    """Every queue entry of a claim id: where it came in, its rules, resubmissions,
    how it was resolved, and its notes."""
    from ..queue.view import Filters, entries, notes
    from ..reports.figures import dollars, plural

    db = _connect(_target(out, ledger))
    found = entries(db, Filters(claim=claim_id, payer=payer, npi=npi, all=True),
                    as_of=_as_of(as_of))
    if not found:
        complain(f"the queue has never held claim {claim_id}")
        sys.exit(EXIT_TROUBLE)
    for e in found:
        lines = [f"claim {e['claim_id']}: {e['status']}",
                 f"  payer {e['payer_id']} {e['payer_name'] or ''}".rstrip(),
                 f"  billing NPI {e['billing_npi']}; submitter {e['submitter'] or '-'} "
                 f"{e['submitter_name'] or ''}".rstrip(),
                 f"  charge {dollars(_amount(e['charge']))}; rules {', '.join(e['rules'])}",
                 f"  came in {e['first_night']} in {e['first_file']} (run {e['first_run']}); "
                 f"{plural(e['age_days'], 'day')}; sent again "
                 f"{plural(e['resubmissions'], 'time')}",
                 f"  last seen in {e['last_file']} (run {e['last_run']})"]
        if e["status"] == "closed":
            lines.append(f"  closed by an operator ({e['resolved_at']}): {e['reason']}")
        elif e["status"] != "open":
            lines.append(f"  {e['status']} by {e['resolution']}"
                         + (f" in {e['resolved_file']}" if e["resolved_file"] else "")
                         + f" (run {e['resolved_by_run']}, {e['resolved_at']})"
                         + (f": {e['reason']}" if e["reason"] else ""))
        lines += [f"  note {n['at']}: {n['text']}" for n in notes(db, e["id"])]
        click.echo("\n".join(_safe(line) for line in lines))


def _safe(text: str) -> str:
    from ..safetext import shown

    return shown(text)


@queue.command("close")
@_out_option
@_claim_selection
@click.option("--reason", required=True, help="Why it leaves the queue (kept with it).")
def close_command(out, ledger, claim_id, payer, npi, reason) -> None:
    """Close an open claim by hand, with a reason (e.g. paid after appeal, written off)."""
    from ..queue.store import close

    if not reason.strip():
        complain("--reason must say why")
        sys.exit(EXIT_TROUBLE)
    with _writing(_target(out, ledger)) as db:
        entry = _one_open(db, claim_id, payer, npi)
        close(db, entry["id"], reason.strip())
    click.echo(_safe(f"claim {claim_id} (payer {entry['payer_id']}, NPI "
                     f"{entry['billing_npi']}) closed: {reason.strip()}"))


@queue.command("note")
@_out_option
@_claim_selection
@click.argument("text")
def note_command(out, ledger, claim_id, payer, npi, text) -> None:
    """Add a note to an open claim (who was called, what they said)."""
    from ..queue.store import note

    if not text.strip():
        complain("the note is empty")
        sys.exit(EXIT_TROUBLE)
    with _writing(_target(out, ledger)) as db:
        entry = _one_open(db, claim_id, payer, npi)
        note(db, entry["id"], text.strip())
    click.echo(_safe(f"claim {claim_id}: note added"))


EXPORT_COLUMNS = ("claim_id", "payer_id", "payer_name", "billing_npi", "submitter",
                  "submitter_name", "charge", "rules", "first_night", "first_run",
                  "first_file", "age_days", "resubmissions", "status", "resolution",
                  "resolved_by_run", "resolved_file")
EXPORT_SUFFIXES = (".csv", ".json", ".jsonl")


@queue.command()
@_out_option
@_filter_options
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write here (.csv, or .jsonl or .json for JSON lines; any other "
                   "extension is refused); default CSV on stdout.")
def export(out, ledger, payer, rule, npi, submitter, file_name, claim, min_age, everything, as_of,
           output) -> None:
    """The queue (filtered as `list`) as CSV or JSON lines, for a spreadsheet or a ticket
    system."""
    from ..queue.store import cents
    from ..queue.view import entries
    from ..safetext import CsvRows

    suffix = Path(output).suffix.lower() if output not in (None, "-") else ".csv"
    if suffix not in EXPORT_SUFFIXES:
        complain(f"{output}: its extension names no export format; use .csv, or .jsonl "
                 "(or .json) for JSON lines")
        sys.exit(EXIT_TROUBLE)
    filters = _filters(payer, rule, npi, submitter, file_name, claim, min_age, everything)
    found = entries(_connect(_target(out, ledger)), filters, as_of=_as_of(as_of))
    as_json = suffix in (".json", ".jsonl")
    with output_stream(output) as stream:
        if as_json:
            for e in found:
                stream.write(json.dumps({c: (float(cents(e[c])) if c == "charge" else e[c])
                                         for c in EXPORT_COLUMNS}) + "\n")
            return
        rows = CsvRows(stream, EXPORT_COLUMNS)
        for e in found:
            rows.write([float(cents(e["charge"])) if c == "charge" else
                        " ".join(e["rules"]) if c == "rules" else e[c]
                        for c in EXPORT_COLUMNS])
