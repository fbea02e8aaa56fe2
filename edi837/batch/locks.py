"""One batch at a time per OUTDIR (its ledger) and per inbox (its files).

Both locks are ``flock``s: the kernel releases them however the holder
dies, so a crash never leaves a stale lock behind.  The inbox lock is taken
on the folder itself, so nothing is written into a sender's folder.
"""
from __future__ import annotations

import os
import time

from .names import shown
from .options import BatchError, BatchOptions

LOCK_NAME = ".batch.lock"


class Locks:
    def __init__(self) -> None:
        self._fds: list[int] = []

    def acquire(self, options: BatchOptions) -> None:
        """Lock OUTDIR and the inbox, or raise BatchError.  Workers of a killed
        batch hold the locks until the kernel has finished killing them (a few
        ms after their parent): wait ``lock_wait`` seconds."""
        import fcntl

        fds = [os.open(options.out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644),
               os.open(options.inbox, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))]
        self._fds = fds
        deadline = time.monotonic() + options.lock_wait
        names = (f"output folder {shown(str(options.out))}", f"inbox {shown(str(options.inbox))}")
        for fd, what in zip(fds, names):
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        self.release()
                        raise BatchError(f"another edi837 batch is running on the {what}; "
                                         "not starting a second one") from None
                    time.sleep(0.05)

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)  # releases the flock
        self._fds = []
