"""The shipped payer policies (policies.toml) and the layering that gives each claim
its :class:`~edi837.policy.model.ClaimPolicy`.

Precedence, one rule: the user's profile (edi837.toml [[profiles]]) > the shipped
payer-id list > the shipped payer class (from SBR09) > the "other" policy.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from ..drug_codes import shipped_policy_data
from .model import (
    DEFAULT_CLASS,
    ERROR,
    NONE,
    WARNING,
    ClaimPolicy,
    DiagnosisDates,
    Policy,
    Requirement,
    normal_setting,
    setting_matches,
    setting_of,
)

_HERE = Path(__file__).parent  # the package folder: its data files sit beside it
SHIPPED_FILE = "policies.toml"
SCHEMA_FILE = "policy.schema.json"
SHIPPED_NAME = "edi837/policy/policies.toml"


class PolicyError(ValueError):
    """The shipped policy file is not what the schema says (a packaging bug)."""


@dataclass(frozen=True, slots=True)
class ClassEntry:
    payer_class: str
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """The shipped policies: payer classes by filing indicator and payer id, and
    each class's policy."""

    version: str
    updated: dt.date
    filing_indicators: dict  # SBR09 code -> ClassEntry
    payer_ids: dict  # payer id -> ClassEntry
    out_of_scope: Requirement  # settings where JW/JZ never apply
    policies: dict  # payer class -> Policy
    filing_codes: tuple[str, ...] = ()  # every SBR09 code X12 defines (a typo is refused)
    jw_line_ndc: Requirement | None = None  # NDC001 on a JW line under a shipped error
    misplaced: Requirement | None = None  # MOD006: JW or JZ where out_of_scope keeps them
    diagnosis_dates: DiagnosisDates | None = None  # DX002: through date settings

    def payer_class(self, filing_indicator: str, payer_id: str = "") -> str:
        """The payer class of a claim: the payer-id list's, else SBR09's, else "other"."""
        return self.class_origin(filing_indicator, payer_id)[0]

    def class_origin(self, filing_indicator: str, payer_id: str = "") -> tuple[str, str]:
        entry = self.payer_ids.get((payer_id or "").strip())
        if entry is not None:
            return entry.payer_class, f"payer id list: {payer_id} [{entry.source}]"
        code = (filing_indicator or "").strip().upper()
        entry = self.filing_indicators.get(code)
        if entry is not None:
            return entry.payer_class, f"SBR09 {code}"
        return DEFAULT_CLASS, f"SBR09 {code or '(none)'}: no payer class, the default"

    def dates(self) -> set[dt.date]:
        """Every date a requirement starts or ends on (claim shapes split on them)."""
        found = set()
        for policy in self.policies.values():
            for requirement in (*policy.jw_jz, *policy.ndc, *policy.jw_denied):
                if requirement.valid_from:
                    found.add(requirement.valid_from)
                if requirement.valid_to:
                    found.add(requirement.valid_to + dt.timedelta(days=1))
        return found


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _requirement(data: dict, origin: str = "shipped") -> Requirement:
    drugs = data.get("drugs", "table")
    return Requirement(
        severity=data["severity"], source=data["source"], confidence=data["confidence"],
        settings=tuple(normal_setting(s) for s in data.get("settings", ())),
        valid_from=_date(data.get("valid_from")), valid_to=_date(data.get("valid_to")),
        drugs=drugs if isinstance(drugs, str) else tuple(drugs), origin=origin,
        reason=data.get("reason"))


def load_schema() -> dict[str, Any]:
    return json.loads((_HERE / SCHEMA_FILE).read_text(encoding="utf-8"))


def shipped_data() -> dict[str, Any]:
    """The shipped policy file as tomllib reads it (the tests validate it by the schema),
    parsed once per process (edi837.drug_codes reads its [[drug_lines]] from it)."""
    return shipped_policy_data()


@cache
def shipped_policies() -> PolicyBook:
    """The shipped policies, read once per process."""
    try:
        return build_book(shipped_data())
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{SHIPPED_NAME}: {exc}") from None


def build_book(data: dict[str, Any]) -> PolicyBook:
    filing = {}
    for entry in data["filing_indicators"]:
        for code in entry["codes"]:
            filing[code] = ClassEntry(entry["payer_class"], entry["source"], entry["confidence"])
    payer_ids = {entry["payer_id"]: ClassEntry(entry["payer_class"], entry["source"],
                                               entry["confidence"])
                 for entry in data.get("payer_ids", [])}
    scope = data["jw_jz_scope"]
    out_of_scope = _requirement({"severity": NONE, "settings": scope["out_of_scope"],
                                 "source": scope["source"], "confidence": scope["confidence"]})
    policies = {}
    for name, body in data["policies"].items():
        policies[name] = Policy(
            name, body["title"],
            (out_of_scope, *map(_requirement, body["jw_jz"])),
            tuple(map(_requirement, body["ndc"])),
            tuple(map(_requirement, body.get("jw_denied", []))))
    jw_line_ndc = data.get("ndc_on_jw_lines")
    misplaced = data.get("jw_jz_out_of_scope")
    updated = _date(data["updated"])
    assert updated is not None  # the schema requires it
    return PolicyBook(data["version"], updated, filing, payer_ids,
                      out_of_scope, policies,
                      tuple(data.get("filing_indicator_codes", {}).get("codes", ())),
                      _requirement(jw_line_ndc) if jw_line_ndc else None,
                      _requirement({**misplaced, "settings": scope["out_of_scope"]})
                      if misplaced else None, _diagnosis_dates(data.get("diagnosis_dates")))


