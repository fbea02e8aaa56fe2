"""Synthetic 837P and 837I claim files: realistic, deterministic by seed, any size.

There is no shareable corpus of real claim files, so tests, demos and load runs
use files made here.  Every name, member id, NPI and control number is made up;
NPIs carry a valid Luhn check digit (prefix 80840) so NPI checks pass.

What a file holds (005010X222A1 for 837P, 005010X223A2 for 837I):

* one ISA/IEA interchange with one GS/GE group, split into ST/SE transaction
  sets of at most `claims_per_st` claims, each with one billing provider (2000A);
* subscribers who are the patient (2000B with claims) and dependants (2000B,
  then 2000C with the claims);
* about 75% J2350 ocrelizumab claims: a 600 mg maintenance dose, or the two
  300 mg initial doses 14 days apart for one patient, billed with JZ, NDC
  50242015001 and `CTP****10*ML` per 300 mg vial, plus the infusion lines
  (96365/96366 or 96413/96415) and an MS diagnosis valid on the date (G35 before
  2025-10-01, G35.A-G35.D from then on);
* other infused or injected drugs (J3262 tocilizumab with weight-based doses
  and a JW line for the discarded part of the last vial, J3380 vedolizumab,
  J2357 omalizumab, J2323 natalizumab) and office or clinic visits;
* now and then loops the drug rules do not need (2320/2330 other payer with
  2430 line adjudication, PWK attachments, prior authorisation, line control
  numbers), so a reader is exercised on them.

About `defect_rate` of the drug claims carry one billing defect, each a
realistic mistake that stays valid for the implementation guide (pyx12 accepts
the file): missing JZ, JW with JZ, a hyphenated, wrong or missing NDC, Ocrevus
Zunovo's NDC on J2350, a zero or inconsistent NDC quantity, 450 or 900 units,
bare G35 on or after 2025-10-01 (or G35.x before), no MS diagnosis, no or the
wrong administration line, an SV107 pointer past the last diagnosis (837P) and
revenue code 0250 (837I).  `DEFECT_RULES` maps each defect to the rule codes
of the rule catalog it should trigger; `generate()` returns how many claims
carry each defect, so a checker's findings can be compared with it.

The file is written segment by segment, one patient at a time, so memory stays
flat however large the output (a 500 MB file takes under a minute and about
20 MB of memory).  With `size=` the file ends at the patient boundary nearest
to the target.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Callable, Iterator, TextIO

GUIDE_VERSION = {"837P": "005010X222A1", "837I": "005010X223A2"}

# The interchange date is fixed, not today's, so that a seed always gives the
# same bytes.  Services fall between FIRST_SERVICE and LAST_SERVICE.
CREATED = date(2026, 12, 15)
FIRST_SERVICE = date(2025, 1, 2)
LAST_SERVICE = date(2026, 11, 30)

# FY2026 ICD-10-CM split G35 into G35.A-G35.D; bare G35 is billable only before.
G35_SPLIT = date(2025, 10, 1)
MS_SUBTYPES = ("G35A", "G35A", "G35A", "G35B0", "G35B1", "G35C1", "G35D")

ELEMENT, COMPONENT, REPETITION = "*", ":", "^"


# --------------------------------------------------------------------------
# Reference facts the scenarios need (see shared billing-rules.md, sections 2
# and 5).  The checker reads its own drug table; this is only what a
# believable claim looks like.
# --------------------------------------------------------------------------

# Infusion codes: ocrelizumab may be billed with either pair (billing-rules 2.5).
THERAPEUTIC_INFUSION = ("96365", "96366")
COMPLEX_INFUSION = ("96413", "96415")
SUBCUTANEOUS_INJECTION = ("96372",)


@dataclass(frozen=True, slots=True)
class DrugProduct:
    """A billable drug as the scenarios use it: one NDC, one vial size."""

    hcpcs: str
    name: str
    ndc: str                 # 11-digit 5-4-2 form billed in LIN03
    labeler_ndc: str         # FDA's hyphenated 10-digit form (a common defect)
    mg_per_unit: int         # HCPCS billing unit (J2357: 1 unit = 5 mg)
    vial_mg: int
    vial_quantity: Decimal   # CTP04 for one vial
    ndc_unit: str            # CTP05-1
    doses_mg: tuple[int, ...]
    admin_codes: tuple[str, ...]  # initial code, then the add-on if any
    diagnoses: tuple[str, ...]    # empty: multiple sclerosis, by date
    cents_per_unit: int

    def units(self, mg: int) -> int:
        return mg // self.mg_per_unit

    def ndc_quantity(self, mg: int) -> Decimal:
        return self.vial_quantity * mg / self.vial_mg


OCRELIZUMAB = DrugProduct(
    "J2350", "ocrelizumab", "50242015001", "50242-150-01", 1, 300, Decimal(10), "ML",
    (300, 600), THERAPEUTIC_INFUSION, (), 5200)
TOCILIZUMAB = DrugProduct(
    "J3262", "tocilizumab", "50242013601", "50242-136-01", 1, 200, Decimal(10), "ML",
    (), THERAPEUTIC_INFUSION[:1], ("M0579", "M069", "M316"), 560)
VEDOLIZUMAB = DrugProduct(
    "J3380", "vedolizumab", "64764030020", "64764-300-20", 1, 300, Decimal(1), "UN",
    (300,), THERAPEUTIC_INFUSION[:1], ("K5090", "K5190", "K5010"), 2450)
OMALIZUMAB = DrugProduct(
    "J2357", "omalizumab", "50242004062", "50242-040-62", 5, 150, Decimal(1), "UN",
    (150, 300, 450, 600), SUBCUTANEOUS_INJECTION, ("J4550", "J4540", "L501"), 14800)
NATALIZUMAB = DrugProduct(
    "J2323", "natalizumab", "64406000801", "64406-008-01", 1, 300, Decimal(15), "ML",
    (300,), THERAPEUTIC_INFUSION[:1], (), 2100)
OTHER_DRUGS = (TOCILIZUMAB, VEDOLIZUMAB, OMALIZUMAB, NATALIZUMAB)

ZUNOVO_NDC = "50242055401"  # Ocrevus Zunovo (subcutaneous), billed as J2351

PROCEDURE_CENTS = {
    "96365": 42000, "96366": 11000, "96413": 51000, "96415": 12500, "96372": 6500,
    "99213": 14500, "99214": 21000, "99215": 29000, "36415": 1500, "85025": 2800,
    "80053": 4500, "G0463": 25000,
}
# 837I revenue codes: drugs needing detailed coding, IV therapy, chemo
# administration, clinic, laboratory.
DRUG_REVENUE = "0636"
ADMIN_REVENUE = {"96365": "0260", "96366": "0260", "96413": "0335", "96415": "0335",
                 "96372": "0510"}
VISIT_REVENUE = {"G0463": "0510", "99213": "0510", "99214": "0510", "85025": "0300",
                 "80053": "0301", "36415": "0300"}
VISIT_DIAGNOSES = ("I10", "E119", "E785", "M5450", "J069", "R5383", "K219", "F419")
SECONDARY_DIAGNOSIS = "Z79899"  # other long term (current) drug therapy

NEUROLOGY, RHEUMATOLOGY, INTERNAL_MEDICINE = "2084N0400X", "207RR0500X", "207R00000X"


@dataclass(frozen=True, slots=True)
class Payer:
    name: str
    payer_id: str
    filing_indicator: str  # SBR09
    government: bool = False  # Medicare/Medicaid members have no dependants here


PROFESSIONAL_PAYERS = (
    Payer("EXAMPLE MEDICARE PART B MAC", "99901", "MB", True),
    Payer("EXAMPLE BLUE CROSS BLUE SHIELD", "99902", "BL"),
    Payer("SAMPLE COMMERCIAL HEALTH PLAN", "99903", "CI"),
    Payer("EXAMPLE STATE MEDICAID", "99904", "MC", True),
    Payer("EXAMPLE MEDICARE ADVANTAGE HMO", "99905", "16"),
    Payer("SAMPLE HMO OF THE VALLEY", "99906", "HM"),
)
# Hospitals bill Medicare outpatient claims with filing indicator MA.
INSTITUTIONAL_PAYERS = (Payer("EXAMPLE MEDICARE PART A MAC", "99911", "MA", True),) + \
    PROFESSIONAL_PAYERS[1:]
PAYER_WEIGHTS = (40, 15, 20, 8, 10, 7)
SUPPLEMENTAL_PAYER = Payer("SAMPLE MEDIGAP SUPPLEMENT", "99907", "CI")

FIRST_NAMES = ("ALEX", "JORDAN", "MORGAN", "TAYLOR", "CASEY", "RILEY", "JAMIE", "AVERY",
               "QUINN", "ROWAN", "HARPER", "EMERSON", "SAGE", "DAKOTA", "REESE", "PARKER",
               "SKYLER", "CAMERON", "ELLIOT", "FINLEY", "MARLOWE", "TEAGAN", "BLAIR", "LANE")
LAST_NAMES = ("ALDERWOOD", "BRACKETT", "CORVELLO", "DUNMORE", "ESTRADEL", "FAIRWEATHER",
              "GALLOWAY", "HOLLOWELL", "IVERSEN", "JANSKY", "KETTERING", "LINDQVIST",
              "MARROW", "NETHERBY", "OKAFOR", "PEMBERLY", "QUILLAN", "ROSSITER", "SANDOVAL",
              "THORNBURY", "UPTON", "VANTERPOOL", "WHITLOCK", "YARBRO", "ZELLWEGER")
STREETS = ("MAPLE AVE", "CEDAR LN", "HARBOR RD", "ORCHARD ST", "LAKEVIEW DR", "BIRCH CT",
           "MILL RD", "SUMMIT BLVD", "WILLOW WAY", "RIVER ST", "HIGHLAND AVE", "PINE ST")
PLACES = (("RIVERTON", "OH", "43210"), ("OAKDALE", "MN", "55128"), ("FAIRVIEW", "TX", "75069"),
          ("LAKEWOOD", "CO", "80226"), ("BROOKHAVEN", "GA", "30319"), ("MILLBROOK", "NY", "12545"),
          ("WESTFIELD", "NJ", "07090"), ("CLAYTON", "NC", "27520"), ("ASHLAND", "OR", "97520"))
PRACTICES = ("NORTHFIELD NEUROLOGY ASSOCIATES", "LAKESIDE INFUSION CENTER",
             "VALLEY MS CARE CENTER", "SUMMIT RHEUMATOLOGY AND INFUSION")
HOSPITALS = ("RIVERBEND COMMUNITY HOSPITAL", "SAINT ELSEWHERE MEDICAL CENTER",
             "HIGHLAND REGIONAL HOSPITAL", "MERCY VALLEY HEALTH")
INFUSION_SITES = ("OUTPATIENT INFUSION SUITE", "NEURO INFUSION CLINIC", "AMBULATORY INFUSION UNIT")


# --------------------------------------------------------------------------
# The claim model the scenarios fill in and the writers render.
# --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Address:
    street: str
    city: str
    state: str
    zip_code: str


@dataclass(frozen=True, slots=True)
class Provider:
    """A physician (last and first name) or an organisation (first is empty)."""

    last: str
    first: str
    npi: str
    taxonomy: str = ""
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Person:
    last: str
    first: str
    middle: str
    address: Address
    birth_date: date
    sex: str


@dataclass(frozen=True, slots=True)
class Coverage:
    payer: Payer
    member_id: str
    group_number: str


@dataclass(slots=True)
class ServiceLine:
    procedure: str
    units: int
    charge_cents: int
    service_date: date | None
    modifiers: list[str] = field(default_factory=list)
    revenue_code: str = ""        # 837I SV201
    pointers: list[int] = field(default_factory=lambda: [1])  # 837P SV107
    unit_basis: str = "UN"
    ndc: str | None = None
    ndc_qualifier: str = "N4"
    ndc_quantity: str = ""
    ndc_unit: str = ""
    ordering: Provider | None = None
    control_number: str = ""      # REF*6R
    other_payer_paid_cents: int | None = None  # 2430 SVD, when another payer paid

    @property
    def is_drug(self) -> bool:
        # The rule catalog's drug line: a J-code, or any line with a 2410 LIN.
        return self.procedure.startswith("J") or self.ndc is not None


@dataclass(slots=True)
class OtherCoverage:
    """The primary payer of a claim now billed to a secondary (loop 2320/2330)."""

    payer: Payer
    member_id: str
    paid_cents: int
    adjudicated: date


@dataclass(slots=True)
class Claim:
    claim_id: str
    service_date: date
    diagnoses: list[str]
    lines: list[ServiceLine]
    place_of_service: str = "11"
    rendering: Provider | None = None
    attending: Provider | None = None   # 837I
    referring: Provider | None = None
    facility: Provider | None = None
    prior_authorization: str = ""
    attachment_control: str = ""        # PWK
    other_coverage: OtherCoverage | None = None
    defect: str | None = None

    @property
    def charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


@dataclass(slots=True)
class Patient:
    """One subscriber with the claims of the subscriber or of one dependant."""

    subscriber: Person
    coverage: Coverage
    dependant: Person | None = None     # None: the subscriber is the patient
    relationship: str = "18"            # PAT01 when dependant: 01 spouse, 19 child
    claims: list[Claim] = field(default_factory=list)


# --------------------------------------------------------------------------
# Made-up identities.
# --------------------------------------------------------------------------

def npi_check_digit(first_nine: str) -> str:
    """Luhn check digit over '80840' + the first nine digits (the NPI rule)."""
    total = 0
    for position, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if position % 2 == 0:  # every second digit from the right, starting next to the check digit
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def make_npi(rng: random.Random) -> str:
    first_nine = str(rng.choice((1, 2))) + f"{rng.randrange(10**8):08d}"
    return first_nine + npi_check_digit(first_nine)


# Medicare Beneficiary Identifier letters leave out S, L, O, I, B and Z.
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def make_mbi(rng: random.Random) -> str:
    def letter() -> str:
        return rng.choice(MBI_LETTERS)

    def either() -> str:
        return rng.choice(MBI_LETTERS + "0123456789")

    def digit() -> str:
        return str(rng.randrange(10))

    return (str(rng.randrange(1, 10)) + letter() + either() + digit() + letter() + either()
            + digit() + letter() + letter() + digit() + digit())


def make_member_id(rng: random.Random, payer: Payer) -> str:
    if payer.filing_indicator in ("MB", "MA"):
        return make_mbi(rng)
    prefix = "".join(rng.choice("ABCDEFGHJKMNPRSTUVWXYZ") for _ in range(3))
    return prefix + f"{rng.randrange(10**9):09d}"


def make_address(rng: random.Random) -> Address:
    city, state, zip_code = rng.choice(PLACES)
    return Address(f"{rng.randrange(10, 9900)} {rng.choice(STREETS)}", city, state, zip_code)


def make_person(rng: random.Random, born_after: int, born_before: int, address: Address | None = None,
                last: str | None = None) -> Person:
    birth = date(rng.randrange(born_after, born_before), rng.randrange(1, 13), rng.randrange(1, 29))
    return Person(last or rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES), rng.choice("ABCDEJKLMRST"),
                  address or make_address(rng), birth, rng.choice("FFM"))  # MS affects women more


def make_physician(rng: random.Random, taxonomy: str) -> Provider:
    return Provider(rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES), make_npi(rng), taxonomy)


def make_organisation(rng: random.Random, name: str, taxonomy: str = "") -> Provider:
    return Provider(name, "", make_npi(rng), taxonomy, make_address(rng))


def service_day(rng: random.Random, first: date = FIRST_SERVICE, last: date = LAST_SERVICE) -> date:
    """A weekday between first and last: infusion centres are closed at weekends."""
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    while day.weekday() >= 5:
        day -= timedelta(days=day.weekday() - 4)
    return max(day, first)


def ms_diagnosis(service_date: date, subtype: str) -> str:
    """The MS code valid on the date: bare G35 before the FY2026 split, the subtype after."""
    return "G35" if service_date < G35_SPLIT else subtype


# --------------------------------------------------------------------------
# Scenarios: clean claims as a careful biller would send them.
# --------------------------------------------------------------------------

class ClaimFactory:
    """Builds patients and their claims for one file from one random stream."""

    def __init__(self, rng: random.Random, kind: str, defect_rate: float):
        self.rng = rng
        self.kind = kind
        self.institutional = kind == "837I"
        self.defect_rate = defect_rate
        self.claim_count = 0
        self.payers = INSTITUTIONAL_PAYERS if self.institutional else PROFESSIONAL_PAYERS
        self.neurologists = [make_physician(rng, NEUROLOGY) for _ in range(12)]
        self.specialists = [make_physician(rng, rng.choice((RHEUMATOLOGY, INTERNAL_MEDICINE)))
                            for _ in range(10)]
        self.referrers = [make_physician(rng, INTERNAL_MEDICINE) for _ in range(10)]
        site_names = HOSPITALS if self.institutional else PRACTICES
        self.billing_providers = [make_organisation(rng, name, "282N00000X" if self.institutional
                                                    else "261QI0500X") for name in site_names]
        self.facilities = [make_organisation(rng, name) for name in INFUSION_SITES + site_names]
        self.defects = DEFECTS[kind]

    # ----- patients --------------------------------------------------------

    def patient(self) -> Patient:
        """A patient and the claims of one episode of care (one or two claims)."""
        rng = self.rng
        payer = rng.choices(self.payers, PAYER_WEIGHTS)[0]
        coverage = Coverage(payer, make_member_id(rng, payer),
                            "" if payer.government else f"GRP{rng.randrange(10**6):06d}")
        secondary = rng.random() < 0.08
        if secondary:
            # A Medicare beneficiary's supplement, billed after Medicare paid.
            coverage = Coverage(SUPPLEMENTAL_PAYER, make_member_id(rng, SUPPLEMENTAL_PAYER),
                                f"MG{rng.randrange(10**6):06d}")
        if secondary or payer.government or rng.random() < 0.7:
            patient = Patient(make_person(rng, 1950, 2000), coverage)
        else:
            subscriber = make_person(rng, 1955, 1995)
            relationship = rng.choice(("01", "01", "19"))
            born = (1958, 1998) if relationship == "01" else (2001, 2007)
            dependant = make_person(rng, *born, address=subscriber.address, last=subscriber.last)
            patient = Patient(subscriber, coverage, dependant, relationship)
        patient.claims = self.episode()
        if secondary:
            for claim in patient.claims:
                self.add_primary_payment(claim)
        return patient

    def episode(self) -> list[Claim]:
        # Weights give about 75% J2350 claims counting the two-claim start.
        scenario = self.rng.choices(
            (self.ocrelizumab_maintenance, self.ocrelizumab_start, self.other_drug, self.visit),
            (58, 10, 11, 16))[0]
        return scenario()

    # ----- drug claims -----------------------------------------------------

    def ocrelizumab_maintenance(self) -> list[Claim]:
        day = service_day(self.rng)
        subtype = self.rng.choice(MS_SUBTYPES)
        return [self.ocrelizumab_claim(day, 600, subtype)]

    def ocrelizumab_start(self) -> list[Claim]:
        """The label's start: 300 mg, then 300 mg two weeks later (same patient)."""
        first = service_day(self.rng, last=LAST_SERVICE - timedelta(days=16))
        second = first + timedelta(days=14)
        subtype = self.rng.choice(MS_SUBTYPES)
        return [self.ocrelizumab_claim(first, 300, subtype),
                self.ocrelizumab_claim(second, 300, subtype)]

    def ocrelizumab_claim(self, day: date, mg: int, subtype: str) -> Claim:
        rng = self.rng
        infusion = THERAPEUTIC_INFUSION if rng.random() < 0.7 else COMPLEX_INFUSION
        # 600 mg runs about 3.5 hours, 300 mg about 2.5: initial hour plus add-on hours.
        extra_hours = (3 if mg == 600 else 2) - rng.choice((0, 0, 1))
        claim = self.drug_claim(OCRELIZUMAB, day, mg, [ms_diagnosis(day, subtype)],
                                infusion, extra_hours)
        return self.maybe_defective(claim, OCRELIZUMAB, subtype)

    def other_drug(self) -> list[Claim]:
        rng = self.rng
        drug = rng.choice(OTHER_DRUGS)
        day = service_day(rng)
        if drug is TOCILIZUMAB:
            # Weight-based: 4 or 8 mg/kg, at most 800 mg, rounded to 10 mg.
            kilograms = rng.randrange(50, 111)
            mg = min(800, round(kilograms * rng.choice((4, 8)), -1))
        else:
            mg = rng.choice(drug.doses_mg)
        subtype = None if drug.diagnoses else rng.choice(MS_SUBTYPES)
        diagnoses = [ms_diagnosis(day, subtype) if subtype else rng.choice(drug.diagnoses)]
        claim = self.drug_claim(drug, day, mg, diagnoses, drug.admin_codes, 0)
        return [self.maybe_defective(claim, drug, subtype)]

    def drug_claim(self, drug: DrugProduct, day: date, mg: int, diagnoses: list[str],
                   admin_codes: tuple[str, ...], extra_hours: int) -> Claim:
        rng = self.rng
        if rng.random() < 0.35:
            diagnoses.append(SECONDARY_DIAGNOSIS)
        prescriber = rng.choice(self.neurologists if not drug.diagnoses else self.specialists)
        claim = self.new_claim(day, diagnoses, prescriber)
        if self.institutional and claim.referring is None:
            # 837I has no line-level ordering provider (2420E); name the referrer
            # so the drug is traceable to an order (DOC004).
            claim.referring = rng.choice(self.referrers)
        claim.lines = self.drug_lines(drug, day, mg, prescriber)
        claim.lines += self.admin_lines(day, admin_codes, extra_hours)
        if rng.random() < 0.25:
            claim.prior_authorization = f"PA{rng.randrange(10**8):08d}"
        return claim

    def drug_lines(self, drug: DrugProduct, day: date, mg: int, prescriber: Provider) -> list[ServiceLine]:
        """JZ when whole vials were given; else the given amount plus a JW line for the rest."""
        vials = -(-mg // drug.vial_mg)
        discarded_mg = vials * drug.vial_mg - mg
        given = self.drug_line(drug, day, mg, prescriber, [] if discarded_mg else ["JZ"])
        if not discarded_mg:
            return [given]
        return [given, self.drug_line(drug, day, discarded_mg, prescriber, ["JW"])]

    def drug_line(self, drug: DrugProduct, day: date, mg: int, prescriber: Provider,
                  modifiers: list[str]) -> ServiceLine:
        units = drug.units(mg)
        return ServiceLine(
            drug.hcpcs, units, units * drug.cents_per_unit, day, modifiers,
            revenue_code=DRUG_REVENUE, ndc=drug.ndc,
            ndc_quantity=format_quantity(drug.ndc_quantity(mg)), ndc_unit=drug.ndc_unit,
            ordering=None if self.institutional else prescriber,
            control_number=self.line_control_number())

    def admin_lines(self, day: date, codes: tuple[str, ...], extra_hours: int) -> list[ServiceLine]:
        initial, *add_on = codes
        lines = [self.procedure_line(initial, 1, day, ADMIN_REVENUE[initial])]
        if add_on and extra_hours:
            lines.append(self.procedure_line(add_on[0], extra_hours, day, ADMIN_REVENUE[add_on[0]]))
        return lines

    # ----- visits ------------------------------------------------------------

    def visit(self) -> list[Claim]:
        rng = self.rng
        day = service_day(rng)
        diagnoses = rng.sample(VISIT_DIAGNOSES, rng.choice((1, 2, 3)))
        physician = rng.choice(self.referrers + self.specialists)
        claim = self.new_claim(day, diagnoses, physician)
        visit_code = "G0463" if self.institutional else rng.choice(("99213", "99213", "99214", "99215"))
        pointers = list(range(1, len(diagnoses) + 1))
        claim.lines = [self.procedure_line(visit_code, 1, day, VISIT_REVENUE.get(visit_code, ""), pointers)]
        for lab in rng.sample(("36415", "85025", "80053"), rng.choice((0, 0, 1, 2))):
            claim.lines.append(self.procedure_line(lab, 1, day, VISIT_REVENUE[lab], [1]))
        if not self.institutional:
            # Physicians bill drugs only from the office (POS 11); visits may be
            # in the hospital outpatient department too.
            claim.place_of_service = rng.choice(("11", "11", "22"))
            if claim.place_of_service == "11" and rng.random() < 0.4:
                claim.facility = None  # seen at the billing provider's own address
        return [claim]

    # ----- shared parts --------------------------------------------------------

    def new_claim(self, day: date, diagnoses: list[str], physician: Provider) -> Claim:
        rng = self.rng
        self.claim_count += 1
        claim = Claim(f"{self.kind[-1]}{day:%y%m}{self.claim_count:07d}", day, diagnoses, [])
        claim.facility = rng.choice(self.facilities)
        claim.rendering = physician
        if self.institutional:
            claim.attending = physician
        if rng.random() < 0.35:
            claim.referring = rng.choice(self.referrers)
        if rng.random() < 0.04:
            claim.attachment_control = f"ATT{rng.randrange(10**7):07d}"
        return claim

    def procedure_line(self, code: str, units: int, day: date, revenue_code: str,
                       pointers: list[int] | None = None) -> ServiceLine:
        return ServiceLine(code, units, units * PROCEDURE_CENTS[code], day, [],
                           revenue_code=revenue_code, pointers=pointers or [1],
                           control_number=self.line_control_number())

    def line_control_number(self) -> str:
        return f"LC{self.rng.randrange(10**9):09d}" if self.rng.random() < 0.3 else ""

    def add_primary_payment(self, claim: Claim) -> None:
        """Medicare (the first payer of the kind) paid first; its line payments go in 2430."""
        paid = 0
        for line in claim.lines:
            line.other_payer_paid_cents = line.charge_cents * 8 // 10
            paid += line.other_payer_paid_cents
        adjudicated = claim.service_date + timedelta(days=self.rng.randrange(14, 40))
        claim.other_coverage = OtherCoverage(self.payers[0], make_mbi(self.rng), paid, adjudicated)

    # ----- defects -------------------------------------------------------------

    def maybe_defective(self, claim: Claim, drug: DrugProduct, ms_subtype: str | None) -> Claim:
        if self.rng.random() >= self.defect_rate:
            return claim
        candidates = [defect for defect in self.defects
                      if defect.applies_to(claim, drug, ms_subtype is not None)]
        defect = self.rng.choice(candidates)
        defect.apply(self.rng, claim, drug, ms_subtype)
        claim.defect = defect.name
        return claim


def format_quantity(quantity: Decimal) -> str:
    """A decimal the X12 way: no exponent, no trailing zeros after the point."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_money(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else format_quantity(Decimal(cents) / 100)


# --------------------------------------------------------------------------
# Billing defects (the rule codes they should trigger are in the docstrings).
# --------------------------------------------------------------------------

def first_drug_line(claim: Claim) -> ServiceLine:
    return next(line for line in claim.lines if line.is_drug)


def missing_jz(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """MOD001: neither JW nor JZ on a single-dose drug given in whole vials."""
    first_drug_line(claim).modifiers = []


def jw_and_jz(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """MOD002: JW and JZ on the same line."""
    first_drug_line(claim).modifiers = ["JW", "JZ"]


def hyphenated_ndc(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """NDC002: the FDA's 10-digit hyphenated NDC instead of the 11-digit 5-4-2 form."""
    for line in claim.lines:
        if line.ndc:
            line.ndc = drug.labeler_ndc


def wrong_ndc(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """NDC004: another drug's NDC on the line."""
    other = rng.choice([product for product in (OCRELIZUMAB,) + OTHER_DRUGS if product is not drug])
    first_drug_line(claim).ndc = other.ndc


def zunovo_ndc(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """NDC004: Ocrevus Zunovo's NDC on J2350 (Zunovo is J2351)."""
    first_drug_line(claim).ndc = ZUNOVO_NDC


def zero_ndc_quantity(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """NDC005: CTP04 zero (CTP04/CTP05 are required, so 'missing' cannot be sent)."""
    first_drug_line(claim).ndc_quantity = "0"


def ndc_quantity_mismatch(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """NDC007: half the NDC quantity the billed units need (one vial for a two-vial dose)."""
    line = first_drug_line(claim)
    line.ndc_quantity = format_quantity(drug.ndc_quantity(line.units * drug.mg_per_unit) / 2)


def missing_ndc(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """NDC001: drug line without its 2410 LIN/CTP."""
    first_drug_line(claim).ndc = None


def bill_units(line: ServiceLine, drug: DrugProduct, mg: int) -> None:
    """Bill `mg` on the line, keeping charge and NDC quantity consistent with it."""
    line.units = drug.units(mg)
    line.charge_cents = line.units * drug.cents_per_unit
    line.ndc_quantity = format_quantity(drug.ndc_quantity(mg))


def units_450_with_jz(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """UNT001 (not a labeled dose) and MOD005 (JZ on a partly used vial)."""
    bill_units(first_drug_line(claim), drug, 450)


def units_900(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """UNT001 (not a labeled dose) and UNT002 (above the 600 mg maximum)."""
    bill_units(first_drug_line(claim), drug, 900)


def bare_g35_after_split(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """DX002: bare G35 on or after 2025-10-01 (a stale code list)."""
    claim.diagnoses[0] = "G35"


def subtype_before_split(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """DX002: a G35.x subtype code before it existed (before 2025-10-01)."""
    claim.diagnoses[0] = subtype or "G35A"


def unsupported_diagnosis(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """DX001: no MS diagnosis, only the symptom (R26.2, difficulty in walking).

    Not G37.9 or G36.x: the drug table keeps those as review-only support for J2350.
    """
    claim.diagnoses[0] = "R262"


def missing_admin_line(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """ADM001: the infusion lines were left off."""
    claim.lines = [line for line in claim.lines if line.is_drug]


def subcutaneous_admin(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """ADM002: an IV drug billed with the subcutaneous injection code 96372."""
    code = SUBCUTANEOUS_INJECTION[0]
    injection = ServiceLine(code, 1, PROCEDURE_CENTS[code], claim.service_date,
                            revenue_code=ADMIN_REVENUE[code])
    claim.lines = [line for line in claim.lines if line.is_drug] + [injection]


def pointer_past_last_diagnosis(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """DX004 (837P): a second SV107 pointer at an HI position the claim does not have.

    The first pointer stays on the MS diagnosis so DX003 does not fire as well.
    """
    first_drug_line(claim).pointers = [1, len(claim.diagnoses) + rng.choice((1, 2))]


def general_pharmacy_revenue(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """REV001 (837I): drug line under revenue code 0250 instead of 0636."""
    for line in claim.lines:
        if line.is_drug:
            line.revenue_code = "0250"


@dataclass(frozen=True, slots=True)
class Defect:
    """A billing defect, the rule codes it should trigger, and where it can go."""

    name: str
    rules: tuple[str, ...]
    apply: Callable[[random.Random, Claim, DrugProduct, str | None], None]
    only_ocrelizumab: bool = False
    needs_ms: bool = False
    whole_vials: bool = False  # only where the drug line is a single JZ line
    # Date-bound defects pick claims on the right side of the G35 split rather
    # than move a date (which would break the 14-day start pair).
    on_or_after: date = FIRST_SERVICE
    before: date = LAST_SERVICE + timedelta(days=1)

    def applies_to(self, claim: Claim, drug: DrugProduct, treats_ms: bool) -> bool:
        if self.only_ocrelizumab and drug is not OCRELIZUMAB:
            return False
        if self.needs_ms and not treats_ms:
            return False
        if not self.on_or_after <= claim.service_date < self.before:
            return False
        return not self.whole_vials or drug is not TOCILIZUMAB


COMMON_DEFECTS = (
    Defect("missing_jz", ("MOD001",), missing_jz, whole_vials=True),
    # The JW:JZ line is also a JW line with no administered line beside it.
    Defect("jw_and_jz", ("MOD002", "MOD003"), jw_and_jz, whole_vials=True),
    Defect("hyphenated_ndc", ("NDC002",), hyphenated_ndc),
    Defect("wrong_ndc", ("NDC004",), wrong_ndc),
    Defect("zunovo_ndc", ("NDC004",), zunovo_ndc, only_ocrelizumab=True),
    Defect("zero_ndc_quantity", ("NDC005",), zero_ndc_quantity),
    Defect("ndc_quantity_mismatch", ("NDC007",), ndc_quantity_mismatch, only_ocrelizumab=True),
    Defect("missing_ndc", ("NDC001",), missing_ndc),
    Defect("units_450_with_jz", ("UNT001", "MOD005"), units_450_with_jz, only_ocrelizumab=True),
    Defect("units_900", ("UNT001", "UNT002"), units_900, only_ocrelizumab=True),
    Defect("bare_g35_after_split", ("DX002",), bare_g35_after_split, needs_ms=True,
           on_or_after=G35_SPLIT),
    Defect("subtype_before_split", ("DX002",), subtype_before_split, needs_ms=True, before=G35_SPLIT),
    Defect("unsupported_diagnosis", ("DX001",), unsupported_diagnosis, needs_ms=True),
    Defect("missing_admin_line", ("ADM001",), missing_admin_line),
    # 96372 is not one of J2350's infusion codes, so ADM001 comes with ADM002.
    Defect("subcutaneous_admin", ("ADM002", "ADM001"), subcutaneous_admin, only_ocrelizumab=True),
)
DEFECTS = {
    "837P": COMMON_DEFECTS + (
        Defect("pointer_past_last_diagnosis", ("DX004",), pointer_past_last_diagnosis),),
    "837I": COMMON_DEFECTS + (
        Defect("general_pharmacy_revenue", ("REV001",), general_pharmacy_revenue),),
}
# Defect name -> the error and warning rule codes of the rule catalog it should
# trigger (info findings such as DOC001 come on clean claims too).
DEFECT_RULES = {defect.name: defect.rules for defects in DEFECTS.values() for defect in defects}


# --------------------------------------------------------------------------
# Writing X12.
# --------------------------------------------------------------------------

class SegmentWriter:
    """Renders segments into a small buffer and writes it out in pieces.

    Counts what the trailers need (segments since ST) and what the caller
    reports (characters written; the text is ASCII, so bytes as well).
    """

    def __init__(self, out: TextIO, terminator: str, newline: str):
        self.out = out
        self.end = terminator + newline
        self.buffer: list[str] = []
        self.written = 0
        self.segments_in_transaction = 0

    def segment(self, segment_id: str, *elements: str | tuple[str, ...]) -> None:
        fields = [segment_id]
        for element in elements:
            if isinstance(element, tuple):
                element = COMPONENT.join(element).rstrip(COMPONENT)
            fields.append(element)
        while fields[-1] == "":  # X12 drops trailing empty elements
            fields.pop()
        text = ELEMENT.join(fields) + self.end
        self.buffer.append(text)
        self.written += len(text)
        self.segments_in_transaction += 1

    def raw(self, text: str) -> None:
        """A segment that must keep its exact layout (ISA's fixed widths)."""
        text += self.end
        self.buffer.append(text)
        self.written += len(text)

    def flush(self) -> None:
        self.out.write("".join(self.buffer))
        self.buffer.clear()


def isa_segment(sender: str, receiver: str, control_number: int) -> str:
    """ISA is fixed-width: 106 characters with its terminator."""
    return ELEMENT.join((
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{sender:<15}", "ZZ", f"{receiver:<15}",
        f"{CREATED:%y%m%d}", "1200", REPETITION, "00501", f"{control_number:09d}", "0", "T",
        COMPONENT))


def d8(day: date) -> str:
    return f"{day:%Y%m%d}"


class TransactionWriter:
    """Writes ST..SE transaction sets of one kind, patient by patient."""

    def __init__(self, writer: SegmentWriter, kind: str):
        self.w = writer
        self.kind = kind
        self.version = GUIDE_VERSION[kind]
        self.hl = 0
        self.current: Patient | None = None

    # ----- envelope ------------------------------------------------------------

    def start(self, control_number: str, batch: str, billing: Provider) -> None:
        w = self.w
        w.segments_in_transaction = 0
        w.segment("ST", "837", control_number, self.version)
        w.segment("BHT", "0019", "00", batch, d8(CREATED), "1200", "CH")
        w.segment("NM1", "41", "2", "SYNTHETIC CLAIMS SUBMITTER", "", "", "", "", "46", "EDI837SYN")
        w.segment("PER", "IC", "EDI DESK", "TE", "5555550100")
        w.segment("NM1", "40", "2", "EXAMPLE CLEARINGHOUSE", "", "", "", "", "46", "EXCLEAR01")
        self.hl = 1
        w.segment("HL", "1", "", "20", "1")
        w.segment("PRV", "BI", "PXC", billing.taxonomy)
        w.segment("NM1", "85", "2", billing.last, "", "", "", "", "XX", billing.npi)
        self.address(billing.address, zip_plus_four=True)
        w.segment("REF", "EI", "99" + billing.npi[2:9])  # a made-up EIN

    def finish(self, control_number: str) -> None:
        self.w.segment("SE", str(self.w.segments_in_transaction + 1), control_number)

    # ----- subscriber and patient ----------------------------------------------

    def patient(self, patient: Patient) -> None:
        w = self.w
        self.current = patient
        subscriber_hl = self.hl = self.hl + 1
        has_dependant = patient.dependant is not None
        w.segment("HL", str(subscriber_hl), "1", "22", "1" if has_dependant else "0")
        coverage = patient.coverage
        w.segment("SBR", "S" if self.secondary(patient) else "P", "" if has_dependant else "18",
                  coverage.group_number, "", "", "", "", "", coverage.payer.filing_indicator)
        self.person("IL", patient.subscriber, coverage.member_id)
        w.segment("NM1", "PR", "2", coverage.payer.name, "", "", "", "", "PI", coverage.payer.payer_id)
        if has_dependant:
            self.hl += 1
            w.segment("HL", str(self.hl), str(subscriber_hl), "23", "0")
            w.segment("PAT", patient.relationship)
            self.person("QC", patient.dependant, None)
        for claim in patient.claims:
            self.claim(claim)

    @staticmethod
    def secondary(patient: Patient) -> bool:
        """Billed to a second payer after another paid (2320 on every claim)."""
        return any(claim.other_coverage for claim in patient.claims)

    def person(self, qualifier: str, person: Person, member_id: str | None) -> None:
        w = self.w
        if member_id:
            w.segment("NM1", qualifier, "1", person.last, person.first, person.middle, "", "", "MI", member_id)
        else:
            w.segment("NM1", qualifier, "1", person.last, person.first, person.middle)
        self.address(person.address)
        w.segment("DMG", "D8", d8(person.birth_date), person.sex)

    def address(self, address: Address | None, zip_plus_four: bool = False) -> None:
        if address is None:
            return
        self.w.segment("N3", address.street)
        zip_code = address.zip_code + ("0001" if zip_plus_four else "")
        self.w.segment("N4", address.city, address.state, zip_code)

    def provider(self, entity: str, provider: Provider, taxonomy_role: str = "") -> None:
        w = self.w
        entity_type = "1" if provider.first else "2"  # person or organisation
        w.segment("NM1", entity, entity_type, provider.last, provider.first, "", "", "", "XX", provider.npi)
        if taxonomy_role:
            w.segment("PRV", taxonomy_role, "PXC", provider.taxonomy)

    # ----- claim parts shared by both guides ------------------------------------

    def claim_references(self, claim: Claim) -> None:
        w = self.w
        if claim.attachment_control:
            w.segment("PWK", "OZ", "BM", "", "", "AC", claim.attachment_control)
        if claim.prior_authorization:
            w.segment("REF", "G1", claim.prior_authorization)

    def facility(self, claim: Claim) -> None:
        if claim.facility:
            self.provider("77", claim.facility)
            self.address(claim.facility.address)

    def other_coverage(self, claim: Claim) -> None:
        """2320/2330A/2330B: the primary payer; the patient is its subscriber too."""
        other = claim.other_coverage
        if other is None:
            return
        w = self.w
        insured = self.current.subscriber
        w.segment("SBR", "P", "18", "", "", "", "", "", "", other.payer.filing_indicator)
        w.segment("AMT", "D", format_money(other.paid_cents))
        w.segment("OI", "", "", "Y", "", "", "Y")
        w.segment("NM1", "IL", "1", insured.last, insured.first, insured.middle, "", "", "MI", other.member_id)
        w.segment("NM1", "PR", "2", other.payer.name, "", "", "", "", "PI", other.payer.payer_id)

    def line_tail(self, claim: Claim, line: ServiceLine) -> None:
        """DTP, REF, 2410 drug and 2430 adjudication: the same in both guides."""
        w = self.w
        if line.service_date:
            w.segment("DTP", "472", "D8", d8(line.service_date))
        if line.control_number:
            w.segment("REF", "6R", line.control_number)
        if line.ndc is not None:
            w.segment("LIN", "", line.ndc_qualifier, line.ndc)
            w.segment("CTP", "", "", "", line.ndc_quantity, (line.ndc_unit,))
        if line.ordering and self.kind == "837P":
            self.provider("DK", line.ordering)
        if line.other_payer_paid_cents is not None and claim.other_coverage:
            self.line_adjudication(claim.other_coverage, line)

    def line_adjudication(self, other: OtherCoverage, line: ServiceLine) -> None:
        w = self.w
        procedure = ("HC", line.procedure, *line.modifiers)
        revenue = line.revenue_code if self.kind == "837I" else ""
        w.segment("SVD", other.payer.payer_id, format_money(line.other_payer_paid_cents),
                  procedure, revenue, str(line.units))
        w.segment("CAS", "CO", "45", format_money(line.charge_cents - line.other_payer_paid_cents))
        w.segment("DTP", "573", "D8", d8(other.adjudicated))

    def claim(self, claim: Claim) -> None:
        raise NotImplementedError


class ProfessionalWriter(TransactionWriter):
    """837P (005010X222A1): CMS-1500 style claims from the practice."""

    def claim(self, claim: Claim) -> None:
        w = self.w
        w.segment("CLM", claim.claim_id, format_money(claim.charge_cents), "", "",
                  (claim.place_of_service, "B", "1"), "Y", "A", "Y", "Y")
        self.claim_references(claim)
        # One HI: the principal diagnosis, then up to 11 others (SV107 points into it).
        codes = [("ABK", claim.diagnoses[0])] + [("ABF", code) for code in claim.diagnoses[1:12]]
        w.segment("HI", *codes)
        if claim.referring:
            self.provider("DN", claim.referring)
        if claim.rendering:
            self.provider("82", claim.rendering, "PE")
        self.facility(claim)
        self.other_coverage(claim)
        for number, line in enumerate(claim.lines, 1):
            w.segment("LX", str(number))
            w.segment("SV1", ("HC", line.procedure, *line.modifiers), format_money(line.charge_cents),
                      line.unit_basis, str(line.units), "", "", tuple(str(p) for p in line.pointers))
            self.line_tail(claim, line)


class InstitutionalWriter(TransactionWriter):
    """837I (005010X223A2): UB-04 style hospital outpatient claims (type of bill 131)."""

    def claim(self, claim: Claim) -> None:
        w = self.w
        w.segment("CLM", claim.claim_id, format_money(claim.charge_cents), "", "",
                  ("13", "A", "1"), "", "A", "Y", "Y")
        day = d8(claim.service_date)
        w.segment("DTP", "434", "RD8", f"{day}-{day}")
        w.segment("CL1", "3", "1", "01")  # elective, physician referral, discharged home
        self.claim_references(claim)
        # 837I puts the principal and the other diagnoses in separate HI segments.
        w.segment("HI", ("ABK", claim.diagnoses[0]))
        if len(claim.diagnoses) > 1:
            w.segment("HI", *[("ABF", code) for code in claim.diagnoses[1:13]])
        if claim.attending:
            self.provider("71", claim.attending, "AT")
        if claim.rendering:
            self.provider("82", claim.rendering)
        self.facility(claim)
        if claim.referring:
            self.provider("DN", claim.referring)
        self.other_coverage(claim)
        for number, line in enumerate(claim.lines, 1):
            w.segment("LX", str(number))
            w.segment("SV2", line.revenue_code, ("HC", line.procedure, *line.modifiers),
                      format_money(line.charge_cents), line.unit_basis, str(line.units))
            self.line_tail(claim, line)


WRITERS = {"837P": ProfessionalWriter, "837I": InstitutionalWriter}


# --------------------------------------------------------------------------
# The generator.
# --------------------------------------------------------------------------

def generate(out: TextIO, kind: str = "837P", *, claims: int | None = None, size: int | None = None,
             seed: int = 0, defect_rate: float = 0.05, claims_per_st: int = 500,
             terminator: str = "~", newline: str = "\n") -> dict:
    """Write one synthetic 837 interchange to `out`; return what was written.

    Give either `claims` (exact count) or `size` (approximate bytes: the file
    ends at the patient boundary nearest to it).  A transaction set holds at most
    `claims_per_st` claims; a patient's claims are not split between two.
    The same arguments always give the same bytes.

    Returns {"claims", "drug_lines", "service_lines", "transactions",
    "segments", "bytes", "defects": {defect name: claims}}.  `bytes` counts
    characters written, which equals bytes unless `out` translates newlines
    (open files with newline="").
    """
    check_arguments(kind, claims, size, defect_rate, claims_per_st, terminator, newline)
    rng = random.Random(seed)
    factory = ClaimFactory(rng, kind, defect_rate)
    segments = SegmentWriter(out, terminator, newline)
    transactions = WRITERS[kind](segments, kind)
    stats = Counter()
    defects: Counter[str] = Counter()

    interchange_number = rng.randrange(1, 10**9)
    group_number = rng.randrange(1, 10**6)
    segments.raw(isa_segment("EDI837SYN", "EXCLEAR01", interchange_number))
    segments.segment("GS", "HC", "EDI837SYN", "EXCLEAR01", d8(CREATED), "1200", str(group_number), "X",
                     GUIDE_VERSION[kind])
    total_segments = 2

    def wanted_more() -> bool:
        if stats["claims"] == 0:
            return True  # even a tiny size gets one claim: an empty group is not valid X12
        if claims is not None:
            return stats["claims"] < claims
        # Stop at the patient boundary nearest the target: go on while half an
        # average patient and the trailers (SE, GE, IEA: about 50 bytes) still fit.
        average_patient = segments.written / stats["patients"]
        return segments.written + average_patient / 2 + 50 < size

    def patients() -> Iterator[Patient]:
        """Patients until the count or size is reached, each cut to fit one transaction."""
        while wanted_more():
            patient = factory.patient()
            room = claims_per_st if claims is None else min(claims_per_st, claims - stats["claims"])
            del patient.claims[room:]
            yield patient

    upcoming = patients()
    patient = next(upcoming, None)
    while patient is not None:
        stats["transactions"] += 1
        control_number = f"{stats['transactions']:04d}"
        billing = rng.choice(factory.billing_providers)
        transactions.start(control_number, f"B{interchange_number:09d}{control_number}", billing)
        in_transaction = 0
        # A patient's claims stay together in one transaction.
        while patient is not None and in_transaction + len(patient.claims) <= claims_per_st:
            transactions.patient(patient)
            segments.flush()
            in_transaction += len(patient.claims)
            stats["patients"] += 1
            count_claims(patient, stats, defects)
            patient = next(upcoming, None)
        transactions.finish(control_number)
        total_segments += segments.segments_in_transaction
        segments.flush()

    segments.segment("GE", str(stats["transactions"]), str(group_number))
    segments.raw(f"IEA{ELEMENT}1{ELEMENT}{interchange_number:09d}")
    segments.flush()
    return {
        "claims": stats["claims"],
        "drug_lines": stats["drug_lines"],
        "service_lines": stats["service_lines"],
        "transactions": stats["transactions"],
        "segments": total_segments + 2,
        "bytes": segments.written,
        "defects": dict(sorted(defects.items())),
    }


def count_claims(patient: Patient, stats: Counter, defects: Counter) -> None:
    for claim in patient.claims:
        stats["claims"] += 1
        stats["service_lines"] += len(claim.lines)
        stats["drug_lines"] += sum(1 for line in claim.lines if line.is_drug)
        if claim.defect:
            defects[claim.defect] += 1


def check_arguments(kind: str, claims: int | None, size: int | None, defect_rate: float,
                    claims_per_st: int, terminator: str, newline: str) -> None:
    if kind not in GUIDE_VERSION:
        raise ValueError(f"kind must be one of {', '.join(GUIDE_VERSION)}, not {kind!r}")
    if (claims is None) == (size is None):
        raise ValueError("give either claims or size")
    if claims is not None and claims < 1:
        raise ValueError("claims must be at least 1")
    if size is not None and size < 1:
        raise ValueError("size must be positive")
    if not 0 <= defect_rate <= 1:
        raise ValueError("defect_rate must be between 0 and 1")
    if claims_per_st < 1:
        raise ValueError("claims_per_st must be at least 1")
    # The data holds letters, digits, spaces, '-' (date ranges, hyphenated NDCs) and '.' (amounts).
    if len(terminator) != 1 or terminator.isalnum() or terminator in ELEMENT + COMPONENT + REPETITION + " -.":
        raise ValueError("terminator must be one character that is not a letter, digit, space, "
                         "'-', '.' or another delimiter")
    if newline not in ("", "\n", "\r\n") or (terminator == "\n" and newline):
        raise ValueError('newline must be "", "\\n" or "\\r\\n" (and "" when the terminator is a newline)')


def parse_size(text: str) -> int:
    """'500MB', '20k', '1048576' -> bytes (K/M/G are powers of 1000, KiB/MiB/GiB of 1024)."""
    units = {"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "KB": 1000, "MB": 1000**2, "GB": 1000**3,
             "K": 1000, "M": 1000**2, "G": 1000**3, "B": 1}
    upper = text.strip().upper()
    for suffix, factor in units.items():
        if upper.endswith(suffix):
            return int(float(upper[: -len(suffix)]) * factor)
    return int(upper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edi837.generator", description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=sorted(GUIDE_VERSION), default="837P")
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--claims", type=int, help="exact number of claims")
    amount.add_argument("--size", type=parse_size, help="approximate file size, e.g. 500MB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--defect-rate", type=float, default=0.05,
                        help="share of drug claims with one billing defect (default 0.05)")
    parser.add_argument("--claims-per-st", type=int, default=500)
    parser.add_argument("--segment-newline", choices=("none", "lf", "crlf"), default="lf",
                        help="line break after each segment terminator (default lf)")
    parser.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    newline = {"none": "", "lf": "\n", "crlf": "\r\n"}[args.segment_newline]
    options = dict(claims=args.claims, size=args.size, seed=args.seed, defect_rate=args.defect_rate,
                   claims_per_st=args.claims_per_st, newline=newline)
    try:
        if args.output == "-":
            stats = generate(sys.stdout, args.kind, **options)
        else:
            with open(args.output, "w", encoding="ascii", newline="") as out:
                stats = generate(out, args.kind, **options)
    except ValueError as exc:
        parser.error(str(exc))
    summary = ", ".join(f"{key} {value}" for key, value in stats.items() if key != "defects")
    print(f"{args.kind}: {summary}; defects {stats['defects']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
