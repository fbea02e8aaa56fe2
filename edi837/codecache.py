"""The methods ``dataclasses`` writes for edi837's classes, compiled once and kept.

Every ``@dataclass`` writes the source of its ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` (and, frozen, ``__setattr__``/``__delattr__``) and compiles each with
``exec``.  The program makes some 60 such classes at start-up, and compiling their
methods was about a third of the instructions of a ``check`` of a small file (issue
25's start-up target; README "Speed and memory").  Python keeps the compiled code of a
module in ``__pycache__``; these methods have no module, so this does the same for them:
:func:`install`, called by the program before it imports its commands (never by the
Python API, whose process is the caller's), makes ``dataclasses`` compile through a
table of source text -> code object that is read from the user's cache folder
(``edi837.datacache.cache_dir``: ``EDI837_CACHE_DIR`` empty turns it off) and written
back when the run compiled something new.

A code object is only ever used for the very source text it was compiled from (the
text is the key), compiled as ``exec`` would (no inherited ``__future__`` flags).  The
file is code, like a ``.pyc``: it is read only when it belongs to this user and no one
else can write it (nor its folder), and only for this Python and edi837 version;
anything else, or a broken file, is compiled afresh.
"""
from __future__ import annotations

import builtins
import dataclasses
import hashlib
import marshal
import os
import sys
from pathlib import Path
from types import CodeType

from . import __version__
from .datacache import _KEEP, _modified, cache_dir

_FORMAT = "edi837 dataclass-code cache 1"
_codes: dict[str, CodeType] = {}
_file: Path | None = None  # the table's file, once installed
_added = 0  # methods this run compiled that the table did not have


def cache_file() -> Path | None:
    """This Python's and edi837's file in the cache folder, or None (cache off)."""
    folder = cache_dir()
    if folder is None:
        return None
    tag = hashlib.sha256("\0".join((_FORMAT, sys.version, __version__)).encode())
    return folder / f"dataclass-code-{tag.hexdigest()[:24]}.marshal"


def install() -> None:
    """``dataclasses`` compiles through the kept table from now on (see the module's
    text); the table is saved at exit if the run added to it."""
    if "exec" in vars(dataclasses):  # installed already, or someone else's hook
        return
    target = cache_file()
    if target is None:
        return
    global _file
    _codes.update(_read(target))
    _file = target
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    import atexit

    atexit.register(save)


def uninstall() -> None:
    """``dataclasses`` compiles as it always did (the tests use this)."""
    if vars(dataclasses).get("exec") is _exec:
        del dataclasses.exec  # type: ignore[attr-defined]


def _exec(source, globals=None, locals=None):
    global _added
    if type(source) is str:
        code = _codes.get(source)
        if code is None:
            code = _codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
            _added += 1
        source = code
    return builtins.exec(source, globals, locals)


def _trusted(target: Path) -> bool:
    """The file and its folder are this user's, and writable by no one else."""
    if not hasattr(os, "getuid"):
        return True  # no owners to speak of (the folder is the user's profile)
    uid = os.getuid()
    for path in (target.parent, target):
        info = path.stat()
        if info.st_uid != uid or info.st_mode & 0o022:
            return False
    return True


def _read(target: Path) -> dict[str, CodeType]:
    try:
        if not _trusted(target):
            return {}
        found = marshal.loads(target.read_bytes())
    except Exception:  # missing, unreadable, broken or foreign: compiled afresh
        return {}
    if not (isinstance(found, tuple) and len(found) == 2 and found[0] == _FORMAT
            and isinstance(found[1], dict)):
        return {}
    return {text: code for text, code in found[1].items()
            if type(text) is str and type(code) is CodeType}


def save() -> None:
    """Keep the table (written atomically) when this run compiled something new; a
    folder that cannot be written is passed over."""
    global _added
    target = _file
    if target is None or not _added:
        return
    _added = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        temp.unlink(missing_ok=True)
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps((_FORMAT, dict(_codes))))
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        others = sorted(target.parent.glob("dataclass-code-*.marshal"), key=_modified)
        for old in others[:-_KEEP]:  # other Pythons' and versions': the newest few stay
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass
