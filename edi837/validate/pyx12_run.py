"""pyx12, in-process: imported once, its maps cached, its errors and 999 captured."""
from __future__ import annotations

import io
import logging

from .units import (
    _ENVELOPE,
    _Error,
    _Text,
    _Unit,
    _UnitResult,
)

# -- pyx12, in-process ------------------------------------------------------------
_pyx12 = None


class Pyx12Missing(RuntimeError):
    """pyx12 is not installed (it is an optional dependency)."""


def require_pyx12() -> str:
    """pyx12's version; Pyx12Missing when it cannot be imported."""
    try:
        import pyx12
    except ImportError as exc:
        raise Pyx12Missing(f"IG validation needs pyx12 4.0 (pip install pyx12): {exc}") from exc
    return pyx12.__version__


def _import_pyx12():
    """Import pyx12 lazily (only `validate` needs it), with edi837's handler classes
    (pyx12_handlers)."""
    global _pyx12
    if _pyx12 is None:
        import pyx12

        from .pyx12_handlers import Ack999, Collector, Handler

        _pyx12 = (pyx12, Handler, Collector, Ack999)
    return _pyx12


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_MAPS: dict = {}


def _cached_map(load):
    """pyx12 parses the guide's XML map (0.15-0.2 s) on every run; its map
    objects keep no state while validating (counts live in the walker), so one
    per process serves every run."""
    def load_map_file(map_file, param, map_path=None):
        key = (map_file, map_path)
        if key not in _MAPS:
            _MAPS[key] = load(map_file, param, map_path)
        return _MAPS[key]
    return load_map_file


def _run_pyx12(text: str):
    """Validate X12 text; return (handler or None, 999 text, crash message, last line).

    Not thread-safe: pyx12 module attributes are swapped for the call (work
    units run in processes, never threads).
    """
    pyx12, Handler, _, Ack999 = _import_pyx12()
    handlers: list = []
    lines = [0]

    def make_handler():
        handlers.append(Handler())
        return handlers[-1]

    def seen(seg, src, node, valid):
        lines[0] = src.get_cur_line()

    logger = logging.getLogger("pyx12")
    capture = _LogCapture()
    saved = pyx12.error_handler.err_handler, pyx12.map_if.load_map_file, logger.propagate
    saved_999 = pyx12.error_999.error_999_visitor
    logger.addHandler(capture)
    logger.propagate = False  # pyx12 logs each error; without this they reach stderr
    ack = io.StringIO()
    crash = None
    try:
        # x12n_document turns a bad ISA into a bare False and a log line
        # naming the stream; the reader's own exception says what is wrong.
        pyx12.rawx12file.RawX12File(io.StringIO(text[:2048]))
        # x12n_document creates its handler with pyx12.error_handler.err_handler()
        # and offers no parameter for it: substitute ours for this call.
        pyx12.error_handler.err_handler = make_handler
        pyx12.map_if.load_map_file = _cached_map(saved[1])
        pyx12.error_999.error_999_visitor = Ack999
        pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=ack,
            fd_html=None, callback=seen)
    except Exception as exc:  # pyx12 must never stop the run
        crash = f"{type(exc).__name__}: {exc}"
    finally:
        pyx12.error_handler.err_handler, pyx12.map_if.load_map_file, logger.propagate = saved
        pyx12.error_999.error_999_visitor = saved_999
        logger.removeHandler(capture)
    errh = handlers[0] if handlers else None
    if crash is None and (errh is None or not errh.children):
        crash = "; ".join(capture.messages) or "pyx12 read no interchange"
    return errh, ack.getvalue(), crash, lines[0] + 1


def _ta1_artefact(seg: str | None, code: str, message: str) -> bool:
    """pyx12's "mandatory loop GS_LOOP missing" on a TA1 between ISA and GS.

    X12 places TA1 (interchange acknowledgment) in the interchange, after the ISA
    and before the functional groups, and pyx12's own control map
    (x12.control.00501.xml) has it there: TA1 at position 020 of ISA_LOOP, beside
    GS_LOOP.  pyx12's walker passes GS_LOOP to reach it and logs the loop missing,
    drops the error and accepts the set in its 999: the error is the walker's, not
    the file's (check's reader takes the TA1 too), so it is no finding either.
    """
    return seg == "TA1" and code == "3" and "GS_LOOP" in message


def _run_unit(unit: _Unit) -> _UnitResult:
    """Validate one work unit (runs in a worker process): build its text, run
    pyx12, keep the errors that belong to the unit, in original positions."""
    try:
        return _validate_unit(unit)
    except Exception as exc:  # a half-built error tree, say
        return _UnitResult([], [], f"{type(exc).__name__}: {exc}")


def _validate_unit(unit: _Unit) -> _UnitResult:
    texts: list[str] = []
    origin: list[int | None] = []  # pyx12 line (1-based) -> original index
    with open(unit.source, "rb") as normalised:
        for part in unit.parts:
            if isinstance(part, _Text):
                texts.append(part.text)
                origin.append(part.index)
            else:
                normalised.seek(part.start)
                texts.append(normalised.read(part.end - part.start).decode("latin-1"))
                origin.extend(range(part.first_index, part.first_index + part.count))
    text = "".join(texts)
    errh, ack, crash, crash_line = _run_pyx12(text)

    def where(line: int | None) -> int | None:
        return origin[line - 1] if line and 0 < line <= len(origin) else None

    if errh is None:
        return _UnitResult([], [], crash, where(crash_line))
    _, _, Collector, _ = _import_pyx12()
    collector = Collector()
    errh.accept(collector)
    lines = text.splitlines()
    separator, terminator = text[3], text[105]

    def segment_id(line: int | None) -> str | None:
        if line and 0 < line <= len(lines):
            return lines[line - 1].rstrip(terminator).split(separator, 1)[0]
        return None

    raw = collector.errors + [("S", code, message, line, segment_id(line), None, None, bad)
                              for code, message, bad, line in errh.orphans]
    kept = []
    for level, code, message, line, seg, loop, element, bad in raw:
        index = where(line)
        if unit.skeleton:
            # Envelopes only: ISA/GS level, duplicate ST control numbers and
            # missing SE; segment errors of stray segments between sets (not
            # the "mandatory segment missing" of the sets reduced to an ST).
            # The sets' own errors come from the units that hold them.
            if seg in ("ST", "SE") and not (level == "H" and code in ("23", "2")):
                continue
            if level != "H" and seg != segment_id(line):
                continue
        else:
            # Only the transaction sets: their ISA/GS/GE/IEA are borrowed or made up.
            if seg in _ENVELOPE or (level == "H" and code == "23"):
                continue
        if index is None:
            continue  # a synthetic segment: the error is an artefact of the split
        if _ta1_artefact(seg, code, message):
            continue
        kept.append(_Error(level, code, message, index, seg, loop, element, bad))
    if unit.skeleton:
        lines = ack.splitlines()
    else:
        lines = [line for line in ack.splitlines() if line[:3] in ("AK2", "IK3", "IK4", "IK5")]
        if sum(line.startswith("AK2") for line in lines) != unit.sets:
            lines = []
    return _UnitResult(kept, lines, crash, where(crash_line) if crash else None)