def _diagnosis_dates(data: dict | None) -> DiagnosisDates | None:
    if not data:
        return None
    return DiagnosisDates(tuple(normal_setting(s) for s in data["through_date_settings"]),
                          data["source"], data["confidence"])


def payer_class(filing_indicator: str, payer_id: str = "") -> str:
    """The payer class ("medicare-ffs", "medicare-advantage", "medicaid", "commercial" or
    "other") of a claim filed under SBR09 ``filing_indicator`` to ``payer_id``, by the
    shipped payer-id list and filing-indicator table (no user profile)."""
    return shipped_policies().payer_class(filing_indicator, payer_id)


# -- a user's profile over the shipped policy ----------------------------------------------


def _profile_layer(profile, modifiers) -> tuple[list, list, list]:
    """The requirements a user profile puts on top: (jw_jz, ndc, jw_denied)."""
    origin = f"profile {profile.name}"
    source = "edi837.toml [[profiles]]"
    settings = tuple(profile.settings)
    jw_jz, ndc, denied = [], [], []
    if profile.jw_jz is False:
        jw_jz.append(Requirement(NONE, f"{source}: jw_jz = false", "unconfirmed", settings,
                                 origin=origin))
    elif profile.jw_jz:
        enforced = profile.jw_jz_from or modifiers.claim_edits_from
        warned = modifiers.required_from
        jw_jz.append(Requirement(ERROR, f"{source}: jw_jz = true, from {enforced}",
                                 "unconfirmed", settings, valid_from=enforced, origin=origin))
        if warned < enforced:
            jw_jz.append(Requirement(
                WARNING, f"{source}: jw_jz = true; JZ required from {warned} (MM13056)",
                "unconfirmed", settings, valid_from=warned,
                valid_to=enforced - dt.timedelta(days=1), origin=origin))
    if profile.ndc_required == "off":
        ndc.append(Requirement(NONE, f"{source}: ndc_required = false", "unconfirmed",
                               settings, drugs="j-codes", origin=origin))
    elif profile.ndc_required in ("table", "j-codes"):
        ndc.append(Requirement(ERROR, f"{source}: ndc_required = \"{profile.ndc_required}\"",
                               "unconfirmed", settings, drugs=profile.ndc_required,
                               origin=origin))
    if profile.jw_denied:
        denied.append(Requirement(ERROR, f"{source}: jw_denied = true", "unconfirmed", settings,
                                  valid_from=profile.jw_denied_from, origin=origin))
    return jw_jz, ndc, denied


