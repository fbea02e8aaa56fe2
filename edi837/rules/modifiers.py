"""MOD: the discarded-drug modifiers JW and JZ on single-dose containers.

CMS (MLN MM13056; CY2023 PFS final rule, 87 FR 69710-69734) requires, for
separately payable Part B drugs from single-dose containers, one line with JZ
when nothing was discarded, or a line with the administered units (neither
modifier) plus a line with the discarded units and JW.  The date the rules
start, and which drugs are single-dose, come from the drug table; whether and
how severely the claim's payer enforces the modifiers, in its setting (an
837P line's own place of service, SV105, where it has one) and on the line's
date, comes from the claim's payer policy (edi837.policy): MOD001-MOD004 are
errors only where the payer enforces JW/JZ, warnings saying why elsewhere.
"""
from __future__ import annotations

from ..findings import ERROR, WARNING, Edit, Fix
from . import CLAIM, rule
from .groups import (
    DISCARDED,
    NOTHING_DISCARDED,
    anchor,
    container_amounts,
    describe_containers,
    group_fills_whole_containers,
    group_units,
    is_discarded,
    is_whole_containers,
    jw_jz_required,
    jw_jz_severity,
    number,
    quantities_fill_units,
    required_groups,
    units_within_dosing,
)

# -- rules ------------------------------------------------------------------------------


@rule("MOD001", ERROR, fix="safe", by_policy=True,
      reads=("line.procedure", "line.modifiers", "line.units", "line.segment_id", "line.date",
             "line.drug", "line.place_of_service"))
def missing_jw_jz(ctx):
    """Single-dose drug line has neither JW nor JZ.

    What it does: flags a line of a drug the table marks single-dose that
    carries neither JW nor JZ and is not the administered line of a JW pair (a
    JW line for the same drug and date).  Severity by the claim's payer policy
    (`edi837 policy`): an error where the payer enforces JW/JZ on the line's
    date and in the claim's setting (Medicare fee-for-service from 2023-10-01
    on professional claims and bill types 13x/85x), a warning where payers vary
    (Medicare Advantage, Medicaid, commercial; Medicare 2023-07-01..09-30),
    nothing out of scope (before 2023-07-01; bill types 11x, 71x, 77x; a
    professional line at place of service 21, inpatient hospital: the line's
    SV105 where it has one, else CLM05-1, as POS001 reads it).
    Why: CMS requires JZ when nothing was discarded from a single-dose
    container (MLN MM13056, from 2023-07-01); from 2023-10-01 Medicare returns
    such lines as unprocessable (CMS discarded-drugs page, 87 FR 69718).  The
    requirement does not reach inpatient (IPPS), RHC or FQHC claims, and
    Medicare Advantage, Medicaid and commercial plans set their own rules
    (billing-rules.md §9.1).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
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
        SV1*HC:J2350*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*9000*UN*600*21**1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***21:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*9000*UN*600*11**1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: safe: JZ is added in the first free modifier position when the
    units of the drug and date (every line of it) fill whole containers
    exactly (600 units = two 300 mg vials) and no line of it has JW or JZ, so
    nothing can have been discarded, and only where the finding is an error
    (the claim's payer policy, or the user's profile or severity setting,
    requires JZ): where payers vary (a warning) the claim is not changed.  A
    partial container (300 + 150 on two lines), four modifiers already, or
    a line whose NDC quantity is not what its units make (CTP 30 ML for 600
    units of 10 ML vials: a third vial opened, NDC007; or a quantity that
    cannot be converted), or whose units a units rule questions (UNT001: not
    a labeled dose; UNT002: above the drug's maximum, J2357 300 units = 1500
    mg: the claim's lines of the drug and date), is left for a person: JZ says
    nothing was discarded.  A JW or JZ in
    lower case ("jz") is reported as such, and the fix upper-cases it.
    """
    line = ctx.line
    if line.has_modifier(DISCARDED) or line.has_modifier(NOTHING_DISCARDED):
        return
    if not jw_jz_required(ctx.policy, ctx.table, ctx.drug, ctx.date):
        return
    requirement = ctx.policy.jw_jz(ctx.date)
    severity = requirement.severity  # in scope: error or warning
    if any(is_discarded(other) for other in ctx.group):
        return  # the administered half of a JW pair carries no modifier
    if _lower_case_jw_jz(ctx, line, severity):
        return
    fix = None
    component = line.free_modifier_component()
    if component is not None and group_fills_whole_containers(ctx.drug, ctx.group) \
            and quantities_fill_units(ctx.drug, ctx.group, ctx.claim.kind, ctx.date) \
            and units_within_dosing(ctx.drug, ctx.group):
        if (ctx.claim_context.severity or severity) == ERROR:  # JZ required: fix it
            position = 1 if line.segment_id == "SV1" else 2
            fix = Fix(f"add JZ to {line.procedure} ({line.units} units fill whole containers)",
                      (Edit(line.segment_index, line.segment_id, position, component, "",
                            NOTHING_DISCARDED),))
        hint = "add JZ (nothing discarded)"
    else:
        hint = ("add JZ if nothing was discarded, or bill the discarded amount "
                "on a second line with JW")
    why = f" ({requirement.reason})" if requirement.reason else ""
    ctx.finding(f"{line.procedure} is a single-dose drug and the line has neither JW nor JZ: "
                f"{hint}{why}", value=":".join((line.procedure, *line.modifiers)), fix=fix,
                severity=severity)


