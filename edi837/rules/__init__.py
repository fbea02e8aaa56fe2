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
"""
from __future__ import annotations

import importlib
import re
import textwrap
from dataclasses import dataclass
from typing import Callable

LINE, CLAIM, READER, HISTORY = "line", "claim", "reader", "history"


@dataclass(slots=True, frozen=True)
class Rule:
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
REGISTRY: dict[str, Rule] = {}
RULE_MODULES = ("envelope", "ndc", "modifiers", "containers", "payer", "units", "mue",
                "diagnosis", "claim", "place", "dates", "docs", "history", "validation")


def rule(code: str, severity: str, *, fix: str = "none", scope: str = LINE,
         generic: bool = False, also: str | None = None, by_policy: bool = False) -> Callable:
    """Register the decorated check function as rule ``code``.  ``by_policy``: the
    rule gives each finding the severity the claim's payer policy says (``severity``
    is the most it can be)."""
    def register(check: Callable) -> Callable:
        if code in REGISTRY:
            raise ValueError(f"rule {code} registered twice")
        REGISTRY[code] = Rule(code, severity, fix, scope,
                              None if scope in (READER, HISTORY) else check,
                              textwrap.dedent(check.__doc__ or "").strip(), generic, also,
                              check if scope == HISTORY else None, by_policy)
        return check
    return register


def history_part(code: str) -> Callable:
    """Give rule ``code`` (registered with its documentation elsewhere) a part in the
    history stage: DOC001 notes first-dose documentation on the first dose seen."""
    def register(check: Callable) -> Callable:
        from dataclasses import replace

        REGISTRY[code] = replace(REGISTRY[code], stage_check=check)
        return check
    return register


def all_rules() -> dict[str, Rule]:
    """Every rule, by code, in catalog order."""
    for name in RULE_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    order = ("EDI", "NDC", "MOD", "UNT", "DX", "ADM", "REV", "DOS", "POS", "DOC", "HIS", "IG",
             "IGH", "IGS", "IGE")
    return dict(sorted(REGISTRY.items(),
                       key=lambda item: (order.index(item[0].rstrip("0123456789"))
                                         if item[0].rstrip("0123456789") in order else 99,
                                         item[0])))


def find_rule(code: str) -> Rule | None:
    """The rule for a code; IG family codes (IGS8, IGE7, IGHSE) find their family."""
    rules = all_rules()
    code = code.upper()
    if code in rules:
        return rules[code]
    return rules.get(code[:3]) if code[:3] in ("IGH", "IGS", "IGE") else None
