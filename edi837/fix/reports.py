"""What `fix` writes beside the EDI: the change log and the held-claims report.

Both are written as their records are read, one at a time (the records wait
in :class:`~edi837.fix.spill.SpillList`\\ s), so a file with tens of thousands
of changes or held claims does not need them all in memory at once.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Collection, Iterable

from ..files import atomic_output
from ..model import parse_decimal
from ..reports.figures import dollars, plural
from ..x12.reader import display
from .plan import Change
from .split import SplitResult


def _write_json(out: IO[str], fields: dict, arrays: dict[str, Iterable]) -> None:
    """A JSON object like ``json.dump(..., indent=2)`` writes it, the arrays streamed."""
    out.write("{")
    separator = "\n"
    for key, value in fields.items():
        text = json.dumps(value, indent=2).replace("\n", "\n  ")
        out.write(f"{separator}  {json.dumps(key)}: {text}")
        separator = ",\n"
    for key, items in arrays.items():
        out.write(f"{separator}  {json.dumps(key)}: [")
        first = True
        for item in items:
            text = json.dumps(item, indent=2).replace("\n", "\n    ")
            out.write(f"{'' if first else ','}\n    {text}")
            first = False
        out.write("]" if first else "\n  ]")
        separator = ",\n"
    out.write("\n}\n")


def write_change_log(json_path: Path, text_path: Path, *, source: str, sha256: str,
                     output: str, applied: Collection[Change],
                     skipped: Collection[Change]) -> None:
    """``<name>.changes.json`` and ``.txt``: every edit, applied or skipped, and why."""
    counts = len(applied), len(skipped)
    fields = {"input": source, "input_sha256": sha256, "output": output,
              "applied": counts[0], "skipped": counts[1]}
    with atomic_output(json_path) as out:
        _write_json(out, fields, {"changes": (c.as_dict() for c in applied),
                                  "skipped_changes": (c.as_dict() for c in skipped)})
    with atomic_output(text_path) as out:
        out.write(f"{source} -> {output}: {counts[0]} change(s), {counts[1]} skipped\n")
        for changes in (applied, skipped):
            for change in changes:
                out.write(change.as_text() + "\n")


def write_held_report(json_path: Path, text_path: Path, *, source: Path, held_file: Path,
                      split: SplitResult) -> None:
    """``<stem>.held.json`` and ``.txt``: each held claim with the findings that hold it."""
    fields = {"input": str(source), "held_file": str(held_file),
              "claims_held": len(split.held), "charges_held": str(split.held_charge),
              "claims_accepted": split.accepted,
              "charges_accepted": str(split.accepted_charge)}
    with atomic_output(json_path) as out:
        _write_json(out, fields, {"not_carried": split.not_carried,
                                  "held": (claim.as_dict() for claim in split.held)})
    with atomic_output(text_path) as out:
        out.write(f"{plural(len(split.held), 'claim')} held from {source} "
                  f"(charges {dollars(split.held_charge)}):\n")
        for claim in split.held:
            payer = next((f for f in claim.reasons if f.payer_id), None)
            named = ""
            if payer is not None:
                name = display(payer.payer_name) + " " if payer.payer_name else ""
                named = f", payer {name}({display(payer.payer_id or '')})"
            charge = parse_decimal(claim.charge)
            out.write(f"claim {display(claim.claim_id)} (transaction {claim.transaction}"
                      f"{named}, charge "
                      f"{dollars(charge) if charge is not None else display(claim.charge)}):\n")
            for finding in claim.reasons:
                line = f" LX {finding.line_number}" if finding.line_number is not None else ""
                out.write(f"  segment {finding.segment_index}{line}: {finding.rule} "
                          f"{finding.severity} {display(finding.message)}\n")
        for note in split.not_carried:
            out.write(f"not carried: {note}\n")
