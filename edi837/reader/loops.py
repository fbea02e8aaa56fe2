"""The 837 loops segment by segment: what the claim reader takes from each.

`edi837.reader.claims.ClaimReader` walks the segments and keeps the loop state;
the functions here turn one segment's elements into the parts of a Claim.
`Hierarchy` keeps the HL order of a transaction set: one HL at a time for the
reader, or a run of HLs at once for the fast path (`edi837.reader.fast`), by the
same rules.
"""
from __future__ import annotations

import re
from itertools import repeat

from ..model import (
    INSTITUTIONAL,
    PROFESSIONAL,
    Claim,
    Diagnosis,
    Envelope,
    Provider,
    ServiceLine,
    is_x12_number,
    parse_date,
)
from .loop_table import (  # noqa: F401  (the loop states, imported from here by the reader)
    BILLING,
    CLAIM,
    DRUG,
    HEADER,
    LINE,
    LINE_OTHER,
    LINE_PROVIDER,
    OTHER_PAYER,
    PATIENT,
    SUBSCRIBER,
    providers,
)

# ST03/GS08 -> (kind, the guide it is read as).  Variants are read as the
# nearest 5010 guide with an EDI005 warning (pyx12 has maps only for these two).
GUIDES = {
    "005010X222A1": PROFESSIONAL,
    "005010X223A2": INSTITUTIONAL,
}
VARIANTS = {
    "005010X222": ("005010X222A1", PROFESSIONAL),
    "005010X222A2": ("005010X222A1", PROFESSIONAL),
    "005010X223": ("005010X223A2", INSTITUTIONAL),
    "005010X223A1": ("005010X223A2", INSTITUTIONAL),
    "005010X223A3": ("005010X223A2", INSTITUTIONAL),
}

# HI qualifiers that carry diagnoses (ICD-10-CM, then ICD-9-CM).  Others
# (BBR/BBQ procedures, BH/BE/BG occurrence, value and condition codes, BP/BO
# anesthesia) are not diagnoses and SV107 never points at them.
DIAGNOSIS_QUALIFIERS = frozenset(
    ["ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN"])

# NM101 entity code -> (loop, Claim/ServiceLine attribute), per guide (loop_table.LOOPS).
CLAIM_PROVIDERS = {kind: providers(kind, CLAIM) for kind in (PROFESSIONAL, INSTITUTIONAL)}
LINE_PROVIDERS = {kind: providers(kind, LINE_PROVIDER) for kind in (PROFESSIONAL, INSTITUTIONAL)}

LEVELS = ("20", "22", "23")  # billing provider, subscriber, patient
LEVEL_STATE = {"20": BILLING, "22": SUBSCRIBER, "23": PATIENT}
# The level an HL's parent must have (none for a billing provider).
# (objects, not strings: no HL03 in a file can equal them)
_NO_PARENT, _NOT_A_LEVEL = object(), object()
_PARENT_LEVEL = {"20": _NO_PARENT, "22": "20", "23": "22"}
_NUMBERS = tuple(map(str, range(10_001)))  # HL01s of sets of up to 10,000 HLs, made once


# Segment codes for the reader's dispatch: loop segments first, then (from
# ENVELOPE on) the envelope segments.  Segments not listed are counted and
# passed over without being split into elements.
NM1, DTP, LX, SERVICE, CLM, LIN, CTP, REF, HI, HL, SBR, LINE_END, DMG, BHT, ENVELOPE, ISA, GS, \
    ST, SE, GE, IEA = range(21)
_THREE = {"NM1": NM1, "DTP": DTP, "SV1": SERVICE, "SV2": SERVICE, "CLM": CLM, "LIN": LIN,
          "CTP": CTP, "REF": REF, "SBR": SBR, "SVD": LINE_END, "DMG": DMG, "BHT": BHT,
          "ISA": ISA, "IEA": IEA}
# Segments that may stand between an ISA and its first GS.
INTERCHANGE_LEVEL = ("TA1",)
_TWO = {"LX": LX, "HI": HI, "HL": HL, "LQ": LINE_END, "GS": GS, "ST": ST, "SE": SE, "GE": GE}


PADDING = ("",) * 10  # NM1 and SBR are read up to element 9
ISA_FIELDS = 17  # ISA01-ISA16 and the id: a short ISA inside a file is padded to this


X12_ID = "[A-Z][A-Z0-9]{1,2}"  # a segment id: a capital letter, one or two capitals or digits
BAD_IDS_REPORTED = 10  # per transaction set


