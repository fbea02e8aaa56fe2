"""`fix --split` and `ack` over several files: the run's patient history keeps the claims
as they are forwarded, the safe fixes applied, as `batch --split` does
(test_batch_split_history.py).  A claim held in its input only for what a safe fix
corrects (Medicare FFS, JZ missing: MOD001) goes out in accepted.edi (its 277CA
accepts it), so the same claim sent again in a later file of the run is a duplicate
(HIS001): held, and rejected in that file's 277CA.

Every EDI written here is read by pyx12 (split files and 277CAs)."""
from __future__ import annotations

import json

import pytest
from pyx12check import pyx12_verdict
from test_ack277 import rejected, valid
from test_history import claim, night, subscriber

from edi837.acks.run import Acknowledger
from edi837.api import fix
from edi837.config import Config
from edi837.drugs import load_drug_table


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def two_nights(tmp_path, second_date: str):
    """monday.edi: C1 without JZ (held by MOD001 until fixed); tuesday.edi: the corrected
    claim sent again as C2, on ``second_date``."""
    first = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115", modifiers=""))
    second = night(tmp_path, "tuesday.edi", subscriber(2), claim("C2", second_date))
    return first, second


def held_ids(out, stem: str) -> set[str]:
    held = out / f"{stem}.held.json"
    return {c["claim_id"] for c in json.loads(held.read_text())["held"]} if held.exists() \
        else set()


def readable(path) -> str:
    ok, messages = pyx12_verdict(path)
    assert ok, messages
    return path.read_text()


@pytest.mark.parametrize("second_date, duplicate", [("20260115", True), ("20260116", False)])
def test_fix_split_judges_later_files_by_the_claims_as_forwarded(tmp_path, second_date,
                                                                  duplicate):
    first, second = two_nights(tmp_path, second_date)
    out = tmp_path / "out"
    results = fix([first, second], out, split=True)
    monday, tuesday = results.files
    assert "CLM*C1" in readable(out / "monday.accepted.edi")  # JZ added, forwarded
    assert "J2350:JZ" in (out / "monday.accepted.edi").read_text()
    assert held_ids(out, "monday") == set()
    remaining = {(f.rule, f.claim_id) for f in tuesday.remaining}
    if duplicate:  # the same drug line, billed again the same day
        assert ("HIS001", "C2") in remaining
        assert held_ids(out, "tuesday") == {"C2"}
        assert "CLM*C2" in readable(out / "tuesday.held.edi")
        assert "HIS001" in (out / "tuesday.held.txt").read_text()
    else:  # the next day: another dose (out of schedule, a warning), not a duplicate
        assert not any(rule == "HIS001" for rule, _ in remaining)
        assert held_ids(out, "tuesday") == set()
        assert "CLM*C2" in readable(out / "tuesday.accepted.edi")


@pytest.mark.parametrize("second_date, duplicate", [("20260115", True), ("20260116", False)])
def test_ack_rejects_the_resend_of_a_claim_it_accepted_after_the_safe_fixes(
        tmp_path, second_date, duplicate):
    first, second = two_nights(tmp_path, second_date)
    table, config = load_drug_table([]), Config()
    acks = Acknowledger(tmp_path / "acks", config.acknowledgments)
    assert acks.start([first, second]) == [first, second]
    monday = acks.acknowledge_as_split(first, table, config)
    tuesday = acks.acknowledge_as_split(second, table, config)
    assert rejected(valid(monday.output)) == set()  # C1 accepted once JZ is added
    assert rejected(valid(tuesday.output)) == ({"C2"} if duplicate else set())
