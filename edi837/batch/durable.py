"""File-system steps that survive a crash or a power cut.

Every step of a batch that another step depends on is made durable before
the next begins: directories are fsynced after an entry is created, renamed
or removed in them (the move of an input is ``archive``'s).  Temporary names
are ``.NAME.xxxx.tmp`` (those of ``files.atomic_output``); a start removes
the ones a killed run left.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path


def checkpoint(step: str) -> None:
    """Called after each step that matters for crash safety.  Does nothing;
    the crash tests replace it to kill the process at exactly that step.
    Callers look it up on this module at each call (``durable.checkpoint``)."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in ``path`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs(path: Path) -> None:
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
        fsync_dir(directory.parent)


def is_temp(name: str) -> bool:
    """Temporary names of atomic_output and of cross-device moves: .NAME.xxxx.tmp"""
    return name.startswith(".") and name.endswith(".tmp")


def remove_temps(root: Path) -> int:
    removed = 0
    if not root.is_dir():
        return 0
    for directory, _, names in os.walk(root):
        for name in names:
            if is_temp(name):
                os.unlink(os.path.join(directory, name))
                removed += 1
    return removed
