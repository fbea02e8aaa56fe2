"""Fixing one file, end to end: check, plan, write, re-check, split.

Nothing here modifies an input file, and an existing output is overwritten
only with ``force``.  Every file is written atomically (temp file + rename).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any, Collection, Iterable, Iterator

from ..config import Config
from ..engine import Engine, FileResult
from ..findings import ERROR, Finding
from ..reader.claims import ClaimReader
from ..rules import stage_rules
from ..x12.reader import X12SyntaxError, display
from ..x12.writer import RewriteSummary
from .apply import CannotFix, diff_of, dropped_change, write_corrected
from .forwarded import ForwardedHistory, from_history_stage, held_by_envelopes, hold_records
from .plan import Change, FixPlan
from .reports import write_change_log, write_held_report
from .route import SplitError
from .spill import SpillList
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
    changes: SpillList[Change] = field(default_factory=SpillList)  # applied
    skipped: SpillList[Change] = field(default_factory=SpillList)
    remaining: Collection[Finding] = ()  # error findings after the fixes
    problems: list[str] = field(default_factory=list)  # anything that makes the exit status 2
    fixed: list[tuple[int, str]] = field(default_factory=list)  # (segment, rule) fixed
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
    numbers: Any = None  # ControlNumbers the split files are renumbered from (None: keep)
    held_sets: Any = None  # the sets whose claims are all held (edi837.fix.rejected)

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
             dry_run: bool = False, force: bool = False, split: bool = False,
             spill_limit: int | None = None,
             history_findings: Iterable[Finding] | None = None,
             engine: Engine | None = None, recheck_history=None,
             not_forwarded: Collection[int] = (), control_numbers=None,
             held_sets=None) -> FixResult:
    """Apply the safe fixes of ``path``'s findings; write ``<out_dir>/<name>``.

    ``select``/``ignore`` (rule codes or prefixes) choose which fixes apply;
    the check itself runs with ``config``, so the remaining findings are the
    same a `check` would report.  With ``dry_run`` nothing is written and
    ``diff`` shows what would change.  ``spill_limit``: changes, held
    claims and history findings kept in memory before they go to a
    temporary file.  ``history_findings``: what the patient history found in
    this file (the batch driver judges them), in file order (by segment, as a
    FindingStore gives them); by default, the history findings of this
    file's own check.  They hold claims in the split like any error: the
    output is re-checked apart from the history, so they are carried over.
    ``engine``: the run's engine, so that a run of several files judges each against
    the files before it (a claim sent in two files of one run is a duplicate, as
    `check` finds it); by default an engine of this file's own.  The engine's history
    keeps the claims as the written output forwards them, the safe fixes applied
    (:mod:`.forwarded`), as `batch --split` does; a dry run's, as the input has them.
    ``recheck_history``: the history stage the written output is re-checked with (the
    batch's record sink, which keeps the claims as they are forwarded; the batch
    driver judges them), and ``history_findings`` given: the engine's history judges
    nothing of this file.  ``not_forwarded``: the CLM segment indices of claims the
    engine's history must not keep whatever their findings (a transaction set the 999
    rejects: `ack`); claims an envelope error holds are kept out of it too.
    ``control_numbers`` (edi837.x12.control.ControlNumbers): the split files take new
    interchange and group control numbers from it, not the input's.  ``held_sets``
    (edi837.fix.rejected.RejectedSets): the transaction sets the 999 rejects, whose
    every claim the split holds.

    Every output is read back with edi837's own reader; one it cannot read,
    or that has lost claims, is removed with the rest of this file's outputs
    (status failed).  Should fixing fail in any other way, this file's
    outputs are removed too, and the exception goes to the caller.
    """
    path, out_dir = Path(path), Path(out_dir)
    targets = replace(Targets.for_input(path, out_dir), numbers=control_numbers,
                      held_sets=held_sets)
    result = FixResult(str(path), output=str(targets.output))
    if not dry_run and not _may_write(path, targets.all(split), force, result):
        return result
    engine = engine if engine is not None else Engine(table, config)
    # judged here (not by a batch driver): the run's history keeps the claims as the
    # written output forwards them, not as the input has them
    forwarded = None if dry_run or history_findings is not None \
        or recheck_history is not None else ForwardedHistory(engine.history, path)
    try:
        return _fix_checked(path, targets, result, engine, forwarded, select, ignore,
                            dry_run, force, split, spill_limit, history_findings,
                            recheck_history, not_forwarded)
    finally:
        if forwarded is not None:
            forwarded.close()


def _fix_checked(path: Path, targets: Targets, result: FixResult, engine: Engine,
                 forwarded: ForwardedHistory | None, select, ignore, dry_run: bool,
                 force: bool, split: bool, spill_limit: int | None,
                 history_findings: Iterable[Finding] | None, recheck_history,
                 not_forwarded: Collection[int] = ()) -> FixResult:
    checked = engine.check_file(path, history=forwarded.input if forwarded else None)
    if checked.status == "unreadable":
        result.status = UNREADABLE
        result.problems += [(f"segment {f.segment_index}: " if f.segment_index else "")
                            + f"{f.rule} {f.message}" for f in checked.findings
                            if f.rule in UNREADABLE_RULES and f.severity == "error"]
        return result
    plan = FixPlan(checked.findings, select, ignore, spill_limit=spill_limit)
    if dry_run:
        return _dry_run(path, targets, plan, checked.findings, result, split, spill_limit)
    judged: Iterable[Finding] | ForwardedHistory
    if forwarded is not None:
        judged, recheck_history = forwarded, forwarded.output
    elif history_findings is None:
        judged = (f for f in checked.findings if from_history_stage(f))
    else:
        judged = history_findings
    try:
        _write_and_check(path, targets, plan, engine, checked, result, split, force,
                         spill_limit, judged, recheck_history, not_forwarded)
    except BaseException:
        _remove_outputs(path, targets.all(split), result)
        raise
    if result.status == FAILED:
        _remove_outputs(path, targets.all(split), result)
    return result


def _write_and_check(path: Path, targets: Targets, plan: FixPlan, engine: Engine,
                     checked: FileResult, result: FixResult, split: bool, force: bool,
                     spill_limit: int | None,
                     history: Iterable[Finding] | ForwardedHistory,
                     recheck_history=None, not_forwarded: Collection[int] = ()) -> None:
    """``history``: the history's findings, or what judges the output's claims once
    it is read back (:class:`ForwardedHistory`), keeping out of the run's history the
    claims of ``not_forwarded`` and those an envelope error holds."""
    try:
        summary = write_corrected(path, targets.output, plan)
        result.written.append(str(targets.output))
        _take_outcome(plan, summary, result)
        write_change_log(targets.changes_json, targets.changes_text, source=result.path,
                         sha256=checked.sha256, output=str(targets.output),
                         applied=result.changes, skipped=result.skipped)
        result.written += [str(targets.changes_json), str(targets.changes_text)]
    except (OSError, CannotFix, X12SyntaxError) as exc:
        # one file that cannot be fixed or written does not stop a batch
        result.status = FAILED
        if isinstance(exc, OSError):
            result.problems.append(f"cannot write {exc.filename or targets.output}: "
                                   f"{exc.strerror or exc}")
        else:
            result.problems.append(f"cannot be fixed: {exc}")
        return
    # the output is the same claims again: judged apart from the input's history
    rechecked = engine.check_file(targets.output, history=recheck_history
                                  if recheck_history is not None else engine.new_history())
    lost = _read_back_problem(targets.output, rechecked.status == "unreadable",
                              rechecked.findings, rechecked.claims, checked.claims)
    if lost:
        result.status = FAILED
        result.problems.append(lost)
        return
    result.problems += recheck_problems(checked.findings, result.fixed, rechecked.findings)
    records = getattr(recheck_history, "path", None)  # a record sink's (fix's, batch's)
    if records is not None:  # the claims as forwarded: one an envelope error holds is not
        hold_records(records, held_by_envelopes(targets.output, rechecked.findings,
                                                HISTORY_STAGE))
    if isinstance(history, ForwardedHistory):
        history = history.judge(checked.sha256, spill_limit, not_forwarded)
    final = _WithHistory(rechecked.findings, _in_place_order(history, spill_limit))
    result.remaining = _Errors(final)
    if not split:
        return
    if result.problems:
        result.problems.append("split not written: the re-check found problems")
        return
    _split(targets, final, result, force, spill_limit)
    if result.split is not None:
        for output, expected in ((targets.accepted, result.split.accepted),
                                 (targets.held, len(result.split.held))):
            lost = _read_back(output, expected)
            if lost:
                result.status = FAILED
                result.problems.append(lost)
                return


def _take_outcome(plan: FixPlan, summary: RewriteSummary, result: FixResult) -> None:
    result.changes, result.skipped = plan.applied, plan.skipped
    result.fixed = plan.fixed
    result.problems += plan.problems
    dropped = dropped_change(summary)
    if dropped is not None:
        result.changes.append(dropped)


def _read_back(path: Path, claims: int) -> str | None:
    """A problem when edi837's reader cannot read ``path`` or finds other than
    ``claims`` claims in it (a file not written must have had none)."""
    if not path.exists():
        return None if claims == 0 else f"{path} was not written, but {claims} claims " \
                                         "were routed to it"
    reader = ClaimReader(path)
    count = sum(1 for _ in reader.claims())
    return _read_back_problem(path, reader.unreadable, reader.findings, count, claims)


def _read_back_problem(path: Path, unreadable: bool, findings: Iterable[Finding], count: int,
                       expected: int) -> str | None:
    broken = next((f for f in findings if f.severity == ERROR
                   and f.rule in ("EDI001", "EDI002")), None)
    if unreadable or broken is not None:
        why = f": {broken.rule} {display(broken.message)}" if broken is not None else ""
        return f"edi837 cannot read back what it wrote to {path}{why}; outputs removed"
    if count != expected:
        return (f"edi837 reads {count} claims back from {path}, not the {expected} it "
                "wrote; outputs removed")
    return None


def _remove_outputs(path: Path, targets: list[Path], result: FixResult) -> None:
    """Leave none of this file's outputs: a half set would contradict itself."""
    for target in targets:
        try:
            if target.is_file() and not _same_file(path, target):  # never the input
                target.unlink()
        except OSError:
            pass
    result.written = []


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


