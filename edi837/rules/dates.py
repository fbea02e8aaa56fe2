"""Codes and products have dates: a HCPCS code before it took effect or after it was
terminated (DOS002), an NDC package before or after it was marketed (NDC009), a
modifier before it existed (DOS003: JZ before 2023-01-01).

The dates come from imported files when there are some (CMS's quarterly HCPCS
file: add and termination dates; the FDA NDC Directory: marketing start and
end dates), else from the drug table (``[drugs.<HCPCS>.code_dates]``, and
``marketing_start``/``marketing_end`` of its NDC packages).  Both directions
are inclusive: a code added 2018-01-01 is valid on that day; an NDC whose
marketing ended 2026-06-30 is marketed on that day.  Where nothing gives a
date (J2351's effective date is unconfirmed), nothing is flagged.
"""
from __future__ import annotations

from ..findings import ERROR, WARNING
from ..ndc import ndc11_of
from . import rule


def _outside(window, day) -> str:
    """'from 2018-01-01' (the day is before it) or 'through 2026-06-30' (after it)."""
    if window.start is not None and day < window.start:
        return f"from {window.start.isoformat()}"
    return f"through {window.end.isoformat()}"


def _who(window) -> str:
    if window.file is not None:
        return f"{window.file.short_name}, imported"
    return f"drug table: {window.source}"


def secondary(window) -> bool:
    """A date only a secondary source gives (the drug table's [C] or unconfirmed, not an
    imported CMS file): Q5133 and Q5134 from 2024-04-01 per buyandbill.com."""
    return window.file is None and window.source.endswith(("[C]", "[unconfirmed]"))


@rule("DOS002", ERROR, generic=True, also=WARNING,
      reads=("line.procedure", "line.date", "line.code_dates"))
def code_not_valid_on_date(ctx):
    """The HCPCS code is not valid on the line's date of service.

    What it does: compares the drug line's date of service with the dates its
    HCPCS code is valid: the add and termination dates of the newest
    imported CMS HCPCS file that lists the code, else the drug table's
    `code_dates` (J2350: from 2018-01-01).  Runs on every drug line, known to
    the table or not (an unknown code is judged by an imported HCPCS file
    only).  No date known (J2351's effective date is unconfirmed): nothing.
    A warning where the date rests on a secondary source only (the drug
    table's [C] or unconfirmed date, no imported HCPCS file: the biosimilar
    Q-codes' 2024-04-01).
    Why: a HCPCS code is billable only from the date CMS adds it until its
    termination; J2350 took effect 2018-01-01 and ocrelizumab given before
    was billed under J3590 (Genentech Access; billing-rules.md §9.4).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2350*9000*UN*600***1
        DTP*472*D8*20180115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2350*9000*UN*600***1
        DTP*472*D8*20170615
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20180115-20180115
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
        DTP*472*D8*20180115
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20170615-20170615
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
        DTP*472*D8*20170615
    Fix safety: none (the code valid on that date, J3590 for ocrelizumab before
    2018, changes units and price).
    """
    day = ctx.date
    if day is None:
        return  # DOS001
    line = ctx.line
    window = ctx.table.code_dates(line.procedure)
    if window is None or window.holds(day):
        return
    weak = secondary(window)  # a [C] date: a warning, never a hold
    ctx.finding(f"{line.procedure} is not a valid HCPCS code on {day.isoformat()}: valid "
                f"{_outside(window, day)} ({_who(window)})"
                f"{'; a secondary source only: check the CMS HCPCS file' if weak else ''}",
                value=line.procedure, severity=WARNING if weak else None)


@rule("NDC009", ERROR, generic=True, reads=("line.date", "line.drug", "line.code_dates"))
def ndc_not_marketed_on_date(ctx):
    """The NDC is not marketed on the line's date of service.

    What it does: compares the drug line's date of service with the
    marketing start and end dates of its NDC package: from the newest
    imported FDA NDC Directory that lists the package (its package file, else
    its product file for the product), else the drug table's
    `marketing_start`/`marketing_end` (Ocrevus Zunovo 50242-0554-01: from
    2024-09-13).  Runs on every drug line with an 11-digit NDC (or a
    hyphenated one that converts).  No date known: nothing.
    Why: a product cannot be given before it is marketed; a line that says so
    has the wrong NDC or the wrong date (openFDA NDC directory; billing-rules.md
    §9.4).
    PASS:
        CLM*C1*13800***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2351:JZ*13800*UN*920***1
        DTP*472*D8*20241015
        LIN**N4*50242055401
        CTP****23*ML
    FAIL:
        CLM*C1*13800***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2351:JZ*13800*UN*920***1
        DTP*472*D8*20240610
        LIN**N4*50242055401
        CTP****23*ML
    Fix safety: none (the product given is in the administration record).
    """
    drug_id, day = ctx.line.drug, ctx.date
    if drug_id is None or day is None:
        return
    ndc = ndc11_of(drug_id.ndc)
    if ndc is None:
        return  # NDC002
    window = ctx.table.ndc_dates(ndc)
    if window is None or window.holds(day):
        return
    product = ctx.table.product_for_ndc(ndc) or window.note
    named = f" ({product})" if product else ""
    ctx.finding(f"NDC {ndc}{named} is not marketed on {day.isoformat()}: marketed "
                f"{_outside(window, day)} ({_who(window)})", segment_index=drug_id.lin_index,
                segment="LIN", loop="2410", value=drug_id.ndc)


@rule("DOS003", WARNING, generic=True, reads=("line.procedure", "line.modifiers", "line.date"))
def modifier_before_it_existed(ctx):
    """A modifier on a drug line dated before the modifier existed.

    What it does: flags a drug line carrying a modifier on a date of service
    before the first date the drug table gives for that modifier
    (`[policy.discarded_drug_modifiers] available_from`: JZ from 2023-01-01).
    Runs on every drug line.  A modifier the table gives no date for (JW: its
    creation date is not in the sources) is never flagged.
    Why: JZ was created by the CY2023 physician fee schedule final rule (87 FR
    69710-69734) and is available from 2023-01-01 (CMS discarded-drugs page;
    billing-rules.md §1.2 [A]): on an earlier date of service it is most
    likely a wrong date, or a claim reworked with today's coding.  A warning:
    no source in the reference says how payers treat the modifier on such a
    line (rejected as an invalid modifier, or ignored).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20230115
        LIN**N4*50242015001
        CTP****20*ML
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2350*9000*UN*600***1
        DTP*472*D8*20221215
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20221215
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20221215-20221215
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20221215
    Fix safety: none (whether the date or the modifier is wrong is in the
    provider's records).
    """
    day = ctx.date
    if day is None:
        return  # DOS001
    available = ctx.table.policy.discarded_drug_modifiers.available_from
    line = ctx.line
    for modifier in line.modifiers:
        first = available.get(modifier.strip().upper())
        if first is not None and day < first:
            ctx.finding(f"{line.procedure} with modifier {modifier.strip()} on "
                        f"{day.isoformat()}: {modifier.strip()} exists from "
                        f"{first.isoformat()} (drug table: discarded_drug_modifiers "
                        "available_from): check the date of service or the modifier",
                        value=":".join((line.procedure, *line.modifiers)))
