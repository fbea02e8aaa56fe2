"""Load, validate and merge drug table files into a :class:`~edi837.drugs.model.DrugTable`.

The shipped table (``edi837/drugs/table.toml``) and its JSON Schema
(``edi837/drugs/drug-table.schema.json``, copied to ``schemas/``) are package
data read from the package's folder (``Path(__file__).parent``), so they load the
same from a source checkout and from an installed wheel (.ci/run installs the built
wheel and smoke-tests it).
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

from ..datacache import load_parsed
from .builders import _build_drug, _build_policy, _date, _provenance
from .drug_table import DrugTable, TableFile
from .model import AdministrationCode
from .schedule_checks import schedule_problems
from .toml_lines import error_path, plain, with_line

_HERE = Path(__file__).parent  # the package folder: the shipped table and schema sit in it
SHIPPED_TABLE = "table.toml"
SCHEMA_FILE = "drug-table.schema.json"
SHIPPED_NAME = "edi837/drugs/table.toml"  # how messages name the shipped file
_MAX_PROBLEMS = 20


class DrugTableError(ValueError):
    """A drug table file could not be read or is not valid.

    ``lines`` has one message per problem, each naming the file and the field
    path: ``my-drugs.toml: drugs.J9999.ndcs[0].ndc: '1234' does not match '^[0-9]{11}$'``;
    ``str(error)`` is those lines joined by line breaks.
    """

    def __init__(self, file: str, problems: Iterable[str]) -> None:
        self.file = file
        self.problems = tuple(problems)
        self.lines = tuple(f"{file}: {problem}" for problem in self.problems)
        super().__init__("\n".join(self.lines))


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def load_drug_table(extra: Iterable[str | os.PathLike[str]] = (), *,
                    refdata: str | os.PathLike[str] | Any = None) -> DrugTable:
    """Load the shipped drug table, then each ``extra`` file in order; with ``refdata``
    (a reference-store folder, or an opened ``edi837.refdata.Reference``) lay the
    imported CMS reference data over it (``DrugTable.with_reference``).

    Merge rule: an extra file's ``[drugs.<HCPCS>]`` entry adds that HCPCS code
    when the table lacks it and otherwise replaces the whole entry (NDCs,
    diagnoses, dosing and all: nothing is merged field by field).  In the same
    way an extra file's ``[administration_codes]`` entries add or replace
    single codes, and each ``[policy.<name>]`` sub-table it carries replaces
    that sub-table.  Later files win.

    Every file is validated against the drug-table JSON Schema; then the merged
    table is checked for consistency (administration codes known, NDCs listed
    once, labeled doses within the maximum, valid_from not after valid_to).
    Any problem raises :class:`DrugTableError` naming the file and field.
    """
    files = [_read_shipped()]
    files.extend(_read_file(Path(path)) for path in extra)
    table = _build_table(files)
    if refdata is None:
        return table
    if isinstance(refdata, (str, os.PathLike)):
        from ..refdata import open_reference  # RefDataError names the folder

        refdata = open_reference(Path(refdata))
    return table.with_reference(refdata)


def load_schema() -> dict[str, Any]:
    """The drug-table JSON Schema (draft 2020-12) as a dict."""
    return json.loads((_HERE / SCHEMA_FILE).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# Reading and schema validation
# ---------------------------------------------------------------------------


class _TableData:
    """One file's parsed, schema-valid content, and the name to report it by."""

    __slots__ = ("name", "data", "text")

    def __init__(self, name: str, data: dict[str, Any], text: str = "") -> None:
        self.name = name
        self.data = data
        self.text = text  # a user's table: its problems name their line (toml_lines)


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # only for a user's table: ~35 ms to import

    return Draft202012Validator(load_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _read_shipped() -> _TableData:
    # the shipped table is checked against the schema by the tests
    # (test_shipped_file_validates_against_schema...), not on every run; what its TOML
    # parses to is kept in the user's cache by the file's hash (edi837.datacache)
    table = _TableData(SHIPPED_NAME, load_parsed(
        _HERE / SHIPPED_TABLE, "drug-table",
        lambda content: _parse(SHIPPED_NAME, content, validate=False).data))
    missing = [key for key in ("policy", "administration_codes") if key not in table.data]
    if missing:
        raise DrugTableError(SHIPPED_NAME, [f"'{key}' is a required property" for key in missing])
    return table


def _read_file(path: Path) -> _TableData:
    name = str(path)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise DrugTableError(name, [f"cannot read: {error.strerror or error}"]) from error
    return _parse(name, content)


def _parse(name: str, content: bytes, *, validate: bool = True) -> _TableData:
    import tomllib

    from .. import tomlfile

    try:
        data = tomlfile.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise DrugTableError(
            name, [f"not UTF-8 text: {error.reason} at byte {error.start}"]) from error
    except tomllib.TOMLDecodeError as error:
        # tomllib's message ends with "(at line N, column M)".
        raise DrugTableError(name, [f"invalid TOML: {error}"]) from error
    text = content.decode("utf-8") if validate else ""
    problems = [
        with_line(text, f"{_field_path(error.absolute_path)}: {plain(error)}", error_path(error))
        for error in sorted(_validator().iter_errors(_as_json(data)), key=_error_order)
    ] if validate else []
    if problems:
        raise DrugTableError(name, _unique(problems)[:_MAX_PROBLEMS])
    return _TableData(name, data, text)


def _as_json(value: Any) -> Any:
    """The tomllib dict with dates (and datetimes, times) as ISO strings, as the schema expects."""
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    # datetime is a date: "2025-10-01T00:00:00" fails format date
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value


def _field_path(parts: Iterable[str | int]) -> str:
    """drugs.J9999.ndcs[0].ndc, from jsonschema's absolute path."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _error_order(error: Any) -> tuple[str, str]:
    return (_field_path(error.absolute_path), error.message)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------------------
# Merge, consistency checks, model building
# ---------------------------------------------------------------------------


def _build_table(files: list[_TableData]) -> DrugTable:
    shipped, extras = files[0], files[1:]
    drugs: dict[str, tuple[dict[str, Any], str]] = {}
    admin: dict[str, tuple[dict[str, Any], str]] = {}
    policy: dict[str, dict[str, Any]] = {}
    for table in files:
        for hcpcs, entry in table.data.get("drugs", {}).items():
            drugs[hcpcs] = (entry, table.name)
        for cpt, entry in table.data.get("administration_codes", {}).items():
            admin[cpt] = (entry, table.name)
        policy.update(table.data.get("policy", {}))

    try:
        _check_consistency(drugs, admin)
    except DrugTableError as error:  # a user's table: each problem with its line
        text = next((t.text for t in files if t.name == error.file), "")
        raise DrugTableError(error.file, [with_line(text, p) for p in error.problems]) from None

    version = shipped.data["version"] + "".join(
        f"+{Path(t.name).stem}@{t.data['version']}" for t in extras
    )
    table_files = tuple(TableFile(t.name, t.data["version"], _date(t.data["updated"]))
                        for t in files)
    return DrugTable(
        version=version,
        updated=max(f.updated for f in table_files),
        policy=_build_policy(policy),
        drugs={hcpcs: _build_drug(hcpcs, entry) for hcpcs, (entry, _) in drugs.items()},
        administration_codes={
            cpt: AdministrationCode(
                code=cpt,
                route=entry["route"],
                descriptor=entry.get("descriptor"),
                provenance=_provenance(entry),
            )
            for cpt, (entry, _) in admin.items()
        },
        files=table_files,
    )


def _check_consistency(
    drugs: Mapping[str, tuple[dict[str, Any], str]],
    admin: Mapping[str, tuple[dict[str, Any], str]],
) -> None:
    """Checks the schema cannot express; problems are reported against the file that
    brought the entry."""
    problems: dict[str, list[str]] = {}
    ndc_owner: dict[str, str] = {}
    for hcpcs, (entry, file) in drugs.items():
        found = problems.setdefault(file, [])
        where = f"drugs.{hcpcs}"
        for i, code in enumerate(entry["administration"]["codes"]):
            if code not in admin:
                found.append(f"{where}.administration.codes[{i}]: '{code}' is not in "
                             "administration_codes")
        dosing = entry["dosing"]
        maximum = dosing.get("max_units_per_day")
        for i, dose in enumerate(dosing["labeled_doses"]):
            if maximum is not None and dose > maximum:
                found.append(f"{where}.dosing.labeled_doses[{i}]: {dose} is above "
                             f"max_units_per_day {maximum}")
        if not math.isfinite(entry["amount_per_unit"]):  # TOML allows inf and nan
            found.append(f"{where}.amount_per_unit: {entry['amount_per_unit']} "
                         "is not a finite number")
        for i, package in enumerate(entry["ndcs"]):
            at = f"{where}.ndcs[{i}]"
            ndc = package["ndc"]
            if ndc in ndc_owner:
                other = ndc_owner[ndc]
                listed = "twice" if other == hcpcs else f"already under {other} ({drugs[other][1]})"
                found.append(f"{at}.ndc: '{ndc}' is listed {listed}")
            ndc_owner.setdefault(ndc, hcpcs)
            for key in ("amount", "volume_ml"):
                if key in package and not math.isfinite(package[key]):
                    found.append(f"{at}.{key}: {package[key]} is not a finite number")
            if package.get("preferred_ctp_unit") == "ML" and "volume_ml" not in package:
                found.append(f"{at}: preferred_ctp_unit 'ML' needs volume_ml")
        found.extend(schedule_problems(where, entry.get("schedule")))
        dates = entry.get("code_dates", {})
        if dates.get("effective_from") and dates.get("effective_to") and \
                _date(dates["effective_from"]) > _date(dates["effective_to"]):
            found.append(f"{where}.code_dates: effective_from {dates['effective_from']} is after "
                         f"effective_to {dates['effective_to']}")
        for g, group in enumerate(entry["diagnoses"]):
            for c, code in enumerate(group["codes"]):
                start, end = code.get("valid_from"), code.get("valid_to")
                if start is not None and end is not None and _date(start) > _date(end):
                    found.append(
                        f"{where}.diagnoses[{g}].codes[{c}]: valid_from {start} "
                        f"is after valid_to {end}"
                    )
    for file, found in problems.items():
        if found:
            raise DrugTableError(file, found[:_MAX_PROBLEMS])
