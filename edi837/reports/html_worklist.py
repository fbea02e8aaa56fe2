"""The HTML report's work list as data: one row per claim to work, and the
segments and findings of as many claims as the page can carry.

Rows (``worklist-rows``) are compact JSON arrays, one per claim with a finding
at or above ``--min-severity``, written while the findings are read (file
order; the page sorts them, errors first).  Claim details (``claim-<key>``)
are written while each file is re-read beside its findings
(:func:`~edi837.reports.views.file_views`), one claim at a time.  Neither is
held whole in memory.

The page must open quickly whatever the input size, so both are capped:
rows at :data:`ROW_LIMIT`, details at :data:`DETAIL_LIMIT` claims and
:data:`DETAIL_CHARS` characters.  When a cap bites, claims whose worst finding
is an error go first (in file order), then warnings, then infos; the page
says what it left out and points to the CSV, JSON and annotated reports,
which always carry everything.
"""
from __future__ import annotations

import json
from typing import TextIO

from ..findings import SEVERITIES, Finding
from ..model import envelope_key
from . import ReportOptions
from .common import date_span, fix_hint, text
from .figures import Figures, amount_of, dollars, worst
from .views import ClaimGroup, ClaimView, SegmentView, claim_groups

# A generated 100 MB input has about 7,100 claims to list (about 130 characters a
# row) and 1,700 characters of segments and findings a claim: all of it fits.
ROW_LIMIT = 40_000  # about 5 MB of rows
DETAIL_LIMIT = 10_000  # claims whose segments the page embeds
DETAIL_CHARS = 14_000_000  # and at most this much of them: the page stays under 20 MB
# Row layout, shared with the page's script (meta.fields), so the two cannot drift.
FIELDS = ("file", "claim", "payer", "dos", "drugs", "charge", "rules", "worst", "errors",
          "warnings", "infos", "key", "npi", "submitter")


def script_json(value) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>`` and ``&``
    escaped, so no EDI text can close the element or open a comment."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def data_block(out: TextIO, block_id: str, value) -> int:
    """Write a JSON data block; return its size in characters."""
    body = script_json(value)
    out.write(f'<script type="application/json" id="{block_id}">{body}</script>\n')
    return len(body)


class Quota:
    """Which claims fit under a cap, decided while streaming in file order: the
    worst-error claims first, then warnings, then infos (from the counts of the
    figures pass, so two passes over the same findings agree claim for claim)."""

    def __init__(self, by_worst, limit: int) -> None:
        self.allowed, left = {}, limit
        for severity in SEVERITIES:
            self.allowed[severity] = min(by_worst.get(severity, 0), left)
            left -= self.allowed[severity]
        self.taken = dict.fromkeys(SEVERITIES, 0)

    def take(self, severity: str) -> bool:
        if self.taken[severity] >= self.allowed[severity]:
            return False
        self.taken[severity] += 1
        return True


def listed_by_worst(numbers: Figures, options: ReportOptions) -> dict[str, int]:
    """Claims the work list lists, by their worst severity."""
    return {s: n for s, n in numbers.claims_by_worst.items() if s and options.listed(s)}


def claim_key(file_number: int, first_index: int) -> str:
    return f"{file_number}-{first_index}"


def submitter_of(submitters: dict, interchange, group, transaction) -> tuple[str, str]:
    """The claim's submitter (1000A NM109, NM103) from its file's map
    (``FileResult.submitters``) by its set's control numbers; empty when unknown."""
    found = submitters.get(envelope_key(interchange, group, transaction)) if submitters else None
    return (text(found[0]), text(found[1])) if found else ("", "")


# -- rows ------------------------------------------------------------------------------
def _row(file_number: int, claim_id: str, findings: list[Finding], options: ReportOptions,
         first_index: int, submitters: dict) -> list:
    counts = dict.fromkeys(SEVERITIES, 0)
    rules: list[str] = []
    drugs: list[str] = []
    for finding in findings:
        counts[finding.severity] += 1
        if options.listed(finding.severity) and finding.rule not in rules:
            rules.append(finding.rule)
        if finding.hcpcs and text(finding.hcpcs) not in drugs:
            drugs.append(text(finding.hcpcs))
    first = next((f for f in findings if f.payer_id), findings[0])
    charge = amount_of(next((f.claim_charge for f in findings if f.claim_charge), None))
    return [file_number, text(claim_id), text(first.payer_id),
            date_span(f.service_date for f in findings), " ".join(drugs),
            float(charge) if charge is not None else None, " ".join(rules),
            SEVERITIES.index(worst(s for s, n in counts.items() if n)), counts["error"],
            counts["warning"], counts["info"], claim_key(file_number, first_index),
            text(next((f.billing_npi for f in findings if f.billing_npi), "") or ""),
            submitter_of(submitters, first.interchange, first.group, first.transaction)[0]]


