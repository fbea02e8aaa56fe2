"""Unattended batches over a drop folder: what `edi837 batch` runs.

A run takes every settled file in the inbox, checks it (and validates, fixes
or splits it when asked), writes its reports under ``OUTDIR/<run-id>/``, then
moves it to the archive, or to the quarantine with a ``<name>.reason.txt``
when it cannot be read as 837 claims (EDI001; or EDI005 with nothing else in
it) or an interchange in it is incomplete (EDI002), or when edi837 itself
fails on it.  One bad file never stops the batch; a disk that cannot be
written does (safely: see below).  Each run ends with one summary
(``summary.json``, ``summary.html``) listing every file and its outcome.
``--watch`` repeats this every few seconds, each poll that finds work being
a run of its own.

Settled files.  A sender's upload is taken only once it is complete: its size
and mtime have not changed for ``settle`` seconds (the mtime is at least that
old, or this process has seen it unchanged for that long, which covers a
sender whose clock runs ahead), or, with a marker suffix such as ``.done``,
only once ``NAME.done`` exists.  Hidden, temporary and partial names
(``.x``, ``*.part``, ``*.tmp``, ``*~``) and the marker files themselves are
never inputs.  The size and mtime are compared again around hashing, and the
hash again by the check, so a file that changes after all is left (its
outputs removed) for the next run.

The ledger.  ``OUTDIR/ledger.sqlite3`` (stdlib sqlite3, WAL with
synchronous=FULL, each statement its own transaction; keep OUTDIR on a local
disk, as SQLite needs) has one row per input taken, keyed by
the SHA-256 of its content, with its run, name, outcome, counts, outputs and
destination.  Content already done with outcome ok or findings is not
checked again, whatever its name: a copy dropped again is archived as a
``duplicate`` with no new reports, unless ``reprocess``.  Quarantined
content is not remembered that way: the same bytes dropped again are
examined again (perhaps by a newer edi837).

Order of operations, and why it survives SIGKILL at any moment
--------------------------------------------------------------
For each input, in this order (a later step never starts before the earlier
one is durable):

1. hash the settled file; skip or archive it as a duplicate (above);
2. ledger row ``processing`` (hash, run, name, source path) is committed
   *before* any output exists;
3. every output is written to a temporary name beside its target, fsynced
   and renamed (``files.atomic_output``), then its directory is fsynced;
   all of one input's outputs live in ``OUTDIR/<run-id>/files/<name>/``;
4. ledger row ``reported``: outcome, counts, outputs, destination (archive or
   quarantine path, chosen now and never again) and quarantine reason;
5. quarantine only: ``<name>.reason.txt`` written atomically at the destination;
6. the input is moved to its destination: one atomic rename on the same file
   system; across file systems a copy to a temporary name, fsync, rename,
   and only then the source is removed; directories are fsynced.  Then the
   marker file, if any, is removed;
7. ledger row ``done``.

A run has a row ``running`` before its first input is taken; after its last
input is done its summary is written (atomically) and the run is marked
``finished`` (``stopped`` when a signal ended it early).

Every start takes an exclusive ``flock`` on ``OUTDIR/.batch.lock`` and one on
the inbox folder itself (the kernel releases them however the holder dies; a
second batch on the same OUTDIR or inbox refuses to start), then repairs what
a killed run left, before it looks at the inbox:

* rows still ``processing`` were killed between steps 2 and 4: their outputs
  may be incomplete, but the input has not moved (step 6 comes after step 4).
  The output directory is deleted and the row removed: the input is taken
  again as new.  So an output directory exists only for inputs whose
  outcome is recorded, and no report is ever finished from a half-run.
* rows ``reported`` were killed between steps 4 and 7: their outputs are
  complete (step 3 was durable before step 4 was committed), and steps 5-7
  are redone from the recorded facts, each idempotent: the reason file is
  written again; if the destination exists the move has happened (a rename
  is atomic and a cross-device copy is renamed into place only when
  complete), so a source still present with the same hash is the leftover of
  a copy and is removed; otherwise the source is moved; the marker is
  removed; the row is marked done.
* runs still ``running`` died: temporary files under their directories are
  removed (only this process can be writing, it holds the lock); a run with
  no input left is removed entirely, the others get their summary, with
  status ``interrupted``.

Hence, however often runs are killed and restarted: an input leaves the inbox
only after its outcome and complete outputs are recorded (no input lost), its
content has exactly one checked ``done`` row and one output directory, each
input one archived or quarantined copy (processed exactly once), and every
file in OUTDIR is either complete or a temporary name that the next start
deletes (no partial output).  The fsyncs make the same hold after a power cut.
An error while writing (disk full) stops the batch the same way a kill does.

Workers.  With ``jobs`` > 1 the checking and report writing of each input run
in worker processes, while this process alone hashes, records in the ledger
and moves files, so the steps above keep their order.  Workers are forked:
on Linux each is killed when its parent dies (``PR_SET_PDEATHSIG``), and each
holds the inherited locks while it lives, so no orphan can write into a run
that a restart is repairing (a restart waits ``lock_wait`` seconds for dying
workers).  Workers ignore SIGINT/SIGTERM and finish their file; the parent
stops handing out new ones.  A worker that dies (out of memory) rolls back
the files in hand, which wait for the next run.  Reports depend only on the
input, so ``jobs`` changes nothing in them; summaries list files by name.

Exit status: 0 no error finding, 1 error findings, 2 a file quarantined or a
problem.  ``watch`` returns 0 when stopped by a signal: each run's status is
in its summary and log line, and a service stopped on purpose has not failed.

Logs name files, counts, rule codes and run ids, never the content of a
file: finding messages and exception messages (which may quote segments with
names, member ids or birth dates) go only to reports and reason files, which
sit beside the data they describe.
"""
from __future__ import annotations

import errno
import hashlib
import html
import json
import logging
import os
import shutil
import signal
import sqlite3
import sys
import time
import traceback
import urllib.parse
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from . import __version__
from .config import Config
from .files import PARTIAL_SUFFIXES, atomic_output

LEDGER_NAME = "ledger.sqlite3"
LOCK_NAME = ".batch.lock"
SUMMARY_JSON = "summary.json"
SUMMARY_HTML = "summary.html"
FILES_DIR = "files"  # OUTDIR/<run-id>/files/<name>/ holds one input's outputs
FIX_DIR = "fixed"  # corrected and split EDI inside an input's output directory
REASON_SUFFIX = ".reason.txt"
QUARANTINE_RULES = ("EDI001", "EDI002")  # not X12 / interchange not closed

