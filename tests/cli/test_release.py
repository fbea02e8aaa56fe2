"""The released package, not the checkout: the wheel holds every data file the program
reads, runs from an install outside the checkout, and a broken install or a bug ends
with status 2 and one line, never a traceback's status 1 (which a nightly job reads as
"claims have error findings").

The wheel is built once for the module (`pip wheel --no-deps`, as a release is) and
unpacked with `pip install --target`, so the files tested are those a user gets.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest

from edi837.cli import main as commands
from edi837.entry import main as entry_main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"

pytestmark = pytest.mark.slow


def tracked_files() -> list[str]:
    """The files git tracks (those of the tree, less caches and builds, when this is
    not a git checkout), relative to the checkout, that exist in the work tree."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError):
        skip = {"__pycache__", ".git", ".venv", "build", "dist"}
        listed = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                  if p.is_file() and not skip & set(p.relative_to(ROOT).parts)
                  and ".egg-info" not in str(p)]
    return [name for name in listed if name and (ROOT / name).is_file()]


def tracked_data_files() -> set[str]:
    """Every non-Python file under edi837/ that git tracks, as wheel paths."""
    return {name for name in tracked_files()
            if name.startswith("edi837/") and not name.endswith((".py", ".pyc"))}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the tracked files: an egg-info or build/ folder an earlier
    build left in the checkout can add data files a release would not have."""
    source = tmp_path_factory.mktemp("src")
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    (built,) = out.glob("edi837-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel's files as pip installs them, in a folder of their own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    return target


def run_installed(site: Path, *args: str, cwd: Path, env: dict | None = None):
    """`python -m edi837 ARGS` importing edi837 from ``site`` only (PYTHONPATH comes
    before this checkout's editable install)."""
    environment = {k: v for k, v in os.environ.items() if k != "EDI837_DEBUG"}
    environment.update(PYTHONPATH=str(site), **(env or {}))
    return subprocess.run([sys.executable, "-m", "edi837", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_every_data_file_git_tracks(wheel):
    wanted = tracked_data_files()
    assert "edi837/drugs/table.toml" in wanted  # the list is the real one
    with zipfile.ZipFile(wheel) as archive:
        held = set(archive.namelist())
    assert wanted - held == set()


def test_the_installed_wheel_runs_outside_the_checkout(installed, tmp_path):
    version = run_installed(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert f"package: {installed / 'edi837'}" in version.stdout  # not this checkout
    assert "drug table: " in version.stdout and str(installed) in version.stdout
    shutil.copytree(SAMPLES, tmp_path / "samples")
    checked = run_installed(installed, "check", "samples/", "-o", "report.json", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr  # the defect samples' error findings
    assert '"rule": "MOD001"' in (tmp_path / "report.json").read_text()
    drugs = run_installed(installed, "drugs", "J2350", cwd=tmp_path)
    assert drugs.returncode == 0 and "50242015001" in drugs.stdout


def broken_copy(site: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    return copy


@pytest.mark.parametrize("command", [("check", "samples/"), ("drugs", "J2350"),
                                     ("extract", "samples/")])
def test_a_missing_data_file_is_a_broken_install_with_status_2(installed, tmp_path, command):
    site = broken_copy(installed, tmp_path)
    (site / "edi837" / "drugs" / "table.toml").unlink()
    shutil.copytree(SAMPLES, tmp_path / "samples")
    result = run_installed(site, *command, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("edi837: broken install: cannot read ")
    assert "table.toml" in lines[0] and "Traceback" not in result.stderr


def test_a_broken_acknowledgment_table_stops_ack_with_status_2(installed, tmp_path):
    site = broken_copy(installed, tmp_path)
    (site / "edi837" / "acks" / "status-codes.toml").write_text("[[[ not toml")
    shutil.copytree(SAMPLES, tmp_path / "samples")
    result = run_installed(site, "ack", "samples/", "--out-dir", "acks", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "status-codes.toml" in result.stderr


def test_debug_shows_the_traceback(installed, tmp_path):
    site = broken_copy(installed, tmp_path)
    (site / "edi837" / "drugs" / "table.toml").unlink()
    for extra, env in (((), {"EDI837_DEBUG": "1"}), (("--debug",), None)):
        result = run_installed(site, *extra, "drugs", cwd=tmp_path, env=env)
        assert result.returncode == 2
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.rstrip().splitlines()[-1].startswith("edi837: broken install")


def leaf_commands(group: click.Group, prefix=()):
    context = click.Context(group)  # the group loads its commands lazily: ask it for each
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


LEAVES = list(leaf_commands(commands))


def test_every_command_is_covered():
    names = {path[0] for path, _ in LEAVES}
    assert {"check", "extract", "fix", "validate", "ack", "batch", "rules", "drugs",
            "refdata", "history", "generate"} <= names


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_an_unexpected_exception_exits_2_in_every_command(path, monkeypatch, capsys):
    command = dict(LEAVES)[path]

    def boom(*args, **kwargs):
        raise RuntimeError("planted\nfault")

    monkeypatch.setattr(command, "callback", boom)
    monkeypatch.setattr(command, "parse_args", lambda ctx, args: [])
    monkeypatch.delenv("EDI837_DEBUG", raising=False)
    with pytest.raises(SystemExit) as ended:
        entry_main(list(path))
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err == ("edi837: internal error RuntimeError: planted fault "
                   "(a bug in edi837, please report it)\n")


def test_an_output_whose_extension_names_no_format_is_misuse(tmp_path):
    from click.testing import CliRunner

    runner = CliRunner()
    sample = str(SAMPLES / "837p-j2350-clean.edi")
    result = runner.invoke(commands, ["check", sample, "-o", str(tmp_path / "report.pdf")])
    assert result.exit_code == 2
    assert "report.pdf: its extension names no report format" in result.output
    assert ".html" in result.output and ".json" in result.output
    assert not (tmp_path / "report.pdf").exists()
    # --format given on the command line says what to write
    result = runner.invoke(commands, ["check", sample, "--format", "json",
                                      "-o", str(tmp_path / "report.pdf")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.pdf").read_text().lstrip().startswith("{")
    result = runner.invoke(commands, ["validate", sample, "-o", str(tmp_path / "ig.docx")])
    assert result.exit_code == 2 and "ig.docx" in result.output
    # an extension naming another format than an explicit --format: which was meant?
    result = runner.invoke(commands, ["check", sample, "--format", "json",
                                      "-o", str(tmp_path / "r2.html")])
    assert result.exit_code == 2
    assert "r2.html: its extension names the html format, but --format json" in result.output
    assert not (tmp_path / "r2.html").exists()
    result = runner.invoke(commands, ["check", sample, "--format", "html",
                                      "-o", str(tmp_path / "r2.html")])
    assert result.exit_code == 0 and (tmp_path / "r2.html").exists()


def test_a_reference_data_folder_that_cannot_be_read_is_named_with_status_2(monkeypatch):
    """Not an internal error: the operator can fix the folder's permissions."""
    from click.testing import CliRunner

    import edi837.refdata

    def unreadable(folder=None):
        raise PermissionError(13, "Permission denied", "/srv/edi837/refdata/refdata.sqlite3")

    monkeypatch.setattr(edi837.refdata, "reference_for", unreadable)
    result = CliRunner().invoke(commands, ["drugs", "J2350"])
    assert result.exit_code == 2
    assert "cannot read /srv/edi837/refdata/refdata.sqlite3: Permission denied" in result.output
    assert "internal error" not in result.output


def test_fix_names_a_reference_data_folder_that_cannot_be_read(monkeypatch, tmp_path):
    """fix runs through edi837.api: the same status 2 and message as check's."""
    from click.testing import CliRunner

    import edi837.refdata

    def unreadable(folder=None):
        raise PermissionError(13, "Permission denied", "/srv/edi837/refdata/refdata.sqlite3")

    monkeypatch.setattr(edi837.refdata, "reference_for", unreadable)
    result = CliRunner().invoke(commands, ["fix", str(SAMPLES / "837p-j2350-clean.edi"),
                                           "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "cannot read /srv/edi837/refdata/refdata.sqlite3: Permission denied" in result.output
