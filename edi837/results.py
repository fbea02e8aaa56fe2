"""What a run found, for the reports: each file's result and the run's report.

The engine (edi837.engine) fills them; every report format (edi837.reports),
the 999 writer (edi837.validate) and the Python API read them.  They sit
below the engine so that a report never imports the engine that made it.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Iterator, overload

from . import __version__
from .checklist import fold, marked
from .findings import ERROR, INFO, WARNING, Finding
from .store import FindingStore


@dataclass(slots=True)
class FileResult:
    path: str
    status: str = "ok"  # ok | findings | unreadable
    transactions: int = 0
    claims: int = 0
    drug_lines: int = 0
    size: int = 0
    sha256: str = ""
    findings: FindingStore = field(default_factory=FindingStore)  # in file order
    # each transaction set's submitter, [1000A NM109, NM103], by model.envelope_key
    # of its control numbers: the reports name it per claim, at no cost per finding
    submitters: dict = field(default_factory=dict)
    # the payer ids (2010BB NM109) of its checked (drug) claims: which profiles matched
    payer_ids: set = field(default_factory=set)
    # `validate`: the transaction sets its 999 rejects, (ISA13, GS06, ST02, claims in it)
    rejected_sets: list = field(default_factory=list)
    # transaction sets a 999 rejects for their structure (edi837.history.broken): the
    # file's claims stay out of the patient history
    broken_sets: int = 0

    def counts(self) -> Counter:
        """The findings by severity (a store counts them as they are added)."""
        findings = self.findings
        if isinstance(findings, FindingStore):
            return Counter({s: n for s, n in findings.severities().items() if n})
        return Counter(f.severity for f in findings)

    def settle_status(self) -> None:
        """ok or findings, once the findings are all in: notes (info) alone leave a
        file OK; an unreadable file stays unreadable.  Each claim's DOC notes
        become its one DOC000 checklist (edi837.checklist): a store folds them as
        they come, and is rewritten only when a claim's notes came apart (late)."""
        findings = self.findings
        if not isinstance(findings, FindingStore):
            if any(map(marked, findings)):
                self.findings = FindingStore(fold(findings))
        elif findings.late:
            self.findings = FindingStore(findings)
            findings.close()
        if self.status != "unreadable":
            counts = self.counts()
            self.status = "findings" if sum(counts.values()) > counts[INFO] else "ok"


@dataclass(slots=True)
class Report:
    """Everything a report format needs: files, findings, reference data."""

    files: list[FileResult]
    drug_table_version: str
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    tool_version: str = __version__
    config_source: str | None = None
    reference_data: dict = field(default_factory=dict)  # DrugTable.reference_data()
    # FileResult -> the CLM02s of its claims only an error outside any claim holds (a
    # repeated ISA13), as the split routes them: a command that can route sets it
    # (edi837.fix.forwarded.held_outside_charges), the summary line names them
    held_outside_of: Callable | None = field(default=None, repr=False, compare=False)
    notices: list = field(default_factory=list)  # the run's: a profile that matched nothing
    # the figures counted once (edi837.reports.figures), with what they were counted from
    _figures: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def findings(self) -> RunFindings:
        """Every finding, file by file in file order (see :class:`RunFindings`)."""
        return RunFindings(self.files)

    def severities(self) -> Counter:
        """The run's findings by severity (counted as they were added)."""
        total: Counter = Counter()
        for result in self.files:
            total.update(result.counts())
        return total

    def summary(self) -> dict:
        severities = self.severities()
        return {
            "files": len(self.files),
            "claims": sum(r.claims for r in self.files),
            "drug_lines": sum(r.drug_lines for r in self.files),
            "errors": severities[ERROR],
            "warnings": severities[WARNING],
            "infos": severities[INFO],
        }

    def exit_status(self) -> int:
        """0 no error finding, 1 an error finding, 2 a file could not be read."""
        if any(r.status == "unreadable" for r in self.files):
            return 2
        return 1 if any(r.counts()[ERROR] for r in self.files) else 0


class RunFindings(Sequence[Finding]):
    """A run's findings, file by file in file order, as a sequence: each iteration
    reads every file's findings again (a file's store spilled to disk is read
    from disk again, never held whole); ``len()`` is counted without reading them;
    an index walks to its finding (cheap in memory, not in time, for a spilled
    file: iterate rather than index a large run)."""

    __slots__ = ("_files",)

    def __init__(self, files: list[FileResult]) -> None:
        self._files = files

    def __iter__(self) -> Iterator[Finding]:
        for result in self._files:
            yield from result.findings

    def __len__(self) -> int:
        return sum(len(result.findings) for result in self._files)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if index >= 0:
            for result in self._files:
                count = len(result.findings)
                if index < count:
                    return next(islice(iter(result.findings), index, None))
                index -= count
        raise IndexError("finding index out of range")

    def __repr__(self) -> str:
        return f"<{len(self)} findings of {len(self._files)} files>"
