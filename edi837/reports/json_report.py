"""The JSON report: the contract of the rule catalog (schemas/report.schema.json).

Written as a stream, one finding at a time, so a file with hundreds of
thousands of findings is never held as one document in memory.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import TextIO

from ..results import FileResult, Report
from . import writer
from .figures import FileFigures, figures


def _time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


def _not_json(value):
    raise TypeError(f"{type(value).__name__} is not JSON")


# Made once: json.dumps with an option builds an encoder (and the C encoder under
# it) on every call, and this runs for every finding.  The C encoder is CPython's
# (json.encoder); where it is missing, the encoder object does the same.
if json.encoder.c_make_encoder is not None:
    _encode = json.encoder.c_make_encoder(None, _not_json, json.encoder.encode_basestring,
                                          None, ": ", ", ", False, False, True)

    def _dumps(value) -> str:
        return "".join(_encode(value, 0))
else:  # pragma: no cover - every CPython has it
    _dumps = json.JSONEncoder(ensure_ascii=False).encode


def _file_head(result: FileResult, numbers: FileFigures) -> dict:
    return {"path": result.path, "status": result.status, "sha256": result.sha256,
            "size": result.size, "transactions": result.transactions,
            "claims": result.claims, "drug_lines": result.drug_lines,
            "claims_with_findings": numbers.claims, **numbers.held.as_dict()}


@writer("json")
def write_json(report: Report, out: TextIO, options=None) -> None:
    """Every finding whatever ``options`` say: machines filter for themselves."""
    numbers = figures(report)
    head = {
        "tool": {"name": "edi837", "version": report.tool_version},
        "reference_data": {"drug_table": report.drug_table_version, **report.reference_data},
        "run": {"started": _time(report.started),
                "finished": _time(report.finished or report.started),
                "config": report.config_source},
        "summary": numbers.as_dict(),
    }
    out.write("{\n")
    for key, value in head.items():
        out.write(f"  {_dumps(key)}: {_dumps(value)},\n")
    out.write('  "files": [')
    for number, (result, file) in enumerate(zip(report.files, numbers.files)):
        fields = ", ".join(f"{_dumps(k)}: {_dumps(v)}"
                           for k, v in _file_head(result, file).items())
        out.write(("," if number else "") + f"\n    {{{fields}, \"findings\": [")
        for index, finding in enumerate(result.findings):
            out.write(("," if index else "") + "\n      " + _dumps(finding.as_dict()))
        out.write("\n    ]}" if result.findings else "]}")
    out.write("\n  ]\n}\n" if report.files else "]\n}\n")
