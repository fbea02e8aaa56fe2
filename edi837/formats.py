"""Report formats, the one list: each format's name, the module of edi837.reports
that holds its writer, and the file extensions that name it (``-o report.html``).

It is data, apart from the writers: a JSON check imports neither lxml nor the
HTML templates (edi837.reports imports a writer's module when it is first
used), and reading a folder knows a report when it sees one without loading
any writer (edi837.files: a report edi837 wrote is never taken for a claim
file).  A new format is one line here and its module with ``@writer(name)``;
README's format table is checked against this list (tests/reports/test_report_registry.py).
A format registered at run time (a plug-in, a test) gives its extensions to
``@writer`` and joins this list then.
"""
from __future__ import annotations

# name -> (module in edi837.reports, extensions); the first extension is the one written
FORMATS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "annotated": ("annotated", (".annotated.txt",)),
    "csv": ("csv_report", (".csv",)),
    "html": ("html", (".html", ".htm")),
    "json": ("json_report", (".json",)),
    "text": ("text", (".txt",)),
    "xml": ("xml_report", (".xml",)),
}
EXTENSIONS: dict[str, str] = {ext: name for name, (_, exts) in FORMATS.items()
                              for ext in exts}
# Extensions senders use for claim files too: a report's, but never skipped in a folder.
CLAIM_EXTENSIONS = (".txt",)


def add(name: str, extensions: tuple[str, ...]) -> None:
    """A format registered at run time (no module of edi837.reports holds it)."""
    if name not in FORMATS:
        FORMATS[name] = (None, tuple(extensions))
    for ext in extensions:
        EXTENSIONS[ext] = name


def report_extensions() -> tuple[str, ...]:
    """The extensions of every report format that no claim file has (lower case)."""
    return tuple(ext.lower() for ext in EXTENSIONS if ext.lower() not in CLAIM_EXTENSIONS)
