"""Issue #13: the hostile corpus, and what each command does with each file.

tests/hostile_corpus.py builds the files (the small ones are committed under
tests/data/hostile/, the large ones are built here); tests/data/hostile/
expected.json pins, per file, what `check --format json`, `extract --format
jsonl`, `fix --split` and (for files pyx12 can take in reasonable time)
`validate --format json` do: exit status, finding codes with their severity,
claim, drug line and row counts, the files fix writes and the claims in them.

Besides the pinned outcome, every run must keep the invariants of issue #13
(tests/hostile_run.py): no traceback, exit 0/1/2, JSON that matches
schemas/report.schema.json, no EDI008, every claim check reads is in the
corrected file and in accepted + held, extract's rows are check's drug lines,
extract exits 2 exactly when check calls the file unreadable.

Known bugs are in BUGS: their manifest entry records the bug, not the wrong
outcome, and their test asserts what should happen, marked xfail(strict=True)
so that the fix shows up as a failure to notice (then remove the entry from
BUGS and rewrite the manifest).

After a deliberate change, rewrite the manifest and review its diff:
    python tests/hostile/test_hostile_corpus.py
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pytest

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import hostile_corpus as corpus  # noqa: E402
import hostile_run  # noqa: E402

_LARGE_DIR: list[Path] = []  # where the large cases were built, once per run


@dataclass(frozen=True)
class Bug:
    reason: str
    holds: Callable[[dict, list[str]], bool]  # (outcome, problems) -> the right behaviour?


BUGS: dict[tuple[str, str], Bug] = {}  # none known now


def _command_list(case: corpus.Case) -> tuple[str, ...]:
    return hostile_run.COMMANDS if case.validate else ("check", "extract", "fix")


def _path(case: corpus.Case) -> Path:
    committed = corpus.CORPUS / case.file_name
    if committed.exists():
        return committed
    if not _LARGE_DIR:
        _LARGE_DIR.append(Path(tempfile.mkdtemp(prefix="edi837-hostile-")))
        atexit.register(shutil.rmtree, _LARGE_DIR[0], True)
    path = _LARGE_DIR[0] / case.file_name
    if not path.exists():
        path.write_bytes(case.build())
    return path


@lru_cache(maxsize=None)
def _outcome(name: str) -> tuple[dict, list[str]]:
    case = corpus.by_name()[name]
    return hostile_run.outcome(_path(case), _command_list(case))


@lru_cache(maxsize=1)
def _manifest() -> dict:
    return json.loads(corpus.MANIFEST.read_text(encoding="utf-8"))


def _params():
    for case in corpus.CASES:
        for command in _command_list(case):
            bug = BUGS.get((case.file_name, command))
            marks = [pytest.mark.xfail(strict=True, reason=bug.reason)] if bug else []
            yield pytest.param(case.file_name, command, id=f"{case.name}-{command}", marks=marks)


def test_the_corpus_is_large_and_every_file_says_what_it_is():
    assert len(corpus.CASES) >= 60
    assert len(corpus.by_name()) == len(corpus.CASES), "two cases with one file name"
    assert all(case.what for case in corpus.CASES)


def test_the_committed_files_are_what_the_script_builds():
    built = corpus.committed()
    on_disk = {p.name: p.read_bytes() for p in corpus.CORPUS.glob("*.edi")}
    assert sorted(on_disk) == sorted(built), "run `python tests/hostile_corpus.py`"
    changed = [name for name in built if on_disk[name] != built[name]]
    assert changed == [], "run `python tests/hostile_corpus.py` and review"


def test_the_manifest_has_every_file_and_command_and_each_bug():
    manifest = _manifest()
    assert sorted(manifest) == sorted(corpus.by_name())
    for case in corpus.CASES:
        entry = manifest[case.file_name]
        assert sorted(k for k in entry if k != "what") == sorted(_command_list(case))
        for command in _command_list(case):
            bug = BUGS.get((case.file_name, command))
            assert ("bug" in entry[command]) == (bug is not None), (case.name, command)


@pytest.mark.parametrize("name, command", list(_params()))
def test_hostile_file(name, command):
    found, problems = _outcome(name)
    bug = BUGS.get((name, command))
    if bug is not None:
        assert bug.holds(found, problems), bug.reason
        return
    mine = [p for p in problems if p.startswith(command)]
    assert mine == [], f"{name}: {mine}"
    assert found[command] == _manifest()[name][command], \
        f"{name} {command}: pinned {_manifest()[name][command]}, got {found[command]}"


def rewrite_manifest() -> None:
    """Run every command on every file and write what happened, except for the
    known bugs (their entry says the bug).  Any broken invariant stops it."""
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="edi837-xdg-")  # no real refdata
    os.environ.pop("EDI837_REFDATA", None)
    manifest = {}
    broken = []
    for case in corpus.CASES:
        found, problems = _outcome(case.file_name)
        entry = {"what": case.what}
        for command in _command_list(case):
            bug = BUGS.get((case.file_name, command))
            if bug is not None:
                entry[command] = {"bug": bug.reason}
                continue
            broken += [f"{case.file_name}: {p}" for p in problems if p.startswith(command)]
            entry[command] = found[command]
        manifest[case.file_name] = entry
    if broken:
        sys.exit("invariants broken, not recorded (add them to BUGS?):\n" + "\n".join(broken))
    corpus.MANIFEST.write_text(
        "{\n" + ",\n".join(f"  {json.dumps(name)}: {json.dumps(entry)}"
                           for name, entry in manifest.items()) + "\n}\n", encoding="utf-8")
    print(f"wrote {corpus.MANIFEST}: {len(manifest)} files")


if __name__ == "__main__":
    rewrite_manifest()


@pytest.mark.slow
def test_batch_takes_every_hostile_file_once_as_check_judges_it(tmp_path):
    """The committed corpus as one night's inbox, with two workers: every file
    archived or quarantined, nothing left or lost; quarantined exactly when
    check calls it unreadable, and with the claims check reads (files whose
    check outcome is a known bug aside)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    files = sorted(corpus.CORPUS.glob("*.edi"))
    for path in files:
        shutil.copyfile(path, inbox / path.name)
    run = hostile_run.run_child(["batch", str(inbox), "--out", str(out), "--settle", "0",
                                 "--jobs", "2", "--no-history"], timeout=600)
    assert run.traceback == "" and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.exit == 2  # some files are quarantined
    assert list(inbox.iterdir()) == []
    archived = {p.name for p in (out / "archive").rglob("*.edi")}
    quarantined = {p.name for p in (out / "quarantine").rglob("*.edi")}
    assert archived | quarantined == {p.name for p in files} and not archived & quarantined
    (summary,) = out.glob("*/summary.json")
    judged = {entry["name"]: entry for entry in json.loads(summary.read_text())["files"]}
    manifest = _manifest()
    for name, entry in judged.items():
        check = manifest[name]["check"]
        if "bug" in check:
            continue
        # the files are one run: claims are judged against each other's too (HIS rules),
        # so a file check finds clean may have findings here
        unreadable = check["status"] == "unreadable"
        assert (name, entry["outcome"] == "quarantined") == (name, unreadable)
        assert (name, name in quarantined) == (name, unreadable)
        assert (name, entry["claims"]) == (name, check["claims"])
