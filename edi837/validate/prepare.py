"""Preparing a file for pyx12: normalised, cut into work units, with its claims' spans."""
from __future__ import annotations

import bisect
import os
import tempfile
from dataclasses import dataclass, field

from ..files import HashingReader
from ..findings import ERROR, INFO, WARNING, Finding
from ..locations import open_input
from ..reader.claims import VARIANTS
from ..x12.reader import Delimiters, SegmentReader, X12SyntaxError
from .ta1 import Interchange
from .units import _ENVELOPE, _Range, _Text, _Unit


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
    # each transaction set in file order: [ISA13, GS06, ST02, claims in it]
    sets: list[list] = field(default_factory=list)
    # where loops above the claims start and end: the index of each HL, ST, SE and
    # envelope segment, and whether it is an HL
    breaks: list[int] = field(default_factory=list)
    break_is_hl: list[bool] = field(default_factory=list)
    # each interchange in file order, for its TA1 (edi837.validate.ta1)
    interchanges: list[Interchange] = field(default_factory=list)

    def claim_at(self, index: int | None) -> tuple[str, int, int] | None:
        """(CLM01, CLM index, last index) of the claim holding a segment, or None."""
        if index is None:
            return None
        k = bisect.bisect_right(self.claim_first, index) - 1
        if k >= 0 and index <= self.claim_last[k]:
            return self.claim_ids[k], self.claim_first[k], self.claim_last[k]
        return None

    def claim_under(self, index: int | None) -> tuple[str, int, int] | None:
        """(CLM01, CLM index, last index) of the first claim under the HL loop that
        holds a segment (a 2000B SBR's claim), or None: not in an HL loop, or no claim
        follows before the next HL or SE."""
        if index is None:
            return None
        j = bisect.bisect_right(self.breaks, index) - 1
        if j < 0 or not self.break_is_hl[j]:
            return None
        k = bisect.bisect_left(self.claim_first, index)
        if k == len(self.claim_first) or (j + 1 < len(self.breaks)
                                          and self.breaks[j + 1] < self.claim_first[k]):
            return None
        return self.claim_ids[k], self.claim_first[k], self.claim_last[k]

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
    # a character that is data in the source but a delimiter of the target (a CLM01
    # 'A*B' sent with '|') would split the value for pyx12: it is read as a '?'
    delimiters = (target.element, target.repetition, target.component, target.segment)
    stand_in = next(c for c in "?.#" if c not in delimiters)
    swap = str.maketrans({**{c: stand_in for c in delimiters if len(c) == 1},
                          source.component: target.component,
                          source.repetition: target.repetition})
    if fields[0] == "ISA" and len(fields) > 16:
        body = [f.translate(swap) if n not in (11, 16) else f for n, f in enumerate(fields)]
        if fields[11] == source.repetition:
            body[11] = target.repetition
        body[16] = target.component
        return target.element.join(body) + target.segment
    return target.element.join(f.translate(swap) for f in fields) + target.segment


