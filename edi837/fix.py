"""Corrected EDI: apply the safe fixes the findings carry, re-check, split accepted/held.

`edi837 fix` is `edi837 check` plus a writer, as `sqlfluff fix` is `sqlfluff
lint` plus its fixes: the engine finds the problems, a finding whose rule the
catalog marks `safe` carries a :class:`~edi837.findings.Fix` (element edits),
and this module applies those edits with the byte-preserving writer, so no
rule has a second implementation here.  Then it runs the same engine on its
own output: every fixed finding must be gone and nothing new may appear.

With ``split=True`` the corrected file is also divided by claim into
``<stem>.accepted.edi`` (claims with no remaining error: forward these) and
``<stem>.held.edi`` (the rest, with a report of why), each a complete
interchange.  Both keep the input's ISA13/GS06/ST02 control numbers: they are
two views of one submission, and only the accepted file is meant to be sent
as is; the held one goes back to the biller, to be corrected and re-run.

Nothing here modifies an input file, and an existing output is overwritten
only with ``force``.  Every file is written atomically (temp file + rename).
"""
from __future__ import annotations

import json
import os
from collections import Counter, deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from .config import Config, matches
from .engine import Engine, FileResult
from .files import atomic_output
from .history.stage import STAGE_RULES
from .findings import ERROR, Edit, Finding
from .model import parse_decimal
from .rules import all_rules
from .x12.reader import display
from .x12.writer import (RawSegment, RawSegmentReader, TextSink, apply_edit, current_value,
                         rewrite, serialise)

UNREADABLE_RULES = ("EDI001", "EDI002", "EDI005")  # what stops a file being read as claims
WRITTEN, DRY_RUN, UNREADABLE, EXISTS, FAILED = "written", "dry-run", "unreadable", "exists", \
    "failed"
APPLIED, SKIPPED = "applied", "skipped"
# Trailer problems the split never carries over: it rebuilds SE/GE/IEA itself.
TRAILER_RULES = frozenset(["EDI003", "EDI004"])
HISTORY_STAGE = frozenset(STAGE_RULES)  # rules whose findings depend on other claims


# -- the change log ---------------------------------------------------------------

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
                f"{_shown(self.before)} -> {_shown(self.after)}")
        return f"{text}  SKIPPED: {self.reason}" if self.reason else text


def _shown(value: str) -> str:
    return repr(display(value)) if value else "(empty)"


# -- choosing the fixes ---------------------------------------------------------------

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
                self._outcome[edit] = f"{edit.reference} is {_shown(found)}, " \
                                      f"not {_shown(edit.before)}"
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


# -- dry-run diff -------------------------------------------------------------------

class SegmentDiff:
    """A unified diff of a rewrite, one segment per line, numbered by segment index.

    Fed segment by segment by the writer; holds only ``context`` segments of
    look-behind and the open hunk, so it stays small for large files.
    """

    def __init__(self, before: str, after: str, context: int = 2) -> None:
        self.context = context
        self.lines = [f"--- {before}", f"+++ {after}"]
        self._behind: deque[tuple[int, str]] = deque(maxlen=context)
        self._hunk: list[str] | None = None
        self._first = self._last = 0
        self._tail: list[tuple[int, str]] = []  # unchanged segments since the last change

    def __call__(self, segment: RawSegment, texts: list[str] | None) -> None:
        if texts is None:
            if self._hunk is None:
                self._behind.append((segment.index, segment.text))
                return
            self._tail.append((segment.index, segment.text))
            if len(self._tail) > 2 * self.context:
                self._close()
            return
        if self._hunk is None:
            self._hunk = [self._line(" ", i, t) for i, t in self._behind]
            self._first = self._behind[0][0] if self._behind else segment.index
        else:
            self._hunk += [self._line(" ", i, t) for i, t in self._tail]
        self._tail = []
        self._hunk.append(self._line("-", segment.index, segment.text))
        self._hunk += [self._line("+", segment.index, t) for t in texts]
        self._last = segment.index

    @staticmethod
    def _line(mark: str, index: int, text: str) -> str:
        return f"{mark}{index:>6} {display(text)}"

    def _close(self) -> None:
        kept, rest = self._tail[:self.context], self._tail[self.context:]
        self._hunk += [self._line(" ", i, t) for i, t in kept]
        last = kept[-1][0] if kept else self._last
        self.lines.append(f"@@ segments {self._first}-{last} @@")
        self.lines += self._hunk
        self._hunk, self._tail = None, []
        self._behind.clear()
        self._behind.extend(rest[-self.context:] if self.context else [])

    def text(self) -> str:
        if self._hunk is not None:
            self._close()
        return "\n".join(self.lines) + "\n" if len(self.lines) > 2 else ""


