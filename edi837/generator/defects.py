"""Billing defects the generator plants in clean claims: each a small function that
changes one claim, with the rule codes it should trigger (ClaimFactory.maybe_defective
chooses one)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from .facts import (
    ADMIN_REVENUE,
    FIRST_SERVICE,
    G35_SPLIT,
    LAST_SERVICE,
    OCRELIZUMAB,
    OTHER_DRUGS,
    PROCEDURE_CENTS,
    SUBCUTANEOUS_INJECTION,
    TOCILIZUMAB,
    ZUNOVO_NDC,
    DrugProduct,
)
from .model import Claim, ServiceLine, format_quantity

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


def hyphenated_ndc(rng: random.Random, claim: Claim, drug: DrugProduct,
                   subtype: str | None) -> None:
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


def zero_ndc_quantity(rng: random.Random, claim: Claim, drug: DrugProduct,
                      subtype: str | None) -> None:
    """NDC005: CTP04 zero (CTP04/CTP05 are required, so 'missing' cannot be sent)."""
    first_drug_line(claim).ndc_quantity = "0"


def ndc_quantity_mismatch(rng: random.Random, claim: Claim, drug: DrugProduct,
                          subtype: str | None) -> None:
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


def units_450_with_jz(rng: random.Random, claim: Claim, drug: DrugProduct,
                      subtype: str | None) -> None:
    """UNT001 (not a labeled dose) and MOD005 (JZ on a partly used vial)."""
    bill_units(first_drug_line(claim), drug, 450)


def units_900(rng: random.Random, claim: Claim, drug: DrugProduct, subtype: str | None) -> None:
    """UNT001 (not a labeled dose) and UNT002 (above the 600 mg maximum)."""
    bill_units(first_drug_line(claim), drug, 900)


def bare_g35_after_split(rng: random.Random, claim: Claim, drug: DrugProduct,
                         subtype: str | None) -> None:
    """DX002: bare G35 on or after 2025-10-01 (a stale code list)."""
    claim.diagnoses[0] = "G35"


def subtype_before_split(rng: random.Random, claim: Claim, drug: DrugProduct,
                         subtype: str | None) -> None:
    """DX002: a G35.x subtype code before it existed (before 2025-10-01)."""
    claim.diagnoses[0] = subtype or "G35A"


def unsupported_diagnosis(rng: random.Random, claim: Claim, drug: DrugProduct,
                          subtype: str | None) -> None:
    """DX001: no MS diagnosis, only the symptom (R26.2, difficulty in walking).

    Not G37.9 or G36.x: the drug table keeps those as review-only support for J2350.
    """
    claim.diagnoses[0] = "R262"


def missing_admin_line(rng: random.Random, claim: Claim, drug: DrugProduct,
                       subtype: str | None) -> None:
    """ADM001: the infusion lines were left off."""
    claim.lines = [line for line in claim.lines if line.is_drug]


def subcutaneous_admin(rng: random.Random, claim: Claim, drug: DrugProduct,
                       subtype: str | None) -> None:
    """ADM002: an IV drug billed with the subcutaneous injection code 96372."""
    code = SUBCUTANEOUS_INJECTION[0]
    injection = ServiceLine(code, 1, PROCEDURE_CENTS[code], claim.service_date,
                            revenue_code=ADMIN_REVENUE[code])
    claim.lines = [line for line in claim.lines if line.is_drug] + [injection]


def pointer_past_last_diagnosis(rng: random.Random, claim: Claim, drug: DrugProduct,
                                subtype: str | None) -> None:
    """DX004 (837P): a second SV107 pointer at an HI position the claim does not have.

    The first pointer stays on the MS diagnosis so DX003 does not fire as well.
    """
    first_drug_line(claim).pointers = [1, len(claim.diagnoses) + rng.choice((1, 2))]


def general_pharmacy_revenue(rng: random.Random, claim: Claim, drug: DrugProduct,
                             subtype: str | None) -> None:
    """REV001 (837I): drug line under revenue code 0250 instead of 0636."""
    for line in claim.lines:
        if line.is_drug:
            line.revenue_code = "0250"


JW_JZ_SCOPE = "JW/JZ"


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
    # The rule whose severity the payer policy decides (MOD001, NDC001): the defect goes
    # only where that payer would flag it, labelled with what the payer makes of it;
    # JW_JZ_SCOPE: only where the payer's policy checks JW/JZ at all (MOD002-MOD006).
    by_policy: str | None = None
    severity: str = "error"  # the most severe finding it raises, when not by policy

    def applies_to(self, claim: Claim, drug: DrugProduct, treats_ms: bool) -> bool:
        if self.only_ocrelizumab and drug is not OCRELIZUMAB:
            return False
        if self.needs_ms and not treats_ms:
            return False
        if not self.on_or_after <= claim.service_date < self.before:
            return False
        return not self.whole_vials or drug is not TOCILIZUMAB


COMMON_DEFECTS = (
    Defect("missing_jz", ("MOD001",), missing_jz, whole_vials=True, by_policy="MOD001"),
    # The JW:JZ line is also a JW line with no administered line beside it.
    Defect("jw_and_jz", ("MOD002", "MOD003"), jw_and_jz, whole_vials=True,
           by_policy=JW_JZ_SCOPE),
    Defect("hyphenated_ndc", ("NDC002",), hyphenated_ndc),
    Defect("wrong_ndc", ("NDC004",), wrong_ndc),
    Defect("zunovo_ndc", ("NDC004",), zunovo_ndc, only_ocrelizumab=True),
    Defect("zero_ndc_quantity", ("NDC005",), zero_ndc_quantity),
    Defect("ndc_quantity_mismatch", ("NDC007",), ndc_quantity_mismatch, only_ocrelizumab=True,
           severity="warning"),
    Defect("missing_ndc", ("NDC001",), missing_ndc, by_policy="NDC001"),
    Defect("units_450_with_jz", ("UNT001", "MOD005"), units_450_with_jz, only_ocrelizumab=True,
           by_policy=JW_JZ_SCOPE, severity="warning"),
    Defect("units_900", ("UNT001", "UNT002"), units_900, only_ocrelizumab=True),
    Defect("bare_g35_after_split", ("DX002",), bare_g35_after_split, needs_ms=True,
           on_or_after=G35_SPLIT),
    Defect("subtype_before_split", ("DX002",), subtype_before_split, needs_ms=True,
           before=G35_SPLIT),
    Defect("unsupported_diagnosis", ("DX001",), unsupported_diagnosis, needs_ms=True),
    Defect("missing_admin_line", ("ADM001",), missing_admin_line, severity="warning"),
    # 96372 is not one of J2350's infusion codes, so ADM001 comes with ADM002.
    Defect("subcutaneous_admin", ("ADM002", "ADM001"), subcutaneous_admin, only_ocrelizumab=True,
           severity="warning"),
)
DEFECTS = {
    "837P": COMMON_DEFECTS + (
        Defect("pointer_past_last_diagnosis", ("DX004",), pointer_past_last_diagnosis),),
    "837I": COMMON_DEFECTS + (
        Defect("general_pharmacy_revenue", ("REV001",), general_pharmacy_revenue,
               severity="warning"),),
}
# Defect name -> the error and warning rule codes of the rule catalog it should
# trigger (info findings such as DOC001 come on clean claims too).
DEFECT_RULES = {defect.name: defect.rules for defects in DEFECTS.values() for defect in defects}
