"""Preparing a file for pyx12: normalised, cut into work units, with its claims' spans."""
from __future__ import annotations

import bisect
import os
import tempfile
from dataclasses import dataclass, field

from ..claims import VARIANTS
from ..files import HashingReader
from ..findings import ERROR, INFO, WARNING, Finding
from ..locations import open_input
from ..x12.reader import Delimiters, SegmentReader, X12SyntaxError
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
            if exc.trailer_only:  # as check: every interchange was read, a footer follows
                prep.findings.append(Finding(
                    "EDI002", WARNING, f"text after the last interchange ignored: "
                    f"{exc.message}", path, segment_index=exc.segment_index))
            else:
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


