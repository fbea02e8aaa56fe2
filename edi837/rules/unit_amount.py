"""UNT005: units billed as the drug's amount where the HCPCS unit is larger than
one unit of measure (J2357 omalizumab: 1 unit = 5 mg, so 75 mg is 15 units, not 75).

The drug's amount comes from the line's NDC: its package in the drug table
(75 mg/0.5 mL syringe) and the CTP quantity (0.5 ML) say 75 mg were given.
When the units billed equal those milligrams, the units are wrong, not the
NDC quantity: NDC007 leaves such a line to this rule, so the biller is not told
to "correct" the CTP to 2.5 ML and send a five-fold overbill through clean.
"""
from __future__ import annotations

from decimal import Decimal

from ..findings import ERROR
from ..ndc import ndc11_of
from . import rule
from .groups import number

# Milligrams per CTP05-1 mass unit (ME milligram, GR gram).
_MG_PER_CTP = {"ME": Decimal(1), "GR": Decimal(1000)}


def amount_given(drug, ndc: str, quantity: Decimal, ctp_unit: str) -> Decimal | None:
    """The drug amount (in the drug's unit of measure) that ``quantity`` ``ctp_unit`` of
    the package ``ndc`` holds: 0.5 ML of the 75 mg/0.5 mL syringe -> 75.  None when the
    table's package data cannot say."""
    package = drug.ndc(ndc)
    if package is None or package.amount is None:
        return None
    if ctp_unit == "UN":
        return quantity * package.amount
    if ctp_unit == "ML":
        return None if not package.volume_ml else quantity / package.volume_ml * package.amount
    if ctp_unit in _MG_PER_CTP and drug.unit_of_measure == "mg":
        return quantity * _MG_PER_CTP[ctp_unit]
    return None


def units_as_amount(ctx) -> tuple[str, Decimal, Decimal] | None:
    """(ndc, amount the NDC quantity gives, units that amount is) when the line bills the
    amount itself as units of a drug whose billing unit is more than one unit of measure;
    else None."""
    drug, line = ctx.drug, ctx.line
    drug_id = line.drug
    if drug is None or drug_id is None or drug.amount_per_unit <= 1:
        return None
    units, quantity = line.units_value, drug_id.quantity_value
    ndc = ndc11_of(drug_id.ndc)
    if units is None or units <= 0 or quantity is None or quantity <= 0 or ndc is None:
        return None
    amount = amount_given(drug, ndc, quantity, drug_id.unit.upper())
    if amount is None or amount != units:
        return None
    return ndc, amount, amount / drug.amount_per_unit


@rule("UNT005", ERROR,
      reads=("claim.kind", "line.procedure", "line.units", "line.date", "line.drug"))
def units_billed_as_amount(ctx):
    """Units billed as milligrams where one HCPCS unit is several milligrams.

    What it does: for a drug whose billing unit is more than one unit of
    measure (J2357, omalizumab: 1 unit = 5 mg), works out the amount given
    from the line's NDC, the drug table's package and the CTP quantity (0.5 ML
    of the 75 mg/0.5 mL syringe: 75 mg) and flags the line when its units
    equal that amount (75 units, which is 375 mg): the units were written in
    mg.  The message gives the units the NDC quantity stands for (15).  The
    finding points at the units (SV1/SV2); NDC007 stays silent on such a line,
    since the NDC quantity is right.
    Why: the HCPCS descriptor is "Injection, omalizumab, 5 mg", so units =
    mg / 5 (CMS HCPCS; billing-rules.md §5); 75 units bill 375 mg for a 75 mg
    syringe, more than the containers given hold, which is an overpayment
    (Noridian "Modifier JZ": billing drug not given is an overpayment;
    Priority Health: units shouldn't exceed the units the containers hold,
    billing-rules.md §1.4, §9.3).  An error, not a warning: two independent
    facts of the claim (the NDC's package and its quantity) give the amount,
    and the units equal the amount rather than the amount / 5; without an NDC
    nothing is flagged (75 units, 375 mg, is a labeled omalizumab dose).
    PASS:
        CLM*C1*750***11:B:1*Y*A*Y*Y
        HI*ABK:J4550
        LX*1
        SV1*HC:J2357:JZ*750*UN*15***1
        DTP*472*D8*20260310
        LIN**N4*50242021403
        CTP****0.5*ML
    FAIL:
        CLM*C1*2000***11:B:1*Y*A*Y*Y
        HI*ABK:J4550
        LX*1
        SV1*HC:J2357:JZ*2000*UN*75***1
        DTP*472*D8*20260310
        LIN**N4*50242021403
        CTP****0.5*ML
    Fix safety: none (the units and the charge change; the dose is in the record).
    """
    found = units_as_amount(ctx)
    if found is None:
        return
    ndc, amount, right = found
    drug, line, drug_id = ctx.drug, ctx.line, ctx.line.drug
    per_unit, measure = number(drug.amount_per_unit), drug.unit_of_measure
    package = drug.ndc(ndc)
    what = package.package if package is not None else f"NDC {ndc}"
    ctx.finding(
        f"{line.procedure} units look like {measure}: 1 unit = {per_unit} {measure} "
        f"({drug.descriptor}), so {line.units} units bill "
        f"{number(line.units_value * drug.amount_per_unit)} {measure}, but NDC {ndc} "
        f"quantity {drug_id.quantity} {drug_id.unit} is {number(amount)} {measure} ({what}): "
        f"{drug_id.quantity} {drug_id.unit} of this package is {number(right, places=3)} units; "
        f"correct the units, not the NDC quantity",
        value=line.units)
