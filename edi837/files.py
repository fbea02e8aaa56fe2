"""Finding input files and writing outputs safely."""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol

from .formats import report_extensions
from .locations import discover as url_discover
from .locations import is_url, local_path, whole_object

# Names a drop folder holds while a file is still arriving, or editor leftovers.
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".filepart", ".crdownload", "~")


# Files in a folder that are documentation or edi837's own outputs, never claims.
NOT_CLAIMS = (".md", ".rst", ".html", ".htm", ".json", ".jsonl", ".csv", ".xml", ".xsd",
              ".toml", ".log", ".999", ".997", ".277", ".done", ".db", ".sqlite", ".sqlite3",
              ".pdf")


# edi837's own text outputs (batch reasons, fix change logs and held-claim
# reports); plain .txt stays a claim file, as senders use it.  Reports are known
# by their formats' extensions (edi837.formats: annotated reports, say).
OWN_TEXT_OUTPUTS = (".reason.txt", ".changes.txt", ".held.txt")


def is_candidate(path: Path) -> bool:
    """Whether a file found in a folder is taken as a possible claim file."""
    name = path.name
    lower = name.lower()
    return not (name.startswith(".") or name.endswith(PARTIAL_SUFFIXES)
                or lower.endswith(NOT_CLAIMS) or lower.endswith(OWN_TEXT_OUTPUTS)
                or lower.endswith(report_extensions()))


def _regular(path: Path) -> bool:
    """A regular file (through a link): a FIFO, socket or device in a folder would
    block or never end; only a file named directly is read whatever it is."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # gone or unreadable: let the reader report it by name


def discover(paths: Iterable[str | Path]) -> Iterator[Path | str]:
    """Files named directly, and below named folders every file that may hold
    claims (not hidden, partial, documentation or report files), sorted; a
    file reached twice (`check inbox inbox/a.edi`) is read once.  A URL
    (edi837.locations) names an object or a prefix searched the same way, and
    comes out as the URL string; LocationError when its store cannot be listed."""
    seen: set[Path | str] = set()

    def once(path: Path | str) -> bool:
        key = path if isinstance(path, str) else path.resolve()
        if key in seen:
            return False
        seen.add(key)
        return True

    for given in paths:
        if is_url(given) and local_path(given) is None:
            # an object, or every object under a prefix, by the same filter (a URL
            # stays a string: Path would fold its "//")
            yield from (url for url in url_discover(given, is_candidate) if once(url))
            continue
        path = Path(local_path(given) or given)
        if path.is_dir():
            found: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in files
                             if is_candidate(Path(f)) and _regular(Path(root) / f))
            yield from (p for p in sorted(found) if once(p))
        elif once(path):
            yield path


@contextmanager
def atomic_output(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8",
                  newline: str | None = None, errors: str = "backslashreplace") -> Iterator:
    """Write to a temporary file beside ``path``, fsync, then rename over it.

    A crash leaves either the old file or the complete new one, never half of
    one; the temporary file is removed if writing fails.  Text that cannot be
    encoded (a file name that is not UTF-8) is written escaped, not refused.
    A URL (edi837.locations) is uploaded whole once written.  A target that exists
    and is not a regular file (/dev/null, a FIFO, a terminal) is written to
    directly: renaming over it would replace the device with a plain file.
    """
    kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": newline,
                                                     "errors": errors}
    if is_url(path) and local_path(path) is None:  # an object store's put is whole
        with whole_object(path, mode, **kwargs) as handle:
            yield handle
        return
    path = Path(local_path(path) or path)
    if path.exists() and not path.is_file() and not path.is_dir():
        with open(path, mode, **kwargs) as handle:
            yield handle
        return
    make_parent(path)
    # the name cut so that ".NAME.xxxxxxxxxxxx.tmp" fits in 255 bytes
    stem = os.fsencode(path.name)[:200].decode("utf-8", "ignore")
    fd, tmp = new_private_file(path.parent, f".{stem}.", ".tmp")
    # made private (0600); outputs get the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def new_private_file(folder: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file of a name no other process has (O_EXCL), mode 0600, open for writing:
    tempfile.mkstemp's job, without importing tempfile (shutil, bz2, lzma, random) into
    every run that writes a report."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def make_parent(path: Path) -> None:
    """Create ``path``'s folder; when a file stands where a folder must be
    (``-o report.edi/r.json``), say that, not mkdir's "File exists"."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file where a folder must be
        blocker = next((p for p in path.parents if os.path.lexists(p)), path.parent)
        raise NotADirectoryError(errno.ENOTDIR, f"{blocker} is a file, not a folder",
                                 str(path)) from None


class HashingReader:
    """Wrap a binary file so what is read through it is hashed (input file hashes)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.digest: _Digest = hashlib.sha256()
        self.size = 0

    def unhashed(self, said: str) -> None:
        """Hash nothing from here on; :meth:`finish` says ``said`` (a piece of a file the
        driver hashed whole: its own hash would be of no use)."""
        self.digest = _Unhashed(said)

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def finish(self) -> str:
        """Read what is left (for the hash) and return the hex digest."""
        while self.read(1 << 20):
            pass
        return self.digest.hexdigest()


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class _Unhashed:
    """The digest of a :class:`HashingReader` that hashes nothing."""

    def __init__(self, said: str) -> None:
        self.said = said

    def update(self, data: bytes) -> None:
        pass

    def hexdigest(self) -> str:
        return self.said
