"""The JSON report: the contract of the rule catalog (schemas/report.schema.json).

Written as a stream, one finding at a time, so a file with hundreds of
thousands of findings is never held as one document in memory.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import TextIO

from ..engine import FileResult, Report
from . import writer


def _time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _file_head(result: FileResult) -> dict:
    return {"path": result.path, "status": result.status, "sha256": result.sha256,
            "size": result.size, "transactions": result.transactions,
            "claims": result.claims, "drug_lines": result.drug_lines}


@writer("json", ".json")
def write_json(report: Report, out: TextIO) -> None:
    head = {
        "tool": {"name": "edi837", "version": report.tool_version},
        "reference_data": {"drug_table": report.drug_table_version, **report.reference_data},
        "run": {"started": _time(report.started),
                "finished": _time(report.finished or report.started),
                "config": report.config_source},
        "summary": report.summary(),
    }
    out.write("{\n")
    for key, value in head.items():
        out.write(f"  {_dumps(key)}: {_dumps(value)},\n")
    out.write('  "files": [')
    for number, result in enumerate(report.files):
        fields = ", ".join(f"{_dumps(k)}: {_dumps(v)}" for k, v in _file_head(result).items())
        out.write(("," if number else "") + f"\n    {{{fields}, \"findings\": [")
        for index, finding in enumerate(result.findings):
            out.write(("," if index else "") + "\n      " + _dumps(finding.as_dict()))
        out.write("\n    ]}" if result.findings else "]}")
    out.write("\n  ]\n}\n" if report.files else "]\n}\n")
