"""The run's figures, computed once and printed by every format: findings by
severity and rule, claims with findings, and the charges held, by rule, by
payer and by file.

A claim is *held* when it has at least one error finding: it would be
returned or denied as billed, so its whole charge (CLM02) waits on a person.
Charges held is the sum of CLM02 over held claims, each claim once, so the
payers' and the files' amounts add up to the total.  A rule's amount is the
CLM02 of the claims where that rule raised an error: a claim held by two rules
counts under both, so the rules' amounts overlap and add up to more.

Reusable outside the reports (the batch summary): feed
:class:`FigureCounter` the :class:`~edi837.engine.FileResult` of each file,
or keep each file's :meth:`Figures.as_dict` and total them later with
:meth:`Figures.merged` (a claim never spans files, so every figure adds).
Memory holds one claim's state and the per-rule, per-payer and per-file
totals, never the findings.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Iterator

from ..findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from ..model import parse_decimal
from ..x12.reader import display

CENT = Decimal("0.01")
_ZERO = Decimal(0)
_TRAILERS = ("SE", "GE", "IEA")  # their counts and control numbers hold no claim (rebuilt)
NO_PAYER = ""  # the payer key of claims without a 2010BB payer id


def money(amount: Decimal) -> str:
    """Plain, for machines (CSV, JSON, XML): 700500.00."""
    return str(amount.quantize(CENT))


def dollars(amount: Decimal) -> str:
    """For people: $700,500.00."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount.quantize(CENT)):,.2f}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 file', '2 files', '1,000 claims'."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def amount_of(value: str | None) -> Decimal | None:
    """A charge as written in the EDI, or None when it is not an X12 number (inf, 1e309,
    26 digits: EDI007 reports those and the totals leave them out)."""
    return parse_decimal(value)


def worst(severities: Iterable[str]) -> str | None:
    """The most severe of ``severities`` (error > warning > info), None if empty."""
    present = set(severities)
    return next((s for s in SEVERITIES if s in present), None)


# -- the figures -----------------------------------------------------------------------
@dataclass(slots=True)
class Held:
    """Claims held and their charges (CLM02, each claim once)."""

    claims: int = 0
    charges: Decimal = Decimal(0)

    def add(self, charge: Decimal | None) -> None:
        self.claims += 1
        self.charges += charge or 0

    def merge(self, other: "Held") -> None:
        self.claims += other.claims
        self.charges += other.charges

    def as_dict(self, suffix: str = "") -> dict:
        return {"claims_held" + suffix: self.claims,
                "charges_held" + suffix: float(money(self.charges))}


@dataclass(slots=True)
class RuleFigures:
    rule: str
    counts: Counter = field(default_factory=Counter)  # severity -> findings
    claims: int = 0  # claims where the rule fired, at any severity
    held: Held = field(default_factory=Held)  # claims where it raised an error
    lines: int = 0  # service lines with an error of this rule (the per-line view, XML)
    line_charges: Decimal = Decimal(0)

    errors = property(lambda self: self.counts[ERROR])
    warnings = property(lambda self: self.counts[WARNING])
    infos = property(lambda self: self.counts[INFO])

    @property
    def findings(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: "RuleFigures") -> None:
        self.counts.update(other.counts)
        self.claims += other.claims
        self.held.merge(other.held)
        self.lines += other.lines
        self.line_charges += other.line_charges

    def as_dict(self) -> dict:
        return {"rule": self.rule, "errors": self.errors, "warnings": self.warnings,
                "infos": self.infos, "claims": self.claims, **self.held.as_dict()}


@dataclass(slots=True)
class PayerFigures:
    """A payer, grouped by its id: the name (free text in 2010BB NM103) is the
    first one seen for the id."""

    payer_id: str
    name: str = ""
    counts: Counter = field(default_factory=Counter)  # severity -> findings
    claims: int = 0  # claims with findings
    held: Held = field(default_factory=Held)
    rules: dict[str, Held] = field(default_factory=dict)  # rule -> its held claims here
    lines: int = 0  # the per-line view (XML): service lines with an error
    line_charges: Decimal = Decimal(0)

    def top_rules(self) -> list[tuple[str, Held]]:
        """The rules holding this payer's claims, largest charges first."""
        return sorted(self.rules.items(), key=lambda item: (-item[1].charges, item[0]))

    def merge(self, other: "PayerFigures") -> None:
        self.name = self.name or other.name
        self.counts.update(other.counts)
        self.claims += other.claims
        self.held.merge(other.held)
        for rule, held in other.rules.items():
            self.rules.setdefault(rule, Held()).merge(held)
        self.lines += other.lines
        self.line_charges += other.line_charges

    def as_dict(self) -> dict:
        return {"payer_id": display(self.payer_id) or None,
                "payer_name": display(self.name) or None,
                "errors": self.counts[ERROR], "warnings": self.counts[WARNING],
                "infos": self.counts[INFO], "claims": self.claims, **self.held.as_dict(),
                "rules": [{"rule": rule, **held.as_dict()} for rule, held in self.top_rules()]}


