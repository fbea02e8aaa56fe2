"""An 837I type of bill as people write it: "13" as the 5010 CLM05-1 has it (the
2-character facility type code), or UB-04 style "131" / "0131" (a leading zero and
the frequency digit, which goes in CLM05-3).  `check` (the claim's setting,
edi837.policy; EDI007 from the reader) and `edi837 policy --bill-type` read it
alike: "131" is 13x.  Below the reader and the policy, which both use it."""
from __future__ import annotations

import re

# a type of bill as people write it: "13", UB-04 style "131" or "0131" (the leading
# zero and the frequency digit are not part of the 5010 837I CLM05-1)
_BILL_TYPE = re.compile(r"0?([0-9A-Z]{2})([0-9A-Z])?")


def bill_type_facility(code: str) -> str | None:
    """The 2-character facility type code (CLM05-1 of an 837I) of a type of bill written
    "13", "131" or "0131": "13"; None when it is no such code."""
    match = _BILL_TYPE.fullmatch((code or "").strip().upper())
    return match.group(1) if match else None


def bill_type_problem(facility_code: str) -> str | None:
    """What is wrong with an 837I CLM05-1 longer than its 2 characters (EDI007), or None."""
    code = (facility_code or "").strip()
    if len(code) <= 2:
        return None
    match = _BILL_TYPE.fullmatch(code.upper())
    if match is None:
        return (f"CLM05-1 {code[:20]!r} is not a facility type code (2 characters, such "
                "as 13 for hospital outpatient): the setting cannot be read")
    facility, frequency = match.groups()
    also = f" and the frequency {frequency} in CLM05-3" if frequency else ""
    return (f"CLM05-1 {code!r} is a type of bill written UB-04 style; the 5010 837I "
            f"element is the 2-character facility type code: write {facility!r} in "
            f"CLM05-1{also} (read as bill type {facility}x; payers reject the longer "
            "element)")
