"""The history stage: rules that need more than one claim, applied in input order.

After a claim's own rules ran (edi837.engine), its drug lines reach this stage
as a :class:`~edi837.history.records.ClaimRecord`, in the order of the input
files and of the claims in each file, whether the claim was checked here or
in a worker process.  The stage judges each claim against the history (this
run's earlier claims and, with a store, earlier runs): duplicates (HIS001),
the dose schedule (HIS002), the first dose seen (HIS003), voids (HIS004), and
the day's units summed over every claim of the patient (UNT001, UNT002).
Then, if nothing holds the claim, its lines join the history.

One stage judges a run: in the process that checks (one job), in the driver
(a lasting store under `--jobs`/`--dask`, batch), or one stage per patient
shard on workers for a run's own history (edi837.parallel.shards: every rule
here looks at one patient's lines, so a shard judges its patients as the
whole run's stage would).

Claims are handled a window at a time: the rows of every patient in the
window come from the store in one query, the window's claims are judged in
order against them (and against each other), and the new rows are written in
one statement.  Memory holds one window, never the history.
"""
from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import Counter
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ..checklist import MARK, checklist_codes
from ..findings import ERROR, Finding
from ..model import parse_date
from .records import REPLACEMENT, VOID, ClaimRecord, LineRecord, claim_record
from .store import HistoryStore, Row

if TYPE_CHECKING:
    from ..policy import PolicyResolver

WINDOW = 64  # claims judged per query of the store (claims wait as claim objects: few)
# finding.extra key of a finding this stage made: UNT004 and DOC001 have a claim's or
# line's own part too, which a check of the file alone (fix's re-check) makes as well
STAGE_MARK = "history_stage"


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


