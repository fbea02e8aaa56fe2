"""`edi837 generate --nights`: short corpora keep the manifest's promises, and
the command's messages name what is wrong.

The year corpus (test_history_year.py) always has 600-unit maintenance doses;
shorter spans have only the 300-unit induction pair, where an over-maximum
event used to add 300 to 300: 600 units, within the maximum, and the same line
twice, so `check` found HIS001 where the manifest promised UNT002."""
import json

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.cli.generate import MIN_NIGHTS
from edi837.drugs import load_drug_table
from edi837.generator import nights as nights_module

HISTORY_RULES = ("HIS", "UNT")


def generated(folder, seed: int, nights: int) -> dict:
    result = CliRunner().invoke(main, ["generate", "--nights", str(nights), "--seed", str(seed),
                                       "--out-dir", str(folder)])
    assert result.exit_code == 0 and result.exception is None, result.output
    return json.loads((folder / "manifest.json").read_text())


def checked_in_one_run(folder, report) -> dict:
    """HIS/UNT rules per (file, claim id) of `edi837 check FOLDER`: one run, the
    folder's files in name order, which is night order."""
    result = CliRunner().invoke(main, ["check", str(folder), "--format", "json",
                                       "-o", str(report)])
    assert result.exit_code in (0, 1), result.output  # 1: the planted errors
    assert isinstance(result.exception, (SystemExit, type(None))), result.output
    found: dict = {}
    for document in json.loads(report.read_text())["files"]:
        name = document["path"].rsplit("/", 1)[-1]
        for finding in document["findings"]:
            if finding["rule"].startswith(HISTORY_RULES):
                found.setdefault((name, finding["claim_id"]), set()).add(finding["rule"])
    return found


@pytest.mark.parametrize("seed,nights", [(0, 30), (3, 120), (1, 60), (4, 45), (2, 200)])
def test_check_finds_what_the_manifest_plants(tmp_path, seed, nights):
    manifest = generated(tmp_path / "nights", seed, nights)
    found = checked_in_one_run(tmp_path / "nights", tmp_path / "report.json")
    wrong = []
    for claim in manifest["claims"]:
        got = found.get((claim["file"], claim["claim_id"]), set())
        if "UNT002" in claim["expect"]:
            got = got - {"UNT001"}  # 900 units a day is not a labeled dose either
        if got != set(claim["expect"]):
            wrong.append(f"{claim['file']} {claim['claim_id']} ({claim['event']}): expected "
                         f"{claim['expect']}, found {sorted(got)}")
    assert wrong == []
    over = [claim for claim in manifest["claims"] if claim["expect"] == ["UNT002"]]
    assert over and all(claim["event"] == "over-maximum" for claim in over)


def test_an_over_maximum_dose_exceeds_the_maximum_and_is_no_copy():
    table_maximum = load_drug_table().drug("J2350").max_units_per_day
    for given in (300, 600):  # the induction and maintenance doses
        extra = nights_module._over_maximum(given)
        assert given + extra > table_maximum and extra != given


# ----- messages ---------------------------------------------------------------

def test_help_states_the_minimum_the_command_enforces(tmp_path):
    runner = CliRunner()
    assert MIN_NIGHTS == nights_module.MIN_NIGHTS
    assert f"[x>={MIN_NIGHTS}]" in runner.invoke(main, ["generate", "--help"]).output
    result = runner.invoke(main, ["generate", "--nights", "5", "--out-dir",
                                  str(tmp_path / "nights")])
    assert result.exit_code == 2 and result.exception.__class__ is SystemExit
    assert f"Invalid value for '--nights': 5 is not in the range x>={MIN_NIGHTS}" in result.output
    assert not (tmp_path / "nights").exists()
    with pytest.raises(ValueError, match=f"at least {MIN_NIGHTS}"):
        nights_module.generate_nights(tmp_path / "api", nights=MIN_NIGHTS - 1)


def test_nights_without_out_dir_says_so_and_names_nothing_else(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--nights", "40"])
    assert result.exit_code == 2
    assert result.stderr == ("edi837: --nights needs --out-dir DIR (the folder for the nightly "
                             "files and manifest.json)\n")


def test_nights_names_only_the_single_file_options_given(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--nights", "40", "-o", str(tmp_path / "x.edi")])
    assert result.exit_code == 2
    assert result.stderr == ("edi837: --nights needs --out-dir DIR (the folder for the nightly "
                             "files and manifest.json) and does not take -o (an option for one "
                             "file)\n")
    result = runner.invoke(main, ["generate", "--nights", "40", "--out-dir", str(tmp_path / "n"),
                                  "--size", "1MB", "--claims", "3", "--defect-rate", "0.1"])
    assert result.exit_code == 2
    assert result.stderr == ("edi837: --nights does not take --claims, --size, --defect-rate "
                             "(options for one file)\n")
    assert not (tmp_path / "n").exists() and not (tmp_path / "x.edi").exists()


def test_a_nights_count_under_the_minimum_is_named_before_the_missing_folder():
    result = CliRunner().invoke(main, ["generate", "--nights", "3"])
    assert result.exit_code == 2 and "3 is not in the range x>=30" in result.output
    assert "Traceback" not in result.output and "does not take" not in result.output


def test_out_dir_without_nights_is_named(tmp_path):
    result = CliRunner().invoke(main, ["generate", "--out-dir", str(tmp_path / "n"),
                                       "-o", str(tmp_path / "x.edi"), "--claims", "2"])
    assert result.exit_code == 2
    assert result.stderr == "edi837: --out-dir is for --nights N; for one file give -o FILE\n"
    assert not (tmp_path / "x.edi").exists()


def _nights_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("night-"))


def test_a_corpus_over_an_old_one_is_refused_without_force(tmp_path):
    """Issue 24 item 18: no stale nights beside new ones."""
    folder = tmp_path / "nights"
    first = generated(folder, 0, 60)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = CliRunner().invoke(main, ["generate", "--nights", "30", "--seed", "1",
                                       "--out-dir", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert str(folder) in result.output and "--force" in result.output
    assert f"{len(first['files'])} nightly files" in result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # untouched


def test_force_replaces_the_old_corpus_whole(tmp_path):
    folder = tmp_path / "nights"
    generated(folder, 0, 200)
    (folder / "notes.txt").write_text("mine\n")  # not the corpus's: left alone
    result = CliRunner().invoke(main, ["generate", "--nights", "30", "--seed", "1",
                                       "--out-dir", str(folder), "--force"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert _nights_in(folder) == sorted(manifest["files"])  # no stale night beside them
    assert (folder / "notes.txt").read_text() == "mine\n"
    fresh = tmp_path / "fresh"
    assert generated(fresh, 1, 30) == manifest  # the same corpus as in an empty folder
