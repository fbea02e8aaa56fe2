"""The inbox: which entries are inputs, when an upload is complete, reading one safely.

Entries.  Inputs are the regular files below the inbox, found without
following symbolic links.  Hidden, temporary and partial names (``.x``,
``*.part``, ``*.tmp``, ``*~``), marker files and reason files are never
inputs.  An entry the batch will not read is *skipped*: it stays where it
is, the log and the run's summary say why, and the run's exit status is 2,
run after run, until someone removes it.  Skipped are: a symbolic link, to a
file or a folder, inside the inbox or out of it (a link is never followed,
so no link makes the batch read, report or archive a file outside the
inbox); a FIFO, socket or device (reading one can block for ever or never
end); a file larger than ``max_size`` (``--max-size``, 2 GiB by default); and
with ``--marker`` a file whose marker is not a regular file.

Settled files.  A sender's upload is taken only once it is complete: its size
and mtime have not changed for ``settle`` seconds (the mtime is at least that
old, or this process has seen it unchanged for that long, which covers a
sender whose clock runs ahead), or, with a marker suffix such as ``.done``,
only once ``NAME.done`` exists.

Reading.  A candidate is opened once, without following a link
(``O_NOFOLLOW``) and without blocking (``O_NONBLOCK``, so a FIFO put in its
place after the scan cannot hang the batch), must still be the regular file
the scan saw (device, inode, size, mtime), and is hashed through that
descriptor; hashing stops at a stop signal and at ``max_size``.  The batch
keeps the descriptor until the file is archived, and archives only the bytes
that were checked (``archive``); the worker compares the file's identity
and the check's hash again, so a file that changes after all is left (its
outputs removed) for the next run.

An inbox given as a URL (``s3://bucket/inbox/``) is an object store's prefix: the
same rules, with an object's ETag, size and mtime for its identity and no
descriptor held (``objects``).
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..files import PARTIAL_SUFFIXES
from ..locations import is_url
from .names import shown

REASON_SUFFIX = ".reason.txt"
CHUNK_SIZE = 1 << 20
DEFAULT_MAX_SIZE = 2 << 30  # 2 GiB: far above any real 837 batch, far below a runaway file

log = logging.getLogger("edi837.batch")

Identity = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns


def identity(st: os.stat_result) -> Identity:
    """What tells one version of one file from another without reading it."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class NotAnInput(Exception):
    """An inbox entry the batch does not read; the message says why."""


class Changed(Exception):
    """The file changed between two looks at it; the message says when."""


class Stopped(Exception):
    """A stop signal arrived while a file was being read."""


