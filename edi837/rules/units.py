"""UNT: billed units (SV103/SV104 on 837P, SV204/SV205 on 837I).

Labeled doses and maxima are HCPCS billing units from the drug table's
`dosing` (J2350: 1 unit = 1 mg, doses 300 and 600, maximum 600); the unit
basis comes from the table's policy.  Dose and maximum are per patient and
date over every claim: UNT001 and UNT002 run in the history stage
(edi837.history.stage), which sums the day's lines of this run and of the
patient history; lines flagged as duplicates (HIS001) are never summed.
"""
from __future__ import annotations

from decimal import Decimal

from ..findings import ERROR, WARNING
from ..history.stage import shown_date
from . import HISTORY, rule
from .doses import same_schedule
from .groups import number


def _doses(doses) -> str:
    """300 or 600 units."""
    listed = [str(dose) for dose in doses]
    if len(listed) > 1:
        return ", ".join(listed[:-1]) + " or " + listed[-1] + " units"
    return listed[0] + " units"


@rule("UNT001", WARNING, scope=HISTORY, stage_order=40)
def not_a_labeled_dose(ctx):
    """Amount prepared for one patient and date is not a labeled dose.

    What it does: adds the units of every line of the drug for the patient
    and date of service, administered plus discarded (JW), over every claim
    of the run and of the patient history, and compares the total with the
    drug table's labeled doses (J2350: 300 or 600; 450 administered + 150 JW
    is a 600 dose).  Judged as each claim arrives: the finding goes on the
    claim's line that completes the day's total so far.  Drugs dosed by
    weight, with no labeled doses in the table (J3262), are not checked.
    Why: the prepared amount is a labeled dose (Ocrevus: 300 mg twice, then
    600 mg every 6 months, DailyMed label, billing-rules.md §2.4); any other
    total usually means a unit or keying error.
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
        CLM*C1*7500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*7500*UN*500***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****16.667*ML
    PASS (837I):
        CLM*I1*4500***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*4500*UN*300
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*6000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*6000*UN*400
        DTP*472*D8*20260115
    Fix safety: none (the dose given is in the medical record).
    """
    for (hcpcs, date), lines in ctx.groups().items():
        drug = ctx.table.drug(hcpcs)
        if drug is None or not drug.labeled_doses or \
                any(row.units is None or row.units <= 0 for row in lines):
            continue  # units that are no number (EDI007) or not above zero (UNT003)
        earlier = [row for row in ctx.earlier(hcpcs, date) if row.units is not None]
        total = sum((line.units for line in lines), Decimal(0)) + \
            sum((row.units for row in earlier), Decimal(0))
        if total in drug.labeled_doses:
            continue
        administered = sum((row.units for row in lines if not row.discarded), Decimal(0)) + \
            sum((r.units for r in earlier if not r.discarded), Decimal(0))
        discarded = total - administered
        line = lines[-1]  # the line that completes the day's total so far
        when = f" on {shown_date(date)}" if date else ""
        if discarded:
            what = (f"{number(administered)} units administered + {number(discarded)} "
                    f"discarded (JW) = {number(total)} units prepared")
        else:
            what = f"{number(total)} units"
        ctx.finding(f"{hcpcs}{when}: {what}{_elsewhere(earlier)}, not a labeled dose "
                    f"({_doses(drug.labeled_doses)})", line=line, value=number(total))


def secondary(drug) -> bool:
    """A maximum the drug table gives from a secondary source only ([C] or unconfirmed):
    tocilizumab's 800 mg per infusion rests on elsevier.health alone (billing-rules.md §5)."""
    return drug.dosing.provenance.confidence in ("C", "unconfirmed")


def _weak(drug) -> str:
    """What a UNT002 message adds when the maximum rests on a secondary source only."""
    if not secondary(drug):
        return ""
    return (f"; the maximum rests on a secondary source only "
            f"({drug.dosing.provenance}): check the label")


