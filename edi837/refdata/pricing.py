"""The ASP pricing file: Medicare Part B's payment limit per HCPCS billing unit, for one quarter.

CMS publishes it quarterly with preamble rows above the header; columns
HCPCS Code, Short Description, HCPCS Code Dosage, Payment Limit, then vaccine,
blood and clotting-factor columns and notes (billing-rules.md §8.4).  The limit
is about 106% of the manufacturers' average sales price; J2350 about $59.60 per
unit in 2026 Q2 and $60.97 in Q3 [C].  edi837 shows it beside the charge of a
held line (limit x units); CPT-coded rows are imported like any other.
"""
from __future__ import annotations

from .limits import limits
from .rows import Problems, coded_rows, number
from .tabular import Column, Layout, Table

LAYOUT = Layout("ASP pricing file", (
    Column("hcpcs", frozenset({"hcpcscode", "hcpcs", "code"}), (("hcpcs", "code"),),
           excludes=("dosage", "desc", "short")),
    Column("payment_limit", frozenset({"paymentlimit"}), (("payment", "limit"),),
           excludes=("vaccine", "blood", "clotting")),
    Column("description", frozenset({"shortdescription", "shortdescriptor", "description"}),
           (("desc",),), required=False),
    Column("dosage", frozenset({"hcpcscodedosage", "dosage", "hcpcsdosage"}), (("dosage",),),
           required=False),
))
EXPECTS = "an ASP pricing file (columns HCPCS Code, Payment Limit)"
TABLE = "pricing"
KINDS = {"asp-pricing": "ASP pricing file"}


def rows(table: Table, text: str, problems: Problems):
    """(hcpcs, short description, dosage, payment limit per billing unit) per priced row;
    rows without a payment limit (priced by the contractor) are skipped."""
    for line, code, cells in coded_rows(table, text, problems):
        raw = cells["payment_limit"]
        limit = number(raw)
        if not raw:
            problems.skipped += 1
            continue
        if limit is None or limit < 0:
            problems.add(line, f"payment limit {raw!r} is not an amount")
            continue
        refused = limits().number("payment_limit").problem("payment limit", raw, limit)
        if refused:
            problems.add(line, refused)
            continue
        yield (code, cells.get("description") or None, cells.get("dosage") or None, str(limit))
