"""Consistency checks of a drug entry's ``schedule`` that the JSON Schema cannot express
(HIS002 would otherwise run on nonsense: "allowed 21-10", or a maintenance dose flagged
under 1400 days when the label's interval is 168)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def schedule_problems(where: str, schedule: Mapping[str, Any] | None) -> list[str]:
    """One message per problem, each naming the field path (``drugs.J2329.schedule...``)."""
    if not schedule:
        return []
    at = f"{where}.schedule"
    found = []
    window = schedule.get("induction_window_days")
    if window and window[0] > window[1]:
        found.append(f"{at}.induction_window_days: [{window[0]}, {window[1]}] is reversed "
                     f"(the first day is after the last: write [{window[1]}, {window[0]}])")
    interval, minimum = schedule.get("maintenance_interval_days"), \
        schedule.get("maintenance_min_days")
    if interval is not None and minimum is not None and minimum > interval:
        found.append(f"{at}.maintenance_min_days: {minimum} is larger than "
                     f"maintenance_interval_days {interval} (every dose on the label's "
                     f"interval would be flagged as early)")
    found.extend(_step_problems(at, schedule))
    return found


def _step_problems(at: str, schedule: Mapping[str, Any]) -> list[str]:
    """The induction steps (Entyvio: days 14 and 42 after the first dose): each in
    its own window, in order, and not beside an induction pair of another size."""
    steps = schedule.get("induction_steps") or []
    found = []
    if steps and schedule.get("induction_dose") is not None:
        found.append(f"{at}.induction_steps: given with induction_dose (an induction of "
                     f"another size than the maintenance dose): give one or the other")
    last = 0
    for n, step in enumerate(steps):
        low, high = step["window_days"]
        if not low <= step["day"] <= high:
            found.append(f"{at}.induction_steps[{n}]: day {step['day']} is outside its "
                         f"window_days [{low}, {high}]")
        if low <= last:
            found.append(f"{at}.induction_steps[{n}]: its window [{low}, {high}] begins on or "
                         f"before the step before it (day {last}): steps go in order")
        last = max(last, high)
    return found
