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

A line with no day of its own (no DTP*472 D8: an 837I line, where DTP*472 is
situational, billing-rules.md §4.2) is judged on the first day of the period
it is dated by (its RD8 range, else the 837I statement, DTP*434); where that
period holds days inside the code's or NDC's dates and days outside them, the
finding is a warning saying so, as DX002 reads such a period (README "Rules"):
the drug may have been given on a day it was valid.  An error only where the
whole period is outside.
"""
from __future__ import annotations

from ..findings import ERROR, WARNING
from ..model import parse_date
from ..ndc import ndc11_of
from . import rule
from .diagnosis import span_end


def _outside(window, day) -> str:
    """'from 2018-01-01' (the day is before it) or 'through 2026-06-30' (after it)."""
    if window.start is not None and day < window.start:
        return f"from {window.start.isoformat()}"
    return f"through {window.end.isoformat()}"


def _who(window) -> str:
    if window.file is not None:
        return f"{window.file.short_name}, imported"
    return f"drug table: {window.source}"


def crossing(window, day, end) -> bool:
    """Whether the period ``day``..``end`` (a line with no day of its own: its RD8 range,
    or the claim's 837I statement) holds days inside ``window`` and days outside it."""
    if end is None or end <= day:
        return False
    inside = (window.start is None or window.start <= end) and \
        (window.end is None or window.end >= day)
    return inside and not (window.holds(day) and window.holds(end))


def _judged(ctx, window, what: str, named: str) -> tuple[str, str | None] | None:
    """How a line's date stands against ``window`` (``what``: "valid", "marketed";
    ``named``: what the line's subject is not on a day outside it, "a valid HCPCS code"):
    None when its day holds and no period crosses the window's edge; else the text after
    the line's subject and the severity: None (the rule's error) for a day outside it,
    WARNING where the line has no day of its own (no DTP*472 D8) and the period it is
    dated by crosses the window's edge, as DX002 reads a period (README "Rules")."""
    day = ctx.date
    end = parse_date(span_end(ctx.claim, ctx.line))
    if end is not None and crossing(window, day, end):
        line = ctx.line
        where = "its RD8 range" if line.service_date else "the claim's period"
        edge = _outside(window, day) if not window.holds(day) else _outside(window, end)
        return (f"is {what} {edge}, and line {line.number} has no date of service of its "
                f"own (DTP*472 D8): {where} {day.isoformat()}..{end.isoformat()} holds days "
                f"it is {what} on and days it is not; judged on {day.isoformat()} "
                f"({_who(window)}); send the day the drug was given"), WARNING
    if window.holds(day):
        return None
    return (f"is not {named} on {day.isoformat()}: {what} {_outside(window, day)} "
            f"({_who(window)})"), None


def secondary(window) -> bool:
    """A date only a secondary source gives (the drug table's [C] or unconfirmed, not an
    imported CMS file): Q5133 and Q5134 from 2024-04-01 per buyandbill.com."""
    return window.file is None and window.source.endswith(("[C]", "[unconfirmed]"))


@rule("DOS002", ERROR, generic=True, also=WARNING,
      reads=("line.procedure", "line.date", "line.span", "line.code_dates"))
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
    Q-codes' 2024-04-01), and where the line has no day of its own (no
    DTP*472 D8) and the period it is dated by (an 837I statement, an RD8
    range) holds days the code is valid on and days it is not (2017-12-20..
    2018-01-10 for J2350): judged on the period's first day, but the drug
    may have been given on a valid day, as DX002 reads a period; an error
    only where the whole period is outside the code's dates.
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
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20171201-20171215
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
    Fix safety: none (the code valid on that date, J3590 for ocrelizumab before
    2018, changes units and price).
    """
    day = ctx.date
    if day is None:
        return  # DOS001
    line = ctx.line
    window = ctx.table.code_dates(line.procedure)
    if window is None:
        return
    judged = _judged(ctx, window, "valid", "a valid HCPCS code")
    if judged is None:
        return
    text, severity = judged
    weak = secondary(window)  # a [C] date: a warning, never a hold
    ctx.finding(f"{line.procedure} {text}"
                f"{'; a secondary source only: check the CMS HCPCS file' if weak else ''}",
                value=line.procedure, severity=WARNING if weak else severity)


@rule("NDC009", ERROR, generic=True, also=WARNING,
      reads=("line.date", "line.span", "line.drug", "line.code_dates"))
def ndc_not_marketed_on_date(ctx):
    """The NDC is not marketed on the line's date of service.

    What it does: compares the drug line's date of service with the
    marketing start and end dates of its NDC package: from the newest
    imported FDA NDC Directory that lists the package (its package file, else
    its product file for the product), else the drug table's
    `marketing_start`/`marketing_end` (Ocrevus Zunovo 50242-0554-01: from
    2024-09-13).  Runs on every drug line with an 11-digit NDC (or a
    hyphenated one that converts).  No date known: nothing.  A warning where
    the line has no day of its own (no DTP*472 D8) and the period it is dated
    by (an 837I statement, an RD8 range) holds days the package is marketed
    on and days it is not (2024-09-01..2024-09-20 for Ocrevus Zunovo): judged
    on the period's first day, but the drug may have been given on a day it
    was marketed, as DX002 reads a period; an error only where the whole
    period is outside the marketing dates.
    Why: a product cannot be given before it is marketed; a line that says so
    has the wrong NDC or the wrong date (openFDA NDC directory; billing-rules.md
    §9.4).  On an 837I the line's DTP*472 is situational (§4.2): the
    statement period alone does not say which day the drug was given.
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
    PASS (837I):
        CLM*I1*13800***13:A:1**A*Y*Y
        DTP*434*RD8*20240915-20240930
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2351:JZ*13800*UN*920
        LIN**N4*50242055401
        CTP****23*ML
    FAIL (837I):
        CLM*I1*13800***13:A:1**A*Y*Y
        DTP*434*RD8*20240801-20240820
        HI*ABK:G35
        LX*1
        SV2*0636*HC:J2351:JZ*13800*UN*920
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
    judged = _judged(ctx, window, "marketed", "marketed") if window is not None else None
    if judged is None:
        return
    text, severity = judged
    product = ctx.table.product_for_ndc(ndc) or window.note
    named = f" ({product})" if product else ""
    ctx.finding(f"NDC {ndc}{named} {text}", segment_index=drug_id.lin_index,
                segment="LIN", loop="2410", value=drug_id.ndc, severity=severity)


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
