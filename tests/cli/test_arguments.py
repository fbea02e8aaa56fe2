"""edi837.arguments: the command line and the Python API check their shared arguments
in one place, so a refusal reads the same from both (the command names its options
with dashes and exits 2)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

import edi837
from edi837.cli import main


def refusal(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, result.output
    return result.stderr


def test_a_code_matching_no_rule_is_the_same_refusal(edi_file):
    path = edi_file(CLEAN_J2350_CLAIM)
    with pytest.raises(edi837.OptionsError) as raised:
        edi837.check(path, select="NDX001")
    said = refusal("check", str(path), "--select", "NDX001")
    assert "NDX001" in str(raised.value)
    assert said == f"edi837: {raised.value}\n".replace("select", "--select")
    with pytest.raises(edi837.OptionsError) as raised:
        edi837.fix(path, "out", ignore="MODX")
    assert refusal("fix", str(path), "--out-dir", "out", "--ignore", "MODX") \
        == f"edi837: {raised.value}\n".replace("ignore", "--ignore")


def test_a_folder_without_837_files_is_the_same_refusal(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(edi837.InputError) as raised:
        edi837.extract(empty)
    for command in (["check"], ["extract"], ["fix", "--out-dir", str(tmp_path / "o")]):
        assert refusal(command[0], str(empty), *command[1:]) == f"edi837: {raised.value}\n"


def test_a_broken_drug_table_says_each_problem_on_a_line_of_its_own(edi_file, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM)
    broken = tmp_path / "extra.toml"
    broken.write_text('[[drug]]\nhcpcs = "J9999"\n')  # none of what a drug needs
    with pytest.raises(edi837.OptionsError) as raised:
        edi837.check(path, drug_tables=[broken])
    lines = raised.value.lines
    assert len(lines) >= 1 and all("extra.toml" in line for line in lines)
    assert refusal("check", str(path), "--drug-table", str(broken)) \
        == "".join(f"edi837: {line}\n" for line in lines)


def test_extract_says_each_files_problems_as_the_file_is_done(edi_file, tmp_path):
    """The command is a client of edi837.extract: on_file gets each file's problems
    after its rows, and the command prints them one a line, between the files."""
    stray = edi_file("LX*1\nSV1*HC:J2350*9000*UN*600***1\n" + CLEAN_J2350_CLAIM,
                     name="a-stray.edi")
    clean = edi_file(CLEAN_J2350_CLAIM, name="b-clean.edi")
    (tmp_path / "c-not-x12.edi").write_text("not an interchange\n")
    seen: list[tuple[str, list[str], int]] = []
    lines = edi837.extract(tmp_path, errors="report",
                           on_file=lambda path, problems: seen.append(
                               (path.name, [f.rule for f in problems], rows[0])))
    rows = [0]
    for _ in lines.records():
        rows[0] += 1
    assert seen == [("a-stray.edi", ["EDI007"], 1), ("b-clean.edi", [], 2),
                    ("c-not-x12.edi", ["EDI001"], 2)]
    assert lines.exit_status == 2 and {clean, stray} <= set(lines.inputs)
    result = CliRunner().invoke(main, ["extract", str(tmp_path), "--format", "jsonl"])
    assert result.exit_code == 2
    said = result.stderr.splitlines()
    assert len(said) == 2
    assert said[0].startswith(f"edi837: {stray}:") and ": EDI007 " in said[0]
    assert said[1].startswith(f"edi837: {tmp_path / 'c-not-x12.edi'}") and ": EDI001 " in said[1]
    assert len(result.stdout.splitlines()) == 2
