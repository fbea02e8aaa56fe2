"""`batch --split --control-numbers FILE`: as `fix --split --control-numbers FILE`, each
interchange and group of the split files takes a new ISA13/GS06 from the counter
(tests/fix/test_split_control_numbers.py), so the accepted file of a corrected resend
does not repeat the first one's.  Numbers are taken as `fix` takes them (each written
to the counter, under its lock, before a file uses it): a killed batch never hands a
number out again, and two batches on one counter never hand out the same one.  Every
split file is read by pyx12.  All in real `edi837 batch` processes."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from batch_support import drop, ledger, subprocess_env
from hostile_corpus import data, interchange
from pyx12check import pyx12_verdict
from store_support import EDI837, edi837, killed_at


def claims(n: int) -> bytes:
    """An interchange (ISA13 100+n) of the hostile corpus's claims, of a member of its
    own: HC-HELD has no NDC (held), the others go out (accepted)."""
    control = f"{100 + n:09d}"
    return data(interchange(control=control)).replace(b"SYN000000001",
                                                      f"SYN{control}".encode())


def numbers(path: Path) -> dict[str, list[str]]:
    """Each control number of the envelopes of ``path``, by tag."""
    found: dict[str, list[str]] = {"ISA": [], "IEA": [], "GS": [], "GE": []}
    for segment in path.read_text(encoding="latin-1").split("~"):
        fields = segment.strip().split("*")
        position = {"ISA": 13, "GS": 6, "GE": 2, "IEA": 2}.get(fields[0])
        if position is not None:
            found[fields[0]].append(fields[position])
    return found


def split_files(out: Path) -> list[Path]:
    """The split files of every file a batch finished (done in its ledger)."""
    files = []
    for row in ledger(out):
        if row["state"] == "done":
            folder = out / row["run_id"] / "files" / row["name"] / "fixed"
            files += sorted(folder.glob("*.accepted.edi")) + sorted(folder.glob("*.held.edi"))
    return files


def taken(files: list[Path]) -> list[int]:
    """Every number the split files took (ISA13 and GS06), checked against their
    trailers, each file valid by pyx12."""
    got = []
    for path in files:
        ok, errors = pyx12_verdict(path)
        assert ok, (path, errors)
        found = numbers(path)
        assert found["ISA"] == found["IEA"] and found["GS"] == found["GE"], path
        got += [int(n) for n in found["ISA"] + found["GS"]]
    return got


def batch_args(tmp_path: Path, name: str, counter: Path) -> list[str]:
    inbox, out = tmp_path / name / "inbox", tmp_path / name / "out"
    inbox.mkdir(parents=True, exist_ok=True)
    return ["batch", str(inbox), "--out", str(out), "--split", "--settle", "0",
            "--no-history", "--control-numbers", str(counter)]


def test_batch_split_files_take_new_numbers_from_the_counter(tmp_path):
    counter = tmp_path / "numbers"
    counter.write_text("41\n")  # the last number the old system used
    args = batch_args(tmp_path, "one", counter)
    drop(Path(args[1]), "claims.edi", claims(1))
    done = edi837(*args)
    assert done.returncode == 1, done.stderr  # HC-HELD held
    out = Path(args[3])
    [accepted, held] = split_files(out)
    assert accepted.name == "claims.accepted.edi" and held.name == "claims.held.edi"
    assert numbers(accepted) == {"ISA": ["000000042"], "IEA": ["000000042"],
                                 "GS": ["43"], "GE": ["43"]}
    assert numbers(held) == {"ISA": ["000000044"], "IEA": ["000000044"],
                             "GS": ["45"], "GE": ["45"]}
    assert sorted(taken([accepted, held])) == [42, 43, 44, 45]
    assert counter.read_text().strip() == "45"


def test_the_option_needs_split_and_a_counter_that_can_be_used(tmp_path):
    counter = tmp_path / "numbers"
    args = batch_args(tmp_path, "one", counter)
    drop(Path(args[1]), "claims.edi", claims(1))
    without_split = edi837(*[a for a in args if a != "--split"])
    assert without_split.returncode == 2
    assert "--control-numbers renumbers the split files: give --split" in without_split.stderr
    counter.write_text("not a number\n")
    damaged = edi837(*args)
    assert damaged.returncode == 2
    assert f"the control-number counter {counter} holds 'not a number'" in damaged.stderr
    assert not split_files(Path(args[3]))  # refused before any file was taken
    assert (Path(args[1]) / "claims.edi").exists()


@pytest.mark.slow
def test_a_killed_batch_never_hands_a_number_out_again(tmp_path):
    counter = tmp_path / "numbers"
    args = batch_args(tmp_path, "one", counter)
    drop(Path(args[1]), "claims.edi", claims(1))
    # killed once the file's outputs (its split files) are written, before it is recorded
    killed_at("outputs-complete", *args)
    handed_out = int(counter.read_text())
    assert handed_out == 4  # the killed run's two files took four numbers
    done = edi837(*args)  # the restart checks the file again
    assert done.returncode == 1, done.stderr
    again = taken(split_files(Path(args[3])))
    assert len(again) == 4 and min(again) > handed_out, again
    assert int(counter.read_text()) == max(again)


@pytest.mark.slow
def test_two_batches_on_one_counter_never_hand_out_the_same_number(tmp_path):
    counter = tmp_path / "numbers"
    runs = []
    for k, name in enumerate(("east", "west")):
        args = batch_args(tmp_path, name, counter)
        for n in range(4):
            drop(Path(args[1]), f"claims{n}.edi", claims(10 * k + n))
        runs.append(args)
    processes = [subprocess.Popen([*EDI837, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=subprocess_env())
                 for args in runs]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 1, stderr
    files = [f for args in runs for f in split_files(Path(args[3]))]
    assert len(files) == 16  # 8 inputs, each split into an accepted and a held file
    got = taken(files)
    assert sorted(got) == list(range(1, 33))  # 32 numbers, none twice, none lost
    assert int(counter.read_text()) == 32
