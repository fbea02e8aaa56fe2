"""`edi837 fix`: safe fixes, byte preservation, change logs, re-check, accepted/held split."""
from __future__ import annotations

import codecs
import hashlib
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM
from pyx12check import pyx12_verdict

from edi837.cli.fix import fix as fix_command
from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.findings import ERROR, Edit, Finding, Fix
from edi837.fix import FixPlan, fix_file, recheck_problems, split_claims
from edi837.generator import generate
from edi837.reader.claims import ClaimReader
from edi837.rules import all_rules
from edi837.x12.fragment import wrap_claims
from edi837.x12.reader import Delimiters
from edi837.x12.writer import RawSegmentReader, apply_edit, rewrite

ENVELOPE_ERRORS = ("EDI002", "EDI003", "EDI004", "EDI007")
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
MALFORMED = Path(__file__).resolve().parents[1] / "data" / "malformed"

CLEAN = CLEAN_J2350_CLAIM
# another claim of the same patient, a day later (the same day would add up to 1,200 units)
UNFIXABLE = CLEAN.replace("CLM*C1*", "CLM*C2*").replace("50242015001", "50242055401") \
    .replace("20260115", "20260116")


@pytest.fixture(scope="module")
def table():
    return load_drug_table([])


@pytest.fixture
def fix(table):
    def run(path, out_dir, **options):
        return fix_file(path, out_dir, table=table, config=Config(), **options)
    return run


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("ascii") if isinstance(content, str) else content)
    return path


def segments_of(data: bytes) -> list[bytes]:
    return [s.strip() for s in data.split(b"~") if s.strip()]


