"""NDC: identifying the drug (loop 2410 LIN/CTP)."""
from __future__ import annotations

from decimal import Decimal

from ..findings import ERROR, WARNING, Edit, Fix
from ..ndc import is_ndc11, ndc11_of, readings, to_ndc11
from . import rule
from .containers import un_quantities_fit
from .groups import number
from .ndc_required import required_severity
from .unit_amount import units_as_amount


def _ndc11(drug_id) -> str | None:
    """The NDC as 11 digits: as billed, or converted from an unambiguous hyphenated form."""
    return ndc11_of(drug_id.ndc)


@rule("NDC001", ERROR, generic=True, by_policy=True,
      reads=("line.procedure", "line.date", "line.drug", "line.place_of_service"))
def missing_ndc(ctx):
    """Drug line has no NDC (no loop 2410 LIN).

    What it does: flags a drug line with no 2410 LIN segment.  Severity by the
    claim's payer policy (`edi837 policy`): an error where the payer requires
    the NDC (Medicaid: every physician-administered drug, table drugs,
    J-codes, C9399 and biosimilar Q-codes; Medicare: the not-otherwise-classified
    codes J3490, J3590, J9999, C9399 only), a warning on drugs of the drug table where payers vary
    (commercial, Medicare Advantage, other) and on those NOC codes for them too (the NDC is
    the only identity of a NOC code's drug), nothing where it is not required
    (Medicare, a named HCPCS such as J2350).  `ndc_required` in a payer
    profile says what that payer requires ("table", "j-codes" or false).  On a
    JW line a shipped policy's error is a warning (policies.toml
    [ndc_on_jw_lines]): that payers require the NDC on the JW line as well as
    on the administered line is unconfirmed (billing-rules.md §1.4).
    Why: Medicaid needs the NDC for manufacturer rebates (Deficit Reduction Act
    of 2005); Medicare Part B asks for it only on NOC codes, where the HCPCS
    does not say which drug was given (billing-rules.md §9.2).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
    FAIL:
        CLM*C1*500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J3490*500*UN*1***1
        DTP*472*D8*20260115
    (The fragments are filed to Medicare Part B, SBR09 MB: J2350 without an NDC
    passes there, the not-otherwise-classified J3490 does not.)
    Fix safety: none (which package was used is in the pharmacy record, not the claim).
    """
    if ctx.line.drug is not None:
        return
    line = ctx.line
    severity, note = required_severity(ctx)
    if severity == "none":
        return
    ctx.finding(f"{line.procedure} line has no NDC (loop 2410 LIN/CTP is missing){note}",
                severity=severity)


@rule("NDC002", ERROR, fix="safe", generic=True,
      reads=("claim.kind", "line.procedure", "line.date", "line.drug"))
def ndc_format(ctx):
    """NDC is not 11 digits, or has separators.

    What it does: checks LIN03 is exactly 11 digits (5-4-2, no hyphens).
    Why: HIPAA requires the 11-digit form; a 10-digit or hyphenated NDC is
    rejected or mismatched against the payer's crosswalk.
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
        DTP*472*D8*20260115
        LIN**N4*50242-150-01
        CTP****20*ML
    A bare 10-digit NDC is ambiguous: when exactly one of its three 11-digit
    readings is an NDC the drug table lists for the billed HCPCS, the message
    suggests it.
    Fix safety: safe when the NDC is hyphenated (4-4-2, 5-3-2, 5-4-1 or 5-4-2):
    the hyphens say which segment takes the leading zero (50242-150-01 ->
    50242015001).  A bare 10-digit NDC is never changed: the suggestion rests
    on reference data that changes each quarter.
    """
    drug_id = ctx.line.drug
    if drug_id is None or is_ndc11(drug_id.ndc):
        return
    converted = to_ndc11(drug_id.ndc)
    fix = None
    if converted:
        fix = Fix(f"write NDC {drug_id.ndc} as {converted}",
                  (Edit(drug_id.lin_index, "LIN", 3, None, drug_id.ndc, converted),))
        hint = f"; the 11-digit form is {converted}"
    else:
        hint = "; give the 11-digit 5-4-2 form without hyphens"
        listed = [ndc for ndc in readings(drug_id.ndc)
                  if ctx.drug is not None and ctx.drug.lists_ndc(ndc, ctx.claim.kind, ctx.date)]
        if len(listed) == 1:
            source = "drug table" if ctx.drug.ndc(listed[0]) else "CMS crosswalk"
            hint += (f"; of its three 11-digit readings only {listed[0]} is an NDC the {source} "
                     f"lists for {ctx.line.procedure} (a suggestion, not applied)")
    ctx.finding(f"NDC {drug_id.ndc!r} is not 11 digits without separators{hint}",
                segment_index=drug_id.lin_index, segment="LIN", loop="2410",
                value=drug_id.ndc, fix=fix)


