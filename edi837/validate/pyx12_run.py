"""pyx12, in-process: imported once, its maps cached, its errors and 999 captured."""
from __future__ import annotations

import io
import logging
import time

from .ack_values import ack_value
from .ack_values import text as ack_text
from .units import (
    _ELEMENT_REF,
    _ENVELOPE,
    _HEADER_CODES,
    _LOOP_ID,
    _TRAILER,
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
    """Import pyx12 lazily (only `validate` needs it) and define the handler."""
    global _pyx12
    if _pyx12 is not None:
        return _pyx12
    import pyx12.error_999
    import pyx12.error_handler
    import pyx12.error_visitor
    import pyx12.map_if
    import pyx12.params
    import pyx12.rawx12file
    import pyx12.segment
    import pyx12.x12n_document

    class Handler(pyx12.error_handler.err_handler):
        """pyx12's error tree, with the loop ids and the errors it drops."""

        def __init__(self) -> None:
            super().__init__()
            self.orphans: list[tuple[str, str, str | None, int | None]] = []

        def add_seg(self, map_node, seg_data, seg_count, cur_line, ls_id):
            # pyx12 issue #120: IK303 is the LS/LE loop id, which 837s never
            # have, so every IK3 leaves the loop blank.  Use the map's loop.
            if not ls_id and map_node is not None:
                parent = map_node.get_parent()
                loop = getattr(parent, "id", None) or ""
                ls_id = loop if _LOOP_ID.match(loop) else None
            super().add_seg(map_node, seg_data, seg_count, cur_line, ls_id)

        def seg_error(self, err_cde, err_str, err_value=None, src_line=None):
            # Outside a transaction set (or when the current node is an
            # ISA/GS/ST node) pyx12 fails to attach the error, logs "No
            # current segment in error_handler" and drops it.  Keep it.
            node = self.cur_seg_node
            if self.cur_st_node is None or node is None or node.id != "SEG":
                line = src_line or (node.get_cur_line() if node is not None else None)
                self.orphans.append((err_cde, err_str, err_value, line))
                return
            super().seg_error(err_cde, err_str, err_value, src_line)

    class Collector(pyx12.error_visitor.error_visitor):
        """Visit the error tree; yield (level, code, message, line, segment,
        loop, element, bad value) with pyx12's line numbers."""

        def __init__(self) -> None:
            self.errors: list[tuple] = []

        def _envelope(self, node, tag: str) -> None:
            name = tag.lower()
            header = getattr(node, f"cur_line_{name}")
            trailer = getattr(node, f"cur_line_{_TRAILER[tag].lower()}") or header
            for code, message in node.errors:
                at_header = code in _HEADER_CODES[tag]
                self.errors.append(("H", code, message, header if at_header else trailer,
                                    tag if at_header else _TRAILER[tag], None, None, None))
            for element in node.elements:  # errors in ISA/IEA, GS/GE, ST/SE elements
                for code, message, bad in element.errors:
                    match = _ELEMENT_REF.search(message)
                    seg = match.group(1) if match else tag
                    line = header if seg == tag else trailer
                    self.errors.append(("E", code, message, line, seg, None,
                                        _reference(seg, element), bad))

        def visit_isa_post(self, node) -> None:
            self._envelope(node, "ISA")

        def visit_gs_post(self, node) -> None:
            self._envelope(node, "GS")

        def visit_st_post(self, node) -> None:
            self._envelope(node, "ST")

        def visit_seg(self, node) -> None:
            self._seg = node
            for code, message, bad in node.errors:
                self.errors.append(("S", code, message, node.cur_line, node.seg_id,
                                    node.ls_id, None, bad))

        def visit_ele(self, element) -> None:
            seg = self._seg
            for code, message, bad in element.errors:
                self.errors.append(("E", code, message, seg.cur_line, seg.seg_id, seg.ls_id,
                                    _reference(seg.seg_id, element), bad))

    class Ack999(pyx12.error_999.error_999_visitor):
        """pyx12's 999 writer, which raises KeyError on an ST03 error (ST03 not the
        GS08 it read the set by) and leaves the 999 cut off after the AK2: IK502
        for ST01/ST02 as pyx12 has them (6, 7), I6 (implementation convention not
        supported) for ST03, 5 for anything else."""

        def _error_999_visitor__get_st_errors(self, err_st) -> list[str]:
            codes = {err[0] for err in err_st.errors}
            if err_st.child_err_count() > 0:
                codes.add("5")
            for elem in err_st.elements:
                for _, message, _ in elem.errors:
                    if "ST" in message or "SE" in message:
                        codes.add(_ST_ELEMENT_CODES.get(elem.ele_pos, "5"))
            return sorted(codes)

        # What pyx12 copies from the 837 is cleaned to what the 999's elements hold
        # (ack_values): the AK2, IK3 and IK4 writers again, with clean values.
        def visit_root_pre(self, errh) -> None:
            # ISA and GS of the 999: the 837's parties swapped, as pyx12 writes them.
            # (ISA13 and GS06 are stamped from the counter afterwards: x12.control)
            self.isa_control_num = time.strftime("%y%m%d%H%M")[1:]
            self.gs_control_num = "1"
            isa, gs = errh.cur_isa_node.seg_data, errh.cur_gs_node.seg_data
            head = pyx12.segment.Segment("ISA*00*          *00*          ", "~", "*", ":")
            for position, source in (("05", "ISA07"), ("07", "ISA05")):
                qualifier = isa.get_value(source).strip()
                head.set(position, qualifier if qualifier.isalnum() and
                         len(qualifier) == 2 and qualifier.isascii() else "ZZ")
            for position, source in (("06", "ISA08"), ("08", "ISA06")):
                head.set(position, ack_text(isa.get_value(source).strip())[:15].ljust(15))
            head.set("09", time.strftime("%y%m%d"))
            head.set("10", time.strftime("%H%M"))
            head.set("11", self.repetition_term)
            head.set("12", "00501")
            head.set("13", self.isa_control_num)
            head.set("14", "0")
            head.set("15", "P" if isa.get_value("ISA15").strip() == "P" else "T")
            head.set("16", self.subele_term)
            self.wr.Write(head)
            group = pyx12.segment.Segment("GS", "~", "*", ":")
            group.set("01", "FA")
            for position, source in (("02", "GS03"), ("03", "GS02")):
                party = ack_text(gs.get_value(source).strip())[:15].strip()
                group.set(position, party.ljust(2, "0") if party else "NONE")
            group.set("04", time.strftime("%Y%m%d"))
            group.set("05", time.strftime("%H%M%S"))
            group.set("06", self.gs_control_num)
            group.set("07", "X")
            group.set("08", self.vriic)
            self.wr.Write(group)

        def visit_gs_pre(self, err_gs) -> None:
            self.st_control_num += 1
            segment = pyx12.segment.Segment("ST*999", "~", "*", ":")
            segment.set("02", "%04i" % self.st_control_num)
            segment.set("03", self.vriic)
            self.wr.Write(segment)
            segment = pyx12.segment.Segment("AK1", "~", "*", ":")
            segment.set("01", ack_value("AK101", err_gs.fic) or "HC")
            segment.set("02", ack_value("AK102", err_gs.gs_control_num) or "0")
            convention = ack_value("AK103", err_gs.vriic)
            if convention:
                segment.set("03", convention)
            self.wr.Write(segment)

        def visit_st_pre(self, err_st) -> None:
            segment = pyx12.segment.Segment("AK2", "~", "*", ":")
            segment.set("01", ack_value("AK201", err_st.trn_set_id) or "837")
            segment.set("02", ack_value("AK202", err_st.trn_set_control_num.strip()) or "0000")
            convention = ack_value("AK203", err_st.vriic)
            if convention:
                segment.set("03", convention)
            self.wr.Write(segment)

        def visit_seg(self, err_seg) -> None:
            seg_id = ack_value("IK301", err_seg.seg_id)
            self._skip_elements = seg_id is None  # no IK3 to hang its IK4s on
            if seg_id is None:
                return
            codes = [code for code, _, _ in err_seg.errors]
            if "SEG1" in codes:
                codes = [c for c in codes if c != "SEG1"] + (["8"] if "8" not in codes else [])
            codes = [c for c in dict.fromkeys(codes) if c in _IK304_CODES]
            if err_seg.child_err_count() > 0 and "8" not in codes:
                codes.append("8")
            loop = ack_value("IK303", err_seg.ls_id) if err_seg.ls_id else None
            for code in codes:
                segment = pyx12.segment.Segment("IK3", "~", "*", ":")
                segment.set("01", seg_id)
                segment.set("02", "%i" % err_seg.seg_count)
                if loop:
                    segment.set("03", loop)
                segment.set("04", code)
                self.wr.Write(segment)

        def visit_ele(self, err_ele) -> None:
            if getattr(self, "_skip_elements", False):
                return
            for code, _, bad_value in err_ele.errors:
                if code not in _IK403_CODES:
                    continue
                segment = pyx12.segment.Segment("IK4", "~", "*", ":")
                segment.set("01-1", "%i" % err_ele.ele_pos)
                if err_ele.subele_pos:
                    segment.set("01-2", "%i" % err_ele.subele_pos)
                if err_ele.repeat_pos:
                    segment.set("01-3", "%i" % err_ele.repeat_pos)
                if err_ele.ele_ref_num:
                    segment.set("02", str(err_ele.ele_ref_num))
                segment.set("03", code)
                copy = ack_value("IK404", bad_value) if bad_value else None
                if copy:
                    segment.set("04", copy)
                self.wr.Write(segment)

        def visit_st_post(self, err_st) -> None:
            # An error in ST/SE's own elements (say ST03) leaves pyx12's ack code A:
            # the set it could not read by its own convention is rejected.
            if err_st.ack_code in ("A", "E") and any(elem.errors for elem in err_st.elements):
                err_st.ack_code = "R"
            super().visit_st_post(err_st)

    _pyx12 = (pyx12, Handler, Collector, Ack999)
    return _pyx12


_ST_ELEMENT_CODES = {1: "6", 2: "7", 3: "I6"}  # ST/SE element -> IK502
# The codes pyx12's 999 writer keeps in IK304 and IK403 (error_999.py).
_IK304_CODES = ("1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9")
_IK403_CODES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13", "I10", "I11",
                "I12", "I13", "I6", "I9")