def _place(finding: Finding) -> tuple:
    return (finding.segment_index or 0, finding.rule)


def _in_place_order(findings: Iterable[Finding], limit: int | None) -> SpillList[Finding]:
    """``findings`` (in file order: by segment) ordered by :func:`_place`, as
    :class:`_WithHistory` merges them, and kept in a SpillList: a file's history
    findings (a DOC001 note on every first dose) are as many as its claims, so
    past ``limit`` they wait on disk.  Only the findings of one segment are held
    at a time, to be sorted by rule (a FindingStore orders a segment's findings
    by path first)."""
    kept: SpillList[Finding] = SpillList(limit=limit)
    last = 0
    for index, group in groupby(findings, key=lambda f: f.segment_index or 0):
        if index < last:
            raise ValueError(f"history findings are not in file order: segment {index} "
                             f"after segment {last}")
        last = index
        kept.extend(sorted(group, key=_place))
    return kept


class _WithHistory:
    """A re-check's findings with the history's in place of its own (the re-check
    judged the output apart from the run's history), in file order, re-iterable."""

    __slots__ = ("_findings", "_history")

    def __init__(self, findings: Iterable[Finding], history: Iterable[Finding]) -> None:
        self._findings = findings
        self._history = history

    def __iter__(self) -> Iterator[Finding]:
        import heapq

        own = (f for f in self._findings if not from_history_stage(f))
        # by segment: the history's findings name the input, the re-check's the output
        return heapq.merge(own, self._history, key=_place)


