"""Reference facts the generator's scenarios use: guides, dates, drug products,
payers and the made-up names that people and places are drawn from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

GUIDE_VERSION = {"837P": "005010X222A1", "837I": "005010X223A2"}

# The interchange date is fixed, not today's, so that a seed always gives the
# same bytes.  Services fall between FIRST_SERVICE and LAST_SERVICE.
CREATED = date(2026, 12, 15)
FIRST_SERVICE = date(2025, 1, 2)
LAST_SERVICE = date(2026, 11, 30)

# FY2026 ICD-10-CM split G35 into G35.A-G35.D; bare G35 is billable only before.
G35_SPLIT = date(2025, 10, 1)
MS_SUBTYPES = ("G35A", "G35A", "G35A", "G35B0", "G35B1", "G35C1", "G35D")


@cache
def ms_subtypes_for(hcpcs: str) -> tuple[str, ...]:
    """The MS subtypes (MS_SUBTYPES, with their weights) the checker's drug table supports
    for the drug without review, so a claim with no defect raises no warning: natalizumab
    (J2323) is labeled for relapsing forms and the table marks primary progressive MS for
    review there (DX005), while it fully supports ocrelizumab."""
    from ..drugs import load_drug_table

    drug = load_drug_table().drug(hcpcs)
    review = {entry.code for entry in drug.diagnoses if entry.review} if drug else set()
    return tuple(code for code in MS_SUBTYPES if code not in review) or MS_SUBTYPES

ELEMENT, COMPONENT, REPETITION = "*", ":", "^"


# --------------------------------------------------------------------------
# Reference facts the scenarios need (billing-rules.md, the maintainers' reference
# notes, sections 2 and 5).  The checker reads its own drug table; this is only what a
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
    # every size the drug comes in (the drug table's packages;
    # tests/generator/test_generator_clean.py compares them): the waste billed is that of
    # the containers of these sizes with the least left over
    pack_mg: tuple[int, ...] = ()

    def opened_mg(self, mg: int) -> int:
        """The content of the containers with the least left over that cover ``mg``:
        J3262 (80, 200, 400 mg) 420 mg -> 440 (200 + 3 x 80), not 3 x 200."""
        sizes = self.pack_mg or (self.vial_mg,)
        reachable = {0}
        best = -(-mg // self.vial_mg) * self.vial_mg
        for total in range(1, best + 1):
            if any(total - size in reachable for size in sizes):
                reachable.add(total)
                if total >= mg:
                    return total
        return best

    def units(self, mg: int) -> int:
        return mg // self.mg_per_unit

    def ndc_quantity(self, mg: int) -> Decimal:
        return self.vial_quantity * mg / self.vial_mg


OCRELIZUMAB = DrugProduct(
    "J2350", "ocrelizumab", "50242015001", "50242-150-01", 1, 300, Decimal(10), "ML",
    (300, 600), THERAPEUTIC_INFUSION, (), 5200)
TOCILIZUMAB = DrugProduct(
    "J3262", "tocilizumab", "50242013601", "50242-136-01", 1, 200, Decimal(10), "ML",
    (), THERAPEUTIC_INFUSION[:1], ("M0579", "M069", "M316"), 560, (80, 200, 400))
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
PAYER_WEIGHTS = (40, 15, 20, 8, 10, 7)  # Medicare FFS 40%, Medicaid 8%, MA 10%, commercial

# 837I types of bill (CLM05-1: facility + classification) of drug claims, and their shares:
# hospital outpatient most, then critical access hospitals, inpatient stays, rural health
# clinics and FQHCs (the project's choice of a believable mix; `edi837 policy` says which
# of them the JW/JZ requirement reaches: 13x and 85x, not 11x, 71x, 77x).
BILL_TYPES = ("13", "85", "11", "71", "77")
BILL_TYPE_WEIGHTS = (70, 10, 8, 6, 6)
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


