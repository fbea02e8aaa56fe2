"""An edit of one element of one segment: what a safe fix (edi837.findings.Fix)
is made of and what the writer (edi837.x12.writer) applies to the bytes."""
from __future__ import annotations

from dataclasses import dataclass

from .text import display


@dataclass(slots=True, frozen=True)
class Edit:
    """Replace one element (or one component of it) of one segment.

    ``position`` is the element's 1-based position (SV101 -> 1, LIN03 -> 3);
    ``component`` the 1-based component inside a composite, or None for the
    whole element.
    """

    segment_index: int
    segment_id: str
    position: int
    component: int | None
    before: str
    after: str

    @property
    def reference(self) -> str:
        ref = f"{self.segment_id}{self.position:02d}"
        return f"{ref}-{self.component}" if self.component else ref

    def as_dict(self) -> dict:
        return {
            "segment_index": self.segment_index,
            "element": self.reference,
            "before": display(self.before),
            "after": display(self.after),
        }
