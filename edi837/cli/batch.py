"""`edi837 batch`: the command a scheduler runs (cron, a systemd timer, or --watch).

Thin: parses options, sets up logging, and calls :func:`edi837.batch.run_batch`.
"""
from __future__ import annotations

import logging
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

import click

from .history import StoreParam
from .queue import ledger_option
from .support import (
    EXIT_TROUBLE,
    Location,
    complain,
    load_config_or_exit,
    load_table_or_exit,
    no_fast_option,
    parse_codes,
    quiet_option,
)


class _Formatter(logging.Formatter):
    """``2026-01-15T02:00:03.120+00:00 INFO message``: ISO 8601 with the UTC offset,
    so lines from machines in different zones sort and compare."""

    def formatTime(self, record, datefmt=None):  # logging's name
        return datetime.fromtimestamp(record.created).astimezone().isoformat(
            timespec="milliseconds")

    def format(self, record) -> str:
        # the batch escapes the names it logs; this catches any other text (an
        # exception's message quoting a path), so one entry is always one line
        from ..batch.names import shown  # here: other commands need not import the batch

        return shown(super().format(record))


def _refuse_files_in_the_inbox(inbox, files) -> None:
    """Exit 2 when a file the batch writes (its log, a SQLite history, the history's
    key) is inside a local inbox: the batch takes every file there as an input, and
    would quarantine (move) its own log or history.  As --out, --archive, --quarantine."""
    from ..batch.names import shown
    from ..batch.options import is_within
    from ..locations import is_url

    if is_url(str(inbox)):
        return
    for option, given in files:
        if given and not is_url(str(given)) and is_within(Path(given), Path(inbox)):
            complain(f"{option} {shown(str(given))} is inside the inbox {shown(str(inbox))}: "
                     "the batch would take it as an input; put it beside the inbox")
            sys.exit(EXIT_TROUBLE)


def configure_logging(log_file: str | None, *, quiet_stderr: bool):
    """Log lines to stderr (warnings only while a progress bar is drawn) and to
    ``log_file`` (appended).  Returns a function that undoes this."""
    logger = logging.getLogger("edi837.batch")
    before = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # our lines only, in our format, whatever the root logger does
    formatter = _Formatter("%(asctime)s %(levelname)s %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setLevel(logging.WARNING if quiet_stderr else logging.INFO)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)

    def undo() -> None:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.level, logger.propagate = before

    return undo


class ByteSize(click.ParamType):
    """A size in bytes: 5000, 4k, 500M, 2G (binary multiples: 1k = 1,024 bytes)."""

    name = "size"
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
        number, unit = (text[:-1], text[-1]) if text[-1:] in self.units else (text, "")
        try:
            size = int(float(number) * self.units[unit])
        except ValueError:
            self.fail(f"{value!r} is not a size such as 5000, 500M or 2G", param, ctx)
        if size < 1:
            self.fail(f"{value!r} is not a size of at least 1 byte", param, ctx)
        return size


def _formats(values: tuple[str, ...]) -> tuple[str, ...]:
    names = []
    for value in values:
        names += [name.strip().lower() for name in value.split(",") if name.strip()]
    return tuple(dict.fromkeys(names)) or ("json",)


@click.command()
@click.argument("inbox", type=Location(click.Path(exists=True, file_okay=False,
                                                  path_type=Path)))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: OUTDIR/<run-id>/ reports and summary, the ledger.")
@click.option("--archive", type=Location(click.Path(file_okay=False, path_type=Path)),
              help="Where processed inputs go, in a folder per run [OUTDIR/archive; an "
                   "inbox URL: INBOX/../archive].")
@click.option("--quarantine", type=Location(click.Path(file_okay=False, path_type=Path)),
              help="Where unreadable or incomplete inputs go, each with NAME.reason.txt "
                   "[OUTDIR/quarantine; an inbox URL: INBOX/../quarantine].")
@click.option("--fix", is_flag=True, help="Also write corrected EDI (edi837 fix).")
@click.option("--split", is_flag=True,
              help="Also write NAME.accepted.edi / NAME.held.edi (implies --fix).")
@click.option("--control-numbers", "control_numbers",
              type=click.Path(dir_okay=False, path_type=Path),
              help="With --split: the counter file (as fix's and the acknowledgments') each "
                   "interchange and group of the split files takes a new ISA13/GS06 from "
                   "[the input's].")
@click.option("--validate", is_flag=True, help="Also run implementation-guide validation.")
@click.option("--ack277", is_flag=True,
              help="Also write a 999 and a 277CA claim acknowledgment beside each file's "
                   "reports (pyx12 validates for the 999: slow, about 0.25 MB/s).")
@click.option("--format", "formats", multiple=True,
              help="Report format(s) per input, comma-separated or repeated: json, html, "
                   "text, csv, xml, annotated [json].")
@click.option("--select", help="Only these rule codes or prefixes (comma-separated).")
@click.option("--ignore", help="Skip these rule codes or prefixes (comma-separated).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Files checked in parallel worker processes.")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Check on a Dask cluster: tls://HOST:PORT, tcp://HOST:PORT (this machine "
                   "only, unless --insecure), local or local:N. Workers need only reach the "
                   "inbox's files (at the same absolute path on every host, or an inbox "
                   "URL); they never see OUTDIR: reports come back in their results.")
