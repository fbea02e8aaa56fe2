"""Text report, like a linter: one line per finding, then a summary."""
from __future__ import annotations

from collections import Counter
from typing import TextIO

from ..engine import Report
from . import writer
from .common import figures, iso_time, money, text


def finding_line(finding) -> str:
    path = text(finding.path)
    where = f"{path}:{finding.segment_index}" if finding.segment_index else path
    context = []
    if finding.claim_id:
        context.append(f"claim {text(finding.claim_id)}")
    if finding.line_number is not None:
        context.append(f"line {finding.line_number}")
    suffix = f" [{', '.join(context)}]" if context else ""
    return f"{where}: {finding.rule} {finding.severity} {text(finding.message)}{suffix}"


@writer("text", ".txt")
def write_text(report: Report, out: TextIO) -> None:
    for finding in report.findings:
        out.write(finding_line(finding) + "\n")
    summary = report.summary()
    out.write(f"\n{summary['files']} files, {summary['claims']} claims, "
              f"{summary['drug_lines']} drug lines: {summary['errors']} errors, "
              f"{summary['warnings']} warnings, {summary['infos']} infos "
              f"(drug table {report.drug_table_version})\n")
    by_rule = Counter((f.rule, f.severity) for f in report.findings)
    for (rule, severity), count in sorted(by_rule.items()):
        out.write(f"  {rule} {severity}: {count}\n")
    totals = figures(report)
    if totals.at_risk_lines:
        out.write(f"  charges on lines with errors: {money(totals.at_risk)} "
                  f"on {totals.at_risk_lines} lines\n")
    for result in report.files:
        state = "unreadable" if result.status == "unreadable" else "read"
        out.write(f"  {state}: {text(result.path)} sha256 {result.sha256 or '-'}\n")
    out.write(f"edi837 {report.tool_version}, run {iso_time(report.started)}\n")
