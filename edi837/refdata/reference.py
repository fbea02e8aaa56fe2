"""The imported reference data as the rules read it: facts by code and date of service.

A :class:`Reference` is a read-only snapshot of the store taken when it is
opened: which file of each kind is in force from which date to which.  A
file applies from its effective date until the next file of its kind takes
effect; for one kind and date a final file supersedes a preliminary one,
and a later import supersedes an earlier one.  Before the first file of a
kind there is no imported fact, and the drug table alone decides.

Lookups go to SQLite by (file, code) and are kept in bounded per-process
caches, so a check holds only the codes its claims use (the ICD-10-CM file
has some 74,000) and a batch worker pays each lookup once.
"""
from __future__ import annotations

import bisect
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..model import INSTITUTIONAL, PROFESSIONAL
from .errors import RefDataError
from .limits import limits
from .store import FileRecord, connect_readonly, read_files
from .window import DateWindow

CACHE_LIMIT = 8192  # facts held; a full cache starts over (bounded memory)
# Which file answers for which kind of claim (billing-rules.md §8.4; the issue #16 brief).
CROSSWALK_FOR = {PROFESSIONAL: "asp-crosswalk", INSTITUTIONAL: "opps-crosswalk"}
MUE_FOR = {PROFESSIONAL: "mue-practitioner", INSTITUTIONAL: "mue-outpatient"}
MAI_MEANING = {1: "per claim line", 2: "per date of service, policy",
               3: "per date of service, clinical"}


@dataclass(frozen=True, slots=True)
class ImportedFile:
    """A file in force for a period: what reports name as the source of a fact."""

    id: int
    kind: str
    name: str
    sha256: str
    effective_from: dt.date
    effective_to: dt.date | None  # inclusive; None while no later file of its kind exists
    status: str
    imported_at: str

    @property
    def short_name(self) -> str:
        """The file's own name, without folders ("q2.zip!ASP_crosswalk.csv" ->
        "ASP_crosswalk.csv")."""
        return self.name.replace("\\", "/").rsplit("!", 1)[-1].rsplit("/", 1)[-1]

    @property
    def period(self) -> str:
        return f"{self.effective_from} to {self.effective_to or 'next file'}"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "sha256": self.sha256,
                "effective_from": self.effective_from.isoformat(),
                "effective_to": self.effective_to.isoformat() if self.effective_to else None,
                "status": self.status, "imported_at": self.imported_at}


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    """One NDC under one HCPCS in a crosswalk, with its package in billing units."""

    hcpcs: str
    ndc: str
    labeler: str | None
    drug_name: str | None
    dosage: str | None
    package_size: Decimal | None  # amount in one item (no unit given)
    package_quantity: Decimal | None  # items in the package
    billing_units: Decimal | None  # billing units in one item
    billing_units_per_package: Decimal | None
    file: ImportedFile

    @property
    def units_per_item(self) -> Decimal | None:
        """Billing units in one container: BILLUNITS, else BILLUNITSPKG / PKG QTY."""
        if self.billing_units:
            return self.billing_units
        if self.billing_units_per_package and self.package_quantity:
            return self.billing_units_per_package / self.package_quantity
        return None


@dataclass(frozen=True, slots=True)
class Mue:
    """A Medically Unlikely Edit: at most ``value`` units, per line (MAI 1) or per date (2, 3)."""

    hcpcs: str
    value: int
    mai: int
    rationale: str | None
    file: ImportedFile

    @property
    def per_day(self) -> bool:
        """MAI 2 and 3 count the units of every line of the date, for one provider and patient."""
        return self.mai in (2, 3)

    @property
    def meaning(self) -> str:
        return MAI_MEANING[self.mai]


@dataclass(frozen=True, slots=True)
class PaymentLimit:
    """The ASP payment limit per HCPCS billing unit for a quarter."""

    hcpcs: str
    per_unit: Decimal
    dosage: str | None
    file: ImportedFile

    def for_units(self, units: Decimal) -> Decimal:
        return (self.per_unit * units).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class IcdCode:
    code: str  # X12 form, no dot
    billable: bool  # False: a header code
    short_title: str | None
    file: ImportedFile


def _day(text: str | None) -> dt.date | None:
    return None if not text else dt.date.fromisoformat(text)


