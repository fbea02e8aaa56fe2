"""Report formats: annotated text, HTML, CSV, XML and JSON render the same findings.

Every format runs on every sample file and on small fragments; the figures
they print agree; XML validates against schemas/report.xsd and JSON against
schemas/report.schema.json; EDI text that looks like markup, a spreadsheet
formula or a terminal escape is shown as plain text.
"""
import csv
import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import TWO_ERRORS_ON_ONE_LINE
from lxml import etree
from lxml import html as lxml_html

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.findings import Finding
from edi837.reports import format_for, load_writers
from edi837.reports.common import iso_time
from edi837.reports.csv_report import COLUMNS
from edi837.reports.figures import figures, money

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SCHEMAS = ROOT / "schemas"
SAMPLE_FILES = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md") \
    if SAMPLES.is_dir() else []
FORMATS = ("annotated", "html", "csv", "xml", "json")
SEVERITIES = ("error", "warning", "info")


CLEAN_CLAIM = """
CLM*CLEAN1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RITA****XX*1234567893
NM1*77*2*INFUSION SUITE*****XX*1234567893
N3*1 MAIN ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
NM1*DK*1*ORDER*OLIVE****XX*1234567893
LX*2
SV1*HC:96365*500*UN*1***1
DTP*472*D8*20260115
LX*3
SV1*HC:96366*300*UN*3***1
DTP*472*D8*20260115
"""

# EDI fields carrying markup, a spreadsheet formula, quotes, non-ASCII (UTF-8)
# and a terminal escape: every format must show them as inert text.
HOSTILE = """
CLM*<script>alert(1)</script>*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*O'HARA "Q" <b>BOLD</b>*JOSÉ****XX*1234567893
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*=cmd|' /C calc'!A0
CTP****20*ML
CLM*Zoë "Q" \x1b[31mRED*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*@SUM(1+1)
CTP****20*ML
"""


@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return Engine(load_drug_table())


def render(report, fmt: str) -> str:
    out = io.StringIO()
    load_writers()[fmt](report, out)
    return out.getvalue()


def render_all(report) -> dict[str, str]:
    return {fmt: render(report, fmt) for fmt in FORMATS}


# -- reading each format back -------------------------------------------------------------
def has_class(name: str, root: str = "") -> str:
    """XPath for elements with a class (lxml's cssselect needs an extra package)."""
    return f"{root}//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


def data_block(doc, block_id: str):
    """A JSON data block of the HTML page (rows, claim details), parsed."""
    [block] = doc.xpath(f'//script[@type="application/json"][@id="{block_id}"]')
    return json.loads(block.text)


def html_figures(page: str) -> dict:
    doc = lxml_html.fromstring(page)
    summary = {cell.get("data-figure"): cell.text_content().strip()
               for cell in doc.xpath('//section[@id="summary"]/table[1]//*[@data-figure]')}
    rules = {}
    for row in doc.xpath('//table[@id="by-rule" or @id="by-rule-info"]/tbody/tr[@data-rule]'):
        cells = {c.get("data-figure"): c.text_content().strip()
                 for c in row.xpath(".//*[@data-figure]")}
        rules[row.get("data-rule")] = cells
    payers = {row.get("data-payer"):
              row.xpath('.//*[@data-figure="charges-held"]')[0].text_content()
              for row in doc.xpath('//table[@id="by-payer"]/tbody/tr[@data-payer]')}
    meta = data_block(doc, "worklist-meta")
    rows = [dict(zip(meta["fields"], row, strict=True)) for row in data_block(doc, "worklist-rows")]
    return {"summary": summary, "rules": rules, "payers": payers, "rows": rows, "meta": meta,
            "doc": doc}


def as_dollars(amount) -> str:
    return f"${Decimal(amount):,.2f}"


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def xml_doc(text: str):
    return etree.fromstring(text.encode("utf-8"))


def xml_schema():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "report.xsd")))


