"""The claim views of the annotated text and HTML reports.

:func:`file_views` - each file's claims with findings, as their segments with
the findings placed under the segment they concern.  Files are re-read with
the streaming SegmentReader beside the findings (both in file order), only the
segments of claims with findings are kept, one claim at a time, and reading
stops after the last segment a finding needs.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Iterator

from ..findings import Finding
from ..results import FileResult, Report
from ..x12.reader import SegmentReader, X12SyntaxError
from .common import DOCUMENTED_DRUG, checklist_item, date_span, text
from .figures import amount_of


# -- claim views -----------------------------------------------------------------------
@dataclass(slots=True)
class SegmentView:
    index: int
    text: str | None  # None: the segment could not be read again
    findings: list[Finding] = field(default_factory=list)
    tag: str = ""  # segment id


@dataclass(slots=True)
class LineView:
    """A service line (LX and its loops) of a claim view, or the claim's own
    segments before the first LX (number None)."""

    number: str | None
    hcpcs: str = ""
    segments: list[SegmentView] = field(default_factory=list)
    charge: str = ""  # SV102 / SV203 as written (the line's own, findings or not)

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.segments for f in s.findings]


@dataclass(slots=True)
class ClaimView:
    claim_id: str
    first_index: int
    last_index: int
    findings: list[Finding]  # all of the claim's findings, in segment order
    lines: list[LineView] = field(default_factory=list)
    unplaced: list[Finding] = field(default_factory=list)  # segment not re-read

    @property
    def segments(self) -> Iterator[SegmentView]:
        for line in self.lines:
            yield from line.segments

    @property
    def hcpcs(self) -> list[str]:
        return [line.hcpcs for line in self.lines if line.hcpcs]

    @property
    def payer_id(self) -> str:
        return next((f.payer_id for f in self.findings if f.payer_id), "")

    @property
    def payer_name(self) -> str:
        return next((f.payer_name for f in self.findings if f.payer_name), "")

    @property
    def billing_npi(self) -> str:
        return next((f.billing_npi for f in self.findings if f.billing_npi), "")

    @property
    def charge(self) -> Decimal | None:
        """CLM02, when a finding carries it and it is a number."""
        return amount_of(next((f.claim_charge for f in self.findings if f.claim_charge), None))

    @property
    def service_dates(self) -> str:
        return date_span(f.service_date for f in self.findings)

    @property
    def control_numbers(self) -> tuple[str, str, str]:
        first = self.findings[0]
        return (first.interchange or "", first.group or "", first.transaction or "")

    def documentation_checklist(self) -> list[tuple[str, str, list[Finding]]] | None:
        """For a J2350 claim: each DOC rule (code, what is in order when it is not
        raised, its findings here, whether reported on their own or as items of
        the claim's DOC000 checklist)."""
        if DOCUMENTED_DRUG not in self.hcpcs:
            return None
        from ..checklist import CHECKLIST, ITEMS, MARK

        by_rule = defaultdict(list)
        for finding in self.findings:
            if finding.rule == CHECKLIST and MARK in finding.extra:
                for code, line, message, severity in finding.extra[MARK]:
                    by_rule[code].append(replace(finding, rule=code, message=message,
                                                 line_number=line, severity=severity,
                                                 extra={}))
            else:
                by_rule[finding.rule].append(finding)
        return [(code, checklist_item(code), by_rule.get(code, [])) for code in ITEMS]


@dataclass(slots=True)
class FileView:
    result: FileResult
    unlocated: list[Finding]  # file-level findings with no segment (unreadable file)
    claims_with_findings: int
    changed: bool  # the file's size differs from when it was checked
    _items: Iterator | None = None

    def items(self) -> Iterator[ClaimView | SegmentView]:
        """Claims with findings and file-level findings' segments, in file order."""
        if self._items is not None:
            yield from self._items


def file_views(report: Report) -> Iterator[FileView]:
    for result in report.files:
        yield file_view(result)


@dataclass(slots=True)
class ClaimGroup:
    first_index: int
    last_index: int
    claim_id: str
    findings: list[Finding]


@dataclass(slots=True)
class SegmentGroup:
    index: int
    findings: list[Finding]


def claim_groups(findings) -> Iterator[ClaimGroup | SegmentGroup]:
    """A file's located findings (in file order) as claim groups (the findings
    of one claim: every finding inside a claim carries its CLM index) and
    segment groups (file-level findings of one segment), one group at a time."""
    group: ClaimGroup | SegmentGroup | None = None
    for finding in findings:
        index = finding.segment_index
        if index is None:
            continue  # unlocated: shown apart
        if isinstance(group, ClaimGroup):
            if finding.claim_first == group.first_index or (
                    finding.claim_first is None and index <= group.last_index):
                group.findings.append(finding)
                continue
        elif isinstance(group, SegmentGroup):
            if finding.claim_first is None and index == group.index:
                group.findings.append(finding)
                continue
        if group is not None:
            yield group
        if finding.claim_first is not None:
            group = ClaimGroup(finding.claim_first, finding.claim_last, finding.claim_id or "",
                                [finding])
        else:
            group = SegmentGroup(index, [finding])
    if group is not None:
        yield group


def file_view(result: FileResult) -> FileView:
    """A file's view; its items are built as they are printed, so memory holds one
    claim's findings at a time, not the file's (the findings are read twice: once
    here to count, once while printing)."""
    unlocated = []
    claims = 0
    located = False
    previous = None  # CLM index of the last claim counted
    for finding in result.findings:
        if finding.segment_index is None:
            unlocated.append(finding)
            continue
        located = True
        if finding.claim_first is not None and finding.claim_first != previous:
            previous = finding.claim_first
            claims += 1
    changed = file_changed(result)
    items = _read_views(result.path, claim_groups(result.findings)) if located else None
    return FileView(result, unlocated, claims, changed, items)


def file_changed(result: FileResult) -> bool:
    """Whether the file's size differs from when it was checked (or it is gone):
    then the segments re-read for a claim view may not be the ones checked."""
    try:
        return bool(result.sha256) and os.path.getsize(result.path) != result.size
    except OSError:
        return True


def _gone(group: ClaimGroup | SegmentGroup) -> ClaimView | SegmentView:
    """The view of a group whose segments the re-read did not see (the file changed
    or cannot be read): its findings without the segments' text."""
    if isinstance(group, ClaimGroup):
        return ClaimView(group.claim_id, group.first_index, group.last_index, group.findings,
                         [], unplaced=list(group.findings))
    return SegmentView(group.index, None, group.findings)


def _read_views(path: str, groups: Iterator[ClaimGroup | SegmentGroup]
                ) -> Iterator[ClaimView | SegmentView]:
    """Stream the file once beside the findings' groups, keeping only the
    segments the views print; stop after the last group."""
    head = next(groups, None)
    reader = SegmentReader(path)
    current: ClaimView | None = None
    placed: dict[int | None, list[Finding]] = {}
    try:
        for fields, index, _offset in reader:
            if current is None:
                # groups whose segments the re-read passed without seeing (file changed)
                while head is not None and (head.first_index if isinstance(head, ClaimGroup)
                                            else head.index) < index:
                    yield _gone(head)
                    head = next(groups, None)
                if head is None:
                    break
                if isinstance(head, ClaimGroup) and head.first_index == index:
                    current = ClaimView(head.claim_id, head.first_index, head.last_index,
                                        head.findings, [LineView(None)])
                    placed = defaultdict(list)
                    for finding in head.findings:
                        placed[finding.segment_index].append(finding)
                    head = next(groups, None)
            if current is not None:
                _add_segment(current, fields, index, reader, placed.pop(index, []))
                if index >= current.last_index:
                    current.unplaced = [f for fs in placed.values() for f in fs]
                    yield current
                    current = None
            elif isinstance(head, SegmentGroup) and head.index == index:
                yield SegmentView(index, segment_text(fields, reader.delimiters),
                                  head.findings, text(fields[0]))
                head = next(groups, None)
    except (OSError, X12SyntaxError):
        pass  # the file changed or is unreadable: what is left is shown without text
    if current is not None:
        current.unplaced = [f for fs in placed.values() for f in fs]
        yield current
    while head is not None:
        yield _gone(head)
        head = next(groups, None)


def _add_segment(claim: ClaimView, fields: list[str], index: int, reader: SegmentReader,
                 findings: list[Finding]) -> None:
    delims = reader.delimiters
    assert delims is not None  # a segment was read
    tag = fields[0]
    if tag == "LX":
        claim.lines.append(LineView(text(fields[1]) if len(fields) > 1 else ""))
    line = claim.lines[-1]
    if tag in ("SV1", "SV2") and line.number is not None:
        position = 1 if tag == "SV1" else 2  # SV101 / SV202: the procedure composite
        composite = fields[position] if len(fields) > position else ""
        parts = composite.split(delims.component)
        line.hcpcs = text(parts[1]) if len(parts) > 1 else ""
        charge = position + 1  # SV102 / SV203: the line item charge
        line.charge = fields[charge].strip() if len(fields) > charge else ""
    line.segments.append(SegmentView(index, segment_text(fields, delims), findings, text(tag)))


def segment_text(fields: list[str], delims) -> str:
    """The segment as written (with its own delimiters), as safe text; a terminator
    that is a line break (a file of one segment a line) is the view's own line end,
    not a character shown (it came out as a visible \\x0a on every segment)."""
    terminator = delims.segment
    return text(delims.element.join(fields) + ("" if terminator in "\r\n" else terminator))
