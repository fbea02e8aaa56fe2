"""NDC forms: 11-digit 5-4-2 for claims, and the 10-digit FDA forms it comes from.

HIPAA claims carry the NDC as 11 digits without separators (5-4-2).  The FDA
lists 10-digit codes in three layouts; each converts to 5-4-2 by padding one
segment with a leading zero, which is only unambiguous while the hyphens say
which layout it is:  4-4-2 -> 0XXXX-XXXX-XX, 5-3-2 -> XXXXX-0XXX-XX,
5-4-1 -> XXXXX-XXXX-0X.  A bare 10-digit string cannot be converted safely.
"""
from __future__ import annotations

import re

_HYPHENATED = re.compile(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")
_TARGET = (5, 4, 2)


def is_ndc11(text: str) -> bool:
    return len(text) == 11 and text.isascii() and text.isdigit()


def ndc11_of(text: str) -> str | None:
    """An NDC as billed, as 11 digits: itself when it is already, else converted from an
    unambiguous hyphenated form (:func:`to_ndc11`), else None."""
    text = text.strip()
    return text if is_ndc11(text) else to_ndc11(text)


def to_ndc11(text: str) -> str | None:
    """The 11-digit form of a hyphenated NDC (10 or 11 digits), or None.

    "50242-150-01" -> "50242015001"; "0002-7597-01" -> "00002759701";
    "50242-0150-01" -> "50242015001"; "5024215001" -> None (ambiguous).
    """
    match = _HYPHENATED.match(text.strip())
    if not match:
        return None
    parts = match.groups()
    digits = sum(len(p) for p in parts)
    if digits == 11 and tuple(map(len, parts)) == _TARGET:
        return "".join(parts)
    if digits != 10:
        return None
    return "".join(p.zfill(width) for p, width in zip(parts, _TARGET, strict=True))


def readings(text: str) -> tuple[str, ...]:
    """The three 11-digit readings of a bare 10-digit NDC, one per FDA layout
    (4-4-2, 5-3-2, 5-4-1): "5024215001" -> ("05024215001", "50242015001",
    "50242150001").  Empty for anything else.  Which one is meant needs a
    directory: the hyphens that would say it are gone."""
    text = text.strip()
    if len(text) != 10 or not (text.isascii() and text.isdigit()):
        return ()
    return ("0" + text, text[:5] + "0" + text[5:], text[:9] + "0" + text[9:])
