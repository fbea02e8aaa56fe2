"""The fast path's searches over a block's text (edi837.reader.fast): the segments that
may make a drug claim and the envelopes (the events), HL fields, and what the block
walk is told to list (`edi837.x12.blocks.EventWalks`)."""
from __future__ import annotations

import re
from typing import Collection

from ..drug_codes import drug_code_patterns
from ..x12.reader import Delimiters


def _drug_service(delimiters: Delimiters, drug_codes: Collection[str]) -> str:
    """After "SV1"/"SV2": a segment whose first or second element has a second
    component starting with a drug-line pattern's prefix (J, C9399, Q5[1-9]..) or a
    drug table code.

    (possessive, with the two places of the composite as two branches: a pattern that
    may backtrack costs microseconds on every SV1) (either case, spaces before it: the
    reader reads "j2350" and " J2350" as J2350, and reports them)"""
    e, t, c = (re.escape(x) for x in (delimiters.element, delimiters.segment,
                                      delimiters.component))
    codes = "|".join(drug_code_patterns().prefixes(f"{e}{c}{t}")
                     + sorted(re.escape(code) for code in drug_codes if code))
    if any(not code for code in drug_codes):
        codes += "|"  # an empty code in the table: every line is a drug line
    procedure = f"[^{e}{c}{t}]*+{c}[ \\t]*(?i:{codes})"
    return f"[^{e}{t}]*+{e}(?:{procedure}|[^{e}{t}]*+{e}{procedure})"


def _event_stops(delimiters: Delimiters, drug_codes: Collection[str]) -> dict[str, str]:
    """The events of `_Patterns.events` for a block's walk (`EventWalks`): by first
    letter, what follows it."""
    e = re.escape(delimiters.element)
    return {"G": f"S{e}|E{e}", "I": "SA|EA", "L": "IN",
            "S": f"T{e}|E{e}|V[12]{_drug_service(delimiters, drug_codes)}"}


class _Patterns:
    """Searches over a block's text, where every segment follows a separator."""

    def __init__(self, delimiters: Delimiters, separator: str, drug_codes: Collection[str]):
        s, e, t = (re.escape(x) for x in (separator, delimiters.element, delimiters.segment))
        element = delimiters.element
        self.terminator = delimiters.segment
        self.st = separator + "ST" + element
        self.se = "SE" + element
        self.hl = separator + "HL" + element
        self.clm = separator + "CLM"
        # every HL segment, with HL01-HL03 as the reader splits them ("" when absent)
        self.hl_fields = re.compile(
            f"{s}HL{e}([^{e}{t}]*)(?:{e}([^{e}{t}]*)(?:{e}([^{e}{t}]*))?)?")
        # the next envelope segment (group 1; the reader's dispatch: ISA and IEA by
        # three characters, the others by two and the element separator), or a segment
        # that may make its claim a drug claim: any LIN, and any SV1/SV2 with a drug
        # procedure (`_drug_service`); whatever the loop state.  What a block's walk
        # lists (`_event_stops`), searched when it lists nothing.
        self.events = re.compile(
            f"{s}(?=[GILS])(?:(ISA|IEA|GS{e}|GE{e}|ST{e}|SE{e})|LIN"
            f"|SV[12]{_drug_service(delimiters, drug_codes)})")
        # an envelope segment's start (group 1 of ``events``)
        self.envelopes = ("ISA", "IEA") + tuple(tag + element for tag in
                                                ("GS", "GE", "ST", "SE"))
