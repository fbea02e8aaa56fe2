"""CSV: one row per finding, with the context a biller filters and sorts on
(payer id and name, date of service, line and claim charge, billing NPI).

UTF-8 with a header row.  Every cell goes through ``CsvRows``, so text the
EDI carries (an NDC of ``=cmd|' /C calc'!A0``) is shown, never run, by a
spreadsheet.  The run's provenance (tool and drug table version, run start,
the input file's SHA-256) is in columns, so the file stays plain CSV.
"""
from __future__ import annotations

from typing import TextIO

from ..findings import iso_date
from ..results import Report
from ..safetext import CsvRows
from . import writer
from .common import fix_hint, iso_time, ndc_of, reference_note
from .figures import FigureCounter, counted, remember

# Amounts stay as written (plain numbers); the date of service is YYYY-MM-DD.
COLUMNS = (
    "file", "interchange_control_number", "group_control_number",
    "transaction_control_number", "claim_id", "payer_id", "payer_name", "billing_npi",
    "date_of_service", "claim_charge", "line_number", "hcpcs", "ndc", "units", "line_charge",
    "rule", "severity", "message", "value", "segment", "segment_index", "loop", "fix_hint",
    "file_sha256", "tool_version", "drug_table_version", "run_started", "payment_limit",
    "reference_data", "policy",
)


@writer("csv")
def write_csv(report: Report, out: TextIO, options=None) -> None:
    rows = CsvRows(out, COLUMNS)
    started = iso_time(report.started)
    reference = reference_note(report)
    # the figures (the summary line after the report) are counted in the same pass
    counter = FigureCounter() if counted(report) is None else None
    hints: dict[str, str] = {}  # rule -> its hint when a finding has no safe fix
    for result in report.files:
        for f in result.findings if counter is None else counter.counted(result):
            if f.fix is None:
                hint = hints.get(f.rule)
                if hint is None:
                    hint = hints[f.rule] = fix_hint(f)
            else:
                hint = fix_hint(f)
            rows.write((  # CsvRows makes every text cell safe
                f.path, f.interchange, f.group, f.transaction, f.claim_id, f.payer_id,
                f.payer_name, f.billing_npi, iso_date(f.service_date), f.claim_charge,
                f.line_number, f.hcpcs, ndc_of(f), f.extra.get("units"), f.charge,
                f.rule, f.severity, f.message, f.value, f.segment, f.segment_index, f.loop,
                hint, result.sha256, report.tool_version, report.drug_table_version,
                started, f.payment_limit, reference, f.policy))
    if counter is not None:
        remember(report, counter.figures())
