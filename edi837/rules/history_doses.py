"""HIS: the patient history's doses: the schedule (HIS002), the first dose seen
(HIS003) and DOC001's first-dose documentation on it.  Duplicates and voids are
in edi837.rules.history.

These rules run in the history stage (edi837.history.stage): one claim at a
time, in input order, against the drug lines of the same patient already in
the history (earlier claims of this run and, with a store, of earlier runs).
What they derive from the drug table alone (the codes of one molecule, a
code's first-dose notes) is kept in the stage's ``memo`` for the run: the
first doses of a new store are as many as its claims.  For the same reason the
stage says HIS003's and DOC001's findings on a lone one-line claim (a patient
the history has no line of) again from the first claim like it
(edi837.history.pending.FirstDoses): what these two rules say of such a claim
must depend only on its plan, code, units, date, JW, CLM05-3 and SBR01.

Fragments below that hold ``--- next night ---`` are two files checked one
after the other with the same history; the findings shown are the second's.
"""
from __future__ import annotations

from decimal import Decimal

from ..findings import INFO, WARNING
from ..history.context import shown_date
from ..history.records import REPLACEMENT
from . import HISTORY, history_part, rule
from .docs import first_dose_notes_apply
from .doses import dose_text, doses_of, ingredients, molecule, same_schedule
from .groups import number
from .history_schedule import out_of_schedule


