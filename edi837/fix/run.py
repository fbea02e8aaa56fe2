"""Fixing one file, end to end: check, plan, write, re-check, split.

Nothing here modifies an input file, and an existing output is overwritten
only with ``force``.  Every file is written atomically (temp file + rename).
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..config import Config
from ..engine import Engine
from ..findings import ERROR, Finding
from ..x12.reader import display
from .apply import diff_of, write_corrected
from .plan import Change, FixPlan
from .reports import write_change_log, write_held_report
from .route import SplitError
from .split import SplitResult, split_claims

UNREADABLE_RULES = ("EDI001", "EDI002", "EDI005")  # what stops a file being read as claims
WRITTEN, DRY_RUN, UNREADABLE, EXISTS, FAILED = "written", "dry-run", "unreadable", "exists", \
    "failed"


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
        return _dry_run(path, targets, plan, checked.findings, result, split)
    try:
        write_corrected(path, targets.output, plan)
        result.written.append(str(targets.output))
        result.fixed = _record_outcome(plan, result)
        write_change_log(targets.changes_json, targets.changes_text, source=result.path,
                         sha256=checked.sha256, output=result.output,
                         applied=result.changes, skipped=result.skipped)
        result.written += [str(targets.changes_json), str(targets.changes_text)]
    except OSError as exc:  # one file that cannot be written does not stop a batch
        result.status = FAILED
        result.problems.append(f"cannot write {exc.filename or targets.output}: "
                               f"{exc.strerror or exc}")
        return result
    rechecked = engine.check_file(targets.output)
    result.problems += recheck_problems(checked.findings, result.fixed, rechecked.findings)
    result.remaining = _errors(rechecked.findings)
    if split:
        if result.problems:
            result.problems.append("split not written: the re-check found problems")
        else:
            _split(targets, rechecked.findings, result, force)
    return result


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


def _dry_run(path: Path, targets: Targets, plan: FixPlan, findings: Iterable[Finding],
             result: FixResult, split: bool) -> FixResult:
    """Show what would change; write nothing.  Remaining findings are predicted
    (the findings minus the fixed ones), since there is no output to re-check."""
    result.status = DRY_RUN
    result.diff = diff_of(path, targets.output, plan)
    result.fixed = _record_outcome(plan, result)
    predicted = _without(findings, result.fixed)
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


def _without(findings: Iterable[Finding], fixed: list[Finding]) -> list[Finding]:
    left = Counter(_key(f) for f in fixed)
    kept = []
    for finding in findings:
        if left[_key(finding)] > 0:
            left[_key(finding)] -= 1
        else:
            kept.append(finding)
    return kept


def recheck_problems(before: Iterable[Finding], fixed: list[Finding],
                     after: Iterable[Finding]) -> list[str]:
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
        excess[key] -= 1
        what = "fixed finding still present" if key in fixed_keys else "new finding"
        problems.append(f"re-check: {what}: {finding.rule} at segment "
                        f"{finding.segment_index}: {display(finding.message)}")
    return problems


def _split(targets: Targets, findings: Iterable[Finding], result: FixResult,
           force: bool) -> None:
    try:
        split = split_claims(targets.output, findings, accepted=targets.accepted,
                             held=targets.held)
        if split.held or split.not_carried:
            write_held_report(targets.held_json, targets.held_text, source=targets.output,
                              held_file=targets.held, split=split)
            split.written += [str(targets.held_json), str(targets.held_text)]
    except (SplitError, OSError) as exc:
        result.problems.append(f"split not written: {exc}")
        return
    result.split = split
    result.written += split.written
    if force:  # a file left from an earlier run would contradict this one
        for stale in (targets.accepted, targets.held, targets.held_json, targets.held_text):
            if str(stale) not in split.written and stale.exists():
                stale.unlink()