# -- results ------------------------------------------------------------------------

@dataclass(slots=True)
class RoutedClaim:
    """A claim of the split, with the error findings that hold it (none: accepted)."""

    claim_id: str  # CLM01
    transaction: str  # ST02
    charge: str  # CLM02
    reasons: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"claim_id": self.claim_id, "transaction": self.transaction,
                "charge": self.charge,
                "reasons": [{"rule": f.rule, "severity": f.severity, "message": f.message,
                             "segment": f.segment, "segment_index": f.segment_index,
                             "line_number": f.line_number} for f in self.reasons]}


def total_charge(claims: Iterable[RoutedClaim]) -> Decimal:
    return sum((parse_decimal(c.charge) or Decimal(0) for c in claims), Decimal(0))


@dataclass(slots=True)
class SplitResult:
    """Where the claims went.  Accepted claims are only counted (a large file
    has many); held ones are kept with their reasons for the held report."""

    accepted: int = 0
    accepted_charge: Decimal = Decimal(0)
    held: list[RoutedClaim] = field(default_factory=list)
    # transaction sets that are not 837s: in neither file, so named here
    not_carried: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    @property
    def held_charge(self) -> Decimal:
        return total_charge(self.held)


@dataclass(slots=True)
class FixResult:
    """What `fix` did to one file."""

    path: str
    output: str | None = None
    status: str = WRITTEN  # written | dry-run | unreadable | exists | failed
    changes: list[Change] = field(default_factory=list)  # applied
    skipped: list[Change] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)  # error findings after the fixes
    problems: list[str] = field(default_factory=list)  # anything that makes the exit status 2
    fixed: list[Finding] = field(default_factory=list)  # findings whose fix was applied
    diff: str = ""  # dry-run only
    split: SplitResult | None = None
    written: list[str] = field(default_factory=list)  # every file written, in order

    @property
    def exit_status(self) -> int:
        """0 clean, 1 errors remain (held claims, unfixable findings), 2 trouble."""
        if self.problems or self.status in (UNREADABLE, EXISTS, FAILED):
            return 2
        return 1 if self.remaining else 0


@dataclass(slots=True, frozen=True)
class Targets:
    """The files `fix` writes for one input."""

    output: Path
    changes_json: Path
    changes_text: Path
    accepted: Path
    held: Path
    held_json: Path
    held_text: Path

    @classmethod
    def for_input(cls, path: Path, out_dir: Path) -> "Targets":
        name, stem = path.name, Path(path.name).stem
        return cls(out_dir / name, out_dir / f"{name}.changes.json",
                   out_dir / f"{name}.changes.txt", out_dir / f"{stem}.accepted.edi",
                   out_dir / f"{stem}.held.edi", out_dir / f"{stem}.held.json",
                   out_dir / f"{stem}.held.txt")

    def all(self, split: bool) -> list[Path]:
        paths = [self.output, self.changes_json, self.changes_text]
        if split:
            paths += [self.accepted, self.held, self.held_json, self.held_text]
        return paths


# -- fixing one file ---------------------------------------------------------------

