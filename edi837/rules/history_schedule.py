"""HIS002's judgement of one dose against the dose before it, from the drug table's
schedule data: the induction (a pair of another size, J2350: 300 mg twice; or
steps the size of the maintenance dose, J3380: weeks 0, 2 and 6), then the
minimum interval of the label revision in force on the later date of service.

The schedule is per ingredient (billing-rules.md §9.5): the later dose's code
gives the schedule and its label; where that label gives no minimum interval
(J2351, Ocrevus Zunovo: "920 mg every 6 months"), the label of another code of
the same molecule does (J2350's), so two ocrelizumab doses are judged by the
same interval whichever code billed each, and the message names the label used.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..drugs.model import LabelInterval, Schedule
from ..history.stage import days_between, interval_text, shown_date
from ..model import parse_date

PROJECT_CHOICE = "the project's choice: the drug table gives no label wording of a minimum"


def out_of_schedule(codes: dict, schedule_of: Callable[[str], Schedule | None], doses: dict,
                    dates: list[str], at: int) -> tuple | None:
    """(days between, what the label says, second induction dose of a pair) when the
    dose at ``dates[at]`` is out of schedule after the one before it; else None.

    ``codes`` are the molecule's codes with their drug entries, ``schedule_of`` a
    code's schedule (with the payer profile's overrides), ``doses`` the molecule's
    doses per date (edi837.rules.doses.doses_of)."""
    if at <= 0 or at >= len(dates):
        return None
    previous, current = dates[at - 1], dates[at]
    gap = days_between(previous, current)
    code = doses[current][2]  # the later dose's code: its schedule judges the interval
    schedule = schedule_of(code)
    if gap is None or schedule is None:
        return None
    drug = codes.get(code)
    per_unit = drug.amount_per_unit if drug is not None else Decimal(1)
    decided, found = _induction_pair(schedule, doses, dates, at, gap, per_unit)
    if not decided:
        decided, found = _induction_step(schedule, dates, at)
    if decided:
        return found
    label, whose = molecule_label(codes, schedule_of, code, parse_date(current))
    if label is not None:
        if gap < label.min_days:
            return (gap, f"the label's interval is "
                         f"{interval_text(schedule.maintenance_interval_days)}; {label.revision}: "
                         f"{label.says()}{whose}", False)
        return None
    if gap < schedule.maintenance_min_days:
        return (gap, _maintenance_text(schedule), False)
    return None


def _maintenance_text(schedule: Schedule) -> str:
    """"the label's interval is 4 weeks (flagged under 21 days, the project's choice
    ...)", or with induction steps "the label's schedule is weeks 0, 2 and 6, then
    every 8 weeks (Entyvio IV label ...; flagged under 42 days, ...)"."""
    whose = "the payer profile's window" if schedule.min_days_from_profile else PROJECT_CHOICE
    label = f"{schedule.label_revision}; " if schedule.label_revision else ""
    return (f"{_regimen_text(schedule)} ({label}flagged under {schedule.maintenance_min_days} "
            f"days, {whose})")


def _regimen_text(schedule: Schedule) -> str:
    interval = interval_text(schedule.maintenance_interval_days)
    if not schedule.induction_steps:
        return f"the label's interval is {interval}"
    return f"the label's schedule is {_steps_text(schedule)}, then every {interval}"


def _induction_pair(schedule: Schedule, doses: dict, dates: list[str], at: int, gap: int,
                    per_unit: Decimal) -> tuple[bool, tuple | None]:
    """(decided, finding) for the second dose of an induction pair of another size
    than the maintenance dose (J2350: 300 mg twice, 10-21 days apart)."""
    induction = schedule.induction_dose
    second = schedule.induction_second_dose or induction
    previous, current = dates[at - 1], dates[at]
    if not (induction and second and doses[current][0] == second * per_unit and
            doses[previous][0] == induction * per_unit):
        return False, None
    before = days_between(dates[at - 2], previous) if at >= 2 else None
    if before is not None and before < schedule.maintenance_min_days:
        return False, None
    # the second dose of an induction pair (or a restart after a long gap)
    low, high = schedule.induction_window_days or (0, schedule.maintenance_min_days)
    if low <= gap <= high or gap >= schedule.maintenance_min_days:
        return True, None
    return True, (gap, f"the label's induction pair is {schedule.induction_interval_days} "
                       f"days apart (allowed {low}-{high})", True)


def _induction_step(schedule: Schedule, dates: list[str], at: int) -> tuple[bool, tuple | None]:
    """(decided, finding) for a schedule whose induction doses are the size of its
    maintenance dose (J3380: weeks 0, 2 and 6): the molecule's first doses in the
    history are the induction, each step due in its window of days after the
    first; a dose at least the maintenance minimum after the one before it ends
    the induction (the history began in maintenance).  Decided only for a step."""
    steps = schedule.induction_steps
    step = 0
    for index in range(1, at + 1):
        if step >= len(steps):
            return False, None  # maintenance
        offset = days_between(dates[0], dates[index])
        gap = days_between(dates[index - 1], dates[index])
        if offset is None or gap is None:
            return False, None
        low, high = steps[step].window_days
        if low <= offset <= high:
            on_time = True
        elif gap >= schedule.maintenance_min_days:
            return False, None  # not an induction: maintenance from here on
        else:
            on_time = False
        if index == at:
            if on_time:
                return True, None
            label = f" ({schedule.label_revision})" if schedule.label_revision else ""
            return True, (gap, f"{_regimen_text(schedule)}{label}: "
                               f"the dose of {_day_text(steps[step].day)} is due "
                               f"{steps[step].day} days after the first, on "
                               f"{shown_date(dates[0])} (allowed {low}-{high}, the window "
                               f"being the project's choice), this one {offset}", False)
        step += 1
    return False, None


def _steps_text(schedule: Schedule) -> str:
    """"weeks 0, 2 and 6" (or "days 0, 10 and 30")."""
    days = [0, *(step.day for step in schedule.induction_steps)]
    if all(day % 7 == 0 for day in days):
        words, days = "weeks", [day // 7 for day in days]
    else:
        words = "days"
    shown = [str(day) for day in days]
    return f"{words} {', '.join(shown[:-1])} and {shown[-1]}"


def _day_text(day: int) -> str:
    return f"week {day // 7}" if day % 7 == 0 else f"day {day}"


def molecule_label(codes: dict, schedule_of: Callable[[str], Schedule | None], code: str,
                   day) -> tuple[LabelInterval | None, str]:
    """The label revision in force on ``day`` that judges a dose billed under
    ``code``, and what the message adds to say whose label it is.  The later
    dose's own label; where it gives no minimum, another code's of the same
    ingredient (billing-rules.md §9.5: J2350 and J2351 are one molecule, the
    schedule is per ingredient).  None under a payer profile's window."""
    schedule = schedule_of(code)
    if schedule is None or schedule.min_days_from_profile:
        return None, ""
    own = schedule.label_interval(day)
    others = []
    for other in sorted(codes):
        other_schedule = schedule_of(other) if other != code else None
        found = other_schedule.label_interval(day) if other_schedule is not None else None
        if found is not None:
            others.append((other, found))
    if own is not None:
        unlike = [other for other, found in others if found.min_days != own.min_days]
        if not unlike:
            return own, ""
        return own, (f"; the later dose's label ({code}'s), "
                     f"{' and '.join(unlike)}'s giving another minimum")
    if not others:
        return None, ""
    other, found = others[0]
    return found, (f"; {other}'s label: {code}'s label gives no minimum interval, and the "
                   f"schedule is per ingredient ({schedule.ingredient}, billing-rules.md §9.5)")
