"""Issue 24 items 7-9: acknowledgments of hostile inputs.  Every 999 and 277CA
written here is checked by pyx12 as an independent validator."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_support import drop, options, summaries
from hostile_corpus import BASE_I, text, with_delimiters
from pyx12check import pyx12_verdict
from edi837.batch import run_batch
from edi837.cli import main


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of every 999 here: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def valid(path: Path) -> None:
    ok, errors = pyx12_verdict(path)
    assert ok, f"{path.name}: {errors}\n{path.read_text(encoding='latin-1')}"


def segments(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text(encoding="latin-1").split("~") if s.strip()]


# -- item 8: an 837I whose ST03 is not its GS08 ------------------------------------
ST03_NOT_GS08 = text([s.replace("ST*837*0001*005010X223A2", "ST*837*0001*005010X222A1")
                      for s in BASE_I]).encode()


@pytest.fixture
def st03_file(tmp_path) -> Path:
    assert b"ST*837*0001*005010X222A1" in ST03_NOT_GS08
    path = tmp_path / "st03.edi"
    path.write_bytes(ST03_NOT_GS08)
    return path


def _rejected_by_999(ack: Path) -> None:
    valid(ack)
    found = segments(ack)
    assert "IK5*R*I6" in found  # implementation convention not supported
    assert any(s.startswith("AK9*R*1*1*0") for s in found)


def test_validate_ack_rejects_an_st03_that_is_not_gs08(tmp_path, st03_file):
    result = CliRunner().invoke(main, ["validate", str(st03_file), "--ack", str(tmp_path / "a")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    assert "IGE7" in result.output and "ST03" in result.output
    _rejected_by_999(tmp_path / "a" / "st03.999")


def test_ack_rejects_an_st03_that_is_not_gs08(tmp_path, st03_file):
    result = CliRunner().invoke(main, ["ack", str(st03_file), "--out-dir", str(tmp_path / "a")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    assert "rejects it (R)" in result.output
    _rejected_by_999(tmp_path / "a" / "st03.999")
    assert not (tmp_path / "a" / "st03.277").exists()  # a rejected set gets no 277CA


def test_check_ack277_rejects_an_st03_that_is_not_gs08(tmp_path, st03_file):
    result = CliRunner().invoke(main, ["check", str(st03_file), "--ack277", str(tmp_path / "a")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    _rejected_by_999(tmp_path / "a" / "st03.999")


def test_batch_does_not_quarantine_an_st03_that_is_not_gs08(tmp_path):
    opts = options(tmp_path, ack277=True, settle=0.0, archive=tmp_path / "archive",
                   quarantine=tmp_path / "quarantine")
    drop(opts.inbox, "st03.edi", ST03_NOT_GS08)
    status = run_batch(opts)
    assert status != 2
    assert not any((tmp_path / "quarantine").rglob("*.edi"))
    [summary] = summaries(opts.out)
    assert "internal" not in repr(summary).lower()
    [ack] = list(opts.out.rglob("st03.999"))
    _rejected_by_999(ack)


# -- item 9: delimiters inside a claim id ------------------------------------------
def x12_segments(path: Path) -> list[list[str]]:
    """A file's segments split by the delimiters its ISA names."""
    data = path.read_text(encoding="latin-1")
    element, terminator = data[3], data[105]
    component = data[104]
    assert data[106] == "\n"
    return [s.strip("\n").split(element) for s in data.split(terminator) if s.strip()], component


def _ack(tmp_path, data: bytes, name: str):
    path = tmp_path / f"{name}.edi"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "acks")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result, tmp_path / "acks" / f"{name}.277"


def test_a_claim_id_holding_the_usual_delimiters_is_echoed_in_the_837s_own(tmp_path):
    data = with_delimiters("|", "^", ">", "!").replace(b"CLM|HC-CLEAN|", b"CLM|A*~:|")
    assert b"CLM|A*~:|" in data
    result, ack = _ack(tmp_path, data, "odd")
    valid(ack)
    found, component = x12_segments(ack)
    assert ["TRN", "2", "A*~:"] in found  # TRN02 is the CLM01 sent, not "A"
    assert found[0][16] == ">" and component == ">"
    stc = [s for s in found if s[0] == "STC"]
    assert stc and all(">" in s[1] for s in stc)


def test_a_claim_id_holding_the_277cas_own_delimiters_gets_no_mangled_trn02(tmp_path):
    # A newline terminator cannot be the 277CA's: it is written in * ^ : ~, and the
    # set whose CLM01 holds '*' is not acknowledged rather than echoed as another id.
    from test_ack277 import write
    from edi837.drugs import load_drug_table
    data = with_delimiters("|", "^", ">", "\n", newline="").replace(b"CLM|HC-CLEAN|",
                                                                     b"CLM|A*~:|")
    path = tmp_path / "nl.edi"
    path.write_bytes(data)
    result = write(path, load_drug_table([]), tmp_path / "acks")
    assert result.output is None and not (tmp_path / "acks" / "nl.277").exists()
    [skipped] = result.skipped
    assert "'A*~:'" in skipped and "TRN02" in skipped


@pytest.mark.parametrize("value", ["A*~:", "x|y!z>w^v", "~~~", "*", "a\x07b"])
def test_no_value_breaks_the_277ca_in_any_delimiters(value):
    from edi837.acks import x214
    for delimiters in (x214.STANDARD, ("|", "^", ">", "!"), ("!", "{", "}", "'")):
        text = x214.serialise([["TRN", "2", x214.clean(value)]], delimiters)
        element, terminator = delimiters[0], delimiters[3]
        assert text.count(terminator) == 1 and text.count(element) == 2
        assert all(c not in text.split(element)[2] for c in delimiters[1:3])
