"""Which HCPCS codes make a service line a drug line, besides the drug table's codes
(and any line with a 2410 LIN): the patterns of policies.toml ``[[drug_lines]]``
(every J-code, the OPPS not-otherwise-classified code C9399, the biosimilars'
Q-codes), each with its source.

One predicate for every reader of the definition: the claim reader and its fast
path (which claims are drug claims), ``extract`` (which lines are rows), the
engine (which lines the rules check) and the NDC requirements that name "every
drug line" (``drugs = "j-codes"``).

A pattern is upper-case letters and digits, where ``?`` stands for one
character, ``[1-9]`` for one of a set, and a final ``*`` for anything that
follows: "J*", "C9399", "Q5[1-9]??".  A code is compared as the claim spells it
(case included), as the drug table's codes are.
"""
from __future__ import annotations

import re
from functools import cache

PATTERN = re.compile(r"(?:[A-Z0-9?]|\[[A-Z0-9-]+\])+\*?")


class DrugCodePatterns:
    """The drug-line code patterns, compiled once."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        bad = [p for p in patterns if not PATTERN.fullmatch(p)]
        if bad:
            raise ValueError(f"drug_lines: not a code pattern: {', '.join(map(repr, bad))}")
        self.patterns = patterns
        whole = "|".join(_regex(p, ".", ".*") for p in patterns)
        self._whole = re.compile(f"(?:{whole})") if patterns else None

    def matches(self, code: str) -> bool:
        """Whether ``code`` (a line's HCPCS) is one the patterns name."""
        return self._whole is not None and self._whole.fullmatch(code) is not None

    def prefixes(self, other: str) -> list[str]:
        """Regular expressions, one per pattern, that match the start of every code the
        pattern matches (up to its ``*``), ``?`` as any character but those of ``other``
        (a character class body of escaped delimiters): for a search in raw text."""
        return [_regex(p, f"[^{other}]", "") for p in self.patterns]


def _regex(pattern: str, one: str, rest: str) -> str:
    """A pattern (checked by PATTERN) as a regular expression: letters and digits as
    themselves, a set as it is, ``?`` as ``one`` and a final ``*`` as ``rest``."""
    out = []
    k = 0
    while k < len(pattern):
        char = pattern[k]
        if char == "[":
            close = pattern.index("]", k)
            out.append(pattern[k:close + 1])
            k = close + 1
            continue
        out.append(one if char == "?" else rest if char == "*" else char)
        k += 1
    return "".join(out)


@cache
def shipped_policy_data() -> dict:
    """policy/policies.toml as tomllib reads it, parsed once per process for both its
    readers: these patterns and the policy book (edi837.policy.book, a layer above,
    which takes it from here).  Shared: neither changes it.  What the TOML parses to is
    kept in the user's cache by the file's hash (edi837.datacache)."""
    from pathlib import Path

    from .datacache import load_parsed

    def parse(content: bytes) -> dict:
        import tomllib

        # as read_text() gave it: universal newlines
        return tomllib.loads(content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))

    return load_parsed(Path(__file__).parent / "policy" / "policies.toml", "policies", parse)


@cache
def drug_code_patterns() -> DrugCodePatterns:
    """The shipped patterns (policy/policies.toml, read as a data file: the reader sits
    below the policy package and does not import it), read once per process."""
    patterns: list[str] = []
    for entry in shipped_policy_data().get("drug_lines", []):
        patterns += [code for code in entry["codes"] if code not in patterns]
    return DrugCodePatterns(tuple(patterns))


def is_drug_code(code: str) -> bool:
    """Whether a line billing ``code`` is a drug line whatever the drug table holds."""
    return drug_code_patterns().matches(code)
