"""Where a drug table's problem is, and what it is, in plain words.

tomllib gives a line only for a syntax error; a table that parses but breaks the
schema (or a consistency check) names a field path (``drugs.J1300.ndcs[0].ndc``).
:func:`line_of` finds that path's line in the TOML text by reading its table
headers and keys (the nearest enclosing key or table that has a line of its own:
an element of a one-line array is its key's line); :func:`plain` says a jsonschema
error as a person would, not as the schema's regular expression.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_NAME = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_NAME}(?:\s*\.\s*{_NAME})*)\s*=")
_PART = re.compile(_NAME)

# a pattern of the schema without a description of its own, in words
_PATTERNS = {
    "^[0-9]{11}$": "11 digits (an NDC in 5-4-2 form, no hyphens: 50242015001)",
    "^[A-Z0-9]{2}$": "two capital letters or digits",
    "^[0-9]{5}$": "5 digits",
    "^[0-9]{2}$": "2 digits",
    "^[0-9]{4}$": "4 digits (0636)",
    "^[A-Z]{2,3}$": "2 or 3 capital letters",
    "^[A-Z][0-9]{4}$": "a capital letter and four digits (J2350)",
    "^[0-9A-Z]{5}$": "five capital letters or digits",
}
_TYPES = {"string": "text in quotes", "number": "a number", "integer": "a whole number",
          "array": "a list [...]", "object": "a table", "boolean": "true or false"}


def _parts(dotted: str) -> list[str]:
    return [p[1:-1] if p[:1] in "\"'" else p for p in _PART.findall(dotted)]


def lines_of(text: str) -> dict[tuple, int]:
    """Every table and key path of ``text`` with its 1-based line number (arrays of
    tables counted: ``("drugs", "J1300", "ndcs", 0, "ndc")``)."""
    found: dict[tuple, int] = {}
    counts: dict[tuple, int] = {}
    prefix: tuple = ()
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            path = tuple(_parts(header.group(2)))
            if header.group(1) == "[[":
                # an array of tables inside an element of another: counted per element
                index = counts[path] = counts.get(path, -1) + 1
                base = _resolve(path[:-1], counts)
                prefix = (*base, path[-1], index)
                found.setdefault((*base, path[-1]), number)
            else:
                prefix = _resolve(path, counts)
            for end in range(1, len(prefix) + 1):  # [drugs.J1300]: drugs too
                found.setdefault(prefix[:end], number)
            continue
        key = _KEY.match(line)
        if key:
            found.setdefault((*prefix, *_parts(key.group(1))), number)
    return found


def _resolve(path: tuple, counts: dict[tuple, int]) -> tuple:
    """A header's path with the current element of each array of tables in it."""
    resolved: list = []
    for i, part in enumerate(path):
        resolved.append(part)
        if path[:i + 1] in counts:
            resolved.append(counts[path[:i + 1]])
    return tuple(resolved)


def line_of(text: str, path: Sequence[Any], lines: dict[tuple, int] | None = None) -> int | None:
    """The line of ``path`` (its nearest enclosing key or table that has one)."""
    lines = lines_of(text) if lines is None else lines
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def dotted_parts(field: str) -> list:
    """``drugs.J1300.ndcs[0].ndc`` -> ["drugs", "J1300", "ndcs", 0, "ndc"]."""
    return [int(p[1:-1]) if p.startswith("[") else p
            for p in re.findall(r"\[\d+\]|[^.\[\]]+", field)]


def plain(error: Any) -> str:
    """A jsonschema error in plain words."""
    kind, value, schema = error.validator, error.instance, error.schema
    if kind == "pattern":
        what = _PATTERNS.get(error.validator_value) or schema.get("description")
        if what:
            return f"{value!r} is not of the form this field takes: {what.rstrip('.')}"
    if kind == "propertyNames" and isinstance(error.validator_value, dict):
        pattern = error.validator_value.get("pattern", "")
        return (f"a key here is not {_PATTERNS.get(pattern, f'of the form {pattern}')}: "
                f"{error.message.split(' does not match')[0]}")
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{missing} is missing: this table needs it"
    if kind == "additionalProperties":
        unexpected = re.findall(r"'([^']+)'", error.message)
        return (f"{', '.join(unexpected) or 'a key'}: not a field of this table (a typo? "
                f"the fields are in schemas/drug-table.schema.json)")
    if kind == "type" and isinstance(error.validator_value, str):
        return f"{value!r} should be {_TYPES.get(error.validator_value, error.validator_value)}"
    return error.message


def with_line(text: str, problem: str, path: Sequence[Any] | None = None) -> str:
    """``field: what`` -> ``line N: field: what`` when the line of the field (or of
    ``path``, a jsonschema error's) is found."""
    field = problem.split(": ", 1)[0]
    if path is None:
        path = dotted_parts(field) if field != "(top level)" else []
    number = line_of(text, path) if text and path else None
    return f"line {number}: {problem}" if number else problem


def error_path(error: Any) -> list:
    """Where a jsonschema error is: its path, and the key itself for a key's name."""
    path = list(error.absolute_path)
    return path + [error.instance] if error.validator == "propertyNames" else path
