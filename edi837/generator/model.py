"""The claim model the scenarios fill in and the writers render, and made-up identities."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .facts import (
    FIRST_NAMES,
    FIRST_SERVICE,
    G35_SPLIT,
    LAST_NAMES,
    LAST_SERVICE,
    PLACES,
    STREETS,
    Payer,
)

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
    defect_severity: str | None = None  # what the payer's policy makes of the defect
    bill_type: str = "13"               # 837I CLM05-1: type of bill facility + classification
    frequency: str = "1"                # CLM05-3: 1 original, 7 replacement, 8 void
    payer_claim_number: str = ""        # REF*F8 on a replacement or void

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


def make_person(rng: random.Random, born_after: int, born_before: int,
                address: Address | None = None, last: str | None = None) -> Person:
    birth = date(rng.randrange(born_after, born_before), rng.randrange(1, 13), rng.randrange(1, 29))
    return Person(last or rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES),
                  rng.choice("ABCDEJKLMRST"), address or make_address(rng), birth,
                  rng.choice("FFM"))  # MS affects women more


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


def format_quantity(quantity: Decimal) -> str:
    """A decimal the X12 way: no exponent, no trailing zeros after the point."""
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_money(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else format_quantity(Decimal(cents) / 100)