class SegmentIds:
    """Which segments start with an X12 segment id followed by the element separator
    (or nothing); the first four characters of good ones are kept, so most segments
    cost a set lookup.  Counts the bad ones of the open transaction set."""

    __slots__ = ("plain", "bad", "_element", "_match")

    def __init__(self, element: str) -> None:
        self.plain: set[str] = set()
        self.bad = 0  # in the open set (new_set: 0)
        self._element = element
        self._match = re.compile(f"{X12_ID}(?:{re.escape(element)}|\\Z)").match

    def problem(self, text: str) -> str | None:
        """The message for a segment whose id is not an X12 id (the first
        BAD_IDS_REPORTED of a set), or None."""
        if self._match(text):
            if len(self.plain) < 4096:
                self.plain.add(text[:4])
            return None
        if self.bad >= BAD_IDS_REPORTED:
            return None
        self.bad += 1
        shown = segment_id_shown(text, self._element)
        more = " (the tenth in this transaction set: any further ones are not reported)" \
            if self.bad == BAD_IDS_REPORTED else ""
        return (f"{shown!r} {NOT_AN_ID} (a capital letter, then one or two "
                "capitals or digits, then the element separator): nothing is read from it, so "
                f"a claim, line or loop it should start or hold is missing from the reports{more}")


# what EDI007 says of a structure the reader could not follow, which a 999 rejects the
# transaction set for (edi837.history.broken keeps such a set's claims out of the history)
NOT_AN_ID, OUTSIDE_ANY_CLAIM, HL_OUT_OF_ORDER = (
    "is not an X12 segment id", "outside any claim", "HL out of order")
ORPHAN_LINE = ("{tag} " + OUTSIDE_ANY_CLAIM + " (no CLM before it in its HL loop: lost, or glued "
               "to the segment before it?): its lines are not read as a claim's")
SERVICE_LATE = ("{tag} after its line's LIN/CTP (2410) or 2420 loops, where the guide does "
                "not read it: read as the line's; move it right after the LX")
SERVICE_WITHOUT_LX = ("{tag} with no LX before it (a 2400 loop starts with LX): read as a line "
                      "of the claim; add the LX")


# Elements + 1 (the id) a segment of each code may have in the 5010 837 guides (pyx12's
# maps: DTP03, LX01, NM112, SV121 / SV210, CLM20, HI12, LIN31, CTP11, REF04, SBR09,
# DMG11, SVD06, LQ02, BHT06); more, not all empty, means the next segment is glued on.
# An HL is not counted (it closes the claim before it: the fast path may have passed
# over that claim; HL order finds a lost HL), nor are envelope segments.
MAX_FIELDS = (13, 4, 2, 22, 21, 32, 12, 5, 13, 1 << 30, 10, 7, 12, 7) + (1 << 30,) * 7


def glued_message(fields: list[str], code: int, element: str) -> str | None:
    """For a segment with more elements than the guide allows, not all empty (the
    next segment glued on?): the message; else None."""
    limit = MAX_FIELDS[code]
    if not any(fields[limit:]):
        return None
    # the glued segment's ids, each at the end of an element ("20260115CLM*C2*...")
    extra = fields[limit - 1:]
    ids = [(n, tag) for n, f in enumerate(extra) for tag in (f[-3:], f[-2:])
           if tag in SEGMENT_CODES or tag in PERSONAL]
    if ids and not any(tag in PERSONAL for _, tag in ids):
        # a claim's own segment glued on (CLM, SV1, DTP ...): quoted, from its id
        n, tag = ids[0]
        glued = element.join([tag, *extra[n + 1:]])
        return (f"{fields[0]} has {len(fields) - 1} elements, more than the {limit - 1} the "
                f"guide allows, from {glued[:40]!r}: if that is the next segment glued on "
                "(its terminator lost), what it holds is read as part of this one")
    # else not quoted: it may be a patient's name, address, member id or birth date
    named = f" (among them {', '.join(dict.fromkeys(t for _, t in ids))})" if ids else ""
    return (f"{fields[0]} has {len(fields) - 1} elements, more than the {limit - 1} the guide "
            f"allows, after element {limit - 1}{named}: if that is the next segment glued "
            "on (its terminator lost), what it holds is read as part of this one")


# segments whose values may be a person's (name, address, member id, birth date): a
# finding names them, never quotes them
PERSONAL = frozenset({"NM1", "N2", "N3", "N4", "DMG", "REF", "PER", "PAT", "SBR"})


def segment_id_shown(text: str, element: str) -> str:
    """What a finding may show of a segment whose id is not an X12 id: that id when it
    is short as an id is (``N#1``), else only its length; never the segment's values
    (``N#1*IL*1*KETTERING`` is a patient's name)."""
    tag = text.split(element, 1)[0]
    return tag if len(tag) <= 3 else f"({len(tag)} characters)"


