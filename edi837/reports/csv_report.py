"""CSV: one row per finding, with the context a biller filters and sorts on.

UTF-8 with a header row.  Every cell goes through ``excel_safe``, so text the
EDI carries (an NDC of ``=cmd|' /C calc'!A0``) is shown, never run, by a
spreadsheet.  The run's provenance (tool and drug table version, run start,
the input file's SHA-256) is in columns, so the file stays plain CSV.
"""
from __future__ import annotations

import csv
from typing import TextIO

from ..engine import Report
from ..extract import excel_safe
from . import writer
from .common import fix_hint, iso_time, ndc_of, text

COLUMNS = (
    "file", "interchange_control_number", "group_control_number",
    "transaction_control_number", "claim_id", "payer_id", "line_number", "hcpcs", "ndc",
    "units", "line_charge", "rule", "severity", "message", "value", "segment",
    "segment_index", "loop", "fix_hint", "file_sha256", "tool_version", "drug_table_version",
    "run_started",
)


@writer("csv", ".csv")
def write_csv(report: Report, out: TextIO) -> None:
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(COLUMNS)
    started = iso_time(report.started)
    for result in report.files:
        for f in result.findings:
            rows.writerow([excel_safe(cell) for cell in (
                text(f.path), text(f.interchange), text(f.group), text(f.transaction),
                text(f.claim_id), text(f.payer_id),
                "" if f.line_number is None else f.line_number, text(f.hcpcs),
                text(ndc_of(f)), text(f.extra.get("units")), text(f.charge),
                f.rule, f.severity, text(f.message), text(f.value), text(f.segment),
                "" if f.segment_index is None else f.segment_index, text(f.loop),
                fix_hint(f), result.sha256, report.tool_version, report.drug_table_version,
                started)])
