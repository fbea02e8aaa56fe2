"""The transaction sets a 999 does not accept, as reasons that hold their claims.

A set the 999 rejects goes back to the submitter whole, to be corrected and sent
again: a claim of it that the split forwarded would reach the payer twice (the
resend is the first time for the payer's 999, not for its claims).  So `fix --split
--ack277` and `ack` hold every claim of such a set, whatever its own findings, with
one error on the set's ST saying why: ``IGH<n>``, n the 999's IK502 (X12 code list
718: 5 = one or more segments in error), the implementation-guide family the 277CA
maps to A3:684 (syntax error, see the 999).  The 999 answers the input as sent;
the split reads the corrected output, whose envelopes keep the input's ISA13, GS06
and ST02, so the sets are matched by them, asked in file order.
"""
from __future__ import annotations

from pathlib import Path

from ..findings import ERROR, Finding
from ..validate.acceptance import Acceptance
from ..x12.writer import RawSegment


def _element(segment: RawSegment, position: int) -> str:
    fields = segment.fields
    return fields[position].strip() if len(fields) > position else ""


class RejectedSets:
    """Asked with each transaction set's ISA, GS and ST in file order (once each, as
    :meth:`Acceptance.verdict`): the finding holding the set's claims, or None."""

    def __init__(self, acceptance: Acceptance) -> None:
        self.acceptance = acceptance

    def hold(self, path: str | Path, isa: RawSegment, gs: RawSegment,
             st: RawSegment) -> Finding | None:
        isa13, gs06, st02 = _element(isa, 13), _element(gs, 6), _element(st, 2)
        rejected = self.acceptance.rejection(isa13, gs06, st02)
        if rejected is None:
            return None
        why, code = rejected
        syntax = code.partition("*")[2]
        said = f"the 999 rejects transaction set {st02} (IK5*{code})" if code else \
            f"transaction set {st02}: {why}"
        return Finding(
            f"IGH{syntax if syntax.isalnum() else 'R'}", ERROR,
            f"{said}: the submitter sends the whole set again, so none of its claims is "
            "forwarded",
            str(path), segment_index=st.index, segment="ST", value=st02,
            interchange=isa13, group=gs06, transaction=st02)
