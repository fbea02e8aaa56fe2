"""Report formats.  Every format renders the same :class:`~edi837.engine.Report`,
so formats can never disagree about what was found."""
from __future__ import annotations

from typing import Callable, TextIO

from ..engine import Report

WRITERS: dict[str, Callable[[Report, TextIO], None]] = {}
EXTENSIONS: dict[str, str] = {}


def writer(name: str, *extensions: str) -> Callable:
    def register(function: Callable[[Report, TextIO], None]) -> Callable:
        WRITERS[name] = function
        for ext in extensions:
            EXTENSIONS[ext] = name
        return function
    return register


def load_writers() -> dict[str, Callable[[Report, TextIO], None]]:
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