def _payment_limit(hcpcs: str, row: tuple, file: ImportedFile) -> PaymentLimit | None:
    """The row's limit; None for one out of range (imported before the importer checked:
    limits.toml), which no line could be priced by without failing."""
    value = Decimal(row[0])
    if limits().number("payment_limit").problem("payment limit", row[0], value):
        return None
    return PaymentLimit(hcpcs, value, row[1], file)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _in_force(records: list[FileRecord]) -> dict[str, list[ImportedFile]]:
    """Per kind, the file that wins each effective date, with the period it is in force."""
    winners: dict[str, dict[dt.date, FileRecord]] = {}
    for record in records:
        dates = winners.setdefault(record.kind, {})
        best = dates.get(record.effective_from)
        # final beats preliminary; then the later import
        if best is None or (record.status == "final", record.id) > (best.status == "final",
                                                                     best.id):
            dates[record.effective_from] = record
    in_force: dict[str, list[ImportedFile]] = {}
    for kind, dates in winners.items():
        starts = sorted(dates)
        in_force[kind] = [
            ImportedFile(r.id, r.kind, r.name, r.sha256, r.effective_from,
                         starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(starts) else None,
                         r.status, r.imported_at)
            for i, r in enumerate(dates[start] for start in starts)]
    return in_force


