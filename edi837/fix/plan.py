"""Findings -> edits: which safe fixes to apply to a file, and what became of each.

A finding whose rule the catalog marks `safe` carries a
:class:`~edi837.findings.Fix` (element edits).  :class:`FixPlan` collects
those edits by segment, leaves out the ones that conflict, and is the
writer's transform: it applies a segment's edits while the file is copied
(see :mod:`edi837.fix.apply`), and says which fixes took, as :class:`Change`
records for the change log.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Iterator

from ..config import matches
from ..findings import Edit, Finding
from ..rules import all_rules
from ..x12.reader import display
from ..x12.writer import RawSegment, apply_edit, current_value
from .spill import SpillList

APPLIED, SKIPPED = "applied", "skipped"



def _edits(finding: Finding) -> tuple[Edit, ...]:
    """The edits of a finding's fix (the plan holds only findings with one)."""
    return finding.fix.edits if finding.fix is not None else ()

@dataclass(slots=True)
class Change:
    """One element edit, applied or skipped, as the change log shows it."""

    rule: str
    segment_index: int
    element: str  # LIN03, CTP05-1, SE01 ...
    before: str
    after: str
    description: str
    claim_id: str | None = None
    line_number: int | None = None  # LX01
    status: str = APPLIED
    reason: str = ""  # why it was skipped

    @classmethod
    def of(cls, finding: Finding, edit: Edit, *, reason: str = "") -> "Change":
        return cls(rule=finding.rule, segment_index=edit.segment_index,
                   element=edit.reference, before=edit.before, after=edit.after,
                   description=finding.fix.description if finding.fix else "",
                   claim_id=finding.claim_id,
                   line_number=finding.line_number,
                   status=SKIPPED if reason else APPLIED, reason=reason)

    def as_dict(self) -> dict:
        return {"segment_index": self.segment_index, "claim_id": self.claim_id,
                "line_number": self.line_number, "rule": self.rule, "element": self.element,
                "before": self.before, "after": self.after,
                "description": self.description, "status": self.status,
                "reason": self.reason or None}

    def as_text(self) -> str:
        where = [f"segment {self.segment_index}"]
        if self.claim_id is not None:
            where.append(f"claim {display(self.claim_id)}")
        if self.line_number is not None:
            where.append(f"LX {self.line_number}")
        text = (f"{'  '.join(where)}  {self.rule}  {self.element}  "
                f"{shown(self.before)} -> {shown(self.after)}")
        return f"{text}  SKIPPED: {self.reason}" if self.reason else text


def shown(value: str) -> str:
    """An element value for people: quoted, or "(empty)"."""
    return repr(display(value)) if value else "(empty)"


def _overlaps(a: Edit, b: Edit) -> bool:
    """Two edits address the same element (a whole element covers its components)."""
    return (a.segment_index, a.position) == (b.segment_index, b.position) and \
        (a.component is None or b.component is None or a.component == b.component)


class _Pending:
    """A planned fix waiting for its segments to be written: what became of each edit."""

    __slots__ = ("finding", "results", "unresolved")

    def __init__(self, finding: Finding, reason: str | None = None) -> None:
        self.finding = finding
        edits = _edits(finding)
        self.results: list[str | None] = [reason] * len(edits)  # APPLIED or why not
        self.unresolved = 0 if reason is not None else len(edits)

    def resolve(self, edit: Edit, result: str) -> None:
        for k, planned in enumerate(_edits(self.finding)):
            if planned == edit and self.results[k] is None:
                self.results[k] = result
                self.unresolved -= 1


