"""DOC000 (issue 25 item 2): a claim's DOC notes are one checklist finding by
default; a DOC code named on its own is reported on its own."""
import csv
import io
import json
import secrets

from click.testing import CliRunner

from edi837.cli import main
from edi837.config import Config, parse_config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.history import HistoryStore
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()
# 300 units (DOC001), no rendering provider (DOC002), no facility (DOC003), two drug
# lines without an ordering or referring provider (DOC004 on LX 1 and 2)
NOTED = """
CLM*C1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*4500*UN*300***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****10*ML
LX*2
SV1*HC:J2350:JZ*4500*UN*300***1
DTP*472*D8*20260129
LIN**N4*50242015001
CTP****10*ML
"""
COMPLETE = """
CLM*C2*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RAY****XX*1234567893
NM1*77*2*SUITE*****XX*1234567893
N3*1 MAIN ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
NM1*DK*1*ORDER*OLA****XX*1234567893
"""


def check(tmp_path, fragment, config=None, store=None, name="a.edi"):
    path = tmp_path / name
    path.write_text(wrap_claims(fragment))
    engine = Engine(TABLE, config, history=store)
    try:
        return list(engine.check_file(path).findings)
    finally:
        engine.close()


def doc(findings):
    return [(f.rule, f.claim_id, f.line_number) for f in findings if f.rule.startswith("DOC")]


def test_a_claims_doc_notes_are_one_doc000_on_its_clm(tmp_path):
    found = check(tmp_path, NOTED + COMPLETE)
    assert doc(found) == [("DOC000", "C1", None)]  # the complete claim: none
    [checklist] = [f for f in found if f.rule == "DOC000"]
    assert checklist.severity == "info" and checklist.segment == "CLM"
    assert checklist.value == "DOC001,DOC002,DOC003,DOC004"
    message = checklist.message
    assert message.startswith("documentation checklist: DOC001 (LX 1, 2) J2350, 300 units: "
                              "likely an initial dose;")
    assert "; DOC003 drug claim names no service facility (2310C NM1*77)" in message
    assert "; DOC004 (LX 1, 2) J2350 line names no ordering provider" in message
    assert [item[:2] for item in checklist.extra["checklist"]] == [
        ("DOC001", 1), ("DOC001", 2), ("DOC002", None), ("DOC003", None), ("DOC004", 1),
        ("DOC004", 2)]


def test_a_doc_code_selected_alone_is_reported_on_its_own(tmp_path):
    found = check(tmp_path, NOTED, Config(select=("DOC004",)))
    assert doc(found) == [("DOC004", "C1", 1), ("DOC004", "C1", 2)]


def test_a_configuration_naming_a_doc_code_reports_it_alone(tmp_path):
    config = parse_config({"severity": {"DOC003": "warning"}})
    found = check(tmp_path, NOTED, config)
    assert sorted(doc(found)) == [("DOC000", "C1", None), ("DOC003", "C1", None)]
    [checklist] = [f for f in found if f.rule == "DOC000"]
    assert "DOC003" not in checklist.value
    # a payer profile naming it does the same, for its claims
    config = parse_config({"profiles": [{"name": "p", "payer_ids": ["PAYER01"],
                                         "select": ["DOC002", "DOC004"]}]})
    assert sorted(doc(check(tmp_path, NOTED, config))) == [
        ("DOC002", "C1", None), ("DOC004", "C1", 1), ("DOC004", "C1", 2)]


def test_select_doc000_runs_the_checklist_and_ignore_drops_it(tmp_path):
    assert doc(check(tmp_path, NOTED, Config(select=("DOC000",)))) == [("DOC000", "C1", None)]
    assert doc(check(tmp_path, NOTED, Config(ignore=("DOC000",)))) == []
    # a DOC code selected alone survives --ignore DOC000
    assert doc(check(tmp_path, NOTED, Config(select=("DOC003",), ignore=("DOC000",)))) == \
        [("DOC003", "C1", None)]


def test_a_payer_profile_ignoring_doc000_drops_its_claims_checklist(tmp_path):
    config = parse_config({"profiles": [{"name": "p", "payer_ids": ["PAYER01"],
                                         "ignore": ["DOC000"]}]})
    assert doc(check(tmp_path, NOTED, config)) == []
    other = parse_config({"profiles": [{"name": "p", "payer_ids": ["ELSEWHERE"],
                                        "ignore": ["DOC000"]}]})
    assert doc(check(tmp_path, NOTED, other)) == [("DOC000", "C1", None)]


def test_the_historys_first_dose_note_joins_the_claims_checklist(tmp_path):
    store = HistoryStore.open(tmp_path / "h.sqlite3", secrets.token_bytes(32))
    try:
        found = check(tmp_path, NOTED, store=store)
    finally:
        store.close()
    # DOC001 comes from the history stage (first dose seen), DOC002-4 from the claim
    assert doc(found) == [("DOC000", "C1", None)]
    [checklist] = [f for f in found if f.rule == "DOC000"]
    assert "first J2350 dose seen for this member" in checklist.message
    assert checklist.value == "DOC001,DOC002,DOC003,DOC004"