def fix_file(path: str | Path, out_dir: str | Path, *, table, config: Config | None = None,
             select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
             dry_run: bool = False, force: bool = False, split: bool = False) -> FixResult:
    """Apply the safe fixes of ``path``'s findings; write ``<out_dir>/<name>``.

    ``select``/``ignore`` (rule codes or prefixes) choose which fixes apply;
    the check itself runs with ``config``, so the remaining findings are the
    same a `check` would report.  With ``dry_run`` nothing is written and
    ``diff`` shows what would change.
    """
    path, out_dir = Path(path), Path(out_dir)
    targets = Targets.for_input(path, out_dir)
    result = FixResult(str(path), output=str(targets.output))
    if not dry_run and not _may_write(path, targets.all(split), force, result):
        return result
    engine = Engine(table, config)
    checked = engine.check_file(path)
    if checked.status == "unreadable":
        result.status = UNREADABLE
        result.problems += [f"{f.rule} {f.message}" for f in checked.findings
                            if f.rule in UNREADABLE_RULES and f.severity == "error"]
        return result
    plan = FixPlan(checked.findings, select, ignore)
    if dry_run:
        return _dry_run(path, targets, plan, checked, result, split)
    try:
        _write_corrected(path, targets, plan, checked, result)
    except OSError as exc:  # one file that cannot be written does not stop a batch
        result.status = FAILED
        result.problems.append(f"cannot write {exc.filename or targets.output}: "
                               f"{exc.strerror or exc}")
        return result
    # the output is the same claims again: judged apart from the input's history
    rechecked = engine.check_file(targets.output, history=engine.new_history())
    result.problems += recheck_problems(checked.findings, result.fixed, rechecked.findings)
    result.remaining = _errors(rechecked.findings)
    if split:
        if result.problems:
            result.problems.append("split not written: the re-check found problems")
        else:
            _split(targets, rechecked.findings, result, force)
    return result


def _write_corrected(path: Path, targets: Targets, plan: FixPlan, checked: FileResult,
                     result: FixResult) -> None:
    with atomic_output(targets.output, "wb") as handle:
        rewrite(path, handle, plan.transform)
    result.written.append(str(targets.output))
    result.fixed = _record_outcome(plan, result)
    _write_change_log(targets, checked, result)


def _may_write(path: Path, targets: list[Path], force: bool, result: FixResult) -> bool:
    """Never write over the input; never over an existing output without force."""
    for target in targets:
        if _same_file(path, target):
            result.status = FAILED
            result.problems.append(f"{target} is the input file; choose another --out-dir")
            return False
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        result.status = EXISTS
        result.problems += [f"{t} exists (use --force to overwrite)" for t in existing]
        return False
    return True


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _record_outcome(plan: FixPlan, result: FixResult) -> list[Finding]:
    fixed, result.changes, result.skipped, problems = plan.outcome()
    result.problems += problems
    return fixed


def _errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]


def _dry_run(path: Path, targets: Targets, plan: FixPlan, checked: FileResult,
             result: FixResult, split: bool) -> FixResult:
    """Show what would change; write nothing.  Remaining findings are predicted
    (the findings minus the fixed ones), since there is no output to re-check."""
    result.status = DRY_RUN
    diff = SegmentDiff(str(path), str(targets.output))
    rewrite(path, None, plan.transform, observer=diff)
    result.fixed = _record_outcome(plan, result)
    result.diff = diff.text()
    predicted = _without(checked.findings, result.fixed)
    result.remaining = _errors(predicted)
    if split:
        try:
            result.split = split_claims(path, predicted)
        except SplitError as exc:
            result.problems.append(f"split not possible: {exc}")
    return result


def _key(finding: Finding) -> tuple[str, int | None]:
    """A finding's identity across a fix: its rule and segment (no fix moves segments)."""
    return finding.rule, finding.segment_index


def _without(findings: list[Finding], fixed: list[Finding]) -> list[Finding]:
    left = Counter(_key(f) for f in fixed)
    kept = []
    for finding in findings:
        if left[_key(finding)] > 0:
            left[_key(finding)] -= 1
        else:
            kept.append(finding)
    return kept


