"""The shipped data files, parsed once per content and kept in the user's cache folder.

Every ``check`` reads the drug table (``drugs/table.toml``) and the payer policies
(``policy/policies.toml``); parsing their TOML was some 10% of the start-up of a
check of a small file.  :func:`load_parsed` parses a file as before on its first
use and keeps what the parser returned in ``$XDG_CACHE_HOME/edi837`` (default
``~/.cache/edi837``; ``$EDI837_CACHE_DIR`` names another folder, and set empty
turns the cache off), under a name made of a SHA-256 of the file's bytes, the
parser and the Python and edi837 versions.  The TOML stays the only source of
facts: every run reads and hashes the file, so an edited file is parsed afresh,
never served from the cache.  Only shipped files come here: a user's own drug
table or configuration is parsed (and validated) on every run.

A cache file holds plain data in ``marshal``'s format (dicts, lists, strings and
numbers; the dates, datetimes and times TOML has as ISO text, with where they sit),
in a folder only its user can write (mode 0700): reading one runs no code.  A
missing, broken or unwritable cache costs the parse and nothing more.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any, Callable

from . import __version__

CACHE_ENV = "EDI837_CACHE_DIR"
_FORMAT = b"edi837 parsed-data cache 1"
_KEEP = 4  # cache files of one data file kept side by side (a release and a checkout)


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off (``EDI837_CACHE_DIR=``)."""
    given = os.environ.get(CACHE_ENV)
    if given is not None:
        return Path(given) if given else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder to speak of
            return None
    return Path(base) / "edi837"


def load_parsed(path: Path, kind: str, parse: Callable[[bytes], Any]) -> Any:
    """``parse(path's bytes)``, from the cache when that file's bytes were parsed by the
    same ``kind`` of parser (with the same Python and edi837) before.  What ``parse``
    raises is raised as it is, and nothing is cached."""
    content = path.read_bytes()
    key = hashlib.sha256(b"\0".join((_FORMAT, kind.encode(), __version__.encode(),
                                     sys.version.encode(), content))).hexdigest()
    folder = cache_dir()
    if folder is None:
        return parse(content)
    target = folder / f"{path.stem}-{kind}-{key[:40]}.marshal"
    found = _read(target, key)
    if found is not None:
        return found
    data = parse(content)
    _write(folder, target, key, data, others=f"{path.stem}-{kind}-*.marshal")
    return data


def _read(target: Path, key: str) -> Any | None:
    """The data kept in ``target``, or None when it is missing, broken or not this key's."""
    try:
        raw = target.read_bytes()
    except OSError:
        return None
    try:
        found = marshal.loads(raw)
        if not (isinstance(found, tuple) and len(found) == 3 and found[0] == key):
            return None
        return _restored(found[1], found[2])
    except Exception:  # a broken or foreign file: parsed again, and written anew
        return None


def _write(folder: Path, target: Path, key: str, data: Any, others: str) -> None:
    """Keep ``data`` under ``target``, written atomically; of the files of other contents
    (names matching ``others``: other versions side by side) the newest few stay.  A
    folder that cannot be written, or data that is not plain, is passed over."""
    try:
        plain, dates = _flattened(data)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = folder / f".tmp-{os.getpid()}-{target.name}"  # (tempfile costs a start-up)
        temp.unlink(missing_ok=True)  # left by a killed run whose process id this is now
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps((key, plain, dates)))
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        kept = sorted(folder.glob(others), key=_modified, reverse=True)
        for old in kept[_KEEP:]:
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, ValueError, TypeError):
        pass


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


# The datetime values TOML has, kept as ISO text with where they sit (marshal keeps
# only plain data); tomllib gives lists for arrays, so a path is keys and indexes.
_KINDS = {dt.datetime: "datetime", dt.date: "date", dt.time: "time"}
_FROM_TEXT = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
              "time": dt.time.fromisoformat}
_PLAIN = (str, int, float, bool, type(None))


def _flattened(data: Any) -> tuple[Any, list[tuple[str, tuple]]]:
    """``data`` with its dates, datetimes and times as ISO text, and their places;
    ValueError for anything that is not TOML's plain data."""
    dates: list[tuple[str, tuple]] = []

    def plain(value: Any, path: tuple) -> Any:
        if isinstance(value, dict):
            return {key: plain(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item, (*path, i)) for i, item in enumerate(value)]
        kind = _KINDS.get(type(value))
        if kind is not None:
            dates.append((kind, path))
            return value.isoformat()
        if type(value) not in _PLAIN:
            raise ValueError(f"not plain data: {type(value).__name__}")
        return value

    return plain(data, ()), dates


def _restored(plain: Any, dates: list[tuple[str, tuple]]) -> Any:
    """What :func:`_flattened` was given."""
    for kind, path in dates:
        inside = plain
        for step in path[:-1]:
            inside = inside[step]
        inside[path[-1]] = _FROM_TEXT[kind](inside[path[-1]])
    return plain
