"""`edi837 fix` hardening (issue #13): each test is a way a file once got past
it, or a way its memory grew with the file."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import test_fix
from click.testing import CliRunner
from pyx12check import pyx12_verdict
from test_fix import CLEAN, UNFIXABLE, write

import edi837.fix as fix_package
from edi837.cli.fix import fix as fix_command
from edi837.config import Config
from edi837.findings import ERROR, Edit, Finding, Fix
from edi837.fix import FixPlan, SpillList, SplitError, fix_file, route_claims
from edi837.generator import generate
from edi837.reader.claims import ClaimReader
from edi837.x12.fragment import wrap_claims
from edi837.x12.writer import rewrite

table, fix = test_fix.table, test_fix.fix  # the fixtures of test_fix.py, shared

TWO_CLAIMS = wrap_claims(CLEAN + UNFIXABLE)


# -- item 2: every CLM of a split is accounted for ------------------------------------------

def st_after_the_claims(text: str) -> str:
    """The ST moved to just before the SE: every claim is outside a transaction set."""
    segments = text.split("~\n")
    st = next(k for k, s in enumerate(segments) if s.startswith("ST*"))
    moved = segments.pop(st)
    se = next(k for k, s in enumerate(segments) if s.startswith("SE*"))
    segments.insert(se, moved)
    return "~\n".join(segments)


def test_split_refuses_a_file_whose_claims_are_outside_any_transaction_set(tmp_path, fix):
    source = write(tmp_path / "late-st.edi", st_after_the_claims(TWO_CLAIMS))
    out = tmp_path / "out"
    result = fix(source, out, split=True)
    assert result.exit_status == 2
    # the reader reports the stray claims (EDI002) before the split would refuse them
    assert any("outside any transaction set" in p for p in result.problems), result.problems
    assert not (out / "late-st.accepted.edi").exists()
    assert not (out / "late-st.held.edi").exists()
    run = CliRunner().invoke(fix_command, [str(source), "--out-dir", str(tmp_path / "cli"),
                                           "--split"])
    assert run.exit_code == 2
    assert f"{source}: segment 3: EDI002 BHT outside any transaction set" in run.output


def test_route_claims_gives_each_claim_with_the_errors_that_hold_it(tmp_path, table):
    from edi837.engine import Engine

    source = write(tmp_path / "two.edi", TWO_CLAIMS)
    findings = Engine(table, Config()).check_file(source).findings
    routed = list(route_claims(source, findings))
    assert [(c.claim_id, c.charge, c.accepted, [f.rule for f in c.reasons])
            for c in routed] == [("C1", "9400", True, []), ("C2", "9400", False, ["NDC004"])]
    clm_c2 = TWO_CLAIMS.split("~\n").index("CLM*C2*9400***11:B:1*Y*A*Y*Y") + 1
    assert routed[1].segment_index == clm_c2  # where a 277CA would point
    with pytest.raises(SplitError, match="cannot be routed"):
        list(route_claims(write(tmp_path / "late.edi", st_after_the_claims(TWO_CLAIMS)), []))


def test_route_claims_wants_the_findings_in_file_order(tmp_path):
    source = write(tmp_path / "two.edi", TWO_CLAIMS)
    late, early = (Finding("NDC004", ERROR, "m", str(source), segment_index=i) for i in (30, 20))
    with pytest.raises(ValueError, match="file order"):
        list(route_claims(source, [late, early]))


# -- item 3: never leave an output edi837 cannot read back -----------------------------------

def edi_outputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.edi")) if folder.exists() else []


def claims_read_back(path: Path) -> tuple[int, list[str]]:
    reader = ClaimReader(path)
    count = sum(1 for _ in reader.claims())
    return count, [f.rule for f in reader.findings if f.severity == ERROR]


def test_isa11_equal_to_the_terminator_never_gives_an_unreadable_output(tmp_path, fix):
    """ISA11 '~' is also the segment terminator: the ISA cannot be read as written."""
    text = TWO_CLAIMS.replace("*1200*^*00501*", "*1200*~*00501*")
    source = write(tmp_path / "rep.edi", text)
    for split in (False, True):
        out = tmp_path / f"out-{split}"
        result = fix(source, out, split=split)
        assert result.exit_status != 0, result
        for output in edi_outputs(out):
            assert not output.read_text().rstrip().endswith("IEA*1*~"), "IEA02 emptied"
            count, errors = claims_read_back(output)
            assert "EDI001" not in errors and "EDI002" not in errors, (output, errors)
        if split:
            assert result.exit_status == 2
            assert not (out / "rep.accepted.edi").exists()


def test_a_fix_never_empties_an_element(tmp_path):
    source = write(tmp_path / "in.edi", TWO_CLAIMS)
    iea = len(TWO_CLAIMS.split("~\n")) - 1
    emptying = Finding("EDI003", ERROR, "m", str(source), segment_index=iea,
                       fix=Fix("set IEA02", (Edit(iea, "IEA", 2, None, "000000001", ""),)))
    plan = FixPlan([emptying])
    rewrite(source, None, plan.transform)
    plan.finish()
    assert plan.applied == [] and plan.fixed == []
    assert "it would empty IEA02" in plan.skipped[0].reason


def breaking_transform(monkeypatch, broken):
    """Make the plan's transform write ``broken(segment)`` where that is not None."""
    original = FixPlan.transform

    def transform(self, segment):
        replaced = broken(segment)
        return original(self, segment) if replaced is None else replaced

    monkeypatch.setattr(FixPlan, "transform", transform)