def _lower_case_jw_jz(ctx, line, severity: str) -> bool:
    """A JW or JZ written in lower case ("jz"): the modifier is there but no payer reads
    it; said as such, and the fix upper-cases it (as CTP05-1 "ml" -> "ML") rather than
    adding a second one."""
    for slot, modifier in enumerate(line.modifier_slots):
        upper = modifier.upper()
        if upper in (DISCARDED, NOTHING_DISCARDED) and modifier != upper:
            position = 1 if line.segment_id == "SV1" else 2
            fix = Fix(f"write modifier {modifier} as {upper}",
                      (Edit(line.segment_index, line.segment_id, position, slot + 3, modifier,
                            upper),))
            ctx.finding(f"{line.procedure} line's modifier {modifier!r} is in lower case: "
                        f"write {upper} (HCPCS modifiers are upper case; a payer does not "
                        f"read {modifier!r} as {upper})",
                        value=":".join((line.procedure, *line.modifiers)), fix=fix,
                        severity=severity)
            return True
    return False


def _policy_applies(ctx) -> bool:
    """The claim's payer policy puts JW/JZ in scope on the line's date and in its setting
    (an undated line is DOS001's; the modifiers are still checked on it)."""
    return ctx.policy.jw_jz_in_scope(ctx.date)


@rule("MOD002", ERROR, generic=True, also=WARNING,
      reads=("line.procedure", "line.modifiers", "line.date", "line.place_of_service"))
def jw_and_jz(ctx):
    """JW and JZ on the same line.

    What it does: flags a drug line (any J-code, known to the table or not)
    that carries both JW and JZ, with a date of service on or after the
    policy date (2023-07-01), where the claim's payer policy puts JW/JZ in
    scope.  An error where the policy enforces JW/JZ on the line's date and
    in its setting (Medicare FFS from 2023-10-01; a profile's jw_jz = true),
    else a warning saying why (Medicare Advantage, Medicaid, commercial and
    unknown payers: billing-rules.md §9.1), as MOD001.
    Why: JZ says nothing was discarded, JW bills a discarded amount; the two
    are mutually exclusive (CMS JW/JZ FAQ as reported by every MAC and trade
    source, billing-rules.md §1.4).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
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
        SV1*HC:J2350:JW:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ:JW*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (which modifier is right depends on whether drug was discarded).
    """
    line = ctx.line
    if not _policy_applies(ctx):
        return
    if line.has_modifier(DISCARDED) and line.has_modifier(NOTHING_DISCARDED):
        severity, why = jw_jz_severity(ctx.policy, ctx.date)
        ctx.finding(f"{line.procedure} line has both JW (amount discarded) and JZ (nothing "
                    f"discarded): keep one{why}",
                    value=":".join((line.procedure, *line.modifiers)), severity=severity)


@rule("MOD003", ERROR, scope=CLAIM, also=WARNING,
      reads=("line.procedure", "line.modifiers", "line.units", "line.date",
             "line.place_of_service"))
def jw_without_administered_line(ctx):
    """JW line with no administered line for the same drug and date.

    What it does: for each single-dose drug and date of service (on or after
    the policy date), flags JW lines when no line of the same HCPCS and date
    bills the administered units.  Reported once per drug and date, at the
    first JW line; where that line has JZ too (MOD002), the advice is to drop
    one modifier.  Only for payers whose policy puts JW/JZ in scope: an error
    where it enforces them, else a warning saying why, as MOD002.
    Why: discarded units are billed on a second line next to the administered
    units (Noridian "Modifier JW", CMS discarded-drugs FAQ, billing-rules.md
    §1.4); a JW line alone bills waste of a dose that was never given.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****15*ML
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    FAIL:
        CLM*C1*2250***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*6750*UN*450
        DTP*472*D8*20260115
        LX*2
        SV2*0636*HC:J2350:JW*2250*UN*150
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*2250***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JW*2250*UN*150
        DTP*472*D8*20260115
    Fix safety: none (the administered amount is in the medical record).
    """
    for _drug, lines, policy in required_groups(ctx):
        discarded = [line for line in lines if is_discarded(line)]
        if not discarded or len(discarded) < len(lines):
            continue
        first = discarded[0]
        day = ctx.date_of(first)
        severity, why = jw_jz_severity(policy, day)
        if first.has_modifier(NOTHING_DISCARDED):  # JW and JZ on one line (MOD002)
            advice = ("the line has JZ too: drop one modifier (JW if nothing was "
                      "discarded, JZ if it was, with the administered units on a line "
                      "without either)")
        else:
            advice = "bill the administered units on a line without JW/JZ"
        ctx.finding(f"{first.procedure} JW line ({first.units} units discarded) has no line "
                    f"billing the administered units on {day.isoformat()}: {advice}{why}",
                    line=first, value=first.units, severity=severity)