@rule("NDC003", ERROR, fix="safe", generic=True, reads=("line.drug",))
def ndc_qualifier(ctx):
    """LIN02 product qualifier is not N4.

    What it does: checks that loop 2410 identifies the drug by NDC in 5-4-2
    form (LIN02 = N4).
    Why: 837I allows only N4; on 837P, payers price drug lines by NDC, and EN,
    UP and the other qualifiers are not NDCs.
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
        DTP*472*D8*20260115
        LIN**N5*50242015001
        CTP****20*ML
    Fix safety: safe when LIN03 is an NDC (11 digits, or a hyphenated form
    that converts): the qualifier becomes N4.
    """
    drug_id = ctx.line.drug
    expected = ctx.table.policy.ndc.product_qualifier
    if drug_id is None or drug_id.qualifier == expected:
        return
    fix = None
    if _ndc11(drug_id):
        fix = Fix(f"set LIN02 to {expected}",
                  (Edit(drug_id.lin_index, "LIN", 2, None, drug_id.qualifier, expected),))
    ctx.finding(f"LIN02 product qualifier is {drug_id.qualifier or '(empty)'!r}, "
                f"not {expected} (NDC in 5-4-2 form)", segment_index=drug_id.lin_index,
                segment="LIN", loop="2410", value=drug_id.qualifier, fix=fix)


@rule("NDC005", ERROR, generic=True, reads=("line.drug",))
def ndc_quantity(ctx):
    """CTP04 quantity is missing, zero, negative or not a number.

    What it does: checks the national drug unit count of loop 2410.
    Why: the CTP segment is required with the LIN, and clearinghouses (Stedi
    since 2025-12) reject drug lines whose quantity is not positive.
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
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****0*ML
    Fix safety: none (the quantity given is in the administration record).
    """
    drug_id = ctx.line.drug
    if drug_id is None:
        return
    quantity = drug_id.quantity_value
    if quantity is not None and quantity > 0:
        return
    if drug_id.ctp_index is None:
        message, index, segment = "loop 2410 has no CTP segment (NDC quantity and unit)", \
            drug_id.lin_index, "LIN"
    elif not drug_id.quantity:
        message, index, segment = "CTP04 NDC quantity is missing", drug_id.ctp_index, "CTP"
    elif quantity is None:
        message, index, segment = f"CTP04 NDC quantity {drug_id.quantity!r} is not a number", \
            drug_id.ctp_index, "CTP"
    else:
        message, index, segment = f"CTP04 NDC quantity {drug_id.quantity} is not positive", \
            drug_id.ctp_index, "CTP"
    ctx.finding(message, segment_index=index, segment=segment, loop="2410",
                value=drug_id.quantity)


@rule("NDC006", ERROR, fix="safe", generic=True, reads=("line.procedure", "line.drug"))
def ndc_unit(ctx):
    """CTP05-1 unit is not one of F2, GR, ME, ML, UN, or cannot describe the drug.

    What it does: checks the unit of the NDC quantity against the X12 code
    list, then, for a drug of the table, against the units the table says can
    describe it (`ndc_units`): F2 (international units) for J2350, a drug
    dosed in mg, is invalid.
    Why: any other value fails the implementation guide and the payer's
    NDC-quantity edits; a unit that cannot measure the drug makes the NDC
    quantity meaningless (payer NDC billing guides, billing-rules.md §9.7).
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
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ml
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****600*F2
    Fix safety: safe for letter case only (ml -> ML); any other unit is left
    for a person, since the quantity may be in another unit too.
    """
    drug_id = ctx.line.drug
    if drug_id is None or drug_id.ctp_index is None:
        return  # NDC005 reports the missing CTP
    units = ctx.table.policy.ndc.quantity_units
    if drug_id.unit in units:
        allowed = ctx.drug.ndc_units if ctx.drug is not None else None
        if allowed is not None and drug_id.unit not in allowed.units:
            ctx.finding(f"CTP05-1 unit {drug_id.unit} cannot describe {ctx.line.procedure} "
                        f"({ctx.drug.drug_name or ctx.drug.descriptor}, dosed in "
                        f"{ctx.drug.unit_of_measure}): use one of {', '.join(allowed.units)}",
                        segment_index=drug_id.ctp_index, segment="CTP", loop="2410",
                        value=drug_id.unit)
        return
    fix = None
    if drug_id.unit.upper() in units:
        fix = Fix(f"write unit {drug_id.unit} as {drug_id.unit.upper()}",
                  (Edit(drug_id.ctp_index, "CTP", 5, 1, drug_id.unit, drug_id.unit.upper()),))
    ctx.finding(f"CTP05-1 unit {drug_id.unit or '(empty)'!r} is not one of {', '.join(units)}",
                segment_index=drug_id.ctp_index, segment="CTP", loop="2410",
                value=drug_id.unit, fix=fix)


