"""Interchange and group control numbers that never repeat, across processes and runs.

The counter is a small text file holding the last number handed out.  By
default it is ``control-numbers`` in the per-user data folder:
``$EDI837_STATE`` when set, else ``${XDG_DATA_HOME:-~/.local/share}/edi837/``
(a path of your own can be given instead, e.g. on a shared volume so that
every host of a cluster draws from one counter).  To start from a number of
your choosing (the last one your old system used, say), write it into the file.

Taking numbers is safe with any number of processes at once: each holds an
exclusive ``flock`` on ``<file>.lock`` while it reads the last number and
writes the new one (temporary file, fsync, rename, fsync of the folder), so
a crash leaves the old number or the new one, never a torn file.  The lock
is a separate file that is never replaced: a process waiting on the lock of
a file that another renames over would be waiting on a stale inode and
could hand out the same number twice.  (``flock`` locks are not reliable on
every network file system; NFS with local locking, for one, does not share
them between hosts.)

Numbers run from 1 to 999,999,999 (ISA13 has nine digits) and then start at
1 again; a receiver remembers a sender's recent numbers, not a billion of
them.  A counter file that cannot be read as a number is an error, never a
silent restart at 1, which would hand out numbers again.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..files import atomic_output
from .reader import Delimiters, X12SyntaxError

STATE_ENV = "EDI837_STATE"
COUNTER_NAME = "control-numbers"
MAX_NUMBER = 999_999_999


class ControlNumberError(Exception):
    """The counter file cannot be used; the message names it and says why."""


def default_counter_path() -> Path:
    """``control-numbers`` in $EDI837_STATE, else in ${XDG_DATA_HOME:-~/.local/share}/edi837."""
    state = os.environ.get(STATE_ENV)
    if state:
        return Path(state) / COUNTER_NAME
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "edi837" / COUNTER_NAME


class ControlNumbers:
    """A persistent counter of control numbers, shared by every process that opens it.

    ``ControlNumbers().next()`` is the next number for an acknowledgment;
    ``reserve(n)`` takes ``n`` at once (one lock for a batch of files).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_counter_path()
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def next(self) -> int:
        return self.reserve(1)[0]

    def reserve(self, count: int) -> list[int]:
        """``count`` numbers no one has had from this counter; the last is written back."""
        if count < 1:
            raise ValueError("reserve at least one number")
        with self._locked():
            last = self._read()
            numbers = [(last + k - 1) % MAX_NUMBER + 1 for k in range(1, count + 1)]
            self._write(numbers[-1])
        return numbers

    def last(self) -> int:
        """The last number handed out (0: none yet); takes nothing.  Also the
        way to find out early that the counter cannot be used."""
        with self._locked():
            return self._read()

    # -- the file ----------------------------------------------------------------
    def _locked(self) -> "_Lock":
        return _Lock(self.lock_path)

    def _read(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            raise ControlNumberError(f"cannot read the control-number counter {self.path}: "
                                     f"{getattr(exc, 'strerror', None) or exc}") from exc
        if not text.isdigit() or not 0 <= int(text) <= MAX_NUMBER:
            raise ControlNumberError(
                f"the control-number counter {self.path} holds {text[:20]!r}, not a number "
                f"from 0 to {MAX_NUMBER}; put the last control number used into it")
        return int(text)

    def _write(self, number: int) -> None:
        try:
            with atomic_output(self.path) as out:
                out.write(f"{number}\n")
            # the rename itself must survive a power cut, or a number is handed out twice
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as exc:
            raise ControlNumberError(f"cannot write the control-number counter {self.path}: "
                                     f"{exc.strerror or exc}") from exc


class _Lock:
    """An exclusive flock on the lock file, created (with its folder) when missing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> "_Lock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError as exc:
            if self._fd is not None:
                os.close(self._fd)
            raise ControlNumberError(f"cannot lock the control-number counter {self.path}: "
                                     f"{exc.strerror or exc}") from exc
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock


# -- putting a number into an acknowledgment -----------------------------------------

def stamp(interchange: str, number: int) -> str:
    """``interchange`` (one ISA..IEA with one functional group, as acknowledgments
    are, or none: a 999 file of TA1s only) with ISA13/IEA02 set to ``number`` in nine
    digits and GS06/GE02 to ``number``.  Everything else, line breaks included, is
    left as it was.  ST02 stays: it need only be unique within its group, which is new."""
    if not 1 <= number <= MAX_NUMBER:
        raise ValueError(f"control number {number} is not from 1 to {MAX_NUMBER}")
    try:
        delimiters = Delimiters.from_isa(interchange.lstrip())
    except X12SyntaxError as exc:
        raise ValueError(f"not an interchange: {exc}") from exc
    element, terminator = delimiters.element, delimiters.segment
    positions = {"ISA": (13, f"{number:09d}"), "IEA": (2, f"{number:09d}"),
                 "GS": (6, str(number)), "GE": (2, str(number))}
    pieces = interchange.split(terminator)
    seen: dict[str, int] = {}
    for k, piece in enumerate(pieces):
        text = piece.lstrip()
        fields = text.split(element)
        target = positions.get(fields[0])
        if target is None:
            continue
        seen[fields[0]] = seen.get(fields[0], 0) + 1
        position, value = target
        if len(fields) <= position:
            raise ValueError(f"{fields[0]} has no element {position:02d}")
        fields[position] = value
        pieces[k] = piece[:len(piece) - len(text)] + element.join(fields)
    groups = seen.get("GS", 0)
    if seen.get("ISA") != 1 or seen.get("IEA") != 1 or groups > 1 or \
            seen.get("GE", 0) != groups:
        raise ValueError("an acknowledgment is one interchange with one group (or none); "
                         "found " + ", ".join(f"{seen.get(t, 0)} {t}" for t in positions))
    return terminator.join(pieces)
