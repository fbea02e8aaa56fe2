"""Text report, like a linter: one line per finding, then a summary.

Findings below ``--min-severity`` (default: warning) are counted, not listed,
and the summary says how many and how to list them.  The summary gives the
charges held (CLM02 of claims with an error finding) by rule and by payer.
"""
from __future__ import annotations

from typing import TextIO

from ..results import Report
from . import DEFAULT_OPTIONS, ReportOptions, writer
from .common import iso_time, reference_note, text
from .figures import Figures, amount_of, dollars, figures, plural

TOP_PAYER_RULES = 3  # rules named per payer line
NAMED_SETS = 10  # transaction sets the 999 rejects named in the summary (then a count)
VALIDATION_ONLY = "n/a"  # the drug table of a `validate` report: none (edi837.validate)


def finding_line(finding) -> str:
    path = text(finding.path)
    where = f"{path}:{finding.segment_index}" if finding.segment_index else path
    context = []
    if finding.claim_id:
        context.append(f"claim {text(finding.claim_id)}")
    if finding.line_number is not None:
        context.append(f"line {finding.line_number}")
    limit = amount_of(finding.payment_limit)
    if limit is not None:  # CMS ASP payment limit x units, when a pricing file is imported
        context.append(f"ASP limit {dollars(limit)}")
    suffix = f" [{', '.join(context)}]" if context else ""
    return f"{where}: {finding.rule} {finding.severity} {text(finding.message)}{suffix}"


def status_word(status: str) -> str:
    """A file's status for people: OK, findings, unreadable."""
    return "OK" if status == "ok" else status


def summary_line(numbers: Figures, *, drug_lines: bool = True) -> str:
    """'1 file (1 OK), 3 claims, 2 drug lines: 2 errors, 0 warnings, 1 info' (without the
    drug lines for a validation, which reads no drug table)."""
    s = numbers.summary
    lines = f", {plural(s['drug_lines'], 'drug line')}" if drug_lines else ""
    return (f"{plural(s['files'], 'file')} ({numbers.files_ok:,} OK), "
            f"{plural(s['claims'], 'claim')}{lines}: "
            f"{plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}, "
            f"{plural(s['infos'], 'info')}")


def rejected_by_999(report: Report) -> str:
    """`validate`: the transaction sets its 999 does not accept, each named, with the
    claims in them ('' when none): the claims there are not forwarded either."""
    rejected = [found for result in report.files  # (a FileResult's: validate sets them)
                for found in ((result.path, *s) for s in getattr(result, "rejected_sets", ()))]
    if not rejected:
        return ""
    named = [f"{text(path)} set {text(st02) or '?'} (interchange {text(isa13) or '?'}, "
             f"group {text(gs06) or '?'}: {plural(claims, 'claim')})"
             for path, isa13, gs06, st02, claims in rejected]
    claims = sum(found[4] for found in rejected)
    more = f"; and {len(named) - NAMED_SETS:,} more" if len(named) > NAMED_SETS else ""
    return (f"the 999 rejects {plural(len(named), 'transaction set')} with "
            f"{plural(claims, 'claim')}: " + "; ".join(named[:NAMED_SETS]) + more)


def held_line(numbers: Figures, rejected: str = "") -> str:
    """The charges held; with sets the 999 rejects (``rejected``, said on a line of its
    own), never 'no claim held': their claims are not forwarded."""
    if rejected and not numbers.held.claims and not numbers.held_outside.claims:
        return f"no claim has an error of its own: {not_held_why(numbers)}"
    held, outside = numbers.held, numbers.held_outside
    # claims no error of their own holds, but one on the envelope or HL loop above them
    # (a repeated ISA13): the split and the 277CA hold them too
    above = (f"{plural(outside.claims, 'claim')}, {dollars(outside.charges)}, held by an "
             "error on the interchange, group, set or HL loop above them")
    if not held.claims:
        if outside.claims:
            return f"charges held: {above} (none has an error of its own)"
        return f"no claim held: {not_held_why(numbers)}"
    unknown = (f" ({plural(numbers.held_without_charge, 'claim')} without a charge)"
               if numbers.held_without_charge else "")
    return (f"charges held: {dollars(held.charges)} on {plural(held.claims, 'claim')} with "
            f"errors (CLM02, each claim once){unknown}"
            + (f"; and {above}" if outside.claims else ""))


def not_held_why(numbers: Figures) -> str:
    """Why no claim is held: no error at all, no claim read, or errors only outside
    claims (an unreadable file, envelopes, segments in no claim)."""
    errors = numbers.summary["errors"]
    if not errors:
        return "no error finding"
    unreadable = sum(1 for file in numbers.files if file.status == "unreadable")
    note = f" ({plural(unreadable, 'file')} unreadable)" if unreadable else ""
    if not numbers.summary["claims"]:
        return f"no claim read{note}"
    return f"{plural(errors, 'error')} outside any claim{note}"


def breakdown(numbers: Figures) -> list[str]:
    """The figures by rule and by payer (charges held), a line each."""
    lines = ["by rule (a claim held by two rules counts under both):"] if numbers.rules else []
    for rule in numbers.rules:
        counts = ", ".join(plural(n, severity) for severity, n in
                           (("error", rule.errors), ("warning", rule.warnings),
                            ("info", rule.infos)) if n)
        held = (f"; {plural(rule.held.claims, 'claim')} held, {dollars(rule.held.charges)}"
                if rule.held.claims else "")
        lines.append(f"  {rule.rule}: {counts}{held}")
    held_payers = [p for p in numbers.payers if p.held.claims]
    if held_payers:
        lines.append("by payer (charges held):")
    for payer in held_payers:
        rules = ", ".join(f"{code} {dollars(held.charges)}"
                          for code, held in payer.top_rules()[:TOP_PAYER_RULES])
        name = f" {text(payer.name)}" if payer.name else ""
        lines.append(f"  {text(payer.payer_id) or '(no payer id)'}{name}: "
                     f"{dollars(payer.held.charges)} on {plural(payer.held.claims, 'claim')} "
                     f"(largest: {rules})")
    return lines


def write_summary(out: TextIO, report: Report, numbers: Figures, left_out: int = 0,
                  minimum: str = "", *, after_findings: bool = True) -> None:
    """The summary; ``after_findings``: a blank line first, to set it off from the
    finding lines above it (none when no finding was listed)."""
    gap = "\n" if after_findings else ""
    if report.drug_table_version == VALIDATION_ONLY:
        out.write(f"{gap}{summary_line(numbers, drug_lines=False)} (implementation-guide "
                  "validation: no billing rules)\n")
    else:
        out.write(f"{gap}{summary_line(numbers)} (drug table {report.drug_table_version})\n")
    if reference_note(report):
        out.write(f"reference data: {reference_note(report)}\n")
    if left_out:
        out.write(f"{plural(left_out, 'finding')} below {minimum} severity not listed "
                  f"(--min-severity info lists them)\n")
    rejected = rejected_by_999(report)
    out.write(held_line(numbers, rejected) + "\n")
    if rejected:
        out.write(rejected + "\n")
    for line in breakdown(numbers):
        out.write(line + "\n")
    out.write("files:\n")
    for result in report.files:
        out.write(f"  {status_word(result.status)}: {text(result.path)} "
                  f"sha256 {result.sha256 or '-'}\n")
    out.write(f"edi837 {report.tool_version}, run {iso_time(report.started)}\n")


@writer("text")
def write_text(report: Report, out: TextIO, options: ReportOptions | None = None) -> None:
    options = options or DEFAULT_OPTIONS
    left_out = listed = 0
    for finding in report.findings:
        if options.listed(finding.severity):
            out.write(finding_line(finding) + "\n")
            listed += 1
        else:
            left_out += 1
    write_summary(out, report, figures(report), left_out, options.min_severity,
                  after_findings=bool(listed))
