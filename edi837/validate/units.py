"""Work units: slices of a file's transaction sets that pyx12 validates one at a time."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

CRASH_RULE = "IG001"  # pyx12 raised, or could not read the input at all
CHUNK_SEGMENTS = 5_000  # segments of transaction sets per work unit (at least one set)
NOT_A_DRUG_TABLE = "n/a"  # validation uses no drug table

_ENVELOPE = frozenset(["ISA", "GS", "GE", "IEA"])
_LOOP_ID = re.compile(r"^\d{4}[A-Z]{0,2}$")  # 2010AA, 2300; not ST_LOOP, HEADER
# Codes pyx12 reports on the header segment; the others are found at the trailer.
_HEADER_CODES = {"ISA": {"025"}, "GS": {"6"}, "ST": {"1", "6", "7", "23"}}
_TRAILER = {"ISA": "IEA", "GS": "GE", "ST": "SE"}
_ELEMENT_REF = re.compile(r"\((ISA|IEA|GS|GE|ST|SE)\d\d")


# -- work units -----------------------------------------------------------------
class _Text(NamedTuple):
    """A segment given literally; ``index`` None for a synthetic one."""
    text: str
    index: int | None


class _Range(NamedTuple):
    """Consecutive segments of the normalised file (bytes start..end)."""
    start: int
    end: int
    first_index: int
    count: int


@dataclass(frozen=True)
class _Unit:
    """One pyx12 run.  ``skeleton``: keep envelope errors only; otherwise keep
    the errors of the ``sets`` transaction sets it holds."""
    source: str
    parts: tuple
    skeleton: bool
    sets: int = 0


class _Error(NamedTuple):
    level: str  # "H" envelope, "S" segment, "E" element
    code: str
    message: str
    index: int | None  # segment index in the original file
    segment: str | None
    loop: str | None
    element: str | None  # NM103, SV101-2
    bad_value: str | None


@dataclass
class _UnitResult:
    errors: list[_Error]
    ack: list[str]  # skeleton: pyx12's whole 999; else its AK2..IK5 lines
    crash: str | None = None
    crash_index: int | None = None


