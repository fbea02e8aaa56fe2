"""Configuration (`edi837.toml`): which rules run, how severe, for which payers.

No configuration is needed for sensible defaults.  A file looks like::

    select = ["NDC", "MOD", "UNT001"]   # codes or prefixes; default: all
    ignore = ["DOC003"]

    [severity]
    NDC007 = "error"          # hold claims whose NDC quantity disagrees with the units

    [defaults]
    jw_jz = true              # JW/JZ rules as each payer's policy says; false: off everywhere
    ndc_required = "table"    # NDC001 as each payer's policy says; "j-codes": where a policy
                              # asks for the NDC on table drugs, on every J-code; false: off
    mue_across_claims = true  # UNT004 MAI 2/3: a date's units summed over claims and history

    [[profiles]]              # a payer-id match wins over a filing-indicator match
    name = "nj-medicaid-mco"
    payer_ids = ["SYNMCD01"]
    filing_indicators = ["MC"]
    settings = ["837P", "837I:13x"]   # optional: only these settings (CLM05-1; a line's SV105)
    payer_class = "medicaid"  # optional: the payer class when SBR09 misstates it (CI/HM)
    jw_jz = true              # this payer enforces JW/JZ: a missing one is an error ...
    jw_jz_from = 2025-05-01   # ... from this date of service (default 2023-10-01)
    jw_denied = true          # this payer denies JW lines (MOD008) ...
    jw_denied_from = 2021-05-01  # ... from this date of service
    ndc_required = "j-codes"  # NDC required (error): "table" drugs, "j-codes", or false
    ignore = ["DOC003"]
    [profiles.schedules.J2350]   # HIS002 windows for this payer (drug table: 140 days)
    maintenance_min_days = 150

    [acknowledgments]          # who the 277CAs come from (all optional)
    name = "EXAMPLE CLEARINGHOUSE"   # 2100A NM103 (default: the 837's 1000B)
    id = "CH0001"                    # 2100A NM109, qualified by
    qualifier = "46"                 # 46 (ETIN), FI, PI or XV
    sender_id = "CH0001"             # ISA06/GS02 (default: the 837's ISA08/GS03)

Profiles match on the 2010BB payer id (NM109) or the SBR09 claim filing
indicator, and, with `settings`, only on claims of those settings; the more
specific match wins (payer id > filing indicator > settings only, then the
first in the file: edi837.profile_match).  A
profile's `ignore`/`select`/`severity` apply on top of the top-level ones for
the claims it matches; an 837P line given at another place of service (SV105)
than its claim's takes, for its line and history rules, the profile of its
place.  Its `jw_jz`, `ndc_required` and `jw_denied` are the
top layer of the claim's payer policy (edi837.policy): user profile > shipped
payer-id list > shipped payer class > the "other" policy.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Iterable

from .checklist import CHECKLIST, ITEMS
from .findings import SEVERITIES

DEFAULT_FILE = "edi837.toml"
NDC_REQUIRED = ("table", "j-codes")


def _close_matches(word: str, possibilities, **options) -> list[str]:
    """difflib's suggestions, imported only for a typo (it costs a clean start-up)."""
    import difflib

    return difflib.get_close_matches(word, possibilities, **options)


class ConfigError(Exception):
    pass


