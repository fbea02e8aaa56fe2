"""The ranges the importer accepts, from ``limits.toml`` (validated by its schema).

A number outside its range is a bad row (``Problems.add``: the import is refused
naming the file, line and column); an effective date outside the window refuses
the file.  Shared by every importer: ``limits().number(NAME).problem(...)``.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from .. import tomlfile
from .errors import RefDataError

LIMITS_FILE = "limits.toml"
SCHEMA_FILE = "limits.schema.json"


@dataclass(frozen=True)
class Range:
    low: Decimal
    high: Decimal
    places: int

    def problem(self, column: str, raw: str, value: Decimal) -> str | None:
        """Why ``value`` (read from the cell ``raw`` of ``column``) is refused, or None."""
        if not value.is_finite() or not self.low <= value <= self.high:
            return f"{column} {raw.strip()[:40]!r} is outside {self.low:,} to {self.high:,}"
        if -value.as_tuple().exponent > self.places and value != value.quantize(
                Decimal(1).scaleb(-self.places)):
            return f"{column} {raw.strip()[:40]!r} has more than {self.places} decimal places"
        return None


def _latest(today: dt.date, years: int) -> dt.date:
    """``years`` after ``today`` (the 28th for a 29th February or a 29th-31st)."""
    return today.replace(year=today.year + years, day=min(today.day, 28))


@dataclass(frozen=True)
class Limits:
    numbers: dict[str, Range]
    earliest: dt.date
    years_ahead: int
    days_earliest: dt.date
    days_years_ahead: int
    min_billable_icd10cm: int

    def number(self, name: str) -> Range:
        return self.numbers[name]

    def check_effective(self, name: str, effective: dt.date, today: dt.date | None = None
                        ) -> None:
        """Raise RefDataError when a file would take effect before ``earliest`` or more
        than ``years_ahead`` years after ``today``."""
        today = today or dt.date.today()
        latest = _latest(today, self.years_ahead)
        if not self.earliest <= effective <= latest:
            raise RefDataError(name, f"takes effect {effective.isoformat()}, outside "
                                     f"{self.earliest.isoformat()} to {latest.isoformat()} "
                                     f"({self.years_ahead} years from today): check "
                                     "--effective or the date in its title or name")


def days_problem(first: dt.date | None, last: dt.date | None,
                 today: dt.date | None = None) -> str | None:
    """Why a row's first and last day (either may be None) are refused, or None: a day
    outside ``[dates]`` of limits.toml, or a last day before the first."""
    found = limits()
    today = today or dt.date.today()
    latest = _latest(today, found.days_years_ahead)
    for value in (first, last):
        if value is not None and not found.days_earliest <= value <= latest:
            return (f"{value.isoformat()} is outside {found.days_earliest.isoformat()} to "
                    f"{latest.isoformat()}")
    if first is not None and last is not None and last < first:
        return f"ends {last.isoformat()}, before it starts {first.isoformat()}"
    return None


@cache
def limits() -> Limits:
    folder = resources.files(__package__)
    data = tomlfile.loads(folder.joinpath(LIMITS_FILE).read_text(encoding="utf-8"))
    from jsonschema import Draft202012Validator
    schema = json.loads(folder.joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))
    as_json = json.loads(json.dumps(data, default=lambda value: value.isoformat()))
    Draft202012Validator(schema).validate(as_json)
    numbers = {name: Range(Decimal(str(spec["min"])), Decimal(str(spec["max"])),
                           spec["places"]) for name, spec in data["numbers"].items()}
    effective = data["effective"]
    days = data["dates"]
    return Limits(numbers, effective["earliest"], effective["years_ahead"], days["earliest"],
                  days["years_ahead"], data["icd10cm"]["min_billable"])
