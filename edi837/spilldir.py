"""The folder a process's spill files go in, and the clean-up after a killed one.

A store spills its findings to a temporary file past a few thousand
(edi837.store).  A process killed with SIGKILL cannot remove its files, and a
nightly job killed now and then would leave them in the temporary folder for
good.  So each process spills into a folder of its own, ``edi837-spill-*``
in the temporary folder, holding an exclusive ``flock`` on a lock file inside
it for as long as it lives (the kernel drops the lock when the process dies,
however it dies).  The first spill of any later process removes every such
folder whose lock it can take: its process is gone.  A folder is given its
name only once its lock is held, so no process ever sees a live folder
unlocked.  The folder is removed when the process ends normally.

Where ``fcntl`` does not exist (Windows) the files go straight into the
temporary folder, as before, and nothing is swept.
"""
from __future__ import annotations

import os

PREFIX = "edi837-spill-"
LOCK = ".lock"

_folder: str | None = None  # this process's folder
_owner = 0  # the process that made it (a forked child makes its own)
_lock = -1  # its lock's descriptor, held open while the process lives


def folder() -> str:
    """This process's spill folder (made, and dead processes' swept, on first use)."""
    global _folder, _owner, _lock
    if _folder is not None and _owner == os.getpid():
        return _folder
    import tempfile

    root = tempfile.gettempdir()
    try:
        import fcntl
    except ImportError:  # no flock: no folder of our own and nothing swept
        return root
    sweep(root)
    making = tempfile.mkdtemp(prefix="." + PREFIX, dir=root)  # not a name sweep() reads
    lock = os.open(os.path.join(making, LOCK), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    path = os.path.join(root, os.path.basename(making)[1:])
    os.rename(making, path)
    if _owner == 0:
        import atexit

        atexit.register(_remove)
    _folder, _owner, _lock = path, os.getpid(), lock
    return path


def sweep(root: str) -> list[str]:
    """Remove the spill folders in ``root`` whose process is gone; returns them."""
    import fcntl
    import shutil

    gone: list[str] = []
    try:
        names = [name for name in os.listdir(root) if name.startswith(PREFIX)]
    except OSError:
        return gone
    for name in names:
        path = os.path.join(root, name)
        try:
            lock = os.open(os.path.join(path, LOCK), os.O_RDWR)
        except OSError:
            continue  # not ours to judge (no lock file: not made by this module)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its process lives
        finally:
            os.close(lock)  # (taken or not: closing drops what was taken)
        shutil.rmtree(path, ignore_errors=True)
        gone.append(path)
    return gone


def _remove() -> None:
    """At a normal exit: this process's folder goes (a forked child leaves its parent's)."""
    if _folder is not None and _owner == os.getpid():
        import shutil

        shutil.rmtree(_folder, ignore_errors=True)
