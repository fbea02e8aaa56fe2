"""DOC: documentation that must be on file, and the people and place behind a drug claim.

The claim cannot carry an HBV screening result or a physician order; these
rules annotate what a biller should make sure is on file (billing-rules.md
§2.9), and flag a drug claim that names nobody who gave or ordered the drug.
Dose-specific notes come from the drug table (``[[drugs.<HCPCS>.documentation]]``).
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from ..findings import INFO
from ..history.records import VOID  # CLM05-3: a void bills nothing
from ..reader.claims import CLAIM_PROVIDERS, LINE_PROVIDERS
from . import CLAIM, rule

DISCARDED = "JW"  # CMS modifier: drug amount discarded, not administered


def first_dose_notes_apply(frequency: str, responsibility: str) -> bool:
    """Whether a claim can carry DOC001's documentation notes: not a void (it bills
    nothing), and the primary payer's claim (SBR01 P): a secondary or tertiary
    claim, such as a Medigap claim after Medicare (a supplement is never the
    primary payer), bills a service whose documentation the primary claim was
    annotated with.  An SBR01 left empty counts as primary (nothing to go by)."""
    return frequency != VOID and responsibility in ("P", "")

@lru_cache(maxsize=None)  # a few kinds and attributes; built for every DOC note otherwise
def _loops(kind: str, attributes: tuple[str, ...], *, lines: bool = True) -> str:
    """Where a guide carries these providers, from the reader's loop map: "2310B/2420A NM1*82"."""
    by_entity: dict[str, list[str]] = {}
    for providers in (CLAIM_PROVIDERS[kind], LINE_PROVIDERS[kind] if lines else {}):
        for entity, (loop, attribute) in providers.items():
            if attribute in attributes:
                by_entity.setdefault(entity, [])
                if loop not in by_entity[entity]:
                    by_entity[entity].append(loop)
    by_loops: dict[str, list[str]] = {}  # DN and P3 share loops 2310A/2420F
    for entity, loops in by_entity.items():
        by_loops.setdefault("/".join(loops), []).append(entity)
    return " or ".join(f"{loops} NM1*{'/'.join(entities)}" for loops, entities in by_loops.items())


def _dose(ctx):
    """Units administered for the drug and date (JW lines aside), when ``ctx.line`` is the
    first administered line of them (so a dose is annotated once); else None."""
    administered = [line for line in ctx.group if not line.has_modifier(DISCARDED)]
    if not administered or administered[0] is not ctx.line:
        return None
    units = [line.units_value for line in administered]
    if any(value is None or value <= 0 for value in units):
        return None  # EDI007 / UNT003 report them
    return sum(units, Decimal(0))


@rule("DOC000", INFO, scope=CLAIM, reads=())
def documentation_checklist(ctx):
    """Documentation checklist: a claim's DOC notes as one finding.

    What it does: by default the DOC notes of one claim (DOC001 first-dose
    documentation, DOC002 no rendering provider, DOC003 no service facility,
    DOC004 no ordering or referring provider) are reported as one info
    finding on its CLM segment: "documentation checklist: DOC001 ...; DOC003
    ...; DOC004 (LX 1) ...", so a file of infusion claims does not carry
    three notes per line.  The finding's value lists the codes.  A DOC code
    named on its own (`--select DOC003`, or a configuration's `select` or
    `severity` naming it, top-level or in a payer profile) is reported on
    its own instead; `--select DOC000` runs the DOC rules as a checklist,
    `--ignore DOC000` drops the checklist.
    Why: each note asks the biller to check a record the claim cannot carry
    (billing-rules.md §2.9); one checklist per claim is how a biller works
    through them (the HTML report's checklist shows it so), and 120,000
    notes in a night's report hide its errors.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        NM1*82*1*RENDER*RAY****XX*1234567893
        NM1*77*2*SYNTHETIC INFUSION SUITE*****XX*1234567893
        N3*200 EXAMPLE AVE
        N4*SPRINGFIELD*IL*627010000
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        NM1*DK*1*ORDER*OLA****XX*1234567893
    FAIL:
        CLM*C1*4500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
    Checklist: every item of the claim's DOC notes.
    Fix safety: none (an annotation: nothing on the claim is wrong).
    """
    # made from the claim's DOC notes when its file's findings are in
    # (edi837.checklist.fold), not by looking at the claim


@rule("DOC001", INFO,
      reads=("claim.frequency", "claim.payer_responsibility", "line.procedure", "line.modifiers",
             "line.units", "line.date"))
def documentation_on_file(ctx):
    """Documentation the drug table asks to be on file for this dose.

    What it does: for each drug and date, adds the drug table's documentation
    notes that apply to the administered dose (J2350, 300 units: likely an
    initial dose, so hepatitis B screening and quantitative serum
    immunoglobulins must be on file).  One finding per note, at the first
    administered line.  Never on a void (CLM05-3 = 8), nor on a claim to a
    secondary or tertiary payer (SBR01 other than P: a Medigap supplement
    after Medicare, say): the primary claim carries the note.  With a
    patient history, a first-dose note goes on the first dose the history
    sees for the member, and only when that dose is one the note is for
    (J2350: 300 units; a 600-unit dose is a maintenance dose, whoever saw
    the first).
    Why: the label requires HBV screening and immunoglobulins before the first
    Ocrevus dose (DailyMed, Jan 2024); an auditor asks for them, and the
    claim cannot carry them (billing-rules.md §2.4, §2.9, §3.1).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*4500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
    PASS:
        CLM*C1*4500***11:B:8*Y*A*Y*Y
        REF*F8*PAYERICN0001
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*4500*UN*300***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
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
        CLM*I1*4500***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*4500*UN*300
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
    Checklist: nothing extra to have on file for this dose.
    Fix safety: none (an annotation: nothing on the claim is wrong).
    """
    dose = _dose(ctx)
    if dose is None:
        return
    claim = ctx.claim
    if not first_dose_notes_apply(claim.frequency, claim.payer_responsibility):
        return
    drug = ctx.drug
    hcpcs = ctx.line.procedure
    in_history = ctx.claim_context.first_doses_in_history
    for note in drug.documentation_for(dose):
        if note.first_dose and in_history:
            continue  # noted on the first dose the history sees (HIS003), whatever its size
        why = "likely an initial dose; " if note.first_dose else ""
        ctx.finding(f"{hcpcs}, {dose.normalize():f} units: {why}{note.note}",
                    value=ctx.line.units)