def kind(st: os.stat_result) -> str:
    """A file type in words, for a reason."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(st.st_mode):
            return name
    return "not a regular file"


def marker_path(path: Path | str, marker: str) -> str:
    return str(path) + marker


def marker_is_file(marker: str) -> bool | None:
    """True when the marker is a regular file, False when it is something else,
    None when there is none."""
    if is_url(marker):
        from . import objects

        return objects.is_object(marker)
    try:
        return stat.S_ISREG(os.lstat(marker).st_mode)
    except FileNotFoundError:
        return None


def refusal(path: Path, st: os.stat_result, *, max_size: int, marker: str | None) -> str | None:
    """Why an entry is skipped (see the module docstring), or None."""
    if stat.S_ISLNK(st.st_mode):
        try:
            target = shown(os.readlink(path))
        except OSError:
            target = "?"
        return f"a symbolic link (to {target}): links are not followed; drop the file itself"
    if not stat.S_ISREG(st.st_mode):
        return f"{kind(st)}, not a regular file: not read"
    if st.st_size > max_size:
        return f"{st.st_size:,} bytes, more than --max-size {max_size:,}: not read"
    if marker and marker_is_file(marker_path(path, marker)) is False:
        return f"its marker {shown(path.name + marker)} is not a regular file"
    return None


def select_inputs(inbox: Path, *, marker: str | None = None) -> list[tuple[str, Path]]:
    """(name relative to the inbox, path) of every entry that may be an input,
    sorted by name: everything but folders (a link to a folder is listed, to be
    skipped), hidden names and hidden folders, partial/temp names, marker files
    and our own reason files."""
    found = []
    folders = [(inbox, "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:  # e.g. a sender's folder we may not read
            log.error("%s: cannot list (%s)", shown(str(folder)), exc.strerror or exc)
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append((Path(entry.path), f"{prefix}{name}/"))
            elif not (name.endswith(PARTIAL_SUFFIXES) or name.endswith(REASON_SUFFIX)
                      or (marker and name.endswith(marker))):
                found.append((prefix + name, Path(entry.path)))
    found.sort()
    return found


def open_input(path: Path | str) -> tuple[int, os.stat_result]:
    """A descriptor on a regular file, opened without following a link or blocking
    on a FIFO, and its fstat; NotAnInput for anything else."""
    flags = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (Linux, BSD)
            raise NotAnInput("a symbolic link: links are not followed") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotAnInput(f"{kind(st)}, not a regular file: not read")
    return fd, st


def hash_input(fd: int, *, max_size: int, stop=None) -> str:
    """SHA-256 of an open file from its start; NotAnInput past ``max_size`` bytes,
    Stopped as soon as ``stop`` is set."""
    os.lseek(fd, 0, os.SEEK_SET)
    return hash_chunks(lambda: os.read(fd, CHUNK_SIZE), max_size=max_size, stop=stop)


def hash_chunks(read, *, max_size: int, stop=None) -> str:
    """SHA-256 of what ``read()`` returns until it returns nothing (a file or an
    object in an object store, a chunk at a time); NotAnInput past ``max_size``
    bytes, Stopped as soon as ``stop`` is set."""
    digest = hashlib.sha256()
    size = 0
    while True:
        if stop:
            raise Stopped
        chunk = read()
        if not chunk:
            return digest.hexdigest()
        size += len(chunk)
        if size > max_size:
            raise NotAnInput(f"more than --max-size {max_size:,} bytes: not read")
        digest.update(chunk)


@dataclass
class Opened:
    """A candidate opened and hashed: the descriptor is held until it is archived."""

    fd: int  # -1: an object (nothing is held open)
    identity: Identity
    sha256: str

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_candidate(path: Path, seen: Identity, *, max_size: int, stop=None) -> Opened:
    """Open and hash the file the scan saw as ``seen``.  Raises Changed,
    NotAnInput, Stopped, or OSError (FileNotFoundError: gone)."""
    if is_url(path):
        from . import objects

        return objects.open_candidate(path, seen, max_size=max_size, stop=stop)
    fd, st = open_input(path)
    try:
        if identity(st) != seen:
            raise Changed("changed since the scan")
        sha = hash_input(fd, max_size=max_size, stop=stop)
        if identity(os.fstat(fd)) != seen:
            raise Changed("changed while being hashed")
        if identity(os.lstat(path)) != seen:  # renamed over meanwhile: the name leads elsewhere
            raise Changed("replaced while being hashed")
    except BaseException:
        os.close(fd)
        raise
    return Opened(fd, seen, sha)


def same_file(path: Path | str, expected: Identity) -> bool:
    """Whether ``path`` (not followed if a link) is still that version of that file."""
    if is_url(path):
        from . import objects

        return objects.same_object(path, expected)
    try:
        return identity(os.lstat(path)) == tuple(expected)
    except FileNotFoundError:
        return False


MARKER_OVERDUE = 86400.0  # s: a file waiting longer for its marker is a problem (exit 2)


def arrived(st: os.stat_result) -> float:
    """When an entry came into the inbox, as near as the file system says: its ctime
    (set by a create or a rename; a sender's `cp -p` keeps an old mtime), or mtime."""
    return max(st.st_mtime, getattr(st, "st_ctime", 0.0) or 0.0)


def shown_age(st: os.stat_result) -> str:
    hours = (time.time() - arrived(st)) / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"


class Settle:
    """Decides when a file has stopped changing (see the module docstring)."""

    def __init__(self, seconds: float, marker: str | None = None) -> None:
        self.seconds = seconds
        self.marker = marker
        self._seen: dict[Path, tuple[Identity, float]] = {}
        self.ahead: set[Path] = set()  # waiting with an mtime in the future (last scan)

    def why_not(self, path: Path, st: os.stat_result) -> str | None:
        """None when the file may be taken, else why it may not yet."""
        if self.marker:
            if marker_is_file(marker_path(path, self.marker)):
                return None
            dotted = "." + self.marker  # "done" for ".done": NAME.done is no NAMEdone
            if not self.marker.startswith(".") and marker_is_file(marker_path(path, dotted)):
                return (f"no marker {shown(path.name + self.marker)} yet, but "
                        f"{shown(path.name + dotted)} is there: --marker {shown(dotted)}?")
            return f"no marker {shown(path.name + self.marker)} yet"
        key, now = identity(st), time.monotonic()
        seen = self._seen.get(path)
        if seen is None or seen[0] != key:
            self._seen[path] = (key, now)
            observed = 0.0
        else:
            observed = now - seen[1]
        age = time.time() - st.st_mtime
        self.ahead.discard(path)
        if age >= self.seconds or observed >= self.seconds:
            return None
        if age < 0:
            self.ahead.add(path)
            return (f"modified {-age:.0f} s in the future (sender clock ahead?); "
                    f"taken once unchanged for {self.seconds:g} s")
        return f"modified {age:.0f} s ago, settle time {self.seconds:g} s"

    def forget(self, keep: set[Path]) -> None:
        for path in set(self._seen) - keep:
            del self._seen[path]
        self.ahead &= keep


@dataclass
class Scan:
    candidates: list[tuple[str, Path, Identity]]  # settled, in name order
    waiting: list[dict]  # {name, why}: taken by a later run
    skipped: list[dict]  # {name, why}: never taken as they are
    new_skips: bool  # an entry skipped that this process had not reported yet


class Inbox:
    """One inbox's scans.  What waits or is skipped is logged once per version
    of the entry (its identity), not at every poll of ``--watch``."""

    def __init__(self, root: Path, settle: Settle, *, marker: str | None,
                 max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.root = root
        self.settle = settle
        self.marker = marker
        self.max_size = max_size
        self._noted: set[tuple] = set()

    def scan(self) -> Scan:
        found = Scan([], [], [], False)
        seen = set()
        for name, path, st in self._entries():
            seen.add(path)
            why = refusal(path, st, max_size=self.max_size, marker=self.marker)
            if why is not None:
                found.skipped.append({"name": name, "why": why})
                found.new_skips |= self._note(path, st, logging.WARNING, "%s: skipped: %s",
                                              name, why)
                continue
            why = self.settle.why_not(path, st)
            if why is None:
                found.candidates.append((name, path, identity(st)))
                continue
            if self.marker and time.time() - arrived(st) > MARKER_OVERDUE:
                # a marker that never comes (the sender's step failed, or --marker is
                # not its suffix) must not leave the file waiting, status 0, forever
                why += (f"; waiting for it over a day (there {shown_age(st)}): "
                        "reported as skipped, exit status 2, until it comes")
                found.skipped.append({"name": name, "why": why})
                found.new_skips |= self._note(path, st, logging.WARNING, "%s: skipped: %s",
                                              name, why)
                continue
            found.waiting.append({"name": name, "why": why})
            self._note(path, st, logging.WARNING if "--marker ." in why else logging.INFO,
                       "%s: not settled (%s); left for a later run", name, why)
        self.settle.forget(seen)
        self._noted = {key for key in self._noted if key[0] in seen}
        return found

    def _entries(self):
        """(name, path, lstat) of every entry that may be an input, in name order."""
        if is_url(self.root):
            from . import objects

            yield from objects.entries(self.root, self.marker)
            return
        for name, path in select_inputs(self.root, marker=self.marker):
            try:
                yield name, path, os.lstat(path)
            except FileNotFoundError:
                continue

    def _note(self, path: Path, st: os.stat_result, level: int, message: str, name: str,
              why: str) -> bool:
        key = (path, identity(st), why)
        if key in self._noted:
            return False
        self._noted.add(key)
        log.log(level, message, shown(name), why)
        return True
