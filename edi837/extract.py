"""`edi837 extract`: one flat row per drug line, with its claim context.

A drug line (rule catalog) is a service line whose HCPCS code is in the drug
table, or any J-code or other code of the drug-line patterns (policies.toml
``[[drug_lines]]``: C9399, biosimilar Q-codes), or any line with a 2410 LIN.
"""
from __future__ import annotations

import json
import sys as _sys
from typing import Callable, Iterable, Iterator, TextIO

from . import _CallableModule
from .drug_codes import is_drug_code
from .model import Claim, ServiceLine
from .safetext import CsvRows
from .x12.reader import display

COLUMNS = (
    "file", "interchange_control_number", "group_control_number",
    "transaction_control_number", "transaction_type", "claim_id", "line_number",
    "payer_id", "payer_name", "claim_filing_indicator", "date_of_service",
    "date_of_service_end", "hcpcs", "modifiers", "units", "unit_basis", "charge",
    "revenue_code", "ndc_qualifier", "ndc", "ndc_quantity", "ndc_unit", "diagnosis_codes",
    "pointed_diagnosis_codes", "rendering_npi", "ordering_npi", "referring_npi",
    "segment_index",
)


def is_drug_line(line: ServiceLine, table_codes: Callable[[str], bool]) -> bool:
    code = line.procedure
    return line.drug is not None or table_codes(code) or is_drug_code(code)


def pointed_diagnoses(claim: Claim, line: ServiceLine) -> list[str]:
    codes = []
    for pointer in line.pointers:
        dx = claim.diagnosis_at(pointer)
        if dx is not None:
            codes.append(dx.code)
    return codes


def row(claim: Claim, line: ServiceLine) -> dict:
    env = claim.envelope
    drug = line.drug
    rendering = line.rendering or claim.rendering
    referring = line.referring or claim.referring
    return {
        "file": env.path,
        "interchange_control_number": env.interchange,
        "group_control_number": env.group,
        "transaction_control_number": env.transaction,
        "transaction_type": env.kind,
        "claim_id": claim.claim_id,
        "line_number": line.number,
        "payer_id": claim.payer_id,
        "payer_name": claim.payer_name,
        "claim_filing_indicator": claim.filing_indicator,
        "date_of_service": claim.line_date(line),
        "date_of_service_end": line.service_date_end,
        "hcpcs": line.procedure,
        "modifiers": " ".join(line.modifiers),
        "units": line.units,
        "unit_basis": line.unit_basis,
        "charge": line.charge,
        "revenue_code": line.revenue_code,
        "ndc_qualifier": drug.qualifier if drug else "",
        "ndc": drug.ndc if drug else "",
        "ndc_quantity": drug.quantity if drug else "",
        "ndc_unit": drug.unit if drug else "",
        "diagnosis_codes": " ".join(claim.diagnosis_codes()),
        "pointed_diagnosis_codes": " ".join(pointed_diagnoses(claim, line)),
        "rendering_npi": rendering.npi if rendering else "",
        "ordering_npi": line.ordering.npi if line.ordering else "",
        "referring_npi": referring.npi if referring else "",
        "segment_index": line.segment_index,
    }


def rows(claims: Iterable[Claim], table_codes: Callable[[str], bool]) -> Iterator[dict]:
    for claim in claims:
        for line in claim.lines:
            if is_drug_line(line, table_codes):
                yield row(claim, line)


# JSON lines are split on LF only by the format, but str.splitlines() and many
# tools also end a line at NEL, LS and PS (json escapes the controls below 0x20
# itself): written as JSON escapes so one row is one line for any consumer.
_LINE_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\x85\u2028\u2029"}


class RowWriter:
    """Write rows as CSV (with header, Excel-safe) or JSON lines."""

    def __init__(self, out: TextIO, fmt: str, columns: tuple[str, ...] = COLUMNS) -> None:
        self.fmt = fmt
        self.out = out
        self.columns = columns
        self._csv = CsvRows(out, columns) if fmt == "csv" else None

    def write(self, record: dict) -> None:
        if self._csv is not None:
            self._csv.write([record.get(c, "") for c in self.columns])
        else:
            record = {key: display(value) if isinstance(value, str) else value
                      for key, value in record.items()}
            line = json.dumps(record, ensure_ascii=False)
            if not line.isascii():  # characters some readers take for a line end, escaped
                line = line.translate(_LINE_BREAKS)
            self.out.write(line + "\n")


# `edi837.extract(...)` calls edi837.api.extract: this module is callable (edi837/__init__.py)
_sys.modules[__name__].__class__ = _CallableModule