@click.option("--insecure", is_flag=True,
              help="Allow --dask tcp:// to a scheduler on another machine (findings travel "
                   "unencrypted).")
@click.option("--watch", is_flag=True,
              help="Keep polling the inbox; SIGTERM/Ctrl-C stops after the current file.")
@click.option("--interval", type=click.FloatRange(min=0.05), default=10.0, show_default=True,
              help="Seconds between polls with --watch.")
@click.option("--settle", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Take a file only once its size and mtime are unchanged this long.")
@click.option("--marker", metavar="SUFFIX",
              help="Take NAME only once NAME+SUFFIX exists (e.g. .done), instead of --settle.")
@click.option("--max-size", type=ByteSize(), default="2G", show_default=True,
              help="Skip (with a reason, exit status 2) inbox files larger than this: "
                   "5000, 500M, 2G.")
@click.option("--reprocess", is_flag=True,
              help="Check content the ledger has seen before, instead of archiving it as a "
                   "duplicate.")
@click.option("--log-file", type=click.Path(dir_okay=False),
              help="Append log lines here too.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Configuration file (default: ./edi837.toml when present).")
@click.option("--drug-table", "drug_tables", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra drug table (TOML) adding to or overriding the shipped one.")
@click.option("--refdata", type=click.Path(file_okay=False, path_type=Path),
              help="Imported CMS reference data (default: $EDI837_REFDATA, else "
                   "~/.local/share/edi837/refdata when it has any).")
@click.option("--history", "history_path", type=StoreParam(path_type=Path),
              help="Keep the patient history in this store instead of the ledger's database "
                   "(a SQLite file or a postgresql:// URL shared by several hosts).")
@click.option("--no-history", is_flag=True,
              help="No history across runs: each run judges its own files only.")
@click.option("--history-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Key for patient identities (default: ~/.local/share/edi837/history.key, "
                   "created on first use, mode 0600).")
@click.option("--history-days", type=click.IntRange(min=0), default=400, show_default=True,
              help="Keep history lines whose date of service is at most this many days old "
                   "(0 keeps everything).")
@click.option("--no-new-stores", is_flag=True,
              help="Refuse to start (exit 2) when the ledger in OUTDIR or the --history store "
                   "does not exist yet, rather than make a new, empty one (scheduled runs: a "
                   "mistyped --out or --history).")
@ledger_option
@no_fast_option
@quiet_option
def batch(inbox: Path, out: Path, archive: Path | None, quarantine: Path | None, fix: bool,
          split: bool, control_numbers: Path | None, validate: bool, ack277: bool,
          formats: tuple[str, ...],
          select: str | None, ignore: str | None, jobs: int, dask_address: str | None,
          insecure: bool, watch: bool, interval: float, settle: float, marker: str | None,
          max_size: int, reprocess: bool, log_file: str | None,
          config_path: str | None, drug_tables: tuple[Path, ...], refdata: Path | None,
          history_path: Path | None, no_history: bool, history_key: Path | None,
          history_days: int, no_new_stores: bool, ledger: str | None, quiet: bool) -> None:
    """Check every file dropped into INBOX once: reports, then archive or quarantine.

    Files still being written are left for a later run (--settle, --marker).
    A ledger in OUTDIR remembers every input by content, so re-runs take only
    new files, and a run killed at any moment is repaired by the next one.

    Exit status: 0 no error finding, 1 error findings, 2 a file was
    quarantined or the run had a problem (see the log).  With --watch: 0 when
    stopped by SIGTERM/SIGINT (each run's status is in its summary and log),
    2 when it cannot go on.
    """
    from ..batch import BatchError, BatchOptions, StopFlag, handle_stop_signals, run_batch

    if marker is not None and not marker.strip():
        complain("--marker needs a suffix such as .done")
        sys.exit(EXIT_TROUBLE)
    if dask_address is not None and jobs != 1:
        complain("--jobs and --dask: choose one (a cluster's workers are its own)")
        sys.exit(EXIT_TROUBLE)
    if insecure and dask_address is None:
        complain("--insecure applies only to --dask tcp://")
        sys.exit(EXIT_TROUBLE)
    if no_history and (history_path or history_key):
        complain("--no-history and --history/--history-key contradict each other")
        sys.exit(EXIT_TROUBLE)
    table = load_table_or_exit(drug_tables, refdata)  # a broken drug table stops here
    config = load_config_or_exit(config_path, select, ignore, table)
    _refuse_files_in_the_inbox(inbox, (("--log-file", log_file), ("--history", history_path),
                                       ("--history-key", history_key),
                                       ("--control-numbers", control_numbers)))
    from ..progress import wanted

    progress = wanted(quiet)  # the bar of files done, on a terminal only
    try:
        unconfigure_logging = configure_logging(log_file, quiet_stderr=progress)
    except OSError as exc:
        from ..batch.names import shown

        complain(f"cannot write the log file {shown(log_file)}: {exc.strerror or exc}")
        sys.exit(EXIT_TROUBLE)
    options = BatchOptions(
        inbox=inbox, out=out, archive=archive, quarantine=quarantine,
        formats=_formats(formats), fix=fix, split=split, validate=validate, ack277=ack277,
        select=parse_codes(select), ignore=parse_codes(ignore), drug_tables=drug_tables,
        config=config, jobs=jobs, settle=settle, marker=marker, reprocess=reprocess,
        interval=interval, progress=progress, max_size=max_size, history=not no_history,
        history_path=history_path, history_key=history_key, history_days=history_days,
        no_new_stores=no_new_stores,
        refdata=refdata, dask=dask_address, insecure=insecure, ledger=ledger,
        control_numbers=control_numbers).absolute()
    stop = StopFlag()
    restore_signals = handle_stop_signals(stop)
    logger = logging.getLogger("edi837.batch")
    try:
        status = run_batch(options, watch=watch, stop=stop)
    except BatchError as exc:  # logged, not just printed: the log file is what operators read
        if getattr(exc, "started", False):  # the ledger or history store went away
            logger.error("stopped: the ledger or history store went away%s: %s; the files "
                         "not finished stay in the inbox for the next run%s", _during(exc),
                         "; ".join(exc.lines), _summary(exc))
        else:
            for line in exc.lines:
                logger.error("not started: %s", line)
        status = EXIT_TROUBLE
    except (OSError, sqlite3.Error) as exc:
        from ..pgdb import StoreGone

        # e.g. OUTDIR not writable, disk full: the ledger and the next start keep it safe
        if isinstance(exc, StoreGone):  # mid-file or idle (--watch): the same message
            logger.error("stopped: the ledger or history store went away%s: %s; the files "
                         "not finished stay in the inbox for the next run%s", _during(exc),
                         exc, _summary(exc))
        elif isinstance(exc, OSError) and exc.strerror and getattr(exc, "started", False):
            from ..batch.names import shown

            place = exc.filename or options.out  # a write's own path, else the output's
            logger.error("stopped: %s (errno %s) writing in %s%s; the files not finished "
                         "stay in the inbox for the next run%s", exc.strerror, exc.errno,
                         shown(str(place)), _during(exc), _summary(exc))
        elif dask_address is not None and _from_the_cluster(exc):
            logger.error("stopped: cluster error at Dask scheduler %s: lost the connection "
                         "(%s: %s); the files not finished stay in the inbox for the next "
                         "run", dask_address, type(exc).__name__, exc)
        elif isinstance(exc, sqlite3.Error):  # a full disk, a store made read-only
            logger.error("stopped: %s%s; the files not finished stay in the inbox for the "
                         "next run%s", _database_trouble(options, exc), _during(exc),
                         _summary(exc))
        else:
            logger.error("stopped: %s: %s", type(exc).__name__, exc)
        status = EXIT_TROUBLE
    except Exception as exc:  # a bug: a message and exit status 2 for the scheduler, and
        # only the type and place, as the exception's message may quote a file's data
        from ..batch.run import where

        logger.error("stopped: internal error %s (a bug in edi837, please report it); "
                     "the next run repairs what this one left", where(exc))
        status = EXIT_TROUBLE
    finally:
        restore_signals()
        unconfigure_logging()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    batch(prog_name="edi837 batch")


def _database_trouble(options, exc: sqlite3.Error) -> str:
    """A SQLite error of the ledger or the history store, naming both files (which one
    failed SQLite does not say), their folders and what to do."""
    from ..batch.ledger_db import LEDGER_NAME
    from ..batch.names import shown
    from ..dbfiles import error_code
    from ..locations import is_url

    ledger = options.ledger or options.out / LEDGER_NAME
    files = [("the ledger", ledger)]
    if options.history and options.history_path is not None \
            and str(options.history_path) != str(ledger):
        files.append(("the history store", options.history_path))
    files = [(what, Path(f)) for what, f in files if not is_url(f)]
    named = " or ".join(f"{what} {shown(str(f))}" for what, f in files) or "the ledger"
    folders = ", ".join(dict.fromkeys(shown(str(f.parent)) for _, f in files)) or "its folder"
    code = error_code(exc)
    if code == sqlite3.SQLITE_FULL or "disk is full" in str(exc):
        return (f"the disk is full writing {named} ({exc}): free space in {folders}")
    if code == sqlite3.SQLITE_READONLY or "readonly" in str(exc):
        return (f"{named} became read-only for this user ({exc}): give write access")
    return f"{type(exc).__name__}: {exc} writing {named}"


def _during(exc: BaseException) -> str:
    from ..batch.names import shown

    in_hand = getattr(exc, "in_hand", None)
    return f" while checking {shown(in_hand)}" if in_hand else ""


def _summary(exc: BaseException) -> str:
    from ..batch.names import shown

    summary = getattr(exc, "summary", None)
    return f"; summary {shown(str(summary))}" if summary else \
        ("; its summary is written by the next start" if getattr(exc, "started", False)
         else "")


def _from_the_cluster(exc: BaseException) -> bool:
    """A connection of the Dask client's that closed outside a task's result (the
    scheduler killed while the driver was talking to it): a cluster error, named so."""
    from ..parallel.faults import from_the_cluster

    return from_the_cluster(exc) or isinstance(exc, ConnectionError) and _through_dask(exc)


def _through_dask(exc: BaseException) -> bool:
    """Whether the exception came up through the Dask client's or tornado's code (a
    socket's ConnectionResetError when the scheduler dies under the driver's call)."""
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".")[0] in ("distributed", "tornado"):
            return True
        tb = tb.tb_next
    return False
