"""Payer policy as data: requirements, a payer class's policy, and the policy one claim
is judged by (:class:`ClaimPolicy`).

A requirement says how severe a missing JW/JZ modifier (MOD001), a missing NDC
(NDC001) or a JW line to a payer that does not pay waste (MOD008) is, in which
settings and between which dates of service, with its source.  A list of them
is read in order: the first that matches the claim's setting and the line's
date decides; none matching means the rule does not apply.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from ..bill_types import bill_type_facility
from ..drug_codes import is_drug_code

ERROR, WARNING, NONE = "error", "warning", "none"
PAYER_CLASSES = ("medicare-ffs", "medicare-advantage", "medicaid", "commercial", "other")
DEFAULT_CLASS = "other"
KINDS = ("837P", "837I")


def setting_of(kind: str, facility_code: str) -> str:
    """The claim's setting: "837I:13" (type of bill facility + classification, CLM05-1
    of an 837I; written UB-04 style, "131" or "0131", it is read as 13, as `edi837
    policy --bill-type` reads it, and EDI007 holds the claim), "837P:11" (place of
    service, CLM05-1 of an 837P), or the kind alone when CLM05-1 is empty."""
    code = (facility_code or "").strip().upper()
    if len(code) > 2 and kind == "837I":
        code = bill_type_facility(code) or code
    return f"{kind}:{code}" if code else kind


def normal_setting(pattern: str) -> str:
    """A setting pattern as compared: "837I:13x" -> "837I:13"."""
    pattern = pattern.strip()
    return pattern[:-1] if pattern.endswith(("x", "X")) and ":" in pattern else pattern


def setting_matches(patterns: tuple[str, ...], setting: str) -> bool:
    """Whether ``setting`` ("837I:13") is one of ``patterns`` ("837I", "837I:13");
    no patterns match every setting."""
    if not patterns:
        return True
    kind = setting.split(":", 1)[0]
    return setting in patterns or kind in patterns


@dataclass(frozen=True, slots=True)
class Requirement:
    """One sourced statement: this severity, in these settings, on these dates."""

    severity: str  # error, warning or none
    source: str
    confidence: str
    settings: tuple[str, ...] = ()  # normalised ("837I:13"); empty: every setting
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    drugs: str | tuple[str, ...] = "table"  # NDC only: "table", "j-codes" or HCPCS codes
    origin: str = "shipped"  # "shipped", "payer id list" or "profile NAME"
    reason: str | None = None  # why this severity, said in the finding (MOD001 at POS 12)

    def in_force(self, day: dt.date | None) -> bool:
        if day is None:
            return True
        return ((self.valid_from is None or day >= self.valid_from)
                and (self.valid_to is None or day <= self.valid_to))

    def covers(self, hcpcs: str, in_table: bool) -> bool:
        """NDC requirements: whether the line's drug is one this requirement names."""
        drugs = self.drugs
        if drugs == "table":
            return in_table
        if drugs == "j-codes":  # every drug line: J-codes, C9399, biosimilar Q-codes ...
            return in_table or is_drug_code(hcpcs)
        return hcpcs in drugs

    def describe(self) -> str:
        if self.origin == "default":
            return "not required (no requirement of this policy covers this setting, drug " \
                   "and date)"
        when = ""
        if self.valid_from or self.valid_to:
            when = f" from {self.valid_from or '...'} to {self.valid_to or '...'}"
            when = when.replace(" to ...", "")
        shown = (s + ("x" if s[-1].isdigit() and s.startswith("837I:") else "")
                 for s in self.settings)
        where = f" in {', '.join(shown)}" if self.settings else ""
        drugs = ""
        if not isinstance(self.drugs, str):
            drugs = f" for {', '.join(self.drugs)}"
        elif self.drugs == "j-codes":
            drugs = " for every drug line (table drugs, J-codes, C9399, biosimilar Q-codes)"
        return f"{self.severity}{drugs}{where}{when}  [{self.source} [{self.confidence}]; " \
               f"{self.origin}]"


@dataclass(frozen=True, slots=True)
class DiagnosisDates:
    """The settings whose diagnoses are valid by the statement's through date (an
    inpatient stay's discharge), not by each line's date of service (DX002)."""

    settings: tuple[str, ...]
    source: str
    confidence: str

    def describe(self) -> str:
        return f"the statement's through (discharge) date  [{self.source} " \
               f"[{self.confidence}]; shipped]"


NOT_APPLICABLE = Requirement(NONE, "no requirement of this policy matches the setting and date",
                             "unconfirmed", origin="default")


@dataclass(frozen=True, slots=True)
class Policy:
    """A payer class's shipped policy (or a user profile's layer over one)."""

    name: str
    title: str
    jw_jz: tuple[Requirement, ...] = ()
    ndc: tuple[Requirement, ...] = ()
    jw_denied: tuple[Requirement, ...] = ()


def first(requirements, setting: str, day: dt.date | None, hcpcs: str | None = None,
          in_table: bool = False) -> Requirement:
    """The first requirement matching the setting and date (and drug, for NDC ones)."""
    for requirement in requirements:
        if not setting_matches(requirement.settings, setting) or not requirement.in_force(day):
            continue
        if hcpcs is not None and not requirement.covers(hcpcs, in_table):
            continue
        return requirement
    return NOT_APPLICABLE


