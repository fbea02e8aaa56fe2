"""Values a 999 copies from the 837, made valid for the 999's own elements.

pyx12's 999 writer copies what it read into IK301 (the segment id), IK303 (the
loop id), IK404 (the bad value), AK202 (ST02) and AK203 (ST03) as they were:
a hostile 837 gave 999s pyx12 itself rejects (IK303 "2010BA" in a 4-character
element, raw non-ASCII and control characters in IK404, a CR inside a segment
id cutting an IK3 in two, lengths past the element's).  Each value goes
through :func:`ack_value` first: the characters of the X12 5010 extended set
(pyx12's own test, less the 999's delimiters ``* : ~ ^``) are kept, others
written as ``?`` (a segment id keeps letters and digits only).  A value too
long is cut to the element's maximum when it is a copy (IK404, IK301, AK202, AK103),
else omitted (IK303 "2010BA": the loop id only if it fits); a value that
cannot reach the minimum is omitted where the 999 guide lets it be (the
element's usage), else padded (AK202 with leading zeros, as ST02 counts) or,
for IK301, its IK3 loop left out (the IK5 still rejects the set).

The lengths and types are read from pyx12's own map of the 999
(``999.5010.xml`` and ``dataele.xml``), the validator every 999 is held to.
"""
from __future__ import annotations

import os
import string
import xml.etree.ElementTree as ET
from functools import cache

DELIMITERS = "*:~^"  # the element, component, terminator and repetition of pyx12's 999s
# The X12 5010 extended character set as pyx12 checks it (validation.rec_ID_E5), less
# the delimiters.
_EXTENDED = frozenset(string.ascii_letters + string.digits + "!\"&'()+,-./;?= %@[]_{}\\|<>`#$")
_SEGMENT_ID = frozenset(string.ascii_uppercase + string.digits)
# Values cut to their element's length (a copy of bad data, a segment id, ST02); any
# other value too long is omitted (IK303: "2010BA" is no 4-character loop id).
_CUT = ("IK301", "IK404", "AK202", "AK103")
# (type, min, max, usage) of the elements edi837 cleans, should pyx12's map not say.
_FALLBACK = {"AK102": ("N0", 1, 9, "R"), "IK301": ("ID", 2, 3, "R"), "IK303": ("AN", 1, 4, "S"),
             "IK404": ("AN", 1, 99, "S"), "AK202": ("AN", 4, 9, "R"),
             "AK203": ("AN", 1, 35, "S")}


@cache
def element_spec(xid: str) -> tuple[str, int, int, str]:
    """(data type, minimum and maximum length, usage R/S/N) of a 999 element."""
    return _map_specs().get(xid) or _FALLBACK[xid]


@cache
def _map_specs() -> dict[str, tuple[str, int, int, str]]:
    try:
        import pyx12
        folder = os.path.join(os.path.dirname(pyx12.__file__), "map")
        types = {node.get("ele_num"): node for node in
                 ET.parse(os.path.join(folder, "dataele.xml")).getroot().iter("data_ele")}
        specs = {}
        for node in ET.parse(os.path.join(folder, "999.5010.xml")).getroot().iter("element"):
            kind = types.get(node.findtext("data_ele") or "")
            if node.get("xid") and kind is not None:
                specs[node.get("xid")] = (kind.get("data_type"), int(kind.get("min_len")),
                                          int(kind.get("max_len")), node.findtext("usage"))
        return specs
    except (ImportError, OSError, ET.ParseError, TypeError, ValueError):
        return {}


def text(raw: object) -> str:
    """``raw`` in the 999's character set: other characters written as ``?``."""
    return "".join(c if c in _EXTENDED else "?" for c in str(raw or ""))


def ack_value(xid: str, raw: object) -> str | None:
    """``raw`` as element ``xid`` of a 999 may hold it, or None when it cannot (omit it:
    only for elements the guide lets be omitted; required ones are padded)."""
    _, shortest, longest, usage = element_spec(xid)
    text = str(raw or "")
    kind = element_spec(xid)[0]
    if xid == "IK301":
        text = "".join(c for c in text if c in _SEGMENT_ID)
    elif kind.startswith("N"):
        text = "".join(c for c in text if c in string.digits).lstrip("0") or \
            ("0" if text else "")
    else:
        text = "".join(c if c in _EXTENDED else "?" for c in text)
    text = text.strip()
    if len(text) > longest:
        if xid not in _CUT:
            return None  # a loop id or convention cut short would name another one
        text = text[:longest].strip()
    if len(text) >= shortest:
        return text
    if usage == "R":
        return text.rjust(shortest, "0") if xid in ("AK102", "AK202") else None
    return None