# ledger states of an input (see the module docstring for the order)
PROCESSING, REPORTED, DONE = "processing", "reported", "done"
# outcomes
OK, FINDINGS, QUARANTINED, DUPLICATE = "ok", "findings", "quarantined", "duplicate"
DONE_CONTENT = (OK, FINDINGS)  # outcomes whose content is not checked again
# run states
RUNNING, FINISHED, STOPPED, INTERRUPTED = "running", "finished", "stopped", "interrupted"
DEFER = "defer"  # a copy of content being checked right now: take it after that one

EXIT_OK, EXIT_FINDINGS, EXIT_TROUBLE = 0, 1, 2

log = logging.getLogger("edi837.batch")


def _checkpoint(step: str) -> None:
    """Called after each step that matters for crash safety.  Does nothing;
    the crash tests replace it to kill the process at exactly that step."""


class BatchError(Exception):
    """A problem that stops the batch before it starts (exit status 2)."""


@dataclass(frozen=True)
class BatchOptions:
    inbox: Path
    out: Path
    archive: Path | None = None  # default OUTDIR/archive
    quarantine: Path | None = None  # default OUTDIR/quarantine
    formats: tuple[str, ...] = ("json",)  # per-file report formats (the report registry's names)
    fix: bool = False
    split: bool = False  # implies fix: edi837.fix writes accepted/held files
    validate: bool = False
    select: tuple[str, ...] = ()  # for fix_file; the config already carries them for checks
    ignore: tuple[str, ...] = ()
    drug_tables: tuple[Path, ...] = ()
    config: Config = field(default_factory=Config)
    jobs: int = 1
    settle: float = 30.0
    marker: str | None = None  # e.g. ".done": take NAME only when NAME.done exists
    reprocess: bool = False
    interval: float = 10.0  # --watch: seconds between polls
    progress: bool = False  # click progress bar on stderr (only on a terminal)
    lock_wait: float = 5.0  # seconds to wait for another batch on the same folders to end

    @property
    def archive_dir(self) -> Path:
        return self.archive or self.out / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.quarantine or self.out / "quarantine"


class StopFlag:
    """Set by SIGTERM/SIGINT: the file(s) in hand are finished, nothing new is taken."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.noted = False

    def set(self, signum: int = signal.SIGTERM) -> None:
        self.signal = signum

    def __bool__(self) -> bool:
        return self.signal is not None


def handle_stop_signals(flag: StopFlag):
    """SIGTERM and SIGINT set ``flag``; a second one stops at once (crash-safe anyway).
    Returns a function that puts the previous handlers back."""
    def handler(signum, frame):  # noqa: ARG001 - signal handler signature
        if flag:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        flag.set(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


# -- small helpers -------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_run_id() -> str:
    # UTC to the microsecond: run folders sort in the order the runs started
    # (one batch at a time per OUTDIR: the lock)
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def shown(name: str) -> str:
    """A file name safe for a log line: control characters (newlines!) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _fsync_dir(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _makedirs(path: Path) -> None:
    """mkdir -p, fsyncing the parent of each directory made, so it survives a power cut."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            pass
        _fsync_dir(directory.parent)


def _is_temp(name: str) -> bool:
    """Temporary names of atomic_output and of cross-device moves: .NAME.xxxx.tmp"""
    return name.startswith(".") and name.endswith(".tmp")


def _remove_temps(root: Path) -> int:
    removed = 0
    if not root.is_dir():
        return 0
    for directory, _, names in os.walk(root):
        for name in names:
            if _is_temp(name):
                os.unlink(os.path.join(directory, name))
                removed += 1
    return removed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _signature(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def move_file(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` so that a crash leaves the complete file at
    one of the two places (or both, for a copy across file systems)."""
    _makedirs(target.parent)
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with open(source, "rb") as src, atomic_output(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        _fsync_dir(target.parent)
        os.unlink(source)
    _fsync_dir(target.parent)
    _fsync_dir(source.parent)


# -- which files to take ----------------------------------------------------------------------
def select_inputs(inbox: Path, *, exclude: tuple[Path, ...] = (),
                  marker: str | None = None) -> list[tuple[str, Path]]:
    """(name relative to the inbox, path) of every candidate file, sorted by name.

    Skipped: hidden files and folders, partial/temp names, marker files, our
    own reason files, and ``exclude`` folders (output, archive or quarantine
    folders placed inside the inbox)."""
    excluded = {os.path.realpath(p) for p in exclude}
    found = []
    for root, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and os.path.realpath(os.path.join(root, d)) not in excluded)
        for name in files:
            if name.startswith(".") or name.endswith(PARTIAL_SUFFIXES):
                continue
            if (marker and name.endswith(marker)) or name.endswith(REASON_SUFFIX):
                continue
            path = Path(root) / name
            found.append((path.relative_to(inbox).as_posix(), path))
    found.sort()
    return found


class Settle:
    """Decides when a file has stopped changing (see the module docstring)."""

    def __init__(self, seconds: float, marker: str | None = None) -> None:
        self.seconds = seconds
        self.marker = marker
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}

    def why_not(self, path: Path, st: os.stat_result) -> str | None:
        """None when the file may be taken, else why it may not yet."""
        if self.marker:
            if os.path.exists(str(path) + self.marker):
                return None
            return f"no marker {path.name}{self.marker} yet"
        key, now = _signature(st), time.monotonic()
        seen = self._seen.get(path)
        if seen is None or seen[0] != key:
            self._seen[path] = (key, now)
            observed = 0.0
        else:
            observed = now - seen[1]
        age = time.time() - st.st_mtime
        if age >= self.seconds or observed >= self.seconds:
            return None
        if age < 0:
            return (f"modified {-age:.0f} s in the future (sender clock ahead?); "
                    f"taken once unchanged for {self.seconds:g} s")
        return f"modified {age:.0f} s ago, settle time {self.seconds:g} s"

    def forget(self, keep: set[Path]) -> None:
        for path in set(self._seen) - keep:
            del self._seen[path]