class HistoryStage:
    def __init__(self, store: HistoryStore, table, config, *, rules: Sequence,
                 run_id: str | None = None) -> None:
        """``rules``: the rules with a part in this stage, in the order they run
        (edi837.rules.stage_rules(): the registry says which and in what order)."""
        self.store = store
        self.table = table
        self.config = config
        self.run_id = run_id or new_run_id()
        self._checks = [(r.code, r.stage_check, r.severity) for r in rules]
        # first doses (HIS003, DOC001's part): only a history that outlasts the run knows
        self._lasting = frozenset(r.code for r in rules if r.lasting)
        self._plans: dict[int, list] = {}
        # (payer id, SBR09) -> (profile, plan, its first-dose part): asked once a claim
        self._payers: dict[tuple[str, str], tuple] = {}
        self._policy_names: dict[tuple[str, str, str], str] = {}
        self._policies: PolicyResolver | None = None  # made on the first finding
        self._checklists: dict[int, dict] = {}
        self._plan_codes: dict[int, frozenset] = {}
        self._window: list[ClaimRecord | PendingClaim] = []
        # the store's file id -> the path as given of each file of this run (HIS001 names
        # the file of an earlier claim of the run: the store keeps no names)
        self.run_files: dict[int, str] = {}

    @property
    def persistent(self) -> bool:
        return self.store.persistent

    def checklist(self, profile) -> dict:
        """The DOC codes folded into DOC000 for a payer profile (edi837.checklist)."""
        codes = self._checklists.get(id(profile))
        if codes is None:
            codes = self._checklists[id(profile)] = checklist_codes(self.config, profile)
        return codes

    @property
    def keys(self):
        return self.store.keys

    @property
    def hash_first(self) -> bool:
        """A lasting store needs a file's hash before its claims (a file checked again
        replaces its earlier lines)."""
        return self.store.persistent

    def apply_file(self, records: Iterable[ClaimRecord], sha256: str, *, keep: bool = True,
                   commit: bool = True) -> list[Finding]:
        """Judge a file's records, checked elsewhere, in one go."""
        return list(self.judge_file(records, sha256, keep=keep, commit=commit))

    def judge_file(self, records: Iterable[ClaimRecord], sha256: str, *, keep: bool = True,
                   commit: bool = True) -> Iterator[Finding]:
        """:meth:`apply_file`, its findings handed out a window at a time (the batch
        driver writes them to a file as they come: a DOC001 note per first dose
        makes them as many as the claims).  The file ends, and its rows are
        committed, when the last finding has been taken."""
        self.begin_file(sha256)
        for record in records:
            yield from self.add(record)
        yield from self.end_file(sha256, keep=keep, commit=commit)

    # -- one input file -----------------------------------------------------------------
    def begin_file(self, sha256: str | None = None) -> None:
        self.store.begin_file(self.run_id, sha256)

    def add(self, record: ClaimRecord) -> list[Finding]:
        """Queue a claim; returns findings when a window was judged."""
        self._name_file(record.path)
        self._window.append(record)
        return self.flush() if len(self._window) >= WINDOW else []

    def add_claim(self, claim, lines, patient: bytes, held: bool, known) -> list[Finding]:
        """Queue a claim checked in this process: its record is made only if the
        history has something to judge it against (most claims: not)."""
        self._name_file(claim.envelope.path)
        self._window.append(PendingClaim(claim, lines, patient, held, known))
        return self.flush() if len(self._window) >= WINDOW else []

    def _name_file(self, path: str) -> None:
        file = getattr(self.store, "_file", None)
        if file is not None and self.run_files.get(file) != path:  # (a file rolled back
            self.run_files[file] = path  # gives its id to the next)

    def end_file(self, sha256: str, *, keep: bool = True, commit: bool = True) -> list[Finding]:
        """Judge what is queued and end the file's transaction: its rows are
        committed (``keep``) or rolled back (an unreadable file forwards nothing)."""
        found = self.flush()
        self.store.end_file(sha256, keep=keep, commit=commit)
        return found

    # -- judging ---------------------------------------------------------------------
    def policy_name(self, record) -> str:
        """The payer policy a claim's findings name (edi837.policy), from its record: the
        same in this process and in a driver judging records checked elsewhere."""
        key = (record.filing_indicator, record.payer_id, record.kind)
        name = self._policy_names.get(key)
        if name is None:
            if self._policies is None:
                from ..policy import PolicyResolver

                self._policies = PolicyResolver(self.config, self.table)
            if len(self._policy_names) >= 4096:
                self._policy_names.clear()
            name = self._policy_names[key] = self._policies.resolve(*key).name
        return name

    def _payer(self, payer_id: str, filing_indicator: str) -> tuple:
        """(profile, plan, the plan's first-dose rules) of a payer id and SBR09."""
        found = self._payers.get((payer_id, filing_indicator))
        if found is None:
            profile = self.config.profile_for(payer_id, filing_indicator)
            plan = self._plan(profile)
            if len(self._payers) >= 4096:
                self._payers.clear()
            found = self._payers[payer_id, filing_indicator] = (
                profile, plan, [step for step in plan if step[0] in self._lasting])
        return found

    def _plan(self, profile) -> list:
        plan = self._plans.get(id(profile))
        if plan is None:
            config = self.config
            plan = [(code, check, config.severity_of(code, severity, profile))
                    for code, check, severity in self._checks
                    if config.enabled(code, profile)
                    and (code not in self._lasting or self.persistent)]
            self._plans[id(profile)] = plan
        return plan

    def flush(self) -> list[Finding]:
        window, self._window = self._window, []
        if not window:
            return []
        rows = self.store.rows_for({record.patient for record in window})
        again = {p for p, n in Counter(r.patient for r in window).items() if n > 1}
        added: list[Row] = []
        values: list[tuple] = []  # new lines of claims nobody else in the window needs
        removed: list[int] = []
        findings: list[Finding] = []
        payer = self._payer
        for record in window:
            profile, plan, lasting = payer(record.payer_id, record.filing_indicator)
            if record.patient not in rows and record.patient not in again:
                quick = record.quick_values(self, plan)
                if quick is not None:
                    # nothing to judge it against and nothing to say: straight into the
                    # history (held: not at all)
                    if not record.held:
                        values.extend(quick)
                    continue
            if isinstance(record, PendingClaim):
                record = record.record()
            steps, alone = plan, False
            if record.patient not in rows and self._alone_and_clean(record):
                steps = lasting if lasting and any(line.in_table for line in record.lines) \
                    else None
                if not steps:
                    if record.held:
                        continue
                    if record.patient in again:
                        rows[record.patient] = new = _new_rows(record, ())
                        added.extend(new)
                    else:
                        values.extend(_values(record))
                    continue
                # a lasting history's first doses (HIS003, DOC001's part), when a line's
                # drug is in the table: only those rules can say anything of this claim
                alone = record.patient not in again
            patient_rows = rows.setdefault(record.patient, [])
            ctx = HistoryContext(self, record, patient_rows, profile)
            for code, check, severity in steps:
                if record.frequency == VOID and code != "HIS004":
                    continue  # a void bills nothing: only whether it found its original
                ctx.rule, ctx.severity = code, severity
                check(ctx)
            if ctx.findings:
                name = self.policy_name(record)
                for finding in ctx.findings:
                    finding.policy = name
            findings += ctx.findings
            if record.held or any(f.severity == ERROR for f in ctx.findings):
                continue  # held: not forwarded, so not part of the history
            for row in ctx.original:
                row.removed = True
                if row.id is not None:
                    removed.append(row.id)
            if alone:  # (no line flagged, none taken out: nothing else needs its rows)
                values.extend(_values(record))
            elif record.frequency != VOID:
                new = _new_rows(record, ctx.duplicates)
                patient_rows.extend(new)
                added.extend(new)
        self.store.write([row for row in added if not row.removed], removed, values)
        return findings

    def _alone_and_clean(self, record: ClaimRecord) -> bool:
        """Whether no history rule but the first-dose ones (HIS003, DOC001's part) can
        say anything of a claim whose patient the history has no line of: most claims
        of a night (the rules' answer for them, found without building their context)."""
        if record.frequency in (REPLACEMENT, VOID):
            return False
        lines = record.lines
        if len(lines) == 1:  # the usual drug claim: one drug line
            line = lines[0]
            found = self.table.drug(line.hcpcs)
            units = line.units
            if units is None:
                return False
            if found is None:
                return True
            if found.labeled_doses and units not in found.labeled_doses:
                return False
            return line.discarded or found.max_units_per_day is None or \
                units <= found.max_units_per_day
        days: dict[tuple[str, str], list] = {}
        drugs_on: dict[str, str] = {}
        for line in record.lines:
            if line.units is None:
                return False
            total = days.setdefault((line.hcpcs, line.date), [0, 0])
            total[1 if line.discarded else 0] += line.units
            if drugs_on.setdefault(self._schedule_of(line.hcpcs), line.date) != line.date:
                return False  # one drug (molecule) on two dates: HIS002 compares them
        drug = self.table.drug
        for (hcpcs, _), (administered, discarded) in days.items():
            found = drug(hcpcs)
            if found is None:
                continue
            if found.labeled_doses and administered + discarded not in found.labeled_doses:
                return False
            if found.max_units_per_day is not None and administered > found.max_units_per_day:
                return False
        return True

    def _schedule_of(self, hcpcs: str) -> str:
        """The schedule a code's doses belong to: its ingredient's (J2350 and J2351:
        ocrelizumab), or its own."""
        drug = self.table.drug(hcpcs)
        schedule = drug.schedule if drug is not None else None
        return schedule.ingredient if schedule is not None and schedule.ingredient else hcpcs

    def _codes_of(self, plan: list) -> frozenset:
        codes = self._plan_codes.get(id(plan))
        if codes is None:
            codes = self._plan_codes[id(plan)] = frozenset(code for code, _, _ in plan)
        return codes

