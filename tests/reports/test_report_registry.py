"""The report registry: formats found by name or extension without importing every writer."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from edi837 import reports


def test_the_registry_table_agrees_with_the_writers_modules():
    # the table names each format's module; importing it registers that very format
    for name, (module, extensions) in reports.FORMATS.items():
        importlib.import_module(f"edi837.reports.{module}")
        assert reports._LOADED[name] is reports.WRITERS[name]
        for ext in extensions:
            assert reports.format_for(f"out{ext.upper()}") == name
    assert sorted(reports.load_writers()) == sorted(reports.FORMATS)
    assert "pdf" not in reports.WRITERS and reports.format_for("report.pdf") is None


def test_looking_up_one_format_imports_only_its_writer():
    code = ("import sys\n"
            "from edi837.reports import load_writers, format_for\n"
            "assert format_for('a.annotated.txt') == 'annotated'\n"
            "load_writers()['json']\n"
            "print(' '.join(sorted(m for m in sys.modules "
            "if m.startswith(('edi837.reports.', 'lxml')))))\n")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "edi837.reports.json_report" in loaded
    assert not any(m.startswith("lxml") for m in loaded)
    assert not {"edi837.reports.xml_report", "edi837.reports.html",
                "edi837.reports.annotated"} & set(loaded)


def test_check_with_a_json_report_imports_no_lxml(tmp_path):
    sample = str(Path(__file__).resolve().parents[2] / "samples" / "837p-j2350-waste.edi")
    code = ("import sys\n"
            f"sys.argv = ['edi837', 'check', '--format', 'json', {sample!r}]\n"
            "from edi837.entry import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(' '.join(m for m in sys.modules if m.startswith('lxml')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.startswith("{")
    assert done.stderr.strip() == ""


def test_a_writer_replaced_for_a_test_is_the_one_used_and_restored(monkeypatch):
    original = reports.load_writers()["csv"]

    def fake(report, out, options=None):
        out.write("fake")

    with monkeypatch.context() as patched:
        patched.setitem(reports.load_writers(), "csv", fake)
        assert reports.WRITERS["csv"] is fake
    assert reports.WRITERS["csv"] is original


def test_the_readme_format_table_is_the_registry():
    """README's table of formats says what edi837.formats says: a format added
    there and not documented (or documented and gone) fails here."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z]+)` \| `(\.[a-z.]+)` \|", readme, re.M))
    assert rows == {name: exts[0] for name, (module, exts) in reports.FORMATS.items()
                    if module is not None}


def test_a_format_is_declared_once():
    import pytest

    with pytest.raises(ValueError, match="extensions are in edi837.formats"):
        reports.writer("csv", ".csv")  # a shipped format's extensions are in the list
    with pytest.raises(ValueError, match="give its extensions"):
        reports.writer("sarif")  # a plug-in's format says which files are its own
    assert "sarif" not in reports.FORMATS


def test_reading_a_folder_skips_every_report_format_but_plain_text(tmp_path):
    from edi837.files import is_candidate

    for _, extensions in reports.FORMATS.values():
        for ext in extensions:
            assert is_candidate(tmp_path / f"claims{ext}") == (ext == ".txt"), ext
    assert is_candidate(tmp_path / "claims.edi") and is_candidate(tmp_path / "claims.x12")
