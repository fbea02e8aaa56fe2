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

import secrets
import time
from collections import Counter
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ..checklist import checklist_codes
from ..findings import ERROR, Finding
from .context import STAGE_MARK, HistoryContext, days_between, interval_text, shown_date, today
from .pending import FirstDoses, PendingClaim
from .records import REPLACEMENT, VOID, ClaimRecord
from .store import HistoryStore, Row

if TYPE_CHECKING:
    from ..policy import PolicyResolver

# (the context of a claim and the messages' dates: edi837.history.context, named here too
# for the rules and fix that import them from the stage)
__all__ = ["STAGE_MARK", "HistoryContext", "HistoryStage", "PendingClaim", "days_between",
           "interval_text", "new_run_id", "shown_date", "today"]

WINDOW = 64  # claims judged per query of the store (claims wait as claim objects: few)


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
        self._feeds = frozenset(r.code for r in rules if r.feeds)
        self._plans: dict[int, list] = {}
        # (payer id, SBR09) -> (profile, plan, its first-dose part): asked once a claim
        self._payers: dict[tuple[str, str, str], tuple] = {}
        self._policy_names: dict[tuple[str, str, str], str] = {}
        self._policies: PolicyResolver | None = None  # made on the first finding
        self._checklists: dict[int, dict] = {}
        self._plan_codes: dict[int, frozenset] = {}
        # a line's place of service (837P SV105) can pick another profile than its
        # claim's only where some profile names an 837P place ("837P:22")
        self._by_place = any(setting.startswith("837P:") for profile in config.profiles
                             for setting in profile.settings)
        self._severities: dict[int, dict] = {}  # by id(profile): code -> severity
        self._mixed_plans: dict[tuple, tuple] = {}  # by the profiles' ids
        self._window: list[ClaimRecord | PendingClaim] = []
        self._named: str | None = None  # the path add_claim named the store's file by
        # HCPCS -> (labeled doses, maximum units a day) of a drug in the table, None
        # for a code the table does not have (the quick path's facts, asked once a code)
        self._quick: dict[str, tuple | None] = {}
        # what the history rules derive from the drug table alone, kept for the run
        # (edi837.rules.history_doses: the codes of one molecule, a code's first-dose notes)
        self.memo: dict[str, dict] = {}
        # the first-dose rules' findings on a lone one-line claim, by what they depend on
        self.first_doses = FirstDoses()
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
        self._named = None  # (the path the store's file was last named by)

    def add(self, record: ClaimRecord) -> list[Finding]:
        """Queue a claim; returns findings when a window was judged."""
        self._name_file(record.path)
        self._window.append(record)
        return self.flush() if len(self._window) >= WINDOW else []

    def add_claim(self, claim, lines, patient: bytes, held: bool, known) -> list[Finding]:
        """Queue a claim checked in this process: its record is made only if the
        history has something to judge it against (most claims: not)."""
        path = claim.envelope.path
        if path is not self._named:
            self._name_file(path)
        window = self._window
        window.append(PendingClaim(claim, lines, patient, held, known))
        return self.flush() if len(window) >= WINDOW else []

    def _name_file(self, path: str) -> None:
        file = getattr(self.store, "_file", None)
        if file is not None and self.run_files.get(file) != path:  # (a file rolled back
            self.run_files[file] = path  # gives its id to the next)
        self._named = path if file is not None else None

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
        return self.policy_name_of(record.filing_indicator, record.payer_id, record.setting)

    def policy_name_of(self, filing_indicator: str, payer_id: str, setting: str) -> str:
        """The name of the payer policy in ``setting`` (a claim's, or a line's own)."""
        key = (filing_indicator, payer_id, setting)
        name = self._policy_names.get(key)
        if name is None:
            if self._policies is None:
                from ..policy import PolicyResolver

                self._policies = PolicyResolver(self.config, self.table)
            if len(self._policy_names) >= 4096:
                self._policy_names.clear()
            name = self._policy_names[key] = self._policies.resolve(*key).name
        return name

    def _payer(self, payer_id: str, filing_indicator: str, setting: str) -> tuple:
        """(profile, plan, the plan's first-dose rules, whether HIS003 is in the plan) of
        a payer id, SBR09 and setting (the profile `check`'s rules take)."""
        found = self._payers.get((payer_id, filing_indicator, setting))
        if found is None:
            profile = self.config.profile_for(payer_id, filing_indicator, setting)
            plan = self._plan(profile)
            if len(self._payers) >= 4096:
                self._payers.clear()
            found = self._payers[payer_id, filing_indicator, setting] = (
                profile, plan, [step for step in plan if step[0] in self._lasting],
                "HIS003" in self._codes_of(plan))
        return found

    def severities(self, profile) -> dict:
        """code -> severity of the history rules a payer profile runs."""
        found = self._severities.get(id(profile))
        if found is None:
            found = self._severities[id(profile)] = {
                code: severity for code, _, severity in self._plan(profile)}
        return found

    def _by_lines(self, record: ClaimRecord | PendingClaim, profile, plans: tuple) -> tuple:
        """(record, own, plan, first-dose plan, HIS003 in it) of a claim: ``plans`` (its
        profile's) and no ``own`` unless a line's place of service picks another profile
        (then its record, the lines' profiles and the plan of them all)."""
        if not _own_places(record):
            return (record, None, *plans)
        if isinstance(record, PendingClaim):
            record = record.record()
        own = self._line_profiles(record, profile)
        return (record, own, *(plans if own is None else self._mixed(profile, own)))

    def _line_profiles(self, record: ClaimRecord, profile) -> dict | None:
        """id(line) -> (profile, setting) of each line of ``record`` whose own setting
        (SV105) picks another payer profile than the claim's ``profile``; None: none."""
        own = {}
        for line in record.lines:
            if line.setting:
                other = self._payer(record.payer_id, record.filing_indicator, line.setting)[0]
                if other is not profile:
                    own[id(line)] = (other, line.setting)
        return own or None

    def _mixed(self, profile, own: dict) -> tuple:
        """(plan, its first-dose rules, whether HIS003 is in it) of a claim whose lines
        take other profiles (``own``): every rule one of them runs, in stage order
        (HistoryContext.finding keeps a finding only where its line's profile has it)."""
        profiles = {id(profile): profile}
        profiles.update((id(other), other) for other, _ in own.values())
        key = tuple(profiles)
        found = self._mixed_plans.get(key)
        if found is None:
            codes = set().union(*(self.severities(p) for p in profiles.values()))
            config = self.config
            plan = [(code, check, config.severity_of(code, severity, profile))
                    for code, check, severity in self._checks if code in codes]
            if len(self._mixed_plans) >= 256:
                self._mixed_plans.clear()
            found = self._mixed_plans[key] = (
                plan, [step for step in plan if step[0] in self._lasting], "HIS003" in codes)
        return found

    def _plan(self, profile) -> list:
        plan = self._plans.get(id(profile))
        if plan is None:
            config = self.config
            # a rule not selected that others build on (HIS001's duplicates, HIS003's
            # first doses) still runs, unheard (severity None: its findings dropped), so
            # that --select / --ignore only filter what is said
            plan = [(code, check, config.severity_of(code, severity, profile)
                     if config.enabled(code, profile) else None)
                    for code, check, severity in self._checks
                    if (code in self._feeds or config.enabled(code, profile))
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
            profile, plan, lasting, first_doses = payer(record.payer_id,
                                                        record.filing_indicator,
                                                        record.setting)
            own = None  # lines whose place of service picks another profile (rare)
            if self._by_place:
                record, own, plan, lasting, first_doses = self._by_lines(
                    record, profile, (plan, lasting, first_doses))
            template = None  # the key of a lone first dose (pending.FirstDoses)
            if record.patient not in rows and record.patient not in again:
                done, template = self._lone(record, plan, first_doses, values, findings)
                if done:
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
            ctx = HistoryContext(self, record, patient_rows, profile, own)
            _judge(ctx, steps, record.frequency == VOID)
            if ctx.findings:
                name = self.policy_name(record)
                for finding in ctx.findings:
                    finding.policy = finding.policy or name  # (a line's own: set)
            findings += ctx.findings
            if template is not None and alone:
                self.first_doses.learn(template, record, ctx.findings)
            if record.held or any(f.severity == ERROR for f in ctx.findings):
                continue  # held: not forwarded, so not part of the history
            removed += _taken_out(ctx.original)
            if alone:  # (no line flagged, none taken out: nothing else needs its rows)
                values.extend(_values(record))
            elif record.frequency != VOID:
                new = _new_rows(record, ctx.duplicates)
                patient_rows.extend(new)
                added.extend(new)
        self.store.write([row for row in added if not row.removed], removed, values)
        return findings

    def _lone(self, record: ClaimRecord | PendingClaim, plan: list, first_doses: bool,
              values: list[tuple], findings: list[Finding]) -> tuple[bool, tuple | None]:
        """A claim whose patient the history (and the window) has no line of: when no
        history rule can say anything of it, or the first-dose rules said it of a claim
        like it already (``first_doses``: HIS003 is in its ``plan``), its findings and
        values are added here: (True, None).  Else (False, the key its first-dose
        findings are kept by, or None): the stage's full path judges it."""
        quick = record.quick_values(self, first_doses)
        if quick is not None:
            # nothing to judge it against and nothing to say: straight into the history
            # (held: not at all)
            if not record.held:
                values.extend(quick)
            return True, None
        if not first_doses or type(record) is not PendingClaim:
            return False, None
        key = record.first_dose_key(self, plan)
        said = self.first_doses.get(key) if key is not None else None
        if said is None:
            return False, key
        notes, error = said  # what the first-dose rules said of a claim like it
        if notes:
            findings += record.noted(notes, self.policy_name(record))
        if not (record.held or error):
            values.extend(record.values())
        return True, None

    def _alone_and_clean(self, record: ClaimRecord) -> bool:
        """Whether no history rule but the first-dose ones (HIS003, DOC001's part) can
        say anything of a claim whose patient the history has no line of: most claims
        of a night (the rules' answer for them, found without building their context)."""
        if record.frequency in (REPLACEMENT, VOID):
            return False
        lines = record.lines
        if len(lines) == 1:  # the usual drug claim: one drug line
            line = lines[0]
            units = line.units
            if units is None:
                return False
            facts = self.quick_facts(line.hcpcs)
            if facts is None:
                return True
            doses, most = facts
            if doses and units not in doses:
                return False
            return line.discarded or most is None or units <= most
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

    def quick_facts(self, hcpcs: str) -> tuple | None:
        """(labeled doses, maximum units a day) of a code in the drug table; None for a
        code it does not have."""
        try:
            return self._quick[hcpcs]
        except KeyError:
            drug = self.table.drug(hcpcs)
            found = self._quick[hcpcs] = None if drug is None else (drug.labeled_doses,
                                                                     drug.max_units_per_day)
            return found

    def _codes_of(self, plan: list) -> frozenset:
        codes = self._plan_codes.get(id(plan))
        if codes is None:
            codes = self._plan_codes[id(plan)] = frozenset(code for code, _, _ in plan)
        return codes

def _judge(ctx: HistoryContext, steps: list, void: bool) -> None:
    """Run a claim's history rules in their order; a rule not selected that others build
    on (severity None: HIS001, HIS003) runs for what it marks, its findings dropped."""
    for code, check, severity in steps:
        if void and code != "HIS004":
            continue  # a void bills nothing: only whether it found its original
        ctx.rule, ctx.severity = code, severity
        if severity is None:
            said = len(ctx.findings)
            check(ctx)
            del ctx.findings[said:]
        else:
            check(ctx)


def _taken_out(rows: list[Row]) -> list[int]:
    """Mark the rows a replacement or void takes out: the ids of those in the store."""
    for row in rows:
        row.removed = True
    return [row.id for row in rows if row.id is not None]


def _own_places(record: ClaimRecord | PendingClaim) -> bool:
    """Whether a line of the claim is given at another place of service than the claim
    (837P SV105 other than CLM05-1), its record's LineRecord.setting."""
    if type(record) is PendingClaim:
        facility = record.claim.facility_code
        return any(line.place_of_service and line.place_of_service != facility
                   for line in record.lines)
    return any(line.setting for line in record.lines)


def _new_rows(record: ClaimRecord, duplicates) -> list[Row]:
    """The history rows of a forwarded claim's drug lines."""
    return [Row(None, record.patient, line.date, line.hcpcs, line.units, line.modifiers,
                line.ndc, record.billing_npi, record.payer_id, record.responsibility,
                record.claim_id, record.frequency, i in duplicates, record.original_reference)
            for i, line in enumerate(record.lines)]


def _values(record: ClaimRecord) -> list[tuple]:
    """The INSERT values of a forwarded claim's lines (no duplicates among them)."""
    head = (record.patient,)
    tail = (record.billing_npi, record.payer_id, record.responsibility, record.claim_id,
            record.frequency, record.original_reference, 0)
    return [head + (line.date, line.hcpcs, line.units_text, " ".join(line.modifiers),
                    line.ndc) + tail for line in record.lines]