class _Planner:
    """One read of a file: the normalised copy's offset, the open envelopes, set
    and claim, the transaction sets waiting for a work unit, and the skeleton
    (every envelope segment, and a stand-in ST/SE for each set)."""

    def __init__(self, prep: _Prepared, source: str, chunk_segments: int) -> None:
        self.prep, self.source, self.chunk_segments = prep, source, chunk_segments
        self.skeleton: list[_Text] = []
        self.chunk: list[_Range] = []  # transaction sets waiting for a unit
        self.chunk_size = 0
        self.isa: tuple[_Text, str] | None = None  # (_Text, ISA13) of the open interchange
        self.gs: tuple[_Text, str] | None = None  # (_Text, GS06) of the open group
        self.open_set: list | None = None  # [start offset, first index, ST02]
        self.claim: list | None = None  # [CLM index, CLM01]
        self.target: Delimiters | None = None
        self.offset = 0
        self.last_index = 0

    def segment(self, fields: list[str], index: int, delimiters: Delimiters) -> bytes:
        """Plan one segment; its line of the normalised copy."""
        tag = fields[0]
        if self.target is None:  # first ISA: its delimiters are pyx12's
            d = delimiters
            # (one segment per line: a line break cannot also end segments)
            self.target = d if d.segment not in " \t\r\n" else Delimiters(
                d.element, d.repetition, d.component, "~")
        fields = self._version(fields, index)
        text = _translate(fields, delimiters, self.target) + "\n"
        data = text.encode("latin-1")
        if tag in ("HL", "CLM", "SE") or tag in _ENVELOPE or tag == "ST":
            self.close_claim()
            if tag != "CLM":
                self.prep.breaks.append(index)
                self.prep.break_is_hl.append(tag == "HL")
        if self.open_set is not None and (tag in _ENVELOPE or tag == "ST"):
            self.close_set(self.last_index, False)  # no SE: the set is not closed
            self.set_context(index)
        if tag == "CLM":
            self.claim = [index, fields[1] if len(fields) > 1 else ""]
        elif tag == "ST":
            self.open_set = [self.offset, index, fields[2] if len(fields) > 2 else ""]
            self.prep.transactions += 1
            self.prep.sets.append([self.isa[1] if self.isa else "",
                                   self.gs[1] if self.gs else "", self.open_set[2], 0])
            self.skeleton.append(_Text(text, index))
            self.set_context(index)
        elif tag in _ENVELOPE:
            self._envelope(tag, fields, text, index)
        elif self.open_set is None:
            self.skeleton.append(_Text(text, index))  # a stray segment
        self.offset += len(data)
        self.last_index = index
        if tag == "SE" and self.open_set is not None:
            self.close_set(index, True)
            self.set_context(index + 1)
        self.prep.claims += tag == "CLM"
        if tag == "CLM" and self.open_set is not None:
            self.prep.sets[-1][3] += 1
        return data

    def _version(self, fields: list[str], index: int) -> list[str]:
        """GS08 / ST03 of a guide version pyx12 has no map for, as the one it is
        validated as (EDI005 says so)."""
        tag = fields[0]
        if tag == "GS" and len(fields) > 8 or tag == "ST" and len(fields) > 3:
            position = 8 if tag == "GS" else 3
            variant = VARIANTS.get(fields[position])
            if variant is not None:
                self.prep.findings.append(Finding(
                    "EDI005", WARNING, f"version {fields[position]} validated as "
                    f"{variant[0]} (pyx12 has no map for it)", self.prep.path,
                    segment_index=index, segment=tag, value=fields[position]))
                return fields[:position] + [variant[0]] + fields[position + 1:]
        return fields

    def _envelope(self, tag: str, fields: list[str], text: str, index: int) -> None:
        self.flush_chunk()  # units never straddle an envelope boundary
        if tag == "ISA":
            self.isa = (_Text(text, index), fields[13] if len(fields) > 13 else "")
            self.prep.interchanges.append(Interchange.of(fields))
        elif tag == "GS":
            self.gs = (_Text(text, index), fields[6] if len(fields) > 6 else "")
            if self.isa is not None and self.prep.interchanges:
                self.prep.interchanges[-1].groups.append(self.gs[1])
        self.skeleton.append(_Text(text, index))
        if tag == "GE":
            self.gs = None
        elif tag == "IEA":
            self.isa = self.gs = None
        self.set_context(index if tag in ("ISA", "GS") else index + 1)

    def flush_chunk(self) -> None:
        if self.chunk:  # the sets in their own ISA/GS, closed by a made-up GE/IEA
            assert self.target is not None
            e, t = self.target.element, self.target.segment
            isa, gs = self.isa, self.gs
            head = [env[0] for env in (isa, gs) if env is not None]
            tail = ([_Text(f"GE{e}{len(self.chunk)}{e}{gs[1]}{t}\n", None)] if gs else []) + \
                   ([_Text(f"IEA{e}1{e}{isa[1]}{t}\n", None)] if isa else [])
            self.prep.units.append(_Unit(self.source, tuple(head + self.chunk + tail), False,
                                         len(self.chunk)))
        self.chunk, self.chunk_size = [], 0

    def close_set(self, end_index: int, closed: bool) -> None:
        assert self.open_set is not None and self.target is not None
        start, first, st02 = self.open_set
        self.chunk.append(_Range(start, self.offset, first, end_index - first + 1))
        self.chunk_size += end_index - first + 1
        if closed:  # the skeleton's stand-in for the set: its ST and a short SE
            e, t = self.target.element, self.target.segment
            self.skeleton.append(_Text(f"SE{e}2{e}{st02}{t}\n", None))
        self.open_set = None
        if self.chunk_size >= self.chunk_segments:
            self.flush_chunk()

    def close_claim(self) -> None:
        if self.claim is not None:
            self.prep.claim_first.append(self.claim[0])
            self.prep.claim_last.append(self.last_index)
            self.prep.claim_ids.append(self.claim[1])
            self.claim = None

    def set_context(self, index: int) -> None:
        isa, gs, open_set = self.isa, self.gs, self.open_set
        self.prep.context_at.append(index)
        self.prep.contexts.append((isa[1] if isa else None, gs[1] if gs else None,
                                   open_set[2] if open_set else None))

    def finish(self) -> None:
        """The claim, set and unit still open when the file ends (or stops)."""
        self.close_claim()
        if self.open_set is not None:
            self.close_set(self.last_index, False)
        self.flush_chunk()


