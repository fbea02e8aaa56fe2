"""`fix --split --ack277`: a claim in a transaction set the 999 rejects is never
forwarded (trial 7, item 1).

The submitter sends a set the 999 rejects again, whole; a claim of it in
`accepted.edi` would reach the payer twice.  So the split holds every claim of such
a set, with the 999's reason (IGH<IK502> on the set's ST), counted in the held
report and the summary line, and the accepted file holds only the sets the 999
accepted.  The 999, the 277CA and the split files are read by pyx12."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837.cli import main

SAMPLE = (Path(__file__).parents[2] / "samples" / "837p-j2350-clean.edi").read_text()
SET_ONE = ["CLEAN-P1-A", "CLEAN-P1-B", "CLEAN-P2-A", "CLEAN-P3-A", "CLEAN-P4-A"]
SET_TWO = [claim + "B" for claim in SET_ONE]


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def two_sets(first_sbr: str = "SBR*P*18*******MB~") -> str:
    """The clean sample's set twice in one group: 0001 as sent (its first SBR
    ``first_sbr``), 0002 its copy for other members and claim ids."""
    start, end = SAMPLE.index("ST*837"), SAMPLE.index("GE*1*101")
    second = SAMPLE[start:end].replace("ST*837*0001", "ST*837*0002").replace("*0001~", "*0002~")
    second = re.sub(r"\*MI\*([0-9A-Z]+)", lambda m: "*MI*" + m.group(1)[:-1] + "Z", second)
    second = re.sub(r"CLM\*([^*]+)", lambda m: "CLM*" + m.group(1) + "B", second)
    text = SAMPLE[:end] + second + SAMPLE[end:].replace("GE*1*101", "GE*2*101")
    first = text.replace("SBR*P*18*******MB~", first_sbr, 1)
    assert first_sbr.endswith("MB~") or first != text
    return first


def claims_in(path: Path) -> list[str]:
    return re.findall(r"CLM\*([^*]+)\*", path.read_text())


def valid(path: Path) -> None:
    ok, messages = pyx12_verdict(path)
    assert ok, f"{path.name}: {messages}"


@pytest.mark.slow
def test_split_holds_every_claim_of_a_set_the_999_rejects(tmp_path):
    source = tmp_path / "night.edi"
    source.write_text(two_sets("SBR*P*18*******~"))  # trailing separators: 999 IK3 SEG1
    out, acks = tmp_path / "out", tmp_path / "acks"
    run = CliRunner().invoke(main, ["fix", str(source), "--out-dir", str(out), "--split",
                                    "--ack277", str(acks)])
    assert run.exit_code == 1, run.output
    ack = (acks / "night.999").read_text()
    assert "AK2*837*0001" in ack and "IK5*R*5" in ack  # the set with the bad SBR
    assert "IK5*A" in ack  # 0002
    valid(acks / "night.999")
    assert "5 claim(s) accepted, 5 held" in run.stdout
    assert claims_in(out / "night.accepted.edi") == SET_TWO
    valid(out / "night.accepted.edi")
    assert claims_in(out / "night.held.edi") == SET_ONE
    # fix mends the trailing separators (EDI009): what it wrote validates, the held
    # claims too, though the 999 (of the input as sent) rejects their set
    assert "EDI009" in (out / "night.edi.changes.txt").read_text()
    valid(out / "night.edi")
    valid(out / "night.held.edi")
    held = json.loads((out / "night.held.json").read_text())
    assert held["claims_held"] == 5 and held["claims_accepted"] == 5
    reasons = {c["claim_id"]: [r["rule"] for r in c["reasons"]] for c in held["held"]}
    assert reasons == dict.fromkeys(SET_ONE, ["IGH5"])
    assert "the 999 rejects transaction set 0001 (IK5*R*5)" in \
        (out / "night.held.txt").read_text()
    ack277 = (acks / "night.277").read_text()  # set 0002 only: 0001 is the 999's to answer
    assert all(claim in ack277 for claim in SET_TWO)
    assert not any(f"TRN*2*{claim}~" in ack277 for claim in SET_ONE)
    valid(acks / "night.277")


@pytest.mark.slow
def test_split_forwards_both_sets_the_999_accepts(tmp_path):
    source = tmp_path / "night.edi"
    source.write_text(two_sets())
    out, acks = tmp_path / "out", tmp_path / "acks"
    run = CliRunner().invoke(main, ["fix", str(source), "--out-dir", str(out), "--split",
                                    "--ack277", str(acks)])
    assert run.exit_code == 0, run.output
    assert "10 claim(s) accepted, 0 held" in run.stdout
    assert claims_in(out / "night.accepted.edi") == SET_ONE + SET_TWO
    assert not (out / "night.held.edi").exists()
    valid(out / "night.accepted.edi")
    valid(acks / "night.277")


@pytest.mark.slow
def test_validate_names_the_claim_under_a_subscriber_loop_in_error(tmp_path):
    """`validate`'s finding on a 2000B SBR names the first claim under it (trial 7,
    item 4); one on a claim's own segment its claim, one in the set header none."""
    from edi837.validate import validate_paths

    source = tmp_path / "night.edi"
    text = two_sets("SBR*P*18*******~").replace(  # the set header's receiver: no claim
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*EXCLEAR01~",
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*EXCLEAR01*~", 1)
    source.write_text(text.replace("HI*ABK:G35~", "HI*ABK:G35*~", 1))
    found = {(f.segment, f.rule): f for f in validate_paths([source]).files[0].findings}
    sbr = found["SBR", "IGSSEG1"]
    assert (sbr.claim_id, sbr.loop, sbr.payer_id) == ("CLEAN-P1-A", "2000B", "99901")
    assert sbr.claim_first is not None and sbr.claim_first > sbr.segment_index
    assert found["HI", "IGSSEG1"].claim_id == "CLEAN-P1-A"
    assert found["NM1", "IGSSEG1"].claim_id is None


@pytest.mark.slow
def test_batch_split_holds_every_claim_of_a_set_its_999_rejects(tmp_path):
    # batch --split --ack277 forwards what `fix --split --ack277` forwards: the set the
    # 999 (written by step 1) rejects is held whole, the other set is accepted
    from batch_support import HOUR, drop, options

    from edi837.batch import run_batch

    opts = options(tmp_path, split=True, ack277=True)
    drop(opts.inbox, "night.edi", two_sets("SBR*P*18*******~").encode(), age=HOUR)
    run_batch(opts)
    [accepted] = list(opts.out.rglob("night.accepted.edi"))
    [held] = list(opts.out.rglob("night.held.edi"))
    assert claims_in(accepted) == SET_TWO
    assert claims_in(held) == SET_ONE
    valid(accepted)
    reasons = json.loads(held.with_suffix(".json").read_text())["held"]
    assert {r["rule"] for c in reasons for r in c["reasons"]} >= {"IGH5"}
