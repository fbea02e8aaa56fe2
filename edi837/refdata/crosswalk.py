"""The ASP and OPPS NDC-HCPCS crosswalks: which NDCs bill under which HCPCS, and how
many units a package holds.

CMS publishes them quarterly (January, April, July, October), a preliminary
file then a final one, in a ZIP holding the ASP, AWP, OPPS and PrEP
crosswalks with CSV copies (billing-rules.md §8.4, CMS ASP FAQ of
2026-03-09 as quoted by secondary sources [C]).  Columns: HCPCS code
(`_2025_CODE`: the year drifts), short description, labeler name, NDC2
(11-digit, hyphenated 5-4-2; alternate ids elsewhere), drug name, HCPCS
dosage, PKG SIZE (amount in one item), PKG QTY (items in the package),
BILLUNITS (billing units in one item), BILLUNITSPKG (in the whole package).

The ASP crosswalk serves Part B claims (837P), the OPPS one hospital
outpatient claims (837I).  The crosswalk is not a complete list of NDCs.
"""
from __future__ import annotations

import re

from .limits import limits
from .rows import Problems, coded_rows, ndc11, number
from .tabular import Column, Layout, Table

LAYOUT = Layout("NDC-HCPCS crosswalk", (
    Column("hcpcs", frozenset({"code", "hcpcs", "hcpcscode", "hcpcscd"}),
           (("hcpcs", "code"),), excludes=("dosage", "desc", "short")),
    Column("ndc", frozenset({"ndc", "ndc2", "ndc11", "11digitndc"}), (("ndc",),),
           excludes=("label", "desc", "name")),
    Column("billing_units_per_package",
           frozenset({"billunitspkg", "billunitsperpkg", "billableunitsperpackage",
                      "billableunitspkg", "billunitsperpackage"}),
           (("unit", "pkg"), ("unit", "package"))),
    Column("billing_units", frozenset({"billunits", "billableunits", "billingunits"}),
           required=False),
    Column("labeler", frozenset(), (("labeler",),), required=False),
    Column("drug_name", frozenset({"drugname", "productname"}), (("drug", "name"),),
           required=False),
    Column("dosage", frozenset({"hcpcsdosage", "dosage", "hcpcscodedosage"}), (("dosage",),),
           required=False),
    Column("package_size", frozenset({"pkgsize", "packagesize"}), required=False),
    Column("package_quantity", frozenset({"pkgqty", "packagequantity", "packageqty"}),
           required=False),
))
EXPECTS = ("an NDC-HCPCS crosswalk (columns HCPCS code, NDC in 5-4-2 form, billing units per "
           "package)")
TABLE = "crosswalk"
KINDS = {"asp-crosswalk": "ASP NDC-HCPCS crosswalk (837P)",
         "opps-crosswalk": "OPPS NDC-HCPCS crosswalk (837I)"}
# The ZIP's other crosswalks: recognised, and not what any rule reads.
UNUSED = {"awp": "AWP crosswalk", "prep": "PrEP crosswalk"}


def variant(texts: tuple[str, ...]) -> str:
    """asp-crosswalk, opps-crosswalk, or "awp"/"prep" (UNUSED), from the title or file name:
    the columns are the same in all four."""
    for text in texts:  # the title first, then the names; in each, the word that comes first
        match = re.search(r"(?<![a-z])(opps|awp|prep|asp)(?![a-z])", text, re.I)
        if match:
            word = match.group(1).lower()
            return {"opps": "opps-crosswalk", "asp": "asp-crosswalk"}.get(word, word)
    return "asp-crosswalk"  # the Part B crosswalk is the one CMS titles "ASP" and ships first


def rows(table: Table, text: str, problems: Problems):
    """(hcpcs, ndc, labeler, drug name, dosage, package size, quantity, billing units,
    billing units per package) per row with an NDC; alternate ids are skipped."""
    for line, code, cells in coded_rows(table, text, problems):
        ndc = ndc11(cells["ndc"])
        if ndc is None:  # CMS lists some products by alternate ids of varying form
            problems.skipped += 1
            continue
        values = []
        for field in ("package_size", "package_quantity", "billing_units",
                      "billing_units_per_package"):
            raw = cells.get(field, "")
            value = number(raw)
            if raw and (value is None or value < 0):
                problems.add(line, f"{field.replace('_', ' ')} {raw!r} is not a number")
            elif value is not None:
                refused = limits().number("crosswalk").problem(field.replace("_", " "), raw,
                                                               value)
                if refused:
                    problems.add(line, refused)
                    value = None
            values.append(None if value is None else str(value))
        yield (code, ndc, cells.get("labeler") or None, cells.get("drug_name") or None,
               cells.get("dosage") or None, *values)
