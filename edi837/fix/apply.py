"""Edits -> segments: copy a file with the plan's edits applied, byte for byte elsewhere.

The copying itself is :func:`edi837.x12.writer.rewrite` (untouched segments
keep their exact bytes, trailers and delimiters); here it is pointed at an
output file, or, for a dry run, at a :class:`SegmentDiff` that shows what
would change and writes nothing.

Text after the last interchange (`check`'s EDI002 warning) is the one thing
the copy leaves out: the corrected file is meant to be forwarded, and a
receiver's translator may reject a whole file for trailing text.  The change
log says so.  When that text looks like an interchange edi837 could not read,
the file is not fixed at all (:class:`CannotFix`): its claims would vanish.

Padding is left out too, when long: NULs, Ctrl-Z, blank lines or doubled
terminators running more than 64 KiB past a segment's terminator and line
break (:data:`~edi837.x12.raw.PADDING_KEPT`; `check`'s EDI006 note) are
never read into memory, and so not written either.  Each run is an EDI006
change in the log; shorter filler is copied as sent.

The corrected file is single-byte X12 text (:mod:`.single_byte`): a UTF-8
byte-order mark is left out and UTF-16 is written one byte a character, as
receivers (and pyx12) read X12.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

from ..files import atomic_output
from ..x12.raw import PADDING_KEPT, Padding, detect_encoding
from ..x12.reader import display
from ..x12.writer import RawSegment, RewriteSummary, rewrite
from .plan import Change, FixPlan
from .single_byte import NotSingleByte, SingleByteHandle


class CannotFix(Exception):
    """The file cannot be fixed as a whole; the message says why."""


def _check_dropped(summary: RewriteSummary) -> None:
    """Text after the last interchange is dropped from the corrected file, but
    only when it holds no segment of claims (an ISA or CLM segment edi837 could
    not read: a second interchange with a broken ISA): those would be lost unseen."""
    if summary.dropped_claims:
        raise CannotFix(f"the text after the last interchange (segment "
                        f"{summary.dropped_index}) looks like X12 edi837 cannot read (an ISA "
                        "or CLM segment): its claims would be lost; ask the sender for a "
                        "readable file")


def dropped_change(summary: RewriteSummary) -> Change | None:
    """The change log's record of the text after the last interchange, when dropped."""
    if not summary.dropped:
        return None
    text = display(summary.dropped.strip())
    if summary.dropped_length > len(summary.dropped):  # only its start was kept
        preview = f"{text[:40]}... ({summary.dropped_length} characters)"
    else:
        preview = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
    return Change(rule="EDI002", segment_index=summary.dropped_index or 0,
                  element="after IEA", before=preview, after="",
                  description="text after the last interchange dropped: it is not X12")


def padding_change(run: Padding) -> Change:
    """The change log's record of a run of padding left out."""
    return Change(rule="EDI006", segment_index=run.index or 1,
                  element=f"after {run.after}" if run.index else "before ISA",
                  before=str(run), after="",
                  description=f"padding of more than {PADDING_KEPT // 1024} KiB between "
                              "segments removed: it is not X12")


def write_corrected(path: Path, target: Path, plan: FixPlan) -> RewriteSummary:
    """Write ``path`` with the plan's edits applied to ``target``, atomically.
    Raises CannotFix (nothing written) when the file cannot be fixed whole."""
    with open(path, "rb") as source:
        encoding = detect_encoding(source.read(4))
    with atomic_output(target, "wb") as handle:
        output = SingleByteHandle(handle, encoding)  # no BOM, never UTF-16
        try:
            summary = rewrite(path, output, plan.transform,
                              padding=lambda run: plan.applied.append(padding_change(run)))
            output.close()
        except NotSingleByte as exc:
            raise CannotFix(str(exc)) from None
        plan.finish()
        _check_dropped(summary)
    return summary


def diff_of(path: Path, target: Path, plan: FixPlan) -> tuple[str, RewriteSummary]:
    """What :func:`write_corrected` would change, as a diff; nothing is written."""
    diff = SegmentDiff(str(path), str(target))

    def padding(run: Padding) -> None:
        change = padding_change(run)
        plan.applied.append(change)
        diff.padding(run.index, change.before)

    summary = rewrite(path, None, plan.transform, observer=diff, padding=padding)
    plan.finish()
    _check_dropped(summary)
    change = dropped_change(summary)
    if change is not None:
        diff.dropped(change.segment_index, change.before)
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
        hunk = self._hunk
        if hunk is None:
            return
        kept, rest = self._tail[:self.context], self._tail[self.context:]
        hunk += [self._line(" ", i, t) for i, t in kept]
        last = kept[-1][0] if kept else self._last
        self.lines.append(f"@@ segments {self._first}-{last} @@")
        self.lines += hunk
        self._hunk, self._tail = None, []
        self._behind.clear()
        self._behind.extend(rest[-self.context:] if self.context else [])

    def dropped(self, index: int, text: str) -> None:
        """Text after the last segment (numbered ``index``), left out."""
        if self._hunk is not None:
            self._close()
        self.lines += [f"@@ after segment {index - 1} @@", f"-{index:>6} {text}"]

    def padding(self, index: int, what: str) -> None:
        """Padding after segment ``index`` (0: before the first), left out."""
        if self._hunk is not None:
            self._close()
        where = f"after segment {index}" if index else "before segment 1"
        self.lines += [f"@@ {where} @@", f"-{'':>6} {what}"]

    def text(self) -> str:
        if self._hunk is not None:
            self._close()
        return "\n".join(self.lines) + "\n" if len(self.lines) > 2 else ""