@dataclass(slots=True, eq=False)
class ClaimPolicy:
    """The policy one claim is judged by: its payer class's, under the user's profile.

    Resolved once per (payer class, setting, payer id, profile) and shared by every
    claim with those; the rules ask it, they never test a payer id or filing
    indicator themselves.
    """

    name: str  # what findings carry: "medicare-ffs", "medicaid+profile:nj-mco"
    payer_class: str
    class_origin: str  # how the class was found: "SBR09 MB", "payer id list", "profile X"
    setting: str
    profile: object  # edi837.config.Profile: selection, severities, schedules
    jw_jz_requirements: tuple[Requirement, ...]
    ndc_requirements: tuple[Requirement, ...]
    jw_denied_requirements: tuple[Requirement, ...] = ()
    title: str = ""
    shape_id: int = 0  # equal for claims the policy judges alike (edi837.reader.shapes)
    _cache: dict = field(default_factory=dict)
    # the shipped settings where JW/JZ never apply, and how severe JW or JZ there is
    out_of_scope: Requirement | None = None
    misplaced_requirement: Requirement | None = None
    # set where the statement's through date decides which diagnoses are valid (DX002)
    diagnosis_dates: DiagnosisDates | None = None
    # an 837P claim's: the policy of a line at another place of service (SV105), by setting
    place_policy: Callable[[str], ClaimPolicy] | None = None

    def at_place(self, place: str) -> ClaimPolicy:
        """The policy of a line given at ``place`` (837P SV105, which overrides CLM05-1
        for its line, as POS001 reads it): this policy where the place is the claim's, or
        the claim is no 837P; else the same payer's policy in that setting."""
        if self.place_policy is None or not place:
            return self
        key = ("place", place)
        found = self._cache.get(key)
        if found is None:
            setting = setting_of(self.setting.split(":", 1)[0], place)
            found = self if setting == self.setting else self.place_policy(setting)
            self._cache[key] = found
        return found

    def judged_alike(self, days) -> tuple:
        """Which rules this policy lets fire, on each of ``days`` (one day per period
        between the dates where some policy changes): claims whose policies agree on
        that fire alike, whatever the policies' names, sources and severities
        (edi837.reader.shapes remembers which rules fired, never a finding)."""
        def fires(requirement) -> bool:
            return requirement.severity != NONE

        ndc = tuple((fires(r), r.drugs, r.valid_from, r.valid_to)
                    for r in self.ndc_requirements if setting_matches(r.settings, self.setting))
        return (id(self.profile), ndc, self.diagnosis_dates is not None,
                tuple((fires(first(self.jw_jz_requirements, self.setting, day)),
                       fires(first(self.jw_denied_requirements, self.setting, day)),
                       fires(self.jw_jz_misplaced(day)))
                      for day in days))

    def jw_jz(self, day: dt.date | None) -> Requirement:
        """How severe a single-dose drug line without JW or JZ is on ``day`` (MOD001)."""
        key = ("jw_jz", day)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = first(self.jw_jz_requirements, self.setting, day)
        return found

    def jw_jz_in_scope(self, day: dt.date | None) -> bool:
        """JW/JZ apply at all (error or warning) on ``day``: the other MOD rules' scope.
        An undated line (DOS001's) is in scope when any requirement of the setting is."""
        if day is None:
            return any(r.severity != NONE for r in self.jw_jz_requirements
                       if setting_matches(r.settings, self.setting))
        return self.jw_jz(day).severity != NONE

    def jw_jz_misplaced(self, day: dt.date | None) -> Requirement:
        """How severe JW or JZ on a line is where the claim's setting keeps the JW/JZ
        requirement out of scope (inpatient 11x, RHC 71x, FQHC 77x: MOD006): the
        shipped requirement when that setting exclusion is what decides on ``day``;
        not applicable in scope, nor where [defaults] or a profile switches JW/JZ off
        or puts the setting in scope."""
        misplaced = self.misplaced_requirement
        if misplaced is None or self.out_of_scope is None \
                or self.jw_jz(day) is not self.out_of_scope:
            return NOT_APPLICABLE
        return first((misplaced,), self.setting, day)

    def ndc(self, hcpcs: str, in_table: bool, day: dt.date | None) -> Requirement:
        """How severe a drug line without an NDC is (NDC001)."""
        key = ("ndc", hcpcs, in_table, day)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = first(self.ndc_requirements, self.setting, day,
                                             hcpcs, in_table)
        return found

    def jw_denied(self, day: dt.date | None) -> Requirement:
        """How severe a JW line is to this payer (MOD008): none unless a profile says
        the payer denies JW lines."""
        return first(self.jw_denied_requirements, self.setting, day)

    def explain(self, day: dt.date | None, hcpcs: str = "J2350", in_table: bool = True
                ) -> list[str]:
        """What applies on ``day``, each requirement with its source (`edi837 policy`)."""
        lines = [f"policy {self.name}: {self.title}",
                 f"  payer class {self.payer_class} (from {self.class_origin}); setting "
                 f"{self.setting}; date of service {day or 'any'}"]
        for label, requirement in (
                ("JW/JZ missing (MOD001)", self.jw_jz(day)),
                (f"NDC missing on {hcpcs} (NDC001)", self.ndc(hcpcs, in_table, day)),
                ("JW line denied (MOD008)", self.jw_denied(day)),
                ("JW/JZ where the setting is out of scope (MOD006)",
                 self.jw_jz_misplaced(day))):
            lines.append(f"  {label}: {requirement.describe()}")
        lines.append("  diagnoses valid on (DX002): " + (
            self.diagnosis_dates.describe() if self.diagnosis_dates is not None
            else "each drug line's date of service"))
        lines.append("  every requirement of this policy, first match wins:")
        for label, requirements in (("jw_jz", self.jw_jz_requirements),
                                    ("ndc", self.ndc_requirements),
                                    ("jw_denied", self.jw_denied_requirements)):
            for requirement in requirements:
                lines.append(f"    {label}: {requirement.describe()}")
        return lines
