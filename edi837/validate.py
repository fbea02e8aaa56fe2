"""Implementation-guide validation (SNIP 1-2) with pyx12, without its sharp edges.

pyx12 validates 837s against the 5010 guides and writes 999 acknowledgments,
but unattended jobs trip over it (``shared/reference/peers.md``).  This module
calls it in-process, as a library, and works around what it does badly:

* It reads files as ASCII and raises UnicodeDecodeError on a byte-order mark,
  UTF-16 or any non-ASCII byte; with CRLF plus indentation it reports "leading
  space" on every segment; and it takes the delimiters of the first ISA for
  the whole file.  So it never sees the input file: our reader decodes it and
  we hand pyx12 text with one segment per line, no white space around, in the
  first interchange's delimiters.
* GS08/ST03 variants (X222, X222A2, X223A1, ...) raise an uncaught "Map not
  found": they are rewritten to the nearest guide, with an EDI005 warning.
* Any other exception (broken structure makes it raise IndexError, ValueError,
  AttributeError) becomes one file-level finding, IG001, and the run goes on.
* ``x12n_document`` builds its error handler itself: we substitute a subclass
  for the call so we can read the error tree, keep the errors it drops
  (segment errors outside a transaction set, reader errors on a segment the
  map does not know) and fill in the IK3 loop id it leaves blank.
* It logs every error to stderr and its exit status means nothing: the log is
  captured and the findings are the result.
* It writes the 999 as ``<name>.997``: we write ``<name>.999``.
* It builds the 999's ISA13 from the clock, to the minute, so 999s written in
  the same minute share one: each takes its own from a persistent counter
  (:mod:`edi837.acks.control`) for ISA13/IEA02 and GS06/GE02.
* It parses the guide's XML map again on every run: maps are cached per process.

The normalised copy has one segment per line, so its line k is segment k of
the input as our reader counts them (the index every finding uses).

Validation is slow (about 0.2 MB/s), so each file is cut into work units that
can run in parallel: runs of transaction sets wrapped in their own ISA/GS and
a synthetic GE/IEA, plus one "skeleton" of the file (every segment outside the
transaction sets, each set reduced to its ST and a synthetic SE) that pyx12
checks the envelopes on.  Each unit maps its lines back to input segments and
keeps only the errors that belong to it, so errors are not repeated; errors on
the synthetic segments are artefacts and dropped.  The split does not depend
on ``jobs``: one process or many give the same findings in the same order.

Findings: ``IGH<code>`` envelope errors (ISA/GS/ST level), ``IGS<code>``
segment errors (999 IK3 codes, plus pyx12's own HL1/HL2/LX/SEG1),
``IGE<code>`` element errors (999 IK4 codes), each at its segment index in
the original file.
"""
from __future__ import annotations

import bisect
import io
import logging
import multiprocessing
import os
import re
import tempfile
import time
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NamedTuple

from .acks import ControlNumbers, stamp
from .claims import VARIANTS
from .engine import FileResult, Report
from .files import HashingReader, atomic_output
from .findings import ERROR, INFO, WARNING, Finding
from .model import is_digits
from .x12.reader import Delimiters, SegmentReader, X12SyntaxError

CRASH_RULE = "IG001"  # pyx12 raised, or could not read the input at all
CHUNK_SEGMENTS = 5_000  # segments of transaction sets per work unit (at least one set)
NOT_A_DRUG_TABLE = "n/a"  # validation uses no drug table

_ENVELOPE = frozenset(["ISA", "GS", "GE", "IEA"])
_LOOP_ID = re.compile(r"^\d{4}[A-Z]{0,2}$")  # 2010AA, 2300; not ST_LOOP, HEADER
# Codes pyx12 reports on the header segment; the others are found at the trailer.
_HEADER_CODES = {"ISA": {"025"}, "GS": {"6"}, "ST": {"1", "6", "7", "23"}}
_TRAILER = {"ISA": "IEA", "GS": "GE", "ST": "SE"}
_ELEMENT_REF = re.compile(r"\((ISA|IEA|GS|GE|ST|SE)\d\d")


