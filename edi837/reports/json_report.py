"""The JSON report: the contract of the rule catalog (schemas/report.schema.json)."""
from __future__ import annotations

import datetime as dt
import json
from typing import TextIO

from ..engine import Report
from . import writer


def _time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


def report_document(report: Report) -> dict:
    return {
        "tool": {"name": "edi837", "version": report.tool_version},
        "reference_data": {"drug_table": report.drug_table_version},
        "run": {"started": _time(report.started),
                "finished": _time(report.finished or report.started),
                "config": report.config_source},
        "summary": report.summary(),
        "files": [
            {"path": result.path, "status": result.status,
             "sha256": result.sha256, "size": result.size,
             "transactions": result.transactions, "claims": result.claims,
             "drug_lines": result.drug_lines,
             "findings": [finding.as_dict() for finding in result.findings]}
            for result in report.files
        ],
    }


@writer("json", ".json")
def write_json(report: Report, out: TextIO) -> None:
    json.dump(report_document(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