def _codes(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of rule codes or prefixes")
    return tuple(v.strip().upper() for v in value if v.strip())


def check_codes(entries: Iterable[str], where: str, *, exact: bool = False) -> None:
    """Raise ConfigError when an entry matches no rule: a typo in ``--ignore`` or
    ``select`` must not make a nightly run check nothing and look clean.

    An entry is a rule code or the prefix of one ("NDC", "MOD00"); IGH, IGS and IGE
    are families whose codes carry pyx12's number ("IGS8").  With ``exact`` (a
    severity table's keys) it must be a whole code.
    """
    from .rules import all_rules

    codes = set(all_rules())
    families = tuple(code for code in codes if not code[-1].isdigit())  # IGH, IGS, IGE

    def known(entry: str) -> bool:
        if any(entry.startswith(f) and entry[len(f):].isalnum() for f in families):
            return True
        return entry in codes if exact else any(code.startswith(entry) for code in codes)

    unknown = [entry for entry in entries if not known(entry)]
    if not unknown:
        return
    prefixes = {code.rstrip("0123456789") for code in codes} | {"IG"}
    problems = []
    for entry in unknown:
        close = _close_matches(entry, sorted(codes if exact else codes | prefixes),
                                          n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        what = "rule code" if exact else "rule code or prefix"
        problems.append(f"{where}: {entry!r} matches no {what}{hint}")
    raise ConfigError("; ".join(problems) + "; `edi837 rules` lists the codes")


def matches(code: str, patterns: tuple[str, ...]) -> bool:
    return any(code.startswith(p) for p in patterns)


@dataclass(slots=True, frozen=True)
class Profile:
    """A payer profile of the configuration (``[defaults]`` or a ``[[profiles]]`` entry):
    the claims it matches and what it changes for them."""

    name: str = "default"
    payer_ids: tuple[str, ...] = ()
    filing_indicators: tuple[str, ...] = ()
    # The payer-policy layer (edi837.policy): None leaves it to the shipped policy.
    jw_jz: bool | None = None  # True: enforces JW/JZ (error from jw_jz_from); False: off
    ndc_required: str | None = None  # "table"/"j-codes": error; "off": never; None: policy
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict = field(default_factory=dict)
    schedules: dict = field(default_factory=dict)  # HCPCS -> schedule fields to override
    mue_across_claims: bool = True  # UNT004 MAI 2/3: sum the date across claims and history
    settings: tuple[str, ...] = ()  # "837P", "837I:13" ...: only claims of these settings
    payer_class: str | None = None  # the payer class of the claims it matches
    jw_jz_from: dt.date | None = None  # with jw_jz: a missing JW/JZ is an error from here
    jw_denied: bool = False  # the payer denies JW lines (MOD008) ...
    jw_denied_from: dt.date | None = None  # ... from this date of service
    ndc_scope: str = "table"  # [defaults] ndc_required = "j-codes": table drugs -> J-codes

    def applies_to(self, payer_id: str, filing_indicator: str, setting: str | None = None
                   ) -> bool:
        """The profile's payer ids or filing indicators name the claim's (a profile with
        settings only matches every payer), and its settings (if any) the claim's
        setting; ``setting`` None: settings are not compared."""
        if self.payer_ids or self.filing_indicators:
            if (payer_id not in self.payer_ids and
                    (filing_indicator or "").strip().upper() not in self.filing_indicators):
                return False
        elif not self.settings:
            return False
        if setting is None or not self.settings:
            return True
        from .policy.model import setting_matches

        return setting_matches(self.settings, setting)


@dataclass(slots=True, frozen=True)
class Acknowledgments:
    """``[acknowledgments]``: who the 277CA claim acknowledgments come from.

    ``name``/``id``/``qualifier`` are the clearinghouse as information source
    (2100A NM103/NM109/NM108); empty name or id: the 837's receiver (1000B),
    which is the clearinghouse as the submitter addressed it.  ``sender_id`` and
    ``receiver_id`` replace the ISA06/GS02 and ISA08/GS03 that are otherwise
    the 837's, swapped.  ``control_numbers``: the counter file (default: the
    one the 999s use).
    """

    name: str = ""
    id: str = ""
    qualifier: str = "46"
    sender_id: str = ""
    sender_qualifier: str = "ZZ"
    receiver_id: str = ""
    receiver_qualifier: str = "ZZ"
    control_numbers: str | None = None


@dataclass(slots=True, frozen=True)
class Config:
    """The configuration: a file's (edi837.toml), or the defaults, with --select/--ignore."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict = field(default_factory=dict)
    defaults: Profile = field(default_factory=Profile)
    profiles: tuple[Profile, ...] = ()
    source: str | None = None
    acknowledgments: Acknowledgments = field(default_factory=Acknowledgments)
    warnings: tuple[str, ...] = ()  # said at load: a profile an earlier one shadows

    def with_selection(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()
                       ) -> "Config":
        """Command-line --select/--ignore replace/extend the file's."""
        return replace(self, select=select or self.select, ignore=self.ignore + ignore)

    def profile_for(self, payer_id: str, filing_indicator: str, setting: str | None = None
                    ) -> Profile:
        """The most specific matching profile (edi837.profile_match), else [defaults]."""
        from .profile_match import choose

        return choose(self.profiles, payer_id, filing_indicator, setting) or self.defaults

    def enabled(self, code: str, profile: Profile | None = None) -> bool:
        select = (profile.select if profile and profile.select else ()) or self.select
        # DOC000 is the DOC notes as one checklist (edi837.checklist): selecting it
        # runs the DOC rules, ignoring it drops those not named on their own
        checklist = code in ITEMS
        if select and not matches(code, select) and \
                not (checklist and matches(CHECKLIST, select)):
            return False
        for ignore in (self.ignore, profile.ignore if profile else ()):
            if matches(code, ignore) or (checklist and matches(CHECKLIST, ignore)
                                         and code not in select):
                return False
        return True

    def severity_of(self, code: str, default: str, profile: Profile | None = None) -> str:
        if profile and code in profile.severity:
            return profile.severity[code]
        return self.severity.get(code, default)


def _severity(table, where: str) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of CODE = severity")
    for code, value in table.items():
        if value not in SEVERITIES:
            raise ConfigError(f"{where}.{code}: {value!r} is not one of {', '.join(SEVERITIES)}")
    check_codes([code.upper() for code in table], where, exact=True)
    return {code.upper(): value for code, value in table.items()}


def _selection(value, where: str) -> tuple[str, ...]:
    codes = _codes(value, where)
    check_codes(codes, where)
    return codes


def _date_setting(data: dict, name: str, where: str) -> dt.date | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            pass
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ConfigError(f"{where}.{name}: {value!r} is not a date (YYYY-MM-DD)")
    return value


def _payer_ids(value, where: str) -> tuple[str, ...]:
    """2010BB NM109 payer ids; one given as a string is one id (not its letters)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise ConfigError(f"{where}: expected a list of payer ids such as [\"SYNMCD01\"]")
    return tuple(str(v).strip() for v in value)


def check_filing_indicators(value, where: str) -> tuple[str, ...]:
    """SBR09 codes, upper case; one that X12 does not define (a typo such as "C1")
    would match no claim and silently leave the payer's rule off: refused."""
    from .policy import shipped_policies

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of SBR09 codes such as \"MC\"")
    codes = tuple(str(v).strip().upper() for v in value)
    known = shipped_policies().filing_codes
    for raw, code in zip(value, codes, strict=True):
        if known and code not in known:
            close = _close_matches(code, known, n=3, cutoff=0.5)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise ConfigError(f"{where}: {raw!r} is not an SBR09 claim filing indicator "
                              f"code{hint}; known: {', '.join(known)}")
    return codes


def _settings(value, where: str) -> tuple[str, ...]:
    import re

    from .policy.model import normal_setting

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of settings such as \"837P\", \"837I:13x\"")
    # two characters, then the optional x: "837I:1x" would be "837I:1", no claim's setting
    bad = [v for v in value
           if not re.fullmatch(r"837[PI](:[0-9A-WYZa-wyz]{2}[xX]?)?", v.strip())]
    if bad:
        raise ConfigError(f"{where}: {bad[0]!r} is not a setting (837P, 837I, 837P:11 for a "
                          "place of service, 837I:13x for a type of bill)")
    return tuple(normal_setting(v.strip()).upper() for v in value)


def _profile(data: dict, where: str, base: Profile, *, defaults: bool = False) -> Profile:
    """One profile (or, with ``defaults``, the [defaults] table every profile starts from).

    In [defaults], jw_jz = true and ndc_required = "table" (the old defaults) leave
    each claim to its payer policy; false switches the rule off everywhere, and
    ndc_required = "j-codes" widens what the policies ask for table drugs to every
    J-code.  In a profile they are the payer's own rule: the top policy layer."""
    from .policy.model import PAYER_CLASSES

    known = {"name", "payer_ids", "filing_indicators", "jw_jz", "ndc_required", "select",
             "ignore", "severity", "schedules", "mue_across_claims", "settings", "payer_class",
             "jw_jz_from", "jw_denied", "jw_denied_from"}
    if defaults:
        known -= {"payer_ids", "filing_indicators", "settings", "payer_class", "jw_jz_from",
                  "jw_denied", "jw_denied_from"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    ndc_required, ndc_scope = base.ndc_required, base.ndc_scope
    if "ndc_required" in data:
        value = data["ndc_required"]
        if value is True:
            value = "table"
        if value is not False and value not in NDC_REQUIRED:
            raise ConfigError(f"{where}.ndc_required: {value!r} is not one of "
                              f"{', '.join(NDC_REQUIRED)}, true or false")
        if value is False:
            ndc_required = "off"
        elif defaults:
            ndc_required, ndc_scope = None, value
        else:
            ndc_required = value
    jw_jz = data.get("jw_jz", base.jw_jz)
    across = data.get("mue_across_claims", base.mue_across_claims)
    jw_denied = data.get("jw_denied", False)
    for name, value in (("jw_jz", jw_jz), ("mue_across_claims", across),
                        ("jw_denied", jw_denied)):
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"{where}.{name}: expected true or false")
    if defaults and jw_jz:
        jw_jz = None  # by policy
    for name, needs in (("jw_jz_from", "jw_jz"), ("jw_denied_from", "jw_denied")):
        if name in data and data.get(needs) is not True:
            raise ConfigError(f"{where}.{name}: only with {needs} = true")
    filing_indicators = check_filing_indicators(data.get("filing_indicators", []),
                                                f"{where}.filing_indicators")
    payer_class = data.get("payer_class")
    if payer_class is not None and payer_class not in PAYER_CLASSES:
        raise ConfigError(f"{where}.payer_class: {payer_class!r} is not one of "
                          f"{', '.join(PAYER_CLASSES)}")
    profile = Profile(
        name=str(data.get("name", base.name)),
        payer_ids=_payer_ids(data.get("payer_ids", []), f"{where}.payer_ids"),
        filing_indicators=filing_indicators,
        jw_jz=jw_jz, ndc_required=ndc_required, mue_across_claims=across,
        settings=_settings(data.get("settings", []), f"{where}.settings"),
        payer_class=payer_class, jw_jz_from=_date_setting(data, "jw_jz_from", where),
        jw_denied=jw_denied, jw_denied_from=_date_setting(data, "jw_denied_from", where),
        ndc_scope=ndc_scope,
        select=_selection(data.get("select", []), f"{where}.select"),
        ignore=_selection(data.get("ignore", []), f"{where}.ignore"),
        severity=_severity(data.get("severity", {}), f"{where}.severity"),
        schedules=_schedules(data.get("schedules", base.schedules), f"{where}.schedules"))
    if not defaults and not (profile.payer_ids or profile.filing_indicators
                             or profile.settings):
        # it would match no claim: the payer's rule it sets would silently stay off
        raise ConfigError(f"{where}: matches no claim: give payer_ids, filing_indicators "
                          "(SBR09) or settings")
    return profile


