"""The dataclasses' methods compiled once and kept (edi837.codecache): the program's
second run compiles none of them, a file anyone else could have written or a broken one
is compiled afresh, the cache can be turned off, the code is the code ``dataclasses``
would have compiled, and the Python API leaves ``dataclasses`` alone."""
from __future__ import annotations

import dataclasses
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edi837 import codecache

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "837p-j2350-clean.edi"


def run_check(tmp_path: Path, cache: str, name: str = "r.json") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("EDI837_DEBUG",)}
    env["EDI837_CACHE_DIR"] = cache
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    done = subprocess.run([sys.executable, "-m", "edi837", "check", str(SAMPLE), "--format",
                           "json", "-o", str(tmp_path / name)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / name).read_text())
    report.pop("run", None)
    return report


def kept(folder: Path) -> list[Path]:
    return sorted(folder.glob("dataclass-code-*.marshal"))


def test_the_second_run_compiles_no_dataclass_method(tmp_path):
    folder = tmp_path / "cache"
    first = run_check(tmp_path, str(folder), "a.json")
    [table] = kept(folder)
    written = table.stat()
    assert written.st_mode & 0o777 == 0o600
    form, codes = marshal.loads(table.read_bytes())
    assert form == codecache._FORMAT and len(codes) > 100  # every class of a check's
    second = run_check(tmp_path, str(folder), "b.json")
    again = table.stat()
    # a run that compiled anything would have written the table anew (save())
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert first == second


@pytest.mark.parametrize("loosen", ["file", "folder"])
def test_a_table_someone_else_could_write_is_compiled_afresh(tmp_path, loosen):
    if not hasattr(os, "getuid"):
        pytest.skip("no file owners on this system")
    folder = tmp_path / "cache"
    run_check(tmp_path, str(folder))
    [table] = kept(folder)
    (table if loosen == "file" else folder).chmod(0o666 if loosen == "file" else 0o777)
    before = table.stat().st_ino
    run_check(tmp_path, str(folder))
    [table] = kept(folder)
    assert table.stat().st_ino != before  # not used: everything compiled and kept anew
    assert table.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", [b"not marshal at all",
                                     marshal.dumps(("another format", {})),
                                     marshal.dumps((codecache._FORMAT, {"def f(): pass": 1}))])
def test_a_broken_or_foreign_table_is_compiled_afresh(tmp_path, content):
    folder = tmp_path / "cache"
    run_check(tmp_path, str(folder))
    [table] = kept(folder)
    table.write_bytes(content)
    run_check(tmp_path, str(folder))
    form, codes = marshal.loads(table.read_bytes())
    assert form == codecache._FORMAT and len(codes) > 100


def test_an_empty_cache_setting_keeps_nothing(tmp_path):
    run_check(tmp_path, "")
    assert list(tmp_path.rglob("dataclass-code-*")) == []


@pytest.fixture
def hooked(tmp_path, monkeypatch):
    monkeypatch.setenv("EDI837_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(codecache, "_codes", {})
    codecache.uninstall()
    codecache.install()
    yield
    codecache.uninstall()


def make_class():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Dose:
        code: str
        units: int = 1

        def doubled(self) -> int:
            return self.units * 2
    return Dose


def test_the_kept_code_is_what_dataclasses_compiles(hooked):
    made = make_class()  # compiled through the table (this module has annotations'
    again = make_class()  # __future__, the generated methods must not inherit it)
    codecache.uninstall()
    plain = make_class()
    assert "exec" not in vars(dataclasses)
    assert made.__init__.__annotations__ == plain.__init__.__annotations__
    assert made.__init__.__annotations__["units"] == "int"  # not "_type_units"
    assert made("J2350", 3) == made("J2350", 3) != made("J2350", 4)
    assert repr(again("J2350")) == repr(plain("J2350")).replace(plain.__qualname__,
                                                                again.__qualname__)
    assert hash(made("J2350")) == hash(plain("J2350"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made("J2350").units = 2  # type: ignore[misc]


def test_the_python_api_leaves_dataclasses_alone(tmp_path):
    script = ("import dataclasses, edi837\n"
              f"edi837.check([{str(SAMPLE)!r}])\n"
              "print('exec' in vars(dataclasses))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "EDI837_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert kept(tmp_path) == []
