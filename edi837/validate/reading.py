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
# `validate` must too; and EDI005, a transaction set the reader skips (not an 837,
# or an 837 of another version: pyx12 would validate an 835 or a 4010 set against
# its own map and accept it), an error of `check`'s that `validate` reports alike.
UNREADABLE_RULES = frozenset({"EDI001", "EDI002", "EDI008"})
SKIPPED_SET = "EDI005"


@dataclass(slots=True)
class ReaderVerdict:
    """What `check`'s claim reader says of a file: its errors (those that make it
    unreadable, and the sets it skips), whether `check` calls it unreadable, the ST
    segment indices of the sets it skips, and the facts of the claims asked for."""
    errors: list[Finding]
    unreadable: bool
    skipped_sets: frozenset[int]
    facts: dict[int, "ClaimFacts"]


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


def read_claims(path: str, wanted: Collection[int]) -> ReaderVerdict:
    """Read ``path`` with `check`'s claim reader: its errors that make the file
    unreadable (EDI001/EDI002/EDI008) or skip a transaction set (EDI005), and the
    facts of each claim whose CLM segment index is in ``wanted``.  Never raises."""
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
    errors = [f for f in reader.findings if f.severity == ERROR
              and (f.rule in UNREADABLE_RULES or f.rule == SKIPPED_SET)]
    skipped = frozenset(f.segment_index for f in errors if f.rule == SKIPPED_SET
                        and f.segment == "ST" and f.segment_index is not None)
    unreadable = reader.unreadable or any(f.rule in UNREADABLE_RULES for f in errors)
    return ReaderVerdict(errors, unreadable, skipped, facts)
