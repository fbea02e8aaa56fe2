"""DX: diagnoses (loop 2300 HI, 837P SV107 pointers).

Which ICD-10-CM codes support a drug comes from the drug table
(``[[drugs.<HCPCS>.diagnoses]]``; CMS publishes no such list).  Which codes
may be billed on a date of service comes from the ICD-10-CM code file
imported for that date (``edi837 refdata import --effective``: billable, or
a header), and without one from the table's dates: bare G35 through
2025-09-30, G35.A-G35.D from 2025-10-01 (FY2026 ICD-10-CM).  Codes are
compared in the X12 form, without the decimal point; messages show them
with it.
"""
from __future__ import annotations

from ..findings import ERROR, WARNING, Edit, Fix
from ..model import PROFESSIONAL, is_digits, parse_date
from . import CLAIM, rule
from .diagnosis_text import (
    _as_written,
    _codes,
    _dotted,
    _groups,
    _none_read,
    _replacements,
    _unread,
    _why_not_valid,
)

MAX_DIAGNOSES = 12  # SV107 points at HI positions 1-12 (837P)


@rule("DX001", ERROR, reads=("claim.diagnoses", "line.procedure"))
def no_supporting_diagnosis(ctx):
    """No diagnosis on the claim supports the drug.

    What it does: compares the claim's HI diagnoses with the codes the drug
    table lists for the drug (J2350: multiple sclerosis, G35 and G35.A-G35.D),
    whatever their dates (a code that supports the drug but is not valid on
    the date of service, a category such as G35B, or a code written with a
    decimal point, is DX002's).  Codes the table marks for review
    (J2350: non-active secondary progressive MS G35.C2, CIS G37.9) support the
    drug here: they are at the edge of the label, not outside it, and DOC001
    notes the medical-necessity documentation they call for.
    Why: payers pay a drug for its labeled or compendium-supported
    indications ("reasonable and necessary"); a claim with none of them is
    denied.  Indications: DailyMed Ocrevus label; codes: FY2026 ICD-10-CM.
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
        HI*ABK:M0579
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
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
        HI*ABK:M0579
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the diagnosis comes from the medical record).
    """
    if not ctx.drug.diagnoses:
        return  # the table lists no supporting diagnoses for this drug
    codes = _codes(ctx)
    if ctx.diagnosis_support(None).supported:
        return
    billed = ", ".join(map(_as_written, codes)) if codes else _none_read(ctx.claim)
    if codes and _unread(ctx.claim):
        billed += f"; not read: {_unread(ctx.claim)}"
    icd9 = ctx.table.policy.icd9
    qualifiers = sorted({dx.qualifier for dx in ctx.claim.diagnoses
                         if icd9 is not None and dx.qualifier.upper() in icd9.qualifiers})
    if qualifiers and ctx.date is not None and ctx.date > icd9.valid_to:
        ctx.finding(f"the claim's diagnoses are ICD-9-CM (qualifier {', '.join(qualifiers)}: "
                    f"{billed}), not valid for dates of service after "
                    f"{icd9.valid_to.isoformat()} ({ctx.line.procedure} on "
                    f"{ctx.date.isoformat()}): send ICD-10-CM codes (qualifiers ABK, ABF) "
                    f"that support it ({_groups(ctx.drug)})", value=" ".join(codes) or None)
        return
    ctx.finding(f"no diagnosis on the claim supports {ctx.line.procedure} "
                f"({_groups(ctx.drug)}); claim diagnoses: {billed}",
                value=" ".join(codes) or None)


@rule("DX002", ERROR, scope=CLAIM, also=WARNING,
      reads=("claim.diagnoses", "line.procedure", "line.date", "claim.statement_through",
             "line.span"))
