"""The arguments the command line and the Python API (edi837.api) share, checked in
one place: the input paths, rule codes, the drug table with its reference data and
the configuration.  A problem is an exception of one family (:class:`Edi837Error`);
the API raises it, the commands (edi837.cli.support) turn it into a message on
stderr and exit status 2.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .findings import ERROR, Finding

PathArg = str | Path | Iterable[str | Path]
Codes = str | Iterable[str] | None

UNREADABLE_RULES = ("EDI001", "EDI002", "EDI005", "EDI008")


class Edi837Error(Exception):
    """Anything edi837's Python API refuses or cannot read (never an internal traceback)."""


class OptionsError(Edi837Error, ValueError):
    """An argument cannot be used (drug table, configuration, codes, history, format);
    ``lines``: each problem on its own (a drug table can have several)."""

    def __init__(self, message: str, lines: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.lines = tuple(lines) or (message,)


class StoreLostError(Edi837Error):
    """The history store's server went away during the run (PostgreSQL stopped or
    restarted, the network cut): the server rolled the run back, nothing of it was
    stored (the message says when that is not known: lost while committing); run
    again once the server is back."""


class InputError(Edi837Error):
    """An input cannot be read as 837 claims: ``path`` names the file, ``segment_index``
    the segment where reading stopped (None: the file as a whole), ``rule`` the
    reader's code (EDI001 cannot read the file, EDI002 not X12, ...)."""

    def __init__(self, message: str, path: str | None = None,
                 segment_index: int | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.path, self.segment_index, self.rule = path, segment_index, rule

    @classmethod
    def from_findings(cls, path: str, findings: Iterable[Finding]) -> "InputError":
        stop = next((f for f in findings if f.rule in UNREADABLE_RULES
                     and f.severity == ERROR), None)
        if stop is None:
            return cls(f"{path}: cannot be read as 837 claims", path)
        where = f":{stop.segment_index}" if stop.segment_index else ""
        return cls(f"{path}{where}: {stop.rule} {stop.message}", path, stop.segment_index,
                   stop.rule)


def path_arg(value, name: str) -> str:
    """One path argument as a string: a str, a path-like or bytes (decoded as
    os.fsdecode does); OptionsError naming ``name`` for another type and for an
    empty path ("" from an unset variable must not mean the current folder)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        try:
            text = os.fsdecode(value)
        except TypeError:  # a path-like whose __fspath__ gives neither str nor bytes
            text = None
        if text == "":
            raise OptionsError(f"{name}: an empty path (an unset variable?); give a file "
                               "or folder (\".\" for the current folder)")
        if text is not None:
            return text
    raise OptionsError(f"{name}: a path (str, bytes or os.PathLike) is expected, not "
                       f"{type(value).__name__} {value!r:.60}")


def path_list(value, name: str) -> list[str]:
    """A list of paths: one path (str, bytes, path-like: never iterated as
    characters) or an iterable of them; OptionsError as :func:`path_arg`."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return [path_arg(value, name)]
    try:
        items = list(value)
    except TypeError:
        raise OptionsError(f"{name}: a path or a list of paths is expected, not "
                           f"{type(value).__name__} {value!r:.60}") from None
    return [path_arg(item, name) for item in items]


def input_paths(paths: PathArg) -> list[Path | str]:
    """The files under ``paths`` (edi837.files.discover); InputError when there are none:
    a nightly job pointed at the wrong folder must not look clean."""
    from .files import discover

    given = path_list(paths, "paths")
    try:
        found = list(discover(given))
    except OSError as exc:  # a URL (edi837.locations): no driver, store unreachable, no access
        raise InputError(str(exc.strerror and f"{exc.filename}: {exc.strerror}" or exc)) from None
    if not found:
        raise InputError(f"no 837 files found in {', '.join(str(p) for p in given) or '[]'} "
                         "(folders skip hidden, partial and report files)")
    return found


def rule_codes(value: Codes, option: str) -> tuple[str, ...]:
    """Comma- or space-separated rule codes and prefixes (or a list of them); OptionsError
    naming ``option`` and the close matches when one matches no rule (a typo must not
    make a run look clean)."""
    from .config import ConfigError, check_codes

    if value is None or (isinstance(value, (str, list, tuple)) and not value):
        return ()
    if isinstance(value, str):
        items = value.replace(" ", ",").split(",")
    else:
        try:
            items = list(value)
        except TypeError:
            items = [value]  # type: ignore[list-item]  # (5: refused just below)
        if isinstance(value, (bytes, dict)) or not all(isinstance(i, str) for i in items):
            raise OptionsError(f"{option}: rule codes are expected, as a string (\"NDC,MOD001\") "
                               f"or a list of strings, not {value!r:.60}")
    codes = tuple(code.strip().upper() for code in items if code.strip())
    try:
        check_codes(codes, option)
    except ConfigError as exc:
        raise OptionsError(str(exc)) from None
    return codes


def drug_table(drug_tables: Iterable[str | Path], refdata: str | Path | None = None, *,
               hint: str = ""):
    """The drug table with the extra ``drug_tables`` and the imported reference data of
    ``refdata`` (else of $EDI837_REFDATA, else of the per-user folder when it has any)
    laid over it; ``hint`` ends the message of a reference folder that cannot be read."""
    from .drugs import DrugTableError, load_drug_table
    from .refdata import RefDataError, reference_for

    extra = path_list(drug_tables, "drug table")
    for path in extra:
        if Path(path).is_dir():
            raise OptionsError(f"drug table {path}: a folder, not a file; give the TOML "
                               "file(s) in it")
        if not Path(path).is_file():
            raise OptionsError(f"drug table {path}: no such file")
    if refdata is not None:
        refdata = path_arg(refdata, "refdata")
    try:
        return load_drug_table(extra, refdata=reference_for(
            Path(refdata) if refdata is not None else None))
    except (DrugTableError, RefDataError) as exc:
        lines = exc.lines if isinstance(exc, DrugTableError) else (str(exc),)
        raise OptionsError("; ".join(lines), lines) from None
    except OSError as exc:  # a reference data folder this user cannot read, say
        package = Path(__file__).resolve().parent  # not from edi837.entry: a layer above
        if exc.filename and Path(str(exc.filename)).resolve().is_relative_to(package):
            raise  # a file of the package itself: a broken install (edi837.entry says so)
        raise OptionsError(f"cannot read {exc.filename or 'the reference data'}: "
                           f"{exc.strerror or exc}{hint}") from None


def configuration(config: str | Path | None | bool, select: Codes = None, ignore: Codes = None,
                  table=None, *, names: tuple[str, str] = ("select", "ignore")):
    """The configuration; given the drug ``table``, a profile's schedule for a code the
    table does not have (a typo: J2530) is refused too: it would never apply."""
    from .config import Config, ConfigError, check_schedule_codes, load_config

    selected, ignored = rule_codes(select, names[0]), rule_codes(ignore, names[1])
    try:
        # None: ./edi837.toml when there is one (as the command line); False: none
        loaded = Config() if config is False else load_config(
            None if config is None else path_arg(config, "config"))
        if table is not None:
            check_schedule_codes(loaded, table.drugs)
    except ConfigError as exc:
        raise OptionsError(str(exc)) from None
    return loaded.with_selection(selected, ignored)


def history_days(value) -> int | None:
    """``history_days`` as `--history-days` takes it: None or an int >= 0 (a bool is
    refused: True is no number of days)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionsError(f"history_days: a whole number of days (0 or more) is expected, "
                           f"not {value!r:.60}")
    if value < 0:
        raise OptionsError(f"history_days: {value} is negative; give 0 or more (0 keeps "
                           "every line)")
    return value
