"""File names as the batch shows them in logs and messages."""
from __future__ import annotations


def shown(name: str) -> str:
    """A file name safe for a log line: control characters (newlines!) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)