def test_an_output_edi837_cannot_read_back_is_removed(tmp_path, fix, monkeypatch):
    breaking_transform(monkeypatch, lambda s: [["ISX", *s.fields[1:]]] if s.tag == "ISA" else None)
    source = write(tmp_path / "in.edi", TWO_CLAIMS)
    result = fix(source, tmp_path / "out", split=True)
    assert result.exit_status == 2 and result.status == "failed"
    assert any("cannot read back what it wrote" in p and "EDI001" in p for p in result.problems)
    assert list((tmp_path / "out").iterdir()) == []
    assert result.written == []


def test_an_output_that_loses_a_claim_is_removed(tmp_path, fix, monkeypatch):
    breaking_transform(monkeypatch, lambda s: [] if s.text.startswith("CLM*C2*") else None)
    source = write(tmp_path / "in.edi", TWO_CLAIMS)
    result = fix(source, tmp_path / "out", split=True)
    assert result.exit_status == 2
    assert any("reads 1 claims back" in p and "not the 2" in p for p in result.problems)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_split_output_that_loses_a_claim_is_removed_with_the_rest(tmp_path, fix, monkeypatch):
    import edi837.fix.split as split_module

    original = split_module._SplitFile.add_claim

    def add_claim(self, envelope, hierarchy, claim):
        if claim[0].text.startswith("CLM*C2*"):
            claim = claim[1:]  # the CLM itself goes missing from the held file
        original(self, envelope, hierarchy, claim)

    monkeypatch.setattr(split_module._SplitFile, "add_claim", add_claim)
    source = write(tmp_path / "in.edi", TWO_CLAIMS)
    result = fix(source, tmp_path / "out", split=True)
    assert result.exit_status == 2
    assert any("in.held.edi" in p and "not the 1" in p for p in result.problems), result.problems
    assert list((tmp_path / "out").iterdir()) == []


# -- item 11: text after the last IEA; one bad file never stops the others -------------------

FOOTER = "Sent from the practice management system\r\n"


def test_text_after_the_last_iea_is_dropped_and_logged(tmp_path, fix):
    source = write(tmp_path / "footer.edi", TWO_CLAIMS.replace("CLM*C2", "CLM*C3") + FOOTER)
    result = fix(source, tmp_path / "out", split=True)
    assert result.problems == [] and result.exit_status == 1  # C3's NDC004 remains
    corrected = Path(result.output).read_bytes()
    assert corrected == TWO_CLAIMS.replace("CLM*C2", "CLM*C3").encode("ascii")
    [dropped] = [c for c in result.changes if c.rule == "EDI002"]
    assert (dropped.element, dropped.after) == ("after IEA", "")
    assert dropped.before.startswith("Sent from the practice")
    log = json.loads((tmp_path / "out" / "footer.edi.changes.json").read_text())
    assert [c["rule"] for c in log["changes"]] == ["EDI002"]
    assert "EDI002  after IEA  'Sent from the practice" in \
        (tmp_path / "out" / "footer.edi.changes.txt").read_text()
    assert result.split.accepted == 1 and len(result.split.held) == 1
    assert pyx12_verdict(result.output)[0]


def test_dry_run_shows_the_text_after_the_last_iea_as_removed(tmp_path, fix):
    source = write(tmp_path / "footer.edi", TWO_CLAIMS + FOOTER)
    result = fix(source, tmp_path / "out", dry_run=True, split=True)
    assert "Sent from the practice" in result.diff.splitlines()[-1]
    assert result.diff.splitlines()[-1].startswith("-")
    assert result.split.accepted == 1 and result.problems == []