def test_every_report_format_carries_doc000_not_the_notes(tmp_path):
    path = tmp_path / "a.edi"
    path.write_text(wrap_claims(NOTED))
    runner = CliRunner()
    for fmt in ("json", "csv", "xml", "text"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(main, ["check", str(path), "--format", fmt, "-o", str(out),
                                      "--min-severity", "info"])
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert "DOC000" in text and "DOC001" in text  # the checklist names its items
        if fmt == "json":
            rules = [f["rule"] for f in json.loads(text)["files"][0]["findings"]]
            assert rules.count("DOC000") == 1 and not {"DOC001", "DOC004"} & set(rules)
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            assert [r["rule"] for r in rows if r["rule"].startswith("DOC")] == ["DOC000"]
    result = runner.invoke(main, ["check", str(path), "--format", "json", "--select", "DOC001",
                                  "-o", str(tmp_path / "alone.json")])
    rules = [f["rule"] for f in json.loads((tmp_path / "alone.json").read_text())
             ["files"][0]["findings"]]
    assert rules == ["DOC001", "DOC001"]  # one a 300 mg dose, on its own


def test_a_severity_for_doc000_is_the_checklists(tmp_path):
    config = parse_config({"severity": {"DOC000": "warning"}})
    found = check(tmp_path, NOTED, config)
    assert [(f.rule, f.severity) for f in found if f.rule.startswith("DOC")] == \
        [("DOC000", "warning")]
    # PASS: by default a note
    assert [f.severity for f in check(tmp_path, NOTED) if f.rule == "DOC000"] == ["info"]


# Two line notes only (a rendering provider and a facility): DOC001 on each 300-unit dose,
# DOC004 on each line; the first note is LX 1's, dated after LX 2 (the claim's earliest)
LINE_NOTES = """
CLM*L1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RAY****XX*1234567893
NM1*77*2*SUITE*****XX*1234567893
N3*1 MAIN ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV1*HC:J2350:JZ*4500*UN*300***1
DTP*472*D8*20260129
LIN**N4*50242015001
CTP****10*ML
LX*2
SV1*HC:J2350:JZ*4500*UN*300***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****10*ML
"""


def counting_doc_rules(engine):
    """The engine's DOC rules counting their runs (rule code -> runs)."""
    from dataclasses import replace

    runs = {}

    def counted(rule):
        def check(target):
            runs[rule.code] = runs.get(rule.code, 0) + 1
            return rule.check(target)
        return replace(rule, check=check) if rule.code.startswith("DOC") else rule

    engine.claim_rules = [counted(r) for r in engine.claim_rules]
    engine.line_rules = [counted(r) for r in engine.line_rules]
    return runs


def test_a_shapes_checklist_is_made_once_and_remade_for_its_next_claims(tmp_path):
    # claims shaped alike (other ids and charges): the DOC rules run on the first of a
    # shape and LX numbers only, and each claim gets the DOC000 they would give it
    renumbered = NOTED.replace("C1*9000", "C3*9000").replace("LX*1", "LX*3") \
        .replace("LX*2", "LX*4")
    claims = [NOTED, NOTED.replace("C1*9000", "C2*8000"), renumbered,
              NOTED.replace("C1*9000", "C4*7000").replace("*4500*", "*4400*"),
              LINE_NOTES, LINE_NOTES.replace("L1*", "L2*")]
    path = tmp_path / "a.edi"
    path.write_text(wrap_claims("".join(claims)))
    found, runs = {}, {}
    for shapes in (True, False):
        engine = Engine(TABLE, shapes=shapes)
        runs[shapes] = counting_doc_rules(engine)
        try:
            found[shapes] = list(engine.check_file(path).findings)
        finally:
            engine.close()
    assert found[True] == found[False]  # every field of every finding
    assert doc(found[True]) == [("DOC000", c, None) for c in ("C1", "C2", "C3", "C4", "L1",
                                                               "L2")]
    # without shapes every claim runs them; with, C1 and C3 (its LX numbers) and L1
    assert runs[False]["DOC003"] == 6 and runs[True]["DOC003"] == 3
    assert runs[True]["DOC004"] == 2 * 3 and runs[False]["DOC004"] == 2 * 6
    checklists = {f.claim_id: f for f in found[True] if f.rule == "DOC000"}
    assert "DOC004 (LX 3, 4) J2350 line names" in checklists["C3"].message
    assert "DOC004 (LX 1, 2) J2350 line names" in checklists["C2"].message
    assert checklists["C2"].claim_charge == "8000" and checklists["C4"].claim_charge == "7000"
    # dated by its first note: LX 1's date, not the claim's earliest
    assert [checklists[c].service_date for c in ("L1", "L2")] == ["20260129"] * 2
    assert checklists["L2"].value == "DOC001,DOC004"
