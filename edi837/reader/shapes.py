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

Which fields make the shape is not kept here: each rule declares the fields
it reads where it is defined (``@rule(..., reads=("line.units", ...))``,
edi837.rules), and the engine gives this class the union of them
(edi837.rules.shape_fields()).  :data:`FIELDS` is the vocabulary a rule
declares from: each field's name and how a shape reads it.  A rule reading a
field that is not in it adds it there once (the registry refuses a name it
does not know).  `tests/reader/test_shapes.py` compares findings with and without
shapes on generated files with every kind of defect, and the rule docs'
fragments run both ways too.
"""
from __future__ import annotations

import bisect
import datetime as dt
from typing import Callable

from ..model import Claim, parse_date

# about 1.5 KB each: bounded, so memory stays flat; a full set starts over.  (A 20 MB
# dense file has some 2,800 shapes, so it starts over once; 4,096 would save 0.1 s
# there, but a 100 MB file's check then peaks at 64 MiB, test_reports' bound.)
MAX_SHAPES = 2048

# The fields a rule can declare it reads, each as the expression a shape takes of it:
# ``claim``, ``line``, ``day`` (the line's date of service, the claim's when it has
# none: Claim.line_date), a date's token (its order of first appearance on the claim,
# so equal dates stay equal, its validity period (``period``) and whether there is
# one: kept in ``seen``) and ``dates_token`` (the drug table's dates of a code and NDC,
# looked up first in the ``dates_get`` of its cache).  A provider is present or not:
# who it is, no rule judges.  Line fields are taken of every line of the claim, drug line or not.
CLAIM_FIELDS = {
    "claim.kind": "claim.kind",
    "claim.diagnoses": "tuple([d.code for d in claim.diagnoses])",
    "claim.facility_code": "claim.facility_code",
    "claim.frequency": "claim.frequency",  # CLM05-3: DOC001 not on voids
    "claim.payer_responsibility": "claim.payer_responsibility",  # DOC001: not on secondaries
    "claim.billing_provider": "claim.billing_provider.entity_type "
                              "if claim.billing_provider else None",
    "claim.rendering": "claim.rendering is not None",
    "claim.attending": "claim.attending is not None",
    "claim.facility": "claim.facility is not None",
    "claim.referring": "claim.referring is not None",
    # DX002: an inpatient bill's diagnoses are valid by its statement's through date
    "claim.statement_through": "seen_get(through := claim.statement_through) or "
                               "seen_setdefault(through, (len(seen), period(through), "
                               "bool(through)))",
}
LINE_FIELDS = {
    "line.procedure": "line.procedure",
    "line.modifiers": "line.modifier_slots",
    "line.units": "line.units",
    "line.unit_basis": "line.unit_basis",
    "line.place_of_service": "line.place_of_service",
    "line.revenue_code": "line.revenue_code",
    "line.pointers": "line.pointer_slots",
    "line.segment_id": "line.segment_id",
    "line.date": "seen_get(day) or seen_setdefault(day, (len(seen), period(day), bool(day)))",
    # DX002: the end of the period a line without a day of its own is dated by
    "line.span": "seen_get(span := (line.service_date_end if line.service_date else "
                 "(claim.dates.get('472') or claim.dates.get('434') or '')[9:17])) "
                 "or seen_setdefault(span, (len(seen), period(span), bool(span)))",
    "line.drug": "(line.drug.qualifier, line.drug.ndc, line.drug.quantity, line.drug.unit, "
                 "line.drug.ctp_index is None) if line.drug else None",
    "line.rendering": "line.rendering is not None",
    "line.ordering": "line.ordering is not None",
    "line.referring": "line.referring is not None",
    # DOS002 / NDC009: the line's date against its code's and its NDC's dates
    "line.code_dates": "dates_get((line.procedure, line.drug.ndc if line.drug else '', day)) "
                       "or dates_token(line.procedure, line.drug.ndc if line.drug else '', day)",
}
FIELDS = (*CLAIM_FIELDS, *LINE_FIELDS)
# What the engine itself reads of every claim, whatever the rules: which lines are drug
# lines and of which drug (line.procedure), the payer policy (its shape_id: the profile
# at each place some profile names), and each line's place of service (SV105 picks the
# profile, so the plan, of its line's rules: edi837.engine).
ENGINE_FIELDS = ("line.procedure", "line.place_of_service")


def shape_function(fields) -> Callable:
    """The function that makes a claim's shape of ``fields`` (names of FIELDS, in
    FIELDS order whatever order given): one expression, compiled once, as
    dataclasses and namedtuple make theirs; it runs for every claim."""
    wanted = set(fields) | set(ENGINE_FIELDS)
    unknown = wanted - set(FIELDS)
    if unknown:
        raise ValueError(f"no claim shape field {', '.join(sorted(unknown))} "
                         "(edi837.reader.shapes)")
    claim = ", ".join(expr for name, expr in CLAIM_FIELDS.items() if name in wanted)
    line = ", ".join(f"({expr})" for name, expr in LINE_FIELDS.items() if name in wanted)
    dated = bool(wanted & {"line.date", "line.code_dates", "line.span",
                          "claim.statement_through"})
    # a line's date once per line ("for day in (...,)" is an assignment in a
    # comprehension), the claim's own date once per claim
    source = "def shape(claim, policy, period, dates_get, dates_token):\n" + (
        "    sd = claim.service_date\n"
        "    seen = {}\n"
        "    seen_get, seen_setdefault = seen.get, seen.setdefault\n" if dated else "") + (
        f"    return (policy.shape_id, {claim}{', ' if claim else ''}"
        f"tuple([({line},) for line in claim.lines"
        f"{' for day in (line.service_date or sd,)' if dated else ''}]))\n")
    namespace: dict = {}
    exec(compile(source, "<edi837.reader.shapes>", "exec"), namespace)  # FIELDS: our own text
    return namespace["shape"]


class ClaimShapes:
    def __init__(self, table, policy_dates=(), fields=FIELDS) -> None:
        """``policy_dates``: where a payer policy's requirements change (edi837.policy);
        ``fields``: what the rules read (edi837.rules.shape_fields(); default: all)."""
        self._key = shape_function(fields)
        changes = {table.policy.discarded_drug_modifiers.required_from,
                   table.policy.discarded_drug_modifiers.claim_edits_from,
                   table.policy.discarded_drug_modifiers.waste_rules_from, *policy_dates,
                   *table.policy.discarded_drug_modifiers.available_from.values()}
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
        self._windows: dict[tuple[str, str], tuple] = {}  # (HCPCS, NDC) -> date_windows
        self._periods: dict[str, int | None] = {}  # a date's _period
        self._table = table

    def _period(self, text: str) -> int | None:
        """Which of the periods between the facts' changes the date ``text`` is in (None:
        no date), kept per date text: a claim's dates are looked up once per claim."""
        try:
            return self._periods[text]
        except KeyError:
            pass
        day = parse_date(text)
        if len(self._periods) >= MAX_SHAPES:
            self._periods.clear()
        period = self._periods[text] = None if day is None else \
            bisect.bisect_right(self._changes, day)
        return period

    def shape(self, claim: Claim, policy) -> tuple:
        """``policy``: the claim's payer policy (its shape_id: equal where it judges alike)."""
        return self._key(claim, policy, self._period, self._dates.get, self._dates_token)

    def _dates_token(self, hcpcs: str, ndc: str, day: str) -> tuple:
        """The drug table's dates token of a line, once per HCPCS, NDC and date: a night
        repeats a few of each (a lookup in the code's and the NDC's dates otherwise runs
        for every line of every claim).  The code's and NDC's dates are kept per HCPCS
        and NDC: a dense file's dates are many more than its codes and NDCs."""
        key = (hcpcs, ndc, day)
        token = self._dates.get(key)
        if token is None:
            if len(self._dates) >= MAX_SHAPES:
                self._dates.clear()
            when = parse_date(day)
            if when is None:
                token = ()  # (DrugTable.dates_token's of no day)
            else:
                windows = self._windows.get((hcpcs, ndc))
                if windows is None:
                    if len(self._windows) >= MAX_SHAPES:
                        self._windows.clear()
                    windows = self._windows[hcpcs, ndc] = self._table.date_windows(
                        hcpcs, ndc.strip())
                token = self._table.token_of(windows, when)
            self._dates[key] = token
        return token

    def fired(self, shape: tuple) -> frozenset[str] | None:
        """Codes of the rules that raised findings on this shape (empty: clean),
        or None when the shape has not been checked yet."""
        return self._fired.get(shape)

    def remember(self, shape: tuple, fired: frozenset[str]) -> None:
        if len(self._fired) >= MAX_SHAPES:
            self._fired.clear()
        self._fired[shape] = fired
