"""A patient-history corpus: nightly files over months, with planted events.

Members on ocrelizumab (J2350) follow the label's schedule (300 units, 300
units 14 days later, then 600 every 6 months, with a few days' jitter);
each dose is billed as a clean claim that reaches the clearinghouse one to
four nights after the infusion.  One member in each group of eleven carries
one event (``EVENTS``, round-robin, so every kind appears): a duplicate sent
a later night or the same night (HIS001), a second induction dose a month
late or a maintenance dose 98 days early (HIS002), a second claim the same day
that takes it over 600 units (UNT002: 300 more on a 600-unit dose, 600 more on
a 300-unit one, never a copy of the first line), and the cases that must NOT be
flagged: a split dose (300 + 300 on one claim), a replacement, a void, a void
then a rebill, a claim sent two months late.

``manifest.json`` lists every claim sent (file, claim id, event) and the
history rules expected on it; a checker run night by night with one history
must raise exactly those (of HIS001, HIS002, UNT002) and no others.
"""
from __future__ import annotations

import json
import random
from copy import deepcopy
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from ..files import atomic_output
from .facts import CREATED, ELEMENT, GUIDE_VERSION, MS_SUBTYPES, OCRELIZUMAB
from .model import Claim, Patient, format_quantity
from .scenarios import ClaimFactory
from .x12 import WRITERS, SegmentWriter, d8, isa_segment

FLAGGED = ("HIS001", "HIS002", "UNT002")  # what the manifest's expectations cover
EVENTS = ("late-induction", "early-maintenance", "duplicate-next-night",
          "duplicate-same-night", "over-maximum", "split-dose", "replacement", "void",
          "void-rebill", "late-claim", "on-schedule")
FIRST_NIGHT = date(2025, 10, 1)  # after the G35 split: one diagnosis code set
MIN_NIGHTS = 30  # first doses fall in the first 60 days: fewer nights write few files


class CorpusExists(ValueError):
    """``out_dir`` already holds a corpus (nightly files or a manifest)."""


def corpus_files(out_dir: Path) -> list[Path]:
    """The files of a corpus in ``out_dir`` (what generate_nights writes), sorted."""
    if not out_dir.is_dir():
        return []
    found = [p for p in out_dir.iterdir() if p.name == "manifest.json"
             or (p.name.startswith("night-") and p.name.endswith(".edi"))]
    return sorted(p for p in found if p.is_file() or p.is_symlink())


