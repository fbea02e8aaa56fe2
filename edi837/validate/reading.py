"""What `check`'s claim reader says of a file `validate` reads.

A file `check` cannot read whole must be unreadable for `validate` too (exit
status 2): besides the segment reader's errors (``prepare`` sees those),
`check` calls a file unreadable when its claim reader finds an envelope left
open or segments outside any transaction set (EDI002 errors: a truncated
file).  One pass of that reader says so; it reads about a hundred times faster
than pyx12 validates.
"""
from __future__ import annotations

from ..claims import ClaimReader
from ..findings import ERROR, Finding

# The claim reader's errors after which `check` calls a file unreadable and
# `validate` must too (EDI005, a set that is not an 837, is pyx12's to judge).
UNREADABLE_RULES = frozenset({"EDI001", "EDI002", "EDI008"})


def read_claims(path: str) -> list[Finding]:
    """Read ``path`` with `check`'s claim reader: its errors that make the file
    unreadable (EDI001/EDI002/EDI008).  Never raises."""
    reader = ClaimReader(path)
    claim = None
    try:
        for claim in reader.claims():
            pass
    except Exception as exc:  # noqa: BLE001 - as `check` says of a reader bug (engine.py)
        where = f" after claim {claim.claim_id}" if claim is not None else ""
        reader.findings.append(Finding(
            "EDI008", ERROR, f"edi837 failed while reading this file{where}: "
            f"{type(exc).__name__}: {exc} (a bug in edi837: please report it)", path,
            segment_index=claim.last_index if claim is not None else None))
    errors = [f for f in reader.findings
              if f.rule in UNREADABLE_RULES and f.severity == ERROR]
    return errors
