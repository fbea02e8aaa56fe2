"""Ask pyx12 whether a file is a valid 837 by the implementation guide.

pyx12 is the reference validator the samples and the generator are held to.
Its `x12valid` script is awkward to drive from tests: the exit status is 1 for
valid and invalid files alike, the verdict is only a `<file>: OK|Failure` line
on stderr, and the error details go to a 999 file beside the input.  So this
helper calls the same library function the script calls,
`pyx12.x12n_document.x12n_document`, in-process, reads its boolean verdict,
and collects the errors from pyx12's JSON error visitor and its log.

pyx12 reads files as ASCII and raises on a byte-order mark, UTF-16 or a
version id it has no map for ("Map not found"); those come back as a failed
verdict with the exception as the message, never as an exception.
"""
from __future__ import annotations

import io
import json
import logging
import os

import pyx12.errors
import pyx12.params
import pyx12.x12n_document


class _LogCollector(logging.Handler):
    """Keeps pyx12's own log lines (it logs some failures instead of raising)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"log {record.levelname}: {record.getMessage()}")


def pyx12_verdict(path: str | os.PathLike) -> tuple[bool, str]:
    """Validate `path` with pyx12; return (ok, readable error messages)."""
    error_tree = io.StringIO()
    collector = _LogCollector()
    logger = logging.getLogger("pyx12")
    logger.addHandler(collector)
    try:
        # Open it the way pyx12 does (ASCII, universal newlines) so that
        # decoding errors surface here and the file is always closed.
        with open(path, encoding="ascii") as source:
            ok = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=source,
                fd_997=None,
                fd_html=None,
                fd_json=error_tree,
            )
    except (pyx12.errors.EngineError, pyx12.errors.X12Error, UnicodeDecodeError) as exc:
        return False, f"pyx12 raised {type(exc).__name__}: {exc}"
    finally:
        logger.removeHandler(collector)
    # The error tree has positions; the log repeats it, but is all there is
    # when pyx12 gives up before building the tree.
    messages = _error_lines(error_tree.getvalue()) or collector.lines
    return ok, "\n".join(messages)


def _error_lines(error_json: str) -> list[str]:
    """Flatten pyx12's nested ISA/GS/ST/segment/element error tree to lines."""
    if not error_json:
        return []
    lines: list[str] = []
    for interchange in json.loads(error_json)["interchanges"]:
        lines += _envelope_errors("ISA", interchange)
        for group in interchange["groups"]:
            lines += _envelope_errors("GS", group)
            for transaction in group["transactions"]:
                lines += _envelope_errors("ST", transaction)
                for segment in transaction["segments"]:
                    lines += _segment_errors(segment)
    return lines


def _envelope_errors(level: str, node: dict) -> list[str]:
    return [
        f"line {node['cur_line']} {level} error {error['err_cde']}: {error['err_str']}"
        for error in node["errors"]
    ]


def _segment_errors(segment: dict) -> list[str]:
    where = f"line {segment['cur_line']} {segment['seg_id']}"
    if segment["ls_id"]:
        where += f" (loop {segment['ls_id']})"
    lines = [
        f"{where} segment error {error['err_cde']}: {error['err_str']} [{error['err_val']}]"
        for error in segment["errors"]
    ]
    for element in segment["elements"]:
        position = f"{segment['seg_id']}{element['ele_pos']:02d}"
        if element["subele_pos"]:
            position += f"-{element['subele_pos']}"
        lines += [
            f"{where} {position} element error {error['err_cde']}: "
            f"{error['err_str']} [{error['err_val']}]"
            for error in element["errors"]
        ]
    return lines
