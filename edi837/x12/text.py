"""Text for people from EDI text read as latin-1 (the reader's encoding for bytes
that are not ASCII): messages, reports and edits show the characters meant."""
from __future__ import annotations


def display(value: str) -> str:
    """Text for people: latin-1-read UTF-8 bytes back to the characters meant."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
