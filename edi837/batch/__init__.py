"""Unattended batches over a drop folder: what `edi837 batch` runs.

A run takes every settled file in the inbox, checks it (and validates, fixes
or splits it when asked), writes its reports under ``OUTDIR/<run-id>/``, then
moves it to the archive, or to the quarantine with a ``<name>.reason.txt``
when ``edi837 check`` calls it unreadable (not X12, no 837 in it, an
interchange cut short), or when edi837 itself fails on it.  Inbox entries it
will not read (links, FIFOs, devices, files over the size cap) are skipped,
with the reason, and left where they are.  One bad file never stops the
batch; a disk that cannot be written does (safely: the next start repairs).
Each run ends with one summary (``summary.json``, ``summary.html``) listing
every file and its outcome.  ``--watch`` repeats this every few seconds,
each poll that finds work being a run of its own.  A SQLite ledger in OUTDIR
remembers every input by content, so every file is processed exactly once
however often runs are killed.

The modules, in the order a file meets them:

``inbox``      which entries are inputs, and when an upload is complete
``locks``      one batch at a time per OUTDIR and per inbox
``ledger``     the run ledger, the order of operations, recovery after a crash
``run``        one file: check, reports, corrected EDI (what a worker does)
``executors``  where files are checked: this process or local worker processes
``archive``    record an outcome, then reason file, move, marker, done
``objects``    an inbox, archive and quarantine in an object store (s3://): copy, delete
``summary``    summary.json and summary.html of a run
``driver``     the Batch: open, lock, recover, scan, process, finish
``durable``    file-system steps that survive a crash (fsync, mkdir, temp names)
``names``      file names shown escaped, stored safely, derived short enough
``options``    BatchOptions, stop signals, option checks
"""
from .driver import Batch, run_batch
from .ledger import LEDGER_NAME, Ledger, iter_inputs
from .names import shown
from .options import (
                      EXIT_FINDINGS,
                      EXIT_OK,
                      EXIT_TROUBLE,
                      BatchError,
                      BatchOptions,
                      StopFlag,
                      handle_stop_signals,
)

__all__ = ["Batch", "BatchError", "BatchOptions", "EXIT_FINDINGS", "EXIT_OK", "EXIT_TROUBLE",
           "LEDGER_NAME", "Ledger", "StopFlag", "handle_stop_signals", "iter_inputs",
           "run_batch", "shown"]