def check_schedule_codes(config: Config, codes) -> None:
    """Raise ConfigError for a profile schedule whose HCPCS the drug table (``codes``)
    does not hold: HIS002 would never use it and the payer's windows stay the table's."""
    known = sorted(codes)
    for number, profile in [("defaults", config.defaults),
                            *((f"profiles[{n}]", p) for n, p in enumerate(config.profiles))]:
        for hcpcs in profile.schedules:
            if hcpcs not in codes:
                close = _close_matches(hcpcs, known, n=3, cutoff=0.6)
                hint = f" (did you mean {' or '.join(close)}?)" if close else ""
                where = f"{config.source}: " if config.source else ""
                raise ConfigError(f"{where}{number}.schedules.{hcpcs}: not a drug of the "
                                  f"drug table{hint}; `edi837 drugs` lists them")


SCHEDULE_DAYS = ("induction_interval_days", "maintenance_interval_days", "maintenance_min_days")


def _schedules(table, where: str) -> dict:
    """HIS002 windows a payer profile overrides: {HCPCS: {field: days}}."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of HCPCS = {{setting = days}}")
    checked = {}
    for hcpcs, values in table.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{where}.{hcpcs}: expected a table of schedule settings")
        for name, value in values.items():
            if name == "induction_window_days":
                ok = isinstance(value, list) and len(value) == 2 and all(
                    isinstance(v, int) and v >= 0 for v in value) and value[0] <= value[1]
            elif name in SCHEDULE_DAYS:
                ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            else:
                raise ConfigError(f"{where}.{hcpcs}.{name}: unknown schedule setting (known: "
                                  f"{', '.join(SCHEDULE_DAYS + ('induction_window_days',))})")
            if not ok:
                raise ConfigError(f"{where}.{hcpcs}.{name}: {value!r} is not a number of days")
        checked[str(hcpcs).upper()] = dict(values)
    return checked


# X214's code lists for the acknowledgment envelope and the information source.
ISA_QUALIFIERS = ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ")  # ISA05, ISA07
SOURCE_QUALIFIERS = ("46", "FI", "PI", "XV")  # 2100A NM108
# (setting, shortest, longest): 2100A NM103/NM109, ISA06/ISA08 (also GS02/GS03)
_ACK_TEXT = (("name", 1, 60), ("id", 2, 80), ("sender_id", 2, 15), ("receiver_id", 2, 15))
_ACK_DELIMITERS = "*~:^"  # the acknowledgments' own delimiters cannot be data


def parse_acknowledgments(data, where: str,
                          base: Acknowledgments = Acknowledgments()) -> Acknowledgments:
    """An ``[acknowledgments]`` table (or command-line overrides) on top of ``base``."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table")
    known = {f.name for f in fields(Acknowledgments)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    for name, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{name}: expected text")
    for name, shortest, longest in _ACK_TEXT:
        value = data.get(name)
        if value is None or value == "":
            continue  # empty: the default (the 837's receiver or sender), as unset
        bad = [c for c in value if not " " <= c <= "~" or c in _ACK_DELIMITERS]
        if not shortest <= len(value) <= longest or bad or value != value.strip():
            raise ConfigError(f"{where}.{name}: {value!r} must be {shortest} to {longest} "
                              f"printable ASCII characters, without {_ACK_DELIMITERS} or "
                              "leading/trailing spaces")
    for name, allowed in (("qualifier", SOURCE_QUALIFIERS), ("sender_qualifier", ISA_QUALIFIERS),
                          ("receiver_qualifier", ISA_QUALIFIERS)):
        if name in data and data[name] not in allowed:
            raise ConfigError(f"{where}.{name}: {data[name]!r} is not one of {', '.join(allowed)}")
    return replace(base, **data)


def parse_config(data: dict, source: str = "<config>") -> Config:
    known = {"select", "ignore", "severity", "defaults", "profiles", "acknowledgments"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(sorted(unknown))}")
    defaults = _profile(data.get("defaults", {}), f"{source}: defaults", Profile(),
                        defaults=True)
    profiles = tuple(_profile(p, f"{source}: profiles[{i}]", defaults)
                     for i, p in enumerate(data.get("profiles", [])))
    from .profile_match import duplicate_names, shadowed

    duplicate = duplicate_names(((i, str(p["name"])) for i, p in
                                 enumerate(data.get("profiles", [])) if "name" in p), source)
    if duplicate:
        raise ConfigError(duplicate)
    return Config(select=_selection(data.get("select", []), f"{source}: select"),
                  ignore=_selection(data.get("ignore", []), f"{source}: ignore"),
                  severity=_severity(data.get("severity", {}), f"{source}: severity"),
                  defaults=defaults, profiles=profiles, source=source,
                  acknowledgments=parse_acknowledgments(data.get("acknowledgments", {}),
                                                        f"{source}: acknowledgments"),
                  warnings=tuple(shadowed(profiles, source)))


def load_config(path: str | Path | None = None) -> Config:
    """Read ``path``, or ./edi837.toml when it exists, or use the defaults."""
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return Config()
        path = DEFAULT_FILE
    import tomllib  # here: a run without a configuration file parses no TOML

    from . import tomlfile

    try:
        with open(path, "rb") as handle:
            data = tomlfile.loads(handle.read().decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, str(path))
