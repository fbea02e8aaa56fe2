"""What the batch driver needs before its first file: its tables, its progress bar."""
from __future__ import annotations

import sys

from .options import BatchError, BatchOptions


def tables(options: BatchOptions):
    """The drug table the driver judges the history with, and the imported
    reference data the run uses (the workers open the same import snapshot)."""
    from ..drugs import DrugTableError, load_drug_table
    from ..refdata import RefDataError, reference_for

    try:
        reference = reference_for(options.refdata)
        return load_drug_table(list(options.drug_tables), refdata=reference), reference
    except DrugTableError as exc:
        raise BatchError(*exc.lines) from None
    except RefDataError as exc:
        raise BatchError(str(exc)) from None


def progress_bar(wanted: bool, length: int):
    """A click progress bar on stderr, or nothing."""
    import contextlib

    import click

    if wanted and length:
        return click.progressbar(length=length, label="edi837 batch", file=sys.stderr)
    return contextlib.nullcontext(None)