# -- the ledger --------------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    state       TEXT NOT NULL,          -- running | finished | stopped | interrupted
    started     TEXT NOT NULL,
    finished    TEXT,
    exit_status INTEGER,
    pid         INTEGER
);
CREATE TABLE IF NOT EXISTS inputs (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL,         -- the key: content, not name
    run_id       TEXT NOT NULL REFERENCES runs(run_id),
    name         TEXT NOT NULL,         -- path relative to the inbox
    source       TEXT NOT NULL,         -- where it was taken from
    size         INTEGER NOT NULL,
    state        TEXT NOT NULL,         -- processing | reported | done
    outcome      TEXT,                  -- ok | findings | quarantined | duplicate
    claims       INTEGER, drug_lines INTEGER,
    errors       INTEGER, warnings INTEGER, infos INTEGER,
    rules        TEXT,                  -- JSON {rule code: findings}
    outputs      TEXT,                  -- JSON [paths relative to OUTDIR/<run-id>]
    destination  TEXT,                  -- archive or quarantine path, fixed at 'reported'
    marker       TEXT,                  -- marker file to remove after the move
    reason       TEXT,                  -- quarantine reason (reason file text)
    problem      TEXT,                  -- e.g. fix failed: archived, but exit status 2
    duplicate_of INTEGER REFERENCES inputs(id),
    started      TEXT NOT NULL,
    finished     TEXT
);
CREATE INDEX IF NOT EXISTS inputs_by_sha256 ON inputs(sha256, state);
CREATE INDEX IF NOT EXISTS inputs_by_run ON inputs(run_id);
"""


class Ledger:
    """The run ledger.  Autocommit: each statement is a durable transaction."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        # WAL: one fsync per commit instead of three; FULL: that fsync happens before
        # the commit returns, so a recorded step survives a power cut too
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # runs
    def begin_run(self, run_id: str) -> None:
        self.db.execute("INSERT INTO runs (run_id, state, started, pid) VALUES (?, ?, ?, ?)",
                        (run_id, RUNNING, _now(), os.getpid()))

    def end_run(self, run_id: str, state: str, exit_status: int) -> None:
        self.db.execute("UPDATE runs SET state = ?, finished = ?, exit_status = ? "
                        "WHERE run_id = ?", (state, _now(), exit_status, run_id))

    def run(self, run_id: str) -> sqlite3.Row:
        return self.db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()

    def runs_in_state(self, state: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM runs WHERE state = ? ORDER BY run_id",
                               (state,)).fetchall()

    def delete_run(self, run_id: str) -> None:
        self.db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    # inputs
    def take(self, *, sha256: str, run_id: str, name: str, source: Path, size: int,
             marker: str | None, state: str = PROCESSING, **facts) -> int:
        columns = {"sha256": sha256, "run_id": run_id, "name": name, "source": str(source),
                   "size": size, "marker": marker, "state": state, "started": _now(), **facts}
        cursor = self.db.execute(
            f"INSERT INTO inputs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            tuple(columns.values()))
        return cursor.lastrowid

    def report(self, row_id: int, **facts) -> None:
        facts["state"] = REPORTED
        sets = ", ".join(f"{column} = ?" for column in facts)
        self.db.execute(f"UPDATE inputs SET {sets} WHERE id = ?", (*facts.values(), row_id))

    def note_problem(self, row_id: int, problem: str) -> None:
        self.db.execute("UPDATE inputs SET problem = ? WHERE id = ?", (problem, row_id))

    def done(self, row_id: int) -> None:
        self.db.execute("UPDATE inputs SET state = ?, finished = ? WHERE id = ?",
                        (DONE, _now(), row_id))

    def forget(self, row_id: int) -> None:
        self.db.execute("DELETE FROM inputs WHERE id = ?", (row_id,))

    def row(self, row_id: int) -> sqlite3.Row:
        return self.db.execute("SELECT * FROM inputs WHERE id = ?", (row_id,)).fetchone()

    def done_content(self, sha256: str) -> sqlite3.Row | None:
        """The input that processed this content, if any."""
        return self.db.execute(
            "SELECT * FROM inputs WHERE sha256 = ? AND state = ? AND outcome IN (?, ?) "
            "ORDER BY id LIMIT 1", (sha256, DONE, *DONE_CONTENT)).fetchone()

    def unfinished_content(self, sha256: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM inputs WHERE sha256 = ? AND state != ? LIMIT 1",
                               (sha256, DONE)).fetchone()

    def in_state(self, state: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM inputs WHERE state = ? ORDER BY id",
                               (state,)).fetchall()

    def inputs_of(self, run_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM inputs WHERE run_id = ? ORDER BY name, id",
                               (run_id,)).fetchall()


# -- checking one file (in this process or a worker) ------------------------------------------
@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs; picklable (the drug table itself is not: each worker loads it)."""

    drug_tables: tuple[str, ...]
    config: Config
    formats: tuple[str, ...]
    fix: bool
    split: bool
    validate: bool
    select: tuple[str, ...]
    ignore: tuple[str, ...]


@dataclass(frozen=True)
class Job:
    path: str
    name: str
    sha256: str
    out_dir: str  # OUTDIR/<run-id>/files/<name>


def report_extension(fmt: str) -> str:
    """File extension of a report format, from the report registry (html -> .html)."""
    from .reports import EXTENSIONS, load_writers

    load_writers()
    for ext, name in EXTENSIONS.items():
        if name == fmt:
            return ext
    return f".{fmt}"


def _where(exc: BaseException) -> str:
    """Exception type and innermost frame, never its message (which may quote data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{place}"


class Worker:
    def __init__(self, settings: WorkerSettings) -> None:
        from .drugs import load_drug_table
        from .engine import Engine
        from .reports import load_writers

        self.settings = settings
        self.table = load_drug_table(list(settings.drug_tables))
        self.engine = Engine(self.table, settings.config)
        writers = load_writers()
        self.writers = [(writers[fmt], f"report{report_extension(fmt)}")
                        for fmt in settings.formats]

    def run(self, job: Job) -> dict:
        """Check one file and write its outputs; returns the facts the ledger keeps."""
        from .engine import Report
        from .findings import ERROR

        settings = self.settings
        out_dir = Path(job.out_dir)
        if out_dir.exists():  # a leftover: only complete runs of this function count
            shutil.rmtree(out_dir)
        try:
            # until the driver owns the run's history, each file is a history of its own
            history = self.engine.new_history()
            try:
                result = self.engine.check_file(job.path, history=history)
            finally:
                history.store.close()
            if settings.validate:
                from .validate import validate_file

                # the reader's own EDI findings are in the result already
                result.findings.extend(validate_file(job.path, reader_findings=False))
                result.findings.sort(key=lambda f: f.sort_key())
                if result.status == "ok" and result.findings:
                    result.status = "findings"
        except Exception as exc:  # one bad file never stops the batch
            return _failed(exc, "checking")
        if result.sha256 != job.sha256:
            return {"changed": True}

        quarantine = [f for f in result.findings if f.rule in QUARANTINE_RULES]
        quarantine_it = bool(quarantine) or result.status == "unreadable"
        if quarantine_it and not quarantine:  # unreadable otherwise: no 837 in it (EDI005)
            quarantine = [f for f in result.findings
                          if f.rule.startswith("EDI") and f.severity == ERROR]
        report = Report([result], self.table.version, config_source=settings.config.source)
        report.finished = time.time()
        outputs = []
        problem = log_problem = None
        try:
            _makedirs(out_dir)
            for write, name in self.writers:
                with atomic_output(out_dir / name, newline="") as out:
                    write(report, out)
                outputs.append(name)
                _checkpoint("report-written")
            if (settings.fix or settings.split) and not quarantine_it:
                problem, log_problem = self._fix(job, out_dir / FIX_DIR)
                if (out_dir / FIX_DIR).is_dir():
                    outputs += sorted(p.relative_to(out_dir).as_posix()
                                      for p in (out_dir / FIX_DIR).rglob("*")
                                      if p.is_file() and not _is_temp(p.name))
        except OSError:
            raise  # the disk, not this file (full? read-only?): stop; the next start rolls back
        except Exception as exc:  # a report writer failed on this file
            shutil.rmtree(out_dir, ignore_errors=True)  # no partial set of reports
            return _failed(exc, "writing the reports of")
        for directory in sorted({out_dir, *(p.parent for p in out_dir.rglob("*"))}):
            _fsync_dir(directory)
        _fsync_dir(out_dir.parent)
        _checkpoint("outputs-complete")

        counts = Counter(f.severity for f in result.findings)
        reasons = [f"  {f.rule} (segment {f.segment_index or '-'}): {f.message}"
                   for f in quarantine]
        codes = Counter(f.rule for f in quarantine)
        return {
            "quarantine": quarantine_it, "size": result.size, "status": result.status,
            "claims": result.claims, "drug_lines": result.drug_lines,
            "errors": counts[ERROR], "warnings": counts["warning"], "infos": counts["info"],
            "rules": dict(sorted(Counter(f.rule for f in result.findings).items())),
            "outputs": [f"{FILES_DIR}/{job.name}/{o}" for o in outputs],
            "reason": ("The file cannot be read as 837 claims, or an interchange in it is "
                       "incomplete:\n"
                       + "\n".join(reasons or ["  the file cannot be read"]))
            if quarantine_it else None,
            "log_reason": ", ".join(f"{c} x{n}" for c, n in sorted(codes.items()))
            or "unreadable",
            "problem": problem, "log_problem": log_problem,
        }

    def _fix(self, job: Job, out_dir: Path) -> tuple[str | None, str | None]:
        """Corrected (and split) EDI by edi837.fix.  A failure is a problem (exit
        status 2), not a quarantine: the input was read and reported.  Returns the
        problem for the ledger and summary, and a data-free version for the log."""
        from .fix import fix_file

        settings = self.settings
        try:
            result = fix_file(job.path, out_dir, table=self.table, config=settings.config,
                              select=settings.select, ignore=settings.ignore,
                              split=settings.split)
        except Exception as exc:
            return (f"fix failed: {''.join(traceback.format_exception_only(type(exc), exc))}",
                    f"fix failed: internal error {_where(exc)}")
        if result.exit_status == EXIT_TROUBLE:
            # problems may quote finding messages (values from the file): not for the log
            return ("fix: " + "; ".join(result.problems or [result.status]),
                    f"fix: {result.status}, {len(result.problems)} problems (see the summary)")
        return None, None


def _failed(exc: Exception, doing: str) -> dict:
    """A file edi837 itself failed on: quarantined, with the exception in the reason
    file (beside the data it may quote) and only its type and place in the log."""
    message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"quarantine": True, "log_reason": f"internal error {_where(exc)}",
            "reason": f"edi837 failed while {doing} this file (a bug in edi837; please "
                      f"report it with this file's reports, not the file):\n  {message}"}


_worker: Worker | None = None


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this worker when the batch process dies, however it dies, so a
    restarted batch never races an orphan writing into the run it is repairing."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _init_pool_worker(settings: WorkerSettings, parent: int) -> None:
    global _worker
    _die_with_parent(parent)
    # a terminal's Ctrl-C and systemd's SIGTERM reach every process of the group:
    # the worker finishes its file, the parent decides to stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _worker = Worker(settings)


def _pool_run(job: Job) -> dict:
    return _worker.run(job)


# -- summaries ---------------------------------------------------------------------------------
def summary_document(ledger: Ledger, run_id: str, *, drug_table: str, config_source: str | None,
                     options: BatchOptions, state: str, exit_status: int,
                     waiting: list[dict] = (), problems: list[str] = ()) -> dict:
    run = ledger.run(run_id)
    rows = ledger.inputs_of(run_id)
    files = []
    for row in rows:
        original = ledger.row(row["duplicate_of"]) if row["duplicate_of"] else None
        files.append({
            "name": row["name"], "sha256": row["sha256"], "size": row["size"],
            "outcome": row["outcome"], "state": row["state"],
            "claims": row["claims"], "drug_lines": row["drug_lines"],
            "errors": row["errors"], "warnings": row["warnings"], "infos": row["infos"],
            "rules": json.loads(row["rules"]) if row["rules"] else {},
            "reports": json.loads(row["outputs"]) if row["outputs"] else [],
            "moved_to": row["destination"],
            "reason": row["reason"], "problem": row["problem"],
            "duplicate_of": ({"name": original["name"], "run": original["run_id"]}
                             if original else None),
        })
    outcomes = Counter(f["outcome"] for f in files)
    checked = [f for f in files if f["outcome"] != DUPLICATE]
    return {
        "tool": {"name": "edi837", "version": __version__},
        "reference_data": {"drug_table": drug_table},
        "run": {"id": run_id, "state": state, "started": run["started"], "finished": _now(),
                "exit_status": exit_status, "config": config_source},
        "options": {"inbox": str(options.inbox), "formats": list(options.formats),
                    "fix": options.fix or options.split, "split": options.split,
                    "validate": options.validate, "settle": options.settle,
                    "marker": options.marker, "reprocess": options.reprocess},
        "totals": {
            "files": len(files), "ok": outcomes[OK], "findings": outcomes[FINDINGS],
            "quarantined": outcomes[QUARANTINED], "duplicates": outcomes[DUPLICATE],
            "waiting": len(waiting),
            "claims": sum(f["claims"] or 0 for f in checked),
            "drug_lines": sum(f["drug_lines"] or 0 for f in checked),
            "errors": sum(f["errors"] or 0 for f in checked),
            "warnings": sum(f["warnings"] or 0 for f in checked),
            "infos": sum(f["infos"] or 0 for f in checked),
        },
        "files": files,
        "waiting": list(waiting),
        "problems": list(problems),
    }


SUMMARY_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
table{border-collapse:collapse;margin:.3em 0 1em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1e8449}.findings{color:#9c640c}.quarantined{color:#922b21;font-weight:600}
.duplicate{color:#555}pre{white-space:pre-wrap;margin:0;font-size:12px}
code{font-family:ui-monospace,monospace;font-size:12px}
"""


def _h(value: object) -> str:
    """Escape for HTML text and attributes; control characters made visible."""
    text = "" if value is None else str(value)
    text = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)
    return html.escape(text, quote=True)


def write_summary_html(doc: dict, out) -> None:
    """The run summary as one self-contained page: no script, no external resource."""
    import base64

    style_hash = base64.b64encode(hashlib.sha256(SUMMARY_STYLE.encode()).digest()).decode()
    run, totals = doc["run"], doc["totals"]
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
              f'style-src \'sha256-{style_hash}\'">'
              f'<title>edi837 batch {_h(run["id"])}: {totals["files"]} files, '
              f'{totals["quarantined"]} quarantined</title>'
              f'<style>{SUMMARY_STYLE}</style></head>\n<body>\n')
    out.write(f'<h1>edi837 batch run <code>{_h(run["id"])}</code></h1>'
              f'<p>state <b data-figure="state">{_h(run["state"])}</b> · exit status '
              f'<b data-figure="exit-status">{_h(run["exit_status"])}</b> · started '
              f'{_h(run["started"])} · finished {_h(run["finished"])} · edi837 '
              f'{_h(doc["tool"]["version"])} · drug table '
              f'{_h(doc["reference_data"]["drug_table"])}'
              + (f' · config {_h(run["config"])}' if run["config"] else "")
              + f' · inbox <code>{_h(doc["options"]["inbox"])}</code></p>\n')
    labels = [("files", "Files"), ("ok", "OK"), ("findings", "With findings"),
              ("quarantined", "Quarantined"), ("duplicates", "Duplicates"),
              ("waiting", "Waiting"), ("claims", "Claims"), ("drug_lines", "Drug lines"),
              ("errors", "Errors"), ("warnings", "Warnings"), ("infos", "Infos")]
    out.write("<table id=\"totals\"><tr>" + "".join(f"<th>{label}</th>" for _, label in labels)
              + "</tr><tr>" + "".join(f'<td class="n" data-figure="{key}">{totals[key]}</td>'
                                      for key, _ in labels) + "</tr></table>\n")
    out.write('<h2>Files</h2><table id="files"><thead><tr><th>File</th><th>Outcome</th>'
              '<th>Claims</th><th>Drug lines</th><th>Errors</th><th>Warnings</th><th>Infos</th>'
              '<th>Rules</th><th>Reports</th><th>Moved to</th><th>Why</th></tr></thead><tbody>')
    for f in doc["files"]:
        rules = ", ".join(f"{code} {n}" for code, n in f["rules"].items())
        links = " ".join(f'<a href="{_h(urllib.parse.quote(r))}">{_h(r.rsplit("/", 1)[-1])}</a>'
                         for r in f["reports"])
        why = f["reason"] or f["problem"] or ""
        if f["duplicate_of"]:
            why = f'same content as {f["duplicate_of"]["name"]} (run {f["duplicate_of"]["run"]})'
        numbers = "".join(f'<td class="n">{_h(f[key]) if f[key] is not None else ""}</td>'
                          for key in ("claims", "drug_lines", "errors", "warnings", "infos"))
        out.write(f'<tr data-outcome="{_h(f["outcome"])}"><td><code>{_h(f["name"])}</code><br>'
                  f'<small>sha256 {_h(f["sha256"])}</small></td>'
                  f'<td class="{_h(f["outcome"])}">{_h(f["outcome"])}'
                  + (" (move pending)" if f["state"] != DONE else "") + f'</td>{numbers}'
                  f'<td>{_h(rules)}</td><td>{links}</td><td><code>{_h(f["moved_to"])}</code>'
                  f'</td><td><pre>{_h(why)}</pre></td></tr>\n')
    if not doc["files"]:
        out.write('<tr><td colspan="11">No file was taken in this run.</td></tr>')
    out.write("</tbody></table>\n")
    if doc["waiting"]:
        out.write('<h2>Waiting (left for a later run)</h2><ul id="waiting">'
                  + "".join(f'<li><code>{_h(w["name"])}</code>: {_h(w["why"])}</li>'
                            for w in doc["waiting"]) + "</ul>\n")
    if doc["problems"]:
        out.write('<h2>Problems</h2><ul id="problems">'
                  + "".join(f"<li>{_h(p)}</li>" for p in doc["problems"]) + "</ul>\n")
    out.write("</body></html>\n")


def run_exit_status(ledger: Ledger, run_id: str, problems: list[str] = ()) -> int:
    """2 a file quarantined or a problem; 1 an error finding; 0 otherwise."""
    rows = ledger.inputs_of(run_id)
    if problems or any(r["outcome"] == QUARANTINED or r["problem"] or r["state"] != DONE
                       for r in rows):
        return EXIT_TROUBLE
    if any((r["errors"] or 0) > 0 for r in rows if r["outcome"] in DONE_CONTENT):
        return EXIT_FINDINGS
    return EXIT_OK


# -- the batch ---------------------------------------------------------------------------------
@dataclass
class _Run:
    run_id: str
    directory: Path
    waiting: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stopped: bool = False


class Batch:
    """One OUTDIR's batches: open() locks and repairs, run_once() or watch() works."""

    def __init__(self, options: BatchOptions) -> None:
        if options.jobs < 1:
            raise BatchError("--jobs must be at least 1")
        self.options = options
        self.settle = Settle(options.settle, options.marker)
        self.ledger: Ledger | None = None
        self.status = EXIT_OK  # worst exit status of everything this process did
        self._lock_fds: list[int] = []
        self._pool: ProcessPoolExecutor | None = None
        self._table_version = ""
        self._noted_waiting: set[tuple] = set()
        self._settings = WorkerSettings(
            drug_tables=tuple(str(p) for p in options.drug_tables), config=options.config,
            formats=options.formats, fix=options.fix or options.split, split=options.split,
            validate=options.validate, select=options.select, ignore=options.ignore)
        self._local: Worker | None = None
        self._run: _Run | None = None
        self.last_run: str | None = None  # id of the last run that took a file
        self._pending: tuple[int, list] = (0, [])

    def __enter__(self) -> "Batch":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- opening: checks, lock, repair ------------------------------------------------------
    def open(self) -> None:
        import importlib.util

        options = self.options
        if not options.inbox.is_dir():
            raise BatchError(f"inbox {options.inbox} is not a folder")
        if os.path.realpath(options.inbox) == os.path.realpath(options.out):
            raise BatchError("the output folder must not be the inbox")
        from .reports import load_writers

        writers = load_writers()
        unknown = [f for f in options.formats if f not in writers]
        if unknown:
            raise BatchError(f"unknown report format {', '.join(unknown)}; choose from "
                             f"{', '.join(sorted(writers))}")
        for wanted, module, option in ((options.validate, "edi837.validate", "--validate"),
                                       (options.fix or options.split, "edi837.fix",
                                        "--fix/--split")):
            if wanted and importlib.util.find_spec(module) is None:
                raise BatchError(f"{option} needs {module}, which this edi837 does not have")
        if options.validate:
            from .validate import Pyx12Missing, require_pyx12

            try:
                require_pyx12()
            except Pyx12Missing as exc:  # refuse now, not file by file into quarantine
                raise BatchError(str(exc)) from None
        _makedirs(options.out)
        self._lock()
        self.ledger = Ledger(options.out / LEDGER_NAME)
        self._local = Worker(self._settings) if options.jobs == 1 else None
        from .drugs import load_drug_table

        self._table_version = (self._local.table if self._local
                               else load_drug_table(list(options.drug_tables))).version
        self.recover()

    def _lock(self) -> None:
        """One batch at a time per OUTDIR (its ledger) and per inbox (its files).

        The inbox lock is a flock on the folder itself, so nothing is written into
        a sender's folder.  Workers of a killed batch hold the lock until the kernel
        has finished killing them (a few ms after their parent): wait a little."""
        import fcntl

        options = self.options
        fds = [os.open(options.out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644),
               os.open(options.inbox, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))]
        self._lock_fds = fds
        deadline = time.monotonic() + options.lock_wait
        for fd, what in zip(fds, (f"output folder {options.out}", f"inbox {options.inbox}")):
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        self._unlock()
                        raise BatchError(f"another edi837 batch is running on the {what}; "
                                         "not starting a second one") from None
                    time.sleep(0.05)

    def _unlock(self) -> None:
        for fd in self._lock_fds:
            os.close(fd)  # releases the flock
        self._lock_fds = []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None
        self._unlock()

    def recover(self) -> None:
        """Repair what a killed run left (see the module docstring)."""
        ledger, out = self.ledger, self.options.out
        for row in ledger.in_state(PROCESSING):
            out_dir = out / row["run_id"] / FILES_DIR / row["name"]
            shutil.rmtree(out_dir, ignore_errors=True)
            if out_dir.exists():
                raise BatchError(f"cannot remove the unfinished outputs in {out_dir}")
            ledger.forget(row["id"])
            log.warning("recovery: %s was being checked by run %s when it stopped; "
                        "its outputs are removed and it will be checked again",
                        shown(row["name"]), row["run_id"])
        for row in ledger.in_state(REPORTED):
            log.warning("recovery: finishing %s of run %s (%s)", shown(row["name"]),
                        row["run_id"], row["outcome"])
            self._complete(row, verify=True)
        for run in ledger.runs_in_state(RUNNING):
            run_id = run["run_id"]
            rows = ledger.inputs_of(run_id)
            dirs = {out / run_id, self.options.archive_dir / run_id,
                    self.options.quarantine_dir / run_id}
            dirs.update(Path(r["destination"]).parent for r in rows if r["destination"])
            removed = sum(_remove_temps(d) for d in dirs)
            if not rows:
                for directory in dirs:
                    if directory.is_dir() and directory.name == run_id:
                        shutil.rmtree(directory)
                ledger.delete_run(run_id)
                log.warning("recovery: run %s stopped before finishing any file; removed",
                            run_id)
                continue
            status = run_exit_status(ledger, run_id)
            self._write_summary(_Run(run_id, out / run_id), INTERRUPTED, status)
            ledger.end_run(run_id, INTERRUPTED, status)
            self.status = max(self.status, status)
            log.warning("recovery: run %s was interrupted; %d files finished, summary written"
                        "%s", run_id, len(rows),
                        f", {removed} temporary files removed" if removed else "")

    # -- one run ----------------------------------------------------------------------------
    def run_once(self, stop: StopFlag | None = None, *, watching: bool = False) -> int:
        """Take every settled file in the inbox once; return this run's exit status."""
        stop = stop if stop is not None else StopFlag()
        candidates, waiting = self._scan()
        self._run = None
        self._pending = (len(candidates), waiting)
        with self._progress(len(candidates)) as bar:
            self._process(candidates, stop, bar, waiting)
        run, self._run = self._run, None
        self.last_run = run.run_id if run else None
        if run is None:  # nothing taken: no run directory, no summary
            if candidates and stop and not watching:
                log.warning("stopped (signal %s) before taking any file", stop.signal)
                self.status = EXIT_TROUBLE
                return EXIT_TROUBLE
            return EXIT_OK
        if run.stopped and not watching:
            run.problems.append(f"stopped by signal {stop.signal} before every file was taken")
        status = run_exit_status(self.ledger, run.run_id, run.problems)
        state = STOPPED if run.stopped else FINISHED
        self._write_summary(run, state, status)
        self.ledger.end_run(run.run_id, state, status)
        _checkpoint("run-finished")
        self._log_run_end(run, state, status)
        self.status = max(self.status, status)
        return status

    def _ensure_run(self) -> _Run:
        """The current run, begun when its first file is taken (a poll that takes
        nothing leaves no trace)."""
        if self._run is None:
            count, waiting = self._pending
            run_id = _new_run_id()
            while self.ledger.run(run_id) is not None:  # same microsecond as the last one
                run_id = _new_run_id()
            self.ledger.begin_run(run_id)
            self._run = _Run(run_id, self.options.out / run_id, waiting)
            _makedirs(self._run.directory)
            _checkpoint("run-started")
            log.info("run %s: %d files to take, %d waiting", run_id, count, len(waiting))
        return self._run

    def watch(self, stop: StopFlag) -> int:
        """Poll the inbox every ``interval`` seconds until ``stop`` is set.

        Returns 0: a service stopped on purpose has not failed.  Each run's exit
        status is in its summary and its last log line; a problem that stops
        the watching (disk full, ledger unwritable) raises instead (exit 2)."""
        options = self.options
        log.info("watching %s every %g s (settle %s); SIGTERM or Ctrl-C stops after the "
                 "current file", options.inbox, options.interval,
                 f"marker {options.marker}" if options.marker else f"{options.settle:g} s")
        while not stop:
            self.run_once(stop, watching=True)
            deadline = time.monotonic() + options.interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.1, options.interval))
        log.info("stopped (signal %s); worst run exit status %d", stop.signal, self.status)
        return EXIT_OK

    # -- scanning ---------------------------------------------------------------------------
    def _scan(self) -> tuple[list[tuple[str, Path, tuple]], list[dict]]:
        options = self.options
        exclude = (options.out, options.archive_dir, options.quarantine_dir)
        candidates, waiting, seen = [], [], set()
        for name, path in select_inputs(options.inbox, exclude=exclude, marker=options.marker):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            seen.add(path)
            why = self.settle.why_not(path, st)
            if why is None:
                candidates.append((name, path, _signature(st)))
                continue
            waiting.append({"name": name, "why": why})
            if (path, _signature(st)) not in self._noted_waiting:  # once per version of a file
                self._noted_waiting.add((path, _signature(st)))
                log.info("%s: not settled (%s); left for a later run", shown(name), why)
        self.settle.forget(seen)
        self._noted_waiting = {key for key in self._noted_waiting if key[0] in seen}
        return candidates, waiting

    # -- processing -------------------------------------------------------------------------
    def _progress(self, length: int):
        import contextlib

        import click

        if self.options.progress and length:
            return click.progressbar(length=length, label="edi837 batch", file=sys.stderr)
        return contextlib.nullcontext(None)

    def _process(self, candidates, stop: StopFlag, bar, waiting: list) -> None:
        jobs = self.options.jobs
        queue = deque(candidates)
        deferred: list = []
        in_flight: dict = {}  # future -> (job, row id)
        flying: set[str] = set()  # hashes being checked now

        def advance() -> None:
            if bar is not None:
                bar.update(1)

        while True:
            while queue and len(in_flight) < jobs and not stop:
                candidate = queue.popleft()
                taken = self._take(candidate, flying, waiting)
                if taken is None:
                    advance()
                elif taken == DEFER:
                    deferred.append(candidate)
                elif jobs == 1:
                    job, row_id = taken
                    self._finish(job, row_id, self._local.run(job), waiting)
                    flying.discard(job.sha256)
                    advance()
                else:
                    job, row_id = taken
                    try:
                        future = self._get_pool().submit(_pool_run, job)
                    except BrokenProcessPool:
                        self._pool = None
                        self._roll_back(job, row_id, "worker processes died")
                        flying.discard(job.sha256)
                        queue.clear()
                        break
                    in_flight[future] = (job, row_id)
            if in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    job, row_id = in_flight.pop(future)
                    flying.discard(job.sha256)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        # which file killed it cannot be told: every file in hand
                        # is rolled back and left for the next run
                        self._pool = None
                        self._roll_back(job, row_id,
                                        "a worker process died (killed, or out of memory?)")
                        queue.clear()
                        continue
                    self._finish(job, row_id, outcome, waiting)
                    advance()
                continue
            if stop and (queue or deferred):
                log.warning("stop requested (signal %s): the files in hand are finished; "
                            "%d left for the next run", stop.signal, len(queue) + len(deferred))
                if self._run is not None:
                    self._run.stopped = True
                return
            if deferred and not queue:
                # copies of content checked earlier in this run: duplicates of it now
                queue.extend(deferred)
                deferred = []
                continue
            if not queue:
                return

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            # fork where there is one: workers are then children of this process
            # (what PR_SET_PDEATHSIG needs) and hold its locks while they live
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(
                max_workers=self.options.jobs, mp_context=context,
                initializer=_init_pool_worker, initargs=(self._settings, os.getpid()))
        return self._pool

    def _take(self, candidate, flying: set[str], waiting: list):
        """Hash a candidate and record it: (job, row id), DEFER, or None (not taken)."""
        name, path, signature = candidate
        ledger, options = self.ledger, self.options
        try:
            if _signature(path.stat()) != signature:
                waiting.append({"name": name, "why": "changed since the scan"})
                return None
            sha = _sha256(path)
            st = path.stat()
        except FileNotFoundError:
            log.info("%s: gone before it was taken", shown(name))
            return None
        except OSError as exc:
            self._ensure_run().problems.append(f"{name}: cannot read: {exc.strerror or exc}")
            log.error("%s: cannot read (%s); left in the inbox", shown(name),
                      exc.strerror or type(exc).__name__)
            return None
        if _signature(st) != signature:
            waiting.append({"name": name, "why": "changed while being hashed"})
            return None
        if sha in flying:
            return DEFER
        if ledger.unfinished_content(sha) is not None:
            log.warning("%s: same content as an input whose archiving is not finished; "
                        "left in the inbox", shown(name))
            return None
        marker = str(path) + options.marker if options.marker else None
        original = None if options.reprocess else ledger.done_content(sha)
        run = self._ensure_run()
        if original is not None:
            destination = options.archive_dir / run.run_id / name
            row_id = ledger.take(sha256=sha, run_id=run.run_id, name=name, source=path,
                                 size=st.st_size, marker=marker, state=REPORTED,
                                 outcome=DUPLICATE, destination=str(destination),
                                 duplicate_of=original["id"])
            _checkpoint("claimed")
            log.info("%s: duplicate of %s (run %s), not checked again; archived",
                     shown(name), shown(original["name"]), original["run_id"])
            self._complete(ledger.row(row_id), verify=False)
            return None
        row_id = ledger.take(sha256=sha, run_id=run.run_id, name=name, source=path,
                             size=st.st_size, marker=marker)
        _checkpoint("claimed")
        flying.add(sha)
        job = Job(str(path), name, sha, str(run.directory / FILES_DIR / name))
        return job, row_id

    def _roll_back(self, job: Job, row_id: int, why: str) -> None:
        shutil.rmtree(job.out_dir, ignore_errors=True)
        self.ledger.forget(row_id)
        self._ensure_run().problems.append(f"{job.name}: {why}; left in the inbox")
        log.error("%s: %s; left in the inbox for the next run", shown(job.name), why)

    def _finish(self, job: Job, row_id: int, outcome: dict, waiting: list) -> None:
        """Steps 4-7 for a checked file."""
        options, run = self.options, self._ensure_run()
        if outcome.get("changed"):
            shutil.rmtree(job.out_dir, ignore_errors=True)
            self.ledger.forget(row_id)
            waiting.append({"name": job.name, "why": "changed while being checked"})
            log.warning("%s: changed while being checked; left for a later run",
                        shown(job.name))
            return
        quarantine = outcome["quarantine"]
        root = options.quarantine_dir if quarantine else options.archive_dir
        destination = root / run.run_id / job.name
        reason = None
        if quarantine:
            reason = (f"edi837 batch put this file in quarantine.\n\n"
                      f"File:     {job.name}\nFrom:     {job.path}\nSHA-256:  {job.sha256}\n"
                      f"Run:      {run.run_id}\nReports:  {run.directory / FILES_DIR / job.name}\n"
                      f"\nWhy:\n{outcome['reason']}\n\n"
                      "What to do: ask the sender for a complete, readable file and drop it "
                      "into the inbox.  (Quarantined content is examined again if the same "
                      "bytes are dropped again, for example after an edi837 upgrade.)\n")
        facts = {key: outcome.get(key) for key in ("claims", "drug_lines", "errors",
                                                   "warnings", "infos", "problem")}
        if outcome.get("size") is not None:
            facts["size"] = outcome["size"]
        if quarantine:
            verdict = QUARANTINED
        else:
            verdict = FINDINGS if outcome["status"] != "ok" else OK
        self.ledger.report(row_id, outcome=verdict, rules=json.dumps(outcome.get("rules", {})),
                           outputs=json.dumps(outcome.get("outputs", [])),
                           destination=str(destination), reason=reason, **facts)
        _checkpoint("reported")
        row = self.ledger.row(row_id)
        if quarantine:
            log.warning("%s: quarantined (%s); reason in %s", shown(job.name),
                        outcome["log_reason"], shown(str(destination) + REASON_SUFFIX))
        else:
            log.info("%s: %s; archived", shown(job.name), _describe(row))
        if outcome.get("problem"):
            log.error("%s: %s", shown(job.name), outcome["log_problem"])
        self._complete(row, verify=False)

    def _complete(self, row: sqlite3.Row, *, verify: bool) -> None:
        """Steps 5-7, idempotent: reason file, move, marker, done."""
        source, destination = Path(row["source"]), Path(row["destination"])
        if row["outcome"] == QUARANTINED and row["reason"]:
            with atomic_output(str(destination) + REASON_SUFFIX) as out:
                out.write(row["reason"])
            _checkpoint("reason-written")
        problem = None
        try:
            source_ours = os.path.lexists(source) and (
                not verify or _sha256(source) == row["sha256"])
            if os.path.lexists(destination):
                if source_ours:
                    if _sha256(destination) == row["sha256"]:  # a finished cross-device copy
                        os.unlink(source)
                        _fsync_dir(source.parent)
                    else:
                        problem = f"{destination} already exists; input left in the inbox"
            elif source_ours:
                move_file(source, destination)
            elif os.path.lexists(source):
                problem = ("the input was replaced by another file of the same name before it "
                           "was archived; the new file is left in the inbox")
            else:
                problem = "the input disappeared from the inbox before it was archived"
        except OSError as exc:
            # e.g. no permission to remove from the inbox: the row stays 'reported'
            # and every later start tries again
            log.error("%s: cannot move to %s: %s", shown(row["name"]), shown(str(destination)),
                      exc.strerror or type(exc).__name__)
            self.status = EXIT_TROUBLE
            return
        _checkpoint("moved")
        if problem:
            log.error("%s: %s", shown(row["name"]), problem)
            self.ledger.note_problem(row["id"], problem)
        if row["marker"] and os.path.lexists(row["marker"]):
            os.unlink(row["marker"])
            _fsync_dir(Path(row["marker"]).parent)
            _checkpoint("marker-removed")
        self.ledger.done(row["id"])
        _checkpoint("done")

    # -- endings ----------------------------------------------------------------------------
    def _write_summary(self, run: _Run, state: str, status: int) -> None:
        doc = summary_document(self.ledger, run.run_id, drug_table=self._table_version,
                               config_source=self.options.config.source,
                               options=self.options, state=state, exit_status=status,
                               waiting=run.waiting, problems=run.problems)
        _makedirs(run.directory)
        with atomic_output(run.directory / SUMMARY_JSON) as out:
            json.dump(doc, out, indent=2, ensure_ascii=False)
            out.write("\n")
        _checkpoint("summary-json-written")
        with atomic_output(run.directory / SUMMARY_HTML) as out:
            write_summary_html(doc, out)
        _fsync_dir(run.directory)
        _checkpoint("summary-html-written")

    def _log_run_end(self, run: _Run, state: str, status: int) -> None:
        rows = self.ledger.inputs_of(run.run_id)
        outcomes = Counter(r["outcome"] for r in rows)
        severities = Counter()
        for r in rows:
            if r["outcome"] != DUPLICATE:
                severities.update(errors=r["errors"] or 0, warnings=r["warnings"] or 0)
        log.info("run %s %s: %d files: %d ok, %d with findings, %d quarantined, "
                 "%d duplicates, %d waiting; %d errors, %d warnings; exit status %d; "
                 "summary %s", run.run_id, state, len(rows), outcomes[OK], outcomes[FINDINGS],
                 outcomes[QUARANTINED], outcomes[DUPLICATE], len(run.waiting),
                 severities["errors"], severities["warnings"], status,
                 run.directory / SUMMARY_HTML)