def diagnosis_not_valid_on_date(ctx):
    """A supporting diagnosis is not valid on the date of service.

    What it does: for each drug and date of service on the claim, finds the
    HI codes that would support the drug but are not valid on that date:
    bare G35 on or after 2025-10-01 (a header code from FY2026), and
    G35.A-G35.D before it; categories that are never billable (G35B, G35C:
    the drug table marks them `header`); and a code written with a decimal
    point (`G35.A`: the HI segment carries ICD-10-CM codes without it, so as
    written it is no code at all) or in lower case (`g35a`: payers check the
    code as sent).  With an ICD-10-CM code file imported for the
    date, the file decides: a code it marks as a header, or does not list,
    is not valid (so a prefix entry such as M05 catches a bare header M05
    too); without one, the drug table's dates decide.  One finding per code,
    at its HI segment, naming the codes of the same category valid on the
    date.  On an inpatient bill (type of bill 11x: the policy file's
    `[diagnosis_dates]`) the date is the statement period's through date
    (DTP*434, the discharge), for every line of the stay; without one, each
    line's date of service.  The finding's date of service is the date it
    judged by.  A warning instead when the line has no date of
    its own (no DTP*472 D8), is not judged by a discharge, and the period it
    is dated by (the 837I statement period, a claim or line RD8 range) crosses
    a change in the code's validity: the line is judged on the period's first
    day, which may not be the day the drug was given (an 837I outpatient
    statement 2025-09-20..2025-10-10 with bare G35).
    Why: ICD-10-CM codes are valid by date of service, and an inpatient stay
    by its discharge date (CMS: the fiscal year's codes are "to be used for
    discharges occurring from October 1"; MLN Matters SE1408); FY2026
    (2025-10-01) split G35 into G35.A-G35.D, and a non-billable header code is
    rejected.  Source: FY2026 ICD-10-CM G35 expansion (billing-rules.md §3.1,
    §9.6); the CMS "ICD-10-CM Code Descriptions in Tabular Order" files when
    imported.
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
        HI*ABK:G35
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35B
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35.A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20250915-20250915
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20250915
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***11:1:1**A*Y*Y
        DTP*434*RD8*20250928-20251003
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
        DTP*472*D8*20250929
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***11:1:1**A*Y*Y
        DTP*434*RD8*20250928-20251003
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
        DTP*472*D8*20250929
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the subtype, G35.A-G35.D, is in the medical record).
    """
    reported = set()
    discharge = _discharge(ctx)
    for group in ctx.groups():
        line = group[0]
        drug = ctx.table.drug(line.procedure)
        day = ctx.date_of(line)
        if drug is None or day is None:
            continue  # DOS001 reports a missing date
        if discharge is not None:  # the stay's discharge decides: no day is unknown
            day, crossing = discharge, set()
        else:
            crossing = _validity_crossing(ctx, line, drug, day)
        for match in ctx.diagnosis_support(drug, day).not_valid_on_date:
            if (match.position, day) in reported or match.position in crossing:
                continue
            reported.add((match.position, day))
            dx = ctx.claim.diagnoses[match.position - 1]
            if "." in dx.code:
                message = (f"diagnosis {dx.code!r} is not a valid ICD-10-CM code as written: the "
                           f"HI segment carries codes without the decimal point ({match.code})")
            elif dx.code != dx.code.upper():
                message = (f"diagnosis {dx.code!r} is not a valid ICD-10-CM code as written: "
                           f"ICD-10-CM codes are upper case ({match.code}); payers check the "
                           f"code as sent")
            else:
                which = (f"the discharge (statement through date) of this inpatient stay, "
                         f"which decides for its {drug.hcpcs}" if discharge
                         else f"the date of service of {drug.hcpcs}")
                message = (f"diagnosis {_as_written(dx.code)} is not valid on {day.isoformat()}, "
                           f"{which} ({_why_not_valid(drug, match, day)})"
                           f"{_replacements(drug, match.code, day)}")
            ctx.finding(message, segment_index=dx.segment_index, segment="HI", loop="2300",
                        value=dx.code, hcpcs=drug.hcpcs,
                        judged_on=day.strftime("%Y%m%d"))  # the date it was judged by


def _discharge(ctx):
    """The date an inpatient bill's diagnoses are valid by (its statement's through
    date), where the claim's setting says so (edi837.policy: [diagnosis_dates]);
    None: each line's own date."""
    if ctx.policy.diagnosis_dates is None:
        return None
    return parse_date(ctx.claim.statement_through)


