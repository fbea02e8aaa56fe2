"""ADM, REV, DOS: the rest of the claim around a drug line.

Administration codes expected with each drug, the route each administration
code implies, and the 837I revenue code of each drug come from the drug table
(``[drugs.<HCPCS>.administration]``, ``[administration_codes]``,
``[drugs.<HCPCS>.revenue]``).
"""
from __future__ import annotations

from decimal import Decimal

from ..findings import ERROR, WARNING
from ..model import INSTITUTIONAL, parse_date
from . import CLAIM, rule
from .groups import number


def _shown(date: str) -> str:
    day = parse_date(date)
    return day.isoformat() if day else (date or "(no date)")


@rule("ADM001", WARNING, scope=CLAIM, reads=("line.procedure", "line.date"))
def no_administration_line(ctx):
    """No administration line for the drug on the same claim and date.

    What it does: for each drug and date of service, looks for a line on the
    same claim and date billing one of the drug's administration codes from
    the drug table (J2350: 96365/96366 or 96413/96415).  One finding per drug
    and date, at its first line; an administration code billed on another
    date is named in the message.
    Why: an infused or injected drug is given by someone; without the
    administration service the claim is incomplete, or the administration
    was billed separately and the two must be matched.  J2350 codes:
    Genentech Access / ocrevus.com sample coding, Noridian JF-A article 10529
    (billing-rules.md §2.5).
    PASS:
        CLM*C1*9500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96413*500*UN*1***1
        DTP*472*D8*20260115
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9500***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV2*0260*HC:96365*500*UN*1
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the administration service and its time are in the
    infusion record).
    """
    claim = ctx.claim
    for group in ctx.groups():
        line = group[0]
        drug = ctx.table.drug(line.procedure)
        if drug is None or not drug.administration_codes:
            continue
        expected = drug.administration_codes
        date = claim.line_date(line)
        if any(other.procedure in expected for other in ctx.lines_on(date)):
            continue
        elsewhere = sorted({f"{other.procedure} on {_shown(claim.line_date(other))}"
                            for other in claim.lines if other.procedure in expected})
        hint = f"; administration billed: {', '.join(elsewhere)}" if elsewhere else ""
        when = f"on {_shown(date)}" if date else "without a date of service, like the drug line"
        ctx.finding(f"no administration line for {drug.hcpcs} {when} "
                    f"(expected one of {', '.join(expected)}){hint}", line=line)


@rule("ADM002", WARNING, scope=CLAIM, reads=("line.procedure", "line.date"))
def administration_route(ctx):
    """Administration code does not fit the drug's route.

    What it does: for each line on the same claim and date as a drug from
    the drug table, looks up its route in the table's administration codes
    (96365 IV infusion, 96372 SC/IM injection ...) and flags a code that
    fits none of the drugs billed that day: an IV drug (J2350) with 96372,
    or J2357 (omalizumab, SC) with 96365.  A code the drug table lists as an
    administration code of one of those drugs, or a day that also bills a
    drug line the table does not know (its route is unknown, and the code
    may be its), is not flagged.
    Why: the administration code says how the drug was given; an injection
    code with an infusion-only drug (or the reverse) is denied or means the
    wrong drug or product (Ocrevus IV vs Zunovo SC) was billed.
    billing-rules.md §2.3, §2.5, §5.
    PASS:
        CLM*C1*9500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96413*500*UN*1***1
        DTP*472*D8*20260115
    FAIL:
        CLM*C1*9100***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96372*100*UN*1***1
        DTP*472*D8*20260115
    PASS (837I):
        CLM*I1*1100***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:J4550
        LX*1
        SV2*0636*HC:J2357:JZ*1000*UN*30
        DTP*472*D8*20260115
        LIN**N4*50242004062
        CTP****1*UN
        LX*2
        SV2*0510*HC:96372*100*UN*1
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*1500***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:J4550
        LX*1
        SV2*0636*HC:J2357:JZ*1000*UN*30
        DTP*472*D8*20260115
        LIN**N4*50242004062
        CTP****1*UN
        LX*2
        SV2*0260*HC:96365*500*UN*1
        DTP*472*D8*20260115
    Fix safety: none (either the administration code or the drug code is wrong).
    """
    claim = ctx.claim
    table = ctx.table
    drugs_by_date: dict[str, list] = {}
    unknown_dates = set()
    for line in ctx.drug_lines:
        drug = table.drug(line.procedure)
        date = claim.line_date(line)
        if drug is None:
            unknown_dates.add(date)
        elif drug not in drugs_by_date.setdefault(date, []):
            drugs_by_date[date].append(drug)
    for date, drugs in drugs_by_date.items():
        if date in unknown_dates:
            continue
        for line in ctx.lines_on(date):
            admin = table.administration(line.procedure)
            if admin is None:
                continue
            if any(admin.fits(drug.route) or line.procedure in drug.administration_codes
                   for drug in drugs):
                continue
            billed = ", ".join(f"{drug.hcpcs} ({drug.route})" for drug in drugs)
            ctx.finding(f"administration code {line.procedure} ({admin.route}) does not fit the "
                        f"route of {billed} billed on {_shown(date)}"
                        f"{_product_hint(ctx, drugs, admin, date)}", line=line,
                        value=line.procedure, hcpcs=drugs[0].hcpcs)


