"""Claim shapes: run only the rules that can fire on a claim already seen in another guise.

Most claims in a clearinghouse batch repeat a few patterns: the same drug,
dose, NDC, diagnoses and administration lines, with another claim id, charge,
patient and date.  The rules give the same answer for two claims whose
*shape* is the same: every field a rule reads, with dates replaced by what
the rules can tell of them (which validity period of the drug table and of
the imported CMS reference data they fall in, and which of the claim's
dates are equal).  Once a shape has been
checked, the rules that raised something on it are remembered: a later
claim of the same shape needs only those (none at all for a clean shape).
They run again on the new claim, so no finding is ever replayed (messages
name dates and claim ids).

The shape lists every claim and line field the rules read.  A rule that
starts reading another field must add it here; `tests/test_shapes.py`
compares findings with and without shapes on generated files with every
kind of defect, and the rule docs' fragments run both ways too.
"""
from __future__ import annotations

import bisect
import datetime as dt

from .model import Claim, parse_date

MAX_SHAPES = 2048  # about 1.5 KB each: bounded, so memory stays flat; a full set starts over


class ClaimShapes:
    def __init__(self, table, policy_dates=()) -> None:
        """``policy_dates``: where a payer policy's requirements change (edi837.policy)."""
        changes = {table.policy.discarded_drug_modifiers.required_from,
                   table.policy.discarded_drug_modifiers.claim_edits_from, *policy_dates}
        for drug in table.drugs.values():
            if drug.effective_from is not None:
                changes.add(drug.effective_from)
            for code in drug.diagnoses:
                if code.valid_from is not None:
                    changes.add(code.valid_from)
                if code.valid_to is not None:
                    changes.add(code.valid_to + dt.timedelta(days=1))
        if getattr(table, "reference", None) is not None:
            # a crosswalk, pricing, MUE or ICD-10-CM file takes effect: facts change
            changes.update(table.reference.change_dates)
        self._changes = tuple(sorted(changes))
        self._fired: dict[tuple, frozenset[str]] = {}
        self._dates: dict[tuple[str, str, str], tuple] = {}  # (HCPCS, NDC, date) -> token
        self._table = table

    def _period(self, text: str) -> int | None:
        day = parse_date(text)
        return None if day is None else bisect.bisect_right(self._changes, day)

    def shape(self, claim: Claim, policy) -> tuple:
        """``policy``: the claim's payer policy (its shape_id: equal where it judges alike)."""
        dates: dict[str, tuple] = {}

        def date(text: str) -> tuple:
            token = dates.get(text)
            if token is None:  # (order of first appearance, validity period, present)
                token = dates[text] = (len(dates), self._period(text), bool(text))
            return token

        line_date = claim.line_date
        dates_token = self._dates_token
        return (
            claim.kind, policy.shape_id, tuple(d.code for d in claim.diagnoses),
            claim.facility_code,
            claim.frequency, claim.payer_responsibility,  # DOC001: not on voids, secondaries
            claim.billing_provider.entity_type if claim.billing_provider else None,
            claim.rendering is not None, claim.attending is not None,
            claim.facility is not None, claim.referring is not None,
            tuple((line.procedure, line.modifier_slots, line.units, line.unit_basis,
                   line.place_of_service,
                   line.revenue_code, line.pointer_slots, line.segment_id,
                   date(line_date(line)),
                   (line.drug.qualifier, line.drug.ndc, line.drug.quantity, line.drug.unit,
                    line.drug.ctp_index is None) if line.drug else None,
                   line.rendering is not None, line.ordering is not None,
                   line.referring is not None)
                  for line in claim.lines),
            # DOS002 / NDC009: each line's date against its code's and its NDC's dates
            tuple(dates_token(line.procedure, line.ndc, line_date(line))
                  for line in claim.lines),
        )

    def _dates_token(self, hcpcs: str, ndc: str, day: str) -> tuple:
        """The drug table's dates token of a line, once per HCPCS, NDC and date: a night
        repeats a few of each (a lookup in the code's and the NDC's dates otherwise runs
        for every line of every claim)."""
        key = (hcpcs, ndc, day)
        token = self._dates.get(key)
        if token is None:
            if len(self._dates) >= MAX_SHAPES:
                self._dates.clear()
            token = self._dates[key] = self._table.dates_token(hcpcs, ndc.strip(),
                                                               parse_date(day))
        return token

    def fired(self, shape: tuple) -> frozenset[str] | None:
        """Codes of the rules that raised findings on this shape (empty: clean),
        or None when the shape has not been checked yet."""
        return self._fired.get(shape)

    def remember(self, shape: tuple, fired: frozenset[str]) -> None:
        if len(self._fired) >= MAX_SHAPES:
            self._fired.clear()
        self._fired[shape] = fired