@dataclass(slots=True)
class FileFigures:
    path: str
    status: str
    counts: Counter = field(default_factory=Counter)
    claims: int = 0  # claims with findings
    held: Held = field(default_factory=Held)
    outside_errors: int = 0  # errors outside any claim that may hold claims (not trailers')
    # claims only such errors hold (an interchange's, an HL loop's), when the report can
    # say (Report.held_outside_of, set by the commands that route claims): not in held
    held_outside: Held = field(default_factory=Held)


@dataclass(slots=True)
class Figures:
    summary: dict  # files, claims, drug_lines, errors, warnings, infos (Report.summary())
    files_ok: int  # files whose findings are at most infos
    claims_with_findings: int
    claims_by_worst: Counter  # worst severity of a claim's findings -> claims
    held: Held
    held_without_charge: int  # held claims whose CLM02 is missing or not a number
    rules: list[RuleFigures]  # catalog order
    payers: list[PayerFigures]  # largest charges held first
    files: list[FileFigures]  # in the report's order
    at_risk: Decimal = Decimal(0)  # line charges of service lines with an error (XML)
    at_risk_lines: int = 0
    held_outside: Held = field(default_factory=Held)  # the files' (FileFigures.held_outside)

    @property
    def findings(self) -> int:
        return sum(self.summary[key] for key in ("errors", "warnings", "infos"))

    def rule(self, code: str) -> RuleFigures | None:
        return next((r for r in self.rules if r.rule == code), None)

    def as_dict(self) -> dict:
        """The JSON report's summary (schemas/report.schema.json), and what a batch
        keeps per file to total later with :meth:`merged`."""
        return {**self.summary, "files_ok": self.files_ok,
                "claims_with_findings": self.claims_with_findings, **self.held.as_dict(),
                # claims no error of their own holds, one above them does (text: "and 2
                # claims, ..., held by an error on the ... HL loop above them")
                **self.held_outside.as_dict("_above"),
                "held_claims_without_charge": self.held_without_charge,
                "by_rule": [r.as_dict() for r in self.rules],
                "by_payer": [p.as_dict() for p in self.payers]}

    @classmethod
    def from_dict(cls, data: dict) -> "Figures":
        """Figures from :meth:`as_dict` (a JSON report's summary), to merge."""
        def held(d: dict) -> Held:
            return Held(d["claims_held"], Decimal(str(d["charges_held"])))

        def counts(d: dict) -> Counter:
            return Counter({s: d[s + "s"] for s in SEVERITIES if d[s + "s"]})

        rules = [RuleFigures(r["rule"], counts(r), r["claims"], held(r)) for r in data["by_rule"]]
        payers = [PayerFigures(p["payer_id"] or NO_PAYER, p["payer_name"] or "", counts(p),
                               p["claims"], held(p), {r["rule"]: held(r) for r in p["rules"]})
                  for p in data["by_payer"]]
        summary = {key: data[key] for key in ("files", "claims", "drug_lines", "errors",
                                              "warnings", "infos")}
        above = Held(data.get("claims_held_above", 0),
                     Decimal(str(data.get("charges_held_above", 0))))
        return cls(summary, data["files_ok"], data["claims_with_findings"], Counter(),
                   held(data), data["held_claims_without_charge"], rules, payers, [],
                   held_outside=above)

    @classmethod
    def merged(cls, parts: Iterable["Figures"]) -> "Figures":
        """The figures of several runs or files together (every figure adds)."""
        total = cls(Counter(), 0, 0, Counter(), Held(), 0, [], [], [])
        rules: dict[str, RuleFigures] = {}
        payers: dict[str, PayerFigures] = {}
        for part in parts:
            total.summary.update(part.summary)
            total.files_ok += part.files_ok
            total.claims_with_findings += part.claims_with_findings
            total.claims_by_worst.update(part.claims_by_worst)
            total.held.merge(part.held)
            total.held_without_charge += part.held_without_charge
            total.files.extend(part.files)
            total.at_risk += part.at_risk
            total.at_risk_lines += part.at_risk_lines
            for rule in part.rules:
                rules.setdefault(rule.rule, RuleFigures(rule.rule)).merge(rule)
            for payer in part.payers:
                payers.setdefault(payer.payer_id, PayerFigures(payer.payer_id)).merge(payer)
        total.summary = {key: total.summary[key] for key in ("files", "claims", "drug_lines",
                                                             "errors", "warnings", "infos")}
        total.rules = [rules[code] for code in sorted(rules, key=rule_order)]
        total.payers = sorted(payers.values(), key=_payer_order)
        return total


