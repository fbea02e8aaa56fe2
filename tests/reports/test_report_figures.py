"""The money and the context every report carries (issue #14, items 2, 3 and 5).

Charges held = CLM02 of every claim with at least one error finding, each claim
once: payers and files add up to it, rules overlap.  People read $700,500.00;
CSV and JSON keep plain numbers.  Every finding carries its payer (id and the
first name seen for the id), date of service, charges and billing NPI.  A file
whose findings are all info notes is OK.
"""
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM, TWO_ERRORS_ON_ONE_LINE
from lxml import etree
from lxml import html as lxml_html
from test_reports import render

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.reports.figures import Figures, dollars, figures, money, plural

TWO_ERRORS = TWO_ERRORS_ON_ONE_LINE  # NDC002 and NDC006 on one line, CLM02 9000

# Bare G35 after 2025-10-01: DX002, a claim-level error (no line charge on it).
CLAIM_LEVEL_ERROR = """
CLM*C9*12345.67***11:B:1*Y*A*Y*Y
HI*ABK:G35
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
"""

# Everything named, 300 units: only the DOC001 note (first-dose documentation).
ONLY_A_NOTE = CLEAN_J2350_CLAIM.replace("9000*UN*600", "4500*UN*300").replace("*20*ML", "*10*ML")


@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return Engine(load_drug_table())


def named(text: str, name: str) -> str:
    """The fragment's 2010BB payer name replaced (the wrapper writes SYNTHETIC PAYER)."""
    from edi837.x12.fragment import wrap_claims

    return wrap_claims(text, payer_id="PAYX").replace("NM1*PR*2*SYNTHETIC PAYER*",
                                                      f"NM1*PR*2*{name}*")


# -- item 2: money ---------------------------------------------------------------------------
def test_a_claim_is_held_once_whatever_its_errors(engine, edi_file):
    numbers = figures(engine.run([edi_file(TWO_ERRORS)]))
    rules = {r.rule: r for r in numbers.rules}
    assert rules["NDC002"].held.charges == rules["NDC006"].held.charges == Decimal("9000")
    assert (numbers.held.claims, numbers.held.charges) == (1, Decimal("9000"))
    assert [(p.payer_id, p.held.claims, p.held.charges) for p in numbers.payers] == [
        ("PAYER01", 1, Decimal("9000"))]


def test_a_claim_level_error_holds_the_claim_charge(engine, edi_file):
    """DX002 sits on the claim, not a line: it used to count $0 at risk."""
    report = engine.run([edi_file(CLAIM_LEVEL_ERROR)])
    [dx002] = [f for f in report.findings if f.rule == "DX002"]
    assert dx002.severity == "error" and dx002.charge is None and dx002.line_number is None
    numbers = figures(report)
    assert (numbers.held.claims, numbers.held.charges) == (1, Decimal("12345.67"))
    assert numbers.rule("DX002").held.charges == Decimal("12345.67")
    assert numbers.rule("ADM001").held.claims == 0  # a warning holds nothing


def test_warnings_and_notes_hold_nothing(engine, edi_file):
    no_infusion = ONLY_A_NOTE.split("LX*2")[0]  # no administration line: ADM001
    numbers = figures(engine.run([edi_file(no_infusion)]))
    assert numbers.summary["warnings"] and not numbers.summary["errors"]  # ADM001
    assert numbers.claims_with_findings == 1 and numbers.held.claims == 0
    assert numbers.held.charges == 0 and numbers.files_ok == 0


def test_payers_add_up_to_the_total_and_rules_overlap(engine, edi_file):
    report = engine.run([edi_file(TWO_ERRORS, payer_id="PAYA"),
                         edi_file(TWO_ERRORS, payer_id="PAYB"),
                         edi_file(TWO_ERRORS.replace("C1*9000", "C2*4500.50"), payer_id="PAYB"),
                         edi_file(CLAIM_LEVEL_ERROR, payer_id="PAYC")])
    numbers = figures(report)
    assert [(p.payer_id, p.held.claims, p.held.charges) for p in numbers.payers] == [
        ("PAYB", 2, Decimal("13500.50")), ("PAYC", 1, Decimal("12345.67")),
        ("PAYA", 1, Decimal("9000"))]
    assert numbers.held.charges == Decimal("34846.17") == \
        sum(p.held.charges for p in numbers.payers)
    assert numbers.held.charges == sum(f.held.charges for f in numbers.files)
    rules = {r.rule: r.held.charges for r in numbers.rules if r.held.claims}
    assert rules == {"NDC002": Decimal("22500.50"), "NDC006": Decimal("22500.50"),
                     "DX002": Decimal("12345.67")}
    assert sum(rules.values()) > numbers.held.charges  # the overlap the reports mention
    assert numbers.payers[0].top_rules()[0][1].charges == Decimal("13500.50")


