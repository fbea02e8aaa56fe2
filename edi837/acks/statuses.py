"""Which claim status a 277CA gives a rule's finding: the table in ``status-codes.toml``.

A claim held by a finding is rejected in the 277CA with STC01 =
category:status[:entity] taken from the finding's rule; an accepted claim gets
the table's ``accepted`` status (A1:20), the transaction and each billing
provider its ``receipt`` status (A1:19:AY).  The codes are data, like the drug
facts: each row names its source, and the table has a version that `edi837
rules CODE` prints with the row.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .. import DataFileError

TABLE_FILE = "status-codes.toml"
IG_FAMILIES = ("IGH", "IGS", "IGE")  # pyx12's findings: IGS8, IGE7 ... find their family


class StatusTableError(DataFileError):
    """The status table cannot be read or is inconsistent; the message says where."""


@dataclass(slots=True, frozen=True)
class Status:
    """One STC01 composite (and an optional second status code for STC10)."""

    category: str  # STC01-1, code source 507
    code: str  # STC01-2, code source 508
    entity: str = ""  # STC01-3, entity identifier code
    also: str = ""  # a second 508 code of the same category
    source: str = ""

    def composite(self, separator: str = ":") -> str:
        parts = [self.category, self.code] + ([self.entity] if self.entity else [])
        return separator.join(parts)

    def second(self, separator: str = ":") -> str:
        """STC10: the second status code, or ""."""
        return f"{self.category}{separator}{self.also}" if self.also else ""


@dataclass(slots=True, frozen=True)
class StatusTable:
    version: str
    rules: dict  # rule code or IG family -> Status
    never: dict  # rule code -> why it never rejects a claim
    accepted: Status
    receipt: Status
    default: Status
    categories: dict  # code -> meaning
    statuses: dict
    entities: dict

    def for_rule(self, code: str) -> Status:
        """The rejection status for a finding of rule ``code`` (the default when none)."""
        found = self.rules.get(code)
        if found is None and code[:3] in IG_FAMILIES:
            found = self.rules.get(code[:3])
        return found or self.default

    def explain(self, status: Status) -> str:
        """'A6:218 (rejected for missing information: NDC number)'."""
        words = [self.categories.get(status.category, "?"), self.statuses.get(status.code, "?")]
        if status.entity:
            words.append(f"entity {self.entities.get(status.entity, '?')}")
        if status.also:
            words.append(f"with {status.also}: {self.statuses.get(status.also, '?')}")
        second = f", STC10 {status.second()}" if status.also else ""
        return f"{status.composite()}{second} ({'; '.join(words)})"

    def describe(self, code: str) -> str:
        """What `edi837 rules CODE` prints about the 277CA for a rule."""
        code = code.upper()
        head = f"277CA (claim acknowledgment, status table {self.version}):"
        if code in self.never:
            return f"{head} never rejects a claim on its own: {self.never[code]}."
        status = self.for_rule(code)
        return (f"{head} a claim this rule holds is rejected with STC {self.explain(status)}.\n"
                f"  source: {status.source}")


def _status(data: object, where: str) -> Status:
    if not isinstance(data, dict):
        raise StatusTableError(f"{TABLE_FILE}: {where}: expected a table")
    unknown = set(data) - {"category", "status", "entity", "also", "source"}
    if unknown:
        raise StatusTableError(f"{TABLE_FILE}: {where}: unknown key(s) "
                               f"{', '.join(sorted(unknown))}")
    try:
        status = Status(str(data["category"]), str(data["status"]), str(data.get("entity", "")),
                        str(data.get("also", "")), str(data["source"]))
    except KeyError as exc:
        raise StatusTableError(f"{TABLE_FILE}: {where}: {exc.args[0]} is missing") from None
    if not status.source.strip():
        raise StatusTableError(f"{TABLE_FILE}: {where}: every row needs its source")
    return status


def parse_table(data: dict) -> StatusTable:
    """A StatusTable from the TOML's data; StatusTableError names what is wrong."""
    try:
        meanings = {name: {str(k): str(v) for k, v in data[name].items()}
                    for name in ("categories", "statuses", "entities")}
        rows = {str(code).upper(): _status(row, f"rules.{code}")
                for code, row in data["rules"].items()}
        table = StatusTable(str(data["version"]), rows,
                            {str(k).upper(): str(v) for k, v in data.get("never", {}).items()},
                            _status(data["accepted"], "accepted"),
                            _status(data["receipt"], "receipt"),
                            _status(data["default"], "default"), **meanings)
    except (KeyError, AttributeError) as exc:
        raise StatusTableError(f"{TABLE_FILE}: missing or malformed table {exc}") from None
    for where, status in [("accepted", table.accepted), ("receipt", table.receipt),
                          ("default", table.default), *table.rules.items()]:
        for kind, code in (("categories", status.category), ("statuses", status.code),
                           ("statuses", status.also), ("entities", status.entity)):
            if code and code not in meanings[kind]:
                raise StatusTableError(f"{TABLE_FILE}: {where}: {code} is not in [{kind}]: "
                                       "give its meaning there")
    if table.accepted.category == "A2":
        raise StatusTableError(f"{TABLE_FILE}: accepted: A2 is a payer's to say")
    return table


@lru_cache(maxsize=1)
def status_table() -> StatusTable:
    """The shipped table (read once per process)."""
    place = resources.files(__package__).joinpath(TABLE_FILE)
    try:
        data = tomllib.loads(place.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StatusTableError(f"{place}: {exc}") from None
    return parse_table(data)
