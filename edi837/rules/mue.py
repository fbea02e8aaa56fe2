"""UNT004: units above the CMS Medically Unlikely Edit (MUE) for the date of service.

MUE values come only from imported CMS MUE files (``edi837 refdata
import``): edi837 ships none, and no public source gives J2350's
(billing-rules.md §2.7, §8.4).  The practitioner services file answers for
837P, the outpatient hospital services file for 837I, each the one in force
on the line's date of service.  The MUE adjudication indicator (MAI, NGS
"Medically Unlikely Edits Billing and Processing" [A]) says what is
counted: 1, the units of one claim line; 2 (policy) and 3 (clinical), the
units of every line of the code on the date of service for the same
provider and patient.

Cross-claim sums belong to the patient-history stage.  This module gives it
two functions: :func:`mue_for` (the MUE in force for a code, kind of claim
and date) and :func:`mue_message` (the finding's message).  Its contract:
for MAI 2 and 3, when the payer profile sums across claims (the default),
add the units already billed on other claims of the run and the history for
the same billing provider, patient, code and date to this claim's units,
and report UNT004 at the line that takes the total over the MUE, but only
when this claim's own units are within it (then :func:`above_mue` has not
reported it already).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..findings import ERROR
from ..model import parse_date
from . import CLAIM, history_part, rule
from .groups import group_units, number


def mue_for(table, hcpcs: str, kind: str, day: dt.date | None):
    """The CMS MUE for ``hcpcs`` on a claim of ``kind`` ("837P" or "837I") with date of
    service ``day``, as an ``edi837.refdata.Mue`` (value, MAI, rationale, file), or None
    when no MUE file of the claim's setting is in force on the date or it lists no MUE
    for the code.

    ``table``: the drug table the rules get (``ctx.table``, with reference data laid
    over it), or an ``edi837.refdata.Reference`` itself.
    """
    reference = getattr(table, "reference", table)
    if reference is None or day is None:
        return None
    return reference.mue(hcpcs, kind, day)


def mue_message(mue, units: Decimal | int, day: dt.date, counted: str) -> str:
    """The UNT004 message.  ``counted`` says whose units ``units`` are: "on this line",
    "on this claim's lines for the date", or, from the history stage, "billed for this
    patient by this provider on the date across claims".

    "J2350 on 2026-01-15: 900 units on this claim's lines for the date, above the CMS MUE
    of 600 units (MAI 3: per date of service, clinical) in
    MCR_MUE_PractitionerServices_Eff_01-01-2026.csv (effective 2026-01-01)"
    """
    return (f"{mue.hcpcs} on {day.isoformat()}: {number(Decimal(units))} units {counted}, "
            f"above the CMS MUE of {mue.value} units (MAI {mue.mai}: {mue.meaning}) in "
            f"{mue.file.short_name} (effective {mue.file.effective_from.isoformat()})")


@rule("UNT004", ERROR, scope=CLAIM,
      reads=("claim.kind", "line.procedure", "line.modifiers", "line.units", "line.date"))
def above_mue(ctx):
    """Units above the CMS MUE imported for the date of service.

    What it does: looks up the drug line's code in the CMS MUE file in force
    on its date of service (practitioner services for 837P, outpatient
    hospital services for 837I) and compares: with MAI 1, the units of each
    line; with MAI 2 or 3, the units of every line of the code on that date,
    JW lines included (the edit counts units of service billed, whatever the
    modifier: the project's reading, no source found says otherwise).  MAI
    2 and 3 are per date of service for the same provider and patient,
    summed across claims of the run and the patient history (the history
    stage does that, as the payer profile says, by default); this rule sums
    the lines of one claim.  The finding goes on the line that takes the
    total over, and names the MUE value, its MAI and the file.  Codes with
    no imported MUE are not checked; UNT002 keeps checking the label's
    maximum.  The examples assume an imported MUE of 600 units, MAI 3, for
    J2350 (an example value: edi837 ships no MUE).
    Why: Medicare denies units of service above the MUE (a line with MAI 1;
    the date's units with MAI 2, which cannot be overridden, and MAI 3,
    which needs documentation on appeal), CMS quarterly MUE tables,
    billing-rules.md §2.7, §8.4.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*13500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*18000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LX*2
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
    Fix safety: none (which units are wrong, or the documentation for an
    appeal, needs a person).
    """
    kind = ctx.claim.kind
    for lines in ctx.groups():
        day = ctx.date_of(lines[0])
        mue = mue_for(ctx.table, lines[0].procedure, kind, day)
        if mue is None:
            continue
        if not mue.per_day:
            for line in lines:
                units = line.units_value
                if units is not None and units > mue.value:
                    ctx.finding(mue_message(mue, units, day, "on this line"), line=line,
                                value=line.units)
            continue
        units = group_units(lines)
        if units is None:
            continue  # UNT003/EDI007 report units that are not a number
        whole = sum(units, Decimal(0))
        if whole <= mue.value:
            continue
        running = Decimal(0)
        for line in lines:  # the finding goes on the line that takes the total over
            running += line.units_value
            if running > mue.value:
                break
        ctx.finding(mue_message(mue, whole, day, "on this claim's lines for the date"),
                    line=line, value=number(whole))


@history_part("UNT004", stage_order=50)
def above_mue_across_claims(ctx):
    """UNT004 in the history stage: for MAI 2 and 3, the units of the code on the
    date billed by the same provider for the same patient on earlier claims (this
    run's and the history's) count too, unless the payer profile says
    ``mue_across_claims = false``.  Reported at the claim's line that takes the
    total over, only when the claim's own units are within the MUE (above it,
    the claim rule has said so already)."""
    record = ctx.record
    if not ctx.profile.mue_across_claims or not ctx.visible:
        return
    for (hcpcs, date), lines in ctx.groups().items():
        day = parse_date(date)
        mue = mue_for(ctx.table, hcpcs, record.kind, day)
        if mue is None or not mue.per_day or any(line.units is None for line in lines):
            continue
        own = sum((line.units for line in lines), Decimal(0))
        earlier = [row for row in ctx.earlier(hcpcs, date)
                   if row.npi == record.billing_npi and row.units is not None]
        if not earlier or own > mue.value:
            continue
        total = sum((row.units for row in earlier), Decimal(0))
        for line in lines:
            total += line.units
            if total > mue.value:
                claims = ", ".join(dict.fromkeys(row.claim_id for row in earlier))
                ctx.finding(mue_message(mue, total, day, "billed for this patient by this "
                                        f"provider on the date across claims ({claims} "
                                        "earlier)"), line=line, value=number(total))
                break