@rule("HIS002", WARNING, scope=HISTORY, stage_order=60)
def dose_out_of_schedule(ctx):
    """Dose out of schedule, by the drug table's schedule data.

    What it does: for a drug with a schedule in the drug table (J2350: a
    300-unit induction pair about 14 days apart, allowed 10-21, then 600
    units every 6 months), compares each date's administered amount with
    the nearest dose before it and, for a late claim for an earlier date,
    the nearest dose after it (a replacement, CLM05-3 = 7, that keeps the
    date, code and units of the claim it replaces is not judged again).  The
    schedule is per ingredient: J2350 (IV)
    and J2351 (Ocrevus Zunovo, 920 mg every 6 months) are both ocrelizumab,
    so a switch from one to the other is judged against the last dose of
    either, and by one interval whichever code billed each dose.  Flags a
    dose sooner than the label's minimum interval, or a second induction
    dose far from the 14-day mark.  The minimum interval is the one of the
    label revision in force on the later date of service (the drug table's
    `label_intervals`, each wording with its source): before 5/2026 "at
    least 5 months" (150 days); from the 5/2026 revision the manufacturer's
    pages disagree ("at least 20 weeks", 140 days, or "at least 5 months"),
    so the longer is flagged.  The label is the later dose's code's; the
    Zunovo label (J2351) gives no minimum, so the Ocrevus label's judges a
    J2351 dose too, and the message says so.  A drug whose induction doses
    are the size of its maintenance dose has induction steps (J3380
    vedolizumab: weeks 0, 2 and 6, each in a window of days after the first
    dose, then every 8 weeks): the molecule's first doses in the history are
    the induction, and a maintenance dose sooner than the table's minimum
    (42 days, the project's choice: the label gives none) is flagged.  The
    message names the other dose's code, units, date and claim, and the
    label revision.  A payer profile's `maintenance_min_days` replaces the
    label's interval.
    Why: payers apply the label's schedule per member across claims
    (BCBS Alabama PH-0298: 300 units on day 1 and day 15, then 600 every 6
    months); a dose out of it is denied or needs a prior authorisation
    (billing-rules.md §8.1, §9.5).  The induction window is the project's
    choice; a warning, never a hold, since the wording is unconfirmed.
    PASS:
        CLM*C1*4900***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20251001
        LIN**N4*50242015001
        CTP****10*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20251001
        --- next night ---
        CLM*C2*4900***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20251015
        LIN**N4*50242015001
        CTP****10*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20251015
    PASS:
        CLM*V1*15000***11:B:1*Y*A*Y*Y
        HI*ABK:K5090
        LX*1
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260105
        LIN**N4*64764030020
        CTP****1*UN
        LX*2
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260119
        LIN**N4*64764030020
        CTP****1*UN
        LX*3
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260216
        LIN**N4*64764030020
        CTP****1*UN
        --- next night ---
        CLM*V2*5000***11:B:1*Y*A*Y*Y
        HI*ABK:K5090
        LX*1
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260413
        LIN**N4*64764030020
        CTP****1*UN
    FAIL:
        CLM*V1*15000***11:B:1*Y*A*Y*Y
        HI*ABK:K5090
        LX*1
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260105
        LIN**N4*64764030020
        CTP****1*UN
        LX*2
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260119
        LIN**N4*64764030020
        CTP****1*UN
        LX*3
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260216
        LIN**N4*64764030020
        CTP****1*UN
        --- next night ---
        CLM*V2*5000***11:B:1*Y*A*Y*Y
        HI*ABK:K5090
        LX*1
        SV1*HC:J3380:JZ*5000*UN*300***1
        DTP*472*D8*20260302
        LIN**N4*64764030020
        CTP****1*UN
    FAIL:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20251124
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20251124
        --- next night ---
        CLM*C2*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260302
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260302
    FAIL:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20251124
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20251124
        --- next night ---
        CLM*C2*14200***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2351:JZ*13800*UN*920***1
        DTP*472*D8*20260304
        LIN**N4*50242055401
        CTP****23*ML
        LX*2
        SV1*HC:96401*400*UN*1***1
        DTP*472*D8*20260304
    FAIL:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260112
        LIN**N4*50242015001
        CTP****20*ML
        --- next night ---
        CLM*C2*14200***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2351:JZ*13800*UN*920***1
        DTP*472*D8*20260606
        LIN**N4*50242055401
        CTP****23*ML
    Fix safety: none (the dates are in the infusion record; an early dose may
    be authorised).
    """
    groups = ctx.groups()
    claim_hcpcs = dict.fromkeys(hcpcs for hcpcs, _ in groups)
    if not ctx.visible and len(claim_hcpcs) == len(groups) and \
            len(ingredients(ctx.table, claim_hcpcs)) == len(claim_hcpcs):
        return  # one date per drug and no history: nothing to compare a dose with
    for hcpcs in claim_hcpcs:
        drug = ctx.table.drug(hcpcs)
        schedule = ctx.schedule(drug) if drug is not None else None
        if schedule is None:
            continue
        codes = same_schedule(ctx.table, hcpcs, schedule)
        doses = doses_of(ctx, codes)
        dates = sorted(doses)

        def schedule_of(code, codes=codes):
            found = codes.get(code)
            return ctx.schedule(found) if found is not None else None
        mine = dict.fromkeys(line.date for _, line in ctx.counted_lines()
                             if line.hcpcs == hcpcs and not line.discarded and line.date in doses)
        unchanged = _replaced_doses(ctx, hcpcs)
        for date in mine:
            at = dates.index(date)
            line = next(line for _, line in ctx.counted_lines()
                        if line.hcpcs == hcpcs and line.date == date and not line.discarded)
            units = sum((counted.units for _, counted in ctx.counted_lines()
                         if counted.hcpcs == hcpcs and counted.date == date
                         and not counted.discarded and counted.units is not None), Decimal(0))
            if unchanged.get(date) == units:
                continue  # a replacement keeping the dose: judged when first billed
            here = f"{hcpcs}: {number(units)} units on {shown_date(date)}"
            found = out_of_schedule(codes, schedule_of, doses, dates, at)
            if found:
                gap, label, induction = found
                other = dose_text(doses, dates[at - 1])
                other = f"the first induction dose ({other})" if induction else other
                switched = molecule(doses, dates[at - 1], hcpcs, schedule)
                ctx.finding(f"{here}, {gap} days after {other}{switched}; {label}",
                            line=line, value=str(gap))
            later = dates[at + 1] if at + 1 < len(dates) else None
            found = out_of_schedule(codes, schedule_of, doses, dates, at + 1) \
                if later is not None and doses[later][1] != ctx.record.claim_id else None
            if found:  # a late claim for an earlier date, judged with the dose after it
                # (not when the dose after it is this claim's: that line says it)
                gap, label, _ = found
                ctx.finding(f"{here} (a claim for an earlier date), {gap} days before "
                            f"{dose_text(doses, dates[at + 1])}"
                            f"{molecule(doses, dates[at + 1], hcpcs, schedule)}; {label}",
                            line=line, value=str(gap))


