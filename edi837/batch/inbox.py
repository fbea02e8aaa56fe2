"""The inbox: which entries are inputs, and when an upload is complete.

Settled files.  A sender's upload is taken only once it is complete: its size
and mtime have not changed for ``settle`` seconds (the mtime is at least that
old, or this process has seen it unchanged for that long, which covers a
sender whose clock runs ahead), or, with a marker suffix such as ``.done``,
only once ``NAME.done`` exists.  Hidden, temporary and partial names
(``.x``, ``*.part``, ``*.tmp``, ``*~``) and the marker files themselves are
never inputs.  The size and mtime are compared again around hashing, and the
hash again by the check, so a file that changes after all is left (its
outputs removed) for the next run.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ..files import PARTIAL_SUFFIXES
from .names import shown

REASON_SUFFIX = ".reason.txt"

log = logging.getLogger("edi837.batch")


def signature(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def select_inputs(inbox: Path, *, marker: str | None = None) -> list[tuple[str, Path]]:
    """(name relative to the inbox, path) of every candidate file, sorted by name.

    Skipped: hidden files and folders, partial/temp names, marker files and our
    own reason files.  (Output folders are never inside the inbox: refused.)"""
    found = []
    for root, dirs, files in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
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
        key, now = signature(st), time.monotonic()
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


class Inbox:
    """One inbox's scans: the settled candidates, and what waits and why.

    A file that waits is logged once per version (size and mtime), not at
    every poll of ``--watch``."""

    def __init__(self, root: Path, settle: Settle, *, marker: str | None) -> None:
        self.root = root
        self.settle = settle
        self.marker = marker
        self._noted_waiting: set[tuple] = set()

    def scan(self) -> tuple[list[tuple[str, Path, tuple]], list[dict]]:
        """(candidates as (name, path, signature), waiting as {name, why})."""
        candidates, waiting, seen = [], [], set()
        for name, path in select_inputs(self.root, marker=self.marker):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            seen.add(path)
            why = self.settle.why_not(path, st)
            if why is None:
                candidates.append((name, path, signature(st)))
                continue
            waiting.append({"name": name, "why": why})
            if (path, signature(st)) not in self._noted_waiting:  # once per version of a file
                self._noted_waiting.add((path, signature(st)))
                log.info("%s: not settled (%s); left for a later run", shown(name), why)
        self.settle.forget(seen)
        self._noted_waiting = {key for key in self._noted_waiting if key[0] in seen}
        return candidates, waiting
