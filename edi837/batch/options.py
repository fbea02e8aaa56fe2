"""What a batch is asked to do, and how it is asked to stop."""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import Config
from ..history.pg import is_url
from ..locations import Url
from ..locations import is_url as is_location_url
from .inbox import DEFAULT_MAX_SIZE
from .names import shown

EXIT_OK, EXIT_FINDINGS, EXIT_TROUBLE = 0, 1, 2


class BatchError(Exception):
    """A problem that stops the batch before it starts (exit status 2).  ``lines``:
    one message per problem (a drug table can have several), logged one a line."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class BatchOptions:
    inbox: Path
    out: Path
    archive: Path | None = None  # default OUTDIR/archive
    quarantine: Path | None = None  # default OUTDIR/quarantine
    formats: tuple[str, ...] = ("json",)  # per-file report formats (the report registry's names)
    fix: bool = False
    split: bool = False  # implies fix: edi837.fix writes accepted/held files
    # --split: the counter file the split files' ISA13/GS06 are taken from (None: the input's)
    control_numbers: Path | None = None
    validate: bool = False
    select: tuple[str, ...] = ()  # for fix_file; the config already carries them for checks
    ignore: tuple[str, ...] = ()
    drug_tables: tuple[Path, ...] = ()
    config: Config = field(default_factory=Config)
    jobs: int = 1
    settle: float = 30.0
    marker: str | None = None  # e.g. ".done": take NAME only when NAME.done exists
    reprocess: bool = False
    interval: float = 10.0  # --watch: seconds between polls
    progress: bool = False  # click progress bar on stderr (only on a terminal)
    lock_wait: float = 5.0  # seconds to wait for another batch on the same folders to end
    max_size: int = DEFAULT_MAX_SIZE  # bytes; a larger inbox file is skipped, not read
    ack277: bool = False  # write a 999 and a 277CA beside each checked file's reports
    history: bool = True  # keep a patient history across runs (False: this run's only)
    history_path: Path | None = None  # default: the ledger's own database
    ledger: str | None = None  # a postgresql:// URL shared by batch hosts (default OUTDIR's file)
    history_key: Path | None = None  # default: the per-user key
    history_days: int = 400  # retention by date of service; 0 keeps everything
    no_new_stores: bool = False  # refuse to start rather than make a ledger or history store
    refdata: Path | None = None  # imported CMS reference data (default: the per-user folder)
    dask: str | None = None  # a Dask scheduler (tls://, tcp://) or local[:N]: jobs run there
    insecure: bool = False  # allow a tcp:// scheduler that is not on this machine

    def absolute(self) -> "BatchOptions":
        """These options with every path absolute (as of this process's working folder):
        workers, a cluster's among them, may run in another folder."""
        def whole(path):
            if isinstance(path, str) and is_location_url(path):  # an object store's
                return Url(path)
            return None if path is None else Path(os.path.abspath(path))

        return replace(self, inbox=whole(self.inbox), out=whole(self.out),
                       archive=whole(self.archive), quarantine=whole(self.quarantine),
                       drug_tables=tuple(map(whole, self.drug_tables)),
                       history_path=(self.history_path if is_url(self.history_path)
                                     else whole(self.history_path)),
                       history_key=whole(self.history_key), refdata=whole(self.refdata),
                       control_numbers=whole(self.control_numbers))

    @property
    def archive_dir(self) -> Path:
        return self.archive or self._beside_inbox("archive") or self.out / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.quarantine or self._beside_inbox("quarantine") or self.out / "quarantine"

    def _beside_inbox(self, name: str) -> Url | None:
        """An inbox in an object store archives beside itself: ``<inbox>/../NAME``."""
        if not (isinstance(self.inbox, str) and is_location_url(self.inbox)):
            return None
        inbox = Url(self.inbox.rstrip("/"))
        return inbox.parent / name if "/" in inbox.split("://", 1)[1] else None


class StopFlag:
    """Set by SIGTERM/SIGINT: the file(s) in hand are finished, nothing new is taken."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.noted = False

    def set(self, signum: int = signal.SIGTERM) -> None:
        self.signal = signum

    def __bool__(self) -> bool:
        return self.signal is not None


def handle_stop_signals(flag: StopFlag):
    """SIGTERM and SIGINT set ``flag``; a second one stops at once (crash-safe anyway).
    Returns a function that puts the previous handlers back."""
    def handler(signum, frame):  # signal handler signature
        if flag:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        flag.set(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def is_within(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or below it, links resolved (``path`` need not exist)."""
    inner, outer = os.path.realpath(path), os.path.realpath(folder)
    return inner == outer or inner.startswith(outer.rstrip(os.sep) + os.sep)


def _check_folders(options: BatchOptions) -> None:
    if not options.inbox.is_dir():
        raise BatchError(f"inbox {shown(str(options.inbox))} is not a folder")
    if os.path.realpath(options.inbox) == os.path.realpath(options.out):
        raise BatchError("the output folder must not be the inbox")
    for what, folder in (("output folder (--out)", options.out),
                         ("archive (--archive)", options.archive_dir),
                         ("quarantine (--quarantine)", options.quarantine_dir)):
        if is_within(folder, options.inbox):
            # its files would be taken again as inputs, or hidden from the scan
            raise BatchError(f"the {what} {shown(str(folder))} is inside the inbox "
                             f"{shown(str(options.inbox))}; put it beside the inbox")


def _check_stores_exist(options: BatchOptions) -> None:
    """--no-new-stores: a ledger or --history store that is not there yet is refused
    (a mistyped --out or --history), before OUTDIR is made."""
    from .ledger_db import LEDGER_NAME

    stores = [] if options.ledger else [("the ledger", options.out / LEDGER_NAME, "--out")]
    if options.history and options.history_path is not None \
            and not is_location_url(options.history_path):
        stores.append(("the history store", Path(options.history_path), "--history"))
    for what, path, option in stores:
        if not path.exists():
            raise BatchError(f"{path}: {what} does not exist, and --no-new-stores refuses to "
                             f"make it: a mistyped {option}? (start once without "
                             "--no-new-stores to make a new one)")


def check_options(options: BatchOptions) -> None:
    """Refuse options that cannot work, before anything is locked or moved."""
    import importlib.util

    if any(is_location_url(where) for where in (options.inbox, options.archive,
                                                 options.quarantine)):
        from .objects import check_store_options

        check_store_options(options, BatchError)  # an object store's inbox
    else:
        _check_folders(options)
    if options.dask is not None:
        from ..parallel.cluster import ClusterError, check_address, require_dask

        try:
            check_address(options.dask, options.insecure)
            require_dask()
        except ClusterError as exc:
            raise BatchError(str(exc)) from None
    if options.max_size < 1:
        raise BatchError("--max-size must be at least 1 byte")
    if options.no_new_stores:
        _check_stores_exist(options)
    from ..reports import load_writers

    writers = load_writers()
    unknown = [f for f in options.formats if f not in writers]
    if unknown:
        raise BatchError(f"unknown report format {', '.join(unknown)}; choose from "
                         f"{', '.join(sorted(writers))}")
    for wanted, module, option in ((options.validate, "edi837.validate", "--validate"),
                                   (options.fix or options.split, "edi837.fix",
                                    "--fix/--split")):
        if wanted and importlib.util.find_spec(module) is None:
            raise BatchError(f"{option} needs {module}, which this edi837 does not have")
    if options.control_numbers is not None:
        _check_counter(options)
    if options.validate:
        from ..validate import Pyx12Missing, require_pyx12

        try:
            require_pyx12()
        except Pyx12Missing as exc:  # refuse now, not file by file into quarantine
            raise BatchError(str(exc)) from None


def _check_counter(options: BatchOptions) -> None:
    """--control-numbers: with --split only, and a counter that can be used (read and
    locked now: a broken one stops the batch before any file is taken)."""
    if not options.split:
        raise BatchError("--control-numbers renumbers the split files: give --split")
    from ..x12.control import ControlNumberError, ControlNumbers

    try:
        ControlNumbers(options.control_numbers).last()
    except ControlNumberError as exc:
        raise BatchError(str(exc)) from None
