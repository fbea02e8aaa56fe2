"""The rule registry.

A rule is a small function decorated with :func:`rule`: its code, severity
and fix safety, and a docstring that documents it the way ruff documents its
rules (What it does / Why / PASS / FAIL / Fix safety).  The PASS and FAIL
fragments in the docstring are real 837 claim fragments: the tests wrap them
in envelopes and run them, so the documentation cannot drift from the code.

Line rules take a :class:`~edi837.rules.context.LineContext` (one drug line in its
claim); claim rules take a :class:`~edi837.rules.context.ClaimContext` and run once
per claim that has drug lines.  Both yield findings made with ``ctx.finding``.
History rules (the HIS family, and the daily sums of UNT001/UNT002) take a
:class:`~edi837.history.stage.HistoryContext`: one claim in its patient's
history, judged in input order after the claim's own rules.
Reader rules (the EDI family) are checked while reading; they are registered
here for their documentation only.

Everything about a rule is declared where it is defined: its code (whose
letters name its family, one of :data:`FAMILIES`), severity, fix safety, its
stage (``scope``: reader, claim, line or history), for a part in the history
stage where in the stage it runs (``stage_order``), and for a claim or line
rule the claim and line fields it judges by (``reads``, names of
edi837.reader.shapes.FIELDS).  Every module of this package is loaded to fill the
registry; the engine derives the rest from it: the catalog order
(:func:`all_rules`), the history stage's rules (:func:`stage_rules`), the
claim-shape key (:func:`shape_fields`).  Adding a rule of a known family is
writing it in a module here, and nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap
from dataclasses import dataclass
from functools import cache
from typing import Callable

from ..reader.shapes import FIELDS

LINE, CLAIM, READER, HISTORY = "line", "claim", "reader", "history"


class RuleDefinitionError(ValueError):
    """A rule a contributor wrote that cannot be registered (a code taken, no family,
    no ``reads``): the message names the rule, and its module when it is known; the
    commands say so as the contributor's to fix, not as a bug in edi837."""


def where(check: Callable) -> str:
    """A check function's module and name, for messages."""
    return f"{getattr(check, '__module__', '?')}.{getattr(check, '__qualname__', '?')}"


@dataclass(slots=True, frozen=True)
class Rule:
    """A registered rule: what :func:`rule` was told, and its documentation."""

    code: str
    severity: str
    fix: str  # "safe" or "none"
    scope: str  # line, claim or reader
    check: Callable | None
    doc: str
    generic: bool = False  # also runs on drug lines whose HCPCS the table does not know
    also: str | None = None  # a second severity some of its findings take (EDI005 variants)
    stage_check: Callable | None = None  # its part in the history stage (HIS, UNT001/2, DOC001)
    by_policy: bool = False  # each finding's severity is the claim's payer policy's
    family: str = ""  # the letters of its code: one of FAMILIES
    stage_order: int | None = None  # where its stage_check runs in the history stage
    reads: tuple[str, ...] = ()  # the claim and line fields it judges by (edi837.reader.shapes)
    lasting: bool = False  # its history part runs only with a lasting history (--history)
    # other history rules build on what its part marks (HIS001: the duplicate lines no sum
    # counts; HIS003: the first doses DOC001 notes): it runs when not selected, unheard
    feeds: bool = False

    @property
    def severities(self) -> str:
        """"error", "error / warning" for a rule whose findings take either, or "by policy"
        (MOD001, NDC001: the claim's payer policy says, edi837.policy)."""
        if self.by_policy:
            return "by policy"
        return f"{self.severity} / {self.also}" if self.also else self.severity

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def examples(self) -> dict[str, list[tuple[str, str]]]:
        """PASS/FAIL fragments of the docstring: {"PASS": [(kind, text)], "FAIL": [...]}.

        A fragment starts at a line ``PASS:`` or ``FAIL (837I):`` and is the
        indented block under it.
        """
        found: dict[str, list[tuple[str, str]]] = {"PASS": [], "FAIL": []}
        lines = self.doc.splitlines()
        i = 0
        while i < len(lines):
            match = _EXAMPLE.match(lines[i].strip())
            i += 1
            if not match:
                continue
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("        ")):
                block.append(lines[i])
                i += 1
            text = textwrap.dedent("\n".join(block)).strip()
            found[match.group(1)].append((match.group(2) or "837P", text))
        return found


_EXAMPLE = re.compile(r"^(PASS|FAIL)(?: \((837[PI])\))?:$")
_WHITESPACE_ONLY = re.compile("^[ \t]+$", re.MULTILINE)  # textwrap's
REGISTRY: dict[str, Rule] = {}


def documentation(docstring: str) -> str:
    """``textwrap.dedent(docstring).strip()``, as a rule's ``doc`` is, made without
    dedent's scans of every line when they would change nothing (start-up, issue 25:
    dedenting every rule's docstring was 3% of a small check).  A docstring whose first
    line starts with text has no common margin: dedent would only empty the lines of
    spaces and tabs alone."""
    if not docstring or docstring[0] in " \t\n":
        return textwrap.dedent(docstring).strip()
    text = docstring.strip()
    if " \n" in text or "\t\n" in text:  # some line may be spaces and tabs alone
        return _WHITESPACE_ONLY.sub("", text)
    return text