def span_end(claim, line) -> str:
    """The last day of the period a line without a date of its own is dated by (CCYYMMDD):
    its own RD8 range's end, else (no DTP*472 on the line) the claim's DTP*472 or 837I
    statement (DTP*434) range's end; "" when the line has one day (edi837.reader.shapes reads
    the same as "line.span")."""
    if line.service_date:
        return line.service_date_end
    return (claim.dates.get("472") or claim.dates.get("434") or "")[9:17]


def _validity_crossing(ctx, line, drug, day) -> set[int]:
    """HI positions of the codes for ``drug`` whose validity differs between ``day`` (the
    first day of the line's period) and the period's last day, each reported as a DX002
    warning: the line is dated by a period, not a day, and which day decides is unknown."""
    end = parse_date(span_end(ctx.claim, line))
    if end is None or end <= day:
        return set()
    first, last = ctx.diagnosis_support(drug, day), ctx.diagnosis_support(drug, end)
    valid_first = {match.position for match in first.supporting}
    valid_last = {match.position for match in last.supporting}
    crossing = valid_first ^ valid_last
    period = f"{day.isoformat()}..{end.isoformat()}"
    for position in sorted(crossing):
        dx = ctx.claim.diagnoses[position - 1]
        valid, invalid = (day, end) if position in valid_first else (end, day)
        where = "its RD8 range" if line.service_date else "the claim's period"
        ctx.finding(f"{drug.hcpcs} line {line.number} has no single date of service "
                    f"(DTP*472 D8) and {where} {period} crosses a change in the validity of "
                    f"diagnosis {_as_written(dx.code)} (valid on "
                    f"{valid.isoformat()}, not on {invalid.isoformat()}): it is judged on "
                    f"{day.isoformat()}; send the day the drug was given",
                    line=line, value=dx.code, hcpcs=drug.hcpcs, severity=WARNING)
    return crossing


@rule("DX003", WARNING, fix="safe",
      reads=("claim.kind", "claim.diagnoses", "line.procedure", "line.pointers", "line.date"))
def pointer_misses_supporting_diagnosis(ctx):
    """837P: the drug line's SV107 pointers miss the claim's supporting diagnosis.

    What it does: on a professional claim, checks that at least one SV107
    diagnosis pointer of the drug line points at an HI code that supports the
    drug on the line's date of service, when the claim has such a code.
    Why: the payer reads medical necessity from the diagnoses the line points
    at; a J2350 line pointing only at, say, Z79.899 (long-term drug therapy)
    is denied even though MS is on the claim.  X12 005010X222A1 SV107
    (billing-rules.md §4.1).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:Z79899*ABF:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1:2
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:Z79899*ABF:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: safe when exactly one diagnosis on the claim supports the
    drug: a pointer that refers to no diagnosis (DX004's: 3 on a claim with
    two) is replaced by its position (SV107 3 -> 1), else, when SV107 has a
    free slot (fewer than 4 pointers), its position is added as the next
    pointer (SV107 1 -> 1:2).  With two or more supporting codes, which one
    applies needs a person.
    """
    claim = ctx.claim
    if claim.kind != PROFESSIONAL:
        return  # 837I has no line-level diagnosis pointers
    support = ctx.diagnosis_support(ctx.date)
    if not support.supported:
        return  # DX001 / DX002
    pointed = {int(p) for p in ctx.line.pointers if is_digits(p)}
    if pointed & support.positions:
        return
    pointers = ctx.line.pointers
    choices = ", ".join(f"{_dotted(m.code)} at position {m.position}" for m in support.supporting)
    fix = None
    invalid = _invalid_pointer_slot(claim, ctx.line)
    component = ctx.line.free_pointer_component() if invalid is None else invalid[0]
    if len(support.supporting) == 1 and component is not None:
        position = str(support.supporting[0].position)
        code = _dotted(support.supporting[0].code)
        if invalid is None:
            fix = Fix(f"add diagnosis pointer {position} ({code}) to SV107",
                      (Edit(ctx.line.segment_index, "SV1", 7, component, "", position),))
        else:  # repoint: a pointer to no diagnosis (DX004) is replaced, not kept beside
            fix = Fix(f"replace diagnosis pointer {invalid[1]!r}, which points at no "
                      f"diagnosis, with {position} ({code}) in SV107",
                      (Edit(ctx.line.segment_index, "SV1", 7, component, invalid[1],
                            position),))
    shown = ":".join(pointers)
    ctx.finding(f"the SV107 diagnosis pointers ({shown or 'none'}) point at no diagnosis "
                f"supporting {ctx.line.procedure}; the claim has {choices}",
                value=shown or None, fix=fix)


