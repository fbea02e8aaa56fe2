"""An inbox, archive and quarantine in an object store (issue 26): the URL half of
``inbox`` and ``archive``.

Objects have no descriptors, inodes or renames.  An object's *identity* is
``(0, a number from its ETag, size, LastModified in ns)``: a new upload of the same
name changes it (S3 replaces an object whole and stamps each upload), so "the same
identity before and after reading" means "these bytes are that upload's".

Entries, settling and markers are as for a folder: the same names are skipped
(hidden names and hidden "folders", partial, reason and marker names), an object
is taken once its size, ETag and mtime have been stable for ``--settle`` seconds
(or its marker object exists).  Workers read the object themselves by its URL.

Moving is a copy, then a delete:

- the copy is server-side and, on S3, conditional on the ETag of the version that
  was checked (``CopySourceIfMatch``): no other bytes reach the archive;
- the source is deleted only while it is still that version (a re-sent upload of
  the same name is left for the next run);
- a run killed between the two leaves its ledger row ``reported`` with source and
  destination: that is the move's intent.  The next start's recovery finds the
  destination holding the checked bytes (their SHA-256) and deletes the source if
  it still holds them too; a destination with other bytes is never overwritten.

Limits: between the check of the source's version and its delete there is a window
(a request's time) in which a sender's new upload of the same name would be deleted;
stores other than S3 get no conditional copy (the version is checked just before).
"""
from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass
from datetime import datetime

from ..files import PARTIAL_SUFFIXES
from ..locations import LocationError, Url, filesystem, scheme
from . import durable

CHUNK_SIZE = 1 << 20
REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class ObjectStat:
    """What ``os.lstat`` says of a file, for an object (see the module docstring)."""

    st_size: int
    st_mtime: float
    st_ino: int
    tag: str  # the ETag (or what the store has instead)
    st_dev: int = 0
    st_mode: int = stat.S_IFREG | 0o444

    @property
    def st_mtime_ns(self) -> int:
        return int(round(self.st_mtime * 1e9))


