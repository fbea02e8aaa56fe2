"""NDC004: the NDC against the billed HCPCS (the drug table's NDCs, an imported CMS
NDC-HCPCS crosswalk, the FDA NDC Directory's packages).

On a line whose HCPCS the drug table does not hold as a drug: a not-otherwise-classified
code (J3490, J3590, J9999, C9399: the drug table's ``[policy.unclassified_codes]``) or a
drug's former code (its ``related`` entry, C9494 for ocrelizumab) billed with an NDC the
table knows under a code of its own.  Ocrevus 50242-0150-01 under J3590 on 2026-03-10
should be J2350 (valid from 2018-01-01); under J3590 on 2017-11-10 it was right (J3590
was ocrelizumab's code through 2017-12-31: Genentech Access, billing-rules.md §2.1,
§9.4).  An error only where the drug's own code is valid on the date by an imported CMS
HCPCS file or the drug table's ``code_dates`` of a primary or trade source; where no date
is known, or only a secondary source gives it, a warning: never hold a good claim.
"""
from __future__ import annotations

from ..findings import ERROR, WARNING
from ..ndc import ndc11_of
from . import rule
from .dates import secondary
from .ndc_required import advice, placeholder


@rule("NDC004", ERROR, also=WARNING, generic=True,
      reads=("claim.kind", "line.procedure", "line.date", "line.drug"))
def ndc_not_for_hcpcs(ctx):
    """NDC is not one the drug table lists for the billed HCPCS.

    What it does: compares the NDC (as 11 digits) with the NDCs the drug table
    lists for the HCPCS and, when CMS reference data is imported, the NDCs
    the NDC-HCPCS crosswalk in force on the date of service lists for it (the
    ASP crosswalk for 837P, the OPPS one for 837I).  An error when the NDC is
    listed under another code, naming it (Ocrevus Zunovo 50242055401 billed
    as J2350 should be J2351; the other code named only when valid on the
    date of service; a code the table names with confidence unconfirmed, such
    as Omlyclo's Q5154, only said to be unconfirmed, never advised), or a
    product the table knows by its NDCs only (Avtozma on J3262), or when an
    imported FDA NDC Directory lists the NDC's product but not its package
    (no such package).  An NDC listed
    nowhere is only a warning, and only for a drug whose table entry lists
    NDCs (not J1815): neither the table nor the crosswalk is a complete list
    of NDCs, so absence from them is never an error by itself.  A placeholder
    the drug table names (labeler code 00000, the all-nines NDC:
    [policy.ndc_placeholders]) is no NDC at all: an error where the claim's
    payer requires the NDC (NDC001 would be one: Medicaid), else a warning.
    On a not-otherwise-classified code (J3490, J3590, J9999, C9399: the drug
    table's [policy.unclassified_codes]) or a drug's former code (C9494 for
    ocrelizumab) billed with an NDC the table knows under a code of its own:
    an error naming that code where it is valid on the date of service
    (Ocrevus under J3590 in 2026: bill J2350), nothing on dates the other
    code was the drug's (J3590 through 2017-12-31) or before the drug's own
    code took effect, a warning where no date or only a secondary source's
    is known for the drug's code.
    Why: payers cross-check NDC and HCPCS (CMS ASP NDC-HCPCS crosswalk,
    billing-rules.md §2.3, §8.4); a mismatch is denied, and often means the
    wrong product code was billed.  A not-otherwise-classified code is for a
    drug with no code of its own: ocrelizumab was billed under J3590 only
    through 2017-12-31, J2350 from 2018-01-01 (Genentech Access, §2.1, §9.4;
    Palmetto GBA NOC drug billing, §9.2).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*13800***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*13800*UN*920***1
        DTP*472*D8*20260115
        LIN**N4*50242055401
        CTP****23*ML
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35
        LX*1
        SV1*HC:J3590*9000*UN*600***1
        DTP*472*D8*20171110
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J3590:JZ*9000*UN*600***1
        DTP*472*D8*20260310
        LIN**N4*50242015001
        CTP****20*ML
    Fix safety: none (the HCPCS, units and charge all change).
    """
    drug_id = ctx.line.drug
    if drug_id is None:
        return
    if ctx.drug is None:  # J3590, C9494 ... with a known drug's NDC
        unclassified_code(ctx, drug_id)
        return
    ndc = ndc11_of(drug_id.ndc)
    kind, day, hcpcs = ctx.claim.kind, ctx.date, ctx.line.procedure
    if ndc is None or ctx.drug.lists_ndc(ndc, kind, day) or placeholder(ctx, drug_id, ndc):
        return  # malformed (NDC002), listed, or a placeholder (reported as such)
    owner = ctx.table.owner_of(ndc, kind, day, besides=hcpcs)
    unconfirmed = ctx.table.code_unconfirmed(owner.hcpcs) \
        if owner is not None and owner.hcpcs and owner.file is None else None
    if owner is not None and owner.hcpcs and unconfirmed is not None:  # Omlyclo's Q5154
        message = (f"NDC {ndc} is {owner.product}, not {hcpcs}: another product, billed under "
                   f"its own code, which is unconfirmed ({owner.hcpcs} in the drug table is "
                   f"[{unconfirmed.confidence}], not verified against a primary source): "
                   f"correct the NDC, or find the product's code in the CMS HCPCS file")
    elif owner is not None and owner.hcpcs and owner.hcpcs != hcpcs:
        source = f" per {owner.file.short_name} (effective {owner.file.effective_from})" \
            if owner.file is not None else ""
        message = (f"NDC {ndc} is {owner.product or 'another product'}, billed under "
                   f"{owner.hcpcs}{source}, not {hcpcs}: {advice(ctx.table, owner.hcpcs, day)}")
    elif owner is not None and not owner.hcpcs:  # a product the table knows by its NDCs only
        message = (f"NDC {ndc} is {owner.product}, not {hcpcs}: another product, billed under "
                   f"its own code (not in the drug table); correct the code or the NDC")
    elif ctx.drug.ndcs:
        listed = dict.fromkeys([n.ndc for n in ctx.drug.ndcs] + list(ctx.drug.crosswalk(kind, day)))
        message = f"NDC {ndc} is not listed for {hcpcs} (listed: {', '.join(listed)})"
        directory = ctx.table.unlisted_package(ndc)
        if directory is None:  # unknown to the lists, not known to be wrong: a warning
            ctx.finding(f"{message}: check the NDC on the package; the drug table and the "
                        f"crosswalk are not complete lists of NDCs", severity=WARNING,
                        segment_index=drug_id.lin_index, segment="LIN", loop="2410",
                        value=drug_id.ndc)
            return
        message += (f"; {directory.short_name} lists product {ndc[:5]}-{ndc[5:9]} but not "
                    f"package {ndc[9:]}")
    else:
        return  # no NDC list in the table, and no other code claims the NDC
    ctx.finding(message, segment_index=drug_id.lin_index, segment="LIN", loop="2410",
                value=drug_id.ndc)


