"""`validate` judges what is an 837 as `check` does (a new user's trial, round 4): a file
that is not an 837 (an 835, a 999 or 277 `ack` wrote) is unreadable, EDI005, exit 2,
and its 999 accepts nothing; a 4010 set inside a 5010 group is reported (EDI005) and
the 999 rejects that set (IK5 R, code 1: transaction set not supported), so its claims
are not taken as acknowledged.  Every 999 written here is read by pyx12."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict
from test_validate import PROFESSIONAL, multi_set

from edi837.cli import main
from edi837.validate import validate_paths

DATA = Path(__file__).resolve().parents[1] / "data"
NOT_837 = DATA / "malformed" / "not-837.edi"
ENV_4010 = DATA / "hostile" / "env-4010-transaction.edi"


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of every 999 in these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def segments(path: Path) -> list[list[str]]:
    ok, messages = pyx12_verdict(path)
    assert ok, messages
    return [line.rstrip("~").split("*") for line in path.read_text().splitlines() if line]


def set_verdicts(path: Path) -> dict[str, list[str]]:
    """ST02 of each acknowledged set -> its IK5."""
    verdicts, current = {}, None
    for segment in segments(path):
        if segment[0] == "AK2":
            current = segment[2]
        elif segment[0] == "IK5":
            verdicts[current] = segment[1:]
    return verdicts


def validated(tmp_path, path: Path):
    return CliRunner().invoke(main, ["validate", str(path), "--ack", str(tmp_path / "acks")])


def test_an_835_is_unreadable_and_its_999_accepts_nothing(tmp_path):
    done = validated(tmp_path, NOT_837)
    assert done.exit_code == 2, done.output
    assert "not-837.edi:3: EDI005 transaction set 835 is not an 837 claim" in done.output
    assert "1 file (0 OK)" in done.output
    ack = tmp_path / "acks" / "not-837.999"
    assert set_verdicts(ack) == {"0001": ["R", "1"]}
    assert ["AK9", "R", "1", "1", "0"] in segments(ack)


def test_acknowledgments_ack_wrote_are_not_837s(tmp_path):
    """The 999 and 277CA `ack` writes for a clean file, validated: unreadable, exit 2."""
    source = tmp_path / "clean.edi"
    source.write_bytes((DATA.parent.parent / "samples" / "837p-j2350-clean.edi").read_bytes())
    runner = CliRunner()
    acked = runner.invoke(main, ["ack", str(source), "--out-dir", str(tmp_path / "first")])
    assert acked.exit_code == 0, acked.output
    for written, code in (("clean.999", "999"), ("clean.277", "277")):
        done = runner.invoke(main, ["validate", str(tmp_path / "first" / written)])
        assert done.exit_code == 2, done.output
        assert f"EDI005 transaction set {code} is not an 837 claim" in done.output
    report = validate_paths([tmp_path / "first" / "clean.277"])
    [result] = report.files
    assert result.status == "unreadable" and report.exit_status() == 2


def test_a_4010_set_in_a_5010_group_is_reported_and_rejected_by_the_999(tmp_path):
    done = validated(tmp_path, ENV_4010)
    assert done.exit_code == 2, done.output  # as `check` says of it
    assert "env-4010-transaction.edi:78: EDI005 837 version 004010X098A1" in done.output
    ack = tmp_path / "acks" / "env-4010-transaction.999"
    assert set_verdicts(ack) == {"0001": ["A"], "0002": ["R", "1"]}
    assert ["AK9", "P", "2", "2", "1"] in segments(ack)


def test_an_835_set_beside_837_sets_is_an_error_and_rejected_alone(tmp_path):
    """Not unreadable (its 837s are read, as by `check`): an error finding, exit 1."""
    text = multi_set(3).replace("ST*837*0002*005010X222A1", "ST*835*0002*005010X221A1")
    path = tmp_path / "mixed.edi"
    path.write_text(text)
    checked = CliRunner().invoke(main, ["check", str(path)])
    done = validated(tmp_path, path)
    assert checked.exit_code == done.exit_code == 1, (checked.output, done.output)
    assert "EDI005 error transaction set 835 is not an 837 claim" in done.output
    # pyx12 leaves an 835 set in an HC group out of its 999 (and finds the 837 sets
    # around it in error): whatever it says of the others, it accepts no 835
    assert set_verdicts(tmp_path / "acks" / "mixed.999").get("0002", ["R"])[0] == "R"


def test_an_837_is_still_accepted(tmp_path, edi_file):
    path = edi_file(PROFESSIONAL, name="clean.edi")
    done = validated(tmp_path, path)
    assert done.exit_code == 0, done.output
    assert "EDI005" not in done.output
    assert set_verdicts(tmp_path / "acks" / "clean.999") == {"0001": ["A"]}