def _describe(row: sqlite3.Row) -> str:
    rules = json.loads(row["rules"] or "{}")
    codes = ", ".join(f"{code} x{n}" for code, n in rules.items())
    return (f"{row['outcome']}: {row['claims']} claims, {row['drug_lines']} drug lines, "
            f"{row['errors']} errors, {row['warnings']} warnings, {row['infos']} infos"
            + (f" ({codes})" if codes else ""))


def run_batch(options: BatchOptions, *, watch: bool = False,
              stop: StopFlag | None = None) -> int:
    """Open OUTDIR (lock, repair), run once or watch; the exit status: 0 no error
    finding, 1 error findings, 2 a file quarantined or a problem (watch: 0 when
    stopped by a signal, see :meth:`Batch.watch`)."""
    stop = stop if stop is not None else StopFlag()
    with Batch(options) as batch:
        if watch:
            return batch.watch(stop)
        if batch.run_once(stop) == EXIT_OK and batch.last_run is None:
            log.info("%s: nothing new", options.inbox)  # one line per cron run, for the log
        return batch.status


def iter_inputs(ledger_path: Path) -> Iterator[dict]:
    """Every ledger row as a dict (for tests and operators' scripts)."""
    db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        for row in db.execute("SELECT * FROM inputs ORDER BY id"):
            yield dict(row)
    finally:
        db.close()
