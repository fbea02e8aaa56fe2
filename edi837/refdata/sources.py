"""The files an import reads, streamed: a file given, or each member of a ZIP.

Nothing is read whole.  A source is read twice, in chunks: once to check it
(:func:`decode`: its SHA-256, whether it is UTF-8, the head that recognition
looks at, and for a ZIP member the caps below) and once to read its rows
(:meth:`SourceText.lines` / :meth:`SourceText.stream`), so memory stays flat
whatever a member inflates to.

A ZIP member is refused, naming it, when it is larger uncompressed than
``Caps.member_bytes`` (default 2 GiB) or inflates more than ``Caps.ratio``
times its compressed size (default 100: CMS's CSVs deflate about 5 to 10
times; a ZIP bomb thousands).  Both are counted on the bytes as they come,
not taken from the ZIP's headers.  ``refdata import --max-member-size`` and
``--max-ratio`` change them.

Names are kept as :func:`edi837.safetext.shown` makes them (control
characters, bidirectional overrides and undecodable bytes escaped): what
messages print, the store keeps and reports show is that text.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from ..safetext import shown
from .tabular import NotRecognised, RefDataError

CHUNK = 1 << 20
HEAD_BYTES = 1 << 16  # what recognition looks at: the header is within the first rows
MAX_MEMBER_BYTES = 2 << 30
MAX_RATIO = 100
NOT_TABLES = (".pdf", ".xlsx", ".xls", ".doc", ".docx", ".xlsm")  # copies or notes CMS adds


@dataclass(frozen=True)
class Caps:
    """How far a ZIP member may inflate: bytes uncompressed, and times its compressed size."""

    member_bytes: int = MAX_MEMBER_BYTES
    ratio: float = MAX_RATIO


DEFAULT_CAPS = Caps()  # frozen: one shared default for every caller


class Source:
    """One file to import: a file given on the command line, or one member of a ZIP."""

    def __init__(self, name: str, content: bytes | Callable[[], BinaryIO],
                 names: tuple[str, ...],
                 check: Callable[[int], str | None] = lambda size: None) -> None:
        """``content``: how to open it (read twice, in chunks), or bytes already read."""
        self.name = name  # how messages name it: "q2.zip!crosswalk.csv" (escaped)
        self.names = names  # file names to look for an effective date in: member, then file
        self._opener = (lambda: io.BytesIO(content)) if isinstance(content, bytes) else content
        self._check = check  # bytes read so far -> why to stop, or None
        self._text: SourceText | None = None

    def open(self) -> BinaryIO:
        return self._opener()

    @property
    def sha256(self) -> str:
        return decode(self).sha256

    @property
    def data(self) -> bytes:
        """The whole content (for small files and tests only: importing streams)."""
        with self.open() as stream:
            return stream.read()


@dataclass(frozen=True)
class Skipped:
    """A ZIP member that is not a table (a PDF note, the Excel copy of a CSV)."""

    name: str
    reason: str


class SourceText:
    """A source's text, decoded as it is read: ``head`` for recognising it, ``lines()``
    or ``stream()`` for its rows."""

    def __init__(self, source: Source, encoding: str, sha256: str, head: str) -> None:
        self.source, self.encoding, self.sha256, self.head = source, encoding, sha256, head

    def stream(self) -> TextIO:
        """The text from the start, newlines as written (for csv)."""
        return io.TextIOWrapper(self.source.open(), encoding=self.encoding, errors="replace",
                                newline="")

    def lines(self) -> Iterator[str]:
        """Each line without its line break (CR LF, LF or CR)."""
        with io.TextIOWrapper(self.source.open(), encoding=self.encoding, errors="replace",
                              newline=None) as text:
            for line in text:
                yield line.rstrip("\n")

    splitlines = lines  # what the importers did with a whole text


def sources(path: Path, caps: Caps = Caps()) -> Iterator[Source | Skipped]:
    """The file itself, or each member of a ZIP (recognised by its content, not its name)."""
    name = shown(str(path))
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except IsADirectoryError:
        raise RefDataError(name, "is a folder; give the files in it") from None
    except OSError as error:
        raise RefDataError(name, f"cannot read: {error.strerror or error}") from None
    if magic != b"PK\x03\x04":
        yield Source(name, lambda: open(path, "rb"), (path.name,))
        return
    try:
        archive = zipfile.ZipFile(path)
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise RefDataError(name, f"not a readable ZIP: {error}") from None
    with archive:
        for info in members:
            base = info.filename.rsplit("/", 1)[-1]
            member = f"{name}!{shown(info.filename)}"
            if base.startswith((".", "__MACOSX")) or "__MACOSX/" in info.filename:
                continue  # macOS resource forks and hidden files
            if base.lower().endswith(NOT_TABLES):
                yield Skipped(member, "not a text table (CMS adds Excel copies and PDF notes; "
                                      "the CSV or text copy is read)")
                continue
            check = _member_check(info, caps)
            refused = check(info.file_size)  # what its header says, before reading any
            if refused:
                raise RefDataError(member, refused)
            yield Source(member, _member_opener(archive, info, member), (base, path.name),
                         check)


def _member_check(info: zipfile.ZipInfo, caps: Caps) -> Callable[[int], str | None]:
    compressed = max(info.compress_size, 1)

    def check(size: int) -> str | None:
        if size > caps.member_bytes:
            return (f"more than {caps.member_bytes:,} bytes uncompressed: too large for a CMS "
                    "reference table (--max-member-size)")
        if size > 1 << 20 and size > caps.ratio * compressed:
            return (f"inflates more than {caps.ratio:g} times its {info.compress_size:,} "
                    "compressed bytes: a ZIP bomb, not a CMS table (--max-ratio)")
        return None
    return check


def _member_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo, member: str):
    def opener() -> BinaryIO:
        try:
            return archive.open(info)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError,
                RuntimeError, zlib.error) as error:  # (RuntimeError: encrypted)
            raise RefDataError(member, f"cannot be read from the ZIP: {error}") from None
    return opener


def decode(source: Source) -> SourceText:
    """Read the source once, in chunks: its SHA-256, the caps, and its encoding (UTF-8,
    with or without BOM, else Windows-1252, as CMS writes); the first HEAD_BYTES kept."""
    if source._text is not None:
        return source._text
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    head = b""
    size = 0
    try:
        with source.open() as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                refused = source._check(size)
                if refused:
                    raise RefDataError(source.name, refused)
                digest.update(chunk)
                if len(head) < HEAD_BYTES:
                    head += chunk[:HEAD_BYTES - len(head)]
                    if b"\x00" in head:
                        raise NotRecognised(source.name, "is binary, not a text table (an "
                                                         "Excel file? export it as CSV, or "
                                                         "import the CSV copy CMS ships)")
                if is_utf8:
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        is_utf8 = False
            if is_utf8:
                utf8.decode(b"", final=True)
    except UnicodeDecodeError:
        is_utf8 = False
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error) as error:  # (zlib.error: corrupt deflate data)
        if isinstance(error, RefDataError):
            raise
        raise RefDataError(source.name, f"cannot be read: {error}") from None
    encoding = "utf-8-sig" if is_utf8 else "cp1252"
    text = head.decode(encoding, errors="ignore" if is_utf8 else "replace")
    source._text = SourceText(source, encoding, digest.hexdigest(), text)
    return source._text