@rule("MOD004", ERROR, scope=CLAIM, also=WARNING,
      reads=("line.procedure", "line.modifiers", "line.units", "line.date",
             "line.place_of_service"))
def jz_with_jw_line(ctx):
    """JZ line while a JW line exists for the same drug and date.

    What it does: for each single-dose drug and date of service (on or after
    the policy date) that has a JW line, flags a line that claims JZ (nothing
    discarded).  Reported once per drug and date, at the JZ line.  Only for
    payers whose policy puts JW/JZ in scope: an error where it enforces them,
    else a warning saying why, as MOD002.
    Why: with waste, the administered line carries no modifier and the waste
    line carries JW (Noridian "Modifier JW"/"Modifier JZ", billing-rules.md
    §1.4); JZ next to JW contradicts it.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****15*ML
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****15*ML
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*6750*UN*450
        DTP*472*D8*20260115
        LX*2
        SV2*0636*HC:J2350:JW*2250*UN*150
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*6750*UN*450
        DTP*472*D8*20260115
        LX*2
        SV2*0636*HC:J2350:JW*2250*UN*150
        DTP*472*D8*20260115
    Fix safety: none (either JZ or the JW line is wrong; the record says which).
    """
    for _drug, lines, policy in required_groups(ctx):
        jz_line = next((line for line in lines if line.has_modifier(NOTHING_DISCARDED)
                        and not is_discarded(line)), None)
        discarded = [line for line in lines if is_discarded(line)]
        if jz_line is None or not discarded:
            continue
        jw_line = discarded[0]
        severity, why = jw_jz_severity(policy, ctx.date_of(jz_line))
        ctx.finding(f"{jz_line.procedure} line has JZ (nothing discarded) but line "
                    f"{jw_line.number} bills {jw_line.units} units discarded with JW on the "
                    f"same date: remove JZ, or the JW line{why}", line=jz_line,
                    value=":".join((jz_line.procedure, *jz_line.modifiers)),
                    severity=severity)


@rule("MOD005", WARNING, scope=CLAIM,
      reads=("line.procedure", "line.modifiers", "line.units", "line.date", "line.drug",
             "line.place_of_service"))
def not_whole_containers(ctx):
    """Administered plus discarded units do not add up to whole containers.

    What it does: for each single-dose drug and date of service (on or after
    the policy date) that uses JW or JZ, adds the units of all its lines
    (administered plus JW) and checks the total fills whole containers: a sum
    of any mix of the drug table's container sizes of the drug on the market
    on that date, whichever size the lines' NDCs name (J2350: 300-unit vials;
    J3262: 80, 200 and 400, so 280 = 200 + 80 is whole even on the 200 mg
    vial's NDC).  With JZ and no JW the administered units alone must fill
    whole containers.  Reported once per drug and date,
    at the administered line.  Only for payers whose policy puts JW/JZ in scope.
    Why: the amount opened is whole containers, so administered plus
    discarded units must equal it (Priority Health provider manual,
    billing-rules.md §1.4); otherwise the waste is overstated or
    understated, or JZ is claimed on a partly used vial.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****15*ML
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****15*ML
        LX*2
        SV1*HC:J2350:JW*3000*UN*200***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*6750***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*6750*UN*450
        DTP*472*D8*20260115
    Fix safety: none (the amounts given and discarded are in the record).
    """
    for drug, lines, _policy in required_groups(ctx):
        sizes = container_amounts(drug, ctx.date_of(lines[0]))
        units = group_units(lines)
        if not sizes or units is None:
            continue
        administered, discarded = units
        has_jw = any(is_discarded(line) for line in lines)
        if not has_jw and not any(line.has_modifier(NOTHING_DISCARDED) for line in lines):
            continue  # neither modifier: MOD001's case
        if has_jw and all(is_discarded(line) for line in lines):
            continue  # JW alone: MOD003's case
        total = administered + discarded
        if is_whole_containers(drug.amount_for_units(total), sizes):
            continue
        line = anchor(lines)
        if has_jw:
            what = (f"{number(administered)} units administered + {number(discarded)} "
                    f"discarded (JW) = {number(total)}")
        else:
            what = f"JZ (nothing discarded) on {number(total)} units"
        ctx.finding(f"{line.procedure} on {ctx.date_of(line).isoformat()}: {what}, which is "
                    f"not a whole number of containers ({describe_containers(drug)})",
                    line=line, value=number(total))
