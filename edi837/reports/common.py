"""What every report format shares, computed once from the Report.

* :func:`figures` (edi837.reports.figures) - the run's figures: counts by
  severity and by rule, and the charges held by rule, payer and file.  Every
  format prints these numbers, so none computes them itself.
* the claim views of the annotated text and HTML reports: edi837.reports.views
  (apart, so that a JSON, CSV or text report loads none of their classes).
* text helpers: :func:`text` turns EDI-derived strings into safe, readable
  text (UTF-8 bytes read as latin-1 back to characters, control characters
  made visible), :func:`fix_hint`, :func:`iso_time`.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from functools import lru_cache
from typing import Iterable

from ..findings import SEVERITIES, Finding, iso_date
from ..results import Report
from ..safetext import shown
from .figures import amount_of, dollars

UNKNOWN_PAYER = "(no payer id)"
NOT_READ = "(segment could not be read)"  # shown where a finding's segment is unreadable
DOCUMENTED_DRUG = "J2350"  # the drug whose documentation checklist claim views show
# -- text ----------------------------------------------------------------------------
def text(value: object) -> str:
    """An EDI-derived value as text for people (edi837.safetext.shown)."""
    return shown(value)


def reference_note(report: Report) -> str:
    """What the run judged by, for people: the imported CMS files in force and the
    patient history ("" when neither applies)."""
    data = report.reference_data or {}
    parts = []
    files = data.get("imported_files") or []
    if files:
        parts.append("CMS files " + ", ".join(
            f"{text(f.get('name'))} ({text(f.get('kind'))}, from {text(f.get('effective_from'))})"
            for f in files))
    history = data.get("history")
    if history:
        parts.append(f"history {text(history['store'])}" if history.get("lasting")
                     else "history: this run's files")
    return "; ".join(parts)


def limit_note(finding: Finding) -> str:
    """' (ASP payment limit $1,234.00)' for a line a pricing file prices, else ""."""
    limit = amount_of(finding.payment_limit)
    return f" (ASP payment limit {dollars(limit)})" if limit is not None else ""


def iso_time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


def run_seconds(report: Report) -> float:
    return round(max((report.finished or report.started) - report.started, 0.0), 3)


def date_span(dates: Iterable[str | None]) -> str:
    """The dates of service of a claim's findings: '2026-01-15', or first to last."""
    days = sorted({d for d in dates if d})
    if not days:
        return ""
    first, last = text(iso_date(days[0])), text(iso_date(days[-1]))
    return first if first == last else f"{first} to {last}"


def fix_hint(finding: Finding) -> str:
    """What to do: the safe fix with its edits, or why a person must fix it
    (the rule documentation's "Fix safety")."""
    if finding.fix is not None:
        edits = "; ".join(f"{e.reference} '{text(e.before)}' -> '{text(e.after)}'"
                          f" (segment {e.segment_index})" for e in finding.fix.edits)
        return f"safe fix: {text(finding.fix.description)} [{edits}]"
    safety = _fix_safety(finding.rule).rstrip(".")
    if not safety or safety == "none":
        return "no automatic fix"
    if safety.startswith("none (") and safety.endswith(")"):
        return f"no automatic fix: {safety[6:-1]}"
    return f"no automatic fix for this case (rule fix: {safety})"


@lru_cache(maxsize=None)
def _fix_safety(code: str) -> str:
    from ..rules import all_rules

    rule = all_rules().get(code)
    match = _FIX_SAFETY.search(rule.doc) if rule else None
    return " ".join(match.group(1).split()) if match else ""


# "Fix safety: ..." up to a blank line or the next "Heading:" line of a rule's docstring
_FIX_SAFETY = re.compile(r"^[ \t]*Fix safety:(.*?)(?=\n\s*\n|\n[ \t]*[A-Z][A-Za-z ]*:|\Z)",
                         re.S | re.M)


@lru_cache(maxsize=None)
def checklist_item(code: str) -> str:
    """What a checklist ticks when the rule is not raised: the "Checklist:" line of
    the rule's docstring ("a service facility is named"), else its summary."""
    from ..rules import all_rules

    rule = all_rules().get(code)
    if rule is None:
        return ""
    match = _CHECKLIST.search(rule.doc)
    return " ".join(match.group(1).split()) if match else rule.summary


_CHECKLIST = re.compile(r"^[ \t]*Checklist:(.*?)(?=\n\s*\n|\n[ \t]*[A-Z][A-Za-z ()0-9]*:|\Z)",
                        re.S | re.M)


def ndc_of(finding: Finding) -> str:
    """The line's NDC as billed, or the value of an NDC finding."""
    ndc = finding.extra.get("ndc")
    if ndc:
        return ndc
    return finding.value or "" if finding.rule.startswith("NDC") else ""


def severity_counts(findings: list[Finding]) -> Counter:
    counts = Counter(f.severity for f in findings)
    return Counter({severity: counts[severity] for severity in SEVERITIES})
