"""Facts the MOD and UNT rules share: a claim's lines of one drug and date, the
units billed on them, and container (vial) arithmetic from the drug table."""
from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache, reduce
from typing import Iterator

from ..ndc import ndc11_of
from ..policy.model import NONE, WARNING

DISCARDED, NOTHING_DISCARDED = "JW", "JZ"
_MAX_SEARCH = 1_000_000



def number(value: Decimal | int, places: int | None = None) -> str:
    """A number as plain text for messages: 600, 2.5 (never 6E+2).  With ``places``,
    rounded to at most that many decimals (21.667, not 21.66666666666666666666666667);
    a value that would round to 0 keeps 3 significant digits instead (0.0000333)."""
    if isinstance(value, int):
        return str(value)
    if places is not None and value.is_finite() and value:
        exponent = min(-places, value.adjusted() - 2)
        try:
            value = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
        except InvalidOperation:  # more digits than the context holds: printed as it is
            pass
    return f"{value.normalize():f}"


def is_discarded(line) -> bool:
    """A JW line: it bills discarded units, not administered ones."""
    return line.has_modifier(DISCARDED)


def group_units(lines) -> tuple[Decimal, Decimal] | None:
    """(administered, discarded) units of a group; None when a line's units are not a
    number (EDI007) or not above zero (UNT003): sums over them would mislead."""
    administered = discarded = Decimal(0)
    for line in lines:
        units = line.units_value
        if units is None or units <= 0:
            return None  # EDI007 / UNT003 report it
        if is_discarded(line):
            discarded += units
        else:
            administered += units
    return administered, discarded


def anchor(lines):
    """The line a group's finding points at: the first administered line, else the first line."""
    return next((line for line in lines if not is_discarded(line)), lines[0])


def container_amounts(drug, day=None) -> tuple[Decimal, ...]:
    """Drug amount per container, for each distinct billable package size (J3262: 80, 200, 400).

    With ``day``, only the packages on the market that day (the table's FDA marketing
    start and end dates, where it has them): the sizes a dose could have been drawn from.
    """
    return tuple(sorted({package.amount for package in drug.ndcs
                         if package.billable and package.amount
                         and (day is None or _marketed_on(package, day))}))


def _marketed_on(package, day) -> bool:
    return ((package.marketing_start is None or package.marketing_start <= day)
            and (package.marketing_end is None or day <= package.marketing_end))