def _new_rows(record: ClaimRecord, duplicates) -> list[Row]:
    """The history rows of a forwarded claim's drug lines."""
    return [Row(None, record.patient, line.date, line.hcpcs, line.units, line.modifiers,
                line.ndc, record.billing_npi, record.payer_id, record.responsibility,
                record.claim_id, record.frequency, i in duplicates, record.original_reference)
            for i, line in enumerate(record.lines)]


class PendingClaim:
    """A claim checked in this process, waiting for its window: the claim model
    itself, so that the common claim (one drug line, a patient the history has
    never seen) goes into the history without a record being built."""

    __slots__ = ("claim", "lines", "patient", "held", "known")

    def __init__(self, claim, lines, patient: bytes, held: bool, known) -> None:
        self.claim, self.lines, self.patient, self.held, self.known = (claim, lines, patient,
                                                                       held, known)

    @property
    def payer_id(self) -> str:
        return self.claim.payer_id

    @property
    def filing_indicator(self) -> str:
        return self.claim.filing_indicator

    def record(self) -> ClaimRecord:
        return claim_record(self.claim, self.lines, self.patient, self.held, self.known)

    def quick_values(self, stage: "HistoryStage", plan: list) -> list[tuple] | None:
        """The INSERT values of a one-line claim no history rule can say anything of
        (its record's ``_alone_and_clean``, without the record); None otherwise."""
        claim, lines = self.claim, self.lines
        if len(lines) != 1 or claim.frequency in (REPLACEMENT, VOID):
            return None
        line = lines[0]
        text = line.units
        if not (text.isdigit() and text.isascii()):
            return None
        units = int(text)
        drug = stage.table.drug(line.procedure)
        if drug is not None:
            if "HIS003" in stage._codes_of(plan):
                return None
            if drug.labeled_doses and units not in drug.labeled_doses:
                return None
            if drug.max_units_per_day is not None and units > drug.max_units_per_day and \
                    "JW" not in line.modifiers:
                return None
        billing = claim.billing_provider
        return [(self.patient, claim.line_date(line), line.procedure, text,
                 " ".join(line.modifiers), line.ndc, billing.npi if billing else "",
                 claim.payer_id, claim.payer_responsibility, claim.claim_id, claim.frequency,
                 claim.original_reference, 0)]


