"""File names as the batch shows, stores and derives them.

A name in the inbox is whatever bytes a sender chose: control characters,
bidi overrides, bytes that are not UTF-8, 255 bytes long.  The batch shows
names escaped (:func:`shown`), stores names that are not UTF-8 as their bytes
(:func:`to_db`, :func:`from_db`), writes them into text as escaped text
(:func:`as_text`), and derives new names (``NAME.reason.txt``) that fit the
file system's limit (:func:`fitting`).
"""
from __future__ import annotations

import hashlib
import os

NAME_MAX = 255  # bytes in one path component (Linux, macOS and most file systems)


def shown(name: str) -> str:
    """A name safe for a log line or a terminal: control characters (newlines,
    ESC), bidi overrides (U+202E) and other invisible format characters are
    escaped, and a byte that is not UTF-8 is shown as ``\\xNN``."""
    return "".join(c if c.isprintable() else _escaped(c) for c in name)


def _escaped(c: str) -> str:
    if 0xDC80 <= ord(c) <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{ord(c) - 0xDC00:02x}"
    return repr(c)[1:-1]


def as_text(name: str) -> str:
    """A name as UTF-8 text for JSON and text files: bytes that are not UTF-8
    written as ``\\xNN``; every other character kept (those files escape what
    they must themselves)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def to_db(value):
    """A value SQLite can store: text that is not UTF-8 (a name made of the raw
    bytes of the file system, held in surrogate escapes) is stored as those bytes."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return os.fsencode(value)
    return value


# PostgreSQL's text must be UTF-8 too, and its binary column types are not text's: a
# name that is not UTF-8 is stored there as this mark and its bytes in hexadecimal
TEXT_BYTES = "\ufffe:"


def to_text_db(value):
    """As :func:`to_db`, for a database whose text columns take text only."""
    value = to_db(value)
    return TEXT_BYTES + value.hex() if isinstance(value, bytes) else value


def from_db(value):
    """The reverse of :func:`to_db` and :func:`to_text_db`: bytes become the name the
    file system uses."""
    if isinstance(value, str) and value.startswith(TEXT_BYTES):
        try:
            value = bytes.fromhex(value[len(TEXT_BYTES):])
        except ValueError:
            return value
    return os.fsdecode(value) if isinstance(value, bytes) else value


def fitting(name: str, suffix: str) -> str:
    """``name + suffix``, or, when that is longer than one path component may
    be, the name cut short and marked with a hash of the whole name, so that two
    long names that start alike still derive different names."""
    raw, tail = os.fsencode(name), os.fsencode(suffix)
    if len(raw) + len(tail) <= NAME_MAX:
        return name + suffix
    mark = "~" + hashlib.sha256(raw).hexdigest()[:12]
    keep = NAME_MAX - len(tail) - len(mark)
    # cut on a character boundary; bytes that are not UTF-8 are dropped, the hash keeps it unique
    return raw[:keep].decode("utf-8", "ignore") + mark + suffix