# -- work units -----------------------------------------------------------------
class _Text(NamedTuple):
    """A segment given literally; ``index`` None for a synthetic one."""
    text: str
    index: int | None


class _Range(NamedTuple):
    """Consecutive segments of the normalised file (bytes start..end)."""
    start: int
    end: int
    first_index: int
    count: int


@dataclass(frozen=True)
class _Unit:
    """One pyx12 run.  ``skeleton``: keep envelope errors only; otherwise keep
    the errors of the ``sets`` transaction sets it holds."""
    source: str
    parts: tuple
    skeleton: bool
    sets: int = 0


class _Error(NamedTuple):
    level: str  # "H" envelope, "S" segment, "E" element
    code: str
    message: str
    index: int | None  # segment index in the original file
    segment: str | None
    loop: str | None
    element: str | None  # NM103, SV101-2
    bad_value: str | None


@dataclass
class _UnitResult:
    errors: list[_Error]
    ack: list[str]  # skeleton: pyx12's whole 999; else its AK2..IK5 lines
    crash: str | None = None
    crash_index: int | None = None


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
    import pyx12.error_handler
    import pyx12.error_visitor
    import pyx12.map_if
    import pyx12.params
    import pyx12.rawx12file
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

    _pyx12 = (pyx12, Handler, Collector)
    return _pyx12


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
    pyx12, Handler, _ = _import_pyx12()
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
        pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=ack,
            fd_html=None, callback=seen)
    except Exception as exc:  # noqa: BLE001 - pyx12 must never stop the run
        crash = f"{type(exc).__name__}: {exc}"
    finally:
        pyx12.error_handler.err_handler, pyx12.map_if.load_map_file, logger.propagate = saved
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
    _, _, Collector = _import_pyx12()
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


