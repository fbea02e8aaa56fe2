"""CSV: one row per finding, with the context a biller filters and sorts on
(payer id and name, date of service, line and claim charge, billing NPI).

UTF-8 with a header row.  Every cell goes through ``CsvRows``, so text the
EDI carries (an NDC of ``=cmd|' /C calc'!A0``) is shown, never run, by a
spreadsheet.  The run's provenance (tool and drug table version, run start,
the input file's SHA-256) is in columns, so the file stays plain CSV.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, TextIO

from ..findings import iso_date
from ..results import Report
from ..safetext import CsvRows, excel_safe, shown
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


_QUOTED = re.compile('[,"\r\n]')  # what the csv module quotes a cell for (and more)


class _Rows(CsvRows):
    """CsvRows, each distinct cell made safe and CSV-quoted once: a finding's row is
    its cells' texts joined (the csv module quotes a cell whatever the cells beside
    it, so a cell quoted on its own is quoted as in a row)."""

    def __init__(self, out: TextIO, columns: Iterable[str]) -> None:
        super().__init__(out, columns)
        self._write = out.write
        self._quoted: dict[str | None, str] = {None: ""}  # a text cell -> safe and quoted
        self._buffer = io.StringIO()
        self._one = csv.writer(self._buffer, lineterminator="\n")

    def _cell(self, value: Any) -> str:
        """``value`` as the csv module writes it in a row of several cells."""
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._one.writerow((value, ""))
        return buffer.getvalue()[:-2]  # the empty cell: "," and the line's end

    def write(self, cells: Iterable[Any]) -> None:
        quoted = self._quoted
        if len(quoted) > self.CACHE:
            quoted.clear()
            quoted[None] = ""
        if cells.__class__ is not tuple:
            cells = tuple(cells)
        try:
            texts: list[Any] = list(map(quoted.get, cells))  # (keys: texts and None only)
        except TypeError:  # a cell that cannot be a key (none of a finding's)
            texts = [None] * len(cells)
        if None in texts:  # a text not seen yet, or not a text
            for n, text in enumerate(texts):
                if text is None:
                    texts[n] = self._text(cells[n])
        self._write(",".join(texts) + "\n")

    def _text(self, cell: Any) -> str:
        if cell.__class__ is str:
            text = excel_safe(shown(cell))
            if _QUOTED.search(text):  # else the csv module writes it as it is
                text = self._cell(text)
            self._quoted[cell] = text
            return text
        if cell.__class__ is int:
            return int.__repr__(cell)
        if isinstance(cell, (int, float)):
            return self._cell(cell)
        return self._cell(excel_safe(shown(cell)))


@writer("csv")
def write_csv(report: Report, out: TextIO, options=None) -> None:
    rows = _Rows(out, COLUMNS)
    started = iso_time(report.started)
    reference = reference_note(report)
    # the figures (the summary line after the report) are counted in the same pass
    counter = FigureCounter(getattr(report, "held_outside_of", None)) \
        if counted(report) is None else None
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