def rule_order(code: str) -> tuple:
    """Catalog order of rule codes (EDI, IG, NDC, MOD, ...)."""
    order = ("EDI", "IG", "NDC", "MOD", "UNT", "DX", "HIS", "ADM", "REV", "DOS", "POS", "DOC")
    prefix = "IG" if code.startswith("IG") else code.rstrip("0123456789")
    return (order.index(prefix) if prefix in order else len(order), code)


def _payer_order(payer: PayerFigures) -> tuple:
    return (-payer.held.charges, -payer.claims, payer.payer_id)


# -- counting ------------------------------------------------------------------------
def line_key(finding: Finding) -> tuple:
    """One service line: the SV1/SV2 segment, else its claim and LX."""
    index = finding.extra.get("line_index")
    if index is None and finding.segment in ("SV1", "SV2"):
        index = finding.segment_index
    if index is not None:
        return (finding.path, index)
    return (finding.path, finding.interchange, finding.group, finding.transaction,
            finding.claim_id, finding.line_number)


class _Claim:
    """What the counter knows of the claim whose findings it is reading."""

    __slots__ = ("payer_id", "payer_name", "charge", "counts", "rules", "error_rules",
                 "lines", "rule_lines", "line_charges")

    def __init__(self) -> None:
        self.payer_id: str | None = None
        self.payer_name: str | None = None
        self.charge: str | None = None
        self.counts: dict[str, int] = {}  # severity -> findings
        self.rules: set[str] = set()
        self.error_rules: set[str] = set()
        self.lines: set[tuple] = set()  # charged lines with an error (the per-line view)
        self.rule_lines: set[tuple] = set()
        self.line_charges = _ZERO

    def add(self, finding: Finding) -> None:
        self.payer_id = self.payer_id or finding.payer_id
        self.payer_name = self.payer_name or finding.payer_name
        self.charge = self.charge or finding.claim_charge
        counts = self.counts
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
        self.rules.add(finding.rule)
        if finding.severity == ERROR:
            self.error_rules.add(finding.rule)


