"""The Dask worker plugin that gives every worker the patient history's key once.

Registered once per client (``cluster.register_key``); the scheduler keeps it in
memory and runs it on every worker, those that join later too, over the same
connection (tls:// on a network) as the tasks.  Imported only with Dask.
"""
from __future__ import annotations

from distributed import WorkerPlugin

from . import keys


class HistoryKey(WorkerPlugin):
    def __init__(self, key: bytes) -> None:
        from ..history.identity import fingerprint

        self.key = key
        self.name = f"edi837-history-key-{fingerprint(key)}"

    def setup(self, worker) -> None:
        keys.install(self.key)
