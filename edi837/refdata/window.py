"""The days a fact holds: a HCPCS code's validity, an NDC package's marketing dates.

The drug table (edi837.drugs) and the imported CMS and FDA files (this package)
both give them; the rules read them alike.  It sits here, below the drug table
that reads this package, so that neither imports the other back.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def plain_date(day: dt.date) -> dt.date:
    # A datetime is a date, but cannot be compared with one.
    return day.date() if isinstance(day, dt.datetime) else day


@dataclass(frozen=True, slots=True)
class DateWindow:
    """The days a HCPCS code is valid (DOS002) or an NDC package is marketed (NDC009),
    both ends inclusive, None for open; ``source`` says who says so: the drug table's
    source, or an imported file (``file``, an ``edi837.refdata.ImportedFile``)."""

    start: dt.date | None
    end: dt.date | None
    source: str
    file: Any = None
    note: str | None = None

    def holds(self, day: dt.date) -> bool:
        day = plain_date(day)
        return (self.start is None or day >= self.start) and (self.end is None
                                                              or day <= self.end)

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None