def recheck_problems(before: list[Finding], fixed: list[Finding],
                     after: list[Finding]) -> list[str]:
    """Compare the output's findings with the input's: every fixed finding must
    be gone (same rule at the same segment) and no finding may be new."""
    expected = Counter(_key(f) for f in before) - Counter(_key(f) for f in fixed)
    fixed_keys = {_key(f) for f in fixed}
    excess = Counter(_key(f) for f in after) - expected
    problems = []
    for finding in after:
        key = _key(finding)
        if excess[key] <= 0:
            continue
        if finding.rule in HISTORY_STAGE and key not in fixed_keys:
            # a fixed claim is forwarded now, so the history judges the claims after
            # it with its lines: new, and right, but not the fix's doing
            continue
        excess[key] -= 1
        what = "fixed finding still present" if key in fixed_keys else "new finding"
        problems.append(f"re-check: {what}: {finding.rule} at segment "
                        f"{finding.segment_index}: {display(finding.message)}")
    return problems


def _write_change_log(targets: Targets, checked: FileResult, result: FixResult) -> None:
    log = {"input": result.path, "input_sha256": checked.sha256, "output": result.output,
           "applied": len(result.changes), "skipped": len(result.skipped),
           "changes": [c.as_dict() for c in result.changes],
           "skipped_changes": [c.as_dict() for c in result.skipped]}
    with atomic_output(targets.changes_json) as out:
        json.dump(log, out, indent=2)
        out.write("\n")
    with atomic_output(targets.changes_text) as out:
        out.write(f"{result.path} -> {result.output}: {len(result.changes)} change(s), "
                  f"{len(result.skipped)} skipped\n")
        for change in result.changes + result.skipped:
            out.write(change.as_text() + "\n")
    result.written += [str(targets.changes_json), str(targets.changes_text)]


# -- the accepted/held split ------------------------------------------------------

class SplitError(Exception):
    """The file's structure does not allow a split (truncated, claim outside a hierarchy)."""


def _split(targets: Targets, findings: list[Finding], result: FixResult, force: bool) -> None:
    try:
        split = split_claims(targets.output, findings, accepted=targets.accepted,
                             held=targets.held)
        if split.held or split.not_carried:
            _write_held_report(targets, split)
    except (SplitError, OSError) as exc:
        result.problems.append(f"split not written: {exc}")
        return
    result.split = split
    result.written += split.written
    if force:  # a file left from an earlier run would contradict this one
        for stale in (targets.accepted, targets.held, targets.held_json, targets.held_text):
            if str(stale) not in split.written and stale.exists():
                stale.unlink()


def _write_held_report(targets: Targets, split: SplitResult) -> None:
    report = {"input": str(targets.output), "held_file": str(targets.held),
              "claims_held": len(split.held), "charges_held": str(split.held_charge),
              "claims_accepted": split.accepted,
              "charges_accepted": str(split.accepted_charge),
              "not_carried": split.not_carried,
              "held": [claim.as_dict() for claim in split.held]}
    with atomic_output(targets.held_json) as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    with atomic_output(targets.held_text) as out:
        out.write(f"{len(split.held)} claim(s) held from {targets.output} "
                  f"(charges {split.held_charge}):\n")
        for claim in split.held:
            out.write(f"claim {display(claim.claim_id)} (transaction {claim.transaction}, "
                      f"charge {claim.charge}):\n")
            for finding in claim.reasons:
                line = f" LX {finding.line_number}" if finding.line_number is not None else ""
                out.write(f"  segment {finding.segment_index}{line}: {finding.rule} "
                          f"{finding.severity} {display(finding.message)}\n")
        for note in split.not_carried:
            out.write(f"not carried: {note}\n")
    split.written += [str(targets.held_json), str(targets.held_text)]


@dataclass(slots=True)
class _Loop:
    """One 2000A/2000B/2000C level: its HL and the segments up to the next HL or CLM."""

    hl: RawSegment
    segments: list[RawSegment] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)

    @property
    def key(self) -> int:
        return self.hl.index


