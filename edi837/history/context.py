"""One claim in its patient's history, as the history rules see it
(:class:`HistoryContext`, made by edi837.history.stage for the claims a rule can
say something of), and the dates and intervals their messages show."""
from __future__ import annotations

import datetime as dt
from dataclasses import fields
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

from ..checklist import MARK
from ..findings import ERROR, Finding
from ..model import parse_date
from .records import REPLACEMENT, VOID, ClaimRecord, LineRecord
from .rows import Row

if TYPE_CHECKING:
    from .stage import HistoryStage

# finding.extra key of a finding this stage made: UNT004 and DOC001 have a claim's or
# line's own part too, which a check of the file alone (fix's re-check) makes as well
STAGE_MARK = "history_stage"

# The fields this stage gives a Finding by position, in Finding's order: a finding made
# with 22 keywords costs about 2 us more (a first dose or a duplicate is a finding a
# claim).  Should Finding's fields move, this says so at once, not in wrong reports.
FINDING_FIELDS = ("rule", "severity", "message", "path", "segment_index", "segment", "loop",
                  "claim_id", "line_number", "hcpcs", "value", "interchange", "group",
                  "transaction", "payer_id", "charge", "payer_name", "service_date",
                  "billing_npi", "claim_charge")
if tuple(f.name for f in fields(Finding))[:len(FINDING_FIELDS)] != FINDING_FIELDS:
    raise ImportError("edi837.findings.Finding's fields moved: edi837.history makes findings "
                      "by position (FINDING_FIELDS in edi837/history/context.py)")


def _same_claim(row: Row, record: ClaimRecord) -> bool:
    """An earlier instance of the claim a replacement or void refers to: the
    provider resends the original's CLM01 (its REF*F8 is the payer's number,
    which a clearinghouse cannot match without the payer's data)."""
    return (row.claim_id == record.claim_id and row.npi == record.billing_npi
            and row.payer == record.payer_id)


