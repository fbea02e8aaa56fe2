"""Steps 4-7 of an input: record its outcome, then reason file, move, marker, done.

Only the batch process runs these (never a worker), one input at a time, so
each step is durable before the next begins (see ``ledger``).  ``complete``
is idempotent: recovery calls it again for inputs a killed run had recorded
but not finished.

Only the bytes that were checked are archived.  The descriptor opened when
the file was taken is hashed again before the move; the name is renamed only
while it still leads to that file (device and inode), and checked again
after the rename.  A hard-linked file (another name, maybe outside the inbox,
for the same inode) is copied instead, and its inbox name removed: the archive
shares no inode with anything outside it.  If a sender re-sent the file under
the same name in the meantime, the checked bytes are copied from the descriptor into the archive
and the new file is left in the inbox for the next run; if the checked bytes
are gone (the file was rewritten in place), nothing is archived, the ledger
says so, and the file in the inbox waits for the next run.

An inbox in an object store is archived and quarantined under prefixes of the same
store by copy then delete (``objects``); the reason file is an object written whole.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..files import atomic_output
from ..locations import Url, is_url
from . import durable
from .inbox import CHUNK_SIZE, REASON_SUFFIX, NotAnInput, Opened, hash_input, identity, open_input
from .ledger import FILES_DIR, FINDINGS, OK, QUARANTINED, Ledger
from .names import as_text, fitting, shown
from .options import BatchOptions
from .run import Job
from .summary import describe

log = logging.getLogger("edi837.batch")

GONE = "the input disappeared from the inbox before it was archived"
REPLACED = ("the input was replaced by another file of the same name before it was "
            "archived; the new file is left in the inbox")
CHANGED = ("the input changed after it was checked, so the checked bytes are not archived; "
           "the file is left in the inbox for the next run")


CANNOT_MOVE = "cannot move to "


class _NotChecked(Exception):
    """The bytes being copied are not those that were checked."""


def _location(value: str) -> Path | Url:
    return Url(value) if is_url(value) else Path(value)


def reason_path(destination: Path) -> Path:
    """``<name>.reason.txt`` beside a quarantined file, shortened if the name is long."""
    return destination.parent / fitting(destination.name, REASON_SUFFIX)


class Archiver:
    def __init__(self, ledger: Ledger, options: BatchOptions) -> None:
        self.ledger = ledger
        self.options = options
        self.trouble = False  # an input could not be moved: exit status 2
        self.failures: list[str] = []  # ... and why, for the run's summary (problems)

    def record(self, job: Job, row_id: int, outcome: dict, run_id: str,
               run_dir: Path) -> dict | None:
        """Step 4 for a checked file: its outcome, counts, outputs and destination.
        None when the file changed while being checked: its outputs are removed
        and its row forgotten, so the next run takes it as new."""
        options = self.options
        if outcome.get("changed"):
            shutil.rmtree(job.out_dir, ignore_errors=True)
            self.ledger.forget(row_id)
            log.warning("%s: changed while being checked; left for a later run",
                        shown(job.name))
            return None
        quarantine = outcome["quarantine"]
        root = options.quarantine_dir if quarantine else options.archive_dir
        destination = root / run_id / job.name
        reason = None
        if quarantine:
            reason = (f"edi837 batch put this file in quarantine.\n\n"
                      f"File:     {shown(job.name)}\nFrom:     {shown(job.path)}\n"
                      f"SHA-256:  {job.sha256}\nRun:      {run_id}\n"
                      f"Reports:  {shown(str(run_dir / FILES_DIR / job.name))}\n"
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
                           figures=json.dumps(outcome["figures"]) if outcome.get("figures")
                           else None,
                           destination=str(destination), reason=reason, **facts)
        durable.checkpoint("reported")
        row = self.ledger.row(row_id)
        if quarantine:
            log.warning("%s: quarantined (%s); reason in %s", shown(job.name),
                        outcome["log_reason"], shown(str(reason_path(destination))))
        else:
            log.info("%s: %s; archived", shown(job.name), describe(row))
        if outcome.get("problem"):
            log.error("%s: %s", shown(job.name), outcome["log_problem"])
        return row

    def complete(self, row: dict, *, opened: Opened | None = None,
                 also: Callable | None = None) -> None:
        """Steps 5-7, idempotent: reason file, move, marker, done.  ``opened``: the
        descriptor held since the file was taken (none in recovery).  ``also`` is
        passed to :meth:`Ledger.done`: rows written in the done transaction."""
        source, destination = _location(row["source"]), _location(row["destination"])
        try:
            if row["outcome"] == QUARANTINED and row["reason"]:
                with atomic_output(reason_path(destination)) as out:
                    out.write(row["reason"])
                durable.checkpoint("reason-written")
            problem = self._move(row, source, destination, opened)
        except OSError as exc:
            # e.g. no permission to remove from the inbox: the row stays 'reported'
            # (its destination kept for the retry, not claimed: see summary) and every
            # later start tries again; the run's summary says why
            problem = (f"cannot move to {shown(str(destination))}: "
                       f"{_refused_by(exc, source, destination)}; left where it is, the "
                       "next start moves it")
            log.error("%s: %s", shown(row["name"]), problem)
            self.ledger.note_problem(row["id"], problem)
            self.failures.append(f"{as_text(row['name'])}: {problem}")
            self.trouble = True
            return
        if (row.get("problem") or "").startswith(CANNOT_MOVE):  # an earlier try's
            self.ledger.note_problem(row["id"], None)
        durable.checkpoint("moved")  # (an object store: copied, then the source deleted)
        if problem:  # the checked bytes are not archived
            log.error("%s: %s", shown(row["name"]), problem)
            self.ledger.note_problem(row["id"], problem, moved=False)
        if row["marker"]:
            self._remove_marker(row)
        self.ledger.done(row["id"], also=also)
        durable.checkpoint("done")

    def _move(self, row: dict, source: Path, destination: Path,
              opened: Opened | None) -> str | None:
        """Step 6: the checked bytes to ``destination``; a problem, or None."""
        if is_url(source):
            from . import objects

            return objects.move(row, source, destination, opened, gone=GONE, changed=CHANGED)
        if os.path.lexists(destination):
            # the move happened (a rename is atomic; a copy is renamed into place only
            # when complete), unless another file is there
            if _sha256_of(destination, row["size"]) != row["sha256"]:
                return f"{shown(str(destination))} already exists; input left in the inbox"
            held = opened.fd if opened else None
            if _is_checked(source, row, held):  # the leftover of a cross-device copy
                os.unlink(source)
                durable.fsync_dir(source.parent)
            return None
        fd = opened.fd if opened else None
        try:
            if fd is None:  # recovery: nothing held open since the check
                fd = open_input(source)[0]
        except FileNotFoundError:
            return GONE
        except NotAnInput:
            return REPLACED
        try:
            return _move_checked(fd, source, destination, row)
        finally:
            if opened is None:
                os.close(fd)

    def _remove_marker(self, row: dict) -> None:
        """The marker of a file now archived.  Only a file or a link is removed: a
        folder of that name is left, and said so, never a reason to stop."""
        marker = row["marker"]
        if is_url(marker):
            from . import objects

            try:
                if objects.remove(marker):
                    durable.checkpoint("marker-removed")
            except OSError as exc:
                log.error("%s: cannot remove its marker %s: %s", shown(row["name"]),
                          shown(marker), exc.strerror or exc)
            return
        try:
            st = os.lstat(marker)
            if stat.S_ISDIR(st.st_mode):
                log.warning("%s: its marker %s is a folder; left in place", shown(row["name"]),
                            shown(os.path.basename(marker)))
                return
            os.unlink(marker)
            durable.fsync_dir(Path(marker).parent)
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("%s: cannot remove its marker %s: %s", shown(row["name"]),
                      shown(os.path.basename(marker)), exc.strerror or type(exc).__name__)
            return
        durable.checkpoint("marker-removed")


def secure_checked(job: Job, opened: Opened, destination: Path) -> Job | None:
    """A file renamed over (re-sent) or removed in the inbox while it was checked: its
    checked bytes, from the descriptor held since it was taken, copied to
    ``destination`` (its place in the archive), and the job to check and report them
    from there; None when they are gone (written to in place) or the place is taken."""
    if opened.fd < 0 or is_url(destination) or os.path.lexists(destination):
        return None
    if identity(os.fstat(opened.fd)) != tuple(job.identity):
        return None  # written to in place: the checked bytes are gone
    durable.makedirs(destination.parent)
    if _copy_checked(opened.fd, destination, {"sha256": job.sha256}) is not None:
        return None
    durable.fsync_dir(destination.parent)
    log.warning("%s: %s while it was checked; the checked bytes are archived and checked "
                "from there%s", shown(job.name), *_what_became_of(job, opened.fd))
    return replace(job, path=str(destination), identity=identity(os.lstat(destination)))


def _what_became_of(job: Job, fd: int) -> tuple[str, str]:
    """What happened to a file's inbox name while it was checked, for the log: another
    file under it (replaced), the same file under another name in its folder
    (renamed), or neither (removed or moved out)."""
    if os.path.lexists(job.path):
        return "replaced in the inbox", ", a new file waits for the next run"
    held = os.fstat(fd)
    try:
        with os.scandir(os.path.dirname(job.path)) as entries:
            renamed = next((e.name for e in entries if e.inode() == held.st_ino
                            and e.stat(follow_symlinks=False).st_dev == held.st_dev), None)
    except OSError:
        renamed = None
    if renamed is not None:
        return (f"renamed to {shown(renamed)} in the inbox",
                f"; {shown(renamed)}, the same content, is a duplicate for the next run")
    return "removed from the inbox (or moved out of it)", ""


def place_secured(secured: Path, destination: Path) -> None:
    """A secured copy (``secure_checked``) whose file went to quarantine instead: moved
    there (``complete`` then finds it in place), or removed (``complete`` copies the
    checked bytes from the descriptor)."""
    if secured == destination:
        return
    try:
        durable.makedirs(destination.parent)
        if not os.path.lexists(destination):
            os.rename(secured, destination)
            _synced(None, secured, destination)
            return
    except OSError:
        pass
    secured.unlink(missing_ok=True)


def _refused_by(exc: OSError, source: Path | Url, destination: Path | Url) -> str:
    """Why a move failed, naming the folder that refused it when one is not writable
    (the inbox, to remove the name; the archive or quarantine, to add it)."""
    why = exc.strerror or type(exc).__name__
    if is_url(source) or is_url(destination):
        return why
    for folder in (Path(destination).parent, Path(source).parent):
        while not folder.exists() and folder.parent != folder:
            folder = folder.parent  # the first that exists: its sub-folder is made there
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{shown(str(folder))} is not writable ({why})"
    return why


def _sha256_of(path: Path, size: int) -> str | None:
    """Hash of a regular file no larger than ``size`` bytes, or None."""
    try:
        fd = open_input(path)[0]
    except (OSError, NotAnInput):
        return None
    try:
        return hash_input(fd, max_size=size)
    except NotAnInput:
        return None
    finally:
        os.close(fd)


def _is_checked(path: Path, row: dict, held: int | None) -> bool:
    """Whether ``path`` is the input that was checked: the file held open (same
    device and inode), or, in recovery, a file with the checked content."""
    if held is not None:
        st = os.fstat(held)
        try:
            return identity(os.lstat(path))[:2] == identity(st)[:2]
        except FileNotFoundError:
            return False
    return _sha256_of(path, row["size"]) == row["sha256"]


def _move_checked(fd: int, source: Path, destination: Path, row: dict) -> str | None:
    """Rename ``source`` while it is the file open on ``fd`` with the checked
    content; else copy the checked bytes from ``fd``.  A problem, or None."""
    before = os.fstat(fd)
    try:
        if hash_input(fd, max_size=row["size"]) != row["sha256"]:
            return CHANGED
    except NotAnInput:  # it grew past the size that was checked
        return CHANGED
    durable.makedirs(destination.parent)
    if before.st_nlink > 1 and _is_checked(source, row, fd):
        # hard-linked: renamed, the archived file would share its inode (and so every
        # later write) with a name outside the inbox; it gets its own copy instead
        problem = _copy_checked(fd, destination, row)
        if problem is None and _is_checked(source, row, fd):
            os.unlink(source)
        return _synced(problem, source, destination)
    if _is_checked(source, row, fd):
        try:
            os.rename(source, destination)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            problem = _copy_checked(fd, destination, row)
            if problem is None and _is_checked(source, row, fd):
                os.unlink(source)
            return _synced(problem, source, destination)
        moved = os.lstat(destination)
        if identity(moved)[:2] == identity(before)[:2]:
            if identity(os.fstat(fd)) != identity(before):
                log.warning("%s: written to while it was archived", shown(row["name"]))
            return _synced(None, source, destination)
        if not _put_back(destination, source):  # lost a race: the name was reused in between
            return _synced(f"a file that replaced the input while it was archived is kept at "
                           f"{shown(str(destination))}; the checked bytes are not archived",
                           source, destination)
    log.warning("%s: replaced by a new file of the same name after it was checked; the "
                "checked bytes are archived, the new file waits for the next run",
                shown(row["name"]))
    return _synced(_copy_checked(fd, destination, row), source, destination)


def _copy_checked(fd: int, destination: Path, row: dict) -> str | None:
    """Copy the open file into place atomically, if what was copied is the checked
    content (hashed on the way); a problem, or None."""
    digest = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        with atomic_output(destination, "wb") as out:
            while chunk := os.read(fd, CHUNK_SIZE):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != row["sha256"]:
                raise _NotChecked  # atomic_output removes the temporary copy
    except _NotChecked:
        return CHANGED
    return None


def _put_back(moved: Path, name: Path) -> bool:
    """Give a file renamed by mistake its name in the inbox back; False if the name
    was taken again meanwhile (the file then stays at ``moved``)."""
    try:
        os.link(moved, name)
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some network shares)
        if os.path.lexists(name):
            return False
        os.rename(moved, name)
        return True
    os.unlink(moved)
    return True


def _synced(problem: str | None, source: Path, destination: Path) -> str | None:
    durable.fsync_dir(destination.parent)
    durable.fsync_dir(source.parent)
    return problem
