"""Faults of an interchange itself, and the TA1 that answers them in the file's 999.

X12 answers an interchange with a TA1 (TA104: A accepted, R rejected; TA105 the note
code, data element I18, whose codes pyx12's x12.control.00501.xml lists) and a
functional group's transaction sets with a 999.  A fault of the interchange is the
TA1's to say, and a rejected interchange's groups are not processed, so the 999
says nothing of their sets:

* ISA/IEA errors pyx12 reports with an I18 code (``IGH001``: IEA02 is not the ISA13;
  ``IGH021``: IEA01 miscounts the groups; ...), and errors in ISA/IEA elements
  (``IGE`` on ISA06, say), coded as pyx12's own 999 writer codes them; but not the
  faults the 999 answers already, for the groups concerned: a file cut short (023)
  or a group left open (pyx12's 024 on the IEA): AK905 3, the group rejected; an
  ISA13 repeated (025): the repeat's sets rejected (EDI003), where a TA1 naming the
  repeated number could not tell the two interchanges apart;
* a segment other than a TA1 between the ISA and the groups, or after the last GE
  (a stray ``REF*XX*1~``): an interchange holds functional groups and TA1s only, so
  its content is invalid, I18 ``024`` (invalid interchange content; pyx12 itself
  uses 024 for a group left open inside the interchange).  pyx12 reports such a
  segment as a segment error (``Segment REF*XX not found``, IK3 code 1), which no
  999 can carry: it becomes ``IGH024`` here.

pyx12 writes a TA1 only when ISA14 asks for one, after the GE (X12 puts TA1s before
the first GS), and for a stray segment none: its 999 accepted the sets `validate`
called invalid.  :func:`with_ta1s` puts each interchange's TA1 after the 999's ISA:
TA104 R with the first fault's code, or, when ISA14 = 1 and nothing is wrong, TA104
A with 000.  An interchange whose ISA13, ISA09 or ISA10 cannot be copied into a TA1
(not 9, 6 and 4 digits: pyx12 reports that already) gets none, and its sets stay
in the 999 as pyx12 judged them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from ..findings import Finding
from .units import _ENVELOPE, _Error

if TYPE_CHECKING:
    from .prepare import _Prepared

INVALID_CONTENT = "024"  # I18: invalid interchange content
NO_ERROR = "000"
# pyx12's 999 writer (error_999.py, __get_isa_errors): the I18 code of an error in an
# ISA or IEA element, by its position
_ISA_ELEMENT = {1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007",
                8: "008", 9: "014", 10: "015", 11: "016", 12: "017", 13: "018", 14: "019",
                15: "020", 16: "027"}
_IEA_ELEMENT = {1: "021", 2: "018"}
_I18 = re.compile(r"^IGH(\d{3})$")
# I18 codes of pyx12's ISA/IEA errors whose groups the 999 answers (see above)
_ANSWERED_BY_999 = frozenset({"023", "024", "025"})
_ELEMENT = re.compile(r"^(ISA|IEA)(\d\d)")
_NOT_STRAY = _ENVELOPE | {"ST", "SE", "TA1"}


@dataclass
class Interchange:
    """An interchange of the input, as its TA1 names it (TA101-TA103)."""

    control: str  # ISA13
    date: str  # ISA09
    time: str  # ISA10
    requested: bool  # ISA14 = 1: a TA1 is asked for
    groups: list[str] = field(default_factory=list)  # GS06 of each group, in order

    @classmethod
    def of(cls, fields: list[str]) -> Interchange:
        def value(n: int) -> str:
            return fields[n].strip() if len(fields) > n else ""

        return cls(value(13), value(9), value(10), value(14) == "1")

    def fits(self) -> bool:
        """Whether TA101-TA103 can be copied from it (digits of their lengths)."""
        return all(len(v) == n and v.isdigit() for v, n in
                   ((self.control, 9), (self.date, 6), (self.time, 4)))

    def ta1(self, code: str) -> str:
        verdict = "A" if code == NO_ERROR else "R"
        return f"TA1*{self.control}*{self.date}*{self.time}*{verdict}*{code}~"


def interchange_fault(prep: _Prepared, error: _Error) -> _Error:
    """``error``, or the interchange's fault it is: a segment pyx12 found outside
    every functional group of an interchange (IGH024)."""
    if error.level != "S" or error.segment in _NOT_STRAY or error.index is None:
        return error
    isa13, gs06, st02 = prep.context(error.index)
    if isa13 is None or gs06 is not None or st02 is not None:
        return error
    return _Error("H", INVALID_CONTENT,
                  f"{error.segment} outside the functional groups of interchange {isa13}: "
                  "an interchange holds only functional groups and TA1 segments, so the "
                  "interchange is rejected (TA1 R, note code 024: invalid interchange "
                  "content)", error.index, error.segment, None, None, None)


def interchange_codes(findings: Iterable[Finding]) -> dict[str, tuple[str, bool]]:
    """Each faulty interchange's TA105 code, by ISA13, and whether the TA1 rejects it
    whole (its groups unacknowledged) or the 999 answers its groups (023/024/025:
    said in a TA1 only when ISA14 asks for one).  The first fault of the first kind
    found, else the first of the second."""
    codes: dict[str, tuple[str, bool]] = {}
    for finding in findings:
        if finding.interchange is None:
            continue
        found = _I18.match(finding.rule)
        code = None
        if found and finding.segment in ("ISA", "IEA"):  # pyx12's
            code = found.group(1)
        elif found and found.group(1) == INVALID_CONTENT and \
                finding.segment not in _NOT_STRAY:  # a stray (interchange_fault)
            code = INVALID_CONTENT
        elif finding.rule.startswith("IGE") and finding.value:
            element = _ELEMENT.match(finding.value)
            if element:
                table = _ISA_ELEMENT if element.group(1) == "ISA" else _IEA_ELEMENT
                code = table.get(int(element.group(2)))
        if code is None or code == NO_ERROR:
            continue
        whole = not (finding.segment in ("ISA", "IEA") and code in _ANSWERED_BY_999)
        known = codes.get(finding.interchange)
        if known is None or whole and not known[1]:
            codes[finding.interchange] = (code, whole)
    return codes


def with_ta1s(ack: str, interchanges: list[Interchange],
              codes: dict[str, tuple[str, bool]]) -> str:
    """The file's 999 with a TA1, before the group, for each interchange that the TA1
    rejects whole or that asks for one (ISA14 = 1: R with its fault's code, else A
    000); the 999's sets of an interchange rejected whole taken out, and the GS/GE
    with them when no set is left (an interchange of TA1s only)."""
    lines = [line for line in ack.splitlines() if line and not line.startswith("TA1*")]
    ta1s: list[str] = []
    rejected: list[bool] = []  # each input group, in order: its interchange rejected?
    for interchange in interchanges:
        code, whole = codes.get(interchange.control, (NO_ERROR, False))
        fits = interchange.fits()
        if fits and (whole or interchange.requested):
            ta1s.append(interchange.ta1(code))
        rejected += [fits and whole] * len(interchange.groups)
    head, blocks, tail = _parts(lines)
    if head is None:
        return ack  # not the 999 pyx12 writes: left as it is
    if len(blocks) == len(rejected):  # one ST*999 per input group, in order
        blocks = [block for block, out in zip(blocks, rejected, strict=True) if not out]
    out = [head[0], *ta1s]
    if blocks:
        out += head[1:]
        out += [line for block in blocks for line in block]
        out += [_with_count(line, len(blocks)) if line.startswith("GE*") else line
                for line in tail[:-1]]
    out.append(_with_count(tail[-1], 1 if blocks else 0))
    return "\n".join(out) + "\n"


def _parts(lines: list[str]) -> tuple[list[str] | None, list[list[str]], list[str]]:
    """(ISA and GS, each ST..SE, GE and IEA) of pyx12's 999; (None, ...) when it is
    not one interchange of one group."""
    if len(lines) < 3 or not lines[0].startswith("ISA") or not lines[1].startswith("GS*") \
            or not lines[-1].startswith("IEA*") or not lines[-2].startswith("GE*"):
        return None, [], []
    blocks: list[list[str]] = []
    for line in lines[2:-2]:
        if line.startswith("ST*"):
            blocks.append([])
        if not blocks:
            return None, [], []
        blocks[-1].append(line)
    return lines[:2], blocks, lines[-2:]


def _with_count(line: str, count: int) -> str:
    """A GE or IEA with its first element (groups or sets included) set to ``count``."""
    fields = line.rstrip("~").split("*")
    fields[1] = str(count)
    return "*".join(fields) + "~"
