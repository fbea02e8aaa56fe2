"""`fix --split`, `ack`, `batch --split` and edi837.fix() judge a claim by the imported
CMS reference data exactly as `check` does (a new user's trial, round 4): a claim above
the imported MUE (UNT004 within the claim) is held and rejected, not forwarded in
accepted.edi and accepted A1:20.  UNT004 has a part in the history stage too (units
summed across claims); the re-check of a fixed file must keep the claim's own part.

Every EDI written here is read by pyx12 (split files and 277CAs)."""
from __future__ import annotations

import json

import pytest
import refdata_files as files
from batch_support import HOUR, drop, options
from click.testing import CliRunner
from pyx12check import pyx12_verdict
from test_ack277 import rejected, valid
from test_history import claim, night, subscriber

from edi837.api import fix
from edi837.batch import run_batch
from edi837.cli import main
from edi837.fix.run import from_history_stage
from edi837.refdata import import_files


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def mue_store(tmp_path_factory):
    """An MUE file as CMS names it: J2350 500 units, MAI 3, from 2026-04-01."""
    directory = tmp_path_factory.mktemp("mue")
    rows = [["J2350", "500", "3 Date of Service Edit: Clinical", "Clinical"]]
    import_files([files.write(directory, "MCR_MUE_PractitionerServices_Eff_04-01-2026.csv",
                              files.mue(rows=rows))], directory / "rdmue")
    return directory / "rdmue"


def claims_file(tmp_path):
    """C-MUE: 600 units of J2350 on one date (above the MUE of 500); C-OK: 300 units."""
    return night(tmp_path, "ref.edi", subscriber(2), claim("C-MUE", "20260505"),
                 claim("C-OK", "20260506", units=300))


def readable(path) -> str:
    ok, messages = pyx12_verdict(path)
    assert ok, messages
    return path.read_text()


def held_ids(out, stem: str) -> set[str]:
    return {c["claim_id"] for c in json.loads((out / f"{stem}.held.json").read_text())["held"]}


def split_claims(out, stem: str) -> tuple[str, str]:
    return readable(out / f"{stem}.accepted.edi"), readable(out / f"{stem}.held.edi")


@pytest.mark.parametrize("how", ["api", "cli", "environment"])
def test_fix_split_holds_a_claim_above_the_imported_mue(tmp_path, mue_store, monkeypatch,
                                                        how):
    path, out = claims_file(tmp_path), tmp_path / "out"
    if how == "api":
        [result] = fix([path], out, split=True, refdata=mue_store).files
        assert {(f.rule, f.claim_id) for f in result.remaining} == {("UNT004", "C-MUE")}
        assert (result.split.accepted, len(result.split.held)) == (1, 1)
    else:
        if how == "environment":
            monkeypatch.setenv("EDI837_REFDATA", str(mue_store))
        refdata = ["--refdata", str(mue_store)] if how == "cli" else []
        done = CliRunner().invoke(main, ["fix", str(path), "--out-dir", str(out), "--split",
                                         *refdata])
        assert done.exit_code == 1, done.output
        assert "1 claim(s) accepted, 1 held; 1 error(s) remain" in done.output
    accepted, held = split_claims(out, "ref")
    assert "CLM*C-OK*" in accepted and "CLM*C-MUE*" not in accepted
    assert "CLM*C-MUE*" in held
    assert held_ids(out, "ref") == {"C-MUE"}


def test_without_the_reference_data_both_claims_are_forwarded(tmp_path):
    path, out = claims_file(tmp_path), tmp_path / "out"
    [result] = fix([path], out, split=True).files
    assert not list(result.remaining) and result.split.accepted == 2
    assert "CLM*C-MUE*" in readable(out / "ref.accepted.edi")


def test_the_mue_summed_across_claims_still_holds_the_later_claim(tmp_path, mue_store):
    """The history stage's part of UNT004: 300 + 450 units of one patient on one date."""
    path = night(tmp_path, "two.edi", subscriber(2), claim("C-A", "20260507", units=300),
                 claim("C-B", "20260507", units=450))
    out = tmp_path / "out"
    [result] = fix([path], out, split=True, refdata=mue_store).files
    unt = [f for f in result.remaining if f.rule == "UNT004"]
    assert [f.claim_id for f in unt] == ["C-B"] and "across claims" in unt[0].message
    assert from_history_stage(unt[0])
    assert held_ids(out, "two") == {"C-B"}
    assert "CLM*C-A*" in split_claims(out, "two")[0]


def test_ack_rejects_what_check_ack277_rejects(tmp_path, mue_store):
    path, runner = claims_file(tmp_path), CliRunner()
    acked = runner.invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "acks"),
                                 "--refdata", str(mue_store)])
    assert acked.exit_code == 1, acked.output
    assert "1 claim(s) accepted, 1 rejected" in acked.output
    checked = runner.invoke(main, ["check", str(path), "--refdata", str(mue_store),
                                   "--ack277", str(tmp_path / "checkacks")])
    assert checked.exit_code == 1, checked.output
    by_ack = valid(tmp_path / "acks" / "ref.277")
    assert rejected(by_ack) == rejected(valid(tmp_path / "checkacks" / "ref.277")) \
        == {"C-MUE"}
    assert any(s[0] == "STC" and s[1] == "A7:476" for s in by_ack)
    # fix --split --ack277 says the same
    fixed = runner.invoke(main, ["fix", str(path), "--out-dir", str(tmp_path / "fix"),
                                 "--split", "--refdata", str(mue_store),
                                 "--ack277", str(tmp_path / "fixacks")])
    assert fixed.exit_code == 1, fixed.output
    assert rejected(valid(tmp_path / "fixacks" / "ref.277")) == {"C-MUE"}


def test_ack_without_the_reference_data_accepts_both(tmp_path):
    done = CliRunner().invoke(main, ["ack", str(claims_file(tmp_path)), "--out-dir",
                                     str(tmp_path / "acks")])
    assert done.exit_code == 0, done.output
    assert rejected(valid(tmp_path / "acks" / "ref.277")) == set()


@pytest.mark.parametrize("command", ["fix", "ack"])
def test_a_refdata_folder_without_reference_data_is_misuse(tmp_path, command):
    missing = tmp_path / "nothing-here"
    done = CliRunner().invoke(main, [command, str(claims_file(tmp_path)), "--out-dir",
                                     str(tmp_path / "out"), "--refdata", str(missing)])
    assert done.exit_code == 2, done.output
    assert str(missing) in done.output and "Traceback" not in done.output


@pytest.mark.parametrize("refdata", [True, False])
def test_batch_split_holds_a_claim_above_the_imported_mue(tmp_path, mue_store, refdata):
    opts = options(tmp_path, split=True, settle=0.0, refdata=mue_store if refdata else None)
    drop(opts.inbox, "ref.edi", claims_file(tmp_path).read_bytes(), age=HOUR)
    assert run_batch(opts) == (1 if refdata else 0)
    [accepted] = list(opts.out.rglob("ref.accepted.edi"))
    text = readable(accepted)
    assert "CLM*C-OK*" in text and ("CLM*C-MUE*" not in text) == refdata
