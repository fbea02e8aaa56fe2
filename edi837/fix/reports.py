"""What `fix` writes beside the EDI: the change log and the held-claims report."""
from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_output
from ..x12.reader import display
from .plan import Change
from .split import SplitResult


def write_change_log(json_path: Path, text_path: Path, *, source: str, sha256: str,
                     output: str, applied: list[Change], skipped: list[Change]) -> None:
    """``<name>.changes.json`` and ``.txt``: every edit, applied or skipped, and why."""
    log = {"input": source, "input_sha256": sha256, "output": output,
           "applied": len(applied), "skipped": len(skipped),
           "changes": [c.as_dict() for c in applied],
           "skipped_changes": [c.as_dict() for c in skipped]}
    with atomic_output(json_path) as out:
        json.dump(log, out, indent=2)
        out.write("\n")
    with atomic_output(text_path) as out:
        out.write(f"{source} -> {output}: {len(applied)} change(s), {len(skipped)} skipped\n")
        for change in applied + skipped:
            out.write(change.as_text() + "\n")


def write_held_report(json_path: Path, text_path: Path, *, source: Path, held_file: Path,
                      split: SplitResult) -> None:
    """``<stem>.held.json`` and ``.txt``: each held claim with the findings that hold it."""
    report = {"input": str(source), "held_file": str(held_file),
              "claims_held": len(split.held), "charges_held": str(split.held_charge),
              "claims_accepted": split.accepted,
              "charges_accepted": str(split.accepted_charge),
              "not_carried": split.not_carried,
              "held": [claim.as_dict() for claim in split.held]}
    with atomic_output(json_path) as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    with atomic_output(text_path) as out:
        out.write(f"{len(split.held)} claim(s) held from {source} "
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
