"""Coded values written so a payer cannot read them: "mb" or "MB " for SBR09's MB.

An ID element with a code list (SBR01, SBR09, CLM05-2, NM108, REF01, the DTP
qualifiers, ...) holds one of its codes exactly: upper case, no spaces.  A value
that is a code only once upper-cased and stripped is rejected by pyx12 ("is not a
valid code") and by the payer's translator, so the claim reader holds it (EDI007),
judging the claim as the code meant.

The code lists are pyx12's, the validator the project is held to: its maps of the
two 5010 guides (and its codes.xml for lists a map names as external, such as the
place of service codes), written to ``code-lists.json`` beside this module for the
segments the claim reader splits into elements (:data:`SEGMENTS`) by
``python -m edi837.x12.code_lists``.  tests/test_coded_values.py checks that file
equals what the installed pyx12's maps say.  The file is read only when a segment
has a value in lower case or padded: a check of clean files never loads it.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

# The segments the claim reader splits (edi837.reader.loops.SEGMENT_CODES) whose coded
# values are judged here.  Others have checks of their own: SV1/SV2 the reader's
# (_code_as_written), HI the DX rules', LIN02 and CTP05-1 NDC003's and NDC006's (each
# with its safe fix: n4 -> N4, ml -> ML), HL the hierarchy's; envelopes are not claims'.
SEGMENTS = ("NM1", "DTP", "CLM", "REF", "SBR", "DMG", "BHT", "SVD", "LQ")
# the guide whose pyx12 map is read for each kind of claim (edi837.model)
MAPS = {"837P": "005010X222A1", "837I": "005010X223A2"}
DATA_FILE = "code-lists.json"

CodeList = tuple[int, int, str, frozenset]  # (element, component or 0, its name, codes)


@lru_cache(maxsize=1)
def _lists() -> dict[str, dict[str, tuple[CodeList, ...]]]:
    """kind -> segment id -> its coded elements."""
    data = json.loads(Path(__file__).with_name(DATA_FILE).read_text("utf-8"))
    lists: dict[str, dict[str, tuple[CodeList, ...]]] = {}
    for kind, segments in data["lists"].items():
        lists[kind] = {
            tag: tuple((*_position(xid), _name(tag, xid), frozenset(codes))
                       for xid, codes in elements.items())
            for tag, elements in segments.items()}
    return lists


def _position(xid: str) -> tuple[int, int]:
    """"09" -> (9, 0); "05-02" -> (5, 2)."""
    element, _, component = xid.partition("-")
    return int(element), int(component or 0)


def _name(tag: str, xid: str) -> str:
    element, component = _position(xid)
    return f"{tag}{element:02d}" + (f"-{component}" if component else "")


# White space beside a separator (any character not a letter, digit or space) or at the
# end: where a padded value may be.  Asked of a segment with a space in it; a name
# with spaces ("NM1*PR*2*STATE MEDICAID") has none there.  A space or tab followed by
# no letter, digit, space or tab (a separator, or the end), or preceded by a separator:
# every match starts at the white space, so the regex engine tries only the spaces and
# tabs (r"[ \t][^\w \t]|[^\w \t][ \t]|[ \t]$", the same matches, tried every
# character: 4 times slower on a payer's NM1).
padded = re.compile(r"[ \t](?:(?![\w \t])|(?<=[^\w \t].))").search
SPACED_KEPT = 1024  # the verdicts a reader keeps on segments with spaces (suspect)


def suspect(text: str, spaced: dict[str, bool] | None = None) -> bool:
    """Whether a segment may hold a code in lower case or padded: cheap, as most
    segments are capitals and digits with no white space beside a separator.
    ``spaced``: the caller's verdicts on segments with spaces, kept there (up to
    SPACED_KEPT): those are mostly the same few names claim after claim (a payer's, a
    billing provider's NM1).  The reader's, dropped with it: some are patients' names."""
    if text != text.upper() or "\t" in text:
        return True
    if " " not in text:
        return False
    if spaced is None:
        return padded(text) is not None
    verdict = spaced.get(text)
    if verdict is None:
        if len(spaced) >= SPACED_KEPT:
            spaced.clear()
        verdict = spaced[text] = padded(text) is not None
    return verdict


def codes_as_written(kind: str, fields: list[str], component: str) -> list[tuple[str, str, str]]:
    """(element name, value as written, code meant) for each coded value of the
    split segment ``fields`` that is a code of its element's list only once
    upper-cased and stripped; ``fields`` are set to the codes meant."""
    elements = _lists().get(kind, {}).get(fields[0])
    if not elements:
        return []
    found = []
    for position, part, name, codes in elements:
        if position >= len(fields):
            continue
        value = fields[position]
        if part:
            parts = value.split(component)
            if part > len(parts):
                continue
            value = parts[part - 1]
        if not value or (value == value.upper() and value == value.strip()):
            continue  # exactly as written (a code or not: not this module's)
        meant = value.strip().upper()
        if meant not in codes:
            continue
        found.append((name, value, meant))
        if part:
            parts[part - 1] = meant
            fields[position] = component.join(parts)
        else:
            fields[position] = meant
    return found


# -- writing code-lists.json from pyx12's maps (python -m edi837.x12.code_lists) -------------
def from_pyx12() -> dict:
    """The code lists of :data:`SEGMENTS` in the installed pyx12's maps."""
    import xml.etree.ElementTree as ET
    from importlib import resources

    import pyx12

    folder = resources.files("pyx12").joinpath("map")
    maps = {found.get("vriic"): found.text or ""
            for found in ET.parse(str(folder.joinpath("maps.xml"))).iter("map")}
    external = {codeset.findtext("id"): sorted(code.text or "" for code in codeset.iter("code"))
                for codeset in ET.parse(str(folder.joinpath("codes.xml"))).iter("codeset")}
    lists: dict[str, dict[str, dict[str, list[str]]]] = {}
    sources = []
    for kind, guide in MAPS.items():
        name = maps[guide]
        sources.append(f"{name} ({guide})")
        segments: dict[str, dict[str, set[str]]] = {}
        for segment in ET.parse(str(folder.joinpath(name))).iter("segment"):
            tag = segment.get("xid") or ""
            if tag not in SEGMENTS:
                continue
            for element in segment.iter("element"):
                valid = element.find("valid_codes")
                if valid is None:
                    continue
                codes = {code.text or "" for code in valid.iter("code")}
                codes.update(external.get(valid.get("external") or "", ()))
                if codes:  # (an external list pyx12 does not have: nothing to compare)
                    xid = (element.get("xid") or "")[len(tag):]
                    segments.setdefault(tag, {}).setdefault(xid, set()).update(codes)
        lists[kind] = {tag: {xid: sorted(codes) for xid, codes in sorted(elements.items())}
                       for tag, elements in sorted(segments.items())}
    return {"source": f"pyx12 {pyx12.__version__} maps: " + ", ".join(sources) +
            "; lists a map names as external from its codes.xml",
            "written_by": "python -m edi837.x12.code_lists",
            "lists": lists}


if __name__ == "__main__":  # pragma: no cover - writes the data file
    target = Path(__file__).with_name(DATA_FILE)
    target.write_text(json.dumps(from_pyx12(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}")
