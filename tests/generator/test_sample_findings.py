"""Every sample's findings, and its extracted drug lines, are pinned.

Two independent statements of what each sample should raise:
- samples/README.md, written by hand per claim (the intended defects);
- tests/data/expected/<sample>.findings, the complete list (infos and
  segment positions included), so any change in what a rule reports shows
  up here and must be looked at.  After a deliberate change, rewrite them
  with `python tests/generator/test_sample_findings.py` and review the diff.
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE.parent))

from edi837.drugs import load_drug_table  # noqa: E402
from edi837.engine import Engine  # noqa: E402

SAMPLES = HERE.parent / "samples"
EXPECTED = HERE / "data" / "expected"
CLEAN = ["837p-j2350-clean.edi", "837p-j2350-waste.edi", "837i-j2350-clean.edi",
         "837p-mixed-drugs.edi", "837p-multi-interchange-crlf-bom.edi"]
DEFECTS = ["837p-j2350-defects.edi", "837p-j2350-defects-ig-invalid.edi",
           "837i-j2350-defects.edi"]
RULE = re.compile(r"[A-Z]{2,3}\d{3}")


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.edi"))


def findings_of(path: Path):
    return Engine(load_drug_table()).check_file(path).findings


def notes_of(findings):
    """The findings with each DOC000 checklist taken apart into its DOC notes (rule,
    LX): the README names the DOC code of each note, reported by default as one
    DOC000 per claim."""
    for finding in findings:
        if finding.rule == "DOC000":
            for code, line, _, _ in finding.extra["checklist"]:
                yield finding.claim_id, code, line
        else:
            yield finding.claim_id, finding.rule, finding.line_number


def pinned_lines(path: Path) -> list[str]:
    return [f"{f.segment_index} {f.rule} {f.severity} claim={f.claim_id} line={f.line_number}"
            for f in findings_of(path)]


def extract_rows(path: Path) -> list[str]:
    """`edi837 extract` rows of a sample as JSON lines, with the path relative."""
    import io
    import json

    from edi837.extract import RowWriter, rows
    from edi837.reader.claims import ClaimReader

    out = io.StringIO()
    writer = RowWriter(out, "jsonl")
    table = load_drug_table()
    for record in rows(ClaimReader(path).claims(), table.drugs.__contains__):
        record["file"] = path.name
        writer.write(record)
    return [json.dumps(json.loads(line), sort_keys=True) for line in out.getvalue().splitlines()]


def intended(name: str) -> dict[str, tuple[set[str], set[str]]]:
    """CLM01 -> (rules it must raise, rules it may also raise) from the README."""
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"## Intended findings in `{name}`")[1].split("\n## ")[0]
    table = {}
    for row in re.findall(r"^\| `([^`]+)` \|(.*)$", section, flags=re.MULTILINE):
        claim, rest = row
        cells = [c.strip() for c in rest.split("|")]
        must = set(RULE.findall(cells[1]))
        may = set(RULE.findall(cells[3])) if len(cells) > 3 else set()
        table[claim] = (must, may)
    return table


def test_every_sample_is_pinned():
    assert {p.name for p in sample_files()} == set(CLEAN + DEFECTS)
    for path in sample_files():
        assert (EXPECTED / f"{path.name}.findings").exists(), path.name


@pytest.mark.parametrize("name", CLEAN + DEFECTS)
def test_complete_findings_match_the_pinned_list(name):
    expected = (EXPECTED / f"{name}.findings").read_text().splitlines()
    assert pinned_lines(SAMPLES / name) == expected


@pytest.mark.parametrize("name", CLEAN + DEFECTS)
def test_extracted_drug_lines_match_the_pinned_rows(name):
    expected = (EXPECTED / f"{name}.extract.jsonl").read_text().splitlines()
    assert extract_rows(SAMPLES / name) == expected


@pytest.mark.parametrize("name", CLEAN)
def test_clean_samples_raise_no_error_or_warning(name):
    serious = [(f.rule, f.claim_id) for f in findings_of(SAMPLES / name)
               if f.severity in ("error", "warning")]
    assert serious == []


@pytest.mark.parametrize("name", DEFECTS)
def test_defect_samples_raise_exactly_the_intended_rules(name):
    table = intended(name)
    raised: dict[str, set[str]] = defaultdict(set)
    for claim_id, rule, _ in notes_of(findings_of(SAMPLES / name)):
        # The README leaves out the DOC001 infos.
        if claim_id and rule != "DOC001":
            raised[claim_id].add(rule)
    assert set(raised) <= set(table), f"findings on claims the README does not list: " \
                                      f"{set(raised) - set(table)}"
    for claim, (must, may) in table.items():
        assert must <= raised[claim], f"{claim}: README says {must}, got {raised[claim]}"
        assert raised[claim] <= must | may | {"DOC001"}, \
            f"{claim}: unexpected {raised[claim] - must - may}"


def intended_lines(name: str) -> dict[str, dict[str, int | None]]:
    """CLM01 -> {rule: LX it is reported on (None: the claim)} from the README's LX column:
    `1`, `(claim)`, or per rule `2 (ADM002), 1 (ADM001)`."""
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"## Intended findings in `{name}`")[1].split("\n## ")[0]
    lines = {}
    for claim, rest in re.findall(r"^\| `([^`]+)` \|(.*)$", section, flags=re.MULTILINE):
        cells = [c.strip() for c in rest.split("|")]
        lx, must = cells[0], RULE.findall(cells[1])
        per_rule = dict((rule, int(n)) for n, rule in re.findall(r"(\d+) \((\w+)\)", lx))
        whole = None if lx == "(claim)" else (int(lx) if lx.isdigit() else None)
        assert per_rule or lx == "(claim)" or lx.isdigit(), f"{claim}: LX cell {lx!r}"
        lines[claim] = {rule: per_rule.get(rule, whole) for rule in must}
    return lines


@pytest.mark.parametrize("name", DEFECTS)
def test_defect_tables_name_the_line_each_rule_is_reported_on(name):
    reported = defaultdict(set)
    for claim_id, rule, line in notes_of(findings_of(SAMPLES / name)):
        reported[claim_id, rule].add(line)
    for claim, rules in intended_lines(name).items():
        for rule, line in rules.items():
            assert line in reported[claim, rule], \
                f"{claim}: README says {rule} on LX {line}, reported on {reported[claim, rule]}"


def test_only_the_bom_sample_raises_edi006():
    """A line break after each terminator is not a normalisation (samples/README.md)."""
    noted = {path.name for path in sample_files()
             if any(f.rule == "EDI006" for f in findings_of(path))}
    assert noted == {"837p-multi-interchange-crlf-bom.edi"}


if __name__ == "__main__":  # rewrite the pinned lists after a deliberate change
    EXPECTED.mkdir(parents=True, exist_ok=True)
    for sample in sample_files():
        (EXPECTED / f"{sample.name}.findings").write_text(
            "".join(line + "\n" for line in pinned_lines(sample)))
        (EXPECTED / f"{sample.name}.extract.jsonl").write_text(
            "\n".join(extract_rows(sample)) + "\n")
        print(f"wrote {EXPECTED / (sample.name + '.findings')}")
