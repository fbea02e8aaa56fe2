"""Container arithmetic: the containers that cover a dose with the least left over,
and MOD007.

Waste may be billed only from the containers a dose needed: "Units billed
must correspond with the smallest dose (vial) available ... that could
provide the appropriate dose" (Oregon Medicaid NDC FAQ [B]), "the smallest
vial size available that covers the dose while minimising waste" (Noridian
JE-A [A], billing-rules.md §1.4); CGS Medicare's JW/JZ guidelines [A] (June
2023) give the case of several sizes: 300 mg from 100 mg and 400 mg vials is
three 100 mg vials, and the 400 mg vial with 100 mg discarded "would not be
the most efficient way to minimize drug wastage".  So the least left over
is measured; where the fewest containers (the catalog's words) leave the
waste and the least waste does not, the sources disagree and MOD007 is a
warning (billing-rules.md §9.3 and §1.4).  Where the two agree, the vial the
lines' NDCs name (a larger one) does not make its waste billable: MOD007
holds, and says what the lines bill, as billed; billing waste
that is not permitted is an overpayment (Noridian "Modifier JZ" [A];
billing-rules.md §9.3).  With 300 mg vials a 450 mg dose needs two vials, so
150 mg may be discarded with JW; a 600 mg dose fills two vials exactly and
leaves nothing to discard.  The package sizes come from the drug table
(:func:`~.groups.container_amounts`): every billable size of the drug on the
market on the date of service, whatever size the lines' NDCs name, since the
containers are judged against the sizes available (J3262, 80/200/400 mg:
500 mg given is 200 + 4 x 80, 20 mg to discard, even on the 400 mg vial's NDC).

NDC007 uses the same arithmetic to tell how many containers (CTP05-1 UN) a
dose and its waste billed on two lines stand for (:func:`un_quantities_fit`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, reduce

from ..findings import ERROR, WARNING
from ..ndc import ndc11_of
from . import CLAIM, rule
from .groups import (
    container_amounts,
    group_units,
    is_discarded,
    jw_jz_severity,
    number,
    waste_groups,
)

_MAX_SEARCH = 1_000_000  # amounts in the search, after scaling: odd sizes only


@dataclass(frozen=True, slots=True)
class Cover:
    """The containers that cover a dose with the least drug left over (then the fewest
    containers): ``amount`` in the drug's unit of measure, ``counts`` per size."""

    amount: Decimal
    counts: tuple[tuple[Decimal, int], ...]  # (size, how many), largest size first

    @property
    def containers(self) -> int:
        return sum(count for _, count in self.counts)


@lru_cache(maxsize=1024)  # the same doses and vial sizes recur on every claim
def least_waste_containers(dose: Decimal, sizes: tuple[Decimal, ...]) -> Cover | None:
    """The containers of ``sizes`` (each usable any number of times) whose content is the
    least amount at or above ``dose``, and of those the fewest containers.

    J2350 (300 mg vials): 450 -> 2 x 300 = 600; 600 -> 2 x 300.  J2357 on 150 mg
    syringes: 375 mg -> 3 x 150 = 450.  J3262 (80, 200, 400 mg): 280 -> 200 + 80;
    300 -> 4 x 80 (not the one 400 mg vial, :func:`fewest_containers`).
    None without a size or a positive dose, or when the search would be too long.
    """
    covers = _covers(dose, sizes)
    return covers[0] if covers else None


@lru_cache(maxsize=1024)
def fewest_containers(dose: Decimal, sizes: tuple[Decimal, ...]) -> Cover | None:
    """The fewest containers of ``sizes`` that cover ``dose``, and of those the least
    amount: J3262 (80, 200, 400 mg) 300 -> one 400 (least waste: 4 x 80)."""
    covers = _covers(dose, sizes)
    return covers[1] if covers else None