@dataclass(slots=True)
class _Envelope:
    """The open ISA, GS and ST with the set's header segments (BHT, 1000A/B),
    and the error findings on each: they hold every claim inside."""

    isa: RawSegment
    gs: RawSegment | None = None
    header: list[RawSegment] = field(default_factory=list)  # ST first
    interchange_errors: list[Finding] = field(default_factory=list)
    group_errors: list[Finding] = field(default_factory=list)
    set_errors: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return self.interchange_errors + self.group_errors + self.set_errors


class _SplitFile:
    """One output of the split, written as claims are routed to it.

    Envelopes are opened only when a first claim arrives, so a set, group or
    interchange without claims for this file is left out, and a file without
    claims is never created.  The hierarchy is rebuilt per transaction set:
    HL01 numbered from 1, HL02 pointing at the HL written for the parent, and
    HL04 saying whether a child level follows.  A subscriber (2000B) is
    written again when the file needs it both with and without patient loops
    (2000C) under it, which the guide allows, so HL04 is always right without
    looking ahead.
    """

    def __init__(self, path: Path | None, reader: RawSegmentReader, stack: ExitStack) -> None:
        self.path = path
        self._reader = reader
        self._stack = stack
        self._sink: TextSink | None = None
        self._isa = self._gs = self._st = None  # the input segments of the open envelopes
        self._groups = self._sets = self._segments = 0
        self._hl_number = 0
        self._emitted: dict[str, tuple[int, int] | None] = {}  # level -> (input HL, output HL01)
        self._subscriber_has_patients = False

    # -- writing ------------------------------------------------------------
    def _write(self, text: str, trailer: str) -> None:
        if self._sink is None:
            handle = None
            if self.path is not None:
                handle = self._stack.enter_context(atomic_output(self.path, "wb"))
            self._sink = TextSink(handle, self._reader.encoding)
            self._sink.write(self._reader.head)
        self._sink.write(text + trailer)
        self._segments += 1

    def _copy(self, segment: RawSegment) -> None:
        self._write(segment.text, segment.trailer)

    def _rebuild(self, segment: RawSegment, values: dict[int, str]) -> None:
        fields = list(segment.fields)
        fields += [""] * (max(values) + 1 - len(fields))
        for position, value in values.items():
            fields[position] = value
        self._write(serialise(fields, segment.delimiters), segment.trailer)

    # -- envelopes ------------------------------------------------------------
    def _open(self, envelope: _Envelope) -> None:
        if self._isa is not envelope.isa:
            self._copy(envelope.isa)
            self._isa, self._gs, self._groups = envelope.isa, None, 0
        if self._gs is not envelope.gs:
            self._copy(envelope.gs)
            self._gs, self._st, self._sets = envelope.gs, None, 0
            self._groups += 1
        if self._st is not envelope.header[0]:
            self._st = envelope.header[0]
            self._sets += 1
            self._segments = 0
            for segment in envelope.header:
                self._copy(segment)
            self._hl_number = 0
            self._emitted = {"20": None, "22": None, "23": None}

    def close_set(self, se: RawSegment) -> None:
        if self._st is not None:
            self._rebuild(se, {1: str(self._segments + 1), 2: _element(self._st, 2)})
            self._st = None

    def close_group(self, ge: RawSegment) -> None:
        if self._gs is not None:
            self._rebuild(ge, {1: str(self._sets), 2: _element(self._gs, 6)})
            self._gs = None

    def close_interchange(self, iea: RawSegment) -> None:
        if self._isa is not None:
            self._rebuild(iea, {1: str(self._groups), 2: _element(self._isa, 13)})
            self._isa = None

    def finish(self) -> bool:
        """Flush; True when anything was written."""
        if self._isa is not None:
            raise SplitError(f"interchange {_element(self._isa, 13)} has no IEA")
        if self._sink is not None:
            self._sink.close()
        return self._sink is not None

    # -- claims ------------------------------------------------------------------
    def add_claim(self, envelope: _Envelope, hierarchy: dict[str, _Loop | None],
                  claim: list[RawSegment]) -> None:
        self._open(envelope)
        self._write_hierarchy(hierarchy["20"], hierarchy["22"], hierarchy["23"])
        for segment in claim:
            self._copy(segment)

    def _write_hierarchy(self, billing: _Loop, subscriber: _Loop,
                         patient: _Loop | None) -> None:
        emitted = self._emitted
        if not self._is_current("20", billing):
            self._write_loop("20", billing, parent=None, has_children=True)
            emitted["22"] = emitted["23"] = None
        wants_patients = patient is not None
        if not self._is_current("22", subscriber) or \
                self._subscriber_has_patients != wants_patients:
            self._write_loop("22", subscriber, parent=emitted["20"][1],
                             has_children=wants_patients)
            self._subscriber_has_patients = wants_patients
            emitted["23"] = None
        if patient is not None and not self._is_current("23", patient):
            self._write_loop("23", patient, parent=emitted["22"][1], has_children=False)

    def _is_current(self, level: str, loop: _Loop) -> bool:
        emitted = self._emitted[level]
        return emitted is not None and emitted[0] == loop.key

    def _write_loop(self, level: str, loop: _Loop, *, parent: int | None,
                    has_children: bool) -> None:
        self._hl_number += 1
        self._rebuild(loop.hl, {1: str(self._hl_number), 2: str(parent) if parent else "",
                                4: "1" if has_children else "0"})
        for segment in loop.segments:
            self._copy(segment)
        self._emitted[level] = (loop.key, self._hl_number)


