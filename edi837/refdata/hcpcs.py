"""CMS's quarterly HCPCS file: when each HCPCS code was added, and terminated.

CMS publishes the Level II HCPCS file each quarter ("HCPCS Quarterly Update",
`HCPC2026_JAN_ANWEB...`; billing-rules.md §9.4), with columns HCPC, SEQNUM,
RECID, LONG DESCRIPTION, SHORT DESCRIPTION, ..., ADD DT, ACT EFF DT, TERM DT,
ACTION CD.  A code may take several rows (a long description continued): the
first date found for a code is kept.  ADD DT is the first day the code is
valid, TERM DT the last (empty while the code is in force).  edi837 reads the
delimited copies (CSV or tab text, as saved from CMS's spreadsheet), columns
matched by name; dates as YYYYMMDD, YYYY-MM-DD or M/D/YYYY.  The file carries
history, so the newest one imported answers for every date of service; its
date comes from its name (`HCPC2026_JAN` -> 2026-01-01) or title, else the
import's day.
"""
from __future__ import annotations

import datetime as dt
import re

from .limits import days_problem
from .rows import Problems, cell_date, hcpcs, usable
from .tabular import Column, Layout, Table

LAYOUT = Layout("CMS HCPCS file", (
    Column("hcpcs", frozenset({"hcpc", "hcpcs", "hcpcscode", "hcpccode", "code"}),
           (("hcpc",),), excludes=("desc", "seq", "action", "dt", "date")),
    Column("first_day", frozenset({"adddt", "adddate", "dateadded", "codeadddate"}),
           (("add", "dt"), ("add", "date"))),
    Column("last_day", frozenset({"termdt", "termdate", "terminationdate", "codetermdate"}),
           (("term", "dt"), ("term", "date"))),
    Column("name", frozenset({"shortdescription", "shortdesc", "shortdescriptor"}),
           (("short", "desc"),), required=False),
))
EXPECTS = "a CMS HCPCS file (columns HCPC, ADD DT, TERM DT)"
TABLE = "dates"
KINDS = {"hcpcs": "CMS HCPCS file (add and termination dates)"}
SNAPSHOT = True
_NAMED = re.compile(r"(?<![0-9])(20[0-9]{2})[_\s-]*(jan|apr|jul|oct)", re.I)
_QUARTERS = {"jan": 1, "apr": 4, "jul": 7, "oct": 10}


def effective(texts: tuple[str, ...]) -> dt.date | None:
    """The quarter a CMS HCPCS file's name gives: HCPC2026_JAN_ANWEB -> 2026-01-01."""
    for text in texts:
        match = _NAMED.search(text)
        if match:
            return dt.date(int(match.group(1)), _QUARTERS[match.group(2).lower()], 1)
    return None




def rows(table: Table, text: str, problems: Problems):
    """(hcpcs, add date, termination date, short description) per code."""
    codes: dict[str, list] = {}
    for row in table.rows(text, problems.name):
        if not usable(row, "hcpcs", problems):
            continue
        cells = row.cells
        code = hcpcs(cells["hcpcs"])
        if code is None:
            problems.add(row.line, f"HCPCS code {cells['hcpcs']!r} is not a HCPCS code")
            continue
        try:
            first, last = cell_date(cells["first_day"]), cell_date(cells["last_day"])
        except ValueError:
            problems.add(row.line, f"dates {cells['first_day']!r} / {cells['last_day']!r} are "
                                   "not dates (YYYYMMDD)")
            continue
        refused = days_problem(first, last)
        if refused:
            problems.add(row.line, f"dates {cells['first_day']!r} / {cells['last_day']!r}: "
                                   f"{refused}")
            continue
        found = codes.setdefault(code, [None, None, None])
        for index, value in enumerate((first, last, cells.get("name") or None)):
            if found[index] is None:
                found[index] = value
    for code, (first, last, name) in codes.items():
        yield (code, first.isoformat() if first else None, last.isoformat() if last else None,
               name)