def changed_segments(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    old, new = segments_of(before), segments_of(after)
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def findings_of(path: Path, table) -> list[Finding]:
    return Engine(table, Config()).check_file(path).findings


def claims_in(path: Path) -> tuple[list, ClaimReader]:
    reader = ClaimReader(path)
    return list(reader.claims()), reader


# -- each safe fix, before and after ------------------------------------------------------

def _se_count(text: str) -> str:
    return text.split("SE*")[1].split("*")[0]


FIXES = {
    # rule: (make the defect from a clean wrapped file, segment before, segment after)
    "NDC002": (lambda t: t.replace("LIN**N4*50242015001", "LIN**N4*50242-150-01"),
               b"LIN**N4*50242-150-01", b"LIN**N4*50242015001"),
    "NDC003": (lambda t: t.replace("LIN**N4*", "LIN**N5*"),
               b"LIN**N5*50242015001", b"LIN**N4*50242015001"),
    "NDC006": (lambda t: t.replace("CTP****20*ML", "CTP****20*ml"),
               b"CTP****20*ml", b"CTP****20*ML"),
    "EDI003": (lambda t: t.replace(f"SE*{_se_count(t)}*0001", f"SE*{_se_count(t)}*0002"),
               None, None),
    "EDI004": (lambda t: t.replace(f"SE*{_se_count(t)}*", "SE*99*"), b"SE*99*0001", None),
    "MOD001": (lambda t: t.replace("SV1*HC:J2350:JZ*", "SV1*HC:J2350*"),
               b"SV1*HC:J2350*9000*UN*600***1", b"SV1*HC:J2350:JZ*9000*UN*600***1"),
    "DX003": (lambda t: t.replace("HI*ABK:G35A", "HI*ABK:Z79899*ABF:G35A")
              .replace("SV1*HC:J2350:JZ*9000*UN*600***1", "SV1*HC:J2350:JZ*9000*UN*600***1:3")
              .replace("HI*ABK:Z79899*ABF:G35A", "HI*ABK:Z79899*ABF:G35A*ABF:I10"),
              b"SV1*HC:J2350:JZ*9000*UN*600***1:3", b"SV1*HC:J2350:JZ*9000*UN*600***1:3:2"),
}


def _expected_segments(rule: str, text: str) -> tuple[bytes, bytes]:
    count = _se_count(wrap_claims(CLEAN))
    if rule == "EDI003":
        return f"SE*{count}*0002".encode(), f"SE*{count}*0001".encode()
    if rule == "EDI004":
        return b"SE*99*0001", f"SE*{count}*0001".encode()
    _, before, after = FIXES[rule]
    return before, after


@pytest.mark.parametrize("rule", sorted(FIXES))
def test_each_safe_fix_changes_exactly_its_segment(rule, tmp_path, fix, table):
    if rule not in all_rules():
        pytest.skip(f"{rule} is not registered yet")
    make_defect, _, _ = FIXES[rule]
    clean = wrap_claims(CLEAN)
    source = write(tmp_path / "in.edi", make_defect(clean))
    assert rule in {f.rule for f in findings_of(source, table)}, "the defect must raise the rule"

    result = fix(source, tmp_path / "out")

    output = Path(result.output)
    before, after = _expected_segments(rule, clean)
    assert changed_segments(source.read_bytes(), output.read_bytes()) == [(before, after)]
    assert [c.rule for c in result.changes] == [rule]
    assert rule not in {f.rule for f in findings_of(output, table)}
    assert result.problems == [] and result.exit_status == 0
    ok, messages = pyx12_verdict(output)
    assert ok, messages


def test_defect_samples_get_their_safe_fixes(tmp_path, fix):
    result = fix(SAMPLES / "837p-j2350-defects.edi", tmp_path)
    fixed = {(c.claim_id, c.rule, c.element, c.before, c.after) for c in result.changes}
    assert ("DEF-NDC002", "NDC002", "LIN03", "50242-150-01", "50242015001") in fixed
    assert ("DEF-NDC003", "NDC003", "LIN02", "EN", "N4") in fixed
    if "MOD001" in all_rules():
        assert ("DEF-MOD001", "MOD001", "SV101-3", "", "JZ") in fixed
    if "DX003" in all_rules():
        assert ("DEF-DX003", "DX003", "SV107-2", "", "1") in fixed
    assert result.problems == []
    assert result.exit_status == 1  # the defects with no safe fix remain


@pytest.mark.parametrize("name,rules", [("bad-control-numbers.edi", ["EDI003", "EDI003"]),
                                        ("bad-counts.edi", ["EDI004"])])
def test_envelope_samples_are_repaired(name, rules, tmp_path, fix):
    source = MALFORMED / name
    if not source.exists():
        pytest.skip(f"{source} not present")
    result = fix(source, tmp_path)
    assert sorted(c.rule for c in result.changes) == rules
    assert result.exit_status == 0, result.problems
    ok, messages = pyx12_verdict(result.output)
    assert ok, messages


# -- byte preservation -----------------------------------------------------------------------

DEFECT = wrap_claims(CLEAN).replace("LIN**N4*50242015001", "LIN**N4*50242-150-01")


def index_of(text: str, prefix: str) -> int:
    """1-based index of the first segment starting with prefix."""
    names = [s.strip() for s in text.split("~") if s.strip()]
    return next(i for i, s in enumerate(names, 1) if s.startswith(prefix))


LIN = index_of(DEFECT, "LIN*")


@pytest.mark.parametrize("layout", ["LF", "CRLF", "none", "spaces", "BOM", "no final newline"])
def test_only_the_fixed_bytes_change(layout, tmp_path, fix):
    text = {"LF": DEFECT, "CRLF": DEFECT.replace("~\n", "~\r\n"),
            "none": DEFECT.replace("~\n", "~"),
            "spaces": DEFECT.replace("~\n", "~  \n   "),
            "BOM": DEFECT, "no final newline": DEFECT.rstrip("\n")}[layout]
    data = text.encode("ascii")
    if layout == "BOM":
        data = codecs.BOM_UTF8 + data
    source = write(tmp_path / "in.edi", data)

    result = fix(source, tmp_path / "out")

    # the corrected file is single-byte X12 text: a UTF-8 BOM is left out (trial item 3)
    expected = data.replace(b"50242-150-01", b"50242015001").removeprefix(codecs.BOM_UTF8)
    assert Path(result.output).read_bytes() == expected
    assert [c.rule for c in result.changes] == ["NDC002"]
    assert result.problems == []
    if layout == "BOM":  # pyx12's x12valid failed on the BOM with UnicodeDecodeError
        assert pyx12_verdict(result.output) == (True, "")


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, None])
def test_utf16_input_gives_single_byte_output_without_a_bom(bom, tmp_path, fix):
    """UTF-16 in, single-byte X12 text out: pyx12's x12valid (and receivers) read X12
    one byte a character, and fail on a BOM or UTF-16 (trial item 3)."""
    codec = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be",
             None: "utf-16"}[bom]
    text = DEFECT.replace("~\n", "~\r\n")
    source = write(tmp_path / "in.edi", (bom or b"") + text.encode(codec))

    result = fix(source, tmp_path / "out", split=True)

    expected = text.replace("50242-150-01", "50242015001").encode("ascii")
    assert Path(result.output).read_bytes() == expected
    assert result.problems == [] and result.exit_status == 0
    for path in (result.output, tmp_path / "out" / "in.accepted.edi"):
        assert pyx12_verdict(path) == (True, "")