# Segment code by segment id (the first element of a split segment).
SEGMENT_CODES = {**_TWO, **_THREE}


def hl_problem(hl_id: str, parent: str, level: str, levels: dict[str, str],
               expected: int) -> str | None:
    """What is wrong with an HL's place, given the levels of the HLs before it and
    the HL01 expected, or None."""
    if hl_id != str(expected):
        return f"HL01 is {hl_id or '(empty)'}, expected {expected}"
    if level == "20" and parent:
        return "billing provider HL (20) must not have a parent"
    if level == "22" and levels.get(parent) != "20":
        return f"subscriber HL {hl_id} has parent {parent or '(none)'}, not a billing " \
               "provider HL"
    if level == "23" and levels.get(parent) != "22":
        return f"patient HL {hl_id} has parent {parent or '(none)'}, not a subscriber HL"
    if level not in LEVELS:
        return f"HL03 level code {level or '(empty)'} is not 20, 22 or 23"
    return None


class Hierarchy:
    """The HL order of one transaction set: HL01 counts 1, 2, 3 ...; a billing
    provider (20) has no parent, a subscriber (22) a billing provider's, a
    patient (23) a subscriber's, always an HL that came before."""

    __slots__ = ("levels", "expected", "unsaid")

    def __init__(self) -> None:
        self.levels: dict[str, str] = {}  # HL01 -> HL03 of the HLs so far
        self.expected = 1  # the next HL01
        # the reader's findings on HL levels said with their first drug claim (EDI007
        # on a coded value as written: the fast path reads a level only for a drug claim)
        self.unsaid: list = []

    def check(self, hl_id: str, parent: str, level: str) -> str | None:
        """Record one HL; what is wrong with its place, or None."""
        levels, expected = self.levels, self.expected
        # the usual HL, written out (hl_problem finds nothing in it): the next number, and
        # a parent of the level above (none for 20)
        if (levels.get(parent) if parent else _NO_PARENT) == \
                _PARENT_LEVEL.get(level, _NOT_A_LEVEL) and \
                hl_id == (_NUMBERS[expected] if expected < len(_NUMBERS) else str(expected)):
            problem = None
        else:
            problem = hl_problem(hl_id, parent, level, levels, expected)
        levels[hl_id] = level
        self.expected = expected + 1
        return problem

    def take(self, hls: list[tuple[str, str, str]]) -> bool:
        """Record the next HLs of the set, (HL01, HL02, HL03) each, if ``check``
        would find nothing wrong with any of them; else change nothing and
        return False (the caller then checks them one by one).

        The same rules as ``check``, for a chunk's HLs at once: HL01 must be
        the next numbers in turn, each level 20, 22 or 23, and each parent an
        earlier HL of the level above (or none for 20).  Parents are looked up
        in C (map over dicts), not in a Python loop.
        """
        if not hls:
            return True
        ids, parents, levels = zip(*hls, strict=False)
        start, count = self.expected, len(ids)
        stop = start + count
        numbers = _NUMBERS[start:stop] if stop <= len(_NUMBERS) \
            else tuple(map(str, range(start, stop)))
        if ids != numbers:
            return False
        known = self.levels
        if not known.keys().isdisjoint(ids):
            return False  # an HL01 seen before (only after an earlier problem): one by one
        # each parent among these HLs must come before its child ...
        position = dict(zip(ids, range(count), strict=False))
        if not all(map(int.__lt__, map(position.get, parents, repeat(-1)), range(count))):
            return False
        # ... and have the level above (none for 20): among these HLs, else among the
        # earlier ones; a level other than 20, 22 or 23 matches nothing
        new = dict(zip(ids, levels, strict=False))
        new[""] = _NO_PARENT
        found = tuple(map(new.get, parents, map(known.get, parents)))
        if found != tuple(map(_PARENT_LEVEL.get, levels, repeat(_NOT_A_LEVEL))):
            return False
        del new[""]
        known.update(new)
        self.expected = stop
        return True


def provider(fields: list[str], index: int, loop: str) -> Provider:
    # positional, in Provider's field order (loop, entity, npi, name, segment_index,
    # entity_type, first_name): this runs for every provider NM1
    return Provider(loop, fields[1], fields[9] if fields[8] == "XX" else "", fields[3], index,
                    fields[2], fields[4])


def new_claim(fields: list[str], index: int, component: str, envelope: Envelope) -> Claim:
    facility = fields[5].split(component)
    facility += [""] * (3 - len(facility))
    # positional, in Claim's field order (envelope, claim_id, clm_index, charge,
    # facility_code, facility_qualifier, frequency, then the defaults up to first_index:
    # a keyword costs more than all of them): this runs for every claim
    return Claim(envelope, fields[1], index, fields[2], facility[0], facility[1], facility[2],
                 None, "", True, "", "", "", [], {}, None, None, None, None, [], "", "", None,
                 None, "", (), None, [], index)


