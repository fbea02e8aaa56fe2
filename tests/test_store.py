"""Findings are kept in file order and spill to disk past a limit, so memory
does not grow with the number of findings."""
import pickle
import random

from edi837 import store
from edi837.findings import Finding
from edi837.store import FindingStore


def finding(index: int, rule: str = "NDC002") -> Finding:
    return Finding(rule, "error", f"message {index}", "f.edi", segment_index=index)


def test_spills_past_the_limit_and_yields_everything_in_file_order():
    indexes = list(range(1, 1001))
    random.Random(4).shuffle(indexes)
    kept = FindingStore(limit=64)
    for index in indexes:
        kept.append(finding(index))
    assert kept.spilled and len(kept._buffer) < 64  # most of them are on disk
    assert [f.segment_index for f in kept] == list(range(1, 1001))
    assert [f.segment_index for f in kept] == list(range(1, 1001))  # a second pass
    assert len(kept) == 1000 and kept


def test_ties_keep_rule_order_and_small_stores_stay_in_memory():
    kept = FindingStore([finding(5, "NDC007"), finding(5, "DX001"), finding(2)], limit=64)
    assert not kept.spilled
    assert [(f.segment_index, f.rule) for f in kept] == [(2, "NDC002"), (5, "DX001"),
                                                        (5, "NDC007")]


def test_crosses_processes_as_the_findings_themselves():
    kept = FindingStore((finding(i) for i in range(300, 0, -1)), limit=50)
    copy = pickle.loads(pickle.dumps(kept))
    assert copy == kept and len(copy) == 300


def test_a_file_with_many_findings_reports_the_same_when_spilled(tmp_path, monkeypatch):
    """The engine's findings for a generated file are the same with a tiny limit."""
    import io

    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.generator import generate
    from edi837.reports.json_report import write_json

    path = tmp_path / "many.edi"
    with open(path, "w", newline="") as out:
        generate(out, "837P", claims=400, seed=3, defect_rate=0.5)

    def report_text():
        engine = Engine(load_drug_table())
        report = engine.run([path])
        text = io.StringIO()
        write_json(report, text)
        return report, text.getvalue().split('"summary"')[1]  # past the run times

    whole, expected = report_text()
    monkeypatch.setattr(store, "SPILL_LIMIT", 25)
    spilled_report, spilled = report_text()
    assert len(whole.files[0].findings) > 100 and not whole.files[0].findings.spilled
    assert spilled_report.files[0].findings.spilled
    assert spilled == expected


def test_many_spilled_stores_hold_no_open_files(monkeypatch):
    """A batch keeps every file's findings: spilled stores must not each hold a descriptor."""
    import os

    before = len(os.listdir("/proc/self/fd"))
    stores = [FindingStore((finding(i) for i in range(30)), limit=5) for _ in range(50)]
    assert all(s.spilled for s in stores)
    assert len(os.listdir("/proc/self/fd")) <= before + 1
    assert all(len(list(s)) == 30 for s in stores)
    assert len(os.listdir("/proc/self/fd")) <= before + 1
    paths = [s._path for s in stores]
    del stores
    assert not any(os.path.exists(p) for p in paths)  # spill files are removed