class PolicyResolver:
    """Gives each claim its policy, resolved once per (filing indicator, payer id, setting):
    the engine asks per claim, the rules ask the policy."""

    def __init__(self, config, table, book: PolicyBook | None = None) -> None:
        self.config = config
        self.book = book or shipped_policies()
        self._modifiers = table.policy.discarded_drug_modifiers
        self._cache: dict[tuple, ClaimPolicy] = {}
        self._shared: dict[tuple, ClaimPolicy] = {}
        self._shape_ids: dict[tuple, int] = {}
        self._days: tuple | None = None
        self._with_places: dict[tuple, ClaimPolicy] = {}  # 837P: by its places' policies
        self._places: tuple[str, ...] | None = None

    def for_claim(self, claim) -> ClaimPolicy:
        key = (claim.filing_indicator, claim.payer_id, claim.kind, claim.facility_code)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.resolve(
                claim.filing_indicator, claim.payer_id, setting_of(claim.kind,
                                                                   claim.facility_code))
        return found

    def resolve(self, filing_indicator: str, payer_id: str, setting: str) -> ClaimPolicy:
        """The policy of a claim in ``setting``; an 837P claim's also gives each line's at
        its own place of service (SV105: ClaimPolicy.at_place).  Claims whose lines would
        be judged alike at every place some requirement or profile names share one, and
        its shape_id says so (edi837.reader.shapes reads a line's place, not its payer)."""
        plain = self._resolve(filing_indicator, payer_id, setting)
        if setting.split(":", 1)[0] != "837P":
            return plain
        places = tuple(self._resolve(filing_indicator, payer_id, named)
                       for named in self._place_settings())
        key = (id(plain), tuple(map(id, places)))
        found = self._with_places.get(key)
        if found is None:
            def place_policy(line_setting: str, filing: str = filing_indicator,
                             payer: str = payer_id) -> ClaimPolicy:
                return self._resolve(filing, payer, line_setting)

            found = replace(plain, place_policy=place_policy, _cache={})
            days = self._period_days()
            found.shape_id = self._shape_ids.setdefault(
                (plain.judged_alike(days), tuple(p.judged_alike(days) for p in places)),
                len(self._shape_ids))
            self._with_places[key] = found
        return found

    def _place_settings(self) -> tuple[str, ...]:
        """The 837P settings some shipped requirement or user profile names ("837P:12",
        "837P:21"), and "837P" for every other place (judged alike: no pattern names it)."""
        if self._places is None:
            book = self.book
            named = {*book.out_of_scope.settings}
            for requirement in (book.misplaced, book.jw_line_ndc):
                if requirement is not None:
                    named.update(requirement.settings)
            if book.diagnosis_dates is not None:
                named.update(book.diagnosis_dates.settings)
            for policy in book.policies.values():
                for requirement in (*policy.jw_jz, *policy.ndc, *policy.jw_denied):
                    named.update(requirement.settings)
            for profile in (self.config.defaults, *self.config.profiles):
                named.update(profile.settings)
            self._places = ("837P", *sorted(s for s in named if s.startswith("837P:")))
        return self._places

    def _resolve(self, filing_indicator: str, payer_id: str, setting: str) -> ClaimPolicy:
        config = self.config
        profile = config.profile_for(payer_id, filing_indicator, setting)
        payer_class, origin = self.book.class_origin(filing_indicator, payer_id)
        if profile.payer_class:
            payer_class, origin = profile.payer_class, f"profile {profile.name}"
        key = (payer_class, origin, setting, id(profile))
        shared = self._shared.get(key)  # one object per (class, setting, profile)
        if shared is not None:
            return shared
        policy = self.book.policies.get(payer_class) or self.book.policies[DEFAULT_CLASS]
        defaults = config.defaults
        jw_jz, ndc, denied = list(policy.jw_jz), list(policy.ndc), list(policy.jw_denied)
        if defaults.ndc_scope == "j-codes" or profile.ndc_scope == "j-codes":
            ndc = [replace(r, drugs="j-codes") if r.drugs == "table" else r for r in ndc]
        # [defaults] switches a rule off under every shipped policy ...
        if defaults.jw_jz is False:
            jw_jz.insert(0, Requirement(NONE, "edi837.toml [defaults] jw_jz = false",
                                        "unconfirmed", origin="defaults"))
        if defaults.ndc_required == "off":
            ndc.insert(0, Requirement(NONE, "edi837.toml [defaults] ndc_required = false",
                                      "unconfirmed", drugs="j-codes", origin="defaults"))
        name = payer_class
        if profile is not defaults:  # ... and a matching profile is above both
            layer = _profile_layer(profile, self._modifiers)
            if any(layer) or profile.payer_class:
                name = f"{payer_class}+profile:{profile.name}"
            if profile.jw_jz and not profile.settings:
                # a payer that enforces JW/JZ does so where CMS's rule reaches, not on
                # inpatient/RHC/FQHC bills, unless the profile names those settings
                layer[0].insert(0, self.book.out_of_scope)
            jw_jz, ndc, denied = layer[0] + jw_jz, layer[1] + ndc, layer[2] + denied
        resolved = ClaimPolicy(name, payer_class, origin, setting, profile, tuple(jw_jz),
                               tuple(ndc), tuple(denied), policy.title,
                               out_of_scope=self.book.out_of_scope,
                               misplaced_requirement=self.book.misplaced,
                               diagnosis_dates=self._diagnosis_dates(setting))
        resolved.shape_id = self._shape_ids.setdefault(
            resolved.judged_alike(self._period_days()), len(self._shape_ids))
        self._shared[key] = resolved
        return resolved

    def _diagnosis_dates(self, setting: str) -> DiagnosisDates | None:
        basis = self.book.diagnosis_dates
        if basis is not None and setting_matches(basis.settings, setting):
            return basis
        return None

    def _period_days(self) -> tuple:
        """A day in each period between the dates where a policy changes, and None."""
        if self._days is None:
            changes = sorted(self.dates())
            self._days = (None, dt.date(1900, 1, 1), *changes)
        return self._days

    def dates(self) -> set[dt.date]:
        """Dates where some claim's policy changes (claim shapes split on them)."""
        found = self.book.dates()
        for profile in (self.config.defaults, *self.config.profiles):
            for day in (profile.jw_jz_from, profile.jw_denied_from):
                if day:
                    found.add(day)
        return found