@rule("NDC007", WARNING,
      reads=("claim.kind", "line.procedure", "line.units", "line.date", "line.drug"))
def ndc_quantity_matches_units(ctx):
    """NDC quantity is inconsistent with the HCPCS units.

    What it does: converts the billed HCPCS units to the drug amount and then
    to the CTP unit with the package data of the drug table (J2350 on
    50242015001: 600 units = 600 mg = 20 ML = 2 UN) and compares.  For an
    NDC only the imported CMS crosswalk lists, a UN quantity is compared with
    the crosswalk's billing units per item (its package size carries no unit,
    so ML needs the table's package data).  Containers (UN) are counted
    whole on a line alone (450 units = 2 UN); a dose and its waste on two
    lines of one NDC share their containers, so each line bills its exact
    share (450 = 1.5 UN + JW 150 = 0.5 UN: two vials in all, as the fewest
    containers that cover the dose, billing-rules.md §9.3), and 2 UN + 1 UN
    there (three vials for a two-vial dose) is flagged.  Units that equal the
    amount the NDC quantity gives, for a drug billed in units of 5 mg (J2357:
    75 units with 0.5 ML of the 75 mg syringe), are UNT005's: the units are wrong.
    Why: payers check that the NDC quantity and the HCPCS units describe the
    same dose; a mismatch usually means one of them is wrong.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****1.5*UN
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****0.5*UN
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****2*UN
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****1*UN
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
    Fix safety: none (which of the two is wrong needs a person).
    """
    drug_id = ctx.line.drug
    units = ctx.line.units_value
    quantity = drug_id.quantity_value if drug_id else None
    if drug_id is None or units is None or units <= 0 or quantity is None or quantity <= 0:
        return  # units that are no number (EDI007) or not above zero (UNT003): theirs
    ndc = _ndc11(drug_id)
    if ndc is None or units_as_amount(ctx) is not None:
        return  # units written in mg where 1 unit = 5 mg: UNT005 points at the units
    expected = ctx.drug.expected_ndc_quantity(ndc, units, drug_id.unit.upper(), ctx.claim.kind,
                                              ctx.date)
    if expected is None:
        return
    if drug_id.unit.upper() == "UN":
        if ctx.drug.units_per_container(ndc) and un_quantities_fit(ctx.drug, ndc, ctx.group,
                                                                   units, quantity):
            return
        # Containers are counted whole: a partial vial is still one vial, unless the
        # dose's other lines share its containers (450 = 1.5 UN + JW 150 = 0.5 UN).
        expected = _expected_containers(ctx, ndc, units, expected)
    if abs(quantity - expected) <= Decimal("0.001") * max(expected, 1):
        return
    ctx.finding(f"NDC quantity {drug_id.quantity} {drug_id.unit} does not match "
                f"{ctx.line.units} units of {ctx.line.procedure} "
                f"(expected {number(expected, places=3)} {drug_id.unit.upper()})",
                segment_index=drug_id.ctp_index, segment="CTP", loop="2410",
                value=drug_id.quantity)


def _expected_containers(ctx, ndc: str, units: Decimal, exact: Decimal) -> Decimal:
    """The UN quantity a message expects: the line's share of the containers when other
    lines of its drug and date bill the same NDC, else its containers counted whole."""
    shared = [line for line in ctx.group if line is not ctx.line and line.drug is not None
              and _ndc11(line.drug) == ndc]
    if shared and ctx.drug.units_per_container(ndc):
        return exact
    return exact.to_integral_value(rounding="ROUND_CEILING")


@rule("NDC008", ERROR, generic=True, reads=("line.drug",))
def ndc_not_billable(ctx):
    """NDC is a sample or a non-billable package.

    What it does: flags NDCs the drug table marks as not billable: free
    samples (Ocrevus Zunovo sample 50242-0554-86) and "drug for further
    processing" listings (natalizumab bulk 64406-320-01).
    Why: samples were free to the provider and cannot be billed; bulk listings
    are never dispensed to a patient.
    PASS:
        CLM*C1*13800***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2351:JZ*13800*UN*920***1
        DTP*472*D8*20260115
        LIN**N4*50242055401
        CTP****23*ML
    FAIL:
        CLM*C1*13800***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2351:JZ*13800*UN*920***1
        DTP*472*D8*20260115
        LIN**N4*50242055486
        CTP****23*ML
    Fix safety: none.
    """
    drug_id = ctx.line.drug
    if drug_id is None:
        return
    ndc = _ndc11(drug_id)
    package = ctx.table.ndc(ndc) if ndc else None
    if package is None or package.billable:
        return
    reason = package.not_billable_reason or "not billable"
    ctx.finding(f"NDC {ndc} ({package.package}) is {reason}", segment_index=drug_id.lin_index,
                segment="LIN", loop="2410", value=drug_id.ndc)
