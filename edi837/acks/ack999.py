"""Which transaction sets of an 837 a 999 accepted, read from a 999 file.

A 277CA answers only the transaction sets the 999 accepted: a set the 999
rejects never reached the claim edits, so it gets no 277CA (its rejection is
the 999's to say).  How a 999's segments say which sets it accepts is
edi837.validate.acceptance's (validate's summary reads its own 999 with it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..validate import acceptance
from ..validate.acceptance import GROUP_ACCEPTED, SET_ACCEPTED, SetVerdict
from ..x12.reader import SegmentReader, X12SyntaxError

__all__ = ["GROUP_ACCEPTED", "SET_ACCEPTED", "Acceptance", "AckReadError", "SetVerdict"]


class AckReadError(Exception):
    """The 999 cannot be read; the message names the file and the segment."""


class Acceptance(acceptance.Acceptance):
    """The 999's verdict on each transaction set of one 837 file, read from a file."""

    @classmethod
    def from_999(cls, path: str | Path) -> "Acceptance":
        """Read a 999 (one or more interchanges, one ST*999 per 837 group)."""
        position = [0]

        def segments() -> Iterator[list[str]]:
            for fields, index, _ in SegmentReader(path):
                position[0] = index
                if fields[0] == "ST" and len(fields) > 1 and fields[1].strip() != "999":
                    raise AckReadError(f"{path}:{index}: transaction set "
                                       f"{fields[1].strip()!r} is not a 999")
                yield fields

        try:
            found = cls.from_segments(segments(), Path(path).name)
        except X12SyntaxError as exc:
            where = exc.segment_index or position[0]
            raise AckReadError(f"{path}:{where}: not a readable 999: {exc.message}") from None
        except OSError as exc:
            raise AckReadError(f"cannot read the 999 {path}: {exc.strerror or exc}") from None
        if found.empty:
            raise AckReadError(f"{path}: no 999 acknowledgment of an 837 in it (no AK2/IK5)")
        return found