def test_a_payer_is_grouped_by_id_with_the_first_name_seen(engine, edi_file):
    report = engine.run([edi_file(named(TWO_ERRORS, "FIRST NAME"), wrap=False),
                         edi_file(named(TWO_ERRORS, "ANOTHER SPELLING"), wrap=False)])
    [payer] = figures(report).payers
    assert (payer.payer_id, payer.name, payer.held.claims) == ("PAYX", "FIRST NAME", 2)
    summary = json.loads(render(report, "json"))["summary"]
    assert [(p["payer_id"], p["payer_name"], p["claims_held"], p["charges_held"])
            for p in summary["by_payer"]] == [("PAYX", "FIRST NAME", 2, 18000.0)]


def test_claims_are_told_apart_as_the_claim_views_tell_them():
    """A finding inside a claim's segments without its CLM index (a reader finding)
    belongs to the claim; one after the claim (the SE) to no claim."""
    from edi837.engine import FileResult, Report
    from edi837.findings import Finding
    from edi837.reports.views import ClaimGroup, SegmentGroup, claim_groups

    found = [Finding("NDC002", "error", "m", "f.edi", segment_index=10, claim_first=10,
                     claim_last=20, claim_charge="100", payer_id="P"),
             Finding("EDI007", "error", "m", "f.edi", segment_index=15),
             Finding("EDI004", "error", "m", "f.edi", segment_index=30)]
    result = FileResult("f.edi", claims=1, findings=found)
    numbers = figures(Report([result], "test"))
    assert (numbers.claims_with_findings, numbers.held.claims) == (1, 1)
    assert numbers.rule("EDI007").held.claims == 1 and numbers.rule("EDI004").held.claims == 0
    assert [type(g) for g in claim_groups(result.findings)] == [ClaimGroup, SegmentGroup]


def test_figures_of_parts_merge_into_the_figures_of_the_whole(engine, edi_file):
    """What the batch summary does: keep each file's figures, total them later."""
    paths = [edi_file(TWO_ERRORS, payer_id="PAYA"), edi_file(CLAIM_LEVEL_ERROR, payer_id="PAYA"),
             edi_file(ONLY_A_NOTE, payer_id="PAYB")]
    whole = figures(engine.run(paths)).as_dict()
    parts = [figures(engine.run([path])) for path in paths]
    assert Figures.merged(parts).as_dict() == whole
    stored = [Figures.from_dict(json.loads(json.dumps(part.as_dict()))) for part in parts]
    assert Figures.merged(stored).as_dict() == whole
    assert whole["files_ok"] == 1 and whole["claims_held"] == 2


def test_people_read_dollars_machines_plain_numbers(engine, edi_file):
    assert dollars(Decimal("700500")) == "$700,500.00" and dollars(Decimal("-5")) == "-$5.00"
    assert money(Decimal("700500")) == "700500.00"
    report = engine.run([edi_file(TWO_ERRORS.replace("C1*9000", "C1*700500"))])
    assert "charges held: $700,500.00 on 1 claim with errors" in render(report, "text")
    annotated = render(report, "annotated")
    assert "charges held: $700,500.00 on 1 claim" in annotated
    assert "  PAYER01 SYNTHETIC PAYER: $700,500.00 on 1 claim (largest: NDC002 $700,500.00, " \
        "NDC006 $700,500.00)" in annotated  # the summary by payer, as in the text report
    page = lxml_html.fromstring(render(report, "html"))
    assert page.xpath('string(//*[@data-figure="charges-held"])') == "$700,500.00"
    assert json.loads(render(report, "json"))["summary"]["charges_held"] == 700500
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert {r["claim_charge"] for r in rows} == {"700500"}
    assert etree.fromstring(render(report, "xml").encode()).find("summary").get(
        "chargesHeld") == "700500.00"


def test_xml_dollars_at_risk_are_the_error_lines_charges_not_the_charges_held(engine, edi_file):
    """README "Reports": dollarsAtRisk/linesAtRisk count the charged lines with an error,
    each once; a held claim's other lines and a claim-level error (DX002) add nothing."""
    drug_line_error = CLEAN_J2350_CLAIM.replace("50242015001", "50242-150-01")  # 9000 + 400
    report = engine.run([edi_file(drug_line_error), edi_file(CLAIM_LEVEL_ERROR)])
    xml = render(report, "xml")
    summary = etree.fromstring(xml.encode()).find("summary")
    assert (summary.get("chargesHeld"), summary.get("claimsHeld")) == ("21745.67", "2")
    assert (summary.get("dollarsAtRisk"), summary.get("linesAtRisk")) == ("9000.00", "1")
    rules = {r.get("code"): r for r in etree.fromstring(xml.encode()).find("rules")}
    assert (rules["DX002"].get("dollarsAtRisk"), rules["DX002"].get("chargesHeld")) == (
        "0.00", "12345.67")
    assert (rules["NDC002"].get("dollarsAtRisk"), rules["NDC002"].get("chargesHeld")) == (
        "9000.00", "9400.00")


def test_the_summary_is_set_off_from_listed_findings_by_one_blank_line(engine, edi_file):
    text = render(engine.run([edi_file(TWO_ERRORS)]), "text")
    assert not text.startswith("\n")
    assert "[claim C1, line 1]\n\n1 file (0 OK)" in text
    assert "\n\n" not in text.split("\n\n", 1)[1]