def generate_nights(out_dir: Path, *, nights: int = 365, seed: int = 0, kind: str = "837P",
                    start: date = FIRST_NIGHT, members: int | None = None,
                    force: bool = False) -> dict:
    """Write ``night-YYYYMMDD.edi`` files and ``manifest.json`` into ``out_dir``;
    returns the manifest.  The same arguments always give the same files.

    A corpus already there is refused (CorpusExists), or with ``force`` its files
    are removed first: no night of an old corpus stays beside the new ones.  Other
    files in ``out_dir`` are left alone."""
    if kind not in GUIDE_VERSION:
        raise ValueError(f"kind must be one of {', '.join(GUIDE_VERSION)}")
    if nights < MIN_NIGHTS:
        raise ValueError(f"nights must be at least {MIN_NIGHTS} (members start over the "
                         "first two months; fewer nights hold few doses or none)")
    rng = random.Random(seed)
    factory = ClaimFactory(rng, kind, defect_rate=0.0)
    end = start + timedelta(days=nights - 1)
    plan = _Plan(rng, factory, start, end)
    for number in range(members or max(len(EVENTS), nights // 4)):
        plan.member(EVENTS[number % len(EVENTS)])
    out_dir = Path(out_dir)
    old = corpus_files(out_dir)
    if old and not force:
        nightly = sum(1 for p in old if p.name != "manifest.json")
        raise CorpusExists(f"it already holds a corpus ({nightly} nightly files"
                           f"{', manifest.json' if len(old) > nightly else ''}); "
                           "use --force to replace it")
    for path in old:
        path.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for night in sorted(plan.sent):
        if night > end:
            continue
        name = f"night-{night:%Y%m%d}.edi"
        with atomic_output(out_dir / name, encoding="ascii", newline="") as out:
            _write_night(out, kind, rng, plan.sent[night])
        files.append(name)
    manifest = {"kind": kind, "seed": seed, "first_night": start.isoformat(),
                "last_night": end.isoformat(), "files": files, "flagged_rules": list(FLAGGED),
                "planted": sum(1 for c in plan.claims if c["event"] != "on-schedule"),
                "claims": [c for c in plan.claims if c["file"] in files]}
    with atomic_output(out_dir / "manifest.json") as out:
        json.dump(manifest, out, indent=1)
    return manifest


class _Plan:
    """Members, their doses, and what is sent which night."""

    def __init__(self, rng: random.Random, factory: ClaimFactory, start: date, end: date):
        self.rng, self.factory, self.start, self.end = rng, factory, start, end
        self.sent: dict[date, list[tuple[Patient, object, Claim]]] = {}
        self.claims: list[dict] = []

    def send(self, member: Patient, billing, claim: Claim, night: date, event: str,
             expect: tuple[str, ...] = ()) -> None:
        self.sent.setdefault(night, []).append((member, billing, claim))
        self.claims.append({"file": f"night-{night:%Y%m%d}.edi", "claim_id": claim.claim_id,
                            "frequency": claim.frequency, "event": event,
                            "expect": sorted(expect)})

    def lag(self) -> timedelta:
        return timedelta(days=self.rng.randint(1, 4))

    def member(self, event: str) -> None:
        rng, factory = self.rng, self.factory
        member = factory.patient()
        member.claims = []
        billing = rng.choice(factory.billing_providers)
        subtype = rng.choice(MS_SUBTYPES[:3])  # relapsing MS: supported without review
        first = self.start + timedelta(days=rng.randrange(0, 60))
        doses = [(first, 300), (first + timedelta(days=14), 300)]
        day = doses[-1][0]
        last = self.end - timedelta(days=8)
        while (day := day + timedelta(days=182 + rng.randint(-3, 7))) <= last:
            doses.append((day, 600))
        if event == "late-induction":
            doses[1] = (first + timedelta(days=30), 300)
        if event in ("early-maintenance", "late-claim") and len(doses) < 3:
            event = "on-schedule"  # too short a span for it: plain doses
        if event == "early-maintenance":  # the first maintenance dose, 98 days after
            doses[2] = (doses[1][0] + timedelta(days=98), 600)
        claims = [factory.ocrelizumab_claim(day, units, subtype) for day, units in doses]
        target = self.target(event, doses)  # the dose the event is about
        for k, (claim, (day, mg)) in enumerate(zip(claims, doses, strict=True)):
            expect = ("HIS002",) if k == target and event in ("late-induction",
                                                                "early-maintenance") else ()
            night = day + self.lag()
            if event == "late-claim" and k == target:  # sent after the dose that follows it
                night = doses[k + 1][0] + timedelta(days=5)
            if event == "split-dose" and k == target:
                _split_dose(claim)
            self.send(member, billing, claim, night, event if k == target else "on-schedule",
                      expect)
            if k == target:
                self.event(event, member, billing, claim, night, mg)

    def target(self, event: str, doses: list) -> int:
        """Which dose an event is about: the second induction dose, the first early
        maintenance dose, a 600-unit dose to add to (else the first dose) or split, one
        with a dose after it for a late claim, any but the first otherwise."""
        if event == "late-induction":
            return 1
        if event == "early-maintenance":
            return 2
        if event == "over-maximum":  # with no 600 in the span, the first dose: its extra
            # claim arrives before the second dose's; on the second induction dose, 900
            # units 14 days after 300 would also be out of schedule (HIS002)
            choices = [k for k, (_, units) in enumerate(doses) if units == 600] or [0]
        elif event == "split-dose":
            choices = [k for k, (_, units) in enumerate(doses) if units == 600] or [1]
        elif event == "late-claim":
            choices = list(range(1, len(doses) - 1)) or [1]
        else:
            choices = list(range(1, len(doses)))
        return self.rng.choice(choices)

    def event(self, event: str, member, billing, claim: Claim, night: date, mg: int) -> None:
        factory = self.factory
        if event in ("duplicate-next-night", "duplicate-same-night"):
            copy = _copy(claim, claim.claim_id + "D")
            later = night if event == "duplicate-same-night" else night + self.lag()
            self.send(member, billing, copy, later, event, ("HIS001",))
        elif event == "over-maximum":
            extra = factory.ocrelizumab_claim(claim.service_date, _over_maximum(mg), "G35A")
            extra.diagnoses = list(claim.diagnoses)
            self.send(member, billing, extra, night + self.lag(), event, ("UNT002",))
        elif event == "replacement":
            corrected = _copy(claim, claim.claim_id)
            corrected.frequency, corrected.payer_claim_number = "7", f"ICN{claim.claim_id}"
            self.send(member, billing, corrected, night + self.lag(), event)
        elif event in ("void", "void-rebill"):
            void = _copy(claim, claim.claim_id)
            void.frequency, void.payer_claim_number = "8", f"ICN{claim.claim_id}"
            voided = night + self.lag()
            self.send(member, billing, void, voided, event)
            if event == "void-rebill":
                self.send(member, billing, _copy(claim, claim.claim_id), voided + self.lag(),
                          event)


def _copy(claim: Claim, claim_id: str) -> Claim:
    copy = deepcopy(claim)
    copy.claim_id = claim_id
    return copy


def _over_maximum(given: int) -> int:
    """A labeled dose (mg) that takes a day with ``given`` mg over the maximum (the
    largest labeled dose) and is not ``given`` itself: 300 more on a 600 day, 600 more
    on a 300 day.  300 more on a 300 day would be 600, within the maximum, and the
    same line twice: an exact duplicate (HIS001), not UNT002."""
    return next(mg for mg in OCRELIZUMAB.doses_mg
                if mg != given and given + mg > max(OCRELIZUMAB.doses_mg))


def _split_dose(claim: Claim) -> None:
    """600 units billed as two lines of 300 (one vial each), both JZ."""
    drug = claim.lines[0]
    half = replace(drug, units=drug.units // 2, charge_cents=drug.charge_cents // 2,
                   ndc_quantity=format_quantity(Decimal(drug.ndc_quantity) / 2),
                   modifiers=list(drug.modifiers), control_number="")
    claim.lines[0] = half
    claim.lines.insert(1, replace(half, modifiers=list(half.modifiers)))


def _write_night(out, kind: str, rng: random.Random, sent: list) -> None:
    """One interchange: a transaction set per billing provider, a subscriber loop per
    member with that night's claims."""
    segments = SegmentWriter(out, "~", "\n")
    writer = WRITERS[kind](segments, kind)
    interchange, group = rng.randrange(1, 10**9), rng.randrange(1, 10**6)
    segments.raw(isa_segment("EDI837SYN", "EXCLEAR01", interchange))
    segments.segment("GS", "HC", "EDI837SYN", "EXCLEAR01", d8(CREATED), "1200", str(group), "X",
                     GUIDE_VERSION[kind])
    by_billing: dict[str, tuple] = {}
    for member, billing, claim in sent:
        providers = by_billing.setdefault(billing.npi, (billing, {}))
        providers[1].setdefault(id(member), (member, []))[1].append(claim)
    for number, (billing, members) in enumerate(by_billing.values(), 1):
        control = f"{number:04d}"
        writer.start(control, f"N{interchange:09d}{control}", billing)
        for member, claims in members.values():
            writer.patient(replace(member, claims=claims))
        writer.finish(control)
        segments.flush()
    segments.segment("GE", str(len(by_billing)), str(group))
    segments.raw(f"IEA{ELEMENT}1{ELEMENT}{interchange:09d}")
    segments.flush()
