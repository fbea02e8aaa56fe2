"""Where a file lives: a local path, or a URL that fsspec reads (issue 26).

Inputs, outputs and the batch inbox may be given as ``s3://``, ``gs://``,
``abfs://`` or ``file://`` URLs; everything else is a local path.  fsspec and the
object store's driver (s3fs, gcsfs, adlfs) are optional extras, loaded only when a
URL is given.  Every module that opens an input by location goes through
:func:`open_input`, so a Dask worker reads the bytes itself from wherever they are.
"""
from __future__ import annotations

import re
from typing import BinaryIO

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


class LocationError(Exception):
    """A URL that cannot be used (no driver installed, unknown scheme): exit status 2."""


def is_url(location: object) -> bool:
    """Whether ``location`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(location, str) and bool(_URL.match(location))


def scheme(location: str) -> str:
    return location.split("://", 1)[0].lower()


def filesystem(location: str):
    """The fsspec filesystem for a URL and the path within it; LocationError when
    fsspec or the scheme's driver is not installed."""
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
    return fs.open(path, "rb")