def test_utf16_with_a_character_of_no_single_byte_form_is_not_fixed(tmp_path, fix):
    text = DEFECT.replace("NM1*IL*1*", "NM1*IL*1*\u0141", 1)  # L with stroke: not latin-1
    assert text != DEFECT
    result = fix(write(tmp_path / "in.edi", text.encode("utf-16")), tmp_path / "out")
    assert result.exit_status == 2 and list((tmp_path / "out").glob("*.edi")) == []
    assert any("U+0141" in problem and "single-byte" in problem for problem in result.problems)


def test_a_file_with_nothing_to_fix_is_copied_byte_for_byte_but_its_bom(tmp_path, fix):
    source = SAMPLES / "837p-multi-interchange-crlf-bom.edi"
    assert source.read_bytes().startswith(codecs.BOM_UTF8)
    result = fix(source, tmp_path, split=True)
    assert Path(result.output).read_bytes() == source.read_bytes()[len(codecs.BOM_UTF8):]
    assert result.changes == [] and result.exit_status == 0


def test_fix_on_its_own_output_changes_nothing(tmp_path, fix):
    first = fix(SAMPLES / "837p-j2350-defects.edi", tmp_path / "once")
    assert first.changes
    second = fix(first.output, tmp_path / "twice")
    assert second.changes == [] and second.skipped == []
    assert Path(second.output).read_bytes() == Path(first.output).read_bytes()
    assert second.problems == []


def test_input_file_is_never_modified(tmp_path, fix):
    source = write(tmp_path / "in.edi", DEFECT)
    digest = sha256(source)
    fix(source, tmp_path / "out", split=True)
    assert sha256(source) == digest


def test_output_over_the_input_is_refused_even_with_force(tmp_path, fix):
    source = write(tmp_path / "in.edi", DEFECT)
    digest = sha256(source)
    result = fix(source, tmp_path, force=True)
    assert result.exit_status == 2 and "input file" in result.problems[0]
    assert sha256(source) == digest


# -- change log --------------------------------------------------------------------------

def test_change_log_names_segment_claim_line_rule_and_values(tmp_path, fix):
    source = write(tmp_path / "in.edi", DEFECT.replace("CTP****20*ML", "CTP****20*ml"))
    result = fix(source, tmp_path / "out")

    log = json.loads((tmp_path / "out" / "in.edi.changes.json").read_text())
    assert log["applied"] == 2 and log["skipped"] == 0
    assert [(c["segment_index"], c["claim_id"], c["line_number"], c["rule"], c["element"],
             c["before"], c["after"]) for c in log["changes"]] == [
        (LIN, "C1", 1, "NDC002", "LIN03", "50242-150-01", "50242015001"),
        (LIN + 1, "C1", 1, "NDC006", "CTP05-1", "ml", "ML")]
    text = (tmp_path / "out" / "in.edi.changes.txt").read_text()
    assert f"segment {LIN}  claim C1  LX 1  NDC002  LIN03  '50242-150-01' -> '50242015001'" in text
    assert result.written[:3] == [str(tmp_path / "out" / n)
                                  for n in ("in.edi", "in.edi.changes.json", "in.edi.changes.txt")]


def test_select_and_ignore_choose_the_fixes(tmp_path, fix):
    source = write(tmp_path / "in.edi", DEFECT.replace("CTP****20*ML", "CTP****20*ml"))
    only = fix(source, tmp_path / "a", select=("NDC006",))
    assert [c.rule for c in only.changes] == ["NDC006"]
    assert {f.rule for f in only.remaining} == {"NDC002"}
    assert only.exit_status == 1
    without = fix(source, tmp_path / "b", ignore=("NDC00",))
    assert without.changes == []


def _finding(rule: str, edit: Edit) -> Finding:
    return Finding(rule, ERROR, "m", "p", segment_index=edit.segment_index, segment="LIN",
                   claim_id="C1", line_number=1, fix=Fix("d", (edit,)))


def test_conflicting_edits_keep_the_first_and_log_the_other(tmp_path):
    source = write(tmp_path / "in.edi", DEFECT.replace("CTP****20*ML", "CTP****20*ml"))
    first = _finding("NDC002", Edit(LIN, "LIN", 3, None, "50242-150-01", "50242015001"))
    other = _finding("NDC003", Edit(LIN, "LIN", 3, None, "50242-150-01", "99999999999"))
    component = _finding("NDC006", Edit(LIN + 1, "CTP", 5, 1, "ml", "ML"))
    same = _finding("NDC006", Edit(LIN + 1, "CTP", 5, 1, "ml", "ML"))  # the same edit: no conflict
    plan = FixPlan([first, other, component, same])
    rewrite(source, None, plan.transform)
    plan.finish()
    assert [(c.rule, c.after) for c in plan.applied] == [
        ("NDC002", "50242015001"), ("NDC006", "ML"), ("NDC006", "ML")]
    assert plan.fixed == [(LIN, "NDC002"), (LIN + 1, "NDC006"), (LIN + 1, "NDC006")]
    assert [(c.rule, c.status) for c in plan.skipped] == [("NDC003", "skipped")]
    assert f"conflicts with NDC002's edit of LIN03 at segment {LIN}" in plan.skipped[0].reason