def _values(record: ClaimRecord) -> list[tuple]:
    """The INSERT values of a forwarded claim's lines (no duplicates among them)."""
    head = (record.patient,)
    tail = (record.billing_npi, record.payer_id, record.responsibility, record.claim_id,
            record.frequency, record.original_reference, 0)
    return [head + (line.date, line.hcpcs, line.units_text, " ".join(line.modifiers),
                    line.ndc) + tail for line in record.lines]


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
                 "_groups")

    def __init__(self, stage: HistoryStage, record: ClaimRecord, rows: list[Row],
                 profile=None) -> None:
        self.stage = stage
        self.record = record
        self.profile = profile if profile is not None else \
            stage.config.profile_for(record.payer_id, record.filing_indicator)
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
        return ((i, line) for i, line in enumerate(self.record.lines)
                if i not in self.duplicates)

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
        overrides = self.profile.schedules.get(drug.hcpcs)
        return schedule.with_overrides(overrides) if overrides else schedule

    # -- findings --------------------------------------------------------------------
    def finding(self, message: str, *, line: LineRecord | None = None,
                value: str | None = None, hcpcs: str | None = None) -> Finding:
        record = self.record
        if line is not None and line.segment_index is not None:
            index, segment, loop = line.segment_index, line.segment_id, "2400"
        else:
            index, segment, loop = record.clm_index, "CLM", "2300"
        finding = Finding(
            rule=self.rule, severity=self.severity, message=message, path=record.path,
            segment_index=index, segment=segment, loop=loop, claim_id=record.claim_id,
            line_number=line.number if line else None,
            hcpcs=hcpcs or (line.hcpcs if line else None), value=value,
            interchange=record.interchange, group=record.group,
            transaction=record.transaction, payer_id=record.payer_id or None,
            charge=(line.charge or None) if line else None,
            payer_name=record.payer_name or None,
            service_date=(line.date if line else None) or None,
            billing_npi=record.billing_npi or None, claim_charge=record.charge or None,
            claim_first=record.first_index, claim_last=record.last_index)
        finding.extra[STAGE_MARK] = True
        if line is not None:
            finding.extra.update(ndc=line.ndc, units=line.units_text,
                                 line_index=line.segment_index)
        checklist = self.stage.checklist(self.profile)
        if self.rule in checklist:  # one DOC000 a claim (edi837.checklist)
            finding.extra[MARK] = checklist[self.rule]
        self.findings.append(finding)
        return finding


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
