"""One batch at a time per OUTDIR (its ledger) and per inbox (its files).

Both locks are ``flock``s: the kernel releases them however the holder
dies, so a crash never leaves a stale lock behind.  The inbox lock is taken
on the folder itself, so nothing is written into a sender's folder.

Inboxes must not nest either: a batch on ``INBOX`` and one on ``INBOX/sub``
(with different OUTDIRs) would both take the files in ``sub``.  Each batch
holds its inbox folder's lock, so a starting batch tries, without waiting, a
shared lock on every folder above its inbox and every folder below it (not
hidden, links not followed): one it cannot get is the inbox of a running
batch, and the start is refused.  Each batch takes its own lock before it
looks, so of two starting at the same moment at least one sees the other.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from ..locations import is_url
from .names import shown
from .options import BatchError, BatchOptions

LOCK_NAME = ".batch.lock"


def _flock(fd: int, mode: int) -> bool:
    """Try a lock without waiting: True when taken."""
    import fcntl

    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _open_folder(path: str | Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # gone, or not ours to read: then no batch of ours runs there
        return None


def _held_by_a_batch(folder: str) -> bool:
    """Whether someone holds an exclusive lock on ``folder`` (a batch's inbox)."""
    import fcntl

    fd = _open_folder(folder)
    if fd is None:
        return False
    try:
        return not _flock(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)  # releases the shared lock, if taken


def _nested_inbox(inbox: Path) -> str | None:
    """A message naming a running batch's inbox above or below ``inbox``, or None."""
    top = os.path.realpath(inbox)
    above, folder = [], top
    while (parent := os.path.dirname(folder)) != folder:
        above.append(parent)
        folder = parent
    for folder in above:
        if _held_by_a_batch(folder):
            return (f"the inbox {shown(str(inbox))} is inside {shown(folder)}, the inbox of "
                    "another running edi837 batch; both would take the same files")
    for root, dirs, _ in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in dirs:
            folder = os.path.join(root, name)
            if _held_by_a_batch(folder):
                return (f"the inbox {shown(str(inbox))} contains {shown(folder)}, the inbox "
                        "of another running edi837 batch; both would take the same files")
    return None


class Locks:
    def __init__(self) -> None:
        self._fds: list[int] = []

    def acquire(self, options: BatchOptions) -> None:
        """Lock OUTDIR and the inbox and check that no running batch's inbox is
        above or below this one, or raise BatchError.  Workers of a killed batch
        hold its locks until the kernel has finished killing them (a few ms after
        their parent): wait ``lock_wait`` seconds."""
        import fcntl

        # an inbox in an object store has no lock of its own (edi837.batch.objects):
        # OUTDIR's lock, and its ledger, stand for it
        store = is_url(options.inbox)
        fds = [os.open(options.out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)]
        self._fds = fds
        if not store:
            fds.append(os.open(options.inbox, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)))
        deadline = time.monotonic() + options.lock_wait
        names = (f"output folder {shown(str(options.out))}", f"inbox {shown(str(options.inbox))}")
        for fd, what in zip(fds, names, strict=False):  # no inbox lock for a store
            while not _flock(fd, fcntl.LOCK_EX):
                self._wait_or_refuse(deadline, f"another edi837 batch is running on the "
                                               f"{what}; not starting a second one")
        while not store and (nested := _nested_inbox(options.inbox)) is not None:
            self._wait_or_refuse(deadline, nested)

    def _wait_or_refuse(self, deadline: float, why: str) -> None:
        if time.monotonic() >= deadline:
            self.release()
            raise BatchError(why)
        time.sleep(0.05)

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)  # releases the flock
        self._fds = []