def _product_hint(ctx, drugs, admin, date: str) -> str:
    """When a drug's related product (the drug table's ``related``) is given by the
    administration code's route and the units billed that day are one of its labeled
    doses, name it: J2350 920 units with 96372 is likely Ocrevus Zunovo, J2351."""
    for drug in drugs:
        units = sum((line.units_value or 0 for line in ctx.drug_lines
                     if line.procedure == drug.hcpcs and ctx.claim.line_date(line) == date
                     and not line.has_modifier("JW")), Decimal(0))
        for related in drug.related:
            other = ctx.table.drug(related.hcpcs) if related.hcpcs else None
            if other is None or not admin.fits(other.route) or \
                    drug.amount_for_units(units) / other.amount_per_unit \
                    not in other.dosing.labeled_doses:
                continue
            return (f"; {number(units)} units of {drug.hcpcs} with {admin.code} look like "
                    f"{related.name}: bill {related.hcpcs}")
    return ""


@rule("REV001", WARNING, reads=("claim.kind", "line.procedure", "line.revenue_code"))
def revenue_code(ctx):
    """837I drug line under a revenue code other than the drug's.

    What it does: on an institutional claim, compares SV201 of the drug line
    with the revenue code the drug table gives for the drug (J2350: 0636).
    Why: under OPPS, separately payable HCPCS-coded drugs are reported under
    0636 (pharmacy, drugs requiring detailed coding); CMS recommends it for
    all HCPCS-coded drugs, since those reported under 0250 are "lost" for
    rate-setting.  HCPro APCs Insider citing CMS Transmittal 1487 and R2130CP
    (billing-rules.md §2.6).
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
        SV2*0250*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the hospital's chargemaster decides the revenue code;
    a change alters how the line is priced).
    """
    expected = ctx.drug.revenue_code
    if ctx.claim.kind != INSTITUTIONAL or expected is None:
        return
    billed = ctx.line.revenue_code
    if billed == expected:
        return
    ctx.finding(f"{ctx.line.procedure} billed under revenue code {billed or '(none)'}; "
                f"report it under {expected}", value=billed or None)


@rule("DOS001", ERROR, generic=True, reads=("line.procedure", "line.date"))
def no_date_of_service(ctx):
    """Drug line has no date of service.

    What it does: flags a drug line with no DTP*472 service date when the
    claim has no service date either (837P claim DTP*472, 837I statement
    period DTP*434), and a date that is not a calendar date (CCYYMMDD).
    Why: the payer prices and edits a drug by date of service (JW/JZ since
    2023-07-01, ICD-10-CM code validity, NDC marketing dates); without one the
    line is rejected, and edi837's date-dependent rules cannot check it.
    X12 005010X222A1 / X223A2 loop 2400 DTP*472 (billing-rules.md §4.1, §4.2).
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
        SV1*HC:J2350:JZ*9000*UN*600***1
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the date is in the administration record).
    """
    line = ctx.line
    date = ctx.claim.line_date(line)
    if not date:
        ctx.finding(f"{line.procedure} line has no date of service (no DTP*472 on the line "
                    "and no service date on the claim)")
    elif ctx.date is None:
        where = ({"segment_index": line.date_index, "segment": "DTP", "loop": "2400"}
                 if line.service_date and line.date_index else {})
        ctx.finding(f"date of service {date!r} of the {line.procedure} line is not a "
                    "CCYYMMDD date", value=date, **where)
