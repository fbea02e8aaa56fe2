"""POS: where the drug was given, on a physician's claim (837P place of service).

The places of service where a drug is the facility's, not the physician's,
come from the drug table (``[policy.place_of_service]``: 19 and 22,
outpatient hospital; 21, inpatient hospital; 23, hospital emergency room).
"""
from __future__ import annotations

from ..findings import WARNING
from ..model import PROFESSIONAL
from . import rule


@rule("POS001", WARNING, generic=True,
      reads=("claim.kind", "claim.facility_code", "line.procedure", "line.place_of_service"))
def facility_drug_on_physician_claim(ctx):
    """837P drug line at a hospital place of service (19, 21, 22 or 23).

    What it does: on a professional claim, flags a drug line whose place of
    service (SV105 when the line has one, else CLM05-1) is one the drug
    table lists as the facility's (19 off-campus and 22 on-campus outpatient
    hospital, 21 inpatient hospital, 23 hospital emergency room).  Runs on
    every drug line, known to the table or not.
    Why: an incident-to drug must be an expense to the physician (Medicare
    Benefit Policy Manual ch. 15 §50.3); in the hospital outpatient
    department (its emergency room included) and during an inpatient stay
    the hospital buys the drug and bills it on its 837I, so a physician's
    837P billing it there most likely bills the hospital's drug
    (billing-rules.md §9.7).  A warning to review, not a rejection: the
    physician may have supplied the drug.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***22:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600*19**1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (who bought the drug is in the provider's records).
    """
    places = ctx.table.policy.place_of_service
    if ctx.claim.kind != PROFESSIONAL or places is None:
        return
    line = ctx.line
    place = line.place_of_service or ctx.claim.facility_code
    if place not in places.facility_drug:
        return
    where = "SV105" if line.place_of_service else "CLM05-1"
    name = places.names.get(place, "hospital")
    ctx.finding(f"{line.procedure} billed by a physician at place of service {place} "
                f"({where}, {name}): the drug there is normally the hospital's, "
                f"billed on its 837I; an incident-to drug must be the physician's expense",
                value=place)
