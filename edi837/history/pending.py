"""A claim checked in this process, waiting in the history stage's window
(edi837.history.stage), and the stage's two ways past its record.

Most drug claims of a night are one drug line of a patient the history has no
line of.  Without a lasting store no history rule can say anything of one:
its line goes into the history as INSERT values (:meth:`PendingClaim.quick_values`).
With a lasting store only the first-dose rules (HIS003, DOC001's part) can,
and what they say of such a claim depends on a few of its fields alone
(:func:`first_dose_key`): the findings the rules made for the first claim of
a key are a template (:class:`FirstDoses`) that the next claims of that key
get a copy of, their own places filled in, without a record or a context.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..checklist import MARK
from ..findings import ERROR, Finding
from ..policy.model import setting_of
from .context import STAGE_MARK
from .records import DISCARDED, REPLACEMENT, VOID, ClaimRecord, claim_record

if TYPE_CHECKING:
    from .stage import HistoryStage

TEMPLATES = 4096  # keys kept (a night's codes x units x dates; cleared when full)
_LINE_EXTRA = {STAGE_MARK, "ndc", "units", "line_index"}  # what a line's finding carries


class PendingClaim:
    """A claim checked in this process, waiting for its window: the claim model
    itself, so that the common claim (one drug line, a patient the history has
    never seen) goes into the history without a record being built."""

    __slots__ = ("claim", "lines", "patient", "held", "known", "payer_id", "filing_indicator")

    def __init__(self, claim, lines, patient: bytes, held: bool, known) -> None:
        self.claim, self.lines, self.patient, self.held, self.known = (claim, lines, patient,
                                                                       held, known)
        self.payer_id = claim.payer_id
        self.filing_indicator = claim.filing_indicator

    @property
    def setting(self) -> str:
        return setting_of(self.claim.kind, self.claim.facility_code)

    def record(self) -> ClaimRecord:
        return claim_record(self.claim, self.lines, self.patient, self.held, self.known)

    def _lone_line(self):
        """The claim's one line, when the claim is neither a replacement nor a void and
        the line's units are plain digits (the only claims the quick paths take)."""
        lines = self.lines
        if len(lines) != 1:
            return None
        frequency = self.claim.frequency
        if frequency == REPLACEMENT or frequency == VOID:
            return None
        text = lines[0].units
        return lines[0] if text.isdigit() and text.isascii() else None

    def quick_values(self, stage: HistoryStage, first_doses: bool) -> list[tuple] | None:
        """The INSERT values of a one-line claim no history rule can say anything of
        (its record's ``_alone_and_clean``, without the record); None otherwise.
        ``first_doses``: HIS003 is in the claim's plan."""
        line = self._lone_line()
        if line is None:
            return None
        text = line.units
        facts = stage.quick_facts(line.procedure)
        if facts is not None:
            if first_doses:
                return None
            doses, most = facts
            units = int(text)
            if doses and units not in doses:
                return None
            if most is not None and units > most and DISCARDED not in line.modifiers:
                return None
        return self.values()

    def values(self) -> list[tuple]:
        """The INSERT values of a one-line claim's line (its record's ``_values``)."""
        claim = self.claim
        line = self.lines[0]
        billing = claim.billing_provider
        drug = line.drug
        return [(self.patient, line.service_date or claim.service_date, line.procedure,
                 line.units, " ".join(line.modifiers), drug.ndc if drug else "",
                 billing.npi if billing else "", self.payer_id, claim.payer_responsibility,
                 claim.claim_id, claim.frequency, claim.original_reference, 0)]

    def first_dose_key(self, stage: HistoryStage, plan: list) -> tuple | None:
        """What the first-dose rules' findings on this claim depend on, when the stage
        would judge it by them alone (a patient the history has no line of, one line of
        a drug in the table, a labeled dose within the day's maximum: ``quick_values``
        refused it only for its first dose); None when it would not.  ``plan``: the
        claim's (one per payer profile, kept for the run)."""
        line = self._lone_line()
        if line is None:
            return None
        claim, text, hcpcs = self.claim, line.units, line.procedure
        if line.segment_index is None or not self.known(hcpcs):
            return None
        facts = stage.quick_facts(hcpcs)
        if facts is None:
            return None
        doses, most = facts
        units = int(text)
        discarded = DISCARDED in line.modifiers
        if doses and units not in doses:
            return None
        if most is not None and units > most and not discarded:
            return None
        return (id(plan), hcpcs, text, line.service_date or claim.service_date, discarded,
                claim.frequency, claim.payer_responsibility)

    def noted(self, template: list[tuple], policy: str) -> list[Finding]:
        """The findings of ``template`` (:class:`FirstDoses`) on this claim's line, as
        the stage's context would make them (edi837.history.context)."""
        claim = self.claim
        line = self.lines[0]
        env = claim.envelope
        billing = claim.billing_provider
        npi = (billing.npi if billing is not None else "") or None
        index, segment, number = line.segment_index, line.segment_id or "SV1", line.line_number
        path, claim_id, interchange = env.path, claim.claim_id, env.interchange
        group, transaction = env.group, env.transaction
        payer_id, payer_name = claim.payer_id or None, claim.payer_name or None
        charge, claim_charge = line.charge or None, claim.charge or None
        date = line.service_date or claim.service_date or None
        first, last = claim.first_index, claim.last_index
        drug = line.drug
        ndc, units = (drug.ndc if drug else ""), line.units
        found = []
        for rule, severity, message, value, hcpcs, mark in template:  # (mark: () or (it,))
            finding = Finding(  # (by position: context.FINDING_FIELDS)
                rule, severity, message, path, index, segment, "2400", claim_id, number,
                hcpcs, value, interchange, group, transaction, payer_id, charge,
                payer_name, date, npi, claim_charge, claim_first=first, claim_last=last,
                policy=policy)
            extra = finding.extra
            extra[STAGE_MARK] = True
            extra["ndc"], extra["units"], extra["line_index"] = ndc, units, index
            if mark:
                extra[MARK] = mark[0]
            found.append(finding)
        return found


class FirstDoses:
    """The first-dose rules' findings per :meth:`PendingClaim.first_dose_key`, as
    templates: (rule, severity, message, value, hcpcs, checklist mark) each, and
    whether one is an error (the claim is then held from the history)."""

    __slots__ = ("_templates",)

    def __init__(self) -> None:
        self._templates: dict[tuple, tuple[list[tuple], bool]] = {}

    def get(self, key: tuple) -> tuple[list[tuple], bool] | None:
        return self._templates.get(key)

    def learn(self, key: tuple, record: ClaimRecord, findings: list[Finding]) -> None:
        """Keep what the rules said of the claim of ``key`` (its ``record``), if every
        finding is on its one line."""
        line = record.lines[0]
        template = []
        for finding in findings:
            extra = finding.extra
            if finding.segment_index != line.segment_index or finding.loop != "2400" or \
                    finding.line_number != line.number or \
                    not _LINE_EXTRA <= extra.keys() <= _LINE_EXTRA | {MARK}:
                return  # (not one the template can say again)
            template.append((finding.rule, finding.severity, finding.message, finding.value,
                             finding.hcpcs, (extra[MARK],) if MARK in extra else ()))
        if len(self._templates) >= TEMPLATES:
            self._templates.clear()
        self._templates[key] = (template, any(f.severity == ERROR for f in findings))
