"""`edi837 history` and the history options of `check`: thin commands over edi837.history."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..history.pg import is_url, masked, not_a_store
from .support import EXIT_TROUBLE, complain


class StoreParam(click.ParamType):
    """A history store: a SQLite file, or a ``postgresql://`` URL (kept as given)."""

    name = "store"

    def __init__(self, *, exists: bool = False, path_type=None) -> None:
        self._path = click.Path(dir_okay=False, exists=exists, path_type=path_type)

    def convert(self, value, param, ctx):
        if is_url(value):
            return value
        refused = not_a_store(value, "history store")
        if refused is not None:  # never a SQLite file named by it (its password shown)
            self.fail(refused, param, ctx)
        return self._path.convert(value, param, ctx)


def history_options(function):
    """--history, --history-key, --history-days (check; batch keeps its own default)."""
    options = [
        click.option("--history", "history_path", type=StoreParam(),
                     help="Patient history store (a SQLite file, created when missing, or a "
                          "postgresql:// URL): this run's drug lines are judged against "
                          "earlier runs' and added to it."),
        click.option("--history-key", "history_key", type=click.Path(dir_okay=False),
                     help="Secret key for patient identities (default: "
                          "~/.local/share/edi837/history.key, created on first use, mode 0600)."),
        click.option("--history-days", type=click.IntRange(min=0), default=None,
                     help="Keep lines whose date of service is at most this many days old "
                          "(default 400; 0 keeps everything)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def open_history_or_exit(path: str | None, key_path: str | None, days: int | None):
    """The store named by --history, or None; exit 2 on a bad store or key.  Nothing
    is written to it here: the run prunes it in its own transaction
    (:func:`begin_history_run`), committed with its lines (:func:`commit_history_or_exit`)."""
    from ..history import HistoryKeyError, HistoryStore, HistoryStoreError
    from ..history.identity import default_key_path, load_key

    if path is None:
        if key_path is not None or days is not None:
            complain("--history-key and --history-days need --history FILE")
            sys.exit(EXIT_TROUBLE)
        return None
    key_file = Path(key_path) if key_path else default_key_path()
    created = not key_file.exists()
    try:
        key = load_key(key_file)
        store = HistoryStore.open(path, key)
        store.waiting = complain  # another run holds the store: this one waits its turn
    except (HistoryKeyError, HistoryStoreError) as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    if created:
        complain(f"created history key {key_file} (mode 0600): back it up; a store cannot be "
                 "read with another key")
    if store.created:
        complain(f"warning: {NEW_STORE.format(path=path)}")
    return store


# a mistyped --history path makes a store that has seen nobody: said, never silent
NEW_STORE = ("new, empty history store created at {path}: it holds no earlier run, so no "
             "claim of one is found as a duplicate (a mistyped path?)")


def begin_history_run(store, days: int | None) -> int:
    """Hold the store for the run (:meth:`HistoryStore.begin_run`) and prune it to
    ``days`` (default 400) in the run's transaction, as the Python API does: a run
    killed or failing before :func:`commit_history_or_exit` leaves the store exactly
    as it was.  Returns how many lines the prune takes out (said once committed).
    Raises HistoryStoreError."""
    from ..history import DEFAULT_DAYS

    store.begin_run()
    return store.prune(DEFAULT_DAYS if days is None else days)


def commit_history_or_exit(store, *, read_any: bool = True, pruned: int = 0,
                           days: int | None = None) -> None:
    """Commit the run's lines, and its prune, to the store (`check --history`: its
    reports are out), or exit 2 saying why.  A run that could read none of its files
    (``read_any`` False) forwarded nothing: it commits nothing either, its prune
    included (the store is closed uncommitted).  The prune is said once committed."""
    from ..history import DEFAULT_DAYS, HistoryStoreError

    if store is None or not read_any:
        return
    try:
        store.commit_run()
    except HistoryStoreError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    if pruned:  # said, so replaying old files (dates past the retention) is no surprise
        days = DEFAULT_DAYS if days is None else days
        complain(f"history: {pruned} line(s) with a date of service more than {days} days "
                 "ago pruned (--history-days; 0 keeps every line)")


@click.group()
def history() -> None:
    """Inspect and correct a patient history store."""


def _store_argument(function):
    function = click.option("--history-key", "history_key", type=click.Path(dir_okay=False),
                            help="The store's key (default: the per-user key).")(function)
    return click.argument("store", type=StoreParam(exists=True))(function)


def _open(store: str, key_path: str | None, *, read_only: bool = False):
    from ..history import HistoryKeyError, HistoryStore, HistoryStoreError, load_key

    try:
        opened = HistoryStore.open(store, load_key(key_path, create=False),
                                   read_only=read_only)
    except (HistoryKeyError, HistoryStoreError) as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    opened.waiting = complain
    return opened


def _or_exit(work):
    """``work()``, or exit 2 naming the store's trouble (read-only, damaged)."""
    from ..history import HistoryStoreError

    try:
        return work()
    except HistoryStoreError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)


@history.command()
@_store_argument
def stats(store: str, history_key: str | None) -> None:
    """What a history store holds (counts and dates; never a patient)."""
    from ..findings import iso_date
    from ..reports.figures import plural

    opened = _open(store, history_key, read_only=True)
    facts = _or_exit(opened.stats)
    click.echo(f"{masked(store)}: {plural(facts['lines'], 'drug line')} of "
               f"{plural(facts['patients'], 'patient')}, dates of service "
               f"{iso_date(facts['first_date']) or '-'} to {iso_date(facts['last_date']) or '-'}")
    click.echo(f"  from {plural(facts['files'], 'file')} in {plural(facts['runs'], 'run')}; "
               f"last added {facts['last_added'] or '-'}; key fingerprint "
               f"{facts['key_fingerprint']}")
    for hcpcs, count in facts["lines_by_hcpcs"].items():
        click.echo(f"  {hcpcs}: {plural(count, 'line')}")


@history.command()
@_store_argument
@click.option("--history-days", type=click.IntRange(min=1), default=400, show_default=True,
              help="Keep lines whose date of service is at most this many days old.")
def prune(store: str, history_key: str | None, history_days: int) -> None:
    """Delete lines older than the retention period."""
    from ..reports.figures import plural

    opened = _open(store, history_key)
    gone = _or_exit(lambda: opened.prune(history_days))
    click.echo(f"{masked(store)}: {plural(gone, 'line')} older than {plural(history_days, 'day')} "
               "deleted")


@history.command("forget-file")
@_store_argument
@click.argument("sha256")
def forget_file(store: str, history_key: str | None, sha256: str) -> None:
    """Delete the lines that came from one input file (by its SHA-256, or its first 12
    or more digits as findings show it), e.g. a file the sender withdrew.  Exit 2 when
    the store holds nothing of it, or several files start so."""
    if not 12 <= len(sha256) <= 64 or any(c not in "0123456789abcdefABCDEF" for c in sha256):
        complain(f"{sha256!r} is not a SHA-256 (64 hexadecimal digits, or the first 12 or "
                 "more of them)")
        sys.exit(EXIT_TROUBLE)
    opened = _open(store, history_key)
    if len(sha256) < 64:
        found = _or_exit(lambda: opened.files_starting(sha256))
        if len(found) > 1:
            complain(f"{masked(store)} holds several files starting {sha256.lower()}: "
                     f"{', '.join(found)}; give more digits")
            sys.exit(EXIT_TROUBLE)
        sha256 = found[0] if found else sha256
    if not opened.knows_file(sha256):
        complain(f"{masked(store)} holds no line of file {sha256.lower()}: nothing to "
                 "forget (the history keeps the drug lines of the claims it passed, so a "
                 "file whose claims were all held, or that had no drug line, left none; "
                 "else it was not checked against this store with this key)")
        sys.exit(EXIT_TROUBLE)
    from ..reports.figures import plural

    dead = _or_exit(lambda: _held_by_a_stopped_batch(opened, sha256))
    if dead is not None:  # its restart checks it again: what is deleted now comes back
        holder, run_id = dead
        complain(f"{masked(store)}: file {sha256.lower()} is held by the edi837 batch "
                 f"{holder} (run {run_id}), which stopped before recording it (killed?): "
                 "the file is still in that batch's inbox, and its next start checks it "
                 "again and puts its lines back. Remove it from the inbox first (that start "
                 "then takes its lines out: nothing left to forget), or forget it once the "
                 "batch has recorded it; nothing deleted")
        sys.exit(EXIT_TROUBLE)
    # what its voids and replacements took out comes back: counted first, to be said
    back = _or_exit(lambda: _taken_out_by(opened, sha256))
    gone = _or_exit(lambda: opened.forget_file(sha256))
    said = f"{masked(store)}: {plural(gone, 'line')} of file {sha256.lower()} deleted"
    if back:  # (a void adds no line: without this, "0 lines deleted" and silence)
        said += (f"; {plural(back, 'line')} its voids and replacements had taken out "
                 "restored")
    click.echo(said)


def _taken_out_by(opened, sha256: str) -> int:
    """How many lines the file's voids and replacements took out (marked removed by it):
    forgetting the file puts them back.  Read on the store's own connection (SQLite or
    PostgreSQL: its dialect), just before the forget's transaction."""
    import sqlite3

    from ..dbfiles import trouble
    from ..history import HistoryStoreError

    try:
        return opened._query(
            "SELECT COUNT(*) FROM history_lines WHERE removed_by IN "
            "(SELECT id FROM history_files WHERE sha256 = ?)", (sha256.lower(),)).fetchone()[0]
    except sqlite3.Error as exc:  # (PostgreSQL's errors too: edi837.pgdb.PgError)
        raise HistoryStoreError(trouble(opened.where, exc, "read")) from None


def _held_by_a_stopped_batch(opened, sha256: str) -> tuple[str, str] | None:
    """(holder, run id) when a batch that is no longer running holds the file (killed
    between judging it and recording its outcome); None otherwise (a live holder:
    `forget_file` waits for it)."""
    import sqlite3

    from ..dbfiles import trouble
    from ..history import HistoryStoreError

    try:
        held = opened._query("SELECT holder, run_id FROM history_files WHERE sha256 = ? AND "
                             "holder IS NOT NULL ORDER BY id", (sha256.lower(),)).fetchall()
    except sqlite3.Error as exc:  # (PostgreSQL's errors too: edi837.pgdb.PgError)
        raise HistoryStoreError(trouble(opened.where, exc, "read")) from None
    return next(((holder, run_id) for holder, run_id in held
                 if holder != opened.holder and not opened.alive(holder)), None)
