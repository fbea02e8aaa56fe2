"""The history store on PostgreSQL (``--history postgresql://...``): the store on the
connection :mod:`edi837.pgdb` gives (the seam the batch ledger shares)."""
from __future__ import annotations

from ..pgdb import (
    SCHEMES,
    PgConnection,
    PgError,
    StoreGone,
    connect,
    is_url,
    masked,
    not_a_store,
    open_database,
)

__all__ = ["SCHEMES", "PgConnection", "PgError", "StoreGone", "connect", "is_url", "masked",
           "not_a_store", "open_database", "open_store"]


def open_store(kind, url: str, key: bytes, *, read_only: bool):
    """A :class:`~edi837.history.store.HistoryStore` (``kind``) on the server at ``url``."""
    from ..dbfiles import DatabaseRefused
    from .store import HISTORY_TABLES, HistoryStoreError

    try:
        db = open_database(url, what="history store", mine=HISTORY_TABLES,
                           read_only=read_only)
    except DatabaseRefused as exc:
        raise HistoryStoreError(str(exc)) from None
    try:
        return kind(db, key, persistent=True, where=db.where, read_only=read_only)
    except BaseException:
        db.close()
        raise
