"""What `check`'s claim reader says of a file `validate` reads.

pyx12 knows segments, not claims: ``prepare`` records each claim's span, so an
IG finding names its claim, but what the reports count a held claim by - its
CLM02 charge, its payer (2010BB), its billing provider and date - is in the
claim model, as it is for `check`'s findings.  And a file `check` cannot read
whole must be unreadable for `validate` too (exit status 2): besides the
segment reader's errors (``prepare`` sees those), `check` calls a file
unreadable when its claim reader finds an envelope left open or segments
outside any transaction set (EDI002 errors: a truncated file).  One pass of
that reader gives both; it reads about a hundred times faster than pyx12
validates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

from ..findings import ERROR, Finding
from ..model import Claim
from ..reader.claims import ClaimReader

# The claim reader's errors after which `check` calls a file unreadable and
# `validate` must too (EDI005, a set that is not an 837, is pyx12's to judge).
UNREADABLE_RULES = frozenset({"EDI001", "EDI002", "EDI008"})


@dataclass(slots=True, frozen=True)
class ClaimFacts:
    """What a claim-level finding of `check` carries about its claim."""
    payer_id: str | None
    payer_name: str | None
    charge: str | None  # CLM02
    billing_npi: str | None
    service_date: str | None  # the claim's, else its earliest line's

    @classmethod
    def of(cls, claim: Claim) -> "ClaimFacts":
        billing = claim.billing_provider
        date = claim.service_date or min(filter(None, map(claim.line_date, claim.lines)),
                                         default="")
        return cls(claim.payer_id or None, claim.payer_name or None, claim.charge or None,
                   (billing.npi or None) if billing is not None else None, date or None)

    def fill(self, finding: Finding) -> None:
        finding.payer_id, finding.payer_name = self.payer_id, self.payer_name
        finding.claim_charge, finding.billing_npi = self.charge, self.billing_npi
        finding.service_date = self.service_date


def read_claims(path: str, wanted: Collection[int]) -> tuple[list[Finding], dict[int, ClaimFacts]]:
    """Read ``path`` with `check`'s claim reader: its errors that make the file
    unreadable (EDI001/EDI002/EDI008), and the facts of each claim whose CLM
    segment index is in ``wanted``.  Never raises."""
    reader = ClaimReader(path)
    facts: dict[int, ClaimFacts] = {}
    claim = None
    try:
        for claim in reader.claims():
            if claim.clm_index in wanted:
                facts[claim.clm_index] = ClaimFacts.of(claim)
    except Exception as exc:  # as `check` says of a reader bug (engine.py)
        where = f" after claim {claim.claim_id}" if claim is not None else ""
        reader.findings.append(Finding(
            "EDI008", ERROR, f"edi837 failed while reading this file{where}: "
            f"{type(exc).__name__}: {exc} (a bug in edi837: please report it)", path,
            segment_index=claim.last_index if claim is not None else None))
    errors = [f for f in reader.findings
              if f.rule in UNREADABLE_RULES and f.severity == ERROR]
    return errors, facts
