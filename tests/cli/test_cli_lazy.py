"""The command layer loads lazily: a command imports its own module and what it uses,
and the group's help lists every command from edi837.cli.COMMANDS without importing one.

The modules imported are asserted, not the time (README "Speed and memory" has the
start-up measurement): a JSON check must not pay for lxml, the HTML or XML report, the
batch, the queue or the other commands.
"""
import ast
import importlib
import importlib.util
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import edi837.cli
from edi837.cli import COMMANDS, main
from edi837.entry import GC_THRESHOLD

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "837p-j2350-clean.edi"

# Runs the command line in a fresh process and prints the modules it imported.
MODULES_AFTER = """
import json, sys
from edi837.entry import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print(json.dumps({"status": code, "modules": sorted(sys.modules)}))
"""


def modules_after(*args: str, cwd: Path) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items() if k != "EDI837_DEBUG"}
    done = subprocess.run([sys.executable, "-c", MODULES_AFTER, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    last = done.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    return result["status"], set(result["modules"])


def under(modules: set[str], *packages: str) -> set[str]:
    return {m for m in modules for p in packages if m == p or m.startswith(p + ".")}


def test_a_json_check_imports_no_lxml_no_other_report_no_batch_or_queue(tmp_path):
    status, modules = modules_after("check", str(SAMPLE), "--format", "json", "-o",
                                    str(tmp_path / "x.json"), cwd=tmp_path)
    assert status == 0
    assert json.loads((tmp_path / "x.json").read_text())["files"]  # it really ran
    assert "edi837.reports.json_report" in modules and "edi837.cli.check" in modules
    assert under(modules, "lxml", "jinja2", "pyx12", "dask", "fsspec", "psycopg") == set()
    assert under(modules, "edi837.reports.html", "edi837.reports.html_assets",
                 "edi837.reports.html_worklist", "edi837.reports.xml_report",
                 "edi837.reports.csv_report", "edi837.reports.annotated") == set()
    assert under(modules, "edi837.batch", "edi837.queue", "edi837.parallel", "edi837.fix",
                 "edi837.validate", "edi837.generator", "edi837.acks", "edi837.api") == set()
    # ack and history hold the --ack277 and --history options check takes too; their
    # work is imported when it runs
    other_commands = {f"edi837.cli.{module}" for name, (module, _) in COMMANDS.items()
                      if name not in ("check", "ack", "history")}
    assert modules & other_commands == set()
    # start-up (issue 25: 0.10 s): what a clean check never needs - a logger (only a
    # store another process holds speaks), difflib (only a typo's suggestions),
    # importlib.resources' zip readers (the package data is read from its folder), the
    # reference-data store when there is none to read
    assert modules & {"logging", "zipfile", "edi837.refdata.store"} == set()
    # a small report spills nothing (tempfile and pickle only when it does) and shows
    # no claim views (edi837.reports.views: the annotated and HTML reports' classes)
    assert modules & {"tempfile", "pickle", "edi837.reports.views"} == set()
    # a batch names itself by its host (history.holders): a check has no socket to open
    assert modules & {"socket", "selectors"} == set()


def test_a_json_check_parses_no_toml_once_the_shipped_files_are_cached(tmp_path):
    # the drug table and the payer policies come from the cache (edi837.datacache) after
    # the first run; with no configuration file no TOML is parsed at all
    for _run in ("first", "second"):
        status, modules = modules_after("check", str(SAMPLE), "--format", "json", "-o",
                                        str(tmp_path / "x.json"), cwd=tmp_path)
        assert status == 0
    assert modules & {"tomllib", "edi837.tomlfile", "pickle"} == set()


def test_the_groups_help_and_version_import_no_command(tmp_path):
    for args in (["--help"], ["--version"]):
        status, modules = modules_after(*args, cwd=tmp_path)
        assert status == 0
        commands = {f"edi837.cli.{module}" for module, _ in COMMANDS.values()}
        assert modules & commands == set(), args
        assert under(modules, "edi837.engine", "edi837.history", "edi837.cli.support") == set()


def test_every_command_module_is_in_the_table_under_its_name():
    for name, (module, _) in COMMANDS.items():
        command = getattr(importlib.import_module(f"edi837.cli.{module}"), name)
        assert isinstance(command, click.Command) and command.name == name
    tops = {info.name for info in pkgutil.iter_modules(edi837.cli.__path__)}
    unlisted = {name for name in tops - set(COMMANDS)
                if isinstance(getattr(importlib.import_module(f"edi837.cli.{name}"), name,
                                      None), click.Command)}
    assert unlisted == set()  # a command module the group does not know is unreachable


@pytest.mark.parametrize("limit", [30, 45, 74, 120, 1000])
def test_the_tables_help_shortens_as_the_commands_own(limit):
    for name, (module, text) in COMMANDS.items():
        command = getattr(importlib.import_module(f"edi837.cli.{module}"), name)
        assert click.Command(name, help=text).get_short_help_str(limit) \
            == command.get_short_help_str(limit), name


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_group_lists_the_commands_as_a_plain_click_group_would(width):
    fresh = type(main)(name=main.name, params=main.params, callback=main.callback,
                       help=main.help, context_settings=main.context_settings)
    plain = click.Group(name=main.name, params=main.params, callback=main.callback,
                        help=main.help, context_settings=main.context_settings,
                        commands={name: getattr(importlib.import_module(f"edi837.cli.{m}"),
                                                name) for name, (m, _) in COMMANDS.items()})
    runner = CliRunner()
    shown = runner.invoke(fresh, ["--help"], terminal_width=width, prog_name="edi837")
    expected = runner.invoke(plain, ["--help"], terminal_width=width, prog_name="edi837")
    assert shown.exit_code == 0 and "Commands:" in shown.output
    assert fresh.commands == {}  # listed from the table, nothing imported for it
    assert shown.output == expected.output


def test_an_unknown_command_is_refused_as_before():
    result = CliRunner().invoke(main, ["chekc"])
    assert result.exit_code == 2
    assert "No such command 'chekc'" in result.output


def test_every_relative_import_of_the_command_layer_resolves():
    """`from .x` in edi837/cli/ names a module of the command layer, `from ..x` one of
    edi837, and each imported name is there, also for the imports inside functions
    that run only with their command: code written for the old edi837/cli_*.py files
    (where `.batch` meant edi837.batch) must not merge in unnoticed."""
    cli_dir = Path(edi837.cli.__file__).parent
    for path in sorted(cli_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = "edi837.cli" if node.level == 1 else "edi837"
            full = f"{base}.{node.module}" if node.module else base
            where = f"{path.name}:{node.lineno}: from {'.' * node.level}{node.module or ''}"
            try:
                module = importlib.import_module(full)
            except ImportError as exc:
                pytest.fail(f"{where}: {exc}")
            for alias in node.names:
                assert hasattr(module, alias.name) or \
                    importlib.util.find_spec(f"{full}.{alias.name}") is not None, \
                    f"{where} import {alias.name}: no such name"


# Runs the program as `edi837 ARGS` does (entry.main() reading sys.argv) and prints whether
# the cyclic collector was on while the command worked, and how many objects start-up froze.
COLLECTOR_DURING = """
import gc, json, sys
import edi837.engine, edi837.cli.rules
seen = {}
def watch(owner, name):
    inner = getattr(owner, name)
    def watched(*args, **kwargs):
        seen[name] = [gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()[0]]
        return inner(*args, **kwargs)
    setattr(owner, name, watched)
watch(edi837.engine.Engine, "run")
watch(edi837.cli.rules.rules, "callback")
from edi837.entry import main
sys.argv = ["edi837", *sys.argv[1:]]
try:
    main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"status": code, "seen": seen, "after": gc.isenabled()}))
"""


def collector_during(*args: str, cwd: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", COLLECTOR_DURING, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_start_up_runs_without_the_collector_and_every_command_runs_with_it(tmp_path):
    # issue 25: the collector is off while the modules and tables load (edi837.entry),
    # on again with what they made frozen once the command's start-up is done
    result = collector_during("check", str(SAMPLE), "--format", "json", "-o",
                              str(tmp_path / "x.json"), cwd=tmp_path)
    assert result["status"] == 0 and result["after"] is True
    enabled, frozen, threshold = result["seen"]["run"]
    assert enabled is True and frozen > 10_000  # the tables and modules, out of its sight
    assert threshold == GC_THRESHOLD[0]  # the young collected less often once started
    result = collector_during("rules", cwd=tmp_path)
    assert result["status"] == 0 and result["seen"]["callback"][0] is True
    for args in (["--help"], ["--version"], ["check", "--no-such-option"]):
        result = collector_during(*args, cwd=tmp_path)
        assert result["after"] is True, args  # ended before start-up was done: as it was


def test_called_from_python_the_collector_is_left_alone(tmp_path):
    import gc

    from edi837.entry import main as entry_main

    with pytest.raises(SystemExit):
        entry_main(["check", str(SAMPLE), "--format", "json", "-o", str(tmp_path / "x.json")])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.get_threshold()[0] != GC_THRESHOLD[0]