class _Errors:
    """The error findings of a re-iterable collection (a FindingStore: bounded
    in memory), read when asked; the count is taken once."""

    __slots__ = ("_findings", "_count")

    def __init__(self, findings: Iterable[Finding]) -> None:
        self._findings = findings
        self._count: int | None = None

    def __iter__(self) -> Iterator[Finding]:
        return (f for f in self._findings if f.severity == ERROR)

    @property
    def every(self) -> Iterable[Finding]:
        """All the findings, of every severity (re-iterable)."""
        return self._findings

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, finding: object) -> bool:
        return any(f == finding for f in self)


def _dry_run(path: Path, targets: Targets, plan: FixPlan, findings: Iterable[Finding],
             result: FixResult, split: bool, spill_limit: int | None) -> FixResult:
    """Show what would change; write nothing.  Remaining findings are predicted
    (the findings minus the fixed ones), since there is no output to re-check."""
    result.status = DRY_RUN
    try:
        result.diff, summary = diff_of(path, targets.output, plan)
    except (CannotFix, X12SyntaxError) as exc:
        result.status = FAILED
        result.problems.append(f"cannot be fixed: {exc}")
        return result
    _take_outcome(plan, summary, result)
    predicted = _Without(findings, result.fixed)
    result.remaining = _Errors(predicted)
    if split:
        try:
            result.split = split_claims(path, predicted, spill_limit=spill_limit)
        except SplitError as exc:
            result.problems.append(f"split not possible: {exc}")
    return result


