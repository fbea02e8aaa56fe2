"""`edi837 fix` hardening (issue #13): each test is a way a file once got past
it, or a way its memory grew with the file."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from conftest import CLEAN_J2350_CLAIM
from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.fix import FixPlan, SpillList, fix_file
from edi837.generator import generate
from edi837.x12.fragment import wrap_claims
from edi837.x12.writer import rewrite

CLEAN = CLEAN_J2350_CLAIM
UNFIXABLE = CLEAN.replace("CLM*C1*", "CLM*C2*").replace("50242015001", "50242055401")
TWO_CLAIMS = wrap_claims(CLEAN + UNFIXABLE)


@pytest.fixture(scope="module")
def table():
    return load_drug_table([])


@pytest.fixture
def fix(table):
    def run(path, out_dir, **options):
        return fix_file(path, out_dir, table=table, config=Config(), **options)
    return run


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("ascii") if isinstance(text, str) else text)
    return path


# -- item 14: nothing that grows with the file stays in memory -------------------------------

@pytest.fixture(scope="module")
def many_defects(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "defects.edi"
    with open(path, "w", newline="") as out:
        generate(out, "837P", claims=60, seed=5, defect_rate=0.8, claims_per_st=20)
    return path


def test_changes_and_held_claims_spill_past_the_limit_and_reports_list_them_all(
        tmp_path, fix, many_defects):
    result = fix(many_defects, tmp_path / "out", split=True, spill_limit=3)
    assert result.problems == []
    assert result.changes.spilled and result.split.held.spilled
    log = json.loads((tmp_path / "out" / "defects.edi.changes.json").read_text())
    assert log["applied"] == len(result.changes) == len(log["changes"])
    assert [c["segment_index"] for c in log["changes"]] == \
        [c.segment_index for c in result.changes]
    held = json.loads((tmp_path / "out" / "defects.held.json").read_text())
    assert held["claims_held"] == len(held["held"]) == len(result.split.held) > 3
    assert [c["claim_id"] for c in held["held"]] == [c.claim_id for c in result.split.held]
    text = (tmp_path / "out" / "defects.held.txt").read_text()
    assert text.count("\nclaim ") == len(result.split.held)
    # the same outcome as without spilling
    unspilled = fix(many_defects, tmp_path / "again", split=True)
    assert list(unspilled.changes) == list(result.changes)
    assert [c.claim_id for c in unspilled.split.held] == [c.claim_id for c in result.split.held]


def test_the_plan_reads_the_findings_only_as_far_as_the_segment_written(tmp_path, table):
    from edi837.engine import Engine

    text = wrap_claims(CLEAN.replace("50242015001", "50242-150-01")) + \
        wrap_claims(CLEAN.replace("50242015001", "50242-150-01"), control="000000002")
    source = write(tmp_path / "two.edi", text)
    findings = list(Engine(table, Config()).check_file(source).findings)
    last_read = []

    def reading():
        for finding in findings:
            last_read.append(finding.segment_index or 0)
            yield finding

    plan = FixPlan(reading())
    second_isa = len(text[:text.index("ISA", 10)].split("~\n"))
    beyond = []  # findings of the second interchange read while writing the first

    def transform(segment):
        replaced = plan.transform(segment)
        if segment.index < second_isa:
            beyond.append(sum(1 for index in last_read if index >= second_isa))
        return replaced

    rewrite(source, None, transform)
    plan.finish()
    assert [c.rule for c in plan.applied] == ["NDC002", "NDC002"]
    assert len(last_read) == len(findings)
    assert max(beyond) <= 1  # one finding of look-ahead, not the file's findings


def test_spill_list_keeps_order_length_and_items_across_spills():
    items = SpillList(range(10), limit=3)
    assert items.spilled and len(items) == 10 and list(items) == list(range(10))
    items.append(10)
    assert items[0] == 0 and items[10] == 10 and items[-2] == 9
    assert items == list(range(11)) and list(items) == list(items)
    assert pickle.loads(pickle.dumps(items)) == list(range(11))
    assert not SpillList() and SpillList() == []