def test_edit_whose_before_no_longer_holds_is_skipped(tmp_path):
    source = write(tmp_path / "in.edi", DEFECT)
    stale = _finding("NDC002", Edit(LIN, "LIN", 3, None, "12345-678-90", "12345067890"))
    plan = FixPlan([stale])
    rewrite(source, None, plan.transform)
    plan.finish()
    assert plan.fixed == [] and plan.applied == [] and plan.problems == []
    assert "LIN03 is '50242-150-01', not '12345-678-90'" in plan.skipped[0].reason


# -- re-check ----------------------------------------------------------------------------

def test_recheck_reports_a_fixed_finding_still_there_and_a_new_one():
    edit = Edit(LIN, "LIN", 3, None, "a", "b")
    fixed = _finding("NDC002", edit)
    kept = _finding("NDC004", edit)
    after = [_finding("NDC002", edit), _finding("NDC004", edit), _finding("NDC008", edit)]
    problems = recheck_problems([fixed, kept], [(LIN, "NDC002")], after)
    assert len(problems) == 2
    assert f"fixed finding still present: NDC002 at segment {LIN}" in problems[0]
    assert f"new finding: NDC008 at segment {LIN}" in problems[1]
    assert recheck_problems([fixed, kept], [(LIN, "NDC002")], [_finding("NDC004", edit)]) == []


def test_a_fix_that_does_not_fix_makes_the_run_fail(tmp_path, table, monkeypatch):
    """A (hypothetical) fix that does not remove its finding: the re-check catches it."""
    import edi837.fix.run as fix_module

    class BrokenEngine(Engine):
        calls = 0

        def check_file(self, path, **options):
            result = super().check_file(path, **options)
            BrokenEngine.calls += 1
            if BrokenEngine.calls == 1:
                result.findings.append(_finding("NDC003", Edit(LIN, "LIN", 2, None, "N4", "XX")))
            return result

    monkeypatch.setattr(fix_module, "Engine", BrokenEngine)
    source = write(tmp_path / "in.edi", wrap_claims(CLEAN))
    result = fix_file(source, tmp_path / "out", table=table, config=Config())
    assert result.exit_status == 2
    assert any(f"fixed finding still present: NDC003 at segment {LIN}" in p
               for p in result.problems)


# -- dry run and existing outputs ---------------------------------------------------------

def test_dry_run_writes_nothing_and_shows_a_diff(tmp_path, fix):
    source = write(tmp_path / "in.edi", DEFECT)
    out = tmp_path / "out"
    result = fix(source, out, dry_run=True, split=True)
    assert not out.exists()
    assert result.status == "dry-run" and result.written == []
    lines = result.diff.splitlines()
    assert lines[0] == f"--- {source}" and lines[1] == f"+++ {out / 'in.edi'}"
    assert f"-{LIN:>6} LIN**N4*50242-150-01" in lines
    assert f"+{LIN:>6} LIN**N4*50242015001" in lines
    assert f" {LIN - 1:>6} DTP*472*D8*20260115" in lines  # context, with its segment index
    assert result.split.accepted == 1 and result.split.held == []


def test_dry_run_on_the_cli_prints_the_diff(tmp_path):
    source = write(tmp_path / "in.edi", DEFECT)
    run = CliRunner().invoke(fix_command, [str(source), "--out-dir", str(tmp_path / "o"),
                                           "--dry-run"])
    assert run.exit_code == 0, run.output
    assert f"+{LIN:>6} LIN**N4*50242015001" in run.output
    assert not (tmp_path / "o").exists()


