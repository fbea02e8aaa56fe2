"""Findings: what a rule (or the reader) says about a place in a file.

A finding is anchored to one segment of the input (its 1-based index in the
file) and carries enough context (control numbers, claim id, LX, loop) for a
biller to find it without opening the file.  When the rule catalog marks a
rule's fix `safe`, the finding also carries the :class:`Fix` that `edi837 fix`
applies, so reporting and fixing share one implementation (as sqlfluff's lint
and fix do).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .x12.edit import Edit
from .x12.text import display

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(slots=True, frozen=True)
class Fix:
    """A safe correction: a short description and the edits that make it."""

    description: str
    edits: tuple[Edit, ...]

    def as_dict(self) -> dict:
        return {
            "description": display(self.description),
            "edits": [edit.as_dict() for edit in self.edits],
        }


@dataclass(slots=True)
class Finding:
    rule: str
    severity: str
    message: str
    path: str
    segment_index: int | None = None
    segment: str | None = None
    loop: str | None = None
    claim_id: str | None = None
    line_number: int | None = None
    hcpcs: str | None = None
    value: str | None = None
    interchange: str | None = None  # ISA13
    group: str | None = None  # GS06
    transaction: str | None = None  # ST02
    payer_id: str | None = None
    charge: str | None = None  # line charge, for "dollars at risk"
    payer_name: str | None = None  # 2010BB NM103 as sent (free text)
    service_date: str | None = None  # the line's (or claim's) date of service, CCYYMMDD
    billing_npi: str | None = None  # 2010AA NM109
    claim_charge: str | None = None  # CLM02: what a held claim keeps from being paid
    payment_limit: str | None = None  # CMS ASP payment limit x the line's units, when imported
    fix: Fix | None = None
    extra: dict = field(default_factory=dict)
    claim_first: int | None = None  # the claim's CLM segment index, for claim views
    claim_last: int | None = None  # the claim's last segment index
    policy: str | None = None  # the payer policy the claim was judged by (edi837.policy)

    def sort_key(self) -> tuple:
        return (self.path, self.segment_index or 0, self.rule)

    def take_claim(self, claim, drug_lines, policy_name: str | None) -> None:
        """Tie a reader finding to its claim (an ``edi837.model.Claim``; ``drug_lines``
        its drug lines) with the context every claim finding carries (README:
        payer, billing NPI, date of service, ...), where the reader had none yet: a
        CLM's own EDI007 is made before the claim's subscriber and lines are read, an
        HL level's (2000B SBR) before any claim under it.  What it has is kept."""
        self.claim_id = self.claim_id if self.claim_id is not None else claim.claim_id
        self.claim_first, self.claim_last = claim.first_index, claim.last_index
        self.payer_id = self.payer_id or claim.payer_id or None
        self.payer_name = self.payer_name or claim.payer_name or None
        billing = claim.billing_provider
        self.billing_npi = self.billing_npi or (billing.npi if billing else None) or None
        self.claim_charge = self.claim_charge or claim.charge or None
        if self.service_date is None:
            self.service_date = claim.service_date or min(
                filter(None, map(claim.line_date, drug_lines)), default="") or None
        if self.hcpcs is None and self.line_number is None and drug_lines:
            self.hcpcs = drug_lines[0].procedure or None
        self.policy = self.policy or policy_name

    def as_dict(self) -> dict:
        """The finding for machine-readable reports, EDI text as the characters meant."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": display(self.message),
            "claim_id": _text(self.claim_id),
            "line_number": self.line_number,
            "hcpcs": _text(self.hcpcs),
            "segment": self.segment,
            "segment_index": self.segment_index,
            "loop": self.loop,
            "value": _text(self.value),
            "interchange_control_number": _text(self.interchange),
            "group_control_number": _text(self.group),
            "transaction_control_number": _text(self.transaction),
            "payer_id": _text(self.payer_id),
            "payer_name": _text(self.payer_name),
            "date_of_service": iso_date(self.service_date),
            "charge": _text(self.charge),
            "claim_charge": _text(self.claim_charge),
            "billing_npi": _text(self.billing_npi),
            "payment_limit": self.payment_limit,
            "policy": self.policy,
            "fix": self.fix.as_dict() if self.fix else None,
        }


def _text(value: str | None) -> str | None:
    return None if value is None else display(value)


def iso_date(value: str | None) -> str | None:
    """CCYYMMDD as 2026-01-15; anything else as written (None stays None)."""
    if value and len(value) == 8 and value.isascii() and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return _text(value) or None