@rule("UNT002", ERROR, scope=HISTORY, stage_order=30, also=WARNING)
def above_maximum(ctx):
    """Administered units for one patient and date exceed the drug's maximum.

    What it does: adds the administered units (JW lines excluded) of every
    line of the drug for the patient and date of service, over every claim of
    the run and of the patient history, and compares the total with the drug
    table's maximum units per day (J2350: 600; 600 units on one claim and 300
    on another the same day is 900).  The finding goes on the line that
    pushes the day's total over the maximum.  Codes of one molecule (the
    drug table's schedule `ingredient`: J3262 and its biosimilar Q5133,
    tocilizumab) are added in mg: Actemra 400 + Tofidence 480 is 880 mg.
    A warning where the table's maximum rests on a secondary source only
    (its dosing confidence [C] or unconfirmed: tocilizumab's 800 mg, J3262
    and Q5133, from elsevier.health; J2351, J2357, Q5134); an error where it
    is sourced [A] or [B] (J2350, J2323, J3380).
    Why: more than the labeled maximum dose (Ocrevus 600 mg, DailyMed label,
    billing-rules.md §2.4) is denied by unit edits (MUEs) and usually means
    a duplicated line or a unit error.
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
        SV1*HC:J2350:JZ*13500*UN*900***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****30*ML
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
    Fix safety: none (which line or units are wrong needs a person).
    """
    done = set()  # (codes of one molecule, date) already judged
    for (hcpcs, date), lines in ctx.groups().items():
        drug = ctx.table.drug(hcpcs)
        if drug is None or drug.max_units_per_day is None or \
                any(line.units is None for line in lines):
            continue
        codes = same_molecule(ctx.table, hcpcs)
        if len(codes) > 1:
            if (frozenset(codes), date) not in done:
                done.add((frozenset(codes), date))
                _molecule_above_maximum(ctx, codes, date)
            continue
        earlier = [row for row in ctx.earlier(hcpcs, date)
                   if row.units is not None and not row.discarded]
        total = sum((row.units for row in earlier), Decimal(0))
        for line in lines:
            if line.discarded:
                continue
            total += line.units
            if total > drug.max_units_per_day:
                _above_maximum(ctx, drug, hcpcs, date, total, earlier, line)
                break


def _above_maximum(ctx, drug, hcpcs: str, date, units, earlier: list, line) -> None:
    """UNT002 on ``line``: ``units`` of ``hcpcs`` that day (``earlier``: the rows of
    other claims among them), above the drug's maximum (a warning where the maximum rests
    on a secondary source only)."""
    when = f" on {shown_date(date)}" if date else ""
    ctx.finding(f"{hcpcs}{when}: {number(units)} units administered"
                f"{_elsewhere(earlier)}, above the maximum of "
                f"{drug.max_units_per_day} units per day{_weak(drug)}",
                line=line, value=number(units), severity=WARNING if secondary(drug) else None)


def same_molecule(table, hcpcs: str) -> dict:
    """The codes of the drug's ingredient (its schedule's ``ingredient``: J3262 and Q5133,
    tocilizumab), each with its drug entry; the code alone when it has none."""
    drug = table.drug(hcpcs)
    schedule = drug.schedule if drug is not None else None
    return same_schedule(table, hcpcs, schedule) if schedule is not None else {hcpcs: drug}