@lru_cache(maxsize=1024)  # the same doses and vial sizes recur on every claim
def is_whole_containers(amount: Decimal, sizes: tuple[Decimal, ...]) -> bool:
    """True when ``amount`` is a sum of container sizes, each used any number of times.

    J2350 (300 mg vials): 600 yes, 450 no.  J3262 (80, 200, 400 mg): 280 yes, 100 no.
    """
    usable = [size for size in sizes if size > 0]
    if amount <= 0 or not usable:
        return False
    # Scale to integers (table amounts are short decimals), then solve the coin problem.
    places = max(max(0, -int(value.normalize().as_tuple().exponent))
                 for value in (amount, *usable))
    scale = 10 ** places
    total = int(amount * scale)
    coins = sorted({int(size * scale) for size in usable})
    divisor = reduce(math.gcd, coins)
    if total % divisor:
        return False
    total //= divisor
    coins = [coin // divisor for coin in coins]
    # Every multiple of the gcd beyond Schur's bound on the Frobenius number is a sum.
    if coins[0] == 1 or total > (coins[0] - 1) * (coins[-1] - 1):
        return True
    if total > _MAX_SEARCH:
        return True  # only with odd package sizes; a warning rule stays quiet rather than slow
    reachable = bytearray(total + 1)
    reachable[0] = 1
    for value in range(1, total + 1):
        reachable[value] = any(reachable[value - coin] for coin in coins if coin <= value)
    return bool(reachable[total])


def describe_containers(drug) -> str:
    """'300-unit single-dose vial', or '80/200/400-unit containers' for several sizes."""
    sizes = [amount / drug.amount_per_unit for amount in container_amounts(drug)]
    if len(sizes) == 1:
        container = next((p.container for p in drug.ndcs if p.billable and p.container),
                         "container")
        return f"{number(sizes[0])}-unit {container}"
    return "/".join(number(size) for size in sizes) + "-unit containers"


def jw_jz_required(policy, table, drug, day) -> bool:
    """JW/JZ apply: a single-dose drug, a dated line, and the claim's payer policy
    (edi837.policy.ClaimPolicy) puts JW/JZ in scope on that date and in its setting."""
    return (drug is not None and drug.single_dose and day is not None
            and policy.jw_jz_in_scope(day))


def jw_jz_severity(policy, day) -> tuple[str, str]:
    """How severe a JW/JZ finding is on ``day`` under ``policy`` (in scope), and why, as
    MOD001 says it: an error where the payer enforces JW/JZ on the date in the setting
    (Medicare FFS from 2023-10-01, a profile's jw_jz = true), else the requirement's
    warning and its reason (" (a warning: commercial payers vary ...)"; billing-rules.md
    §9.1: a warning at most where the payer's rule is unknown)."""
    requirement = policy.jw_jz(day)
    severity = requirement.severity if requirement.severity != NONE else WARNING
    return severity, f" ({requirement.reason})" if requirement.reason else ""


def group_policy(ctx, lines):
    """The payer policy a group of lines is judged by: its anchor line's (the line's place
    of service, SV105, where it has one: ClaimContext.policy_of)."""
    return ctx.policy_of(anchor(lines))


def required_groups(ctx) -> Iterator[tuple[object, list, object]]:
    """(drug, lines, policy) for each group (same HCPCS and date) that JW/JZ apply to,
    with the payer policy it is judged by (group_policy)."""
    for lines in ctx.groups():
        drug = ctx.table.drug(lines[0].procedure)
        policy = group_policy(ctx, lines)
        if jw_jz_required(policy, ctx.table, drug, ctx.date_of(lines[0])):
            yield drug, lines, policy


def waste_groups(ctx) -> Iterator[tuple[object, list, bool, object, dt.date | None]]:
    """(drug, lines, in scope, policy, day) for each group whose JW lines are judged: JW's
    dates, not JZ's; ``day``: the date whose requirement says how severe (the group's,
    and before Medicare's claim edits of 2023-10-01 that date: JW was required from
    2017, and waste billed beyond the containers was an overpayment before JZ's dates).

    JW on discarded amounts is required from 2017-01-01 (CR 9603), JZ only from
    2023-07-01 (billing-rules.md §1.2), and billing waste that was not permitted is
    an overpayment whenever it was billed (§9.3).  Between the two dates a group is
    judged where the claim's payer policy puts JW/JZ in scope on the day JZ started
    (its payer class, setting and profile: an inpatient bill or a profile's jw_jz =
    false stays out); from then on, as the other MOD rules.  A group of a single-dose
    drug from JW's date on a bill whose setting keeps JW/JZ out of scope for every
    payer (an inpatient, RHC or FQHC bill, POS 21: where MOD006 warns of JW/JZ) comes
    too, marked so: waste billed there is still judged, as a warning (MOD007).  A
    profile that switches JW/JZ off for its payer keeps them all out.
    """
    modifiers = ctx.table.policy.discarded_drug_modifiers
    for lines in ctx.groups():
        drug = ctx.table.drug(lines[0].procedure)
        day = ctx.date_of(lines[0])
        if day is not None and modifiers.waste_rules_from <= day < modifiers.required_from:
            day = modifiers.required_from
        policy = group_policy(ctx, lines)
        judged = day if day is None else max(day, modifiers.claim_edits_from)
        if jw_jz_required(policy, ctx.table, drug, day):
            yield drug, lines, True, policy, judged
        elif (drug is not None and drug.single_dose and day is not None
              and day >= modifiers.waste_rules_from
              and policy.jw_jz_misplaced(day).severity != NONE):
            yield drug, lines, False, policy, judged


def billed_container_amounts(drug, lines) -> tuple[Decimal, ...]:
    """Container sizes the lines' NDCs say were used (J3262 on 50242013601: 200 mg only).

    Falls back to every package size of the drug when a line has no NDC the
    table knows, since then any vial could have been used.
    """
    amounts = set()
    for line in lines:
        ndc = ndc11_of(line.ndc)
        package = drug.ndc(ndc) if ndc else None
        if package is None or not package.billable or not package.amount:
            return container_amounts(drug)
        amounts.add(package.amount)
    return tuple(sorted(amounts))


def group_fills_whole_containers(drug, lines) -> bool:
    """The drug and date's units (all lines, none with JW or JZ) fill whole containers
    of one size that the lines' NDCs name: then JZ on each line is certainly right."""
    if any(other.has_modifier(DISCARDED) or other.has_modifier(NOTHING_DISCARDED)
           for other in lines):
        return False
    units = group_units(lines)
    if units is None:
        return False
    amount = drug.amount_for_units(units[0])
    return amount > 0 and any(amount % size == 0
                              for size in billed_container_amounts(drug, lines))


def units_within_dosing(drug, lines) -> bool:
    """The drug and date's units on the claim are what UNT001 and UNT002 let pass: the
    amount prepared (administered plus JW) a labeled dose, where the table lists them, and
    the administered units not above the drug's maximum.  MOD001's fix only then: JZ
    certifies that nothing was discarded, which a person must decide for units a units
    rule questions (J2357 300 units = 1500 mg, 2.5 times the 600 mg maximum: units of mg
    billed as units?).  Judged on the claim's lines: a total that other claims of the
    day push over (the history stage's UNT002) is not known when the fix is made."""
    units = group_units(lines)
    if units is None:
        return False
    administered, discarded = units
    if drug.max_units_per_day is not None and administered > drug.max_units_per_day:
        return False
    return not drug.labeled_doses or administered + discarded in drug.labeled_doses


def quantities_fill_units(drug, lines, kind: str, day) -> bool:
    """Each line's NDC quantity (CTP04), where it has one, is the quantity its units
    make (600 units of J2350 = 20 ML, 2 UN): then nothing says more was opened than
    the units bill (MOD001's fix; ``kind`` and ``day``: the claim's and the group's).
    30 ML for 600 units (three 10 ML vials for a two-vial dose: NDC007) says a vial
    may have been discarded, and a quantity edi837 cannot convert says
    nothing for sure: JZ ("nothing discarded", billing-rules.md §1.4) is then a
    person's to add."""
    for line in lines:
        drug_id = line.drug
        quantity = drug_id.quantity_value if drug_id is not None else None
        if quantity is None:
            if drug_id is not None and drug_id.quantity:
                return False  # a quantity that is no number (EDI007)
            continue  # no CTP: no quantity that could disagree
        ndc = ndc11_of(drug_id.ndc)
        units = line.units_value
        expected = (drug.expected_ndc_quantity(ndc, units, drug_id.unit.upper(), kind, day)
                    if ndc and units is not None else None)
        if expected is None or abs(quantity - expected) > Decimal("0.001") * max(expected, 1):
            return False
    return True