class HistoryContext:
    """One claim in its patient's history, as the history rules see it."""

    __slots__ = ("stage", "record", "table", "persistent", "rows", "live", "original", "visible",
                 "duplicates", "first_seen", "findings", "rule", "severity", "profile",
                 "own", "_groups")

    def __init__(self, stage: HistoryStage, record: ClaimRecord, rows: list[Row],
                 profile=None, own: dict | None = None) -> None:
        """``profile``: the claim's payer profile; ``own``: id(line) -> (profile, setting)
        of each line whose place of service (SV105) picks another (None: none does)."""
        self.stage = stage
        self.record = record
        self.profile = profile if profile is not None else \
            stage.config.profile_for(record.payer_id, record.filing_indicator, record.setting)
        self.own = own
        self.table = stage.table
        self.persistent = stage.persistent
        self.rows = rows
        if not rows:  # (a patient the history has no line of: most claims)
            self.live = self.original = self.visible = []
        else:
            self.live = live = [row for row in rows if not row.removed]
            self.original = [row for row in live if _same_claim(row, record)] \
                if record.frequency in (REPLACEMENT, VOID) else []
            # what this claim is judged against: a replacement is not judged against
            # the claim it replaces
            self.visible = [row for row in live if row not in self.original] \
                if record.frequency == REPLACEMENT else live
        self.duplicates: set[int] = set()  # record.lines positions flagged HIS001
        self.first_seen: set[str] = set()  # HCPCS whose first dose this claim is (HIS003)
        self.findings: list[Finding] = []
        self.rule = ""
        self.severity = ERROR
        self._groups: dict | None = None

    # -- facts -----------------------------------------------------------------------
    def counted_lines(self) -> Iterable[tuple[int, LineRecord]]:
        """The claim's lines that count towards sums: not flagged as duplicates."""
        duplicates = self.duplicates
        if not duplicates:  # (most claims)
            return enumerate(self.record.lines)
        return ((i, line) for i, line in enumerate(self.record.lines) if i not in duplicates)

    def groups(self) -> dict[tuple[str, str], list[LineRecord]]:
        """Counted lines by (HCPCS, date of service), in file order (computed once
        duplicates are known: HIS001 runs first)."""
        groups = self._groups
        if groups is None:
            groups = self._groups = {}
            for _, line in self.counted_lines():
                groups.setdefault((line.hcpcs, line.date), []).append(line)
        return groups

    def earlier(self, hcpcs: str, date: str | None = None) -> list[Row]:
        """History rows of the drug (on a date) that count: not duplicates."""
        if not self.visible:
            return []
        return [row for row in self.visible if row.hcpcs == hcpcs and not row.duplicate
                and (date is None or row.date == date)]

    def schedule(self, drug):
        """The drug's schedule, with the payer profile's overrides."""
        schedule = drug.schedule
        if schedule is None:
            return None
        profile = self.profile
        if self.own is not None:  # the profile of the drug's first line, where it has one
            line = next((line for line in self.record.lines if line.hcpcs == drug.hcpcs), None)
            profile = self.own.get(id(line), (profile,))[0]
        overrides = profile.schedules.get(drug.hcpcs)
        return schedule.with_overrides(overrides) if overrides else schedule

    # -- findings --------------------------------------------------------------------
    def finding(self, message: str, *, line: LineRecord | None = None,
                value: str | None = None, hcpcs: str | None = None,
                severity: str | None = None) -> Finding:
        """The running rule's finding; on a line whose place picks another payer profile
        than the claim's (``own``), as that profile has the rule: its severity, its
        policy's name, or none kept where it leaves the rule out (the claim's own
        findings, and its other lines', by the claim's profile)."""
        record = self.record
        kept, policy = True, None
        if self.own is not None:
            own = self.own.get(id(line)) if line is not None else None
            configured = self.stage.severities(own[0] if own else self.profile).get(self.rule)
            kept = configured is not None
            severity = severity or configured
            if own:
                policy = self.stage.policy_name_of(record.filing_indicator, record.payer_id,
                                                   own[1])
        if line is not None and line.segment_index is not None:
            index, segment, loop = line.segment_index, line.segment_id, "2400"
        else:
            index, segment, loop = record.clm_index, "CLM", "2300"
        finding = Finding(  # (by position: FINDING_FIELDS)
            self.rule, severity or self.severity, message, record.path, index, segment, loop,
            record.claim_id, line.number if line else None,
            hcpcs or (line.hcpcs if line else None), value, record.interchange, record.group,
            record.transaction, record.payer_id or None,
            (line.charge or None) if line else None, record.payer_name or None,
            (line.date if line else None) or None, record.billing_npi or None,
            record.charge or None, claim_first=record.first_index,
            claim_last=record.last_index, policy=policy)
        if not kept:  # (its profile leaves the rule out: made, not said)
            return finding
        finding.extra[STAGE_MARK] = True
        if line is not None:
            finding.extra.update(ndc=line.ndc, units=line.units_text,
                                 line_index=line.segment_index)
        checklist = self.stage.checklist(self.profile)
        if self.rule in checklist:  # one DOC000 a claim (edi837.checklist)
            finding.extra[MARK] = checklist[self.rule]
        self.findings.append(finding)
        return finding


@lru_cache(maxsize=4096)  # (a night's dates are few, and every finding shows one)
def shown_date(text: str) -> str:
    day = parse_date(text)
    return day.isoformat() if day else (text or "(no date)")


def days_between(first: str, second: str) -> int | None:
    a, b = parse_date(first), parse_date(second)
    return None if a is None or b is None else (b - a).days


def interval_text(days: int) -> str:
    """182 -> "6 months", 28 -> "4 weeks", 10 -> "10 days"."""
    if days >= 56 and (days % 7 or days > 84):  # 56 days: "8 weeks", the label's words
        return f"{round(days / 30.44)} months"
    if days % 7 == 0:
        return f"{days // 7} weeks"
    return f"{days} days"


def today() -> dt.date:
    return dt.date.today()
