"""The run's own patient history judged by patient shard, off the driver (issue 26).

Every history rule looks at one patient's lines and nothing else: duplicates
(HIS001), the dose schedule (HIS002), first doses (HIS003), voids and
replacements (HIS004: the claim they refer to is the same patient's) and the
day's units summed over the patient's claims (UNT001, UNT002).  So the claims
of a run split by patient judge the same in parts as whole: a part that holds
every claim of its patients, in input order (file after file, claims in file
order), judged by a history stage of its own, finds of those claims exactly
what the run's one stage finds.

`check --jobs N` / `check --dask` without ``--history``: each unit's worker
hands its claim records back split by shard (``shard_of``: bytes 12-15 of the
patient's keyed hash, modulo the shard count; :class:`~edi837.history.handover.
RecordSink`), as bytes the driver keeps without decoding.  Once every file is
checked, the driver sends each shard's records, file after file in input
order, to one task (:func:`judge_shard`, on a worker); each returns its
findings by file (bytes), which join each file's findings (the report sorts a
file's findings as always: by segment, then rule).  The driver only orders
and merges: it decodes no record and judges no claim.  The shards are as many
as the workers' slots; a file that has none of a shard's patients costs that
shard nothing.

A lasting history (``check --history FILE|URL``) is still judged by the
driver, file after file (:mod:`.check`): the run holds the store in one
transaction, committed when the reports are out and rolled back if the run
dies (another run on the store waits), and the lines a file adds are written
into it in file order; shards writing it from several processes would need a
transaction spanning them all.  ``batch`` too judges its history on the
driver: each file's lines are committed with the file's outcome in the
ledger, which is what makes a killed batch safe to run again.
"""
from __future__ import annotations

from itertools import chain
from typing import Iterator

from ..history.handover import findings_bytes, records_of_bytes
from .work import CheckSettings, engine_for


def judge_shard(settings: CheckSettings, run_id: str, files: list[tuple]) -> list[bytes]:
    """Judge one shard's claims: ``files`` in input order, each (path as given, SHA-256,
    whether the file was readable (its lines kept), the CLM indices of claims not to
    forward (``Engine.not_forwarded``), its records as bytes, unit after unit).  Returns
    each file's history findings as bytes (:func:`~edi837.history.handover.
    findings_bytes`), in the order of ``files``."""
    from ..history import HistoryStage, HistoryStore
    from ..rules import stage_rules

    engine = engine_for(settings)
    stage = HistoryStage(HistoryStore.ephemeral(), engine.table, engine.config,
                         rules=stage_rules(), run_id=run_id)
    found: list[bytes] = []
    try:
        for path, sha256, keep, skip, parts in files:
            if not any(parts):  # none of this shard's patients
                found.append(b"")
                continue
            records = _records(parts, path, skip)
            found.append(findings_bytes(stage.judge_file(records, sha256, keep=keep)))
    finally:
        stage.store.close()
    return found


def _records(parts: list[bytes], path: str, skip) -> Iterator:
    """A file's records, named by the path as given, those of ``skip`` held (as
    Engine.held_records)."""
    for record in chain.from_iterable(records_of_bytes(part) for part in parts if part):
        if record.path != path:
            record.path = path
        if record.clm_index in skip:
            record.held = True
        yield record


def shard_parts(parts: list, shards: int) -> list[list[bytes]]:
    """A file's records, unit after unit (each unit's: a list of bytes by shard), as each
    shard's list of bytes."""
    return [[unit[i] for unit in parts] for i in range(shards)]
