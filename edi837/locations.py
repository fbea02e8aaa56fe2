"""Where a file lives: a local path, or a URL that fsspec reads (issue 26).

Inputs, outputs and the batch inbox may be given as ``s3://``, ``gs://``,
``abfs://`` or ``file://`` URLs; everything else is a local path.  fsspec and the
object store's driver (s3fs, gcsfs, adlfs) are optional extras, loaded only when a
URL is given.  Every module that opens an input by location goes through
:func:`open_input`, so a Dask worker reads the bytes itself from wherever they are.
"""
from __future__ import annotations

import errno
import os
import re
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import BinaryIO, Iterator, TypeGuard
from urllib.parse import urlsplit

# scheme://... with a scheme of two letters or more (a Windows drive "C:\" is a path)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")

INSTALL_HINTS = {
    "s3": "pip install 'edi837[s3]'",
    "s3a": "pip install 'edi837[s3]'",
    "gs": "pip install gcsfs",
    "gcs": "pip install gcsfs",
    "abfs": "pip install adlfs",
    "az": "pip install adlfs",
}


class LocationError(OSError):
    """A URL that cannot be used (no driver installed, unknown scheme, the store cannot
    be reached or listed): exit status 2.  An OSError, so every caller that reports an
    unreadable input or an unwritable output by name reports this one too."""


def is_url(location: object) -> TypeGuard[str]:
    """Whether ``location`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(location, str) and bool(_URL.match(location))


def scheme(location: str) -> str:
    return location.split("://", 1)[0].lower()


def filesystem(location: str):
    """The fsspec filesystem for a URL and the path within it; LocationError when
    fsspec or the scheme's driver is not installed, or the URL holds a password (it
    would be shown in reports and logs: credentials come from the environment)."""
    if urlsplit(location).password is not None:
        raise LocationError(f"{urlsplit(location).hostname or location}: a URL must not "
                            "hold credentials (they would appear in reports and logs); "
                            "give them as the store's usual environment variables or "
                            "config files")
    try:
        import fsspec
    except ImportError:
        raise LocationError(f"{location}: reading URLs needs fsspec: "
                            f"{INSTALL_HINTS.get(scheme(location), 'pip install fsspec')}"
                            ) from None
    try:
        fs, path = fsspec.core.url_to_fs(location)
    except (ImportError, ValueError) as exc:
        hint = INSTALL_HINTS.get(scheme(location))
        raise LocationError(f"{location}: cannot use this URL ({exc})"
                            + (f": {hint}" if hint else "")) from None
    return fs, path


def open_input(location) -> BinaryIO:
    """The input's bytes, from a path or a URL (read-only; never modified)."""
    if not is_url(location):
        return open(location, "rb")
    fs, path = filesystem(location)
    try:
        return _Reading(fs.open(path, "rb"), location)
    except Exception as exc:  # any driver's failure, named
        raise _failure(location, exc) from None


class _Reading:
    """An object being read: a failure of the store while reading (a connection
    lost) is an OSError naming the URL, as for a file, not the driver's own type."""

    def __init__(self, raw, location: str) -> None:
        self.raw, self.location = raw, location

    def read(self, n: int = -1) -> bytes:
        try:
            return self.raw.read(n)
        except Exception as exc:  # any driver's failure, named
            raise _failure(self.location, exc) from None

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "_Reading":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        return getattr(self.raw, name)


class _Unreadable(LocationError):
    pass


def local_path(location: object) -> str | None:
    """The local path a ``file://`` URL names (handled as a path everywhere), else None."""
    if is_url(location) and scheme(location) == "file":
        return location.split("://", 1)[1] or "/"
    return None