def _molecule_above_maximum(ctx, codes: dict, date) -> None:
    """UNT002 for codes of one molecule (the reference product and its biosimilar): the
    administered amount of the day in the drug's unit (mg), over every code, against the
    maximum of the line that pushes it over (J3262 400 + Q5133 480 = 880 mg tocilizumab,
    above 800)."""
    earlier, lines = [], []
    for code, drug in codes.items():
        if drug is None or drug.max_units_per_day is None:
            return
        earlier += [(row, drug) for row in ctx.earlier(code, date)
                    if row.units is not None and not row.discarded]
        lines += [(line, drug) for line in ctx.groups().get((code, date), ())
                  if not line.discarded]
    if any(line.units is None for line, _ in lines):
        return
    total = sum((row.units * drug.amount_per_unit for row, drug in earlier), Decimal(0))
    lines.sort(key=lambda pair: pair[0].segment_index or 0)
    for line, drug in lines:
        total += line.units * drug.amount_per_unit
        maximum = drug.max_units_per_day * drug.amount_per_unit
        if total > maximum:
            parts = _parts(earlier + lines, line)
            when = f" on {shown_date(date)}" if date else ""
            ingredient = drug.schedule.ingredient
            same = [row for row, _ in earlier if row.hcpcs == line.hcpcs]
            if len(same) == len(earlier) and all(other.hcpcs == line.hcpcs
                                                 for other, _ in lines):
                # one code alone: said in its units
                _above_maximum(ctx, drug, line.hcpcs, date, total / drug.amount_per_unit,
                               same, line)
                return
            ctx.finding(f"{line.hcpcs}{when}: {number(total)} {drug.unit_of_measure} of "
                        f"{ingredient} administered ({parts}), above the maximum of "
                        f"{drug.max_units_per_day} units of {line.hcpcs} "
                        f"({number(maximum)} {drug.unit_of_measure}) per day: "
                        f"the codes bill one molecule{_weak(drug)}", line=line,
                        value=number(total), severity=WARNING if secondary(drug) else None)
            return


def _parts(pairs, upto) -> str:
    """'400 units of J3262 on claim C1, 480 units of Q5133': what made the day's total."""
    found: dict = {}
    for item, _ in pairs:
        claim = getattr(item, "claim_id", None)
        key = (item.hcpcs, claim)
        found[key] = found.get(key, Decimal(0)) + item.units
        if item is upto:
            break
    return ", ".join(f"{number(units)} units of {code}" + (f" on claim {claim}" if claim else "")
                     for (code, claim), units in found.items())


def _elsewhere(rows) -> str:
    """' (300 of them on claim C1)': what earlier claims of the day contributed."""
    if not rows:
        return ""
    units = sum((row.units for row in rows), Decimal(0))
    claims = ", ".join(dict.fromkeys(row.claim_id for row in rows))
    return f" ({number(units)} of them on claim {claims})"


@rule("UNT003", ERROR, generic=True,
      reads=("line.procedure", "line.units", "line.unit_basis", "line.segment_id"))
def unit_basis_and_count(ctx):
    """Unit basis is not UN, or units are not a positive whole number.

    What it does: checks SV103 (837P) / SV204 (837I) is the drug table
    policy's unit basis (UN) and SV104 / SV205 is a whole number above zero.
    Runs on every drug line, including J-codes the table does not know.
    Units that are not a number at all are reported by EDI007.
    Why: drug lines are billed in HCPCS units (X12 5010 SV103/SV204 code
    lists via the pyx12 maps, billing-rules.md §4); MJ (minutes) or DA
    (days) cannot be priced as a drug, and a fraction of a unit is rounded
    by payers or rejected (Noridian JZ: round the administered amount up).
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
        SV1*HC:J2350:JZ*9000*MJ*600***1
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
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600.5
        DTP*472*D8*20260115
    Fix safety: none (the right number of units is in the record).
    """
    line = ctx.line
    expected = ctx.table.policy.service_units.unit_basis
    element = "SV103" if line.segment_id == "SV1" else "SV204"
    count = "SV104" if line.segment_id == "SV1" else "SV205"
    problems = []
    value = None
    if line.unit_basis != expected:
        problems.append(f"{element} unit basis is {line.unit_basis or '(empty)'!r}, "
                        f"not {expected}")
        value = line.unit_basis
    units = line.units_value
    if not line.units:
        problems.append(f"{count} units are missing")
    elif units is not None and (units <= 0 or units != units.to_integral_value()):
        problems.append(f"{count} units {line.units} are not a positive whole number")
        value = value if value is not None else line.units
    if problems:
        ctx.finding(f"{line.procedure}: " + "; ".join(problems), value=value)