def _order(finding: Finding) -> tuple[int, str]:
    """A finding's identity across a fix, in file order: its segment and rule
    (no fix moves segments)."""
    return finding.segment_index or 0, finding.rule


class _Counts:
    """How many times each key occurs in a run of keys in file order, read forward."""

    def __init__(self, keys: Iterable[tuple[int, str]]) -> None:
        self._keys = iter(keys)
        self._head = next(self._keys, None)

    def take(self, key: tuple[int, str]) -> int:
        """The occurrences of ``key``; keys before it are passed over."""
        count = 0
        while self._head is not None and self._head <= key:
            count += self._head == key
            previous, self._head = self._head, next(self._keys, None)
            if self._head is not None and self._head < previous:
                raise ValueError("findings are not in file order")
        return count


def _runs(findings: Iterable[Finding]) -> Iterator[tuple[tuple[int, str], list[Finding]]]:
    """Consecutive findings with the same segment and rule; checks the file order."""
    last = None
    for key, group in groupby(findings, key=_order):
        if last is not None and key < last:
            raise ValueError("findings are not in file order")
        last = key
        yield key, list(group)


class _Without:
    """The findings minus the fixed ones (one per fixed key), as often as iterated."""

    def __init__(self, findings: Iterable[Finding], fixed: list[tuple[int, str]]) -> None:
        self._findings, self._fixed = findings, fixed

    def __iter__(self) -> Iterator[Finding]:
        fixed = _Counts(self._fixed)
        for key, group in _runs(self._findings):
            yield from group[fixed.take(key):]


RECHECK_PROBLEMS_LISTED = 50  # the rest are counted: the first ones say what went wrong
# rules whose findings depend on other claims
HISTORY_STAGE = frozenset(r.code for r in stage_rules())


def recheck_problems(before: Iterable[Finding], fixed: Iterable[tuple[int, str]],
                     after: Iterable[Finding]) -> list[str]:
    """Compare the output's findings with the input's: every fixed finding must
    be gone (same rule at the same segment) and no finding may be new.

    ``before`` and ``after`` are findings in file order (as `check` returns
    them), ``fixed`` the (segment, rule) of each fixed finding in the same
    order (:attr:`FixPlan.fixed`): one pass over the three, so nothing but a
    run of findings at one segment is held.
    """
    before_counts, fixed_counts = _Counts(_order(f) for f in before), _Counts(fixed)
    problems: list[str] = []
    more = 0
    for key, group in _runs(after):
        removed = fixed_counts.take(key)
        expected = max(before_counts.take(key) - removed, 0)
        for finding in group[:max(len(group) - expected, 0)]:
            if finding.rule in HISTORY_STAGE and not removed:
                # a fixed claim is forwarded now, so the history judges the claims after
                # it with its lines: new, and right, but not the fix's doing
                continue
            if len(problems) == RECHECK_PROBLEMS_LISTED:
                more += 1
                continue
            what = "fixed finding still present" if removed else "new finding"
            problems.append(f"re-check: {what}: {finding.rule} at segment "
                            f"{finding.segment_index}: {display(finding.message)}")
    if more:
        problems.append(f"re-check: {more} more problems not listed")
    return problems


def _split(targets: Targets, findings: Iterable[Finding], result: FixResult, force: bool,
           spill_limit: int | None) -> None:
    try:
        split = split_claims(targets.output, findings, accepted=targets.accepted,
                             held=targets.held, spill_limit=spill_limit,
                             numbers=targets.numbers.next if targets.numbers else None,
                             held_sets=targets.held_sets)
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