def _reference(segment: str, element) -> str:
    ref = f"{segment}{element.ele_pos:02d}"
    return f"{ref}-{element.subele_pos}" if element.subele_pos else ref


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
    except Exception as exc:  # noqa: BLE001 - pyx12 must never stop the run
        crash = f"{type(exc).__name__}: {exc}"
    finally:
        pyx12.error_handler.err_handler, pyx12.map_if.load_map_file, logger.propagate = saved
        pyx12.error_999.error_999_visitor = saved_999
        logger.removeHandler(capture)
    errh = handlers[0] if handlers else None
    if crash is None and (errh is None or not errh.children):
        crash = "; ".join(capture.messages) or "pyx12 read no interchange"
    return errh, ack.getvalue(), crash, lines[0] + 1


def _run_unit(unit: _Unit) -> _UnitResult:
    """Validate one work unit (runs in a worker process): build its text, run
    pyx12, keep the errors that belong to the unit, in original positions."""
    try:
        return _validate_unit(unit)
    except Exception as exc:  # noqa: BLE001 - a half-built error tree, say
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
        kept.append(_Error(level, code, message, index, seg, loop, element, bad))
    if unit.skeleton:
        lines = ack.splitlines()
    else:
        lines = [line for line in ack.splitlines() if line[:3] in ("AK2", "IK3", "IK4", "IK5")]
        if sum(line.startswith("AK2") for line in lines) != unit.sets:
            lines = []
    return _UnitResult(kept, lines, crash, where(crash_line) if crash else None)