class FixPlan:
    """The safe fixes to apply to one file, and what became of each.

    The plan is the writer's transform: it reads the findings (in file order,
    as `check` gives them) only as far as the segment being written needs, so
    it holds the fixes of about one claim, not of the file.  A fix edits
    segments of its own claim, or its own segment for an envelope trailer
    (EDI003/EDI004): so the findings of a segment are all read once the next
    finding lies beyond it and beyond the start of its claim.  An edit that
    would come too late (its segment already written) is skipped and logged,
    never applied out of place.

    When two fixes edit the same element, the first (in the engine's order:
    segment, then rule) is kept and the other is logged as skipped, since
    applying both would make the result depend on order.  The same edit made
    by two findings is applied once and fixes both.  A fix that would empty
    an element is never applied: a safe fix corrects or adds a value (an
    empty control number read from a broken ISA once became an empty IEA02).

    What became of the fixes: :attr:`applied` and :attr:`skipped` (changes
    for the change log, spilled to disk when there are many), :attr:`fixed`
    (rule and segment of each finding fixed, in file order) and
    :attr:`problems` (fixes only partly applied), complete after
    :meth:`finish`.
    """

    def __init__(self, findings: Iterable[Finding], select: tuple[str, ...] = (),
                 ignore: tuple[str, ...] = (), *, spill_limit: int | None = None) -> None:
        self._registry = all_rules()
        self._select, self._ignore = select, ignore
        self._findings: Iterator[Finding] = iter(findings)
        self._next: Finding | None = None
        self._written = 0  # index of the last segment written
        # segment index -> [edit, the pending fixes that make it], for segments not yet written
        self.edits: dict[int, list[tuple[Edit, list[_Pending]]]] = {}
        self._queue: deque[_Pending] = deque()  # in finding order, until resolved
        self.applied: SpillList[Change] = SpillList(limit=spill_limit)
        self.skipped: SpillList[Change] = SpillList(limit=spill_limit)
        self.fixed: list[tuple[int, str]] = []  # (segment index, rule) of each fixed finding
        self.problems: list[str] = []
        self._advance()

    # -- reading the findings as far as needed -------------------------------------
    def _advance(self) -> None:
        """Set _next to the next finding that carries a safe fix this plan applies."""
        registry, select, ignore = self._registry, self._select, self._ignore
        for finding in self._findings:
            rule = registry.get(finding.rule)
            if finding.fix is None or rule is None or rule.fix != "safe":
                continue
            if (select and not matches(finding.rule, select)) or matches(finding.rule, ignore):
                continue
            self._next = finding
            return
        self._next = None

    def _read_up_to(self, index: float) -> None:
        while self._next is not None:
            finding = self._next
            claim_first = finding.claim_first
            if (finding.segment_index or 0) > index and \
                    (claim_first is None or claim_first > index):
                return
            self._add(finding)
            self._advance()

    def _add(self, finding: Finding) -> None:
        edits = _edits(finding)
        reason = None
        for edit in edits:
            if edit.segment_index <= self._written:
                reason = f"segment {edit.segment_index} was written before this fix was read"
            elif edit.before and not edit.after:
                reason = (f"it would empty {edit.reference}: a safe fix corrects or adds a "
                          "value, it never removes one")
            else:
                for other, owners in self.edits.get(edit.segment_index, ()):
                    if other != edit and _overlaps(edit, other):
                        reason = (f"conflicts with {owners[0].finding.rule}'s edit of "
                                  f"{other.reference} at segment {other.segment_index}")
                        break
            if reason is not None:
                break
        pending = _Pending(finding, reason)
        self._queue.append(pending)
        if reason is None:
            for edit in edits:
                planned = self.edits.setdefault(edit.segment_index, [])
                same = next((owners for other, owners in planned if other == edit), None)
                if same is None:
                    planned.append((edit, [pending]))
                elif pending not in same:
                    same.append(pending)
        self._settle()

    # -- the writer's transform --------------------------------------------------------
    def transform(self, segment: RawSegment) -> list[list[str]] | None:
        """Apply this segment's edits whose `before` still holds."""
        self._read_up_to(segment.index)
        self._written = segment.index
        planned = self.edits.pop(segment.index, None)
        if not planned:
            self._settle()
            return None
        fields = segment.fields
        separator = segment.delimiters.component
        for edit, owners in planned:
            found = current_value(fields, edit.position, edit.component, separator)
            if fields[0] != edit.segment_id:
                result = f"segment {segment.index} is {fields[0]}, not {edit.segment_id}"
            elif found != edit.before:
                # The file is not what the finding saw: leave it to a person.
                result = f"{edit.reference} is {shown(found)}, not {shown(edit.before)}"
            else:
                fields = apply_edit(fields, edit, separator)
                result = APPLIED
            for pending in owners:
                pending.resolve(edit, result)
        self._settle()
        kept = len(fields)  # a segment written again ends at its last value (EDI009)
        while kept > 1 and not fields[kept - 1]:
            kept -= 1
        return [fields[:kept]]

    def finish(self) -> None:
        """After the last segment: edits aimed past the end of the file are skipped."""
        self._read_up_to(float("inf"))
        for planned in self.edits.values():
            for edit, owners in planned:
                for pending in owners:
                    pending.resolve(edit, f"segment {edit.segment_index} not found")
        self.edits.clear()
        self._settle()

    # -- what became of each fix ---------------------------------------------------------
    def _settle(self) -> None:
        """Log the fixes at the head of the queue whose edits are all resolved, in order."""
        queue = self._queue
        while queue and queue[0].unresolved == 0:
            pending = queue.popleft()
            finding, results = pending.finding, pending.results
            applied = [r == APPLIED for r in results]
            if all(applied):
                self.fixed.append((finding.segment_index or 0, finding.rule))
            elif any(applied):
                # Written, but the fix as a whole is not: the output needs a person.
                self.problems.append(f"{finding.rule} at segment {finding.segment_index}: "
                                     "fix only partly applied")
            for edit, result in zip(_edits(finding), results, strict=True):
                if result == APPLIED:
                    self.applied.append(Change.of(finding, edit))
                else:
                    self.skipped.append(Change.of(finding, edit, reason=result or ""))
