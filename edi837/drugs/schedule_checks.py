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
    return found