def test_existing_output_needs_force(tmp_path):
    source = write(tmp_path / "in.edi", DEFECT)
    out = tmp_path / "out"
    out.mkdir()
    existing = write(out / "in.edi", b"keep me")
    runner = CliRunner()

    refused = runner.invoke(fix_command, [str(source), "--out-dir", str(out)])
    assert refused.exit_code == 2
    assert "exists (use --force to overwrite)" in refused.output
    assert existing.read_bytes() == b"keep me"
    assert not (out / "in.edi.changes.json").exists()

    forced = runner.invoke(fix_command, [str(source), "--out-dir", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert b"50242015001" in existing.read_bytes()


def test_cli_exit_statuses(tmp_path):
    runner = CliRunner()
    clean = write(tmp_path / "clean.edi", DEFECT)
    unfixable = write(tmp_path / "unfixable.edi", wrap_claims(UNFIXABLE))
    unreadable = write(tmp_path / "notx12.edi", "NAME,CLAIM\n")

    def status(path):
        return runner.invoke(fix_command, [str(path), "--out-dir", str(tmp_path / path.stem)])

    assert status(clean).exit_code == 0
    assert status(unfixable).exit_code == 1
    run = status(unreadable)
    assert run.exit_code == 2 and "EDI001" in run.output
    assert not (tmp_path / "notx12").exists()


# -- accepted / held split ----------------------------------------------------------------

def split_inputs(tmp_path: Path) -> list[Path]:
    """Inputs with held and accepted claims, dependants (2000C), several sets."""
    paths = [SAMPLES / name for name in ("837p-j2350-defects.edi", "837i-j2350-defects.edi",
                                         "837p-j2350-clean.edi", "837p-j2350-waste.edi",
                                         "837p-multi-interchange-crlf-bom.edi")]
    for kind in ("837P", "837I"):
        path = tmp_path / f"generated-{kind}.edi"
        with open(path, "w", newline="") as out:
            generate(out, kind, claims=60, seed=11, defect_rate=0.4, claims_per_st=15)
        paths.append(path)
    return paths


def _charge(claims) -> Decimal:
    return sum((Decimal(c.charge) for c in claims), Decimal(0))


def test_split_loses_and_duplicates_no_claim_and_charges_add_up(tmp_path, fix):
    for source in split_inputs(tmp_path):
        out = tmp_path / "out" / source.stem
        result = fix(source, out, split=True)
        assert result.problems == [], (source, result.problems)
        corrected, _ = claims_in(Path(result.output))
        parts = {}
        for part in ("accepted", "held"):
            path = out / f"{source.stem}.{part}.edi"
            parts[part] = claims_in(path) if path.exists() else ([], None)
        accepted, held = parts["accepted"][0], parts["held"][0]
        ids = Counter(c.claim_id for c in accepted + held)
        assert ids == Counter(c.claim_id for c in corrected), source
        assert _charge(accepted) + _charge(held) == _charge(corrected)
        assert {c.claim_id for c in held} == {c.claim_id for c in result.split.held}
        assert len(accepted) == result.split.accepted
        for _, reader in parts.values():
            if reader is not None:  # envelopes and hierarchy rebuilt correctly
                broken = [f for f in reader.findings if f.rule in ENVELOPE_ERRORS]
                assert broken == [], (source, broken)


def test_held_claims_are_exactly_those_with_remaining_errors(tmp_path, fix, table):
    source = write(tmp_path / "in.edi", wrap_claims(CLEAN + UNFIXABLE)
                   .replace("LIN**N4*50242015001", "LIN**N4*50242-150-01"))
    result = fix(source, tmp_path / "out", split=True)
    assert result.split.accepted == 1
    assert [(c.claim_id, [f.rule for f in c.reasons]) for c in result.split.held] == \
        [("C2", ["NDC004"])]
    report = json.loads((tmp_path / "out" / "in.held.json").read_text())
    assert report["claims_held"] == 1 and report["held"][0]["reasons"][0]["rule"] == "NDC004"
    assert "claim C2" in (tmp_path / "out" / "in.held.txt").read_text()
    # the accepted file checks clean; the held one still has the NDC004
    assert not [f for f in findings_of(tmp_path / "out" / "in.accepted.edi", table)
                if f.severity == ERROR]
    assert {f.rule for f in findings_of(tmp_path / "out" / "in.held.edi", table)
            if f.severity == ERROR} == {"NDC004"}
    assert result.exit_status == 1


def test_split_omits_an_empty_side(tmp_path, fix):
    clean = fix(write(tmp_path / "clean.edi", DEFECT), tmp_path / "a", split=True)
    assert (tmp_path / "a" / "clean.accepted.edi").exists()
    assert not (tmp_path / "a" / "clean.held.edi").exists()
    assert not (tmp_path / "a" / "clean.held.json").exists()
    assert clean.exit_status == 0
    held = fix(write(tmp_path / "bad.edi", wrap_claims(UNFIXABLE)), tmp_path / "b", split=True)
    assert not (tmp_path / "b" / "bad.accepted.edi").exists()
    assert (tmp_path / "b" / "bad.held.edi").exists()
    assert held.split.accepted == 0 and held.exit_status == 1


PATIENT = """
HL*3*2*23*0
PAT*19
NM1*QC*1*DOE*JUNIOR
N3*1 TEST LANE
N4*SPRINGFIELD*IL*627010000
DMG*D8*20100101*M
"""


@pytest.mark.parametrize("dependant", [UNFIXABLE, CLEAN.replace("CLM*C1*", "CLM*C2*")])
def test_split_rebuilds_the_hierarchy_of_a_subscriber_with_own_and_dependant_claims(
        dependant, tmp_path, fix):
    text = wrap_claims(CLEAN + PATIENT + dependant).replace("HL*2*1*22*0", "HL*2*1*22*1")
    source = write(tmp_path / "in.edi", text)
    assert pyx12_verdict(source)[0]
    result = fix(source, tmp_path / "out", split=True)
    assert result.problems == []
    for path in result.split.written:
        if path.endswith(".edi"):
            ok, messages = pyx12_verdict(path)
            assert ok, (path, messages)
            hl = [s for s in segments_of(Path(path).read_bytes()) if s.startswith(b"HL*")]
            claims = Path(path).read_bytes().count(b"CLM*")
            if claims == 2:  # both in one file: the subscriber is written once per role
                assert hl == [b"HL*1**20*1", b"HL*2*1*22*0", b"HL*3*1*22*1", b"HL*4*3*23*0"]
            elif b"CLM*C1*" in Path(path).read_bytes():
                assert hl == [b"HL*1**20*1", b"HL*2*1*22*0"]
            else:
                assert hl == [b"HL*1**20*1", b"HL*2*1*22*1", b"HL*3*2*23*0"]


def test_pyx12_accepts_every_output_whose_input_it_accepts(tmp_path, fix):
    for source in split_inputs(tmp_path) + [SAMPLES / "837i-j2350-clean.edi",
                                            SAMPLES / "837p-mixed-drugs.edi"]:
        if not pyx12_verdict(source)[0]:
            continue
        out = tmp_path / "out" / source.stem
        result = fix(source, out, split=True)
        outputs = [result.output] + [p for p in result.split.written if p.endswith(".edi")]
        for path in outputs:
            ok, messages = pyx12_verdict(path)
            assert ok, (path, messages)


def test_split_keeps_interchange_delimiters_but_not_the_bom(tmp_path, fix):
    source = SAMPLES / "837p-multi-interchange-crlf-bom.edi"
    result = fix(source, tmp_path, split=True)
    assert result.split.accepted == 3
    accepted = (tmp_path / f"{source.stem}.accepted.edi").read_bytes()
    # every claim accepted: the same bytes, but the byte-order mark
    assert accepted == source.read_bytes().removeprefix(codecs.BOM_UTF8)


def test_split_of_a_file_with_a_bom_writes_none(tmp_path):
    """split_claims on an input as it came (not fix's output): single-byte text too."""
    source = SAMPLES / "837p-multi-interchange-crlf-bom.edi"
    findings = Engine(load_drug_table([]), Config()).check_file(source).findings
    split_claims(source, findings, accepted=tmp_path / "a.edi", held=tmp_path / "h.edi")
    assert (tmp_path / "a.edi").read_bytes() == source.read_bytes()[len(codecs.BOM_UTF8):]


def test_a_file_with_no_837_in_it_is_refused_not_split(tmp_path, fix):
    source = MALFORMED / "not-837.edi"
    result = fix(source, tmp_path, split=True)
    assert result.exit_status == 2
    assert any("EDI005" in p and "is not an 837" in p for p in result.problems)
    assert list(tmp_path.iterdir()) == []


def test_truncated_input_is_not_split(tmp_path, fix):
    source = write(tmp_path / "cut.edi", DEFECT[:DEFECT.index("LX*2")])
    result = fix(source, tmp_path / "out", split=True)
    assert result.exit_status == 2
    assert any("EDI002" in p for p in result.problems)
    assert not (tmp_path / "out" / "cut.accepted.edi").exists()


def test_force_removes_a_split_file_left_from_an_earlier_run(tmp_path, fix):
    source = write(tmp_path / "in.edi", wrap_claims(UNFIXABLE))
    fix(source, tmp_path / "out", split=True)
    assert (tmp_path / "out" / "in.held.edi").exists()
    write(source, wrap_claims(CLEAN))
    fix(source, tmp_path / "out", split=True, force=True)
    assert not (tmp_path / "out" / "in.held.edi").exists()
    assert (tmp_path / "out" / "in.accepted.edi").exists()


# -- the writer ----------------------------------------------------------------------------

DELIMITERS = Delimiters("*", "^", ":", "~")


@pytest.mark.parametrize("fields,edit,expected", [
    (["SV1", "HC:J2350", "9000"], Edit(1, "SV1", 1, 3, "", "JZ"), "SV1*HC:J2350:JZ*9000"),
    (["SV1", "HC:J2350", "9000"], Edit(1, "SV1", 7, 1, "", "2"), "SV1*HC:J2350*9000*****2"),
    (["SV1", "HC:J2350", "9000", "UN", "600", "", "", "1"], Edit(1, "SV1", 7, 2, "", "2"),
     "SV1*HC:J2350*9000*UN*600***1:2"),
    (["CTP", "", "", "", "20", "ml"], Edit(1, "CTP", 5, 1, "ml", "ML"), "CTP****20*ML"),
    (["SE", "9", "0001"], Edit(1, "SE", 1, None, "9", "12"), "SE*12*0001"),
])
def test_edits_extend_the_element_or_composite(fields, edit, expected):
    assert DELIMITERS.element.join(apply_edit(fields, edit, ":")) == expected


def test_inserted_and_deleted_segments_recompute_only_the_counts_that_changed(tmp_path):
    text = wrap_claims(CLEAN) + wrap_claims(CLEAN, control="000000002")
    source = write(tmp_path / "in.edi", text)
    count = int(_se_count(text))

    def transform(segment):
        if segment.index == 26:  # a DTP of the first interchange: insert a copy
            return [segment.fields, segment.fields]
        return None

    with open(tmp_path / "out.edi", "wb") as handle:
        summary = rewrite(source, handle, transform)
    out = (tmp_path / "out.edi").read_text()
    assert out.count(f"SE*{count + 1}*0001") == 1 and out.count(f"SE*{count}*0001") == 1
    assert summary.recounted == [count + 2]  # the first SE only
    _, reader = claims_in(tmp_path / "out.edi")
    assert [f.rule for f in reader.findings if f.rule in ENVELOPE_ERRORS] == []

    def delete_ref(segment):
        return [] if segment.tag == "REF" else None

    with open(tmp_path / "deleted.edi", "wb") as handle:
        rewrite(source, handle, delete_ref)
    _, reader = claims_in(tmp_path / "deleted.edi")
    assert [f.rule for f in reader.findings if f.rule in ENVELOPE_ERRORS] == []
    assert "REF*" not in (tmp_path / "deleted.edi").read_text()


def test_raw_segments_carry_their_exact_text_and_trailer(tmp_path):
    data = codecs.BOM_UTF8 + DEFECT.replace("~\n", "~\r\n  ").encode("ascii")
    source = write(tmp_path / "in.edi", data)
    reader = RawSegmentReader(source)
    segments = list(reader)
    assert reader.head == "\xef\xbb\xbf"
    assert segments[0].tag == "ISA" and segments[0].trailer == "~\r\n  "
    rebuilt = reader.head + "".join(s.text + s.trailer for s in segments)
    assert rebuilt.encode("latin-1") == data


def test_same_name_in_two_folders_is_not_overwritten_within_a_run(tmp_path):
    first = write((tmp_path / "a").mkdir() or tmp_path / "a" / "in.edi", DEFECT)
    second = write((tmp_path / "b").mkdir() or tmp_path / "b" / "in.edi", wrap_claims(UNFIXABLE))
    run = CliRunner().invoke(fix_command, [str(first), str(second), "--out-dir",
                                           str(tmp_path / "out"), "--force"])
    assert run.exit_code == 2
    assert "already written for" in run.output
    assert b"CLM*C1*" in (tmp_path / "out" / "in.edi").read_bytes()


def test_an_output_that_cannot_be_written_does_not_stop_the_batch(tmp_path):
    blocker = write(tmp_path / "blocker", b"a file, not a folder")
    source = write(tmp_path / "in.edi", DEFECT)
    run = CliRunner().invoke(fix_command, [str(source), "--out-dir", str(blocker / "out")])
    assert run.exit_code == 2
    assert "cannot write" in run.output
    assert blocker.read_bytes() == b"a file, not a folder"


def test_transaction_sets_that_are_not_claims_are_named_not_carried(tmp_path, fix):
    """A group holding an 835 beside the 837 group: the claims split, the 835 is listed."""
    remit = (MALFORMED / "not-837.edi").read_text()
    remit_group = remit[remit.index("GS*"):remit.index("IEA*")]
    claims = wrap_claims(CLEAN)
    mixed = claims.replace("IEA*1*", remit_group + "IEA*2*")
    result = fix(write(tmp_path / "mixed.edi", mixed), tmp_path / "out", split=True)
    assert result.split.accepted == 1 and result.split.held == []
    assert "is not an 837" in result.split.not_carried[0]
    assert "not carried" in (tmp_path / "out" / "mixed.held.txt").read_text()


def test_jz_goes_into_an_empty_modifier_slot_between_others(tmp_path, fix):
    """HC:J2350::KX has modifier slot 3 empty: JZ fills it, KX stays in slot 4."""
    text = wrap_claims(CLEAN.replace("HC:J2350:JZ*", "HC:J2350::KX*"))
    result = fix(write(tmp_path / "slot.edi", text), tmp_path / "out")
    assert [c.rule for c in result.changes] == ["MOD001"]
    assert "SV1*HC:J2350:JZ:KX*9000" in (tmp_path / "out" / "slot.edi").read_text()


def test_pointer_goes_into_an_empty_sv107_slot(tmp_path, fix):
    text = wrap_claims(CLEAN.replace("HI*ABK:G35A", "HI*ABK:Z79899*ABF:G35A")
                       .replace("UN*600***1~", "UN*600***1::1~")
                       .replace("UN*600***1\n", "UN*600***1::1\n"))
    result = fix(write(tmp_path / "ptr.edi", text), tmp_path / "out")
    assert [c.rule for c in result.changes] == ["DX003"]
    assert "*UN*600***1:2:1" in (tmp_path / "out" / "ptr.edi").read_text()


def test_two_inputs_with_one_stem_never_share_split_files(tmp_path):
    """claims.edi and claims.x12 would both split into claims.accepted.edi."""
    from click.testing import CliRunner

    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "claims.edi", wrap_claims(CLEAN))
    write(folder / "claims.x12", wrap_claims(CLEAN.replace("CLM*C1*", "CLM*C9*")))
    result = CliRunner().invoke(fix_command, [str(folder), "--out-dir", str(tmp_path / "out"),
                                              "--split", "--force"])
    assert result.exit_code == 2
    assert "claims.x12: skipped" in result.stderr and "claims.accepted.edi" in result.stderr
    accepted = (tmp_path / "out" / "claims.accepted.edi").read_text()
    assert "CLM*C1*" in accepted and "CLM*C9*" not in accepted


# -- a JW/JZ in lower case (trial, item 2) ---------------------------------------------------

@pytest.mark.parametrize("written, upper", [("jz", "JZ"), ("Jz", "JZ")])
def test_a_lower_case_jz_is_said_to_be_lower_case_and_fixed_by_upper_casing(
        tmp_path, fix, table, written, upper):
    source = write(tmp_path / "in.edi", wrap_claims(CLEAN).replace(
        "SV1*HC:J2350:JZ*", f"SV1*HC:J2350:{written}*"))
    mod001 = [f for f in findings_of(source, table) if f.rule == "MOD001"]
    assert len(mod001) == 1 and f"'{written}' is in lower case: write {upper}" in \
        mod001[0].message and "neither" not in mod001[0].message
    result = fix(source, tmp_path / "out")
    output = Path(result.output)
    assert changed_segments(source.read_bytes(), output.read_bytes()) == [
        (f"SV1*HC:J2350:{written}*9000*UN*600***1".encode(), b"SV1*HC:J2350:JZ*9000*UN*600***1")]
    assert "MOD001" not in {f.rule for f in findings_of(output, table)}
    assert pyx12_verdict(output) == (True, "")
    # the clean line (JZ) passes
    assert "MOD001" not in {f.rule for f in findings_of(write(tmp_path / "ok.edi",
                                                               wrap_claims(CLEAN)), table)}


# -- MOD001's JZ fix only where the claim's policy requires JZ (an error) ---------------------

NO_JZ = CLEAN.replace("HC:J2350:JZ*", "HC:J2350*")


@pytest.mark.parametrize("filing, config, fixed", [
    ("MB", {}, True),                                   # Medicare FFS: JZ required, an error
    ("CI", {}, False),                                  # commercial: payers vary, a warning
    ("MC", {}, False),                                  # Medicaid: per state, a warning
    ("CI", {"profiles": [{"name": "follows-medicare", "filing_indicators": ["CI"],
                          "jw_jz": True}]}, True),      # the user's profile: this payer does
    ("CI", {"severity": {"MOD001": "error"}}, True),    # the user's severity setting
])
def test_jz_is_added_only_where_the_claims_policy_requires_it(tmp_path, table, filing, config,
                                                               fixed):
    from edi837.config import parse_config
    source = write(tmp_path / "in.edi", wrap_claims(NO_JZ, filing=filing))
    result = fix_file(source, tmp_path / "out", table=table, config=parse_config(config))
    assert [c.rule for c in result.changes] == (["MOD001"] if fixed else [])
    found = [f for f in Engine(table, parse_config(config)).check_file(source).findings
             if f.rule == "MOD001"]
    assert [f.severity for f in found] == ["error" if fixed else "warning"]
    output = Path(result.output)
    if fixed:
        assert b"HC:J2350:JZ*" in output.read_bytes()
    else:  # the claim goes out as it came; the report still shows the warning
        assert output.read_bytes() == source.read_bytes()
        assert "add JZ (nothing discarded)" in found[0].message
    ok, messages = pyx12_verdict(output)
    assert ok, messages
