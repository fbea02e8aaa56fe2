"""EDI009: a segment that ends in empty elements (an element separator right before the
terminator) is an X12 syntax error `check` reports and `fix` mends (trial 7, item 1).

pyx12 reports it (SEG1) and the 999 rejects the whole set; `check` said nothing and
`fix` copied it, so the corrected file failed `validate`.  Now an error where the
segment is (a claim's, an HL loop's: every claim under it, a set header's), on both
reader paths alike, and a safe fix: the segment is written again ending at its last
value.  Every file `fix` writes here is read by pyx12."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine

SAMPLE = (Path(__file__).parents[2] / "samples" / "837p-j2350-clean.edi").read_text()
SBR, HI, RECEIVER = ("SBR*P*18*******MB~", "HI*ABK:G35~",
                     "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*EXCLEAR01~")


def trailing(text: str = SAMPLE, *, sbr=False, hi=False, header=False) -> str:
    if sbr:
        text = text.replace(SBR, "SBR*P*18*******~", 1)
    if hi:
        text = text.replace(HI, "HI*ABK:G35**~", 1)
    if header:
        text = text.replace(RECEIVER, RECEIVER[:-1] + "*~", 1)
    return text


def edi009(tmp_path, text: str, fast: bool = True) -> list:
    path = tmp_path / "in.edi"
    path.write_text(text)
    engine = Engine(load_drug_table(), fast=fast)
    try:
        result = engine.check_file(path)
    finally:
        engine.close()
    return [f for f in result.findings if f.rule == "EDI009"]


def test_a_clean_file_has_none(tmp_path):
    assert edi009(tmp_path, SAMPLE) == []


@pytest.mark.parametrize("fast", [True, False])
def test_where_the_segment_is_on_both_reader_paths(tmp_path, fast):
    found = edi009(tmp_path, trailing(sbr=True, hi=True, header=True), fast)
    where = [(f.segment, f.loop, f.claim_id, f.severity, f.value) for f in found]
    assert where == [("NM1", "1000", None, "error", "NM1 (1 trailing)"),
                     ("SBR", "2000B", "CLEAN-P1-A", "error", "SBR (7 trailing)"),
                     ("HI", "2300", "CLEAN-P1-A", "error", "HI (2 trailing)")]
    sbr = found[1]
    assert sbr.payer_id == "99901" and sbr.claim_first is not None
    assert sbr.fix is not None and "drop the 7 empty elements at the end of SBR" in \
        sbr.fix.description
    assert "ends in 7 empty elements" in sbr.message


def test_check_holds_the_claims_under_the_subscriber(tmp_path):
    path = tmp_path / "in.edi"
    path.write_text(trailing(sbr=True))
    done = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert done.exit_code == 1, done.output
    summary = json.loads(done.output)["summary"]
    # CLEAN-P1-A holds it; CLEAN-P1-B, under the same subscriber, is held from above
    assert (summary["claims_held"], summary["claims_held_above"]) == (1, 1)


@pytest.mark.slow
def test_fix_drops_them_and_the_output_validates(tmp_path):
    path = tmp_path / "in.edi"
    path.write_text(trailing(sbr=True, hi=True, header=True))
    assert not pyx12_verdict(path)[0]  # the input: SEG1, set rejected
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["fix", str(path), "--out-dir", str(out), "--split"])
    assert done.exit_code == 0, done.output
    fixed = (out / "in.edi").read_text()
    assert "SBR*P*18~" in fixed and "HI*ABK:G35~" in fixed and RECEIVER in fixed
    ok, messages = pyx12_verdict(out / "in.edi")
    assert ok, messages
    ok, messages = pyx12_verdict(out / "in.accepted.edi")
    assert ok, messages
    changes = json.loads((out / "in.edi.changes.json").read_text())
    rules = [c["rule"] for c in changes["changes"]]
    assert rules.count("EDI009") == 3
    # nothing else changed: the file is the sample again, separators aside
    assert fixed == SAMPLE.replace(SBR, "SBR*P*18~", 1)


def test_a_segment_with_no_value_left_is_reported_not_fixed(tmp_path):
    """Dropping every element would leave a bare id, no segment to write: no fix."""
    found = edi009(tmp_path, SAMPLE.replace(HI, "HI***~", 1))
    assert [(f.segment, f.value, f.fix) for f in found] == [("HI", "HI (3 trailing)", None)]
