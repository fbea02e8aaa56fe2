"""Reference data from CMS: import the quarterly files, keep every version, judge claims by date.

CMS republishes the facts a payer applies: the ASP and OPPS NDC-HCPCS
crosswalks and the ASP pricing file each quarter, the MUE tables each
quarter, the ICD-10-CM code files each October (and some Aprils).
``edi837 refdata import FILE...`` recognises each file by its content and
keeps it, with its name, SHA-256, effective date and import time, in a
store (:mod:`.store`); the rules read it through the drug table
(``DrugTable.with_reference``), by date of service (:mod:`.reference`).

Modules: :mod:`.tabular` (reading what CMS ships: preamble rows, drifting
column names, CSV or tab text, ZIPs), one importer per kind of file
(:mod:`.crosswalk`, :mod:`.pricing`, :mod:`.mue`, :mod:`.icd10cm`),
:mod:`.importer` (recognise and import, all or nothing), :mod:`.store` and
:mod:`.reference`.  Where the store lives: :func:`default_directory`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import RefDataError

if TYPE_CHECKING:  # loaded when first used (below)
    from .reference import Reference

ENVIRONMENT = "EDI837_REFDATA"
STORE_NAME = "refdata.sqlite3"  # the store's file in its folder


def store_path(directory: Path) -> Path:
    """The store's file in ``directory`` (here, not in .store: a `check` asking whether
    there is reference data at all imports no store code)."""
    return Path(directory) / STORE_NAME

# Loaded when first used: a `check` with no reference data reads no store and imports
# none of this (the importer's parsers of CMS files least of all).
_LAZY = {"KINDS": "importer", "Outcome": "importer", "import_files": "importer",
         "CrosswalkEntry": "reference", "ImportedFile": "reference", "IcdCode": "reference",
         "Mue": "reference", "PaymentLimit": "reference", "Reference": "reference",
         "open_reference": "reference"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def default_directory() -> tuple[Path, bool]:
    """Where the store is when ``--refdata`` is not given, and whether someone chose it.

    ``$EDI837_REFDATA`` (chosen: it must hold reference data), else
    ``${XDG_DATA_HOME:-~/.local/share}/edi837/refdata`` (used when present).
    """
    chosen = os.environ.get(ENVIRONMENT)
    if chosen:
        return Path(chosen), True
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "edi837" / "refdata", False


def reference_for(directory: Path | None) -> Reference | None:
    """The reference data a command uses: ``directory`` when given (it must hold some), else
    the default folder's when it has any (see :func:`default_directory`)."""
    if directory is not None:
        from .reference import open_reference

        return open_reference(Path(directory))
    directory, chosen = default_directory()
    if not chosen and not store_path(directory).is_file():
        return None
    from .reference import open_reference

    return open_reference(directory)


__all__ = ["CrosswalkEntry", "ENVIRONMENT", "IcdCode", "ImportedFile", "KINDS", "Mue",
           "Outcome", "PaymentLimit", "RefDataError", "Reference", "STORE_NAME",
           "default_directory", "import_files", "open_reference", "reference_for", "store_path"]
