"""batch --split: the patient history keeps the claims as they are forwarded.  A claim
held only for what a safe fix corrects (Medicare FFS, JZ missing) goes out in
accepted.edi; it must enter the history, so that its resend is a duplicate (a new
user's trial: the corrected claim was accepted a second time)."""
import json

import pytest
from batch_support import HOUR, drop, has_fix, options
from test_history import claim, night, subscriber

from edi837.batch import run_batch


def findings_of(out, name: str) -> list[dict]:
    [report] = list(out.glob(f"*/files/{name}/report.json"))
    return [f for entry in json.loads(report.read_text())["files"] for f in entry["findings"]]


@pytest.mark.skipif(not has_fix, reason="edi837.fix is not installed")
def test_a_claim_forwarded_after_the_safe_fixes_enters_the_history(tmp_path):
    opts = options(tmp_path, split=True, settle=0.0)
    monday = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115", modifiers=""))
    drop(opts.inbox, "monday.edi", monday.read_bytes(), age=HOUR)
    assert run_batch(opts) == 1  # MOD001 before the fix
    assert "MOD001" in {f["rule"] for f in findings_of(opts.out, "monday.edi")}
    [accepted] = list(opts.out.rglob("monday.accepted.edi"))
    assert "CLM*C1" in accepted.read_text() and "J2350:JZ" in accepted.read_text()
    # the practice sends the corrected claim again the next night
    drop(opts.inbox, "tuesday.edi", accepted.read_bytes().replace(b"*C1*", b"*C2*"), age=HOUR)
    assert run_batch(opts) == 1
    tuesday = findings_of(opts.out, "tuesday.edi")
    assert "HIS001" in {f["rule"] for f in tuesday}, tuesday