def test_an_unreadable_interchange_after_the_last_is_not_dropped(tmp_path, fix):
    """A second interchange with a short ISA is 'text after the last interchange'
    to the reader; dropping it would lose its claims unseen."""
    second = wrap_claims(CLEAN, control="000000002").replace("*00*          *00*", "*00**00*", 1)
    source = write(tmp_path / "two-isa.edi", TWO_CLAIMS + second)
    result = fix(source, tmp_path / "out", split=True)
    assert result.exit_status == 2
    # the reader reports it (EDI002 error) before fix would refuse to drop it
    assert any("EDI002" in p and "ISA segment" in p
               for p in result.problems), result.problems
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_fix_goes_on_after_a_file_with_trailing_text(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a-footer.edi", TWO_CLAIMS + FOOTER)
    write(folder / "b-next.edi", wrap_claims(CLEAN.replace("50242015001", "50242-150-01")))
    run = CliRunner().invoke(fix_command, [str(folder), "--out-dir", str(tmp_path / "out")])
    assert run.exit_code == 1, run.output  # a-footer's NDC004 remains
    assert "Traceback" not in run.output
    assert (tmp_path / "out" / "a-footer.edi").exists()
    assert b"LIN**N4*50242015001" in (tmp_path / "out" / "b-next.edi").read_bytes()


def test_an_exception_on_one_file_is_reported_and_the_next_is_fixed(tmp_path, monkeypatch):
    def crash_on_first(path, *args, **kwargs):
        if path.name == "a.edi":
            raise RuntimeError("simulated bug")
        return fix_file(path, *args, **kwargs)

    monkeypatch.setattr(fix_package, "fix_file", crash_on_first)
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.edi", wrap_claims(CLEAN))
    write(folder / "b.edi", wrap_claims(CLEAN))
    run = CliRunner().invoke(fix_command, [str(folder), "--out-dir", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert f"{folder / 'a.edi'}: fix failed: RuntimeError: simulated bug" in run.output
    assert "Traceback" not in run.output
    assert (tmp_path / "out" / "b.edi").exists()


# -- item 14: nothing that grows with the file stays in memory -------------------------------

@pytest.fixture(scope="module")
def many_defects(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "defects.edi"
    with open(path, "w", newline="") as out:
        generate(out, "837P", claims=60, seed=5, defect_rate=0.8, claims_per_st=20)
    return path


def test_changes_and_held_claims_spill_past_the_limit_and_reports_list_them_all(
        tmp_path, fix, many_defects):
    result = fix(many_defects, tmp_path / "out", split=True, spill_limit=1)
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


def test_history_findings_spill_in_file_order_and_still_hold_their_claims(
        tmp_path, fix, monkeypatch):
    """The history's findings (one per claim it judged: duplicates, doses) wait in a
    SpillList, not a list; spilled or not, the split holds the same claims."""
    from edi837.fix import run as fix_run

    resent = CLEAN.replace("CLM*C1*", "CLM*C7*") + CLEAN.replace("CLM*C1*", "CLM*C8*")
    source = write(tmp_path / "resent.edi", wrap_claims(CLEAN + UNFIXABLE + resent))
    kept = []
    in_order = fix_run._in_place_order
    monkeypatch.setattr(fix_run, "_in_place_order",
                        lambda findings, limit: kept.append(in_order(findings, limit)) or kept[-1])
    result = fix(source, tmp_path / "spilled", split=True, spill_limit=1)
    assert result.problems == []
    [history] = kept
    assert isinstance(history, SpillList) and history.spilled
    assert [f.rule for f in history] == ["HIS002", "HIS001", "HIS001"]
    held = [(c.claim_id, [f.rule for f in c.reasons]) for c in result.split.held]
    assert held == [("C2", ["NDC004"]), ("C7", ["HIS001"]), ("C8", ["HIS001"])]
    assert result.split.accepted == 1
    whole = fix(source, tmp_path / "whole", split=True)
    assert [(c.claim_id, [f.rule for f in c.reasons]) for c in whole.split.held] == held
    assert (tmp_path / "whole" / "resent.held.edi").read_bytes() == \
        (tmp_path / "spilled" / "resent.held.edi").read_bytes()


def test_history_findings_are_put_in_place_order_a_segment_at_a_time():
    from edi837.fix.run import _in_place_order

    def at(index, rule):
        return Finding(rule, ERROR, "m", "f.edi", segment_index=index)

    found = [at(10, "UNT001"), at(10, "HIS001"), at(12, "DOC001"), at(15, "HIS002")]
    ordered = _in_place_order(found, limit=2)
    assert ordered.spilled
    assert [(f.segment_index, f.rule) for f in ordered] == \
        [(10, "HIS001"), (10, "UNT001"), (12, "DOC001"), (15, "HIS002")]
    with pytest.raises(ValueError, match="not in file order"):
        _in_place_order([at(12, "HIS001"), at(10, "HIS001")], limit=2)


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


def test_a_spill_list_killed_with_sigkill_leaves_nothing_in_the_temporary_folder(tmp_path):
    """The spill file has no name: a fix killed mid-file leaves no edi837-fix-* behind."""
    import os
    import signal
    import subprocess
    import sys

    folder = tmp_path / "tmp"
    folder.mkdir()
    code = ("import os, signal\n"
            "from edi837.fix import SpillList\n"
            "items = SpillList(range(50), limit=4)\n"
            "assert items.spilled and list(items) == list(range(50))\n"
            "print('spilled', flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(folder)}, timeout=60)
    assert done.stdout == "spilled\n", done.stderr
    assert done.returncode == -signal.SIGKILL
    assert list(folder.iterdir()) == []


def test_a_spill_list_read_while_it_grows_gives_each_item_once_in_order():
    items = SpillList(range(10), limit=3)
    seen = []
    for item in items:
        seen.append(item)
        if item == 2:
            items.extend(range(100, 110))  # spills in the middle of the reading
    assert seen == list(range(10))  # what is appended while iterating is not seen
    assert list(items) == list(range(10)) + list(range(100, 110))
    assert items[12] == 102 and len(items) == 20
    items.close()
    assert len(items) == len(items._buffer)
