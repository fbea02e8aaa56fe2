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


# -- DOC notes folded as they come in (issue 25 item 2) -------------------------------
def note(claim: int, rule: str, index: int, line=None, severity="info",
         mark="info") -> Finding:
    """A DOC note of the claim whose CLM is segment ``claim`` (20 segments long)."""
    return Finding(rule, severity, f"{rule} note", "f.edi", segment_index=index,
                   claim_id=f"C{claim}", line_number=line, hcpcs=f"J{index}",
                   claim_first=claim, claim_last=claim + 19, extra={"checklist": mark})


def notes_of(claims: range, claim_note: bool = True) -> list[Finding]:
    """Each claim: a claim note, an error, line notes on LX 1 and 2 (the rules' order)."""
    found = []
    for claim in claims:
        found += [note(claim, "DOC003", claim) if claim_note else finding(claim),
                  finding(claim + 5), note(claim, "DOC004", claim + 5, 1),
                  note(claim, "DOC004", claim + 9, 2)]
    return found


def test_a_claims_notes_are_one_doc000_as_they_come_in_as_fold_makes_it():
    from edi837.checklist import fold

    found = notes_of(range(20, 2000, 20))
    expected = sorted(fold(sorted(found, key=Finding.sort_key)), key=Finding.sort_key)
    kept = FindingStore(found, limit=64)
    assert kept.spilled and not kept.late
    assert list(kept) == expected
    assert len(kept) == len(expected) == 2 * 99
    assert kept.severities() == {"error": 99, "info": 99}  # counted without a pass


def test_a_note_coming_later_joins_its_claims_doc000_as_if_it_came_with_the_notes():
    """The history stage's DOC001 comes claims after the rules' notes: it is folded
    with them (FAIL before: a DOC000 of its own, or one of the DOC000 first)."""
    from edi837.checklist import fold

    found = notes_of(range(20, 1000, 20), claim_note=False)
    # a first-dose note (a warning, on LX 1 before the others) 10 claims late each
    late = [note(claim, "DOC001", claim + 4, 1, severity="warning")
            for claim in range(20, 800, 20)]
    added = found[:40] + [x for i, n in enumerate(late)
                          for x in [n] + found[40 + 4 * i:44 + 4 * i]] + found[40 + 4 * 39:]
    assert len(added) == len(found) + len(late)
    expected = sorted(fold(sorted(added, key=Finding.sort_key)), key=Finding.sort_key)
    kept = FindingStore(added, limit=64)
    assert kept.spilled and not kept.late
    assert list(kept) == expected
    docs = [f for f in kept if f.rule == "DOC000"]
    assert docs[0].hcpcs == "J24" and docs[0].severity == "warning"  # the DOC001's line
    assert kept.severities() == {"error": 98, "warning": 39, "info": 10}


def test_a_note_for_a_claim_already_spilled_marks_the_store_and_settling_merges_it():
    from edi837.results import FileResult

    found = notes_of(range(20, 2000, 20))
    kept = FindingStore(found + [note(20, "DOC001", 24, 1, severity="warning")], limit=64)
    assert kept.late and len(kept) == 2 * 99 + 1  # two DOC000s for the first claim
    result = FileResult("f.edi", findings=kept)
    result.settle_status()
    assert not result.findings.late and len(result.findings) == 2 * 99
    first = next(f for f in result.findings if f.rule == "DOC000")
    assert first.claim_first == 20 and first.severity == "warning"
    assert first.value == "DOC001,DOC003,DOC004"
    assert result.counts() == {"error": 99, "warning": 1, "info": 98}


def test_a_json_or_csv_report_and_its_summary_read_the_findings_once(tmp_path, monkeypatch):
    """The figures are counted while the findings are written, once per report; the
    summary and the exit status come from counts kept as findings were added."""
    import io

    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.generator import generate
    from edi837.reports import WRITERS, json_report
    from edi837.reports.figures import figures

    path = tmp_path / "many.edi"
    with open(path, "w", newline="") as out:
        generate(out, "837P", claims=300, seed=5, defect_rate=0.5)
    monkeypatch.setattr(store, "SPILL_LIMIT", 40)
    passes = []
    original = FindingStore.__iter__
    monkeypatch.setattr(FindingStore, "__iter__", lambda self: passes.append(1) or original(self))
    texts = {}
    for fmt in ("json", "csv"):
        engine = Engine(load_drug_table())
        report = engine.run([path])
        engine.close()
        assert report.files[0].findings.spilled
        del passes[:]
        text = io.StringIO()
        WRITERS[fmt](report, text)
        numbers = figures(report)
        assert report.summary() == numbers.summary and report.exit_status() == 1
        assert len(passes) == 1
        texts[fmt] = text.getvalue()
        # written again, with the figures known: the same report, one pass again
        again = io.StringIO()
        WRITERS[fmt](report, again)
        assert again.getvalue() == texts[fmt] and len(passes) == 2
        report.files[0].findings.append(Finding("EDI009", "warning", "added", str(path)))
        assert figures(report).summary["warnings"] == numbers.summary["warnings"] + 1
    # the JSON's findings spooled to a file past the spool's limit: the same report
    monkeypatch.setattr(json_report._Spool.__init__, "__defaults__", (64,))
    engine = Engine(load_drug_table())
    report = engine.run([path])
    engine.close()
    spooled = io.StringIO()
    WRITERS["json"](report, spooled)
    assert spooled.getvalue().split('"summary"')[1] == texts["json"].split('"summary"')[1]