def _mtime(info: dict) -> float:
    for key in ("LastModified", "mtime", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


def stat_of(info: dict) -> ObjectStat:
    size, mtime = int(info.get("size") or 0), _mtime(info)
    tag = str(info.get("ETag") or info.get("etag") or info.get("md5Hash")
              or f"{size}:{mtime}").strip('"')
    number = int(hashlib.sha256(tag.encode()).hexdigest()[:15], 16)
    return ObjectStat(size, mtime, number, tag)


def entries(root: str, marker: str | None) -> list[tuple[str, Url, ObjectStat]]:
    """(name relative to the inbox, URL, stat) of every object that may be an input,
    sorted by name (the names ``inbox.select_inputs`` skips are skipped)."""
    fs, path = filesystem(root)
    base = path.rstrip("/")
    fs.invalidate_cache()  # every scan lists afresh: settling compares two scans
    try:
        found = fs.find(base, detail=True, withdirs=False)
    except FileNotFoundError:
        return []
    listed = []
    for key, info in found.items():
        name = key[len(base):].lstrip("/")
        if info.get("type") != "file" or not name or name.endswith("/"):
            continue
        if any(part.startswith(".") for part in name.split("/")):
            continue
        if (name.endswith(PARTIAL_SUFFIXES) or name.endswith(REASON_SUFFIX)
                or (marker and name.endswith(marker))):
            continue
        listed.append((name, Url(root.rstrip("/")) / name, stat_of(info)))
    listed.sort(key=lambda entry: entry[0])
    return listed


def stat(url: str) -> ObjectStat:
    """The object's stat, asked afresh; FileNotFoundError when there is none."""
    fs, path = filesystem(url)
    fs.invalidate_cache(path)
    info = fs.info(path)
    if info.get("type") != "file":
        raise FileNotFoundError(2, "not an object", url)
    return stat_of(info)


def is_object(url: str) -> bool | None:
    """True when ``url`` is an object (a marker), None when there is none."""
    try:
        stat(url)
    except FileNotFoundError:
        return None
    return True


def hash_object(url: str, *, max_size: int, stop=None) -> str:
    """SHA-256 of the object's bytes; NotAnInput past ``max_size``, Stopped on ``stop``."""
    from .inbox import hash_chunks

    fs, path = filesystem(url)
    with fs.open(path, "rb", block_size=CHUNK_SIZE * 8, cache_type="none") as stream:
        return hash_chunks(lambda: stream.read(CHUNK_SIZE), max_size=max_size, stop=stop)


def identity_of(st: ObjectStat) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def open_candidate(url: str, seen, *, max_size: int, stop=None):
    """Hash the object the scan saw as ``seen`` (``inbox.open_candidate`` for a URL)."""
    from .inbox import Changed, Opened

    st = stat(url)
    if identity_of(st) != tuple(seen):
        raise Changed("changed since the scan")
    sha = hash_object(url, max_size=max_size, stop=stop)
    if identity_of(stat(url)) != tuple(seen):
        raise Changed("replaced while being hashed")
    return Opened(-1, tuple(seen), sha)


def same_object(url: str, expected) -> bool:
    try:
        return identity_of(stat(url)) == tuple(expected)
    except FileNotFoundError:
        return False


def _checked_version(url: str, row: dict, opened) -> ObjectStat | None:
    """The object's stat when it holds the checked bytes, else None (gone, changed).
    With ``opened`` (this run took it) its identity tells; in recovery, its hash."""
    from .inbox import NotAnInput

    try:
        st = stat(url)
        if opened is not None:
            return st if identity_of(st) == tuple(opened.identity) else None
        if hash_object(url, max_size=row["size"]) != row["sha256"]:
            return None
    except (FileNotFoundError, NotAnInput):
        return None
    return st if identity_of(stat(url)) == identity_of(st) else None


def _sha256_of(url: str, size: int) -> str | None:
    from .inbox import NotAnInput

    try:
        return hash_object(url, max_size=size)
    except (FileNotFoundError, NotAnInput):
        return None


def move(row: dict, source: str, destination: str, opened, *, gone: str,
         changed: str) -> str | None:
    """Step 6 for an object: copy the checked bytes to ``destination``, then delete the
    source (see the module docstring); a problem (``gone``, ``changed``...), or None.
    Idempotent: a destination already holding the checked bytes is the copy of a run
    killed before its delete."""
    fs, source_key = filesystem(source)
    destination_key = filesystem(destination)[1]
    if is_object(destination):  # asked afresh, not from a listing cached earlier
        if _sha256_of(destination, row["size"]) != row["sha256"]:
            return f"{destination} already exists; input left in the inbox"
        _delete_if_checked(fs, source, source_key, row, opened)
        return None
    version = _checked_version(source, row, opened)
    if version is None:
        return gone if is_object(source) is None else changed
    condition = {"CopySourceIfMatch": f'"{version.tag}"'} if scheme(source) in (
        "s3", "s3a") else {}
    try:
        fs.cp_file(source_key, destination_key, **condition)
    except OSError:
        if is_object(source) is None:
            return gone
        if identity_of(stat(source)) != identity_of(version):
            return changed  # replaced meanwhile: the condition refused the new upload
        raise  # the store's failure: the row stays 'reported', the next start retries
    durable.checkpoint("copied")
    _delete_if_checked(fs, source, source_key, row, opened, version)
    return None


def _delete_if_checked(fs, source: str, key: str, row: dict, opened,
                       version: ObjectStat | None = None) -> None:
    """Delete the source while it is the version copied (``version``), or, without one,
    the checked version; else leave it (gone, or a new upload of the same name)."""
    if version is not None:
        try:
            if identity_of(stat(source)) != identity_of(version):
                return
        except FileNotFoundError:
            return
    elif _checked_version(source, row, opened) is None:
        return
    fs.rm_file(key)


def remove(url: str) -> bool:
    """Delete an object (a marker); False when there was none."""
    fs, key = filesystem(url)
    try:
        fs.rm_file(key)
    except FileNotFoundError:
        return False
    return True


def check_store_options(options, error) -> None:
    """Refuse, before anything is locked or moved, an object-store inbox that cannot
    work: no driver, a store that cannot be listed, an archive or quarantine that is
    not in an object store of the same kind or lies inside the inbox (its objects
    would be taken again), or steps whose tools read local files only."""
    from ..locations import is_below, is_url

    inbox = options.inbox
    if not is_url(inbox):
        raise error(f"--archive and --quarantine URLs need an inbox in the same object store "
                    f"(the inbox {inbox} is a folder)")
    try:
        fs, path = filesystem(inbox)
        fs.invalidate_cache()
        fs.info(path.split("/", 1)[0])  # the bucket: there, and these credentials reach it
    except FileNotFoundError:
        raise error(f"inbox {inbox}: no such bucket") from None
    except LocationError as exc:  # no driver installed
        raise error(str(exc)) from None
    except Exception as exc:  # any driver's failure (no credentials...)
        raise error(f"inbox {inbox}: {type(exc).__name__}: {exc}") from None
    for what, place in (("archive (--archive)", options.archive_dir),
                        ("quarantine (--quarantine)", options.quarantine_dir)):
        if not is_url(place):
            raise error(f"an inbox in an object store needs the {what} there too, not "
                        f"{place}: give a URL")
        if scheme(place) != scheme(inbox):
            raise error(f"the {what} {place} is not in the inbox's object store ({inbox})")
        if is_below(place, inbox):
            raise error(f"the {what} {place} is inside the inbox {inbox}; put it beside "
                        "the inbox")
    steps = [option for wanted, option in ((options.fix or options.split, "--fix/--split"),
                                           (options.validate, "--validate"),
                                           (options.ack277, "--ack277")) if wanted]
    if steps:
        raise error(f"{', '.join(steps)}: not available with an inbox in an object store "
                    "yet (their tools read local files)")