# -- preparing a file -------------------------------------------------------------
@dataclass
class _Prepared:
    """A file read once: normalised copy, work units and what positions mean."""
    path: str
    tmpdir: tempfile.TemporaryDirectory | None = None
    units: list[_Unit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # EDI001/2/5/6
    unreadable: bool = False
    transactions: int = 0
    claims: int = 0
    size: int = 0
    sha256: str = ""
    # claim ranges (first, last index, CLM01), in file order
    claim_first: list[int] = field(default_factory=list)
    claim_last: list[int] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    # envelope context (ISA13, GS06, ST02) from a segment index on
    context_at: list[int] = field(default_factory=list)
    contexts: list[tuple] = field(default_factory=list)

    def claim_at(self, index: int | None) -> tuple[str, int, int] | None:
        """(CLM01, CLM index, last index) of the claim holding a segment, or None."""
        if index is None:
            return None
        k = bisect.bisect_right(self.claim_first, index) - 1
        if k >= 0 and index <= self.claim_last[k]:
            return self.claim_ids[k], self.claim_first[k], self.claim_last[k]
        return None

    def context(self, index: int | None) -> tuple:
        k = bisect.bisect_right(self.context_at, index or 0) - 1
        return self.contexts[k] if k >= 0 else (None, None, None)

    def close(self) -> None:
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None


def _translate(fields: list[str], source: Delimiters, target: Delimiters) -> str:
    """A segment in the target delimiters (pyx12 reads the first ISA's only)."""
    if source == target:
        return target.element.join(fields) + target.segment
    fields = list(fields)
    swap = str.maketrans({source.component: target.component,
                          source.repetition: target.repetition})
    if fields[0] == "ISA" and len(fields) > 16:
        body = [f.translate(swap) if n not in (11, 16) else f for n, f in enumerate(fields)]
        if fields[11] == source.repetition:
            body[11] = target.repetition
        body[16] = target.component
        return target.element.join(body) + target.segment
    return target.element.join(f.translate(swap) for f in fields) + target.segment


def _prepare(path: str, chunk_segments: int) -> _Prepared:
    """Read the file once: write the normalised copy, plan the work units."""
    prep = _Prepared(path)
    try:
        raw = open(path, "rb")
    except OSError as exc:
        prep.unreadable = True
        prep.findings.append(Finding("EDI001", ERROR, f"cannot read file: {exc.strerror or exc}",
                                     path))
        return prep
    prep.tmpdir = tempfile.TemporaryDirectory(prefix="edi837-validate-")
    source = os.path.join(prep.tmpdir.name, "normalised.x12")
    stream = HashingReader(raw)
    reader = SegmentReader(path, stream)
    skeleton: list[_Text] = []
    chunk: list[_Range] = []  # transaction sets waiting for a unit
    chunk_size = 0
    isa = gs = None  # (_Text, ISA13 / GS06) of the open envelopes
    open_set: list | None = None  # [start offset, first index, ST02]
    claim: list | None = None
    target: Delimiters | None = None
    offset = 0
    last_index = 0

    def flush_chunk() -> None:
        nonlocal chunk, chunk_size
        if chunk:  # the sets in their own ISA/GS, closed by a made-up GE/IEA
            e, t = target.element, target.segment
            head = [env[0] for env in (isa, gs) if env is not None]
            tail = ([_Text(f"GE{e}{len(chunk)}{e}{gs[1]}{t}\n", None)] if gs else []) + \
                   ([_Text(f"IEA{e}1{e}{isa[1]}{t}\n", None)] if isa else [])
            prep.units.append(_Unit(source, tuple(head + chunk + tail), False, len(chunk)))
        chunk, chunk_size = [], 0

    def close_set(end_index: int, closed: bool) -> None:
        nonlocal open_set, chunk_size
        start, first, st02 = open_set
        chunk.append(_Range(start, offset, first, end_index - first + 1))
        chunk_size += end_index - first + 1
        if closed:  # the skeleton's stand-in for the set: its ST and a short SE
            e, t = target.element, target.segment
            skeleton.append(_Text(f"SE{e}2{e}{st02}{t}\n", None))
        open_set = None
        if chunk_size >= chunk_segments:
            flush_chunk()

    def close_claim() -> None:
        nonlocal claim
        if claim is not None:
            prep.claim_first.append(claim[0])
            prep.claim_last.append(last_index)
            prep.claim_ids.append(claim[1])
            claim = None

    def set_context(index: int) -> None:
        prep.context_at.append(index)
        prep.contexts.append((isa[1] if isa else None, gs[1] if gs else None,
                              open_set[2] if open_set else None))

    with raw, open(source, "wb") as out:
        try:
            for fields, index, _ in reader:
                tag = fields[0]
                if target is None:  # first ISA: its delimiters are pyx12's
                    d = reader.delimiters
                    # (one segment per line: a line break cannot also end segments)
                    target = d if d.segment not in " \t\r\n" else Delimiters(
                        d.element, d.repetition, d.component, "~")
                if tag == "GS" and len(fields) > 8 or tag == "ST" and len(fields) > 3:
                    position = 8 if tag == "GS" else 3
                    variant = VARIANTS.get(fields[position])
                    if variant is not None:
                        prep.findings.append(Finding(
                            "EDI005", WARNING, f"version {fields[position]} validated as "
                            f"{variant[0]} (pyx12 has no map for it)", path,
                            segment_index=index, segment=tag, value=fields[position]))
                        fields = fields[:position] + [variant[0]] + fields[position + 1:]
                text = _translate(fields, reader.delimiters, target) + "\n"
                data = text.encode("latin-1")
                if tag in ("HL", "CLM", "SE") or tag in _ENVELOPE or tag == "ST":
                    close_claim()
                if open_set is not None and (tag in _ENVELOPE or tag == "ST"):
                    close_set(last_index, False)  # no SE: the set is not closed
                    set_context(index)
                if tag == "CLM":
                    claim = [index, fields[1] if len(fields) > 1 else ""]
                elif tag == "ST":
                    open_set = [offset, index, fields[2] if len(fields) > 2 else ""]
                    prep.transactions += 1
                    skeleton.append(_Text(text, index))
                    set_context(index)
                elif tag in _ENVELOPE:
                    flush_chunk()  # units never straddle an envelope boundary
                    if tag == "ISA":
                        isa = (_Text(text, index), fields[13] if len(fields) > 13 else "")
                    elif tag == "GS":
                        gs = (_Text(text, index), fields[6] if len(fields) > 6 else "")
                    skeleton.append(_Text(text, index))
                    if tag == "GE":
                        gs = None
                    elif tag == "IEA":
                        isa = gs = None
                    set_context(index if tag in ("ISA", "GS") else index + 1)
                elif open_set is None:
                    skeleton.append(_Text(text, index))  # a stray segment
                out.write(data)
                offset += len(data)
                last_index = index
                if tag == "SE" and open_set is not None:
                    close_set(index, True)
                    set_context(index + 1)
                prep.claims += tag == "CLM"
        except X12SyntaxError as exc:
            prep.unreadable = True
            rule = "EDI001" if last_index == 0 else "EDI002"
            prep.findings.append(Finding(rule, ERROR, exc.message, path,
                                         segment_index=exc.segment_index))
        except OSError as exc:
            prep.unreadable = True
            prep.findings.append(Finding("EDI001", ERROR,
                                         f"cannot read file: {exc.strerror or exc}", path))
        close_claim()
        if open_set is not None:
            close_set(last_index, False)
        flush_chunk()
        prep.sha256 = stream.finish()  # also hashes what a stopped reader left
    prep.size = stream.size
    notes = reader.source.normalisations()
    if notes:
        prep.findings.append(Finding(
            "EDI006", INFO, "input normalised to read it: " + ", ".join(notes), path,
            segment_index=1 if last_index else None, segment="ISA", value=", ".join(notes)))
    if last_index == 0:
        prep.unreadable = True
        if not any(f.rule == "EDI001" for f in prep.findings):
            prep.findings.append(Finding("EDI001", ERROR, "empty file: no ISA segment", path))
        prep.units = []
    elif skeleton:
        prep.units.insert(0, _Unit(source, tuple(skeleton), True))
    return prep


# -- results ----------------------------------------------------------------------
_LEVEL_RULE = {"H": "IGH", "S": "IGS", "E": "IGE"}


def _finding(prep: _Prepared, error: _Error) -> Finding:
    message = error.message
    if error.element and error.element.split("-")[0] not in message:
        message = f"{error.element}: {message}"
    if error.bad_value and error.bad_value not in message:
        message += f" (value {error.bad_value!r})"
    isa13, gs06, st02 = prep.context(error.index)
    claim_id, claim_first, claim_last = prep.claim_at(error.index) or (None, None, None)
    return Finding(
        f"{_LEVEL_RULE[error.level]}{error.code}", ERROR, message, prep.path,
        segment_index=error.index, segment=error.segment, loop=error.loop,
        claim_id=claim_id, value=error.element or error.bad_value,
        interchange=isa13, group=gs06, transaction=st02,
        claim_first=claim_first, claim_last=claim_last,
        extra={"pyx12_code": error.code, "bad_value": error.bad_value})


def _finish(prep: _Prepared, results: list[_UnitResult], reader_findings: bool
            ) -> tuple[FileResult, str | None]:
    """Turn the units' results into the file's findings and its 999."""
    result = FileResult(prep.path, transactions=prep.transactions, claims=prep.claims,
                        size=prep.size, sha256=prep.sha256)
    findings = result.findings
    if reader_findings:
        findings.extend(prep.findings)
    for unit_result in results:
        findings.extend(_finding(prep, error) for error in unit_result.errors)
    crashes = [r for r in results if r.crash]
    if crashes:
        first = crashes[0]
        near = f" near segment {first.crash_index}" if first.crash_index else ""
        more = f" ({len(crashes)} of {len(results)} work units)" if len(crashes) > 1 else ""
        findings.append(Finding(
            CRASH_RULE, ERROR, f"pyx12 could not validate {prep.path}{near}{more}: "
            f"{first.crash}", prep.path, value=first.crash))
    findings.sort(key=Finding.sort_key)
    if prep.unreadable:
        result.status = "unreadable"
    result.settle_status()
    ack = None
    if results and prep.units[0].skeleton and not results[0].crash:
        ack = _assemble_999(results, prep.units)
    return result, ack


def _assemble_999(results: list[_UnitResult], units: list[_Unit]) -> str | None:
    """The file's 999: the skeleton's, with each transaction set's AK2..IK5
    taken from the unit that validated it, and AK9 and SE01 recounted."""
    skeleton = results[0]
    blocks: list[list[str] | None] = []  # one per transaction set, in file order
    for unit, unit_result in zip(units[1:], results[1:]):
        if not unit_result.ack:  # pyx12 crashed on the unit
            blocks.extend([None] * unit.sets)
            continue
        for line in unit_result.ack:
            if line.startswith("AK2"):
                blocks.append([])
            blocks[-1].append(line)
    if not any(line.startswith("ST*999") for line in skeleton.ack):
        return None  # no 5010 group to acknowledge (pyx12 writes 997s for 4010)
    out: list[str] = []
    pending = iter(blocks)
    i = 0
    lines = skeleton.ack
    while i < len(lines):
        line = lines[i]
        if line.startswith("AK2"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("AK2", "AK9")):
                j += 1
            real = next(pending, None)
            # A unit pyx12 crashed on: the set cannot be accepted.
            out.extend(real if real else [line, "IK5*R*5~"])
            i = j
            continue
        if line.startswith("AK9"):
            out.append(_recount_ak9(line, out))
        elif line.startswith("SE*"):
            start = max(k for k, seg in enumerate(out) if seg.startswith("ST*"))
            out.append(f"SE*{len(out) - start + 1}*{line.split('*')[2]}")
        else:
            out.append(line)
        i += 1
    return "\n".join(out) + "\n"


def _recount_ak9(line: str, out: list[str]) -> str:
    fields = line.rstrip("~").split("*")
    start = max(k for k, seg in enumerate(out) if seg.startswith("ST*"))
    ik5 = [seg.rstrip("~").split("*")[1] for seg in out[start:] if seg.startswith("IK5")]
    accepted = sum(code in ("A", "E") for code in ik5)
    received = int(fields[3]) if len(fields) > 3 and is_digits(fields[3]) else len(ik5)
    group_errors = fields[5:]
    if group_errors or accepted == 0 and received:
        code = "R"
    elif accepted < received:
        code = "P"
    else:
        code = "A"
    fields[1], fields[4] = code, str(accepted)
    return "*".join(fields) + "~"


# -- public API -------------------------------------------------------------------
def ack_path(path: str | Path, out_dir: str | Path) -> Path:
    """Where the 999 of ``path`` goes: ``out_dir/<name>.999``."""
    return Path(out_dir) / (Path(path).stem + ".999")


def _results(units: list[_Unit], executor: Executor | None) -> list:
    if executor is None:
        return [_run_unit(unit) for unit in units]
    return [executor.submit(_run_unit, unit) for unit in units]


def validate_file(path: str | Path, *, reader_findings: bool = True) -> list[Finding]:
    """IG findings for one file, sorted like `check`'s.  Nothing pyx12 does
    raises; only a missing pyx12 does (Pyx12Missing).

    With ``reader_findings`` False only the IG findings come back (no
    EDI001/EDI002/EDI005/EDI006), ready to extend the findings of the
    FileResult `check` made for the same file.
    """
    result, _ = _validate_one(str(path), reader_findings)
    return list(result.findings)


def _validate_one(path: str, reader_findings: bool = True):
    require_pyx12()
    prep = _prepare(path, CHUNK_SEGMENTS)
    try:
        return _finish(prep, _results(prep.units, None), reader_findings)
    finally:
        prep.close()


def write_999(path: str | Path, out_dir: str | Path, *,
              control_numbers: ControlNumbers | None = None) -> Path | None:
    """Validate ``path`` and write its 999 as ``out_dir/<name>.999``; return
    that path, or None when pyx12 could not produce one (see the findings).

    The 999's ISA13/IEA02 and GS06/GE02 are the next number of
    ``control_numbers`` (default: the user's counter, see
    :mod:`edi837.acks.control`).  Raises ControlNumberError when the counter
    cannot be used; no 999 is written then.
    """
    _, ack = _validate_one(str(path))
    return _write_ack(str(path), out_dir, ack, control_numbers or ControlNumbers())


def _outcome(result) -> _UnitResult:
    if isinstance(result, _UnitResult):
        return result
    try:
        return result.result()
    except Exception as exc:  # noqa: BLE001 - a worker process died
        return _UnitResult([], [], f"worker failed: {type(exc).__name__}: {exc}")


def _write_ack(path: str, out_dir: str | Path, ack: str | None,
               control_numbers: ControlNumbers) -> Path | None:
    """Write the 999, or remove a stale one: after a run, ``<name>.999``
    exists exactly when this run acknowledged the file.

    pyx12 builds ISA13 from the clock (to the minute) and GS06 at random, so
    999s written in the same minute shared an ISA13: each takes its own
    number from the counter instead, for both."""
    target = ack_path(path, out_dir)
    if ack is None:
        target.unlink(missing_ok=True)
        return None
    ack = stamp(ack, control_numbers.next())
    with atomic_output(target, newline="") as handle:
        handle.write(ack)
    return target


def validate_paths(paths: Iterable[str | Path], jobs: int = 1,
                   ack_dir: str | Path | None = None,
                   control_numbers: ControlNumbers | None = None) -> Report:
    """Validate files; a Report like Engine.run's.  ``jobs`` > 1 runs the work
    units of all files on that many processes, with the same result.  With
    ``ack_dir``, each file's 999 is written there (files pyx12 could not
    acknowledge get none; their findings say why), its control numbers taken
    from ``control_numbers`` (default: the user's counter).  Raises
    ControlNumberError when the counter cannot be used."""
    require_pyx12()
    if ack_dir is not None and control_numbers is None:
        control_numbers = ControlNumbers()
    report = Report([], NOT_A_DRUG_TABLE)
    jobs = jobs if jobs > 0 else os.cpu_count() or 1
    executor = None
    if jobs > 1:
        executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    pending: deque = deque()

    def finish_oldest() -> None:
        prep, results = pending.popleft()
        try:
            result, ack = _finish(prep, [_outcome(r) for r in results], True)
        finally:
            prep.close()
        report.files.append(result)
        if ack_dir is not None:
            _write_ack(prep.path, ack_dir, ack, control_numbers)

    try:
        for path in paths:
            prep = _prepare(str(path), CHUNK_SEGMENTS)
            pending.append((prep, _results(prep.units, executor)))
            while len(pending) > max(jobs, 1):  # bound the files in flight
                finish_oldest()
        while pending:
            finish_oldest()
    finally:
        for prep, _ in pending:
            prep.close()
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    report.finished = time.time()
    return report


def add_validation(report, config=None) -> None:
    """Merge IG findings into a check report (``check --validate``, ``batch --validate``).

    The check's reader has already reported the EDI findings, so only the IG
    ones are added; --select/--ignore and severities apply to them as to any code.
    """
    for result in report.files:
        if result.status == "unreadable":
            continue
        found = validate_file(result.path, reader_findings=False)
        if config is not None:
            found = [f for f in found if config.enabled(f.rule)]
            for finding in found:
                finding.severity = config.severity.get(finding.rule, finding.severity)
        if found:
            result.findings.extend(found)
            result.findings.sort(key=Finding.sort_key)
            result.settle_status()