def write_rows(out: TextIO, report, numbers: Figures, options: ReportOptions) -> None:
    """The rows data block, streamed one claim at a time."""
    quota = Quota(listed_by_worst(numbers, options), ROW_LIMIT)
    out.write('<script type="application/json" id="worklist-rows">[')
    written = 0
    for number, result in enumerate(report.files, 1):
        for group in claim_groups(result.findings):
            if not isinstance(group, ClaimGroup):
                continue  # findings outside any claim are listed apart
            severity = worst(f.severity for f in group.findings)
            if severity is None or not options.listed(severity) or not quota.take(severity):
                continue
            row = _row(number, group.claim_id, group.findings, options, group.first_index,
                       result.submitters)
            out.write(("," if written else "") + script_json(row))
            written += 1
    out.write("]</script>\n")


# -- details ---------------------------------------------------------------------------
def _finding(f: Finding) -> list:
    limit = amount_of(f.payment_limit)  # CMS ASP payment limit x units, when imported
    return [f.rule, f.severity, f.line_number, text(f.message), fix_hint(f),
            dollars(limit) if limit is not None else None]


def _segment(segment: SegmentView) -> list:
    return [segment.index, segment.text, [_finding(f) for f in segment.findings]]


def _claim_meta(claim: ClaimView, submitters: dict) -> str:
    isa, gs, st = (text(n) for n in claim.control_numbers)
    ident, name = submitter_of(submitters, *claim.control_numbers)
    submitter = " ".join(filter(None, (name, f"({ident})" if ident else ""))) or "unknown"
    charge = claim.charge
    payer = " ".join(filter(None, (text(claim.payer_name), f"({text(claim.payer_id)})"
                                   if claim.payer_id else "")))
    policies = sorted({f.policy for f in claim.findings if f.policy})
    # the payer policy its findings were judged by (edi837.policy)
    policy = f" · payer policy {', '.join(map(text, policies))}" if policies else ""
    return (f"Claim {text(claim.claim_id)} · payer {payer or 'unknown'} · billing NPI "
            f"{text(claim.billing_npi) or 'unknown'} · date of service "
            f"{claim.service_dates or 'unknown'} · charge "
            f"{dollars(charge) if charge is not None else 'unknown'}{policy} · submitter "
            f"{submitter} · ISA13 {isa} · "
            f"GS06 {gs}"
            f" · ST02 {st} · segments {claim.first_index}-{claim.last_index}")


def _line_charge(line) -> str:
    """The line's charge (SV102/SV203), for people: as the segment has it (a line may
    have no finding of its own: its DOC notes are the claim's checklist), else as its
    findings carry it."""
    charge = amount_of(line.charge or next((f.charge for f in line.findings if f.charge),
                                           None))
    return dollars(charge) if charge is not None else ""


def claim_detail(claim: ClaimView, changed: bool, submitters: dict | None = None) -> dict:
    lines = [[text(line.number) if line.number is not None else None, line.hcpcs,
              [_segment(s) for s in line.segments], _line_charge(line)]
             for line in claim.lines if line.segments]
    if claim.unplaced:
        lines.append([None, "", [[f.segment_index or 0, None, [_finding(f)]]
                                 for f in claim.unplaced], ""])
    checklist = claim.documentation_checklist()
    detail = {"meta": _claim_meta(claim, submitters or {}), "changed": changed, "lines": lines,
              "checklist": None}
    if checklist is not None:
        detail["checklist"] = {
            "title": "J2350 documentation checklist",
            "items": [[code, "; ".join(text(f.message) for f in found) if found else ok,
                       bool(found)] for code, ok, found in checklist]}
    return detail


class DetailWriter:
    """Writes a data block per listed claim as the files are re-read, within the
    caps; counts what it embedded and what it left out, for the page's note."""

    def __init__(self, out: TextIO, numbers: Figures, options: ReportOptions) -> None:
        self.out, self.options = out, options
        self.rows = Quota(listed_by_worst(numbers, options), ROW_LIMIT)  # replays the rows
        self.quota = Quota(dict(self.rows.allowed), DETAIL_LIMIT)
        self.claims = self.chars = self.skipped = 0

    def claim(self, file_number: int, claim: ClaimView, changed: bool,
              submitters: dict | None = None) -> None:
        severity = worst(f.severity for f in claim.findings)
        if severity is None or not self.options.listed(severity) \
                or not self.rows.take(severity):
            return  # not a row of the work list
        if self.chars >= DETAIL_CHARS or not self.quota.take(severity):
            self.skipped += 1
            return
        self.chars += data_block(self.out, "claim-" + claim_key(file_number, claim.first_index),
                                 claim_detail(claim, changed, submitters))
        self.claims += 1
