"""The FDA NDC Directory: when each NDC package (and product) is marketed.

FDA publishes the directory as `ndctext.zip` holding two tab-separated files
(billing-rules.md §9.4; FDA "National Drug Code Directory" download page):
`package.txt` (PRODUCTID, PRODUCTNDC, NDCPACKAGECODE, PACKAGEDESCRIPTION,
STARTMARKETINGDATE, ENDMARKETINGDATE, NDC_EXCLUDE_FLAG, SAMPLE_PACKAGE) and
`product.txt` (PRODUCTNDC, PROPRIETARYNAME, ..., STARTMARKETINGDATE,
ENDMARKETINGDATE, ...).  Dates are written YYYYMMDD; an empty end date means
the product is still marketed.  NDCs are in their 10-digit hyphenated forms
(50242-554-01, product 50242-554): packages are kept as 11 digits (5-4-2),
products as their first 9.  The directory is a snapshot that records history
(each package's own dates), so the newest one imported answers for every date
of service (:meth:`edi837.refdata.Reference.ndc_dates`); a snapshot whose
name and title carry no date takes the day it is imported as its date.
"""
from __future__ import annotations

import re

from ..ndc import to_ndc11
from .limits import days_problem
from .rows import Problems, cell_date, usable
from .tabular import Column, Layout, Table

_START = Column("first_day", frozenset({"startmarketingdate", "marketingstartdate"}),
                (("start", "marketing"),))
_END = Column("last_day", frozenset({"endmarketingdate", "marketingenddate"}),
              (("end", "marketing"),))
PACKAGE = Layout("FDA NDC Directory package file", (
    Column("ndc", frozenset({"ndcpackagecode", "packagendc", "ndcpackage"}),
           (("ndc", "package"),), excludes=("desc",)),
    _START, _END,
))
PRODUCT = Layout("FDA NDC Directory product file", (
    Column("ndc", frozenset({"productndc"}), (("product", "ndc"),)),
    _START, _END,
    Column("name", frozenset({"proprietaryname"}), required=False),
))
LAYOUTS = (PACKAGE, PRODUCT)  # the package file also has PRODUCTNDC: it is tried first
EXPECTS = ("an FDA NDC Directory package or product file (tab-separated, columns "
           "NDCPACKAGECODE or PRODUCTNDC, STARTMARKETINGDATE, ENDMARKETINGDATE)")
TABLE = "dates"
KINDS = {"fda-ndc-package": "FDA NDC Directory package file (marketing dates)",
         "fda-ndc-product": "FDA NDC Directory product file (marketing dates)"}
SNAPSHOT = True  # no effective date in the file: the import's day stands for it
_PRODUCT = re.compile(r"^([0-9]{4,5})-([0-9]{3,4})$")


def kind(table: Table) -> str:
    return "fda-ndc-package" if table.layout is PACKAGE else "fda-ndc-product"




def product9(value: str) -> str | None:
    """The 9 digits (5-4) of a hyphenated product NDC: 50242-554 -> 502420554."""
    match = _PRODUCT.fullmatch(value.strip())
    if match is None or len(match.group(1)) + len(match.group(2)) != 8:
        return None
    return match.group(1).rjust(5, "0") + match.group(2).rjust(4, "0")


def rows(table: Table, text: str, problems: Problems):
    """(key, first day, last day, name) per package (11-digit NDC) or product (9 digits)."""
    package = table.layout is PACKAGE
    for row in table.rows(text, problems.name):
        if not usable(row, "ndc", problems):
            continue
        cells = row.cells
        key = to_ndc11(cells["ndc"]) if package else product9(cells["ndc"])
        if key is None:
            problems.add(row.line, f"NDC {cells['ndc']!r} is not a hyphenated "
                                   f"{'package' if package else 'product'} NDC")
            continue
        try:
            first = cell_date(cells["first_day"] or "")
            last = cell_date(cells["last_day"] or "")
        except ValueError:
            problems.add(row.line, f"marketing dates {cells['first_day']!r} / "
                                   f"{cells['last_day']!r} are not dates (YYYYMMDD)")
            continue
        refused = days_problem(first, last)
        if refused:
            problems.add(row.line, f"marketing dates {cells['first_day']!r} / "
                                   f"{cells['last_day']!r}: {refused}")
            continue
        yield (key, first.isoformat() if first else None, last.isoformat() if last else None,
               cells.get("name") or None)
