"""Text for people and spreadsheets, from values that came out of an EDI file.

An 837 is written by someone else: a claim id, a file name or an NDC may carry
terminal escapes, line breaks, bidirectional overrides (U+202E turns
``exe.txt`` into ``txt.exe`` on screen) or a spreadsheet formula.  Everything
edi837 prints or tabulates goes through :func:`shown`; every CSV it writes
goes through :class:`CsvRows`.
"""
from __future__ import annotations

import csv
import re
from typing import Any, Iterable, TextIO

from .x12.reader import display

# C0/C1 control characters (line breaks too: one value stays one line), the
# non-characters XML forbids, and the bidirectional controls that reorder text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\ufffe\uffff]")


def shown(value: object) -> str:
    """A value as safe text: UTF-8 restored (the reader reads bytes as latin-1),
    names that are not UTF-8 escaped, unsafe characters shown as \\xNN / \\uNNNN,
    None as ""."""
    if value is None:
        return ""
    value = display(str(value))
    if not value.isascii():  # a file name that is not UTF-8 holds surrogates
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return _UNSAFE.sub(_escape, value)
    return _UNSAFE.sub(_escape, value) if not value.isprintable() else value


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# A cell a spreadsheet would run as a formula (after any leading blanks, which
# spreadsheets skip), or that starts with a tab or carriage return.
_FORMULA = re.compile(r"[ \t\r\n]*[=+\-@]|[\t\r]")


def excel_safe(value: str) -> str:
    """Prefix a quote so spreadsheet programs show, not run, a formula-like cell."""
    if _FORMULA.match(value):
        return "'" + value
    return value


class CsvRows:
    """The one CSV writer: a header row, then rows whose text cells are made
    safe (:func:`shown`, then :func:`excel_safe`); numbers pass through."""

    CACHE = 4096  # safe texts remembered: most cells repeat row after row

    def __init__(self, out: TextIO, columns: Iterable[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow(list(columns))
        self._safe: dict[str, str] = {}

    def write(self, cells: Iterable[Any]) -> None:
        safe = self._safe
        if len(safe) > self.CACHE:
            safe.clear()
        row: list[Any] = []
        for cell in cells:
            if cell.__class__ is str:
                text = safe.get(cell)
                if text is None:
                    text = safe[cell] = excel_safe(shown(cell))
                row.append(text)
            elif cell is None or isinstance(cell, (int, float)):
                row.append(cell)
            else:
                row.append(excel_safe(shown(cell)))
        self._writer.writerow(row)
