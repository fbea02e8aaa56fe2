"""The tests are grouped by the package they test: every test module sits in a group
folder under tests/, and every group folder is on the tests' import path (setup.cfg's
``pythonpath``), since groups import each other's builders by module name."""
from __future__ import annotations

import configparser
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def import_path() -> set[str]:
    config = configparser.ConfigParser()
    config.read(TESTS.parent / "setup.cfg")
    return set(config["tool:pytest"]["pythonpath"].split())


def test_no_test_module_outside_a_group_folder():
    assert sorted(path.name for path in TESTS.glob("test_*.py")) == []
    assert sorted(str(path.relative_to(TESTS)) for path in TESTS.glob("*/*/test_*.py")) == []


def test_every_group_folder_is_on_the_import_path_and_every_entry_is_a_group():
    groups = {f"tests/{path.parent.name}" for path in TESTS.glob("*/test_*.py")}
    assert groups, "no test groups found"
    assert import_path() == groups | {"tests"}


def test_test_module_names_are_unique_across_groups():
    names = [path.name for path in TESTS.glob("*/test_*.py")]
    assert len(names) == len(set(names))