def _failure(location: str, exc: BaseException) -> OSError:
    """A driver's failure as an OSError naming the URL (s3fs turns most of S3's errors
    into OSErrors already; botocore's credential errors are not)."""
    if isinstance(exc, LocationError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return FileNotFoundError(errno.ENOENT, "no such object", location)
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        return type(exc)(exc.errno or errno.EIO, what, location)
    return _Unreadable(errno.EIO, f"{type(exc).__name__}: {exc}", location)


def discover(location: str, is_candidate) -> list[str]:
    """The URLs below ``location``: the object itself when it names one, else every
    object under it as a prefix ("folder") whose name ``is_candidate`` accepts and no
    part of whose path below the prefix is hidden, sorted.  Nothing there: [] for a
    prefix ending in "/" (a typo'd folder), else the URL itself (a missing object,
    which its reader reports).  LocationError when the store cannot be listed."""
    fs, path = filesystem(location)
    try:
        fs.invalidate_cache()  # a listing is always fresh (the batch polls)
        if fs.isfile(path):
            return [location]
        base = path.rstrip("/")
        found = []
        for key, info in fs.find(base, detail=True, withdirs=False).items():
            relative = key[len(base):].lstrip("/")
            parts = relative.split("/")
            if (info.get("type") != "file" or not relative
                    or any(part.startswith(".") for part in parts[:-1])
                    or not is_candidate(PurePosixPath(parts[-1]))):
                continue
            found.append(location.rstrip("/") + "/" + relative)
    except FileNotFoundError:
        found = []
    except Exception as exc:  # any driver's failure, named, exit 2
        raise _failure(location, exc) from None
    if not found:  # a bucket that does not exist is said so, not "no files found"
        bucket = missing_bucket(location)
        if bucket is not None:
            raise LocationError(errno.ENOENT, f"the bucket {bucket} does not exist", location)
    if not found and not location.endswith("/"):
        # named as an object (no slash at its end) and none there: the reader says it
        # cannot be read, by its URL, as for a missing file named directly
        return [location]
    return sorted(found)


def missing_bucket(location: str) -> str | None:
    """The bucket (the URL's first name) when the store says it does not exist; None
    when it does, or the store cannot tell (the run then says what fails)."""
    try:
        fs, path = filesystem(location)
        bucket = path.strip("/").split("/", 1)[0]
        if not bucket or scheme(location) == "file":
            return None
        fs.invalidate_cache()
        return None if fs.exists(bucket) else bucket
    except Exception:  # no driver, no access, no network: said where it fails
        return None


def size_of(location: str) -> int | None:
    """An object's size in bytes, or None when it cannot be asked."""
    try:
        fs, path = filesystem(location)
        return int(fs.size(path))
    except Exception:  # a progress figure only
        return None


@contextmanager
def whole_object(location: str, mode: str = "w", **text) -> Iterator:
    """Write an object whole: into a local temporary file first, then one upload
    (a single PUT, or a multipart upload that is completed only at its end and
    aborted on failure), so a failed write leaves the old object or none, never
    half of one.  Exceptions of the driver come out as OSError naming the URL."""
    import tempfile  # only for an object store's output

    fs, path = filesystem(location)
    fd, tmp = tempfile.mkstemp(prefix=".edi837-upload.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else text)) as handle:
            yield handle
        try:
            fs.put_file(tmp, path)
        except Exception as exc:  # any driver's failure, named, exit 2
            raise _failure(location, exc) from None
    finally:
        os.unlink(tmp)


class Url(str):
    """A URL that joins like a Path (``archive / run_id / name``) so the batch's code
    paths build object names as they build file names; never a local folder."""

    def __truediv__(self, other) -> "Url":
        return Url(self.rstrip("/") + "/" + str(other).lstrip("/"))

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent(self) -> "Url":
        return Url(self.rstrip("/").rsplit("/", 1)[0])

    def is_dir(self) -> bool:  # not a local folder (recovery's temporary-file sweeps)
        return False

    def exists(self) -> bool:
        return False


def is_below(location: str, prefix: str) -> bool:
    """Whether URL ``location`` is ``prefix`` or an object or prefix below it."""
    inner, outer = location.rstrip("/"), prefix.rstrip("/")
    return inner == outer or inner.startswith(outer + "/")
