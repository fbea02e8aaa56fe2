"""The packages of edi837 form layers, and no import cycle joins two of them.

The import graph is built from the source (ast), not by importing: every
``import`` and ``from ... import`` counts, at module level and inside functions
alike.  A function-level import is still a dependency (it runs on the first
call, and it is how a cycle hides); only the package root's lazy re-export of
the Python API (edi837/__init__.py, ``edi837.check`` and friends) is left out:
every module of edi837 runs that file first anyway, and what it re-exports is
the top of the house, not something a layer builds on.

A unit is a subpackage (edi837/rules/) or a top-level module (edi837/engine.py).
Each unit is in one layer below; a unit may import units of its own layer or of
lower ones, never of a higher one, and no two units may import each other,
directly or round a longer circle.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "edi837"

# Lowest first.  A new module or package must be placed here (the test says so).
LAYERS = (
    ("base", {"edi837", "model", "ndc", "files", "formats", "tomlfile", "datacache", "codecache",
              "spilldir", "locations", "drug_codes", "dbfiles", "pgdb", "pgnames", "progress",
              "bill_types"}),
    ("x12", {"x12"}),
    ("findings", {"findings", "safetext", "store", "checklist", "results"}),
    ("reader", {"reader", "extract"}),
    ("facts", {"drugs", "refdata", "policy", "history"}),
    ("rules", {"rules"}),
    ("engine", {"config", "engine", "profile_match"}),
    ("reports", {"reports"}),
    ("outputs", {"fix", "validate", "acks", "generator"}),
    ("workers", {"workers"}),  # the worker pools batch and parallel share
    ("batch", {"batch", "parallel", "queue"}),
    ("api", {"api", "arguments", "checkrun"}),
    ("cli", {"cli"}),  # with entry.py, __main__.py and every cli_*.py (unit_of)
)

# Cycles being taken apart elsewhere, each with its issue: nothing else.
ALLOWED_CYCLES: set[frozenset] = set()


def unit_of(module: str) -> str:
    """edi837.rules.ndc -> rules; edi837.engine -> engine; edi837 -> edi837.  The
    command layer is one unit: the cli package (or the cli*.py modules it was) and
    the program's entry point (entry.py, __main__.py), which load each other."""
    parts = module.split(".")
    if len(parts) == 1:
        return parts[0]
    command = parts[1].startswith("cli_") or parts[1] in ("entry", "__main__")
    return "cli" if command else parts[1]


def layer_of(unit: str) -> int:
    for number, (_, units) in enumerate(LAYERS):
        if unit in units:
            return number
    raise AssertionError(f"edi837 unit {unit!r} is in no layer: add it to LAYERS in "
                         "tests/house/test_layers.py, below what it imports and above what "
                         "imports it")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, root: Path) -> str | None:
    """The longest prefix of a dotted name that is a module or package of edi837."""
    parts = name.split(".")
    while parts and parts[0] == root.name:
        base = root.parent.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return None


def import_graph(root: Path = PACKAGE) -> dict[str, dict[str, list[str]]]:
    """{unit: {imported unit: ["module -> module", ...]}} between different units."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        if module == root.name:
            continue  # the root's lazy API re-export (see the module docstring)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                names = [source] + [f"{source}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in dict.fromkeys(_resolve(name, root) for name in names):
                if target is None or unit_of(target) == unit_of(module):
                    continue
                graph[unit_of(module)][unit_of(target)].append(f"{module} -> {target}")
    return graph


def _reaches(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for other in graph.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def cycles(graph) -> list[list[str]]:
    """The groups of more than one unit that each reach the others (a cycle)."""
    reach = {unit: _reaches(graph, unit) for unit in list(graph)}
    groups = {frozenset(u for u in reach if unit in reach.get(u, ()) and u in reach[unit])
              | {unit} for unit in reach}
    return sorted(sorted(group) for group in groups if len(group) > 1)


def _where(graph, units) -> str:
    return "; ".join(f"{a} -> {b} ({graph[a][b][0]})" for a in sorted(units)
                     for b in sorted(graph[a]) if b in units)


def test_no_cycle_between_packages():
    graph = import_graph()
    bad = [c for c in cycles(graph) if frozenset(c) not in ALLOWED_CYCLES]
    assert not bad, "import cycles: " + " | ".join(_where(graph, set(c)) for c in bad)


def upward_imports(graph) -> list[str]:
    return [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]}): "
            f"{', '.join(sorted(set(where))[:3])}"
            for a, targets in sorted(graph.items()) for b, where in sorted(targets.items())
            if layer_of(b) > layer_of(a)]


def test_no_layer_imports_a_higher_one():
    upward = upward_imports(import_graph())
    assert not upward, "\n".join(upward)


# -- the test's own checks: it would see what it must -----------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "edi837"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    root = _tree(tmp_path, {
        "findings.py": "def f():\n    from .x12.reader import display\n",
        "x12/__init__.py": "",
        "x12/reader.py": "from ..findings import Finding\n",
        "rules/__init__.py": "from edi837 import engine\n",
        "engine.py": "import edi837.rules.ndc\n",
        "rules/ndc.py": "from . import context\n",
        "rules/context.py": "",
    })
    graph = import_graph(root)
    assert sorted(map(sorted, cycles(graph))) == [["engine", "rules"], ["findings", "x12"]]
    assert graph["findings"]["x12"] == ["edi837.findings -> edi837.x12.reader"]
    assert "rules" not in graph["rules"]  # a package's own modules are one unit
    assert upward_imports(graph) == [  # rules import the engine (a layer up), x12 findings
        "rules (rules) imports engine (engine): edi837.rules -> edi837.engine",
        "x12 (x12) imports findings (findings): edi837.x12.reader -> edi837.findings"]


def test_every_unit_has_a_layer():
    for unit in {unit_of(_module_name(p, PACKAGE)) for p in PACKAGE.rglob("*.py")}:
        layer_of(unit)
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("newpackage")