class FigureCounter:
    """Counts findings into :class:`Figures`, one file at a time.

    A file's findings come in file order, and a claim's findings are together
    (they lie between its CLM and its last segment), so a claim is complete
    when the next claim's (or a file-level) finding arrives.  Claims are told
    apart as the claim views do (common.claim_groups), so the HTML work list
    and these counts agree claim for claim.
    """

    def __init__(self, held_outside_of: Callable | None = None) -> None:
        # the CLM02s of a file's claims only errors outside any claim hold (a command's)
        self.held_outside_of = held_outside_of
        self._summary: Counter[str] = Counter()
        self._files: list[FileFigures] = []
        self._files_ok = 0
        self._rules: dict[str, RuleFigures] = {}
        self._payers: dict[str, PayerFigures] = {}
        self._claims = 0
        self._by_worst: Counter[str | None] = Counter()
        self._held = Held()
        self._without_charge = 0
        self._at_risk, self._at_risk_lines = Decimal(0), 0

    def add_file(self, result) -> FileFigures:
        """Count one :class:`~edi837.engine.FileResult` (its findings are read once)."""
        for _ in self.counted(result):
            pass
        return self._files[-1]

    def counted(self, result) -> Iterator[Finding]:
        """The findings of ``result``, each counted as it is yielded: a report that
        writes them counts its figures in the same pass (complete at the end)."""
        figures = FileFigures(result.path, result.status)
        self._files.append(figures)
        self._summary.update(files=1, claims=result.claims, drug_lines=result.drug_lines)
        key, last, claim = None, -1, None  # the claim being read: CLM index, last segment
        rules = self._rules
        counts: dict[tuple, int] = {}  # (rule, severity) -> findings of this file
        for finding in result.findings:
            yield finding
            severity = finding.severity
            pair = (finding.rule, severity)
            counts[pair] = counts.get(pair, 0) + 1
            rule = rules.get(finding.rule)
            if rule is None:
                rule = rules[finding.rule] = RuleFigures(finding.rule)
            if finding.claim_first is not None and severity == ERROR and \
                    (finding.segment_index or 0) < finding.claim_first:
                figures.outside_errors += 1  # an HL level's: it may hold more claims
            if finding.claim_first is None:
                if finding.segment_index is None:
                    continue  # about the whole file (it cannot be read): in no claim
                if severity == ERROR and finding.segment not in _TRAILERS:
                    figures.outside_errors += 1
                if claim is None or finding.segment_index > last:
                    if claim is not None:  # a finding outside any claim (envelopes)
                        self._close(claim, figures)
                    key, claim = None, None
                    continue
                # else: inside the claim's segments without its CLM index: the claim's
            elif finding.claim_first != key:
                if claim is not None:
                    self._close(claim, figures)
                key, last, claim = finding.claim_first, finding.claim_last or -1, _Claim()
            assert claim is not None  # (a finding outside any claim went on above)
            claim.add(finding)
            if severity == ERROR:
                self._line(claim, rule, finding)
        if claim is not None:
            self._close(claim, figures)
        for (code, severity), count in counts.items():  # counted once per file
            figures.counts[severity] += count
            rules[code].counts[severity] += count
        if worst(s for s, n in figures.counts.items() if n) in (None, INFO) and \
                result.status != "unreadable":
            self._files_ok += 1
        if figures.outside_errors and self.held_outside_of is not None and \
                result.status != "unreadable":  # (the file walked again)
            for charge in self.held_outside_of(result):
                figures.held_outside.add(amount_of(charge))

    def _payer(self, claim: _Claim) -> PayerFigures:
        payer_id = claim.payer_id or NO_PAYER
        payer = self._payers.get(payer_id)
        if payer is None:
            payer = self._payers[payer_id] = PayerFigures(payer_id)
        payer.name = payer.name or claim.payer_name or ""  # the first name seen for the id
        return payer

    def _line(self, claim: _Claim, rule: RuleFigures, finding: Finding) -> None:
        """The per-line view (charges of service lines with errors), kept for XML."""
        amount = amount_of(finding.charge)
        if amount is None:
            return
        key = line_key(finding)
        if key not in claim.lines:
            claim.lines.add(key)
            claim.line_charges += amount
            self._at_risk += amount
            self._at_risk_lines += 1
        if (finding.rule, key) not in claim.rule_lines:
            claim.rule_lines.add((finding.rule, key))
            rule.line_charges += amount
            rule.lines += 1

    def _close(self, claim: _Claim, file: FileFigures) -> None:
        self._claims += 1
        file.claims += 1
        counts = claim.counts
        self._by_worst[ERROR if ERROR in counts else WARNING if WARNING in counts
                       else INFO if INFO in counts else None] += 1  # worst(counts)
        payer = self._payer(claim)
        payer.claims += 1
        payer_counts = payer.counts
        for severity, count in counts.items():  # (Counter.update: Python code, per claim)
            payer_counts[severity] += count
        if claim.lines:
            payer.lines += len(claim.lines)
            payer.line_charges += claim.line_charges
        for code in claim.rules:
            self._rules[code].claims += 1
        if not claim.error_rules:
            return
        charge = amount_of(claim.charge)
        if charge is None:
            self._without_charge += 1
        self._held.add(charge)
        file.held.add(charge)
        payer.held.add(charge)
        for code in claim.error_rules:
            self._rules[code].held.add(charge)
            payer.rules.setdefault(code, Held()).add(charge)

    def figures(self) -> Figures:
        files = len(self._files)
        summary = {"files": files, "claims": self._summary["claims"],
                   "drug_lines": self._summary["drug_lines"]}
        totals: Counter[str] = Counter()
        for file in self._files:
            totals.update(file.counts)
        summary.update(errors=totals[ERROR], warnings=totals[WARNING], infos=totals[INFO])
        payers = list(self._payers.values())
        held_outside = Held()
        for file in self._files:
            held_outside.merge(file.held_outside)
        return Figures(
            held_outside=held_outside,
            summary=summary, files_ok=self._files_ok, claims_with_findings=self._claims,
            claims_by_worst=self._by_worst, held=self._held,
            held_without_charge=self._without_charge,
            rules=[self._rules[code] for code in sorted(self._rules, key=rule_order)],
            payers=sorted(payers, key=_payer_order), files=self._files,
            at_risk=self._at_risk, at_risk_lines=self._at_risk_lines)


def figures(report) -> Figures:
    """The figures of a :class:`~edi837.engine.Report`: one pass over its findings,
    once per report (every format, the summary line and the API ask for them)."""
    numbers = counted(report)
    if numbers is None:
        counter = FigureCounter(getattr(report, "held_outside_of", None))
        for result in report.files:
            counter.add_file(result)
        numbers = counter.figures()
        remember(report, numbers)
    return numbers


def _key(report) -> tuple | None:
    """What a report's figures depend on; None when a change could go unseen
    (findings in a plain list rather than a store, which has a version)."""
    key = []
    for result in report.files:
        found = result.findings
        version = getattr(found, "version", None)
        if version is None:
            return None
        key.append((id(result), result.path, result.status, result.claims,
                    result.drug_lines, id(found), version))
    return tuple(key)


def counted(report) -> Figures | None:
    """The report's figures when they were counted and nothing changed since."""
    held = getattr(report, "_figures", None)
    if held is None or held[0] is None or held[0] != _key(report):
        return None
    return held[1]


def remember(report, numbers: Figures) -> None:
    """Keep ``numbers`` as the report's figures (counted by a pass that is over)."""
    if hasattr(report, "_figures"):
        report._figures = (_key(report), numbers)
