"""Reading what CMS ships: delimited text with preamble rows, alone or inside a ZIP.

CMS's quarterly files drift between quarters: a title and notes above the
header (about 8 rows in the ASP crosswalk), a year in a column name
(`_2025_CODE`), columns renamed or reordered, comma- and tab-separated copies
of one table, several files in one ZIP (billing-rules.md §8.4).  So a
:class:`Layout` names its columns by what they mean, the header row is found
by matching names (years and punctuation ignored), and the delimiter is the
one under which a header matches.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .errors import RefDataError  # here before: importers of it from tabular still work

MAX_HEADER_ROW = 40  # the header is within the first rows; CMS preambles are about 8
DELIMITERS = (",", "\t", "|")
_YEAR = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}(?![0-9])")


class NotRecognised(RefDataError):
    """The file is not one of the CMS tables edi837 reads (inside a ZIP: skipped)."""


def normalise(name: str) -> str:
    """A header cell as comparable text: lower case, years and punctuation dropped
    (`_2025_CODE` -> `code`, `HCPCS/CPT Code` -> `hcpcscptcode`)."""
    return re.sub(r"[^a-z0-9]", "", _YEAR.sub("", name.lower()))


@dataclass(frozen=True)
class Column:
    """One column a layout needs, known by its normalised names.

    ``names``: names that are this column exactly.  ``parts``: failing those,
    a name that holds every part of one of these tuples (and none of
    ``excludes``) is this column, so `Practitioner Services MUE Values` is
    found by ("mue", "value") however CMS words it next quarter.
    """

    field: str
    names: frozenset[str] = frozenset()
    parts: tuple[tuple[str, ...], ...] = ()
    excludes: tuple[str, ...] = ()
    required: bool = True

    def loosely(self, name: str) -> bool:
        if any(word in name for word in self.excludes):
            return False
        return any(all(part in name for part in parts) for parts in self.parts)


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of CMS table."""

    title: str
    columns: tuple[Column, ...]

    def match(self, header: list[str]) -> dict[str, int] | None:
        """Column index per field when ``header`` has every required column, else None."""
        names = [normalise(cell) for cell in header]
        found: dict[str, int] = {}
        for exact in (True, False):  # exact names first, so a loose match cannot take their column
            for column in self.columns:
                if column.field in found:
                    continue
                for index, name in enumerate(names):
                    if index in found.values() or not name:
                        continue
                    if (name in column.names) if exact else column.loosely(name):
                        found[column.field] = index
                        break
        if all(column.field in found for column in self.columns if column.required):
            return found
        return None


class Row(NamedTuple):
    line: int  # where the row ends in the file (1-based)
    cells: dict[str, str]  # the layout's fields; a missing cell is ''
    filled: int  # non-empty cells in the whole row
    whole: bool  # False when the row ends before a column the layout reads


@dataclass(frozen=True)
class Table:
    """Where a layout's header was found in a text: what the importers read rows from."""

    layout: Layout
    delimiter: str
    header_row: int  # 0-based row of the header
    columns: dict[str, int]
    header: tuple[str, ...]  # the header cells as written
    preamble: tuple[str, ...]  # the rows above the header, each joined to one line

    def heading(self, field: str) -> str:
        """How the file names a column (the MUE value column names its setting)."""
        return self.header[self.columns[field]]

    def rows(self, text, name: str) -> Iterator["Row"]:
        """Each row under the header, blank rows left out.  ``text``: a str, or a
        :class:`~.sources.SourceText` (read as a stream, never whole)."""
        last = max(self.columns.values())
        stream = text.stream() if hasattr(text, "stream") else io.StringIO(text, newline="")
        reader = csv.reader(stream, delimiter=self.delimiter)
        try:
            for number, row in enumerate(reader):
                if number <= self.header_row:
                    continue
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                yield Row(reader.line_num,
                          {field: cells[index] if index < len(cells) else ""
                           for field, index in self.columns.items()},
                          sum(1 for cell in cells if cell), len(cells) > last)
        except csv.Error as error:
            raise RefDataError(name, f"line {reader.line_num}: not readable as delimited "
                                     f"text: {error}") from None
        finally:
            stream.close()


def find_table(text: str, layouts: tuple[Layout, ...]) -> Table | None:
    """The first layout whose header appears in the first rows of ``text``, under
    the first delimiter that shows it (comma, tab, bar)."""
    for delimiter in DELIMITERS:
        if delimiter not in text[:65536]:
            continue
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        head: list[list[str]] = []
        try:
            for row in reader:
                head.append(row)
                if len(head) >= MAX_HEADER_ROW:
                    break
        except csv.Error:
            continue
        for number, row in enumerate(head):
            if len(row) < 2:
                continue
            for layout in layouts:
                columns = layout.match(row)
                if columns is not None:
                    preamble = tuple(" ".join(c.strip() for c in r if c.strip())
                                     for r in head[:number])
                    return Table(layout, delimiter, number, columns, tuple(row), preamble)
    return None


# ---------------------------------------------------------------------------
# Effective dates and file status found in titles and names
# ---------------------------------------------------------------------------

_MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
     ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
     ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
_EFFECTIVE = re.compile(
    r"eff(?:ective)?(?:[\s_.:-]|date|dates|from|as|of)*"
    r"(?:(\d{1,2})[-/_.](\d{1,2})[-/_.](\d{4})|(\d{4})-(\d{2})-(\d{2}))", re.I)
_MONTH_YEAR = re.compile(r"(?<![a-z])(" + "|".join(sorted(_MONTHS, key=len, reverse=True))
                         + r")(?![a-z])\.?[\s_,-]*(\d{4})(?![0-9])", re.I)
_QUARTER = re.compile(r"(?<![a-z0-9])(?:q([1-4])[\s_-]*(\d{4})|(\d{4})[\s_-]*q([1-4]))(?![0-9])",
                      re.I)


def effective_date(text: str) -> dt.date | None:
    """The date a CMS file takes effect, from its title or name: "Effective 10/01/2026",
    "MCR_MUE_PractitionerServices_Eff_10-01-2026", "April 2026 ASP Pricing File"
    (the month's first day), "2026 Q2" (the quarter's first day).  Plain dates
    are not taken: the title of a preliminary file carries its publication date."""
    try:
        match = _EFFECTIVE.search(text)
        if match:
            month, day, year, iso_year, iso_month, iso_day = match.groups()
            if year:
                return dt.date(int(year), int(month), int(day))
            return dt.date(int(iso_year), int(iso_month), int(iso_day))
        match = _MONTH_YEAR.search(text)
        if match:
            return dt.date(int(match.group(2)), _MONTHS[match.group(1).lower()], 1)
        match = _QUARTER.search(text)
        if match:
            quarter, year = (match.group(1), match.group(2)) if match.group(1) else \
                (match.group(4), match.group(3))
            return dt.date(int(year), 3 * int(quarter) - 2, 1)
    except ValueError:  # 13/45/2026: not a date after all
        return None
    return None


def is_preliminary(texts: tuple[str, ...]) -> bool:
    """CMS publishes the crosswalks as a preliminary file, then a final one, each quarter."""
    return any(re.search(r"prelim", text, re.I) for text in texts)
