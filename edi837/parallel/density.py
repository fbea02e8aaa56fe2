"""Whether a large file is worth cutting into pieces when the fast path reads it.

The fast path (:mod:`edi837.reader.fast`) passes over the claims with no drug line
unread: a nightly mix's file (a few percent drug claims) is checked in about
the time its bytes take to search.  The driver's read that cuts a file
(:mod:`.scan`) splits every segment and follows every HL, and the pieces'
readers read every segment of theirs: for such a file, cutting costs several
times the CPU of checking it whole (s30.edi, 30 MB, 2% drug claims: 0.58 s
CPU for one job, 2.1 s with `--jobs 2`, and more wall time; see
benchmarks/results/sparse.md).  So a file
whose start holds few segments that can make a drug claim is cut at
transaction sets instead (:mod:`.sets`: the driver splits no segment, each
piece is read with the fast path), or checked whole by one worker where it
cannot be; a dense file (drug claims all over, which the fast path reads whole
anyway) is still cut at claims.  The findings are the same either way: this
only chooses who reads what.
"""
from __future__ import annotations

from typing import Collection

from ..x12.reader import Delimiters, X12SyntaxError

SAMPLE = 2 << 20  # bytes from the start of the file that are searched
# at most one segment that may make a drug claim (a LIN, an SV1/SV2 with a drug
# procedure) per this many claims in the sample: the fast path passes over most
SPARSE = 4
MIN_CLAIMS = 100  # fewer claims in the sample tell nothing: the file is cut as before


def mostly_passed_over(path: str, drug_codes: Collection[str]) -> bool:
    """Whether the fast path would pass over most claims of ``path``, judged from its
    first SAMPLE bytes (their delimiters; a file that does not start with an ISA,
    or is not read byte for byte, is cut as before)."""
    from ..reader.fast import _Patterns

    try:
        with open(path, "rb") as handle:
            head = handle.read(SAMPLE)
    except OSError:
        return False
    text = head.decode("latin-1")
    try:
        delimiters = Delimiters.from_isa(text)
    except X12SyntaxError:
        return False
    terminator = delimiters.segment
    end = text.find(terminator, 105)
    if end < 0:
        return False
    separator = delimiters.separator_after(text, end)
    claims = text.count(f"{separator}CLM{delimiters.element}")
    if claims < MIN_CLAIMS:
        return False
    patterns = _Patterns(delimiters, separator, drug_codes)
    evidence = sum(1 for event in patterns.events.finditer(text) if event.group(1) is None)
    return evidence * SPARSE <= claims
