"""The run's patient history keeps a fixed file's claims as they are forwarded.

A claim held in its input only for what a safe fix corrects (Medicare FFS, JZ
missing) goes out in accepted.edi: it must enter the history corrected, so that
the same claim sent again later in the run is a duplicate (HIS001), and a claim
the fixes leave held must not enter it.  `batch --split` does this across
processes (:func:`forwarded_records`, for edi837.batch.run.Worker: the records
of the corrected file's re-check, named by the input, judged by the driver);
`fix` and `ack` do it in their own process with the same parts: the input is
checked apart from the run (:class:`Unjudged`), the written output into a record
sink (edi837.history.handover.RecordSink, which judges nothing), and the output's
records, named by the input, are judged by the run's history stage.  Either way
fix_file holds, in the sink's records, the claims an envelope error holds (a
repeated ISA13): the split does not forward them.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Collection, Iterable, Iterator

from ..findings import ERROR, Finding
from ..history.handover import RecordSink, dump, read_records, record_tuple
from ..history.records import ClaimRecord
from ..history.stage import STAGE_MARK
from ..rules import stage_rules
from ..store import FindingStore


class Unjudged:
    """The history stage a file's input is checked with when only its output is judged:
    its claims go nowhere (no record is made of them).  ``persistent`` as the run's, so
    the input and the output are checked alike (a lasting history's first doses)."""

    hash_first = False

    def __init__(self, keys, persistent: bool) -> None:
        self.keys = keys
        self.persistent = persistent

    def begin_file(self, sha256: str | None = None) -> None:
        pass

    def add_claim(self, claim, lines, patient: bytes, held: bool, known) -> list:
        return []

    def end_file(self, sha256: str, *, keep: bool = True, commit: bool = True) -> list:
        return []


class ForwardedHistory:
    """The sinks a file is checked with, and the judging of what its output forwards,
    for one input ``path`` against ``stage`` (the run's history stage).  Records wait
    in a private temporary folder (keyed patient hashes only), removed by
    :meth:`close`."""

    def __init__(self, stage, path: str | Path) -> None:
        self.stage = stage
        self._folder = tempfile.TemporaryDirectory(prefix="edi837-forwarded-")
        folder = Path(self._folder.name)
        key, persistent = stage.keys.key, stage.persistent
        # the input's claims are not forwarded as they are: checked apart from the run
        self.input = Unjudged(stage.keys, persistent)
        # the output's are, under the input's name (the findings name the input)
        self.output = RecordSink(folder / "output", key, persistent=persistent,
                                 named=str(path))

    def judge(self, sha256: str, spill_limit: int | None = None,
              not_forwarded: Collection[int] = ()) -> FindingStore:
        """Judge the output's claims against the run's history, which keeps those that
        are forwarded (no error); the findings in file order, bounded in memory.
        ``not_forwarded``: the CLM segment indices of claims held whatever the history
        finds (their envelope holds them, or the 999 rejects their transaction set):
        judged, but kept out of the history."""
        records = self.output.path
        found: Iterator[Finding] = self.stage.judge_file(
            _held(read_records(records), not_forwarded)
            if records is not None and records.exists() else iter(()), sha256)
        return FindingStore(found, limit=spill_limit)

    def close(self) -> None:
        self._folder.cleanup()


def forwarded_records(path: str | Path, records: Path, scratch: Path, *, key: bytes,
                      persistent: bool, table, config) -> bool:
    """Write ``records``: the claim records of ``path`` as `fix --split` forwards it
    (its corrected output re-checked, named by the input; claims an envelope error holds
    held), for a history judged elsewhere (the batch driver).  The corrected file goes
    to ``scratch`` (the caller removes it).  False, and no records, when the file
    cannot be fixed: the input's records stand."""
    from . import WRITTEN, fix_file

    sink = RecordSink(records, key, persistent=persistent, named=str(path))
    fixed = fix_file(path, scratch, table=table, config=config, force=True,
                     recheck_history=sink)
    return fixed.status == WRITTEN and records.exists()


def _held(records: Iterable[ClaimRecord], not_forwarded: Collection[int]
          ) -> Iterator[ClaimRecord]:
    for record in records:
        if record.clm_index in not_forwarded:
            record.held = True
        yield record


def hold_records(path: Path, not_forwarded: Collection[int]) -> None:
    """Rewrite a file of claim records (a RecordSink's) with the claims of
    ``not_forwarded`` (CLM segment indices) held: the history judges them, keeps none."""
    if not_forwarded and path.exists():
        dump(_held(read_records(path), not_forwarded), path, record_tuple)


def held_outside_claims(path: str | Path, findings: Iterable[Finding]) -> list:
    """The claims (RoutedClaim) of ``path`` that only errors outside any claim hold (a
    repeated ISA13, a set's or an HL loop's coded value as written): none of their own,
    yet the split and the 277CA hold them.  ``findings`` in file order; the file is
    walked again, so ask only when such an error is among them.  None when it cannot
    be routed (the split says why)."""
    from .route import SplitError, route_claims

    try:
        return [routed for routed in route_claims(path, findings) if not routed.accepted
                and all(found.claim_first != routed.segment_index
                        for found in routed.reasons)]
    except (SplitError, OSError, ValueError):
        return []


def outside_its_claim(finding: Finding) -> bool:
    """Whether ``finding`` lies outside the claim it is tied to, or is tied to none: an
    HL level's (2000B SBR) said with the first claim under it holds the others too."""
    first = finding.claim_first
    return first is None or (finding.segment_index or 0) < first


def held_outside_charges(result) -> list[str]:
    """The CLM02s of a checked file's (FileResult's) claims only an error outside any
    claim holds: what Report.held_outside_of gives the summary line."""
    return [routed.charge for routed in held_outside_claims(result.path, result.findings)]


def held_by_envelopes(path: str | Path, findings: Iterable[Finding],
                      skip: Collection[str] = ()) -> set[int]:
    """The CLM segment indices of ``path``'s claims that an error outside any claim
    holds (an interchange, group or set header: a repeated ISA13, say), as the split
    routes them; the claims' own errors already keep them out of the history.  Only
    when such an error is among ``findings`` (file order, without the rules of
    ``skip``) is the file walked again: most files have none."""
    from .route import SplitError, route_claims, trailer_finding

    def kept() -> Iterator[Finding]:  # (findings: re-iterable, a FindingStore)
        return (f for f in findings if f.rule not in skip)

    if not any(f.severity == ERROR and f.segment_index and outside_its_claim(f)
               and not trailer_finding(f) for f in kept()):
        return set()
    try:
        return {routed.segment_index for routed in route_claims(path, kept())
                if not routed.accepted and routed.segment_index is not None}
    except SplitError:  # the split says why it cannot route them (and forwards none)
        return set()


def from_history_stage(finding: Finding) -> bool:
    """Whether the history stage made ``finding``: every finding of a rule that is the
    stage's alone (HIS001), the stage's part of a rule a claim or line has a part of
    too (UNT004 across claims; UNT004 within one claim is the claim's own: the re-check
    of a fixed file makes it again, and it must hold the claim there too)."""
    stage_only, stage = _stage_codes()
    return finding.rule in stage_only or (finding.rule in stage
                                          and bool(finding.extra.get(STAGE_MARK)))


@lru_cache(maxsize=1)
def _stage_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(the rules only the history stage runs, every rule it runs)."""
    rules = stage_rules()
    return (frozenset(r.code for r in rules if r.check is None),
            frozenset(r.code for r in rules))