def _covers(dose: Decimal, sizes: tuple[Decimal, ...]) -> tuple[Cover, Cover] | None:
    """(least left over, then fewest; fewest, then least left over)."""
    sizes = tuple(sorted({size for size in sizes if size > 0}))
    if dose <= 0 or not sizes:
        return None
    if len(sizes) == 1:
        count = math.ceil(dose / sizes[0])
        whole = Cover(sizes[0] * count, ((sizes[0], count),))
        return whole, whole
    places = max(max(0, -int(value.normalize().as_tuple().exponent))
                 for value in (dose, *sizes))
    scale = 10 ** places
    coins = [int(size * scale) for size in sizes]
    divisor = reduce(math.gcd, coins)
    coins = [coin // divisor for coin in coins]
    target = math.ceil(dose * scale / divisor)
    # a cover of target + the largest size or more has a container it does not need
    limit = target + coins[-1]
    if limit > _MAX_SEARCH:
        return None
    # fewest[v]: fewest containers holding exactly v (scaled); -1 unreachable
    fewest = [-1] * (limit + 1)
    choice = [0] * (limit + 1)
    fewest[0] = 0
    for value in range(1, limit + 1):
        best = -1
        for coin in coins:
            if coin <= value and fewest[value - coin] >= 0 and \
                    (best < 0 or fewest[value - coin] + 1 < best):
                best, choice[value] = fewest[value - coin] + 1, coin
        fewest[value] = best
    reachable = [v for v in range(target, limit + 1) if fewest[v] >= 0]
    if not reachable:
        return None
    unit = Decimal(divisor) / scale

    def cover(found: int) -> Cover:
        counts: dict[int, int] = {}
        value = found
        while value:
            counts[choice[value]] = counts.get(choice[value], 0) + 1
            value -= choice[value]
        return Cover(Decimal(found) * unit, tuple((Decimal(coin) * unit, counts[coin])
                                                  for coin in sorted(counts, reverse=True)))
    return cover(reachable[0]), cover(min(reachable, key=lambda v: (fewest[v], v)))


def describe_cover(drug, cover: Cover) -> str:
    """'2 x 300-unit single-dose vial (600 units)', or for several sizes
    '1 x 200 + 1 x 80-unit containers (280 units)'."""
    per_unit = drug.amount_per_unit
    if len(cover.counts) == 1:
        container = next((p.container for p in drug.ndcs if p.billable and p.container
                          and p.amount == cover.counts[0][0]), "container")
        size, count = cover.counts[0]
        what = f"{count} x {number(size / per_unit)}-unit {container}"
    else:
        what = " + ".join(f"{count} x {number(size / per_unit)}" for size, count in cover.counts)
        what += "-unit containers"
    return f"{what} ({number(cover.amount / per_unit)} units)"


def un_quantities_fit(drug, ndc: str, lines, units: Decimal, quantity: Decimal) -> bool:
    """Whether ``quantity`` containers (CTP05-1 UN) of ``ndc`` on a line billing ``units``
    fits the dose its drug and date's ``lines`` bill on ``ndc``: the exact share of the
    containers (450 of a 600 mg dose from 300 mg vials: 1.5 UN, its JW 150: 0.5 UN), or
    the line's containers counted whole when counting each line of the dose whole adds no
    container (a line alone: 450 -> 2 UN).  450 -> 2 UN beside JW 150 -> 1 UN bills three
    vials for a two-vial dose (billing-rules.md §9.3)."""
    size = drug.units_per_container(ndc)
    if not size:
        return False
    if _close(quantity, units / size):
        return True
    if not _close(quantity, math.ceil(units / size)):
        return False
    same = [line.units_value for line in lines
            if line.drug is not None and ndc11_of(line.drug.ndc) == ndc]
    if any(value is None or value <= 0 for value in same):
        return True  # a line without usable units: NDC005/UNT003 say so; stay quiet
    return sum(math.ceil(value / size) for value in same) == math.ceil(sum(same) / size)


def _close(quantity: Decimal, expected: Decimal | int) -> bool:
    return abs(quantity - expected) <= Decimal("0.001") * max(Decimal(expected), Decimal(1))


# MOD007's message where the claim's policy keeps JW/JZ out of scope (a warning there)
OUT_OF_SCOPE = (" (JW/JZ are not required in this setting: if the payer pays the JW line, "
                "the waste billed is still more than the containers leave)")


@rule("MOD007", ERROR, scope=CLAIM, also=WARNING,
      reads=("line.procedure", "line.modifiers", "line.units", "line.date", "line.drug",
             "line.place_of_service"))
def waste_beyond_least_waste_containers(ctx):
    """JW units beyond the waste of the containers that cover the administered dose with
    the least left over.

    What it does: for each single-dose drug and date of service (on or after
    the policy date) with a JW line and an administered line, finds the
    containers of the drug table's package sizes (every billable size of
    the drug on the market on that date, whichever size the lines' NDCs
    name: J3262's 80, 200 and 400 mg vials) that cover the administered
    units with the least left over, and flags the JW line when the discarded
    units are more than what those containers leave: 600 administered + JW
    300 from 300 mg vials bills a third vial; 450 + JW 450 bills 300 too
    many (450 + JW 150 is right).  Reported once per drug and date, on the
    first JW line, naming the containers.  From the date JW became required
    (2017-01-01, CR 9603; the drug table's jw_required_from), not JZ's
    2023-07-01: waste billed beyond the containers is an overpayment at any
    date.  Where the claim's payer policy keeps JW/JZ out of scope (its
    setting and payer class as on the day JZ started, before that day;
    `edi837 policy`: an 11x, 71x or 77x bill, POS 21) the JW line is still
    judged, as a warning beside MOD006's: no payer rule there to hold on,
    but the waste billed is more than the containers leave.  In scope, an
    error only where the payer's policy enforces JW/JZ (Medicare FFS, judged
    by its rule of 2023-10-01 at earlier dates too: JW is older; a profile's
    jw_jz = true), else a warning saying why (Medicare Advantage, Medicaid,
    commercial and unknown payers, billing-rules.md §9.1), as MOD002.
    With several sizes the least left over is measured, but the sources
    disagree with it (the catalog and billing-rules.md §9.3 say "the fewest
    containers"): where the fewest containers leave the waste billed and the
    least left over does not (J3262 300 mg + JW 100: one 400 mg vial, or 4 x
    80 mg), the finding is a warning naming them.  Where the two agree, the
    catalog's error, whatever vial the lines' NDCs name: 600 mg on the 400
    mg vial's NDC + JW 40 on the 80 mg vial's is 400 + 200 by both readings,
    nothing to discard; only the provider's choice of NDC would leave 40, and
    the message says what the lines bill, as billed (units, NDC, its
    container, the CTP quantity as written), not containers no line bills.
    Why: units billed must correspond with the smallest dose (vials)
    available that could provide the dose (Oregon Medicaid NDC FAQ), "while
    minimising waste" (Noridian JE-A, billing-rules.md §1.4); CGS Medicare's
    JW/JZ guidelines (June 2023) [A]: 300 mg from 100 mg and 400 mg vials is
    three 100 mg vials, the 400 mg vial with 100 mg discarded "would not be
    the most efficient way to minimize drug wastage"; billing waste that was
    not permitted is an overpayment (Noridian "Modifier JZ"; §9.3).
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
        CLM*C1*13500***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:J2350:JW*4500*UN*300***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****10*ML
    FAIL:
        CLM*C1*3200***11:B:1*Y*A*Y*Y
        HI*ABK:M0579
        LX*1
        SV1*HC:J3262*3000*UN*600***1
        DTP*472*D8*20261110
        LIN**N4*50242013701
        CTP****30*ML
        LX*2
        SV1*HC:J3262:JW*200*UN*40***1
        DTP*472*D8*20261110
        LIN**N4*50242013501
        CTP****2*ML
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*6750*UN*450
        DTP*472*D8*20260115
        LX*2
        SV2*0636*HC:J2350:JW*2250*UN*150
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*13500***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*6750*UN*450
        DTP*472*D8*20260115
        LX*2
        SV2*0636*HC:J2350:JW*6750*UN*450
        DTP*472*D8*20260115
    Fix safety: none (the waste line's units and charge both change; the record
    says what was opened).
    """
    for drug, lines, in_scope, policy, judged in waste_groups(ctx):
        discarded_lines = [line for line in lines if is_discarded(line)]
        if not discarded_lines or len(discarded_lines) == len(lines):
            continue  # no JW (MOD005 judges JZ), or JW alone (MOD003)
        units = group_units(lines)
        sizes = container_amounts(drug, ctx.date_of(lines[0]))
        if units is None or not sizes:
            continue
        administered, discarded = units
        amount = drug.amount_for_units(administered)
        cover = least_waste_containers(amount, sizes)
        if cover is None:
            continue
        allowed = cover.amount / drug.amount_per_unit - administered
        if discarded <= allowed:
            continue
        line = discarded_lines[0]
        fewest = fewest_containers(amount, sizes)
        per_unit = drug.amount_per_unit
        # JW/JZ out of scope here (MOD006): no payer's rule to hold on, a warning; where the
        # payer's JW/JZ rule is unknown (no profile says it enforces them: Medicare
        # Advantage, Medicaid, commercial, other), a warning saying so (§9.1)
        severity, why = jw_jz_severity(policy, judged) if in_scope else (WARNING, "")
        if fewest is not None and fewest.amount != cover.amount and \
                discarded <= fewest.amount / per_unit - administered:
            # the fewest containers (the catalog's and billing-rules.md §9.3's words) leave
            # the waste billed, the least waste (§1.4) does not: the sources disagree, a
            # warning, never a hold
            severity = WARNING
            also = (f", but the fewest containers, {describe_cover(drug, fewest)}, leave "
                    f"{number(fewest.amount / per_unit - administered)}: the sources disagree "
                    f"(the fewest containers, billing-rules.md §9.3, or the least waste, CGS "
                    f"Medicare JW/JZ guidelines and Noridian, §1.4), so a warning")
        elif fewest is not None and fewest.containers < cover.containers:
            # the reading a user expects: fewer, larger containers leave more to discard
            also = (f" ({describe_cover(drug, fewest)} would be fewer containers but leave "
                    f"{number(fewest.amount / per_unit - administered)}: waste is "
                    f"billable only from the smallest vials that cover the dose while "
                    f"minimising waste: CGS Medicare JW/JZ guidelines; Noridian, "
                    f"billing-rules.md §1.4)")
        else:
            also = ""
        if severity != WARNING or not also.startswith(", but"):
            also += _as_billed(drug, lines, amount, administered, discarded, cover)
        ctx.finding(f"{line.procedure} on {ctx.date_of(line).isoformat()}: {number(administered)} "
                    f"units administered need {describe_cover(drug, cover)}, which leave "
                    f"{number(allowed)} units to discard; JW bills {number(discarded)}: "
                    f"{number(discarded - allowed)} units beyond the containers with the least "
                    f"left over{also}{why if in_scope else OUT_OF_SCOPE}", line=line,
                    value=number(discarded), severity=severity)


def _as_billed(drug, lines, amount: Decimal, administered: Decimal, discarded: Decimal,
               cover: Cover) -> str:
    """Where the products the lines' NDCs name (a larger vial) would leave the waste billed
    and the fewest containers and the least waste do not, what the lines bill, as billed
    (units, NDC, its container and the CTP quantity as written): the choice of NDC does not
    make the waste billable (billing-rules.md §9.3, "the smallest dose (vial) available");
    "" otherwise.  Trial 8 TOC-A5: 600 mg on the 400 mg vial's NDC (CTP 30 ML) + JW 40 on the
    80 mg vial's (CTP 2 ML)."""
    per_unit = drug.amount_per_unit
    billed: dict[Decimal, None] = {}
    told = []
    for line in lines:
        ndc = ndc11_of(line.drug.ndc) if line.drug is not None else None
        package = drug.ndc(ndc) if ndc else None
        if package is None or not package.amount:
            continue
        billed[package.amount] = None
        units = line.units_value
        quantity = (f", CTP {line.drug.quantity} {line.drug.unit}"
                    if line.drug.quantity and line.drug.unit else "")
        told.append(f"{'JW ' if is_discarded(line) else ''}"
                    f"{number(units) if units is not None else line.units} units on NDC {ndc} "
                    f"({number(package.amount / per_unit)}-unit "
                    f"{package.container or 'container'}){quantity}")
    own = least_waste_containers(amount, tuple(sorted(billed))) if billed else None
    if own is None or own.amount == cover.amount or \
            discarded > own.amount / per_unit - administered:
        return ""
    return (f"; the lines bill {' and '.join(told)}: the NDC chosen does not make its "
            f"container's waste billable (units billed must correspond with the smallest "
            f"vials available that cover the dose, billing-rules.md §9.3)")
