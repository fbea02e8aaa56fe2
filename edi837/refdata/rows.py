"""What every importer does with a row: parse its cells, or say which line is wrong.

A CMS table has blank rows, footnotes (one long cell) and, in the
crosswalk, alternate ids where an NDC would be; those are skipped and
counted.  A row that has its key but a value that is not what the column
holds is a problem: the import is refused, naming the line, since a
corrupt file must change nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from .tabular import RefDataError, Row, Table

MAX_PROBLEMS = 10
HCPCS = re.compile(r"^[A-Z0-9]{5}$")  # HCPCS Level II (J2350) or CPT (96365, 0001U)
_NDC_542 = re.compile(r"^([0-9]{5})-([0-9]{4})-([0-9]{2})$")
_YMD = re.compile(r"[0-9]{8}")
_MDY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def cell_date(text: str) -> dt.date | None:
    """A date cell of a source file: YYYYMMDD (FDA, CMS), M/D/YYYY (CMS spreadsheets)
    or YYYY-MM-DD; None for an empty cell, ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    if _YMD.fullmatch(text):
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    match = _MDY.fullmatch(text)
    if match:
        return dt.date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
    return dt.date.fromisoformat(text)


class Problems:
    """Collects a file's bad rows; ``check()`` raises with the first few."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[str] = []
        self.skipped = 0

    def add(self, line: int, message: str) -> None:
        self.found.append(f"line {line}: {message}")
        if len(self.found) >= MAX_PROBLEMS:
            self.check()

    def check(self) -> None:
        if self.found:
            more = " (and maybe more)" if len(self.found) >= MAX_PROBLEMS else ""
            raise RefDataError(self.name, "rows that cannot be read, nothing was imported"
                                          f"{more}: " + "; ".join(self.found))


def usable(row: Row, key: str, problems: Problems) -> bool:
    """Whether to read a row: not a footnote (its ``key`` column empty, or a single filled
    cell: a note under the table; counted as skipped), and not cut short (a problem: a
    file truncated in the middle of a row)."""
    if not row.cells[key] or row.filled == 1:
        problems.skipped += 1
        return False
    if not row.whole:
        problems.add(row.line, "the row ends before the last column read (is the file cut "
                               "short?)")
        return False
    return True


def coded_rows(table: Table, text: str, problems: Problems
               ) -> Iterator[tuple[int, str, dict[str, str]]]:
    """(line, HCPCS/CPT code, cells) of each row to read; footnotes skipped, a code that
    is not one a problem."""
    for row in table.rows(text, problems.name):
        if not usable(row, "hcpcs", problems):
            continue
        code = hcpcs(row.cells["hcpcs"])
        if code is None:
            problems.add(row.line, f"HCPCS code {row.cells['hcpcs']!r} is not a HCPCS or CPT "
                                   "code")
            continue
        yield row.line, code, row.cells


def hcpcs(value: str) -> str | None:
    code = value.strip().upper()
    return code if HCPCS.fullmatch(code) else None


def ndc11(value: str) -> str | None:
    """The 11 digits of a 5-4-2 NDC as the crosswalk writes it (50242-0150-01), or
    an NDC already in 11 digits; None for anything else (CMS's alternate ids)."""
    value = value.strip()
    match = _NDC_542.fullmatch(value)
    if match:
        return "".join(match.groups())
    return value if len(value) == 11 and value.isascii() and value.isdigit() else None


def number(value: str) -> Decimal | None:
    """A decimal number as CMS writes one ("$59.600", "1,200", "0.5"), or None."""
    text = value.strip().replace("$", "").replace(",", "")
    if not text:
        return None
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None
