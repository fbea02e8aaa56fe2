"""One check run of the Python API (:mod:`edi837.api`): the engine, the patient
history the run holds, the report being built, and :class:`FindingStream`, the
findings :func:`edi837.api.iter_findings` yields.

With a history store, a run is all-or-nothing as `check --history` is: the store is
held from the first file on (:meth:`HistoryStore.begin_run`), the files checked
before come out of it first, and the run's lines are committed only once every
file is checked; a run that stops before (an exception, the stream closed early,
the process killed) leaves the store as it was.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Generator, Iterator

from .arguments import InputError, OptionsError, PathArg, StoreLostError, path_arg
from .arguments import configuration as _config
from .arguments import drug_table as _table
from .arguments import history_days as _days
from .arguments import input_paths as _paths
from .findings import Finding


def check_errors(errors: str) -> None:
    if errors not in ("raise", "report"):
        raise OptionsError(f"errors must be 'raise' or 'report', not {errors!r}")


def open_history(path: str | Path | None, key: str | Path | None, days: int | None):
    """The history store at ``path`` (created when missing), or None; the run prunes it
    to ``days`` in its own transaction (:meth:`CheckRun.files`)."""
    from .history import HistoryKeyError, HistoryStore, HistoryStoreError
    from .history.identity import default_key_path, load_key

    days = _days(days)
    if path is None:
        if key is not None or days is not None:
            raise OptionsError("history_key and history_days need history")
        return None
    path = path_arg(path, "history")
    key = path_arg(key, "history_key") if key is not None else None
    try:
        store = HistoryStore.open(path, load_key(Path(key) if key else default_key_path()))
    except (HistoryKeyError, HistoryStoreError) as exc:
        raise OptionsError(str(exc)) from None
    return store


# the history stores this process's runs hold, each with the thread whose run holds it:
# a run in that same thread would wait for itself forever (an iter_findings on the
# store not finished, then check() on it); a run in another thread waits its turn
_HELD: dict[str, tuple[int, int]] = {}  # store -> (thread, the run: id())


def _store_key(store) -> str:
    where = str(store.where)
    return where if "://" in where else os.path.realpath(where)


def _hold(store, run) -> str:
    """Take the store for this thread's run (:meth:`HistoryStore.begin_run`: waiting,
    with a logging record, while another run holds it); OptionsError when this
    thread's own run holds it already."""
    key = _store_key(store)
    if _HELD.get(key, (None,))[0] == threading.get_ident():
        raise OptionsError(
            f"{store.where}: this thread's own run already holds this history store (an "
            "iter_findings on it not finished or closed): this run would wait for it "
            "forever; finish or close() that stream first")
    store.begin_run()
    _HELD[key] = (threading.get_ident(), id(run))
    return key


class CheckRun:
    """One check run over files: the engine, its history and the report being built."""

    def __init__(self, paths: PathArg, drug_tables, config, select, ignore, refdata, history,
                 history_key, history_days, fast: bool | None, errors: str) -> None:
        from .engine import Engine, Report

        check_errors(errors)
        table = _table(drug_tables, refdata)
        settings = _config(config, select, ignore, table)
        self.inputs = _paths(paths)
        self.store = open_history(history, history_key, history_days)
        self.history_days = _days(history_days)
        self.engine = Engine(table, settings, history=self.store, fast=fast)
        self.errors = errors
        self.report = Report([], table.version, config_source=settings.source,
                             reference_data=table.reference_data())

    def files(self, finish: Callable[[], None] | None = None) -> Generator:
        """Each file's result as it is checked (as Engine.run; the history spans them).

        With a history store the run holds it, as `check --history` does: its lines
        are committed together once every file is checked and ``finish`` has run; a
        run that stops before (an exception, the generator closed early, the process
        killed) leaves the store as it was."""
        from .history import HistoryStoreError

        engine, store = self.engine, self.store
        held = None
        try:
            if store is not None:  # held from the first file to the commit below
                held = _hold(store, self)
                from .history import DEFAULT_DAYS

                # in the run's transaction: a run that stops leaves the store as it was
                store.prune(DEFAULT_DAYS if self.history_days is None else self.history_days)
                engine.take_out_rechecked(self.inputs)
            for path in self.inputs:
                result = engine.check_file(path)
                self.report.files.append(result)
                if result.status == "unreadable" and self.errors == "raise":
                    raise InputError.from_findings(result.path, result.findings)
                yield result
            self.report.finished = time.time()
            self.report.reference_data["history"] = engine.history_facts()
            from .profile_match import unmatched_payer_ids  # a profile that matched nothing

            self.report.notices.extend(engine.config.warnings)  # a profile never applies
            self.report.notices.extend(unmatched_payer_ids(engine.config.profiles, (
                payer_id for result in self.report.files for payer_id in result.payer_ids)))
            if finish is not None:
                finish()
            if store is not None:
                store.commit_run()
        except HistoryStoreError as exc:
            raise OptionsError(str(exc)) from None
        except sqlite3.OperationalError as exc:  # a PostgreSQL store's server went away
            from .pgdb import StoreGone

            if isinstance(exc, StoreGone):
                raise StoreLostError(str(exc)) from None
            raise
        finally:
            if held is not None and _HELD.get(held, (None, None))[1] == id(self):
                del _HELD[held]
            engine.close()
            if self.store is not None:
                self.store.close()


class FindingStream(Iterator[Finding]):
    """:func:`iter_findings`'s findings: an iterator that can be closed (``close()``,
    or a ``with`` block), which ends the run uncommitted when it is not done."""

    __slots__ = ("_findings",)

    def __init__(self, findings: Generator[Finding, None, None]) -> None:
        self._findings = findings

    def __next__(self) -> Finding:
        return next(self._findings)

    def close(self) -> None:
        """Stop here: a history store keeps nothing of this run unless it completed."""
        self._findings.close()

    def __enter__(self) -> FindingStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def stream(run: CheckRun) -> Generator[Finding, None, None]:
    files = run.files()
    try:
        for result in files:
            yield from result.findings
            run.report.files.pop()  # this file's findings may go: only one file is held
    finally:  # stopped early (the caller's loop raised or broke): nothing is committed
        files.close()