class Reference:
    """The reference data in force, by kind of file and date of service.

    Open it with :func:`open_reference`.  Not picklable (it holds a SQLite
    connection): a worker process opens its own from the folder's path.
    """

    def __init__(self, directory: Path, connection: sqlite3.Connection,
                 snapshot: int | None = None) -> None:
        self.directory = Path(directory)
        self._connection = connection
        self._pid = os.getpid()
        records = [r for r in read_files(connection) if snapshot is None or r.id <= snapshot]
        self.records = tuple(records)  # every imported file, superseded ones too
        # The last import this view sees: open_reference(directory, snapshot) in another
        # process sees the same files, whatever was imported since (batch workers).
        self.snapshot = max((r.id for r in records), default=0)
        self._in_force = _in_force(records)
        self._starts = {kind: [f.effective_from for f in files]
                        for kind, files in self._in_force.items()}
        self._cache: dict[tuple, object] = {}

    # -- which files -------------------------------------------------------------------
    @property
    def files(self) -> tuple[ImportedFile, ...]:
        """The files in force for some period, by kind and date: what a report names."""
        return tuple(f for kind in sorted(self._in_force) for f in self._in_force[kind])

    @property
    def change_dates(self) -> tuple[dt.date, ...]:
        """Every date on which some imported fact changes (a file of a kind takes effect)."""
        return tuple(sorted({f.effective_from for f in self.files}))

    def file_for(self, kind: str, day: dt.date | None) -> ImportedFile | None:
        """The file of ``kind`` in force on ``day`` (None before the first, or without a date)."""
        if day is None or kind not in self._starts:
            return None
        index = bisect.bisect_right(self._starts[kind], day) - 1
        return self._in_force[kind][index] if index >= 0 else None

    def as_report(self) -> list[dict]:
        return [f.as_dict() for f in self.files]

    # -- facts -----------------------------------------------------------------------------
    def crosswalk(self, hcpcs: str, claim_kind: str, day: dt.date | None
                  ) -> dict[str, CrosswalkEntry]:
        """NDC -> entry for every NDC the crosswalk for the claim's kind lists under ``hcpcs``."""
        file = self.file_for(CROSSWALK_FOR.get(claim_kind, ""), day)
        if file is None:
            return {}
        return self._cached(("xw", file.id, hcpcs), lambda: {
            row[2]: self._entry(row, file) for row in self._query(
                "SELECT * FROM crosswalk WHERE file_id = ? AND hcpcs = ?", file.id, hcpcs)})

    def crosswalk_codes(self, ndc: str, claim_kind: str, day: dt.date | None
                        ) -> tuple[CrosswalkEntry, ...]:
        """Every HCPCS the crosswalk lists ``ndc`` under (usually one)."""
        file = self.file_for(CROSSWALK_FOR.get(claim_kind, ""), day)
        if file is None:
            return ()
        return self._cached(("ndc", file.id, ndc), lambda: tuple(
            self._entry(row, file) for row in self._query(
                "SELECT * FROM crosswalk WHERE file_id = ? AND ndc = ? ORDER BY hcpcs",
                file.id, ndc)))

    def mue(self, hcpcs: str, claim_kind: str, day: dt.date | None) -> Mue | None:
        return self._fact(self.file_for(MUE_FOR.get(claim_kind, ""), day), "mue", hcpcs,
                          "SELECT value, mai, rationale FROM mue WHERE file_id = ? AND hcpcs = ?",
                          lambda row, file: Mue(hcpcs, row[0], row[1], row[2], file))

    def payment_limit(self, hcpcs: str, day: dt.date | None) -> PaymentLimit | None:
        return self._fact(self.file_for("asp-pricing", day), "pricing", hcpcs,
                          "SELECT payment_limit, dosage FROM pricing WHERE file_id = ? AND "
                          "hcpcs = ?",
                          lambda row, file: _payment_limit(hcpcs, row, file))

    def hcpcs_dates(self, hcpcs: str):
        """The days ``hcpcs`` is valid, from the newest imported CMS HCPCS file that lists
        it (an ``edi837.drugs.DateWindow``), or None.  A HCPCS file records history (add
        and termination dates), so the newest one answers for every date of service."""
        return self._dates(("hcpcs",), hcpcs)

    def ndc_dates(self, ndc: str):
        """The days the package ``ndc`` (11 digits) is marketed, from the newest imported
        FDA NDC Directory package file that lists it, else the newest product file that
        lists its product (the first 9 digits); None when none does."""
        return self._dates(("fda-ndc-package",), ndc) or self._dates(("fda-ndc-product",),
                                                                      ndc[:9])

    def unlisted_package(self, ndc: str) -> ImportedFile | None:
        """The newest imported FDA NDC Directory package file when it does not list the
        package ``ndc`` (11 digits) although the directory lists its product (the first 9
        digits, in a product file or as another package): the package code is not one of
        that product's (NDC004).  None when no package file is imported, the package is
        listed, or the product is unknown (the directory is not every NDC ever billed)."""
        files = sorted(self._in_force.get("fda-ndc-package", ()),
                       key=lambda f: (f.effective_from, f.id), reverse=True)
        if not files or self._dates(("fda-ndc-package",), ndc) is not None:
            return None
        product = ndc[:9]
        if self._dates(("fda-ndc-product",), product) is not None or any(
                self._one("SELECT 1 FROM dates WHERE file_id = ? AND key BETWEEN ? AND ?",
                          file.id, product + "00", product + "99") for file in files):
            return files[0]
        return None

    def _dates(self, kinds: tuple[str, ...], key: str):
        files = sorted((f for kind in kinds for f in self._in_force.get(kind, ())),
                       key=lambda f: (f.effective_from, f.id), reverse=True)
        for file in files:
            found = self._fact(file, "dates", key,
                               "SELECT first_day, last_day, name FROM dates WHERE file_id = ? AND "
                               "key = ?",
                               lambda row, file: DateWindow(
                                   _day(row[0]), _day(row[1]), file.short_name, file, row[2]))
            if found is not None:
                return found
        return None

    def icd10_file(self, day: dt.date | None) -> ImportedFile | None:
        return self.file_for("icd10cm", day)

    def icd10(self, code: str, day: dt.date | None) -> IcdCode | None:
        """The code as the ICD-10-CM file in force lists it; None when it does not (or no file)."""
        return self._fact(self.icd10_file(day), "icd10cm", code,
                          "SELECT billable, short_title FROM icd10cm WHERE file_id = ? AND "
                          "code = ?",
                          lambda row, file: IcdCode(code, bool(row[0]), row[1], file))

    # -- plumbing --------------------------------------------------------------------------
    def _fact(self, file: ImportedFile | None, table: str, key: str, sql: str, build):
        """The one row of ``file`` for ``key`` (``sql`` takes the file id and the key),
        built into a fact by ``build(row, file)``; None without a file or a row.  Cached."""
        if file is None:
            return None

        def load():
            row = self._one(sql, file.id, key)
            return None if row is None else build(row, file)
        return self._cached((table, file.id, key), load)

    def _cached(self, key: tuple, load):
        try:
            return self._cache[key]
        except KeyError:
            pass
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        value = self._cache[key] = load()
        return value

    def _db(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked: a SQLite connection must not cross a fork
            self._connection = connect_readonly(self.directory)
            self._pid = os.getpid()
        return self._connection

    def _query(self, sql: str, *args) -> list[tuple]:
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.Error as error:
            raise RefDataError(str(self.directory), f"reference store unreadable: {error}") \
                from None

    def _one(self, sql: str, *args) -> tuple | None:
        rows = self._query(sql, *args)
        return rows[0] if rows else None

    @staticmethod
    def _entry(row: tuple, file: ImportedFile) -> CrosswalkEntry:
        _, hcpcs, ndc, labeler, drug_name, dosage, size, quantity, units, per_package = row
        return CrosswalkEntry(hcpcs, ndc, labeler, drug_name, dosage, _decimal(size),
                              _decimal(quantity), _decimal(units), _decimal(per_package), file)

    def __getstate__(self):
        raise TypeError("a Reference holds a SQLite connection: pass its folder to a worker "
                        "and open it there (edi837.refdata.open_reference)")


def open_reference(directory: Path, snapshot: int | None = None) -> Reference:
    """The reference data imported into ``directory`` (up to import ``snapshot``, a
    ``Reference.snapshot`` taken earlier; None: all of it); RefDataError when there is none."""
    connection = connect_readonly(Path(directory))
    reference = Reference(directory, connection, snapshot)
    if not reference.records:
        raise RefDataError(str(directory), "no reference data imported here yet "
                                           "(edi837 refdata import FILE... --refdata DIR)")
    return reference