@rule("DOC002", INFO, scope=CLAIM,
      reads=("claim.kind", "claim.billing_provider", "claim.rendering", "line.procedure",
             "line.rendering"))
def no_rendering_provider(ctx):
    """Drug claim names no individual who administered the drug.

    What it does: notes a claim with drug lines whose billing provider
    (2010AA) is an organisation (NM1*85*2) and that names no rendering
    provider NM1*82, neither at claim level (837P 2310B, 837I 2310D) nor on
    every drug line (837P 2420A, 837I 2420C).  Once per claim, at the CLM
    segment.  Never when the billing provider is a person: the 837P guide
    sends 2310B only when the rendering provider differs from the billing
    provider, so its absence is normal there.
    Why: who administered the drug must be documented (billing-rules.md
    §2.9), and payers check the rendering provider's enrollment and
    incident-to rules for drugs given in an office or clinic.  Home-infusion
    organisations often bill with no rendering provider on purpose, so this
    is an annotation, not a warning.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        NM1*82*1*SMITH*JANE****XX*1234567893
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
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        NM1*82*1*SMITH*JANE****XX*1234567893
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        NM1*71*1*SMITH*JANE****XX*1234567893
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Checklist: the person who administered the drug is named, or the billing provider
    is a person.
    Fix safety: none (who gave the drug is in the administration record).
    """
    claim = ctx.claim
    billing = claim.billing_provider
    if billing is None or billing.entity_type != "2" or claim.rendering is not None:
        return
    missing = [line for line in ctx.drug_lines if line.rendering is None]
    if not missing:
        return
    numbers = ", ".join(line.number for line in missing)
    ctx.finding(f"the billing provider is an organisation and the drug claim names no "
                f"rendering provider ({_loops(claim.kind, ('rendering',))}), so nobody who "
                f"administered the drug; drug lines without one: LX {numbers}",
                hcpcs=missing[0].procedure)


@rule("DOC003", INFO, scope=CLAIM, reads=("claim.kind", "claim.facility", "line.procedure"))
def no_service_facility(ctx):
    """Drug claim names no service facility.

    What it does: notes a claim with drug lines that has no service facility
    location (837P 2310C, 837I 2310E NM1*77).  Once per claim, at the CLM
    segment.
    Why: the facility where the drug was given must be documented
    (billing-rules.md §2.9), and some payers restrict the site of care for
    infused biologics (Aetna CPB 0264 for ocrelizumab, §2.8).  The loop is
    optional when the billing provider's address is where the service took
    place, so this is an annotation.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        NM1*77*2*SYNTHETIC INFUSION SUITE*****XX*1234567893
        N3*200 EXAMPLE AVE
        N4*SPRINGFIELD*IL*627010000
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
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        NM1*77*2*SYNTHETIC INFUSION SUITE*****XX*1234567893
        N3*200 EXAMPLE AVE
        N4*SPRINGFIELD*IL*627010000
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
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Checklist: a service facility is named.
    Fix safety: none (an annotation).
    """
    claim = ctx.claim
    if claim.facility is not None:
        return
    ctx.finding(f"drug claim names no service facility "
                f"({_loops(claim.kind, ('facility',), lines=False)})",
                hcpcs=ctx.drug_lines[0].procedure)


@rule("DOC004", INFO,
      reads=("claim.kind", "claim.referring", "line.procedure", "line.ordering", "line.referring"))
def no_ordering_provider(ctx):
    """Drug line names no ordering or referring provider.

    What it does: notes a drug line with no ordering provider (837P 2420E
    NM1*DK) and no referring provider on the line or the claim (837P 2310A /
    2420F, 837I 2310F / 2420D NM1*DN).
    Why: a physician order for the drug must be on file (billing-rules.md
    §2.9); naming the ordering or referring provider on the claim ties the
    line to it.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        NM1*DK*1*JONES*ALEX****XX*1234567893
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        NM1*DN*1*JONES*ALEX****XX*1234567893
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
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    Checklist: an ordering or referring provider is named for every drug line.
    Fix safety: none (an annotation).
    """
    line, claim = ctx.line, ctx.claim
    if line.ordering is not None or line.referring is not None or claim.referring is not None:
        return
    kind = claim.kind
    wanted = [f"referring provider ({_loops(kind, ('referring',))})"]
    ordering = _loops(kind, ("ordering",))
    if ordering:  # 837I has no line-level ordering provider loop
        wanted.insert(0, f"ordering provider ({ordering})")
    ctx.finding(f"{line.procedure} line names no {' and no '.join(wanted)}")