# The rule families, in catalog order (the order rules are listed, documented and run
# in): a family is declared once, here, with what it is about.
FAMILIES = {
    "EDI": "reading the file",
    "NDC": "identifying the drug (loop 2410)",
    "MOD": "discarded-drug modifiers JW/JZ",
    "UNT": "billed units",
    "DX": "diagnoses",
    "ADM": "administration codes",
    "REV": "revenue codes",
    "DOS": "dates of service",
    "POS": "place of service",
    "DOC": "documentation that must be on file",
    "HIS": "patient history (across claims, files and nights)",
    "IG": "implementation-guide validation (pyx12)",
    "IGH": "pyx12: envelope errors (ISA, GS, ST)",
    "IGS": "pyx12: segment errors (999 IK3)",
    "IGE": "pyx12: element errors (999 IK4)",
}
SCOPES = (READER, CLAIM, LINE, HISTORY)


def family_of(code: str) -> str:
    """The family a code names: its letters (NDC001 -> NDC, IGH -> IGH)."""
    return code.rstrip("0123456789")


def rule(code: str, severity: str, *, fix: str = "none", scope: str = LINE,
         generic: bool = False, also: str | None = None, by_policy: bool = False,
         stage_order: int | None = None, reads: tuple[str, ...] | None = None,
         lasting: bool = False, feeds: bool = False) -> Callable:
    """Register the decorated check function as rule ``code``.  ``by_policy``: the
    rule gives each finding the severity the claim's payer policy says (``severity``
    is the most it can be).  ``scope`` is its stage: ``line`` (a LineContext),
    ``claim`` (a ClaimContext), ``history`` (a HistoryContext, in the history stage
    at ``stage_order``, which it must give; ``lasting``: only with a history that
    outlasts the run; ``feeds``: other history rules build on what it marks, so it runs
    even where it is not selected, its findings dropped: selecting rules only filters
    what is said) or ``reader`` (checked by the reader;
    registered for its documentation).  ``reads``: the claim and line fields a claim
    or line rule judges by (edi837.reader.shapes.FIELDS): a claim shaped like one it was
    silent on is not given to it again, so a field it reads and does not name here
    is a finding it may miss."""
    family = family_of(code)
    if family not in FAMILIES:
        raise RuleDefinitionError(f"rule {code}: no family {family!r} (declare it in FAMILIES)")
    if scope not in SCOPES:
        raise RuleDefinitionError(f"rule {code}: scope {scope!r} is none of {', '.join(SCOPES)}")
    if (scope == HISTORY) != (stage_order is not None):
        raise RuleDefinitionError(f"rule {code}: a history rule, and only one, gives its "
                                  "stage_order")
    if (scope in (CLAIM, LINE)) != (reads is not None):
        raise RuleDefinitionError(f"rule {code}: a claim or line rule, and only one, names the "
                         "fields it reads")
    unknown = sorted(set(reads or ()) - set(FIELDS))
    if unknown:
        raise RuleDefinitionError(f"rule {code}: no claim shape field {', '.join(unknown)} "
                         "(add it to edi837.reader.shapes.FIELDS)")

    def register(check: Callable) -> Callable:
        if code in REGISTRY:
            taken = REGISTRY[code]
            by = taken.check or taken.stage_check
            raise RuleDefinitionError(
                f"rule {code} of {where(check)}: the code {code} is taken already (by "
                f"{where(by) if by else 'a reader rule'}): give your rule a free code "
                f"(`edi837 rules` lists those in use)")
        REGISTRY[code] = Rule(code, severity, fix, scope,
                              None if scope in (READER, HISTORY) else check,
                              documentation(check.__doc__ or ""), generic, also,
                              check if scope == HISTORY else None, by_policy, family,
                              stage_order, tuple(reads or ()), lasting, feeds)
        return check
    return register


def history_part(code: str, stage_order: int, *, lasting: bool = False) -> Callable:
    """Give rule ``code`` (registered with its documentation elsewhere) a part in the
    history stage, run at ``stage_order``: DOC001 notes first-dose documentation on
    the first dose seen."""
    def register(check: Callable) -> Callable:
        from dataclasses import replace

        REGISTRY[code] = replace(REGISTRY[code], stage_check=check, stage_order=stage_order,
                                 lasting=lasting)
        return check
    return register


@cache
def _load() -> None:
    """Import every module of this package, once: each registers the rules it defines."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def all_rules() -> dict[str, Rule]:
    """Every rule, by code, in catalog order: by family (FAMILIES), then code."""
    _load()
    order = list(FAMILIES)
    return dict(sorted(REGISTRY.items(),
                       key=lambda item: (order.index(item[1].family), item[0])))


def shape_fields() -> tuple[str, ...]:
    """The claim and line fields some claim or line rule reads: a claim's shape
    (edi837.reader.shapes) is made of these."""
    read = {name for r in all_rules().values() for name in r.reads}
    return tuple(name for name in FIELDS if name in read)


def stage_rules() -> list[Rule]:
    """The rules with a part in the history stage, in the order they run there (their
    ``stage_order``): voids (HIS004) first, then duplicates (HIS001), so that the
    sums after it (UNT002, UNT001, UNT004) leave duplicates out, then the dose
    schedule (HIS002) and the first dose seen (HIS003, DOC001)."""
    return sorted((r for r in all_rules().values() if r.stage_check is not None),
                  key=lambda r: (r.stage_order, r.code))


def find_rule(code: str) -> Rule | None:
    """The rule for a code; IG family codes (IGS8, IGE7, IGHSE) find their family."""
    rules = all_rules()
    code = code.upper()
    if code in rules:
        return rules[code]
    return rules.get(code[:3]) if code[:3] in ("IGH", "IGS", "IGE") else None