def json_validator():
    schema = json.loads((SCHEMAS / "report.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def claims_of(report) -> dict[str, list]:
    """Findings by claim (file number-CLM index, the work list's row key)."""
    claims: dict[str, list] = {}
    for number, result in enumerate(report.files, 1):
        for finding in result.findings:
            if finding.claim_first is not None:
                claims.setdefault(f"{number}-{finding.claim_first}", []).append(finding)
    return claims


def check_agreement(report, outputs: dict[str, str]) -> None:
    """HTML, CSV, XML and JSON report the same counts and the same charges held."""
    numbers = figures(report)
    expected = {sev: numbers.summary[sev + "s"] for sev in SEVERITIES}
    expected_rules = {r.rule: (r.errors, r.warnings, r.infos) for r in numbers.rules}
    expected_held = {r.rule: (r.held.claims, money(r.held.charges)) for r in numbers.rules}
    expected_payers = {p.payer_id: money(p.held.charges) for p in numbers.payers}

    page = html_figures(outputs["html"])
    assert {sev: int(page["summary"][sev + "s"].replace(",", "")) for sev in SEVERITIES} == expected
    assert int(page["summary"]["files"]) == numbers.summary["files"]
    assert int(page["summary"]["claims"].replace(",", "")) == numbers.summary["claims"]
    assert int(page["summary"]["drug-lines"].replace(",", "")) == numbers.summary["drug_lines"]
    assert page["summary"]["charges-held"] == as_dollars(numbers.held.charges)
    assert int(page["summary"]["claims-held"].replace(",", "")) == numbers.held.claims
    assert {code: (int(c["errors"]), int(c["warnings"]), int(c["infos"]))
            for code, c in page["rules"].items()} == expected_rules
    assert {code: (int(c["claims-held"]), c["charges-held"])
            for code, c in page["rules"].items()} == {
        code: (n, as_dollars(amount)) for code, (n, amount) in expected_held.items()}
    assert page["payers"] == {p: as_dollars(a) for p, a in expected_payers.items()}
    # the work list: one row per claim whose worst finding is an error or warning, its
    # counts those of the claim's findings
    claims = claims_of(report)
    listed = {key for key, found in claims.items()
              if {f.severity for f in found} & {"error", "warning"}}
    assert {row["key"] for row in page["rows"]} == listed
    for row in page["rows"]:
        found = Counter(f.severity for f in claims[row["key"]])
        assert (row["errors"], row["warnings"], row["infos"]) == (
            found["error"], found["warning"], found["info"])
        assert SEVERITIES[row["worst"]] == next(s for s in SEVERITIES if found[s])

    rows = csv_rows(outputs["csv"])
    assert Counter(r["severity"] for r in rows) == Counter(
        {k: v for k, v in expected.items() if v})
    by_rule = Counter((r["rule"], r["severity"]) for r in rows)
    assert {code: (by_rule[code, "error"], by_rule[code, "warning"], by_rule[code, "info"])
            for code in {r["rule"] for r in rows}} == expected_rules

    doc = xml_doc(outputs["xml"])
    summary = doc.find("summary")
    assert {sev: int(summary.get(sev + "s")) for sev in SEVERITIES} == expected
    assert Counter(f.get("severity") for f in doc.iter("finding")) == Counter(
        {k: v for k, v in expected.items() if v})
    assert summary.get("chargesHeld") == money(numbers.held.charges)
    assert {p.get("id"): p.get("chargesHeld") for p in doc.find("payers")} == {
        (p or "(no payer id)"): a for p, a in expected_payers.items()}
    assert {r.get("code"): (int(r.get("errors")), int(r.get("warnings")), int(r.get("infos")))
            for r in doc.find("rules")} == expected_rules
    assert {r.get("code"): (int(r.get("claimsHeld")), r.get("chargesHeld"))
            for r in doc.find("rules")} == expected_held

    data = json.loads(outputs["json"])
    assert {sev: data["summary"][sev + "s"] for sev in SEVERITIES} == expected
    found = Counter(f["severity"] for file in data["files"] for f in file["findings"])
    assert found == Counter({k: v for k, v in expected.items() if v})
    for key in ("files", "claims", "drug_lines"):
        assert data["summary"][key] == int(summary.get(
            {"drug_lines": "drugLines"}.get(key, key)))
    assert Decimal(str(data["summary"]["charges_held"])) == numbers.held.charges
    assert {r["rule"]: (r["claims_held"], money(Decimal(str(r["charges_held"]))))
            for r in data["summary"]["by_rule"]} == expected_held
    assert {p["payer_id"] or "": money(Decimal(str(p["charges_held"])))
            for p in data["summary"]["by_payer"]} == expected_payers
    # each held claim once: the payers and the files add up to the total
    assert sum(Decimal(str(p["charges_held"])) for p in data["summary"]["by_payer"]) == \
        numbers.held.charges == sum(Decimal(str(f["charges_held"])) for f in data["files"])


def check_valid(outputs: dict[str, str]) -> None:
    schema = xml_schema()
    doc = xml_doc(outputs["xml"])
    assert schema.validate(doc), schema.error_log
    json_validator().validate(json.loads(outputs["json"]))
    rows = csv_rows(outputs["csv"])
    assert list(csv.reader(io.StringIO(outputs["csv"])))[0] == list(COLUMNS)
    for row in rows:
        assert len(row) == len(COLUMNS) and None not in row


def check_provenance(report, outputs: dict[str, str]) -> None:
    """Tool version, drug table version, run time and input hashes in every format."""
    hashes = [r.sha256 for r in report.files if r.sha256]
    for fmt, text in outputs.items():
        if fmt == "csv" and not any(True for _ in report.findings):
            continue  # plain CSV carries provenance in its rows; a clean run has none
        assert report.tool_version in text, fmt
        assert report.drug_table_version in text, fmt
        assert iso_time(report.started) in text, fmt  # run time
    for fmt in ("annotated", "html", "xml", "json"):
        for digest in hashes:
            assert digest in outputs[fmt], fmt
    # CSV: the hash of every file with findings, in the file_sha256 column
    rows = csv_rows(outputs["csv"])
    for row in rows:
        assert row["file_sha256"] in hashes and row["tool_version"] == report.tool_version
        assert row["drug_table_version"] == report.drug_table_version and row["run_started"]


# -- every sample -----------------------------------------------------------------------------
sample_params = [pytest.param(p, id=str(p.relative_to(SAMPLES))) for p in SAMPLE_FILES] or [
    pytest.param(None, marks=pytest.mark.skip(reason="samples/ is empty"))]


@pytest.mark.parametrize("sample", sample_params)
def test_every_format_on_every_sample(engine, sample):
    report = engine.run([sample])
    outputs = render_all(report)
    check_valid(outputs)
    check_agreement(report, outputs)
    check_provenance(report, outputs)


@pytest.mark.skipif(not SAMPLE_FILES, reason="samples/ is empty")
def test_all_samples_in_one_report_agree(engine):
    report = engine.run(SAMPLE_FILES)
    outputs = render_all(report)
    check_valid(outputs)
    check_agreement(report, outputs)
    check_provenance(report, outputs)
    # the batch has errors on charged lines: the money they hold up is shown
    assert figures(report).at_risk > 0


@pytest.mark.skipif(not SAMPLE_FILES, reason="samples/ is empty")
def test_annotated_prints_only_claims_with_findings(engine):
    report = engine.run(SAMPLE_FILES)
    text = render(report, "annotated")
    printed = text.count("\n-- claim ")
    assert printed == figures(report).claims_with_findings
    assert printed < report.summary()["claims"]


# -- fragments -----------------------------------------------------------------------------
def test_annotated_view_of_a_claim(engine, edi_file):
    path = edi_file(CLEAN_CLAIM + TWO_ERRORS_ON_ONE_LINE)
    report = engine.run([path])
    text = render(report, "annotated")
    assert "CLM*CLEAN1" not in text  # clean claim: counted, not printed
    assert "1 claim with findings; 1 claim without findings (not printed)" in text
    lines = text.splitlines()
    lin = next(i for i, line in enumerate(lines) if "] LIN**N4*50242-150-01~" in line)
    assert "NDC002 error" in lines[lin + 1]
    assert "safe fix: write NDC 50242-150-01 as 50242015001" in lines[lin + 2]
    ctp = next(i for i, line in enumerate(lines) if "] CTP****20*ml~" in line)
    assert "NDC006 error" in lines[ctp + 1]
    # segment indexes are the file's: the LIN is the 6th segment of the claim
    clm = next(f.claim_first for f in report.findings if f.claim_id == "C1")
    assert f"[{clm + 5:>6}] LIN**N4*50242-150-01~" in text


def test_csv_row_carries_the_line_context(engine, edi_file):
    report = engine.run([edi_file(TWO_ERRORS_ON_ONE_LINE, payer_id="PAYX")])
    row = next(r for r in csv_rows(render(report, "csv")) if r["rule"] == "NDC002")
    assert row["file"] == str(report.files[0].path)
    assert (row["interchange_control_number"], row["group_control_number"],
            row["transaction_control_number"]) == ("000000001", "1", "0001")
    assert (row["claim_id"], row["payer_id"], row["line_number"], row["hcpcs"], row["ndc"],
            row["units"], row["line_charge"]) == ("C1", "PAYX", "1", "J2350", "50242-150-01",
                                                  "600", "9000")
    assert (row["severity"], row["value"], row["segment"], row["loop"]) == (
        "error", "50242-150-01", "LIN", "2410")
    assert row["fix_hint"].startswith("safe fix: write NDC 50242-150-01 as 50242015001")
    assert row["file_sha256"] == report.files[0].sha256


def test_claim_view_warns_when_the_file_changed_after_the_check(engine, edi_file):
    path = edi_file(TWO_ERRORS_ON_ONE_LINE)
    report = engine.run([path])

    def warnings():
        doc = lxml_html.fromstring(render(report, "html"))
        return [p.text_content() for p in doc.xpath('//section[@id="worklist"]/p[@class="warn"]')]

    assert "changed since it was checked" not in render(report, "annotated")
    assert not warnings()
    path.write_bytes(path.read_bytes() + b"\n")
    assert "the file changed since it was checked" in render(report, "annotated")
    assert [w for w in warnings() if w.startswith("The file changed since it was checked")]
    [key] = claims_of(report)
    doc = lxml_html.fromstring(render(report, "html"))
    assert data_block(doc, f"claim-{key}")["changed"] is True


def test_file_level_findings_shown_under_their_segment(engine, edi_file):
    from edi837.x12.fragment import wrap_claims

    text = wrap_claims(TWO_ERRORS_ON_ONE_LINE).replace("SE*", "SE*9")
    report = engine.run([edi_file(text, wrap=False)])
    outputs = render_all(report)
    annotated = outputs["annotated"].splitlines()
    se = next(i for i, line in enumerate(annotated) if "] SE*9" in line)
    assert "EDI004 error" in annotated[se + 1]
    doc = lxml_html.fromstring(outputs["html"])
    rows = doc.xpath(has_class("file-level") + "//tr[@class='flagged']")
    assert any("SE*9" in row.text_content() and "EDI004" in row.text_content() for row in rows)
    check_agreement(report, outputs)


def test_validation_findings_in_a_claim_are_shown_in_that_claim(edi_file):
    """An IG finding inside a claim carries the claim's span, so the claim is shown
    with it even when no rule flagged the claim (here only IG codes are selected)."""
    from edi837.config import Config
    from edi837.validate import add_validation

    path = edi_file(TWO_ERRORS_ON_ONE_LINE.replace("CLM*C1*9000*", "CLM*C1**")
                    .replace("50242-150-01", "50242015001").replace("*ml", "*ML"))
    report = Engine(load_drug_table(), Config(select=("IG",))).run([path])
    add_validation(report)
    [finding] = report.findings
    assert (finding.rule, finding.claim_id, finding.claim_first) == ("IGE1", "C1", 20)
    annotated = render(report, "annotated")
    assert "1 claim with findings" in annotated
    claim = annotated[annotated.index("-- claim C1"):]
    assert claim.index("] CLM*C1**") < claim.index("IGE1 error") < claim.index("] HI*")


def test_claim_views_hold_one_claim_of_findings_at_a_time(engine, edi_file, monkeypatch):
    """The views read a file's findings as they print (the store gives fresh
    objects on every pass, as it does when they are spilled): while the first
    claim is printed, the findings alive are about two claims' worth, not the
    file's."""
    import dataclasses
    import gc

    from edi837.reports import views

    claims = "".join(TWO_ERRORS_ON_ONE_LINE.replace("C1", f"C{n}") for n in range(1, 41))
    result = engine.run([edi_file(claims)]).files[0]
    stored = list(result.findings)
    assert len(stored) >= 4 * 40  # four a claim (its DOC notes are one DOC000)
    alive = [0]

    class Loaded(Finding):
        __slots__ = ()

        def __init__(self, **values):
            super().__init__(**values)
            alive[0] += 1

        def __del__(self):
            alive[0] -= 1

    names = [f.name for f in dataclasses.fields(Finding)]

    class Store:
        def __iter__(self):
            for finding in stored:
                yield Loaded(**{name: getattr(finding, name) for name in names})

    monkeypatch.setattr(result, "findings", Store())
    view = views.file_view(result)
    assert view.claims_with_findings == 40
    items = view.items()
    first = next(item for item in items if isinstance(item, views.ClaimView))
    assert first.claim_id == "C1"
    gc.collect()
    assert alive[0] <= 2 * len(first.findings) + 2  # this claim, the next, one more
    rest = [item.claim_id for item in items if isinstance(item, views.ClaimView)]
    assert rest == [f"C{n}" for n in range(2, 41)]


def test_unreadable_file_is_reported_in_every_format(engine, edi_file):
    report = engine.run([edi_file("NOT X12 AT ALL\n", wrap=False)])
    outputs = render_all(report)
    check_valid(outputs)
    check_agreement(report, outputs)
    assert "EDI001" in outputs["annotated"] and "EDI001" in outputs["html"]


def test_no_findings_report(engine, edi_file):
    report = engine.run([edi_file(CLEAN_CLAIM)])
    outputs = render_all(report)
    check_valid(outputs)
    check_agreement(report, outputs)
    assert "CLM*CLEAN1" not in outputs["annotated"] and "CLM*CLEAN1" not in outputs["html"]


def test_hostile_text_is_inert_in_html(engine, edi_file):
    report = engine.run([edi_file(HOSTILE)])
    page = render(report, "html")
    doc = lxml_html.fromstring(page)
    scripts = doc.xpath("//script")
    runnable = [s for s in scripts if s.get("type") != "application/json"]
    assert len(runnable) == 1 and "alert" not in runnable[0].text  # only the report's own
    blocks = [s.text for s in scripts if s.get("type") == "application/json"]
    assert blocks and not [b for b in blocks if set("<>&") & set(b)]  # cannot close a block
    assert "<script>alert" not in page and "\x1b" not in page
    assert not doc.xpath("//b//b | //code//b")  # the <b> in a name is not markup
    # the values are intact where the page's script reads them (set with textContent)
    rows = html_figures(page)["rows"]
    assert {"<script>alert(1)</script>", 'Zoë "Q" \\x1b[31mRED'} <= {r["claim"] for r in rows}
    segments = [segment[1] for row in rows
                for line in data_block(doc, "claim-" + row["key"])["lines"]
                for segment in line[2]]
    assert "CLM*<script>alert(1)</script>*9000***11:B:1*Y*A*Y*Y~" in segments
    assert "NM1*82*1*O'HARA \"Q\" <b>BOLD</b>*JOSÉ****XX*1234567893~" in segments  # é as sent
    assert not [s for s in segments if "Ã" in s]
    # nothing outside the file: no external resources, and a CSP that forbids them
    assert not doc.xpath("//link | //img | //iframe | //*[@src]"
                         " | //*[@href and not(starts-with(@href, '#'))]")
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]')[0].get("content")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_hostile_text_is_safe_in_csv(engine, edi_file):
    report = engine.run([edi_file(HOSTILE)])
    text = render(report, "csv")
    rows = csv_rows(text)
    assert rows
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value
            assert "\x1b" not in value
    ndcs = {row["ndc"] for row in rows if row["rule"] == "NDC002"}
    assert ndcs == {"'=cmd|' /C calc'!A0", "'@SUM(1+1)"}
    assert "<script>alert(1)</script>" in {row["claim_id"] for row in rows}
    assert 'Zoë "Q" \\x1b[31mRED' in {row["claim_id"] for row in rows}
    # the quote in a cell survives a CSV round trip (cells are quoted, not broken)
    assert any('"' in row["claim_id"] for row in rows)


def test_hostile_text_is_safe_in_annotated_xml_and_json(engine, edi_file):
    report = engine.run([edi_file(HOSTILE)])
    outputs = render_all(report)
    annotated = outputs["annotated"]
    assert "CLM*<script>alert(1)</script>*9000" in annotated
    assert "JOSÉ" in annotated and "Ã" not in annotated
    assert "\x1b" not in annotated and "\\x1b[31mRED" in annotated
    check_valid(outputs)  # the XML stays well-formed and valid
    doc = xml_doc(outputs["xml"])
    assert "<script>alert(1)</script>" in {f.get("claimId") for f in doc.iter("finding")}
    check_agreement(report, outputs)


def test_documentation_checklist_per_j2350_claim(engine, edi_file):
    """Each DOC rule on each J2350 claim: its message when raised, else what is in
    order, said positively (not "names no service facility: clear")."""
    with_facility = CLEAN_CLAIM.replace("50242015001", "50242-150-01")  # NDC002 only
    report = engine.run([edi_file(TWO_ERRORS_ON_ONE_LINE), edi_file(with_facility)])
    doc = lxml_html.fromstring(render(report, "html"))
    raised = {}
    for key, found in claims_of(report).items():
        checklist = data_block(doc, f"claim-{key}")["checklist"]
        # by default a claim's DOC notes are one DOC000 finding, its items the notes
        [doc000] = [f for f in found if f.rule == "DOC000"] or [None]
        flagged = {code: message for code, _, message, _ in doc000.extra["checklist"]} \
            if doc000 else {}
        assert not [f for f in found if f.rule in ("DOC001", "DOC002", "DOC003", "DOC004")]
        items = {code: (words, flagged_here) for code, words, flagged_here in checklist["items"]}
        assert list(items) == ["DOC001", "DOC002", "DOC003", "DOC004"]
        for code, (words, flagged_here) in items.items():
            assert flagged_here == (code in flagged)
            assert words == flagged[code] if flagged_here else "no " not in words
        raised[found[0].claim_id] = set(flagged), items
    assert raised["C1"][0] == {"DOC002", "DOC003", "DOC004"}
    assert raised["CLEAN1"][0] == set()
    assert raised["CLEAN1"][1]["DOC003"] == ("a service facility is named.", False)


def test_the_work_list_keeps_errors_when_rows_are_capped_and_says_so(engine, edi_file,
                                                                     monkeypatch):
    from conftest import CLEAN_J2350_CLAIM

    from edi837.reports import html_worklist

    warning = CLEAN_J2350_CLAIM.split("LX*2")[0]  # no administration line: ADM001 only
    # each its own date: the same claim three times would be duplicates (HIS001 errors)
    claims = "".join(warning.replace("CLM*C1*", f"CLM*W{n}*").replace("20260115", f"2026011{5 + n}")
                     for n in range(3)) + "".join(
        TWO_ERRORS_ON_ONE_LINE.replace("CLM*C1*", f"CLM*E{n}*") for n in range(2))
    report = engine.run([edi_file(claims)])
    uncapped = html_figures(render(report, "html"))
    assert [r["claim"] for r in uncapped["rows"]] == ["W0", "W1", "W2", "E0", "E1"]
    assert not uncapped["doc"].xpath('//*[@id="rows-capped"]')
    monkeypatch.setattr(html_worklist, "ROW_LIMIT", 3)
    monkeypatch.setattr(html_worklist, "DETAIL_LIMIT", 2)
    capped = html_figures(render(report, "html"))
    assert [r["claim"] for r in capped["rows"]] == ["W0", "E0", "E1"]  # errors kept first
    assert capped["doc"].xpath('string(//*[@id="rows-capped"])').startswith(
        "This page lists 3 of these 5 claims (errors first")
    embedded = capped["doc"].xpath('//script[starts-with(@id, "claim-")]/@id')
    assert embedded == [f"claim-{r['key']}" for r in capped["rows"] if r["claim"] != "W0"]
    assert data_block(capped["doc"], "worklist-details") == {"claims": 2, "skipped": 1}


def test_html_is_one_self_contained_file(engine, edi_file):
    page = render(engine.run([edi_file(TWO_ERRORS_ON_ONE_LINE)]), "html")
    lowered = page.lower()
    for reference in ("http://", "https://", "//fonts", "@import", "url(", "<link"):
        assert reference not in lowered, reference
    assert "@media print" in page


# -- the command line --------------------------------------------------------------------------
def test_repeated_outputs_write_every_format(edi_file, tmp_path):
    path = edi_file(TWO_ERRORS_ON_ONE_LINE)
    outputs = {"report.html": "html", "findings.csv": "csv", "r.json": "json",
               "r.xml": "xml", "claims.annotated.txt": "annotated"}
    args = ["check", str(path)]
    for name in outputs:
        args += ["-o", str(tmp_path / name)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # error findings
    written = {name: (tmp_path / name).read_text(encoding="utf-8") for name in outputs}
    assert written["report.html"].startswith("<!DOCTYPE html>")
    assert csv_rows(written["findings.csv"])[0]["rule"]
    assert json.loads(written["r.json"])["summary"]["errors"] == 2
    assert "LIN**N4*50242-150-01~" in written["claims.annotated.txt"]
    assert all(format_for(name) == fmt for name, fmt in outputs.items())
    check_valid({"csv": written["findings.csv"], "xml": written["r.xml"],
                 "json": written["r.json"]})
    # one run, one set of figures in every file
    summary = json.loads(written["r.json"])["summary"]
    assert int(html_figures(written["report.html"])["summary"]["errors"]) == summary["errors"]
    assert len(csv_rows(written["findings.csv"])) == \
        summary["errors"] + summary["warnings"] + summary["infos"]
    assert xml_doc(written["r.xml"]).find("summary").get("errors") == str(summary["errors"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_option_writes_to_stdout(edi_file, fmt):
    result = CliRunner().invoke(main, ["check", "--format", fmt,
                                       str(edi_file(TWO_ERRORS_ON_ONE_LINE))])
    assert result.exit_code == 1
    assert "NDC002" in result.output


# -- nightly scale -------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_format_of_a_100_mb_input_in_bounded_memory(large_837, tmp_path):
    """One `check` writing all six formats: its peak RSS bounds each format's.  The
    reports stream (findings spilled to disk, the file re-read beside them), so
    memory does not grow with the input."""
    import subprocess
    import sys

    names = {"r.html": "html", "r.json": "json", "r.csv": "csv", "r.xml": "xml",
             "r.txt": "text", "r.annotated.txt": "annotated"}
    args = ["check", str(large_837)]
    for name in names:
        args += ["-o", str(tmp_path / name)]
    script = ("import resource, subprocess, sys\n"
              f"p = subprocess.run([sys.executable, '-m', 'edi837', *{args!r}],"
              " stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
              "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
              "print(p.stderr)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=True)
    status, rss = done.stdout.split("\n", 1)[0].split()
    peak_mib = int(rss) / 1024
    assert status == "1" and peak_mib < 64, (status, peak_mib, done.stdout[-2000:])
    assert all(f"  wrote {tmp_path / name} ({fmt})" in done.stdout for name, fmt in names.items())
    assert (tmp_path / "r.html").stat().st_size < 20 * 2**20
    xml_schema().assertValid(etree.parse(str(tmp_path / "r.xml")))
    print(f"100 MB input, all formats: peak RSS {peak_mib:.1f} MiB; sizes "
          + ", ".join(f"{name} {(tmp_path / name).stat().st_size / 2**20:.1f} MiB"
                      for name in names))


def test_claim_views_of_a_file_of_one_segment_a_line_show_no_terminator(tmp_path):
    """A file whose segment terminator is the line break: the annotated text showed a
    visible \\x0a at the end of every segment."""
    from edi837.generator import generate

    out = io.StringIO(newline="")
    generate(out, "837P", claims=40, seed=3, defect_rate=0.5, terminator="\n", newline="")
    path = tmp_path / "lines.edi"
    path.write_bytes(out.getvalue().encode("latin-1"))
    assert b"~" not in path.read_bytes()
    report_path = tmp_path / "r.txt"
    result = CliRunner().invoke(main, ["check", str(path), "--format", "annotated", "-o",
                                       str(report_path)])
    shown = report_path.read_text()
    assert result.exit_code == 1 and "SV1*" in shown  # claims with findings, segments shown
    assert "\\x0a" not in shown