def unclassified_code(ctx, drug_id) -> None:
    """NDC004 on ``ctx``'s line (its HCPCS not a drug of the table) with NDC ``drug_id``."""
    ndc, day, hcpcs = ndc11_of(drug_id.ndc), ctx.date, ctx.line.procedure
    if ndc is None or day is None:
        return  # NDC002 / DOS001
    table = ctx.table
    owner = table.owner_of(ndc, ctx.claim.kind, day, besides=hcpcs)
    if owner is None or not owner.hcpcs or owner.hcpcs == hcpcs:
        return
    drug = table.drug(owner.hcpcs)
    related = drug.related_code(hcpcs) if drug is not None else None
    listed = table.policy.unclassified_codes
    if related is None and (listed is None or hcpcs not in listed.codes):
        return  # a code the table says nothing of
    if listed is not None and owner.hcpcs in listed.codes:
        return  # a crosswalk naming another unclassified code: no code of its own
    if related is not None and related.holds(day):
        return  # the drug's code on that date (J3590 for ocrelizumab in 2017)
    dates = table.code_dates(owner.hcpcs)
    if dates is not None and not dates.holds(day):
        return  # the drug's own code is not valid yet (or any more): the other code is right
    product = owner.product or (drug.brands[0] if drug and drug.brands else "another product")
    former = ""
    if related is not None and related.valid_to is not None:
        name = drug.drug_name if drug is not None and drug.drug_name else "the drug"
        former = f" ({hcpcs} was {name}'s code through {related.valid_to.isoformat()})"
    elif related is None:
        former = (f" ({hcpcs} is a not-otherwise-classified code, for a drug with no code "
                  f"of its own: drug table [policy.unclassified_codes])")
    what = f"NDC {ndc} is {product}, billed under {owner.hcpcs}"
    unconfirmed = table.code_unconfirmed(owner.hcpcs)
    severity: str | None
    if unconfirmed is not None:
        message, severity = (f"{what} [{unconfirmed.confidence}], a code not verified against "
                             f"a primary source: check the CMS HCPCS file for the product's "
                             f"code on {day.isoformat()}, not {hcpcs}{former}"), WARNING
    elif dates is None:
        message, severity = (f"{what}: bill {owner.hcpcs}, not {hcpcs}, if {owner.hcpcs} is "
                             f"valid on {day.isoformat()} (the drug table gives no dates for "
                             f"it: check the CMS HCPCS file){former}"), WARNING
    else:
        since = f": from {dates.start.isoformat()}" if dates.start else ""
        message = (f"{what} (valid on {day.isoformat()}{since}): bill {owner.hcpcs}, not "
                   f"{hcpcs}{former}")
        severity = WARNING if secondary(dates) else None
        if severity is not None:
            message += "; the date rests on a secondary source only: check the CMS HCPCS file"
    ctx.finding(message, segment_index=drug_id.lin_index, segment="LIN", loop="2410",
                value=drug_id.ndc, severity=severity)
