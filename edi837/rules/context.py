"""What a rule gets: one claim with drug lines (:class:`ClaimContext`) or one
drug line in its claim (:class:`LineContext`), and ``finding`` to report on it.

The engine (edi837.engine) makes one ClaimContext per claim with drug lines
and one LineContext per drug line; claim rules take the first, line rules
the second (edi837.rules).  History rules take the history stage's own
context (edi837.history.stage.HistoryContext).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from ..checklist import MARK
from ..findings import ERROR, Finding, Fix
from ..model import Claim, ServiceLine, parse_date
from . import Rule

if TYPE_CHECKING:  # for the annotations only
    from ..drugs import Drug, DrugTable
    from ..policy import ClaimPolicy


@dataclass(slots=True)
class ClaimContext:
    """One claim with drug lines, as the rules see it."""

    claim: Claim
    table: DrugTable
    profile: Any  # edi837.config.Profile (the configuration sits above the rules)
    drug_lines: list[ServiceLine]
    findings: list[Finding]
    rule: Rule | None = None
    severity: str = ERROR
    errors: int = 0  # error findings on this claim so far (an error holds the claim)
    first_doses_in_history: bool = False  # DOC001's first-dose notes come from HIS003
    policy: ClaimPolicy | None = None  # what the payer requires, and how severely
    checklist: dict = field(default_factory=dict)  # DOC codes folded into DOC000 (checklist.py)
    _groups: dict | None = None
    _support: dict = field(default_factory=dict)

    # -- facts about the claim ------------------------------------------------------
    def date_of(self, line: ServiceLine) -> dt.date | None:
        return parse_date(self.claim.line_date(line))

    def policy_of(self, line: ServiceLine) -> ClaimPolicy | None:
        """The payer policy a line is judged by: the claim's, or on an 837P line with a
        place of service of its own (SV105, overriding CLM05-1 as POS001 reads it) the
        same payer's policy at that place (edi837.policy.ClaimPolicy.at_place)."""
        policy = self.policy
        place = line.place_of_service
        if not place or policy is None or place == self.claim.facility_code:
            return policy
        return policy.at_place(place)

    def _group_lines(self) -> dict:
        groups: dict[tuple, list[ServiceLine]] = {}
        line_date = self.claim.line_date
        for other in self.drug_lines:
            groups.setdefault((other.procedure, line_date(other)), []).append(other)
        self._groups = groups
        return groups

    def group(self, line: ServiceLine) -> list[ServiceLine]:
        """Drug lines of the claim with the same HCPCS and date of service."""
        groups = self._groups if self._groups is not None else self._group_lines()
        return groups.get((line.procedure, self.claim.line_date(line)), [line])

    def groups(self) -> Iterator[list[ServiceLine]]:
        groups = self._groups if self._groups is not None else self._group_lines()
        yield from groups.values()

    def diagnosis_support(self, drug, day: dt.date | None):
        """Which claim diagnoses support ``drug`` on ``day`` (computed once per claim)."""
        key = (drug.hcpcs, day)
        support = self._support.get(key)
        if support is None:
            support = drug.supporting_diagnoses([dx.code for dx in self.claim.diagnoses], day)
            self._support[key] = support
        return support

    def claim_date(self) -> str:
        """The claim's date of service for a claim-level finding: the claim's own
        (837P DTP*472, 837I statement), else its earliest drug line's."""
        return self.claim.service_date or min(
            filter(None, map(self.claim.line_date, self.drug_lines)), default="")

    def lines_on(self, date: str) -> list[ServiceLine]:
        """Every line of the claim (drug or not) with this date of service."""
        return [line for line in self.claim.lines if self.claim.line_date(line) == date]

    # -- findings ---------------------------------------------------------------
    def finding(self, message: str, *, line: ServiceLine | None = None,
                segment_index: int | None = None, segment: str | None = None,
                loop: str | None = None, value: str | None = None, fix: Fix | None = None,
                hcpcs: str | None = None, severity: str | None = None,
                judged_on: str | None = None) -> Finding:
        """A finding of the running rule; ``severity``: the payer policy's, for a rule
        whose severity is by policy, or the rule's second severity (``also``) for a
        finding that takes it (a severity the user configured still wins);
        ``judged_on`` (CCYYMMDD): the date the rule judged by, where it is not the
        line's or the claim's (DX002: an inpatient stay's discharge)."""
        claim = self.claim
        policy = self.policy
        rule = self.rule
        assert rule is not None  # the engine names the running rule before it runs
        severity = self.severity or severity or rule.severity or ERROR
        env = claim.envelope
        billing = claim.billing_provider
        if line is None:
            line_number = charge = limit = None
            hcpcs = hcpcs or None
            service_date = self.claim_date() or None
            extra = {}
        else:
            if segment_index is None:
                segment_index, segment, loop = line.segment_index, line.segment_id, loop or "2400"
            line_number, charge = line.line_number, line.charge
            policy = self.policy_of(line)
            day = claim.line_date(line)
            service_date = day or None
            hcpcs = hcpcs or line.procedure
            limit = self.table.payment_limit(line.procedure, day, line.units)
            # For reports: the line's NDC and units, and its SV1/SV2 index so
            # "dollars at risk" counts a line once however many findings it has.
            extra = {"ndc": line.ndc, "units": line.units, "line_index": line.segment_index}
        if segment_index is None:
            segment_index, segment, loop = claim.clm_index, "CLM", loop or "2300"
        if judged_on:
            service_date = judged_on
        # positional, in Finding's field order: this runs for every finding
        finding = Finding(
            rule.code, severity, message, env.path, segment_index, segment, loop,
            claim.claim_id, line_number, hcpcs, value, env.interchange, env.group,
            env.transaction, claim.payer_id or None, charge, claim.payer_name or None,
            service_date, (billing.npi or None) if billing is not None else None,
            claim.charge or None, limit, fix if rule.fix == "safe" else None, extra,
            claim.first_index, claim.last_index,
            policy.name if policy is not None else None)
        if severity == ERROR:
            self.errors += 1
        if self.checklist and rule.code in self.checklist:
            extra[MARK] = self.checklist[rule.code]  # one DOC000 a claim (edi837.checklist)
        self.findings.append(finding)
        return finding


class LineContext:
    """One drug line in its claim: what line rules get.

    Plain attributes, filled once per line: two dozen rules read them, so
    they are not recomputed per rule.
    """

    __slots__ = ("claim_context", "line", "drug", "claim", "table", "profile", "date", "policy")
    claim_context: ClaimContext
    line: ServiceLine
    drug: Drug | None
    claim: Claim
    table: DrugTable
    profile: Any
    date: dt.date | None
    policy: ClaimPolicy | None

    def __init__(self, claim_context: ClaimContext, line: ServiceLine,
                 drug: Drug | None) -> None:
        self.claim_context = claim_context
        self.line = line
        self.drug = drug  # edi837.drugs.Drug, None for drugs the table does not know
        self.claim = claim_context.claim
        self.table = claim_context.table
        self.profile = claim_context.profile
        self.policy = claim_context.policy_of(line)  # SV105 decides for its line
        self.date = claim_context.date_of(line)

    @property
    def group(self) -> list[ServiceLine]:
        return self.claim_context.group(self.line)

    def diagnosis_support(self, day: dt.date | None = None):
        """The claim's diagnoses that support this line's drug on ``day``."""
        return self.claim_context.diagnosis_support(self.drug, day)

    def finding(self, message: str, **where) -> Finding:
        where.setdefault("line", self.line)
        return self.claim_context.finding(message, **where)
