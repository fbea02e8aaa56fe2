"""`edi837 refdata import`: recognise each CMS file by its content and store it, all or nothing.

A file is recognised by its header (or, for the ICD-10-CM order file, its
fixed-width lines), never by its name: CMS renames files between quarters
and users rename downloads.  The date a file takes effect comes from
``--effective``, else its title rows ("April 2026 ASP Pricing File",
"Effective 10/01/2026"), else its name (`..._Eff_10-01-2026.csv`); the
ICD-10-CM order file carries no year, so it needs ``--effective``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from . import crosswalk, fda_ndc, hcpcs, icd10cm, mue, pricing
from .limits import limits
from .rows import Problems
from .sources import DEFAULT_CAPS, Caps, Skipped, Source, decode, sources
from .store import ImportTransaction
from .tabular import NotRecognised, RefDataError, Table, effective_date, find_table, is_preliminary

# Checked in this order: the crosswalk's columns are the most specific.
_TABULAR = (crosswalk, mue, pricing, hcpcs, fda_ndc)
KINDS = {**crosswalk.KINDS, **pricing.KINDS, **mue.KINDS, **icd10cm.KINDS, **hcpcs.KINDS,
         **fda_ndc.KINDS}
EXPECTED = "; or ".join(module.EXPECTS for module in (*_TABULAR, icd10cm))


def _layouts(module: ModuleType) -> tuple:
    return getattr(module, "LAYOUTS", None) or (module.LAYOUT,)


@dataclass(frozen=True)
class Outcome:
    """What became of one file (or ZIP member)."""

    name: str
    result: str  # imported, unchanged, skipped
    kind: str | None = None
    effective_from: dt.date | None = None
    status: str = "final"
    rows: int = 0
    skipped: int = 0
    note: str = ""

    @property
    def title(self) -> str:
        return KINDS.get(self.kind, self.kind or "")

    def describe(self) -> str:
        if self.result == "skipped":
            return f"{self.name}: skipped: {self.note}"
        what = (f"{self.name}: {self.title}, effective {self.effective_from} ({self.status}"
                f"{', ' + self.note if self.note else ''})")
        if self.result == "unchanged":
            return f"{what}: already imported, nothing changed"
        alternate = f", {self.skipped} other rows skipped" if self.skipped else ""
        return f"{what}: {self.rows} rows imported{alternate}"


def import_files(paths: Iterable[Path], directory: Path, *, effective: dt.date | None = None,
                 kind: str | None = None, force: bool = False,
                 caps: Caps = DEFAULT_CAPS) -> list[Outcome]:
    """Import every file (and every table inside a ZIP) into the store in ``directory``.

    All or nothing: the first file that cannot be imported raises
    :class:`RefDataError` naming it, and no file of the call is kept.  Inside
    a ZIP, members that are not CMS tables edi837 reads (PDF notes, Excel
    copies, read-me texts, the AWP crosswalk) are listed as skipped; a ZIP
    with no table edi837 reads is refused.
    ``effective`` overrides the date each file's content or name gives;
    ``kind`` says what the files are when their content leaves it open (an
    OPPS crosswalk whose title does not say OPPS).  An ICD-10-CM order file
    with far fewer billable codes than a release (``[icd10cm] min_billable`` of limits.toml) is
    refused unless ``force``: every code it lacks would become DX002.  ``caps``: how
    far a ZIP member may inflate (:mod:`.sources`: members are streamed, never read
    whole).
    """
    outcomes: list[Outcome] = []
    with ImportTransaction(directory) as store:
        for path in paths:
            found = []
            for source in sources(Path(path), caps):
                if isinstance(source, Skipped):
                    found.append(Outcome(source.name, "skipped", note=source.reason))
                    continue
                found.append(_import(store, source, effective, kind, inside_zip=source.name
                                     != str(path), force=force))
            if not any(o.result != "skipped" for o in found):
                listed = ", ".join(o.name.rsplit("!", 1)[-1] for o in found) or "nothing"
                raise RefDataError(str(path), f"holds no file edi837 recognises (found: {listed});"
                                              f" expected {EXPECTED}")
            outcomes += found
    return outcomes


@dataclass(frozen=True)
class _Recognised:
    kind: str  # a key of KINDS, or of an importer's UNUSED
    module: ModuleType  # the importer
    table: Table | None  # where the header is (None: the fixed-width order file)
    texts: tuple[str, ...] = ()  # the title rows, then the names: where dates are read
    unused: str | None = None  # what the file is, when no rule reads it


def _recognise(source: Source, text: str, wanted: str | None) -> _Recognised:
    """What a file is, from its header (or fixed-width lines) only."""
    table = find_table(text, tuple(layout for module in _TABULAR for layout in _layouts(module)))
    if table is None:
        if icd10cm.recognise(text):
            return _Recognised("icd10cm", icd10cm, None)
        raise NotRecognised(source.name, f"not a file edi837 recognises: expected {EXPECTED}")
    module = next(m for m in _TABULAR if table.layout in _layouts(m))
    texts = (" ".join(table.preamble), *source.names)
    if module is crosswalk:  # the four crosswalks share their columns: the title tells them
        kind = wanted if wanted in crosswalk.KINDS else crosswalk.variant(texts)
    elif module is mue:  # the value column names the setting
        kind = mue.variant(table.heading("value")) or (wanted if wanted in mue.KINDS else "")
        if not kind:
            raise RefDataError(source.name, "an MUE file, but its value column does not say "
                                            "practitioner or outpatient hospital: give --kind "
                                            "mue-practitioner or --kind mue-outpatient")
    elif module is fda_ndc:
        kind = fda_ndc.kind(table)
    elif module is hcpcs:
        kind = "hcpcs"
    else:
        kind = "asp-pricing"
    return _Recognised(kind, module, table, texts, getattr(module, "UNUSED", {}).get(kind))


def _import(store: ImportTransaction, source: Source, effective: dt.date | None,
            wanted: str | None, *, inside_zip: bool, force: bool = False) -> Outcome:
    try:
        text = decode(source)
        found = _recognise(source, text.head, wanted)
    except NotRecognised as error:
        if not inside_zip:
            raise
        # CMS ZIPs also hold read-me texts and tables no rule reads (the NOC pricing
        # file): listed as skipped; a ZIP with nothing recognised is refused below.
        return Outcome(source.name, "skipped", note=f"not recognised ({error.problem})")
    kind = found.kind
    if found.unused:
        if inside_zip:
            return Outcome(source.name, "skipped", note=f"{found.unused}: not used by edi837")
        raise RefDataError(source.name, f"is the {found.unused}, which edi837 does not use")
    if wanted and wanted != kind:
        raise RefDataError(source.name, f"is {KINDS[kind]}, not {KINDS[wanted]} (--kind)")
    if kind == "icd10cm" and effective is None:
        raise RefDataError(source.name, "an ICD-10-CM order file, which does not carry its "
                                        "year: give --effective DATE (2025-10-01 for FY2026, "
                                        "or the date of an April update)")
    start, where = _effective(effective, found.texts)
    if start is None and hasattr(found.module, "effective"):
        start, where = found.module.effective(found.texts), "the file name"
    if start is None and getattr(found.module, "SNAPSHOT", False):
        # a snapshot that records history (the FDA NDC Directory): dated by its first import
        earlier = store.existing(kind, source.sha256)
        start = earlier.effective_from if earlier is not None else dt.date.today()
        where = "the day of its import (a snapshot)"
    if start is None:
        raise RefDataError(source.name, f"{KINDS[kind]}, but neither its title rows nor its name "
                                        "say when it takes effect: give --effective DATE")
    limits().check_effective(source.name, start)
    status = "preliminary" if is_preliminary(found.texts) else "final"
    note = f"date from {where}" if where != "--effective" else ""
    previous = store.existing(kind, source.sha256, start)
    if previous is not None:
        return Outcome(source.name, "unchanged", kind, start, previous.status, previous.rows,
                       previous.skipped, note)
    problems = Problems(source.name)
    file_id = store.add_file(kind, source.name, source.sha256, start, status)
    facts = found.module.rows(found.table, text, problems) if found.table is not None else \
        found.module.rows(text, problems)
    billable = [0]
    if kind == "icd10cm":
        facts = icd10cm.counting_billable(facts, billable)
    count = store.add_rows(found.module.TABLE, file_id, facts)
    problems.check()
    if count == 0:
        raise RefDataError(source.name, f"{KINDS[kind]} with no rows to import")
    if kind == "icd10cm" and billable[0] < icd10cm.min_billable() and not force:
        raise RefDataError(source.name, icd10cm.too_small(billable[0]))
    store.set_counts(file_id, count, problems.skipped)
    return Outcome(source.name, "imported", kind, start, status, count, problems.skipped, note)


def _effective(given: dt.date | None, texts: tuple[str, ...]) -> tuple[dt.date | None, str]:
    if given is not None:
        return given, "--effective"
    for text, where in zip(texts, ("the title rows",) + ("the file name",) * (len(texts) - 1),
                           strict=True):
        found = effective_date(text)
        if found is not None:
            return found, where
    return None, ""

