"""Files a batch holds: history lines that count for others only once the file's
outcome is recorded.

A batch commits a file's history lines when it judges the file (its reports need
the findings), long before the ledger records the file's outcome.  A batch killed
in between leaves lines of a file that never happened: its next start (or
another host that takes the same content) takes them out, and the file is
checked again.  Had another batch judged a file against those lines meanwhile,
no order of the files one after the other would give its findings (issue 26:
a second dose judged after a first dose that later went away and came back
after it).

So every file a batch writes names the batch as its ``holder`` until the ledger
records its outcome (:func:`finish_file`, in the ledger's own transaction when
the history lives in the ledger: the lines count exactly when the outcome is
recorded, a step no recovery undoes).  A held file's lines count for its holder
only.  Another batch that needs them (a line of a patient it is judging) waits
while the holder lives (:class:`HistoryHeld`: the file is judged again later),
and never sees them once it is dead (they are taken out when the file is
abandoned).  Each file is therefore judged against exactly the files whose
outcome was recorded before, and the files of the batch that judged them: the
order in which the batches' files were judged, the abandoned ones checked again
later, is an order of one after the other.

A holder is alive while its batch runs: on PostgreSQL, it holds its name's
session lock (``pgdb``: the server drops it with a killed process's
connection); on SQLite (one host), the holder is ``HOST:OUTDIR`` and the batch
holds OUTDIR's lock file (``batch.locks``: the kernel drops it).

`check --history` holds no file: it holds the store's write lock for its whole
run, so it cannot wait for a batch in the middle (the batch needs that lock to
finish its file).  It waits before it begins instead, until no live batch holds
a file (:func:`wait_for_holders`).

`history forget-file` of a file a live batch holds (judged, outcome not yet
recorded) waits the same way, for that file only (:func:`wait_for_file`): taken
out under the batch, its lines would be gone while the ledger then records the
file as reported, with its queue entries.

A store written by an older edi837 holds no holder (NULL): its files count.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .store import HistoryStore

OUTDIR_LOCK = ".batch.lock"  # edi837.batch.locks.LOCK_NAME, held while a batch runs
POLL = 0.2  # seconds between two looks at the holders a `check` waits for


class HistoryHeld(Exception):
    """A line the file being judged needs belongs to a file that another live batch
    (``holder``) has not finished: judge the file again once it has."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def warn_waiting(message: str) -> None:
    """What a store tells while another process holds it (HistoryStore.waiting): said
    on the "edi837.history" logger (logging imported only when there is something to
    say: a check that waits for nobody does not load it).  A library prints nothing of
    its own: the "edi837" logger has a NullHandler, so a program that configured no
    logging does not get the record on stderr (logging's last resort)."""
    import logging

    top = logging.getLogger("edi837")
    if not any(isinstance(handler, logging.NullHandler) for handler in top.handlers):
        top.addHandler(logging.NullHandler())
    logging.getLogger("edi837.history").warning(message)


def held_files(store: HistoryStore, files: set[int]) -> set[int]:
    """Of these files (ids), those held by a batch that is dead: their lines do not
    count.  HistoryHeld if one is held by a live batch other than the store's."""
    hidden: set[int] = set()
    if not files or not store.persistent:  # (a run's own history: nobody else's)
        return hidden
    ids = sorted(files)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        for file, holder in store._query(
                f"SELECT id, holder FROM history_files WHERE id IN "
                f"({', '.join('?' * len(part))}) AND holder IS NOT NULL", part).fetchall():
            if holder == store.holder:
                continue  # the store's own batch: its earlier files count for it
            if store.alive(holder):
                raise HistoryHeld(holder)
            hidden.add(file)  # its batch died: abandoned, checked again later
    return hidden


def abort_file(store: HistoryStore) -> None:
    """Give up judging the file the store has begun (:class:`HistoryHeld`): nothing
    of it stays; the caller judges it again later."""
    store._origins.clear()
    store._row_files = {}
    if store._file is None:
        return
    store._file = None
    if not store._savepoint:
        store._rollback()
    elif store.db.in_transaction:
        store.db.execute("ROLLBACK TO history_file")
        store.db.execute("RELEASE history_file")


def finish_file(store: HistoryStore, sha256: str, run_id: str) -> int:
    """The batch recorded the outcome of this file of its run: its lines count for
    every process from now on (in the caller's transaction)."""
    return store.db.execute("UPDATE history_files SET holder = NULL WHERE sha256 = ? AND "
                            "run_id = ? AND holder IS NOT NULL",
                            (sha256.lower(), run_id)).rowcount


def this_host(out: str | os.PathLike) -> str:
    """The holder name of a batch on OUTDIR ``out`` of this host (a SQLite store)."""
    import socket  # (only a batch names itself: a check does not load it)

    return f"{socket.gethostname()}:{os.path.abspath(out)}"


def _outdir_held(holder: str) -> bool:
    """Whether the batch ``HOST:OUTDIR`` runs (holds OUTDIR's lock), or is on another
    host (a SQLite store has one host: never expected; assumed alive)."""
    import fcntl
    import socket

    host, _, out = holder.partition(":")
    if host != socket.gethostname():
        return True
    try:
        fd = os.open(os.path.join(out, OUTDIR_LOCK), os.O_RDONLY)
    except OSError:  # never started there, or gone
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False  # (released with the descriptor)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def alive_for(db) -> Callable[[str], bool]:
    """How to tell whether a holder of files in the store on ``db`` is alive."""
    return getattr(db, "alive", _outdir_held)


def wait_for_holders(store: HistoryStore) -> None:
    """Take the store's write lock once no live batch (other than the store's own)
    holds a file; say so once when waiting."""
    said = False
    while True:
        store._begin()
        holders = {holder for (holder,) in store._query(
            "SELECT DISTINCT holder FROM history_files WHERE holder IS NOT NULL")}
        live = sorted(h for h in holders - {store.holder} if store.alive(h))
        if not live:
            return
        store._rollback()
        if not said:
            store.waiting(f"{store.where}: waiting for another edi837 batch ({live[0]}) to "
                          "finish the files it holds")
            said = True
        time.sleep(POLL)


def wait_for_file(store: HistoryStore, sha256: str) -> None:
    """Take the store's write lock once no live batch (other than the store's own)
    holds the file with this SHA-256 (`history forget-file`); say once, naming the
    batch and its run, that it waits."""
    said = False
    while True:
        store._begin()
        held = [(holder, run_id) for holder, run_id in store._query(
            "SELECT holder, run_id FROM history_files WHERE sha256 = ? AND holder IS NOT "
            "NULL ORDER BY id", (sha256,)).fetchall()
            if holder != store.holder and store.alive(holder)]
        if not held:
            return
        store._rollback()
        if not said:
            holder, run_id = held[0]
            store.waiting(f"{store.where}: file {sha256} is held by the edi837 batch "
                          f"{holder} (run {run_id}), which has not recorded its outcome "
                          "yet: waiting for it")
            said = True
        time.sleep(POLL)
