"""TOML text read with a bound on nesting, for every TOML file a user gives.

tomllib parses arrays and inline tables recursively, so a few thousand nested
``[`` raise RecursionError (a traceback, not a message); and what it returns
is walked recursively afterwards (schema validation, configuration parsing).
No file of edi837's nests more than a few levels: anything deeper than
MAX_DEPTH is refused as invalid TOML, with the depth in the message.
"""
from __future__ import annotations

import tomllib
from typing import Any, Iterable

MAX_DEPTH = 32  # tables and arrays inside each other, the document itself 1


class TooDeep(tomllib.TOMLDecodeError):
    """Tables or arrays nested past MAX_DEPTH (a TOMLDecodeError, so callers
    that report invalid TOML report this alike)."""


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads`` that raises TooDeep instead of RecursionError or a
    document nested deeper than MAX_DEPTH."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise TooDeep("arrays or inline tables nested too deeply to read (at most "
                      f"{MAX_DEPTH} levels are allowed)") from None
    deepest = depth(data)
    if deepest > MAX_DEPTH:
        raise TooDeep(f"tables or arrays nested {deepest} levels deep, more than the "
                      f"{MAX_DEPTH} allowed")
    return data


def depth(value: Any) -> int:
    """How many tables and arrays are nested in ``value`` (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