@pytest.mark.parametrize("content, says", [
    (None, "no claim held: no error finding"),
    ("", "no claim held: no claim read (1 file unreadable)"),  # empty file
    ("not X12 at all\n", "no claim held: no claim read (1 file unreadable)"),
    ("truncated", "no claim held: no claim read (1 file unreadable)"),
    ("truncated after a claim", "no claim held: 3 errors outside any claim (1 file unreadable)"),
    ("bad-control-numbers", "no claim held: 2 errors outside any claim"),  # envelopes only
])
def test_no_claim_held_says_why(engine, edi_file, content, says):
    from edi837.x12.fragment import wrap_claims

    whole = wrap_claims(CLEAN_J2350_CLAIM)
    two = wrap_claims(CLEAN_J2350_CLAIM + CLEAN_J2350_CLAIM.replace("CLM*C1*", "CLM*C2*"))
    if content is None:
        path = edi_file(CLEAN_J2350_CLAIM)
    elif content.startswith("truncated"):  # ends inside the transaction, group, interchange
        cut = two if content.endswith("claim") else whole  # the first of two claims is read
        path = edi_file(cut[:cut.index("SE*")], wrap=False)
    elif content == "bad-control-numbers":
        path = Path(__file__).parents[1] / "data" / "malformed" / "bad-control-numbers.edi"
    else:
        path = edi_file(content, wrap=False)
    report = engine.run([path])
    for fmt in ("text", "annotated"):
        assert f"\n{says}\n" in render(report, fmt), fmt


def test_counts_are_worded_for_one_and_many(engine, edi_file):
    assert plural(1, "file") == "1 file" and plural(2_000, "claim") == "2,000 claims"
    text = render(engine.run([edi_file(TWO_ERRORS)]), "text")
    assert "\n1 file (0 OK), 1 claim, 1 drug line: 2 errors, 1 warning, " in text  # ADM001
    assert "1 files" not in text and "1 claims" not in text


# -- item 3: context on every finding ------------------------------------------------------
def test_every_format_carries_payer_date_charges_and_billing_npi(engine, edi_file):
    report = engine.run([edi_file(named(TWO_ERRORS, "ACME HEALTH"), wrap=False)])
    row = next(r for r in csv.DictReader(io.StringIO(render(report, "csv")))
               if r["rule"] == "NDC002")
    assert (row["payer_id"], row["payer_name"], row["billing_npi"], row["date_of_service"],
            row["line_charge"], row["claim_charge"]) == (
        "PAYX", "ACME HEALTH", "1234567893", "2026-01-15", "9000", "9000")
    finding = next(f for f in etree.fromstring(render(report, "xml").encode()).iter("finding")
                   if f.get("rule") == "NDC002")
    assert (finding.get("payerId"), finding.get("payerName"), finding.get("billingNpi"),
            finding.get("dateOfService"), finding.get("charge"), finding.get("claimCharge")) == (
        "PAYX", "ACME HEALTH", "1234567893", "2026-01-15", "9000", "9000")
    found = next(f for f in json.loads(render(report, "json"))["files"][0]["findings"]
                 if f["rule"] == "NDC002")
    assert (found["payer_name"], found["date_of_service"], found["billing_npi"]) == (
        "ACME HEALTH", "2026-01-15", "1234567893")
    assert ("payer PAYX ACME HEALTH; billing NPI 1234567893; date of service 2026-01-15; "
            "charge $9,000.00") in render(report, "annotated")
    doc = lxml_html.fromstring(render(report, "html"))
    meta = json.loads(doc.xpath('//script[@id="worklist-meta"]')[0].text)
    [row] = [dict(zip(meta["fields"], r, strict=True))
             for r in json.loads(doc.xpath('//script[@id="worklist-rows"]')[0].text)]
    assert (row["payer"], meta["payers"]["PAYX"], row["dos"], row["charge"]) == (
        "PAYX", "ACME HEALTH", "2026-01-15", 9000)
    detail = json.loads(doc.xpath(f'//script[@id="claim-{row["key"]}"]')[0].text)
    assert "payer ACME HEALTH (PAYX) · billing NPI 1234567893 · date of service 2026-01-15 · " \
        "charge $9,000.00" in detail["meta"]
    assert [line[3] for line in detail["lines"] if line[0] == "1"] == ["$9,000.00"]  # SV102


# -- item 5: notes alone leave a file OK ---------------------------------------------------
def test_a_file_with_only_info_notes_is_ok(engine, edi_file, tmp_path):
    path = edi_file(ONLY_A_NOTE)
    report = engine.run([path])
    assert [f.severity for f in report.findings] == ["info"]
    assert report.files[0].status == "ok" and figures(report).files_ok == 1
    assert json.loads(render(report, "json"))["files"][0]["status"] == "ok"
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    # no finding line listed: the summary is the first line, no blank line above it
    assert result.output.startswith("1 file (1 OK), 1 claim, 1 drug line: 0 errors, "
                                    "0 warnings, 1 info")
    assert f"  OK: {path} sha256 " in result.output
    assert "1 finding below warning severity not listed (--min-severity info lists them)" \
        in result.output