def _replaced_doses(ctx, hcpcs: str) -> dict[str, Decimal]:
    """A replacement's original (CLM05-3 = 7): its administered units of the code
    per date.  A replacement that keeps a date, code and units creates no new
    schedule pair: that dose was judged (and any HIS002 said) when first billed."""
    if ctx.record.frequency != REPLACEMENT:
        return {}
    doses: dict[str, Decimal] = {}
    for row in ctx.original:
        if row.hcpcs == hcpcs and not row.discarded and row.units is not None:
            doses[row.date] = doses.get(row.date, Decimal(0)) + row.units
    return doses


@rule("HIS003", INFO, scope=HISTORY, stage_order=70, lasting=True, feeds=True)
def first_dose_seen(ctx):
    """First dose of this drug seen for this member.

    What it does: notes the first line of a drug from the drug table that the
    history has never seen for this patient (no earlier or later dose in it);
    codes of one ingredient are one drug (a J2351 dose after a J2350 dose is
    no first ocrelizumab dose).
    Only with a history that outlives the run (`check --history FILE`, or
    `batch`): a run on its own cannot tell a first dose from a member it has
    not seen before.  A member whose member id or payer changes starts a new
    history, and the first night of a new store sees every member for the
    first time (seed it from past files: see the README).
    Why: documentation is due before a first dose (J2350: hepatitis B
    screening and immunoglobulins, DailyMed label); DOC001 then fires on this
    fact, not on the dose size alone.
    PASS:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20251124
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20251124
        --- next night ---
        CLM*C2*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260525
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260525
    FAIL:
        CLM*C1*4900***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
    Fix safety: none (an annotation).
    """
    seen = set()
    molecules = ctx.stage.memo.setdefault("HIS003", {})
    for _, line in ctx.counted_lines():
        hcpcs = line.hcpcs
        if not line.in_table or line.discarded:
            continue
        found = molecules.get(hcpcs)
        if found is None:
            drug = ctx.table.drug(hcpcs)
            codes = same_schedule(ctx.table, hcpcs, drug.schedule) \
                if drug is not None and drug.schedule is not None else {hcpcs: drug}
            # the molecule: J2350 and J2351 are one (ocrelizumab)
            found = molecules[hcpcs] = (codes, min(codes))
        codes, group = found
        if group in seen:
            continue
        seen.add(group)
        if ctx.live and any(row.hcpcs in codes for row in ctx.live):  # (a replaced
            # original counts)
            continue
        ctx.first_seen.add(hcpcs)
        ctx.finding(f"first {hcpcs} dose seen for this member ({line.units_text} units on "
                    f"{shown_date(line.date)}); a member whose id or payer changes starts a "
                    "new history", line=line)


@history_part("DOC001", stage_order=80, lasting=True)
def first_dose_documentation(ctx):
    """DOC001 with a history: the drug table's first-dose notes on the first dose
    seen for the member (HIS003), when it is a dose the note is for (J2350: 300
    units, not a 600-unit maintenance dose); never on a replacement, a void or a
    secondary payer's claim."""
    record = ctx.record
    if record.frequency == REPLACEMENT or \
            not first_dose_notes_apply(record.frequency, record.responsibility):
        return
    first_notes = ctx.stage.memo.setdefault("DOC001", {})
    for hcpcs in sorted(ctx.first_seen):
        notes = first_notes.get(hcpcs)
        if notes is None:
            drug = ctx.table.drug(hcpcs)
            notes = first_notes[hcpcs] = [note for note in drug.documentation
                                          if note.first_dose] if drug else []
        line = next((line for _, line in ctx.counted_lines()
                     if line.hcpcs == hcpcs and not line.discarded), None)
        if not notes or line is None:
            continue
        dose = sum((given.units for given in ctx.groups().get((hcpcs, line.date), ())
                    if not given.discarded and given.units is not None), Decimal(0))
        # the first dose seen is no first dose when its size is not one the note
        # is for (J2350: a 600-unit maintenance dose; the history began later)
        notes = [note for note in notes if note.applies_to(dose)]
        for note in notes:
            ctx.finding(f"{hcpcs}, {line.units_text} units: first {hcpcs} dose seen for this "
                        f"member; {note.note}", line=line, value=line.units_text)
