"""Report formats.  Every format renders the same :class:`~edi837.results.Report`,
so formats can never disagree about what was found.

A writer is ``write(report, out, options=None)``; :class:`ReportOptions` says
what the person asked for (``--min-severity``), and formats that list findings
for people (text, HTML) honour it.  Machine formats always carry everything.
"""
from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Callable, Iterator

from .. import formats
from ..findings import SEVERITIES, WARNING

# Every format: its name -> (the module that holds its writer, its file extensions),
# kept in edi837.formats (the one list).  The module is imported when the format is
# first used, so a JSON check imports neither lxml (xml) nor the HTML templates.
FORMATS = formats.FORMATS
EXTENSIONS = formats.EXTENSIONS
_LOADED: dict[str, Callable[..., None]] = {}  # filled by @writer as modules are imported


class _Writers(MutableMapping):
    """Format name -> writer, each writer's module imported on first use (tests may
    replace a writer: setting one takes the place of the registered function)."""

    def __getitem__(self, name: str) -> Callable[..., None]:
        function = _LOADED.get(name)
        if function is None:
            if name not in FORMATS or FORMATS[name][0] is None:
                raise KeyError(name)
            importlib.import_module(f"{__name__}.{FORMATS[name][0]}")
            function = _LOADED[name]
        return function

    def __setitem__(self, name: str, function: Callable[..., None]) -> None:
        _LOADED[name] = function

    def __delitem__(self, name: str) -> None:
        del _LOADED[name]

    @staticmethod
    def _names() -> set[str]:
        return {name for name, (module, _) in FORMATS.items() if module} | _LOADED.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in _LOADED or (isinstance(name, str)
                                   and FORMATS.get(name, (None, ()))[0] is not None)


WRITERS: MutableMapping[str, Callable[..., None]] = _Writers()


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
    """Register the decorated ``write(report, out, options=None)`` as format ``name``:
    one of edi837.formats.FORMATS (its extensions are there), or a format of a
    plug-in or a test, which gives its ``extensions`` here."""
    module = FORMATS.get(name, (None, ()))[0]
    if module is not None and extensions:
        raise ValueError(f"format {name}: its extensions are in edi837.formats")
    if module is None and not extensions:
        raise ValueError(f"format {name} is not in edi837.formats: give its extensions")

    def register(function: Callable[..., None]) -> Callable:
        _LOADED[name] = function
        if module is None:
            formats.add(name, extensions)
        return function
    return register


def load_writers() -> MutableMapping[str, Callable[..., None]]:
    """Every format's writer by name; a writer's module is imported when it is looked up."""
    return WRITERS


def format_for(path: str) -> str | None:
    """Report format from an output file's extension (report.html -> html)."""
    lower = path.lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if lower.endswith(ext):
            return EXTENSIONS[ext]
    return None
