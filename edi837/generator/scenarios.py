"""Scenarios: clean claims as a careful biller would send them, and billing defects."""
from __future__ import annotations

import random
import zlib
from datetime import date, timedelta

from .defects import DEFECTS, JW_JZ_SCOPE, Defect
from .facts import (
    ADMIN_REVENUE,
    BILL_TYPE_WEIGHTS,
    BILL_TYPES,
    COMPLEX_INFUSION,
    DRUG_REVENUE,
    HOSPITALS,
    INFUSION_SITES,
    INSTITUTIONAL_PAYERS,
    INTERNAL_MEDICINE,
    LAST_SERVICE,
    MS_SUBTYPES,
    NEUROLOGY,
    OCRELIZUMAB,
    OTHER_DRUGS,
    PAYER_WEIGHTS,
    PRACTICES,
    PROCEDURE_CENTS,
    PROFESSIONAL_PAYERS,
    RHEUMATOLOGY,
    SECONDARY_DIAGNOSIS,
    SUPPLEMENTAL_PAYER,
    THERAPEUTIC_INFUSION,
    TOCILIZUMAB,
    VISIT_DIAGNOSES,
    VISIT_REVENUE,
    DrugProduct,
    ms_subtypes_for,
)
from .model import (
    Claim,
    Coverage,
    OtherCoverage,
    Patient,
    Provider,
    ServiceLine,
    format_quantity,
    make_mbi,
    make_member_id,
    make_organisation,
    make_person,
    make_physician,
    ms_diagnosis,
    service_day,
)

# --------------------------------------------------------------------------
# Scenarios: clean claims as a careful biller would send them.
# --------------------------------------------------------------------------

class ClaimFactory:
    """Builds patients and their claims for one file from one random stream."""

    def __init__(self, rng: random.Random, kind: str, defect_rate: float,
                 drug_share: float | None = None):
        self.rng = rng
        self.drug_share = drug_share  # episodes with a drug (None: the dense default mix)
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
        self.payer = None  # the payer of the patient whose claims are being made
        self._policies: dict[tuple, object] = {}

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
        self.payer = coverage.payer  # the claims go to this payer: its policy labels defects
        patient.claims = self.episode()
        if secondary:
            for claim in patient.claims:
                self.add_primary_payment(claim)
        return patient

    def episode(self) -> list[Claim]:
        if self.drug_share is not None:  # a nightly mix: drug claims a few percent
            if self.rng.random() >= self.drug_share:
                return self.visit()
            weights = (58, 10, 11, 0)
        else:
            # Weights give about 75% J2350 claims counting the two-claim start.
            weights = (58, 10, 11, 16)
        scenario = self.rng.choices(
            (self.ocrelizumab_maintenance, self.ocrelizumab_start, self.other_drug, self.visit),
            weights)[0]
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
        subtype = None if drug.diagnoses else rng.choice(ms_subtypes_for(drug.hcpcs))
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
        if self.institutional:
            claim.bill_type = bill_type(claim.claim_id)
            if not jw_jz_in_scope(claim.bill_type):
                no_jw_jz(claim)
        if rng.random() < 0.25:
            claim.prior_authorization = f"PA{rng.randrange(10**8):08d}"
        return claim

    def drug_lines(self, drug: DrugProduct, day: date, mg: int,
                   prescriber: Provider) -> list[ServiceLine]:
        """JZ when whole vials were given; else the given amount plus a JW line for the rest
        of the containers that cover it with the least left over (billing-rules.md §1.4, §9.3)."""
        discarded_mg = drug.opened_mg(mg) - mg
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
        visit_code = "G0463" if self.institutional else rng.choice(("99213", "99213", "99214",
                                                                    "99215"))
        pointers = list(range(1, len(diagnoses) + 1))
        claim.lines = [self.procedure_line(visit_code, 1, day, VISIT_REVENUE.get(visit_code, ""),
                                           pointers)]
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
                      if defect.applies_to(claim, drug, ms_subtype is not None)
                      and self.defect_severity(defect, claim, drug) is not None]
        defect = self.rng.choice(candidates)
        defect.apply(self.rng, claim, drug, ms_subtype)
        claim.defect = defect.name
        claim.defect_severity = self.defect_severity(defect, claim, drug)
        return claim

    def defect_severity(self, defect: Defect, claim: Claim, drug: DrugProduct) -> str | None:
        """What the claim's payer policy makes of the defect: "error" (the payer would
        deny it), "warning", or None (no defect for this payer, setting and date: it is
        not planted there).  MOD001 and NDC001 ask the shipped payer policy."""
        if defect.by_policy is None:
            return defect.severity
        from ..policy import shipped_policies
        from ..policy.model import first

        payer = self.payer
        setting = f"837I:{claim.bill_type}" if self.institutional else \
            f"837P:{claim.place_of_service}"
        key = (payer.filing_indicator if payer else "", payer.payer_id if payer else "",
               setting)
        policy = self._policies.get(key)
        if policy is None:
            book = shipped_policies()
            policy = self._policies[key] = book.policies[book.payer_class(key[0], key[1])]
        if defect.by_policy in ("MOD001", JW_JZ_SCOPE):
            found = first(policy.jw_jz, setting, claim.service_date)
        else:
            found = first(policy.ndc, setting, claim.service_date, drug.hcpcs, True)
        if found.severity == "none":
            return None
        # MOD002-MOD004, MOD007 follow the policy (an error only where the payer enforces
        # JW/JZ); a defect whose findings are warnings anyway (MOD005) stays one
        if defect.by_policy == JW_JZ_SCOPE and defect.severity != "error":
            return defect.severity
        return found.severity


def jw_jz_in_scope(bill_type: str) -> bool:
    """Whether JW/JZ may apply on an 837I of this type of bill (the shipped policies' data:
    inpatient, RHC and FQHC bills carry neither, MOD006)."""
    from ..policy import shipped_policies
    from ..policy.model import setting_matches

    return not setting_matches(shipped_policies().out_of_scope.settings, f"837I:{bill_type}")


def no_jw_jz(claim: Claim) -> None:
    """The drug lines as a bill where JW/JZ do not apply has them: neither modifier, and no
    line of the discarded amount (the lines were drawn already: the random stream is
    the same whatever the type of bill)."""
    claim.lines = [line for line in claim.lines if "JW" not in line.modifiers]
    for line in claim.lines:
        line.modifiers = [m for m in line.modifiers if m not in ("JW", "JZ")]


def bill_type(claim_id: str) -> str:
    """The claim's 837I type of bill, drawn by its id (not from the random stream, so a
    seed gives the same claims, dates and defects as before types of bill were drawn)."""
    point = zlib.crc32(claim_id.encode("ascii")) % sum(BILL_TYPE_WEIGHTS)
    for code, weight in zip(BILL_TYPES, BILL_TYPE_WEIGHTS, strict=True):
        if point < weight:
            return code
        point -= weight
    return BILL_TYPES[0]
