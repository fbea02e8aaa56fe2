"""The JSON report: the contract of the rule catalog (schemas/report.schema.json).

Written as a stream, one finding at a time, so a file with hundreds of
thousands of findings is never held as one document in memory.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import IO, Iterable, Iterator, TextIO

from ..findings import Finding, iso_date
from ..results import FileResult, Report
from ..x12.text import display
from . import writer
from .figures import FigureCounter, FileFigures, counted, remember


def _time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds")


def _not_json(value):
    raise TypeError(f"{type(value).__name__} is not JSON")


# Made once: json.dumps with an option builds an encoder (and the C encoder under
# it) on every call, and this runs for every finding.  The C encoder is CPython's
# (json.encoder); where it is missing, the encoder object does the same.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)  # not in the stubs
if _c_make_encoder is not None:
    _encode = _c_make_encoder(None, _not_json, json.encoder.encode_basestring,
                              None, ": ", ", ", False, False, True)

    def _dumps(value) -> str:
        return "".join(_encode(value, 0))
else:  # pragma: no cover - every CPython has it
    _encoder = json.JSONEncoder(ensure_ascii=False)

    def _dumps(value) -> str:
        return _encoder.encode(value)


def _file_head(result: FileResult, numbers: FileFigures) -> dict:
    return {"path": result.path, "status": result.status, "sha256": result.sha256,
            "size": result.size, "transactions": result.transactions,
            "claims": result.claims, "drug_lines": result.drug_lines,
            "claims_with_findings": numbers.claims, **numbers.held.as_dict(),
            **numbers.held_outside.as_dict("_above"),
            **({"rejected_sets": [  # validate: the sets its 999 rejects
                {"interchange": isa13, "group": gs06, "transaction": st02, "claims": claims}
                for isa13, gs06, st02, claims in result.rejected_sets]}
               if result.rejected_sets else {})}


class _Spool:
    """Text written once and read back once in order: in memory up to ``limit``
    characters, then in a temporary file (the findings of a large file)."""

    def __init__(self, limit: int = 1 << 18) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0
        self._file: IO[str] | None = None

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= self.limit:
            if self._file is None:
                import tempfile  # a large report only (tempfile imports shutil, bz2, lzma)

                self._file = tempfile.TemporaryFile(
                    "w+", encoding="utf-8", errors="surrogatepass", newline="")
            self._file.write("".join(self._parts))
            self._parts, self._size = [], 0

    def rewind(self) -> None:
        self._tail = "".join(self._parts)
        self._parts = []
        if self._file is not None:
            self._file.seek(0)

    def copy(self, out: TextIO, count: int) -> None:
        """The next ``count`` characters to ``out``."""
        while count > 0 and self._file is not None:
            chunk = self._file.read(min(count, 1 << 20))
            if not chunk:
                self._file.close()
                self._file = None
                break
            out.write(chunk)
            count -= len(chunk)
        if count > 0:
            out.write(self._tail[:count])
            self._tail = self._tail[count:]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


_string = json.encoder.encode_basestring  # the C function in CPython: "..." escaped
_FINDING = ('{"rule": %s, "severity": %s, "message": %s, "claim_id": %s, "line_number": %s, '
            '"hcpcs": %s, "segment": %s, "segment_index": %s, "loop": %s, "value": %s, '
            '"interchange_control_number": %s, "group_control_number": %s, '
            '"transaction_control_number": %s, "payer_id": %s, "payer_name": %s, '
            '"date_of_service": %s, "charge": %s, "claim_charge": %s, "billing_npi": %s, '
            '"payment_limit": %s, "policy": %s, "fix": %s}')


def _value(value) -> str:
    """A value as the encoder writes it."""
    if value is None:
        return "null"
    if value.__class__ is str:
        return _string(value)
    if value.__class__ is int:
        return int.__repr__(value)
    return _dumps(value)


def _text(value: str | None) -> str:
    """EDI text as the characters meant (Finding.as_dict's display), encoded."""
    if value is None:
        return "null"
    return _string(value if value.isascii() else display(value))


# Encoded texts a file repeats (rule, severity, payer, control numbers, a checklist's
# message...), each made once: a dict lookup instead of a test and an encoding per field.
_KEPT = 4096  # texts of each kind kept; a full set starts over
_plain: dict[str | None, str] = {None: "null"}  # _value of a str
_edi: dict[str | None, str] = {None: "null"}  # _text
_messages: dict[str, str] = {}  # _string(display(message))
_dates: dict[str | None, str] = {}  # _value(iso_date(date))


def _kept(kind: dict, key, text: str) -> str:
    if len(kind) >= _KEPT:
        kind.clear()
        if kind is _plain or kind is _edi:
            kind[None] = "null"
    kind[key] = text
    return text


def finding_json(f: Finding) -> str:
    """``_dumps(f.as_dict())`` written directly: the same text at a fraction of the cost
    (this runs for every finding)."""
    plain, edi, text = _plain.get, _edi.get, _text
    return _FINDING % (
        plain(f.rule) or _kept(_plain, f.rule, _value(f.rule)),
        plain(f.severity) or _kept(_plain, f.severity, _value(f.severity)),
        _messages.get(f.message) or _kept(_messages, f.message, _string(display(f.message))),
        text(f.claim_id), _value(f.line_number),
        edi(f.hcpcs) or _kept(_edi, f.hcpcs, text(f.hcpcs)),
        plain(f.segment) or _kept(_plain, f.segment, _value(f.segment)),
        _value(f.segment_index),
        plain(f.loop) or _kept(_plain, f.loop, _value(f.loop)),
        edi(f.value) or _kept(_edi, f.value, text(f.value)),
        edi(f.interchange) or _kept(_edi, f.interchange, text(f.interchange)),
        edi(f.group) or _kept(_edi, f.group, text(f.group)),
        edi(f.transaction) or _kept(_edi, f.transaction, text(f.transaction)),
        edi(f.payer_id) or _kept(_edi, f.payer_id, text(f.payer_id)),
        edi(f.payer_name) or _kept(_edi, f.payer_name, text(f.payer_name)),
        _dates.get(f.service_date) or _kept(_dates, f.service_date,
                                             _value(iso_date(f.service_date))),
        text(f.charge), text(f.claim_charge),
        edi(f.billing_npi) or _kept(_edi, f.billing_npi, text(f.billing_npi)),
        _value(f.payment_limit),
        plain(f.policy) or _kept(_plain, f.policy, _value(f.policy)),
        _dumps(f.fix.as_dict()) if f.fix else "null")


def _findings(findings: Iterable[Finding]) -> Iterator[str]:
    """A file's findings as the text of its "findings" list (before its closing)."""
    first = True
    for finding in findings:
        yield ("\n      " if first else ",\n      ") + finding_json(finding)
        first = False


@writer("json")
def write_json(report: Report, out: TextIO, options=None) -> None:
    """Every finding whatever ``options`` say: machines filter for themselves.

    The summary comes before the files: unless the figures were counted already,
    the findings are encoded into a spool while they are counted (one pass),
    then written after the summary."""
    numbers = counted(report)
    spool = lengths = None
    if numbers is None:
        counter = FigureCounter(getattr(report, "held_outside_of", None))
        spool, lengths = _Spool(), []
        for result in report.files:
            length = 0
            for text in _findings(counter.counted(result)):
                spool.write(text)
                length += len(text)
            lengths.append(length)
        numbers = counter.figures()
        remember(report, numbers)
        spool.rewind()
    try:
        _write(report, numbers, out, spool, lengths)
    finally:
        if spool is not None:
            spool.close()


def _write(report: Report, numbers, out: TextIO, spool: _Spool | None,
           lengths: list[int] | None) -> None:
    head = {
        "tool": {"name": "edi837", "version": report.tool_version},
        "reference_data": {"drug_table": report.drug_table_version, **report.reference_data},
        "run": {"started": _time(report.started),
                "finished": _time(report.finished or report.started),
                "config": report.config_source, "notices": list(report.notices)},
        "summary": numbers.as_dict(),
    }
    out.write("{\n")
    for key, value in head.items():
        out.write(f"  {_dumps(key)}: {_dumps(value)},\n")
    out.write('  "files": [')
    for number, (result, file) in enumerate(zip(report.files, numbers.files, strict=True)):
        fields = ", ".join(f"{_dumps(k)}: {_dumps(v)}"
                           for k, v in _file_head(result, file).items())
        out.write(("," if number else "") + f"\n    {{{fields}, \"findings\": [")
        if spool is not None and lengths is not None:
            spool.copy(out, lengths[number])
            written = lengths[number] > 0
        else:
            written = False
            for text in _findings(result.findings):
                out.write(text)
                written = True
        out.write("\n    ]}" if written else "]}")
    out.write("\n  ]\n}\n" if report.files else "]\n}\n")
