"""Report formats.  Every format renders the same :class:`~edi837.engine.Report`,
so formats can never disagree about what was found.

A writer is ``write(report, out, options=None)``; :class:`ReportOptions` says
what the person asked for (``--min-severity``), and formats that list findings
for people (text, HTML) honour it.  Machine formats always carry everything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..findings import SEVERITIES, WARNING

WRITERS: dict[str, Callable[..., None]] = {}
EXTENSIONS: dict[str, str] = {}


@dataclass(slots=True, frozen=True)
class ReportOptions:
    # Findings below this are counted, not listed (text), or collapsed and not
    # listed as claims of their own (HTML): 32,000 DOC001 notes must not bury
    # the errors.  The summary always says how many were left out.
    min_severity: str = WARNING

    def __post_init__(self) -> None:
        if self.min_severity not in SEVERITIES:
            raise ValueError(f"min_severity must be one of {', '.join(SEVERITIES)}")

    def listed(self, severity: str) -> bool:
        """Whether findings of ``severity`` are listed at this minimum."""
        return SEVERITIES.index(severity) <= SEVERITIES.index(self.min_severity)


DEFAULT_OPTIONS = ReportOptions()


def writer(name: str, *extensions: str) -> Callable:
    def register(function: Callable[..., None]) -> Callable:
        WRITERS[name] = function
        for ext in extensions:
            EXTENSIONS[ext] = name
        return function
    return register


def load_writers() -> dict[str, Callable[..., None]]:
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return WRITERS


def format_for(path: str) -> str | None:
    """Report format from an output file's extension (report.html -> html)."""
    load_writers()
    lower = path.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if lower.endswith(ext):
            return EXTENSIONS[ext]
    return None