def claim_problem(claim: Claim, no_subscriber: bool, glued: str | bool | None
                  ) -> tuple[str, str] | None:
    """What makes a claim unreadable for the rules and the totals (EDI007), with the
    value judged (the first problem's element: CLM02, or CLM05-1 '131'), or None."""
    problems = [glued] if isinstance(glued, str) and glued else []
    if no_subscriber:
        problems.append("CLM with no subscriber HL (2000B) above it: the claim has no "
                        "subscriber or payer")
    if claim.charge and not is_x12_number(claim.charge):
        problems.append(f"CLM02 charge {claim.charge[:30]!r} is not an X12 number (left out "
                        "of the charges held)")
    value = claim.charge
    if len(claim.facility_code) > 2 and claim.kind == INSTITUTIONAL:  # "131": UB-04 style
        from ..bill_types import bill_type_problem

        value = claim.facility_code if not problems else value
        problems.append(bill_type_problem(claim.facility_code) or "")
    message = "; ".join(problems)
    return (message, value) if message else None


def add_diagnoses(fields: list[str], index: int, claim: Claim, component: str) -> None:
    if claim.hi_index is None:
        claim.hi_index = index
    diagnoses = claim.diagnoses
    # HI01-HI12, but empty elements and the padding past the last
    for composite in filter(None, fields[1:13]):
        qualifier, _, rest = composite.partition(component)
        code = rest.split(component, 1)[0]
        if qualifier in DIAGNOSIS_QUALIFIERS:
            diagnoses.append(Diagnosis(len(diagnoses) + 1, qualifier, code, index))
        else:
            claim.hi_unread.append((qualifier, code))


def read_service(fields: list[str], index: int, line: ServiceLine, component: str) -> str:
    """Fill the line from its SV1 (837P) or SV2 (837I); return the composite,
    as the procedure code is taken from its second component."""
    tag = fields[0]
    line.segment_id = tag
    line.segment_index = index
    if tag == "SV1":
        composite = fields[1]
        line.charge = fields[2]
        line.unit_basis = fields[3]
        line.units = fields[4]
        line.place_of_service = fields[5]
        pointers = fields[7]
        if pointers:
            line.pointer_slots = slots = tuple(pointers.split(component))
            line.pointers = slots if "" not in slots else tuple(filter(None, slots))
    else:
        line.revenue_code = fields[1]
        composite = fields[2]
        line.charge = fields[3]
        line.unit_basis = fields[4]
        line.units = fields[5]
    parts = composite.split(component)
    line.qualifier = parts[0]
    line.procedure = parts[1] if len(parts) > 1 else ""
    if len(parts) > 2:
        line.modifier_slots = slots = tuple(parts[2:6])
        line.modifiers = slots if "" not in slots else tuple(filter(None, slots))
    return composite


def service_problems(line: ServiceLine) -> list[str]:
    """What makes the line unreadable for the rules (EDI007): nothing, usually.
    Only what the guide requires counts (pyx12's 5010 maps): SV101 and, once the
    composite is there, its code; SV202 is situational (a revenue-code-only line of
    an 837I: room and board, pharmacy, supplies), so its absence is no problem."""
    charge, units = line.charge, line.units
    problems = []
    if not line.procedure and (line.segment_id == "SV1" or line.qualifier):
        problems.append("no procedure code composite")
    if charge and not is_x12_number(charge):
        problems.append(f"charge {charge!r} is not a number")
    if units and not is_x12_number(units):
        problems.append(f"units {units!r} are not a number")
    return problems


def line_date(fields: list[str], index: int, line: ServiceLine) -> None:
    value = fields[3]
    if fields[2] == "RD8" and "-" in value:
        start, _, end = value.partition("-")
        line.service_date, line.service_date_end = start, end
    else:
        line.service_date = value
    line.date_index = index


def date_range_problem(line: ServiceLine) -> str | None:
    """What is wrong with a line's RD8 date range (CCYYMMDD-CCYYMMDD), or None: an end
    that is no date, or one before the start (a start that is no date is DOS001's)."""
    end_text = line.service_date_end
    if not end_text:
        return None
    start, end = parse_date(line.service_date), parse_date(end_text)
    span = f"{line.service_date}-{end_text}"
    if end is None:
        return f"the date range {span} ends on {end_text!r}, not a CCYYMMDD date"
    if start is not None and end < start:
        return (f"the date range {span} ends before it starts ({end.isoformat()} before "
                f"{start.isoformat()})")
    return None
