"""The history store's upkeep: what `edi837 history prune|forget-file|stats` and a file
checked again do to a store (edi837.history.store's methods of the same names call
these), apart from the judging path's reads and writes.

* prune: lines past the retention period go, and files left with none;
* forget / forget_file: a file taken out: its lines deleted, the lines its voids and
  replacements had marked as taken out put back;
* stats: counts and dates, never a patient.
"""
from __future__ import annotations

import datetime as dt
import sqlite3

from ..dbfiles import trouble
from .holders import wait_for_file
from .rows import PENDING


def prune(store, days: int, today: dt.date | None = None) -> int:
    """Delete lines whose date of service is more than ``days`` days before
    today; 0 keeps everything.  Returns how many went."""
    if days <= 0:
        return 0
    cutoff = ((today or dt.date.today()) - dt.timedelta(days=days)).strftime("%Y%m%d")
    return delete_lines(store, [("DELETE FROM history_lines WHERE service_date < ?", (cutoff,))])


def _files_where(sha256: str, run_id: str | None, other_than: str | None):
    if run_id is not None:
        return "sha256 = ? AND run_id = ?", (sha256, run_id)
    if other_than is not None:
        return "sha256 = ? AND run_id != ?", (sha256, other_than)
    return "sha256 = ?", (sha256,)


def forget(store, sha256: str, run_id: str | None = None, *,
           other_than: str | None = None) -> int:
    """Take a file out (of one run only, with ``run_id``; of every run but
    ``other_than``), in the caller's transaction: the lines it removed come
    back, the lines it added go."""
    where, parameters = _files_where(sha256, run_id, other_than)
    files = [row[0] for row in store._query(f"SELECT id FROM history_files WHERE {where}",
                                            parameters)]
    if not files:  # (most files: the scans below are the price of a file seen before)
        return 0
    marks = f"({', '.join('?' * len(files))})"
    store.db.execute(f"UPDATE history_lines SET removed_by = NULL WHERE removed_by IN "
                     f"{marks}", files)
    gone = store.db.execute(f"DELETE FROM history_lines WHERE file IN {marks}",
                            files).rowcount
    store.db.execute(f"DELETE FROM history_files WHERE id IN {marks}", files)
    return gone


def files_starting(store, prefix: str, limit: int = 3) -> list[str]:
    """The SHA-256s of stored files that start with ``prefix`` (hex digits: findings
    show the first 12), at most ``limit``."""
    rows = store._query("SELECT sha256 FROM history_files WHERE sha256 LIKE ? AND "
                        "sha256 != ? ORDER BY sha256 LIMIT ?",
                        (prefix.lower() + "%", PENDING, limit)).fetchall()
    return [row[0] for row in rows]


def forget_file(store, sha256: str) -> int:
    """Take out the file with this SHA-256: delete the lines that came from it,
    and put back the lines its voids and replacements removed."""
    # a full scan, which only this rare correction pays (an index on the file
    # would cost every insert of every night)
    sha256 = sha256.lower()
    files = "(SELECT id FROM history_files WHERE sha256 = ?)"
    begun = not (store._run and store.db.in_transaction)
    if begun:  # a batch that holds the file (judged, not reported) finishes it first
        wait_for_file(store, sha256)
    return delete_lines(store, [
        (f"UPDATE history_lines SET removed_by = NULL WHERE removed_by IN {files}",
         (sha256,)),
        (f"DELETE FROM history_lines WHERE file IN {files}", (sha256,))], begun=begun)


def delete_lines(store, statements: list[tuple[str, tuple]], *, begun: bool = False) -> int:
    """Delete lines, and files left with none (that removed none), in one
    transaction (a run's, :meth:`HistoryStore.begin_run`, when it holds one: committed
    with it; ``begun``: the caller's, begun for this, committed here); returns how many
    the last statement deleted."""
    in_run = store._run and store.db.in_transaction and not begun
    if not in_run and not begun:
        store._begin()
    try:
        for statement, parameters in statements:
            gone = store.db.execute(statement, parameters).rowcount
        store.db.execute("DELETE FROM history_files WHERE sha256 != ? AND id NOT IN "
                         "(SELECT DISTINCT file FROM history_lines) AND id NOT IN "
                         "(SELECT DISTINCT removed_by FROM history_lines WHERE "
                         "removed_by IS NOT NULL)", (PENDING,))
    except sqlite3.Error as exc:
        store._rollback()
        from .store import HistoryStoreError

        raise HistoryStoreError(trouble(store.where, exc, "write")) from None
    if not in_run:
        store._commit()
    return gone


def stats(store) -> dict:
    """What the store holds (`history stats`): counts and dates, never a patient."""
    one, live = store._query, store._live
    lines, patients, first, last = one(
        "SELECT COUNT(*), COUNT(DISTINCT patient), MIN(service_date), MAX(service_date) "
        f"FROM history_lines WHERE {live}").fetchone()
    files, runs = one("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM history_files "
                      "WHERE sha256 != ?", (PENDING,)).fetchone()
    by_hcpcs = dict(one(f"SELECT hcpcs, COUNT(*) FROM history_lines WHERE {live} "
                        "GROUP BY hcpcs ORDER BY hcpcs").fetchall())
    last_run = one("SELECT MAX(added) FROM history_files").fetchone()[0]
    meta = dict(one("SELECT name, value FROM history_meta").fetchall())
    return {"lines": lines, "patients": patients, "first_date": first, "last_date": last,
            "files": files, "runs": runs, "lines_by_hcpcs": by_hcpcs,
            "last_added": last_run, "key_fingerprint": meta.get("key_fingerprint"),
            "schema": meta.get("schema")}
