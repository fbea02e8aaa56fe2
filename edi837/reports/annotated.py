"""Annotated EDI: each claim with findings printed as its segments, one per
line with its index in the file, and every finding under the segment it
concerns (code, severity, message, fix hint).  Claims without findings are
only counted.  Findings outside any claim (envelopes) are shown at the file
level, under their segment, in file order.
"""
from __future__ import annotations

from typing import TextIO

from ..findings import Finding
from ..results import Report
from . import writer
from .common import (
    NOT_READ,
    fix_hint,
    iso_time,
    limit_note,
    reference_note,
    run_seconds,
    severity_counts,
    text,
)
from .figures import dollars, figures, plural
from .text import breakdown, held_line, status_word, summary_line
from .views import ClaimView, SegmentView, file_views

INDENT = " " * 11  # lines up with the segment text after "  [nnnnnn] "


def _counts(counts) -> str:
    return (f"{plural(counts['error'], 'error')}, {plural(counts['warning'], 'warning')}, "
            f"{plural(counts['info'], 'info')}")


def _finding(out: TextIO, finding: Finding, marker: str = "^") -> None:
    where = f"line {finding.line_number} " if finding.line_number is not None else ""
    out.write(f"{INDENT}{marker} {finding.rule} {finding.severity}: {where}"
              f"{text(finding.message)}{limit_note(finding)}\n")
    out.write(f"{INDENT}  fix: {fix_hint(finding)}\n")


def _segment(out: TextIO, segment: SegmentView) -> None:
    shown = segment.text if segment.text is not None else NOT_READ
    out.write(f"  [{segment.index:>6}] {shown}\n")
    for finding in segment.findings:
        _finding(out, finding)


def _claim(out: TextIO, claim: ClaimView) -> None:
    isa, gs, st = (text(n) for n in claim.control_numbers)
    payer = " ".join(filter(None, (text(claim.payer_id), text(claim.payer_name)))) or "unknown"
    charge = claim.charge
    out.write(f"\n-- claim {text(claim.claim_id)}  (ISA13 {isa}, GS06 {gs}, ST02 {st}; "
              f"payer {payer}; billing NPI {text(claim.billing_npi) or 'unknown'}; "
              f"date of service {claim.service_dates or 'unknown'}; "
              f"charge {dollars(charge) if charge is not None else 'unknown'}; "
              f"segments {claim.first_index}-{claim.last_index}): "
              f"{_counts(severity_counts(claim.findings))}\n")
    for segment in claim.segments:
        _segment(out, segment)
    for finding in claim.unplaced:
        out.write(f"  [{finding.segment_index or '':>6}] {NOT_READ}\n")
        _finding(out, finding)


@writer("annotated")
def write_annotated(report: Report, out: TextIO, options=None) -> None:
    """Every claim with findings, whatever ``options`` say: this is the detail the
    HTML report points to when it leaves segments out."""
    numbers = figures(report)
    out.write("edi837 annotated report\n")
    out.write(f"tool edi837 {report.tool_version}; drug table {report.drug_table_version}; "
              f"run {iso_time(report.started)} to {iso_time(report.finished or report.started)} "
              f"({run_seconds(report)} s)\n")
    if reference_note(report):
        out.write(f"reference data: {reference_note(report)}\n")
    out.write(f"{summary_line(numbers)}; "
              f"{plural(numbers.claims_with_findings, 'claim')} with findings\n")
    out.write(held_line(numbers) + "\n")
    for line in breakdown(numbers):
        out.write(line + "\n")
    for view, file in zip(file_views(report), numbers.files, strict=True):
        result = view.result
        out.write(f"\n== file {text(result.path)}\n")
        out.write(f"   sha256 {result.sha256 or '(not read)'}, {result.size:,} bytes, "
                  f"status {status_word(result.status)}; "
                  f"{plural(result.transactions, 'transaction')}, "
                  f"{plural(result.claims, 'claim')}, {plural(result.drug_lines, 'drug line')}: "
                  f"{_counts(file.counts)}; charges held {dollars(file.held.charges)} on "
                  f"{plural(file.held.claims, 'claim')}\n")
        out.write(f"   {plural(view.claims_with_findings, 'claim')} with findings; "
                  f"{plural(result.claims - view.claims_with_findings, 'claim')} without "
                  f"findings (not printed)\n")
        if view.changed:
            out.write("   warning: the file changed since it was checked; "
                      "segments below may not match\n")
        for finding in view.unlocated:
            _finding(out, finding, marker="!")
        for item in view.items():
            if isinstance(item, ClaimView):
                _claim(out, item)
            else:
                out.write("\n")
                _segment(out, item)