def _element(segment: RawSegment, position: int) -> str:
    fields = segment.fields
    return fields[position] if len(fields) > position else ""


class _Splitter:
    """One streaming pass over a file, routing each claim to the accepted or
    the held output; buffers one claim and the current hierarchy levels."""

    def __init__(self, path: str | Path, findings: Iterable[Finding],
                 accepted: Path | None, held: Path | None, stack: ExitStack) -> None:
        self.reader = RawSegmentReader(path)
        self.errors: dict[int, list[Finding]] = {}
        for finding in findings:
            if finding.severity == ERROR and finding.segment_index is not None \
                    and finding.rule not in TRAILER_RULES:
                self.errors.setdefault(finding.segment_index, []).append(finding)
        self.accepted = _SplitFile(accepted, self.reader, stack)
        self.held = _SplitFile(held, self.reader, stack)
        self.result = SplitResult()
        self.envelope: _Envelope | None = None
        self.hierarchy: dict[str, _Loop | None] = {"20": None, "22": None, "23": None}
        self.loop: _Loop | None = None  # the level the current segments belong to
        self.claim: list[RawSegment] | None = None
        self.claim_errors: list[Finding] = []
        self.carrying = False  # inside an 837 transaction set

    def run(self) -> SplitResult:
        handlers = {"ISA": self._isa, "GS": self._gs, "ST": self._st, "HL": self._hl,
                    "CLM": self._clm, "SE": self._se, "GE": self._ge, "IEA": self._iea}
        for segment in self.reader:
            handler = handlers.get(segment.tag)
            if handler is not None:
                handler(segment)
            elif self.carrying:
                self._body(segment)
        self._end_claim()
        for output in (self.accepted, self.held):
            if output.finish() and output.path is not None:
                self.result.written.append(str(output.path))
        return self.result

    def _found(self, segment: RawSegment) -> list[Finding]:
        return self.errors.get(segment.index, [])

    # -- envelopes --------------------------------------------------------------
    def _isa(self, segment: RawSegment) -> None:
        self.envelope = _Envelope(segment, interchange_errors=list(self._found(segment)))

    def _gs(self, segment: RawSegment) -> None:
        if self.envelope is None:
            raise SplitError(f"GS at segment {segment.index} outside an interchange")
        self.envelope.gs = segment
        self.envelope.group_errors = list(self._found(segment))

    def _st(self, segment: RawSegment) -> None:
        envelope = self.envelope
        if envelope is None or envelope.gs is None:
            raise SplitError(f"ST at segment {segment.index} outside a group")
        self._end_claim()
        envelope.header = [segment]
        envelope.set_errors = list(self._found(segment))
        self.hierarchy = {"20": None, "22": None, "23": None}
        self.loop = None
        self.carrying = _element(segment, 1) == "837"
        if not self.carrying:
            self.result.not_carried.append(
                f"transaction set {_element(segment, 2)} ({_element(segment, 1) or 'no id'}) "
                f"at segment {segment.index} is not an 837")

    def _se(self, segment: RawSegment) -> None:
        self._end_claim()
        self.carrying = False
        for output in (self.accepted, self.held):
            output.close_set(segment)

    def _ge(self, segment: RawSegment) -> None:
        for output in (self.accepted, self.held):
            output.close_group(segment)

    def _iea(self, segment: RawSegment) -> None:
        for output in (self.accepted, self.held):
            output.close_interchange(segment)
        self.envelope = None

    # -- hierarchy and claims -----------------------------------------------------
    def _hl(self, segment: RawSegment) -> None:
        if not self.carrying:
            return
        self._end_claim()
        # Levels nest in file order (X12 hierarchies are written depth first):
        # anything not a billing provider (20) or subscriber (22) is read as a
        # patient level (23); the reader reports odd codes as EDI007.
        level = _element(segment, 3)
        level = level if level in ("20", "22") else "23"
        self.loop = _Loop(segment, errors=list(self._found(segment)))
        self.hierarchy[level] = self.loop
        if level == "20":
            self.hierarchy["22"] = self.hierarchy["23"] = None
        elif level == "22":
            self.hierarchy["23"] = None

    def _clm(self, segment: RawSegment) -> None:
        if not self.carrying:
            return
        self._end_claim()
        if self.hierarchy["20"] is None or self.hierarchy["22"] is None:
            raise SplitError(f"claim {_element(segment, 1)} at segment {segment.index} "
                             "has no billing provider or subscriber HL above it")
        self.claim = [segment]
        self.claim_errors = list(self._found(segment))

    def _body(self, segment: RawSegment) -> None:
        if self.claim is not None:
            self.claim.append(segment)
            self.claim_errors += self._found(segment)
        elif self.loop is not None:
            self.loop.segments.append(segment)
            self.loop.errors += self._found(segment)
        elif self.envelope is not None and self.envelope.header:
            self.envelope.header.append(segment)
            self.envelope.set_errors += self._found(segment)

    def _end_claim(self) -> None:
        if self.claim is None:
            return
        clm, claim = self.claim[0], self.claim
        self.claim = None
        reasons = list(self.claim_errors)
        for loop in self.hierarchy.values():
            if loop is not None:
                reasons += loop.errors
        reasons += self.envelope.errors
        if reasons:
            self.result.held.append(RoutedClaim(
                _element(clm, 1), _element(self.envelope.header[0], 2), _element(clm, 2),
                reasons))
            self.held.add_claim(self.envelope, self.hierarchy, claim)
        else:
            self.result.accepted += 1
            self.result.accepted_charge += parse_decimal(_element(clm, 2)) or Decimal(0)
            self.accepted.add_claim(self.envelope, self.hierarchy, claim)


def split_claims(path: str | Path, findings: Iterable[Finding], *,
                 accepted: Path | None = None, held: Path | None = None) -> SplitResult:
    """Route each claim of ``path`` by its error ``findings`` (from checking that file).

    A claim is held for an error finding inside it (CLM to the segment before
    the next HL, CLM or SE), on one of the hierarchy levels above it, or on
    its envelopes and transaction set header.  Trailer findings (EDI003,
    EDI004) hold nothing: the split writes its own trailers.  ``accepted`` and
    ``held`` are the output files (None: route only, write nothing); a file
    that would hold no claim is not created.
    """
    findings = list(findings)
    if any(f.rule == "EDI002" for f in findings):
        raise SplitError("an interchange, group or transaction set is not closed (EDI002)")
    with ExitStack() as stack:
        return _Splitter(path, findings, accepted, held, stack).run()
