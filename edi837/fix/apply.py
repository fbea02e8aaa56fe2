"""Edits -> segments: copy a file with the plan's edits applied, byte for byte elsewhere.

The copying itself is :func:`edi837.x12.writer.rewrite` (untouched segments
keep their exact bytes, trailers and delimiters); here it is pointed at an
output file, or, for a dry run, at a :class:`SegmentDiff` that shows what
would change and writes nothing.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

from ..files import atomic_output
from ..x12.reader import display
from ..x12.writer import RawSegment, RewriteSummary, rewrite
from .plan import FixPlan


def write_corrected(path: Path, target: Path, plan: FixPlan) -> RewriteSummary:
    """Write ``path`` with the plan's edits applied to ``target``, atomically."""
    with atomic_output(target, "wb") as handle:
        summary = rewrite(path, handle, plan.transform)
        plan.finish()
    return summary


def diff_of(path: Path, target: Path, plan: FixPlan) -> tuple[str, RewriteSummary]:
    """What :func:`write_corrected` would change, as a diff; nothing is written."""
    diff = SegmentDiff(str(path), str(target))
    summary = rewrite(path, None, plan.transform, observer=diff)
    plan.finish()
    return diff.text(), summary


class SegmentDiff:
    """A unified diff of a rewrite, one segment per line, numbered by segment index.

    Fed segment by segment by the writer; holds only ``context`` segments of
    look-behind and the open hunk, so it stays small for large files.
    """

    def __init__(self, before: str, after: str, context: int = 2) -> None:
        self.context = context
        self.lines = [f"--- {before}", f"+++ {after}"]
        self._behind: deque[tuple[int, str]] = deque(maxlen=context)
        self._hunk: list[str] | None = None
        self._first = self._last = 0
        self._tail: list[tuple[int, str]] = []  # unchanged segments since the last change

    def __call__(self, segment: RawSegment, texts: list[str] | None) -> None:
        if texts is None:
            if self._hunk is None:
                self._behind.append((segment.index, segment.text))
                return
            self._tail.append((segment.index, segment.text))
            if len(self._tail) > 2 * self.context:
                self._close()
            return
        if self._hunk is None:
            self._hunk = [self._line(" ", i, t) for i, t in self._behind]
            self._first = self._behind[0][0] if self._behind else segment.index
        else:
            self._hunk += [self._line(" ", i, t) for i, t in self._tail]
        self._tail = []
        self._hunk.append(self._line("-", segment.index, segment.text))
        self._hunk += [self._line("+", segment.index, t) for t in texts]
        self._last = segment.index

    @staticmethod
    def _line(mark: str, index: int, text: str) -> str:
        return f"{mark}{index:>6} {display(text)}"

    def _close(self) -> None:
        kept, rest = self._tail[:self.context], self._tail[self.context:]
        self._hunk += [self._line(" ", i, t) for i, t in kept]
        last = kept[-1][0] if kept else self._last
        self.lines.append(f"@@ segments {self._first}-{last} @@")
        self.lines += self._hunk
        self._hunk, self._tail = None, []
        self._behind.clear()
        self._behind.extend(rest[-self.context:] if self.context else [])

    def text(self) -> str:
        if self._hunk is not None:
            self._close()
        return "\n".join(self.lines) + "\n" if len(self.lines) > 2 else ""
