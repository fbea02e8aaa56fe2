"""The ICD-10-CM order file: every code of a fiscal year, billable or header.

CMS/NCHS publish "ICD-10-CM Code Descriptions in Tabular Order" each year,
effective October 1 (FY2026 from 2025-10-01), and sometimes an April 1
update.  The order file is fixed width: order number (5 characters), a space,
the code without its dot (7, left aligned), a space, 1 when the code is
billable and 0 for a header, a space, the short title (60), a space, the
long title.  It does not carry its year, so it is imported with
``--effective DATE``.  FY2026 made bare G35 a header and added G35.A-G35.D
(billing-rules.md §3.1).
"""
from __future__ import annotations

import re

from .rows import Problems

TABLE = "icd10cm"
KINDS = {"icd10cm": "ICD-10-CM code file (order file)"}
EXPECTS = ("an ICD-10-CM order file (fixed width: order number, code, billable flag 0/1, "
           "short and long title)")
_LINE = re.compile(r"^([0-9]{5}) ([A-Z][0-9][0-9A-Z]{0,5}) *(?<=^.{13}) ([01]) "
                   r"(.{0,60})(?: (.*))?$")


def recognise(text: str) -> bool:
    """True when the first lines are order-file lines."""
    lines = [line for line in text[:8192].splitlines()[:5] if line.strip()]
    return bool(lines) and all(_LINE.match(line.rstrip("\r")) for line in lines[:-1] or lines)


def rows(text: str, problems: Problems):
    """(code, billable 0/1, short title, long title) per line."""
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            problems.add(number, "not an order-file line (order number, code, billable flag, "
                                 "titles in fixed columns)")
            continue
        _, code, billable, short, long = match.groups()
        yield (code, int(billable), short.strip() or None, (long or "").strip() or None)


def counting_billable(facts, count: list[int]):
    """The rows of :func:`rows`, counting the billable ones into ``count[0]``."""
    for fact in facts:
        count[0] += fact[1] == 1
        yield fact


def min_billable() -> int:
    """The fewest billable codes an order file may have without --force (limits.toml)."""
    from .limits import limits

    return limits().min_billable_icd10cm


def too_small(billable: int) -> str:
    return (f"an ICD-10-CM order file with only {billable:,} billable codes (a release has "
            f"about 74,000; at least {min_billable():,} expected): a part or a test file? Every "
            "code it lacks would become DX002.  Give --force to import it anyway")
