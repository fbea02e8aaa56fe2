"""The rule engine: read each file once, run the rules on each claim's drug lines.

Data flows one way: bytes -> segments -> claims -> findings.  The reader
yields one claim at a time; the engine finds its drug lines (rule catalog
definition), builds a context with what claim-level rules need (lines grouped
by drug and date, administration lines), runs the enabled rules, and keeps
only the findings and counts, so memory stays flat whatever the file size.
Each claim with drug lines then goes, as a record, to the history stage
(edi837.history), which judges it against the patient's other claims in
input order: this run's, and with a store, earlier runs'.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Collection, Iterable, Iterator, Protocol

from .checklist import CHECKLIST, MARK, checklist, checklist_codes
from .config import Config
from .extract import is_drug_line
from .files import HashingReader
from .findings import ERROR, Finding
from .history import HistoryStage, HistoryStore, PatientKeys
from .history.broken import broken_sets
from .locations import open_input
from .model import Claim, ServiceLine
from .policy import PolicyResolver
from .reader.claims import ClaimReader
from .reader.shapes import ClaimShapes
from .results import FileResult, Report
from .rules import CLAIM, LINE, all_rules, shape_fields, stage_rules
from .rules.context import ClaimContext, LineContext

DISCARDED, NOTHING_DISCARDED = "JW", "JZ"


def fast_path_wanted(fast: bool | None = None) -> bool:
    """Whether to read with the fast path: as asked, else unless $EDI837_FAST is 0
    (the full reader is the reference: tests and `--no-fast` compare against it)."""
    if fast is not None:
        return fast
    return os.environ.get("EDI837_FAST", "1").strip().lower() not in ("0", "no", "false", "off")


def sha256_of(path) -> str | None:
    import hashlib

    digest = hashlib.sha256()
    try:
        with open_input(path) as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


class ClaimSink(Protocol):
    """What a file's drug claims go to as they are checked: the run's HistoryStage, or a
    stand-in that records or drops them (batch's and fix's record sinks)."""

    @property
    def persistent(self) -> bool: ...

    @property
    def hash_first(self) -> bool: ...

    @property
    def keys(self) -> PatientKeys: ...

    def begin_file(self, sha256: str | None = None) -> None: ...

    def add_claim(self, claim: Claim, lines: list[ServiceLine], patient: bytes, held: bool,
                  known) -> list[Finding]: ...

    def end_file(self, sha256: str, *, keep: bool = True, commit: bool = True) -> list: ...


class _Checklist:
    """A claim shape's DOC000: what the DOC rules gave on its first claim, remade for
    the next claims of the shape (the same shape and LX numbers: the notes' items,
    message and value are the same; the claim's own fields are its own)."""

    __slots__ = ("severity", "message", "hcpcs", "value", "items", "line", "errors")

    def __init__(self, doc: Finding, line: int | None, errors: int) -> None:
        self.severity, self.message, self.hcpcs, self.value = (
            doc.severity, doc.message, doc.hcpcs, doc.value)
        self.items = doc.extra[MARK]
        self.line = line  # the position in claim.lines of the line dating it (None: claim)
        self.errors = errors

    @classmethod
    def of(cls, doc: Finding, notes: list[Finding], ctx: ClaimContext) -> _Checklist | None:
        """The shape's DOC000 as made from ``notes`` on ``ctx``'s claim; None when
        remaking it would not give ``doc`` on that very claim (then the DOC rules run
        on each claim of the shape, as without this)."""
        claim, first = ctx.claim, notes[0]  # the first note dates the checklist
        line: int | None = None
        if first.segment_index != claim.first_index or first.line_number is not None:
            line = next((n for n, one in enumerate(claim.lines)
                         if one.segment_index == first.segment_index), None)
            if line is None:
                return None
        errors = sum(1 for note in notes if note.severity == ERROR)
        made = cls(doc, line, errors)
        if claim.first_index is None or \
                made.finding(claim, ctx.drug_lines, ctx.policy) != doc:
            return None
        return made

    def finding(self, claim: Claim, lines: list[ServiceLine], policy) -> Finding:
        """The DOC000 of ``claim`` (its drug ``lines``), as edi837.checklist makes it."""
        env = claim.envelope
        billing = claim.billing_provider
        if self.line is None:  # ClaimContext.claim_date
            day = claim.service_date or min(filter(None, map(claim.line_date, lines)),
                                            default="")
        else:
            day = claim.line_date(claim.lines[self.line])
        return Finding(
            CHECKLIST, self.severity, self.message, env.path, claim.first_index, "CLM", "2300",
            claim.claim_id, None, self.hcpcs, self.value, env.interchange, env.group,
            env.transaction, claim.payer_id or None, None, claim.payer_name or None,
            day or None, (billing.npi or None) if billing is not None else None,
            claim.charge or None, None, None, {MARK: self.items}, claim.first_index,
            claim.last_index, policy.name if policy is not None else None)


class Engine:
    def __init__(self, table, config: Config | None = None, *, shapes: bool = True,
                 history: HistoryStore | None = None, run_id: str | None = None,
                 fast: bool | None = None) -> None:
        """``shapes``: on a claim shaped like one already checked, run only the rules
        that raised findings there (edi837.reader.shapes); off only to compare against,
        the findings are the same.  ``history``: the store the history stage
        reads and adds to; without one, the files this engine checks are one
        history of their own (a private temporary database).  ``fast``: pass
        over claims with no drug line unread (edi837.reader.fast; the same findings);
        None: on unless $EDI837_FAST is 0 (`--no-fast`)."""
        self.table = table
        self.fast = fast_path_wanted(fast)
        self.progress = None  # an edi837.progress.Progress: advanced by the bytes read
        # inputs hashed before the run (take_out_rechecked): not read again to begin them
        self.hashes: dict[str, str] = {}
        self.config = config or Config()
        self._store = history
        self._run_id = run_id
        self._stage: HistoryStage | None = None
        # path as given -> CLM segment indices of claims the history must not keep
        # whatever their findings (`check --ack277`: the sets their 999 rejects)
        self.not_forwarded: dict[str, Collection[int]] = {}
        self.policies = PolicyResolver(self.config, table)  # each claim's payer policy
        self._shapes = ClaimShapes(table, self.policies.dates(), shape_fields()) if shapes else None
        rules = all_rules()
        self.reader_rules = {code: r for code, r in rules.items() if r.check is None}
        self.line_rules = [r for r in rules.values() if r.scope == LINE and r.check]
        self.claim_rules = [r for r in rules.values() if r.scope == CLAIM and r.check]
        self._has = table.drugs.__contains__
        self._plans: dict[int, tuple[list, list, list]] = {}  # by id(profile)
        self._known_plans: dict[tuple, tuple] = {}  # by id(profile) and a shape's rules
        self._drug_codes: dict[str, bool] = {}  # is a line of this code a drug line
        self._checklists: dict[int, dict] = {}  # by id(profile)
        # a shape's DOC000, made once (_fold), by the shape's rules as ClaimShapes keeps
        # them (one frozenset a shape: its id names the shape without hashing the shape
        # again; the entry holds it, so the id is not reused), the profile and the
        # claim's LX numbers: (id(rules), id(profile), LX numbers) -> (rules, DOC000)
        self._docs: dict[tuple, tuple[frozenset[str], _Checklist | None]] = {}
        self._rest: dict[tuple, frozenset[str]] = {}  # a shape's rules, its DOC000's aside

    # -- one claim ------------------------------------------------------------------
    def _plan(self, profile, known: frozenset[str] | None = None) -> tuple[list, list, list]:
        """The enabled rules and their severities for a payer profile (the claim's, or
        for its line rules a line's whose place of service, SV105, picks another),
        computed once; with ``known``, only the rules of those codes (a shape's,
        edi837.reader.shapes)."""
        if known is not None:
            key = (id(profile), known)
            plan = self._known_plans.get(key)
            if plan is None:
                if len(self._known_plans) >= 1024:
                    self._known_plans.clear()
                plan = self._known_plans[key] = tuple(
                    [p for p in rules if p[0].code in known] for rules in self._plan(profile))
            return plan
        plan = self._plans.get(id(profile))
        if plan is None:
            config = self.config

            def enabled(rules):
                # a by-policy rule's severity is the claim policy's unless configured, and
                # a rule with a second severity (also) says which each finding takes
                return [(r, config.severity_of(
                            r.code, None if r.by_policy or r.also else r.severity, profile))
                        for r in rules if config.enabled(r.code, profile)]

            line_rules = enabled(self.line_rules)
            plan = (enabled(self.claim_rules), line_rules,
                    [(r, sev) for r, sev in line_rules if r.generic])
            self._plans[id(profile)] = plan
        return plan

    # -- the history stage ---------------------------------------------------------------
    @property
    def history(self) -> HistoryStage:
        """The history stage of this engine's run (made on first use)."""
        if self._stage is None:
            self._stage = self.new_history(self._store)
        return self._stage

    def new_history(self, store: HistoryStore | None = None) -> HistoryStage:
        """A history stage on ``store``, or on a private history of its own (to check
        a file apart from the run, as `fix` re-checks what it wrote)."""
        return HistoryStage(store or HistoryStore.ephemeral(), self.table, self.config,
                            rules=stage_rules(), run_id=self._run_id)

    def take_out_rechecked(self, paths) -> None:
        """Files checked before come out of the lasting history before any is judged
        again: each input hashed here (kept for its check, not read again for it)."""
        self.hashes = {str(path): sha for path in paths if (sha := sha256_of(path)) is not None}
        self.history.store.take_out_rechecked(self.hashes.values())

    def close(self) -> None:
        """Close the run's private history (a given store is the caller's to close)."""
        if self._stage is not None and self._store is None:
            self._stage.store.close()
        self._stage = None

    # -- one claim ------------------------------------------------------------------
    def check_claim(self, claim: Claim, findings: list[Finding], *,
                    first_doses_in_history: bool = False) -> tuple[list[ServiceLine], int]:
        """Run the rules on a claim: (its drug lines, the error findings raised)."""
        # the drug lines (is_drug_line), with the verdict on a code without a LIN kept
        drug_codes = self._drug_codes
        lines = []
        for line in claim.lines:
            if line.drug is None:
                code = line.procedure
                drug = drug_codes.get(code)
                if drug is None:
                    if len(drug_codes) >= 4096:
                        drug_codes.clear()
                    drug = drug_codes[code] = is_drug_line(line, self._has)
                if not drug:
                    continue
            lines.append(line)
        if not lines:
            return lines, 0
        policy = self.policies.for_claim(claim)
        profile = policy.profile
        checklist = self._checklists.get(id(profile))
        if checklist is None:
            checklist = self._checklists[id(profile)] = checklist_codes(self.config, profile)
        shapes = self._shapes
        fired = numbers = None  # numbers: the claim's LX numbers, when its DOC000 is kept
        scope: frozenset[str] | None = None  # the rules a known shape runs (None: all)
        errors = 0
        if shapes is not None:
            shape = (first_doses_in_history, shapes.shape(claim, policy))
            known = shapes.fired(shape)
            if known is not None:  # the same shape raised findings from these rules only
                if not known:
                    return lines, 0
                rest = known
                if checklist and not checklist.keys().isdisjoint(known):
                    numbers = tuple([line.number for line in claim.lines])
                    made = self._docs.get((id(known), id(profile), numbers))
                    if made is not None and made[0] is known:
                        numbers = None
                        if made[1] is not None:  # its DOC000, its DOC rules not run
                            findings.append(made[1].finding(claim, lines, policy))
                            errors = made[1].errors
                            rest = self._without_checklist(profile, known, checklist)
                            if not rest:
                                return lines, errors
                        # else not one to remake: its DOC rules run each time
                scope = rest
                claim_rules, line_rules, generic_rules = self._plan(profile, rest)
            else:
                claim_rules, line_rules, generic_rules = self._plan(profile)
                fired = set()
                if checklist:
                    numbers = tuple([line.number for line in claim.lines])
        else:
            claim_rules, line_rules, generic_rules = self._plan(profile)
        start = len(findings)
        ctx = ClaimContext(claim, self.table, profile, lines, findings,
                           first_doses_in_history=first_doses_in_history, policy=policy,
                           checklist=checklist)
        self._apply(ctx, claim_rules, ctx, fired)
        table_drug = self.table.drug
        for line in lines:
            drug = table_drug(line.procedure)
            target = LineContext(ctx, line, drug)
            own = target.policy  # the claim's, unless SV105 names another place (policy_of)
            if own is policy or own is None or own.profile is profile:
                self._apply(ctx, line_rules if drug is not None else generic_rules, target,
                            fired)
            else:  # its place picks another payer profile: that profile's rules, severities
                target.profile = own.profile
                plan = self._plan(own.profile, scope)
                self._apply(ctx, plan[1] if drug is not None else plan[2], target, fired)
        if fired is not None:
            known = frozenset(fired)
            shapes.remember(shape, known)
        if checklist and len(findings) > start:
            self._fold(ctx, start, None if numbers is None else (known, numbers))
        return lines, ctx.errors + errors

    def _without_checklist(self, profile, known: frozenset[str], codes: dict) -> frozenset[str]:
        """A shape's rules but those whose notes its DOC000 (made once) holds."""
        key = (id(profile), known)
        rest = self._rest.get(key)
        if rest is None:
            if len(self._rest) >= 1024:
                self._rest.clear()
            rest = self._rest[key] = known.difference(codes)
        return rest

    def _fold(self, ctx: ClaimContext, start: int,
              memo: tuple[frozenset[str], tuple[str, ...]] | None) -> None:
        """The claim's DOC notes (edi837.checklist) as its one DOC000, made here rather
        than in the file's store; with ``memo`` (its shape's rules and its LX numbers),
        kept for the next claims of the shape, which then do not run the DOC rules."""
        findings, codes = ctx.findings, ctx.checklist
        notes = [f for f in findings[start:] if f.rule in codes and MARK in f.extra]
        if not notes:
            return
        if len(notes) > 1:
            notes.sort(key=Finding.sort_key)
        kept = [f for f in findings[start:] if not (f.rule in codes and MARK in f.extra)]
        doc = checklist(notes)
        del findings[start:]
        findings.extend(kept)
        findings.append(doc)
        if memo is not None:
            if len(self._docs) >= 4096:
                self._docs.clear()
            known, numbers = memo
            self._docs[(id(known), id(ctx.profile), numbers)] = (
                known, _Checklist.of(doc, notes, ctx))

    def _reader_error(self, finding: Finding) -> bool:
        """Whether a reader finding is an error once the configuration applies."""
        config = self.config
        return config.enabled(finding.rule) and \
            config.severity.get(finding.rule, finding.severity) == ERROR

    @staticmethod
    def _apply(ctx: ClaimContext, rules, target, fired: set[str] | None) -> None:
        """Run ``rules`` on ``target`` (the claim or one of its lines); on a new
        shape (``fired`` given), note the codes of the rules that raise something."""
        findings = ctx.findings
        for rule, severity in rules:
            ctx.rule, ctx.severity = rule, severity
            if fired is None:
                rule.check(target)
                continue
            before = len(findings)
            rule.check(target)
            if len(findings) != before:
                fired.add(rule.code)

    # -- one file -------------------------------------------------------------------
    def check_file(self, path: str | Path, *, history: ClaimSink | None = None,
                   piece=None) -> FileResult:
        """Check one file; its claims join ``history`` (default: this engine's run).

        ``piece``: check only a piece of the file (edi837.parallel), read through
        ``piece.open()`` by ``piece.reader(path, stream)``; findings keep the file's
        segment indices, and the file-wide (envelope) findings are the caller's."""
        result = FileResult(str(path))
        findings = result.findings
        try:
            raw = open_input(path) if piece is None else piece.open()
        except OSError as exc:
            findings.extend(self._reader_findings([Finding(
                "EDI001", ERROR, f"cannot read file: {exc.strerror or exc}", str(path))]))
            result.status = "unreadable"
            return result
        stage = history or self.history
        persistent = stage.persistent
        keys = stage.keys
        known = self.table.drugs.__contains__
        skip = self.not_forwarded.get(str(path), ())
        with raw:
            stream = HashingReader(raw if self.progress is None else self.progress.reading(raw))
            if piece is None:
                reader = ClaimReader(path, stream, drug_codes=self.table.drugs, fast=self.fast)
            else:  # a piece's own reader (edi837.parallel), judging drug claims as this one
                reader = piece.reader(path, stream)
                reader.drug_codes = self.table.drugs
            read_so_far = 0  # reader findings already tied to a claim
            claim = None
            # a file checked again against a lasting history replaces what it added
            # before: that needs its hash before its first claim
            stage.begin_file((self.hashes.pop(str(path), None) or sha256_of(path))
                             if stage.hash_first else None)
            try:
                for claim in reader.claims():
                    # the claim's findings as a list: the shapes count what each rule
                    # added, and the store folds a claim's DOC notes as they come in
                    found: list[Finding] = []
                    lines, errors = self.check_claim(claim, found,
                                                     first_doses_in_history=persistent)
                    if found:
                        findings.extend(found)
                    for finding in reader.findings[read_so_far:]:
                        # the claim's own, or its HL levels' said with it (README: a
                        # held claim is in every format, with its context); an HL's
                        # place in the hierarchy is the file's structure, said at once
                        # by every reader (the fast path's, a piece's): no claim's
                        if finding.claim_first is None and (
                                finding.claim_id is not None or finding.segment != "HL" and any(
                                    finding is above for above in claim.context_findings)):
                            finding.take_claim(claim, lines, self._policy_name(claim, lines))
                            errors += self._reader_error(finding)
                    read_so_far = len(reader.findings)
                    if lines:
                        result.drug_lines += len(lines)
                        result.payer_ids.add(claim.payer_id)
                        held = errors > 0 or any(map(self._reader_error,
                                                     claim.context_findings)) \
                            or claim.clm_index in skip
                        findings.extend(stage.add_claim(claim, lines, keys.of_claim(claim),
                                                        held, known))
            except Exception as exc:  # one file's bug must not stop a batch
                reader.unreadable = True
                where = f" after claim {claim.claim_id}" if claim is not None else ""
                reader.findings.append(Finding(
                    "EDI008", ERROR, f"edi837 failed while reading this file{where}: "
                    f"{type(exc).__name__}: {exc} (a bug in edi837: please report it)",
                    str(path), segment_index=claim.last_index if claim is not None else None))
            result.claims = reader.claim_count  # the fast path yields only some of them
            result.sha256 = stream.finish()  # also hashes what a stopped reader left
            # an unreadable file forwards nothing: its lines leave the history again; nor
            # does a set a 999 rejects (edi837.history.broken): the file's lines leave too
            result.broken_sets = broken_sets(reader.findings)
            findings.extend(stage.end_file(result.sha256, keep=not (reader.unreadable or
                                                                     result.broken_sets)))
        result.size = stream.size
        result.transactions = reader.transactions
        result.submitters = reader.submitters
        findings.extend(self._reader_findings(reader.findings))
        if reader.unreadable:
            result.status = "unreadable"
        result.settle_status()
        return result

    def _policy_name(self, claim: Claim, lines: list[ServiceLine]) -> str | None:
        """The payer policy a drug claim is judged by (None for no drug claim)."""
        return self.policies.for_claim(claim).name if lines else None

    def held_records(self, records: Iterable, path: str) -> Iterator:
        """Records of ``path`` checked elsewhere (edi837.parallel), those of
        :attr:`not_forwarded` held."""
        skip = self.not_forwarded.get(path, ())
        for record in records:
            if record.clm_index in skip:
                record.held = True
            yield record

    def _reader_findings(self, found: list[Finding]) -> list[Finding]:
        """The reader's own (EDI) findings, with select/ignore/severity applied."""
        config = self.config
        kept = []
        for finding in found:
            if finding.rule in self.reader_rules:
                if not config.enabled(finding.rule):
                    continue
                finding.severity = config.severity.get(finding.rule, finding.severity)
            kept.append(finding)
        return kept

    def run(self, paths: Iterable[str | Path]) -> Report:
        """One run over ``paths``: a history of its own files (and the store's, when
        the engine was given one), whatever earlier runs of this engine saw."""
        self.close()
        report = Report([], self.table.version, config_source=self.config.source,
                        reference_data=self.table.reference_data())
        for path in paths:
            report.files.append(self.check_file(path))
        report.finished = time.time()
        report.reference_data["history"] = self.history_facts()
        return report

    def history_facts(self) -> dict:
        """Which patient history a run judged by (for reports' reference data): the
        store, or this run's own files; never a patient (nor the run id: the same
        files give the same report)."""
        store = self.history.store
        facts = {"store": store.where if store.persistent else None,
                 "lasting": store.persistent}
        if store.persistent:
            facts["key_fingerprint"] = store.fingerprint
        return facts
