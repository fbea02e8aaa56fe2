"""The batch's patient history: opened once, judged in the driver, in input order.

By default the history lives in the ledger's own database (``ledger.sqlite3``):
a file's history rows are committed when the driver judges the file, in one
transaction, and a file the run does not finish (killed, worker lost,
changed) is forgotten with its rows (``Ledger.forget``), so recovery never
counts a file twice or half.  ``--history FILE`` keeps it in a store of its
own (undone the same way, in two steps); ``--no-history`` gives each run a
history of its own files only.  Lines past ``--history-days`` are pruned when a
run ends (:meth:`BatchHistory.prune`), never by a run that did not.

Workers only check: they hash patients with the history's key and hand the
records of the drug claims to the driver (``run``); the driver alone reads
and writes the history, one file at a time, in the order files were taken.

Several batches on one history (hosts on a PostgreSQL ledger or history,
batches of one host on a SQLite ``--history FILE``): the lines a batch commits
when it judges a file are held by it (``history.holders``) until the ledger
records the file's outcome (``Ledger.report``); another batch whose file needs
them waits for that (:meth:`judge` returns None: judged again later), or never
sees them if the batch died.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..history import (
    HistoryKeyError,
    HistoryStage,
    HistoryStore,
    HistoryStoreError,
    default_key_path,
    load_key,
)
from ..history.handover import dump_findings, read_records
from ..history.holders import HistoryHeld, abort_file, this_host
from ..rules import stage_rules
from .ledger import Ledger
from .names import shown
from .options import BatchError, BatchOptions
from .run import HISTORY, RECORDS

log = logging.getLogger("edi837.batch")


class BatchHistory:
    """The history the driver keeps for a batch (one per OUTDIR while it is open)."""

    def __init__(self, options: BatchOptions, ledger: Ledger, table, config) -> None:
        self.options = options
        self.ledger = ledger
        self.table = table
        self.config = config
        self.key = b""
        self.store: HistoryStore | None = None
        self.stage: HistoryStage | None = None
        self.held: str | None = None  # the batch the last file judged waits for

    @property
    def persistent(self) -> bool:
        return self.options.history

    def open(self) -> None:
        """Load (or create) the key and open the store; refuse a store written with
        another key.  Without a lasting history there is nothing to open."""
        options = self.options
        if not options.history:
            import secrets

            self.key = secrets.token_bytes(32)  # a run's own history: any key will do
            return
        key_file = options.history_key or default_key_path()
        created = not Path(key_file).exists()
        try:
            self.key = load_key(key_file)
            if options.history_path is None or str(options.history_path) == options.ledger:
                # in the ledger's database (shared ledger: its connection, its lock)
                self.store = HistoryStore(self.ledger.db, self.key, persistent=True,
                                          owns_connection=False, where=self.ledger.where)
                self.store.waiting = log.warning
            else:
                self.store = HistoryStore.open(options.history_path, self.key)
                self.store.waiting = log.warning  # another process writing it: wait
        except (HistoryKeyError, HistoryStoreError) as exc:
            raise BatchError(str(exc)) from None
        self._hold(self.store)
        if created:
            log.warning("created history key %s (mode 0600): back it up; the history cannot "
                        "be read with another key", shown(str(key_file)))
        self.ledger.history = self.store

    def prune(self) -> None:
        """Prune the lasting history to --history-days, once a run has ended (its files
        recorded, :meth:`Batch.run_once`): a batch killed or stopped by a failure before
        leaves the store as it was (as `check --history`, whose prune commits with its
        run), and the log says so only once it is committed."""
        if self.store is None:
            return
        days = self.options.history_days
        try:
            pruned = self.store.prune(days)
        except HistoryStoreError as exc:
            raise BatchError(str(exc)) from None
        if pruned:
            log.info("history: %d line%s older than %d days pruned", pruned,
                     "" if pruned == 1 else "s", days)

    def _hold(self, store: HistoryStore) -> None:
        """Name this batch in the files it writes (``history.holders``): its owner on a
        PostgreSQL server, whose name its connection holds while it runs; on SQLite
        (one host) its OUTDIR, whose lock it holds."""
        db, ledger = store.db, self.ledger
        if not hasattr(db, "alive"):
            store.holder = this_host(self.options.out)
            return
        store.holder = ledger.owner if ledger.shared else this_host(self.options.out)
        if db is not ledger.db and not db.hold(store.holder):
            raise BatchError(f"{store.where}: another edi837 batch of the same OUTDIR "
                             f"({store.holder}) is using this history")

    def begin_run(self, run_id: str) -> None:
        """A stage for this run (its rows carry the run id; recovery undoes by it)."""
        store = self.store
        if store is None:
            if self.stage is not None:
                self.stage.store.close()
            store = HistoryStore.ephemeral()
        self.stage = HistoryStage(store, self.table, self.config, rules=stage_rules(),
                                  run_id=run_id)

    def judge(self, work_dir: Path, sha256: str, *, readable: bool) -> int | None:
        """Judge a checked file's claims (its records in ``work_dir``) against the
        history, commit its lines (an unreadable file forwards nothing), and leave
        the findings in ``work_dir`` for its reports.  Returns how many; None when
        it needs lines of a file another live batch holds (:attr:`held`): nothing
        of it was kept, judge it again later."""
        stage = self.stage
        records = read_records(work_dir / RECORDS) if (work_dir / RECORDS).exists() else ()
        # written as judged, a window at a time: never all of a file's findings at once
        findings = stage.judge_file(records, sha256, keep=readable)
        try:
            if stage.store.db is self.ledger.db:
                with self.ledger.transaction():  # the stage works in a savepoint of it
                    return dump_findings(findings, work_dir / HISTORY)
            return dump_findings(findings, work_dir / HISTORY)
        except HistoryHeld as held:
            abort_file(stage.store)
            self.held = held.holder
            return None

    def close(self) -> None:
        if self.stage is not None and self.store is None:
            self.stage.store.close()
        if self.store is not None:
            self.store.close()
        self.ledger.history = None
        self.stage = self.store = None
