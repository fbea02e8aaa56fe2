"""Findings -> edits: which safe fixes to apply to a file, and what became of each.

A finding whose rule the catalog marks `safe` carries a
:class:`~edi837.findings.Fix` (element edits).  :class:`FixPlan` collects
those edits by segment, leaves out the ones that conflict, and is the
writer's transform: it applies a segment's edits while the file is copied
(see :mod:`edi837.fix.apply`).  Afterwards it says which fixes took, as
:class:`Change` records for the change log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..config import matches
from ..findings import Edit, Finding
from ..rules import all_rules
from ..x12.reader import display
from ..x12.writer import RawSegment, apply_edit, current_value

APPLIED, SKIPPED = "applied", "skipped"


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
                   description=finding.fix.description, claim_id=finding.claim_id,
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


class FixPlan:
    """The safe fixes to apply to one file, and the conflicts left out.

    Findings come in the engine's order (segment, then rule); when two fixes
    edit the same element, the first is kept and the other is logged as
    skipped, since applying both would make the result depend on order.  The
    same edit made by two findings is applied once and fixes both.
    """

    def __init__(self, findings: Iterable[Finding], select: tuple[str, ...] = (),
                 ignore: tuple[str, ...] = ()) -> None:
        registry = all_rules()
        self.fixes: list[Finding] = []
        self.skipped: list[Change] = []
        self.edits: dict[int, list[tuple[Edit, Finding]]] = {}
        self._outcome: dict[Edit, str] = {}  # edit -> APPLIED or why it was not
        for finding in findings:
            rule = registry.get(finding.rule)
            if finding.fix is None or rule is None or rule.fix != "safe":
                continue
            if (select and not matches(finding.rule, select)) or matches(finding.rule, ignore):
                continue
            self._add(finding)

    def _add(self, finding: Finding) -> None:
        for edit in finding.fix.edits:
            for other, owner in self.edits.get(edit.segment_index, ()):
                if other != edit and _overlaps(edit, other):
                    reason = (f"conflicts with {owner.rule}'s edit of {other.reference} "
                              f"at segment {other.segment_index}")
                    self.skipped.extend(Change.of(finding, e, reason=reason)
                                        for e in finding.fix.edits)
                    return
        for edit in finding.fix.edits:
            planned = self.edits.setdefault(edit.segment_index, [])
            if all(other != edit for other, _ in planned):
                planned.append((edit, finding))
        self.fixes.append(finding)

    def transform(self, segment: RawSegment) -> list[list[str]] | None:
        """The writer's transform: apply this segment's edits whose `before` still holds."""
        planned = self.edits.get(segment.index)
        if not planned:
            return None
        fields = segment.fields
        separator = segment.delimiters.component
        for edit, _ in planned:
            found = current_value(fields, edit.position, edit.component, separator)
            if fields[0] != edit.segment_id:
                self._outcome[edit] = f"segment {segment.index} is {fields[0]}, " \
                                      f"not {edit.segment_id}"
            elif found != edit.before:
                # The file is not what the finding saw: leave it to a person.
                self._outcome[edit] = f"{edit.reference} is {shown(found)}, " \
                                      f"not {shown(edit.before)}"
            else:
                fields = apply_edit(fields, edit, separator)
                self._outcome[edit] = APPLIED
        return [fields]

    def outcome(self) -> tuple[list[Finding], list[Change], list[Change], list[str]]:
        """After the rewrite: (fixed findings, applied changes, skipped changes, problems)."""
        fixed, applied, skipped, problems = [], [], list(self.skipped), []
        for finding in self.fixes:
            results = [self._outcome.get(e, f"segment {e.segment_index} not found")
                       for e in finding.fix.edits]
            if all(r == APPLIED for r in results):
                fixed.append(finding)
            elif any(r == APPLIED for r in results):
                # Written, but the fix as a whole is not: the output needs a person.
                problems.append(f"{finding.rule} at segment {finding.segment_index}: "
                                "fix only partly applied")
            for edit, result in zip(finding.fix.edits, results):
                if result == APPLIED:
                    applied.append(Change.of(finding, edit))
                else:
                    skipped.append(Change.of(finding, edit, reason=result))
        return fixed, applied, skipped, problems
