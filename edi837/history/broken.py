"""Transaction sets a 999 rejects for their structure, whose claims stay out of the history.

A 999 rejects a set whose SE01 segment count is wrong (EDI004 on SE) or whose
structure the reader could not follow (EDI007: a segment whose id is no X12 id,
as garbage bytes in the middle of a file make; an HL out of order; service lines
outside any claim): the payer never sees its claims, the submitter sends the set
again.  Its claims must not enter the patient history (their resend would be
flagged a duplicate of claims that never arrived), as held claims do not.  The
store keeps a file's lines together: such a file adds none of its lines.
"""
from __future__ import annotations

from typing import Iterable

from ..findings import Finding
from ..reader.loops import HL_OUT_OF_ORDER, NOT_AN_ID, OUTSIDE_ANY_CLAIM

# what the reader's EDI007 says of a structure it could not follow (its own words)
_LOST = (HL_OUT_OF_ORDER, NOT_AN_ID, OUTSIDE_ANY_CLAIM)


def breaks_set(finding: Finding) -> bool:
    """Whether a reader finding is one a 999 rejects its transaction set for."""
    if finding.rule == "EDI004":
        return finding.segment == "SE"
    return finding.rule == "EDI007" and any(mark in finding.message for mark in _LOST)


def broken_sets(findings: Iterable[Finding]) -> int:
    """How many transaction sets the reader's findings say a 999 rejects."""
    return len({(f.interchange, f.group, f.transaction) for f in findings if breaks_set(f)})