def _invalid_pointer_slot(claim, line) -> tuple[int, str] | None:
    """(SV107 component, pointer) of the line's first pointer that refers to no diagnosis
    of the claim (DX004's: not a position 1-12, or none at that HI position)."""
    for component, pointer in enumerate(line.pointer_slots, start=1):
        if pointer and _pointer_problem(claim, pointer) is not None:
            return component, pointer
    return None


def _pointer_problem(claim, pointer: str) -> str | None:
    """What is wrong with an SV107 pointer (DX004), None when it names a diagnosis."""
    if not is_digits(pointer) or not 1 <= int(pointer) <= MAX_DIAGNOSES:
        return f"is not a diagnosis position 1-{MAX_DIAGNOSES}"
    if claim.diagnosis_at(pointer) is None:
        count = len(claim.diagnoses)
        return (f"refers to HI position {int(pointer)}, but the claim has "
                f"{count} diagnos{'is' if count == 1 else 'es'}")
    return None


@rule("DX004", ERROR, generic=True, reads=("claim.kind", "claim.diagnoses", "line.pointers"))
def pointer_out_of_range(ctx):
    """837P: an SV107 pointer refers to an HI position that does not exist.

    What it does: checks each SV107 diagnosis pointer of a drug line is a
    number from 1 to 12 and that the claim's HI has a diagnosis at that
    position.  One finding per bad pointer.
    Why: the pointer must reference a diagnosis on the claim (X12
    005010X222A1 SV107, pointers 1-12); clearinghouses (Stedi since
    2026-01) reject claims whose pointers refer to missing HI positions.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A*ABF:Z79899
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1:2
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A*ABF:Z79899
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1:5
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (which diagnosis was meant needs a person).
    """
    claim = ctx.claim
    if claim.kind != PROFESSIONAL:
        return
    for slot, pointer in enumerate(ctx.line.pointers, start=1):
        problem = _pointer_problem(claim, pointer)
        if problem is None:
            continue
        ctx.finding(f"SV107-{slot} diagnosis pointer {pointer!r} {problem}", value=pointer)


@rule("DX005", WARNING, reads=("claim.diagnoses", "line.procedure", "line.date"))
def diagnosis_only_under_review(ctx):
    """The only diagnoses supporting the drug are ones the drug table marks for review.

    What it does: flags a drug line whose claim supports the drug only with
    codes the table marks `review` (J2350: non-active secondary progressive
    MS G35.C2, and G37.9 used for clinically isolated syndrome; J2323:
    progressive forms), naming them and the table's note.  A claim that also
    carries a fully supporting code (G35.A) is not flagged.  Primary
    progressive MS (G35.B0, G35.B1, G35.B2) fully supports ocrelizumab: the
    label names PPMS with no activity qualifier.
    Why: these codes sit outside or at the edge of the label's indications, so
    payers may deny the line as not medically necessary; treat it as a
    warning, not a rejection, and have the medical-necessity documentation
    on file (billing-rules.md §3.1, §3.2, §9.6; DailyMed Ocrevus indications;
    Triple-S policy P1.002.005).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A*ABF:G35C2
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35B2
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35C2
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
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
        HI*ABK:G379
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the diagnosis and its documentation are in the record).
    """
    support = ctx.diagnosis_support(ctx.date)
    if not support.review_only:
        return
    notes = dict.fromkeys(m.entry.group + (f" ({m.entry.note})" if m.entry.note else "")
                          for m in support.supporting)
    codes = ", ".join(_dotted(m.code) for m in support.supporting)
    ctx.finding(f"{ctx.line.procedure} is supported only by diagnoses marked for review "
                f"({codes}): {'; '.join(notes)}; have the medical necessity documented",
                value=" ".join(m.code for m in support.supporting))
