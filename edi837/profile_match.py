"""Which `[[profiles]]` entry of edi837.toml a claim takes, and what a user must hear
about profiles that lose or match nothing.

One precedence rule, the one a clearinghouse engineer expects: the more specific
match wins.  A profile naming the claim's payer id (2010BB NM109) beats one that
matches only by the SBR09 claim filing indicator, which beats one that matches
only by setting; among matches of the same kind the first in the file wins.  A
Medicaid MCO filed as CI to SYNMCD01 is judged by the SYNMCD01 profile, whatever
CI profile stands above it.

What the precedence cannot settle is said, not guessed:

* two profiles with the same ``name`` are refused (findings and reports name the
  profile: two of one name cannot be told apart);
* a profile that an earlier one always beats for one of its payer ids, filing
  indicators or settings (same key, settings no narrower) is a warning at load;
* a payer id no checked claim carries is a notice after the run (the payer's rule
  silently stayed off), with a hint when a claim's payer id differs only in case
  (X12 ids are compared as written: ``synmcd01`` is not ``SYNMCD01``) or by a typo.
"""
from __future__ import annotations

from typing import Iterable, Sequence

PAYER_ID, FILING_INDICATOR, SETTING = 0, 1, 2  # how a profile matched, most specific first
MATCHED_BY = ("payer id", "filing indicator", "setting")


def match_rank(profile, payer_id: str, filing_indicator: str,
               setting: str | None = None) -> int | None:
    """How ``profile`` matches the claim (PAYER_ID, FILING_INDICATOR or SETTING), or None
    when it does not; ``setting`` None: settings are not compared."""
    if not profile.applies_to(payer_id, filing_indicator, setting):
        return None
    if payer_id in profile.payer_ids:
        return PAYER_ID
    if profile.filing_indicators:
        return FILING_INDICATOR
    return SETTING


def choose(profiles: Sequence, payer_id: str, filing_indicator: str,
           setting: str | None = None):
    """The profile a claim takes: the most specific match, the first of those; None."""
    best, best_rank = None, None
    for profile in profiles:
        rank = match_rank(profile, payer_id, filing_indicator, setting)
        if rank is not None and (best_rank is None or rank < best_rank):
            best, best_rank = profile, rank
            if rank == PAYER_ID:
                break
    return best


def duplicate_names(named: Iterable[tuple[int, str]], source: str) -> str | None:
    """The problem with (index, name) of the profiles that give a name, or None."""
    seen: dict[str, int] = {}
    for index, name in named:
        if name in seen:
            return (f"{source}: profiles[{index}]: name {name!r} is already the name of "
                    f"profiles[{seen[name]}]; give each profile its own name (reports and "
                    "findings name the profile a claim was judged by)")
        seen[name] = index
    return None


def _covers(earlier: tuple[str, ...], later: tuple[str, ...]) -> bool:
    """Whether settings ``earlier`` take every claim that settings ``later`` take."""
    if not earlier:
        return True
    if not later:
        return False
    from .policy.model import setting_matches

    return all(setting_matches(earlier, setting) for setting in later)


def shadowed(profiles: Sequence, source: str) -> list[str]:
    """Warnings for each profile an earlier one always beats for some of what it names."""
    warnings = []
    for later_index, later in enumerate(profiles):
        # (what, which, the attribute of an earlier profile that must name it)
        keys = [("payer id", p, "payer_ids") for p in later.payer_ids]
        keys += [("filing indicator", f, "filing_indicators")
                 for f in later.filing_indicators]
        if not keys:  # settings only: beaten by an earlier settings-only profile
            keys = [("setting", ", ".join(later.settings), "")]
        lost = []
        for label, key, attribute in keys:
            for index, earlier in enumerate(profiles[:later_index]):
                named = key in getattr(earlier, attribute) if attribute else \
                    not earlier.payer_ids and not earlier.filing_indicators
                if named and _covers(earlier.settings, later.settings):
                    lost.append(f"{label} {key} (taken first by profiles[{index}] "
                                f"{earlier.name!r})")
                    break
        if not lost:
            continue
        whole = len(lost) == len(keys)
        warnings.append(
            f"{source}: profiles[{later_index}] {later.name!r} "
            + (f"never applies: its {'; '.join(lost)}" if whole
               else f"does not apply to {'; '.join(lost)}")
            + " (a payer-id match beats a filing-indicator match, which beats a "
            "settings-only one; among matches of one kind the first in the file wins): "
            + ("remove it, or give it narrower settings and put it above" if whole
               else "remove the duplicate from one of them"))
    return warnings


def unmatched_payer_ids(profiles: Sequence, seen: Iterable[str]) -> list[str]:
    """Notices for each profile with payer ids of which no checked claim carries any:
    the payer's rules it sets stayed off.  ``seen``: the payer ids of the claims."""
    seen = sorted({payer_id for payer_id in seen if payer_id})
    if not seen:
        return []
    notices = []
    for profile in profiles:
        ids = profile.payer_ids
        if not ids or any(p in seen for p in ids):
            continue
        hints = []
        folded = {s.casefold(): s for s in seen}
        for payer_id in ids:
            same = folded.get(payer_id.casefold())
            if same is not None:
                hints.append(f"{payer_id!r} differs only in case from the claims' {same!r} "
                             "(payer ids are compared as written, as payers do: write "
                             f"{same!r})")
                continue
            import difflib  # only for an id that matched nothing

            close = difflib.get_close_matches(payer_id, seen, n=2, cutoff=0.75)
            if close:
                hints.append(f"{payer_id!r}: did you mean {' or '.join(map(repr, close))}?")
        shown = ", ".join(map(repr, ids))
        notices.append(f"profile {profile.name!r}: payer_ids {shown} matched no drug "
                       f"claim of this run (its rules applied to none)" +
                       (f"; {'; '.join(hints)}" if hints else ""))
    return notices
