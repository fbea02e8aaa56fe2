"""The dose schedule of the history rules (HIS002, HIS003): doses per ingredient
and the label's minimum interval on the date of service.

J2350 (Ocrevus, IV) and J2351 (Ocrevus Zunovo, SC) are one molecule,
ocrelizumab: the drug table's ``schedule.ingredient`` puts their doses in one
schedule, and ``schedule.label_intervals`` gives the minimum interval per label
revision, each wording with its source (billing-rules.md §9.5).  How one dose is
judged against the one before it is in edi837.rules.history_schedule.
"""
from __future__ import annotations

from decimal import Decimal

from ..history.stage import shown_date
from .groups import number


def same_schedule(table, hcpcs: str, schedule) -> dict[str, object]:
    """The codes whose doses form one schedule with ``hcpcs`` (the codes of its
    ingredient: J2350 and J2351, ocrelizumab), each with its drug entry."""
    ingredient = schedule.ingredient
    if not ingredient:
        return {hcpcs: table.drug(hcpcs)}
    return {code: drug for code, drug in table.drugs.items()
            if drug.schedule is not None and drug.schedule.ingredient == ingredient}


def doses_of(ctx, codes: dict) -> dict[str, list]:
    """Administered amounts per date of service for the codes of one schedule (in
    the drug's unit, mg: a unit of J2350 or J2351 is 1 mg of ocrelizumab): the
    history's and this claim's (not duplicates, not JW), with the first claim id,
    code and billed units of each date."""
    doses: dict[str, list] = {}
    for hcpcs, drug in codes.items():
        per_unit = drug.amount_per_unit if drug is not None else Decimal(1)
        for row in ctx.earlier(hcpcs):
            if row.discarded or row.units is None:
                continue
            entry = doses.setdefault(row.date, [Decimal(0), row.claim_id, hcpcs, Decimal(0)])
            entry[0] += row.units * per_unit
            entry[3] += row.units if entry[2] == hcpcs else 0
        for _, line in ctx.counted_lines():
            if line.hcpcs != hcpcs or line.discarded or line.units is None:
                continue
            entry = doses.setdefault(line.date, [Decimal(0), ctx.record.claim_id, hcpcs,
                                                 Decimal(0)])
            entry[0] += line.units * per_unit
            entry[3] += line.units if entry[2] == hcpcs else 0
    return {date: entry for date, entry in doses.items() if entry[0] > 0 and date}


def ingredients(table, codes) -> set:
    """The schedules the codes belong to (a code without an ingredient: its own)."""
    found = set()
    for hcpcs in codes:
        drug = table.drug(hcpcs)
        schedule = drug.schedule if drug is not None else None
        found.add(schedule.ingredient if schedule is not None and schedule.ingredient
                  else hcpcs)
    return found


def molecule(doses: dict, date: str, hcpcs: str, schedule) -> str:
    """", the same ingredient (ocrelizumab)" when the other dose was billed under
    another code of the molecule."""
    if doses[date][2] != hcpcs and schedule.ingredient:
        return f" (the same ingredient, {schedule.ingredient})"
    return ""


def dose_text(doses: dict, date: str) -> str:
    _, claim_id, hcpcs, units = doses[date]
    return f"{hcpcs} {number(units)} units on claim {claim_id} on {shown_date(date)}"