def _prepare(path: str, chunk_segments: int) -> _Prepared:
    """Read the file once: write the normalised copy, plan the work units."""
    prep = _Prepared(path)
    try:
        raw = open_input(path)
    except OSError as exc:
        prep.unreadable = True
        prep.findings.append(Finding("EDI001", ERROR, f"cannot read file: {exc.strerror or exc}",
                                     path))
        return prep
    prep.tmpdir = tempfile.TemporaryDirectory(prefix="edi837-validate-")
    source = os.path.join(prep.tmpdir.name, "normalised.x12")
    stream = HashingReader(raw)
    reader = SegmentReader(path, stream)
    plan = _Planner(prep, source, chunk_segments)
    with raw, open(source, "wb") as out:
        try:
            for fields, index, _ in reader:
                out.write(plan.segment(fields, index, reader.delimiters))
        except X12SyntaxError as exc:
            if exc.trailer_only:  # as check: every interchange was read, a footer follows
                prep.findings.append(Finding(
                    "EDI002", WARNING, f"text after the last interchange ignored: "
                    f"{exc.message}", path, segment_index=exc.segment_index))
            else:
                prep.unreadable = True
                rule = "EDI001" if plan.last_index == 0 else "EDI002"
                prep.findings.append(Finding(rule, ERROR, exc.message, path,
                                             segment_index=exc.segment_index))
        except OSError as exc:
            prep.unreadable = True
            prep.findings.append(Finding("EDI001", ERROR,
                                         f"cannot read file: {exc.strerror or exc}", path))
        plan.finish()
        prep.sha256 = stream.finish()  # also hashes what a stopped reader left
    prep.size = stream.size
    notes = reader.source.normalisations()
    if notes:
        prep.findings.append(Finding(
            "EDI006", INFO, "input normalised to read it: " + ", ".join(notes), path,
            segment_index=1 if plan.last_index else None, segment="ISA",
            value=", ".join(notes)))
    if plan.last_index == 0:
        prep.unreadable = True
        if not any(f.rule == "EDI001" for f in prep.findings):
            prep.findings.append(Finding("EDI001", ERROR, "empty file: no ISA segment", path))
        prep.units = []
    elif plan.skeleton:
        prep.units.insert(0, _Unit(source, tuple(plan.skeleton), True))
    return prep
