"""`fix --split --control-numbers FILE`: the split files take new interchange and
group control numbers, so the accepted file of a corrected resend does not
repeat the first one's ISA13 (a payer rejects a repeated interchange as a
duplicate).  Without it, both keep the input's, as before.  Every file written
is read by pyx12."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_corpus import BASE_BYTES, data, interchange
from pyx12check import pyx12_verdict

from edi837.cli import main


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def envelope(path: Path) -> list[tuple[str, str]]:
    """(tag, control number) of each ISA, GS, GE and IEA, in order."""
    text = path.read_text(encoding="latin-1")
    found = []
    for segment in text.split("~"):
        fields = segment.strip().split("*")
        position = {"ISA": 13, "GS": 6, "GE": 2, "IEA": 2}.get(fields[0])
        if position is not None:
            found.append((fields[0], fields[position]))
    return found


def split(tmp_path: Path, source: Path, out: str, *extra: str):
    result = CliRunner().invoke(main, ["fix", str(source), "--out-dir", str(tmp_path / out),
                                       "--split", "-q", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    stem = source.stem
    return result, tmp_path / out / f"{stem}.accepted.edi", tmp_path / out / f"{stem}.held.edi"


def valid(path: Path) -> None:
    ok, errors = pyx12_verdict(path)
    assert ok, errors


def test_without_the_option_both_keep_the_inputs_numbers(tmp_path):
    source = tmp_path / "claims.edi"
    source.write_bytes(BASE_BYTES)
    result, accepted, held = split(tmp_path, source, "out")
    assert result.exit_code == 1, result.output  # HC-HELD has no NDC
    for written in (accepted, held):
        valid(written)
        assert envelope(written) == [("ISA", "000000101"), ("GS", "1"), ("GE", "1"),
                                     ("IEA", "000000101")]


def test_each_split_file_takes_new_numbers_and_a_resend_never_repeats_them(tmp_path):
    counter = tmp_path / "numbers"
    source = tmp_path / "claims.edi"
    source.write_bytes(BASE_BYTES)
    result, accepted, held = split(tmp_path, source, "out", "--control-numbers", str(counter))
    assert result.exit_code == 1, result.output
    for written in (accepted, held):
        valid(written)
    assert envelope(accepted) == [("ISA", "000000001"), ("GS", "2"), ("GE", "2"),
                                  ("IEA", "000000001")]
    assert envelope(held) == [("ISA", "000000003"), ("GS", "4"), ("GE", "4"),
                              ("IEA", "000000003")]
    assert counter.read_text().strip() == "4"
    # the biller adds the NDC to the held claim and sends the held file again
    resend = tmp_path / "resend.edi"
    resend.write_bytes(held.read_bytes().replace(
        b"DTP*472*D8*20260115~\nNM1*DK", b"DTP*472*D8*20260115~\nLIN**N4*50242015001~\n"
        b"CTP****20*ML~\nNM1*DK"))
    result, again, still_held = split(tmp_path, resend, "out2", "--control-numbers",
                                      str(counter))
    assert result.exit_code == 0, result.output
    assert not still_held.exists()
    valid(again)
    assert envelope(again)[0] == ("ISA", "000000005")  # not the first accepted file's


def test_two_interchanges_each_take_their_own(tmp_path):
    source = tmp_path / "two.edi"
    source.write_bytes(BASE_BYTES + data(interchange(control="000000102", group="7")))
    # (the second repeats the first's claims: HIS001 holds them all, beside HC-HELD)
    result, accepted, held = split(tmp_path, source, "out", "--control-numbers",
                                   str(tmp_path / "numbers"))
    valid(accepted)
    valid(held)
    numbers = envelope(held)
    assert [n for tag, n in numbers if tag == "ISA"] == ["000000003", "000000005"]
    assert [n for tag, n in numbers if tag == "IEA"] == ["000000003", "000000005"]
    assert [n for tag, n in numbers if tag == "GS"] == [n for tag, n in numbers if tag == "GE"]


@pytest.mark.parametrize("flags", [[], ["--split", "--dry-run"]])
def test_the_option_needs_a_split_that_writes(tmp_path, flags):
    source = tmp_path / "claims.edi"
    source.write_bytes(BASE_BYTES)
    result = CliRunner().invoke(main, ["fix", str(source), "--out-dir", str(tmp_path / "o"),
                                       "--control-numbers", str(tmp_path / "n"), *flags])
    assert result.exit_code == 2
    assert "--control-numbers renumbers the split files" in result.output
    assert not (tmp_path / "o").exists()


def test_a_damaged_counter_stops_the_run_before_anything_is_written(tmp_path):
    source = tmp_path / "claims.edi"
    source.write_bytes(BASE_BYTES)
    (tmp_path / "n").write_text("not a number\n")
    result, accepted, _ = split(tmp_path, source, "out", "--control-numbers",
                                str(tmp_path / "n"))
    assert result.exit_code == 2, result.output
    assert not accepted.exists()
