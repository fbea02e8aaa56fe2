"""The HTML report in a real browser: headless Chromium loads it from a file,
runs its inline script, and we read back the DOM it leaves (--dump-dom).

The work list's state lives in the URL fragment (report.html#payer=99901&rule=
NDC002), and the script applies it on load, so the dumped DOM shows the rows a
person would see.  The page writes how long it took to become usable
(performance.now(), from navigation start, once the first page of rows is
rendered) into body[data-ready-ms].  Skipped when Chromium is not installed (CI
installs it: `apt-get install -y chromium`).
"""
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from lxml import html as lxml_html

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.generator import generate
from edi837.reports import html_worklist, load_writers
from edi837.reports.figures import figures
from edi837.reports.html import PAGE_SIZE
from edi837.x12.fragment import wrap_claims

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
SEVERITIES = ("error", "warning", "info")
LOAD_BUDGET_MS = 3_000  # the bound for a 100 MB input's report

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install -y chromium); "
           "the HTML report's browser test needs it")

HOSTILE = """
CLM*<script>alert(1)</script>*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*O'HARA "Q" <b>BOLD</b>*JOSÉ****XX*1234567893
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*=cmd|' /C calc'!A0
CTP****20*ML
"""


def has_class(name: str, root: str = "") -> str:
    return f"{root}//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


def write_html(report, path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as out:
        load_writers()["html"](report, out)
    return path


def browse(path: Path, fragment: str, tmp_path: Path):
    """Load file://path#fragment in headless Chromium; the DOM after scripts ran."""
    profile = tmp_path / f"profile-{abs(hash(fragment))}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--dump-dom",
               path.resolve().as_uri() + (f"#{fragment}" if fragment else "")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout, done.stderr[-2000:]
    doc = lxml_html.fromstring(done.stdout)
    assert doc.xpath("//body/@data-ready") == ["yes"], "the page's script did not finish"
    return doc


def ready_ms(doc) -> int:
    return int(doc.xpath("string(//body/@data-ready-ms)"))


def visible_rows(doc) -> list:
    return doc.xpath('//tbody[@id="worklist-body"]/tr[contains(@class, "row")]')


def shown(doc) -> str:
    return doc.xpath('string(//*[@id="f-shown"])')


def expected_rows(report) -> list[dict]:
    """The work list worked out from the findings, not from the page: one row per
    claim whose worst finding is an error or warning, in file order."""
    rows = []
    for number, result in enumerate(report.files, 1):
        claims: dict[int, list] = {}
        for finding in result.findings:
            if finding.claim_first is not None:
                claims.setdefault(finding.claim_first, []).append(finding)
        for first, found in claims.items():
            severities = {f.severity for f in found}
            worst = next(s for s in SEVERITIES if s in severities)
            if worst == "info":
                continue
            charge = next((f.claim_charge for f in found if f.claim_charge), None)
            rows.append({"key": f"{number}-{first}", "file": number, "worst": worst,
                         "payer": next((f.payer_id for f in found if f.payer_id), "") or "",
                         "rules": {f.rule for f in found if f.severity != "info"},
                         "charge": float(charge) if charge else None, "findings": found,
                         "claim": found[0].claim_id})
    return rows


def default_order(rows: list[dict]) -> list[str]:
    """Errors first, then the largest charge, then file order."""
    order = sorted(enumerate(rows), key=lambda item: (
        SEVERITIES.index(item[1]["worst"]), -(item[1]["charge"] or 0), item[0]))
    return [row["key"] for _, row in order]


# -- small files: always --------------------------------------------------------------------
@pytest.fixture(scope="module")
def worklist(tmp_path_factory):
    """Two generated files (837P and 837I) with a few hundred claims to work."""
    folder = tmp_path_factory.mktemp("worklist")
    paths = []
    for kind, claims in (("837P", 2500), ("837I", 400)):
        path = folder / f"{kind}.edi"
        with open(path, "w", encoding="latin-1", newline="") as out:
            generate(out, kind, claims=claims, seed=14, defect_rate=0.1)
        paths.append(path)
    report = Engine(load_drug_table()).run(paths)
    rows = expected_rows(report)
    assert len(rows) > 2 * PAGE_SIZE  # enough rows to need pages
    return write_html(report, folder / "report.html"), report, rows


def test_the_work_list_opens_quickly_errors_first(worklist, tmp_path):
    path, report, rows = worklist
    doc = browse(path, "", tmp_path)
    assert ready_ms(doc) < LOAD_BUDGET_MS
    assert shown(doc) == f"1-{PAGE_SIZE} of {len(rows):,} claims"
    assert [tr.get("data-key") for tr in visible_rows(doc)] == default_order(rows)[:PAGE_SIZE]
    # the figures at the top are the report's
    numbers = figures(report)
    cells = {c.get("data-figure"): c.text_content() for c in
             doc.xpath('//section[@id="summary"]/table[1]//*[@data-figure]')}
    assert cells["errors"] == f"{numbers.summary['errors']:,}"
    assert cells["charges-held"] == f"${numbers.held.charges:,.2f}"
    # info notes are collapsed: the info-only rules sit in a closed <details>
    assert doc.xpath('//details[@id="info-rules"]') and \
        doc.xpath('//details[@id="info-rules"]/@open') == []


@pytest.mark.parametrize("name", ["payer", "rule", "severity", "file", "payer+rule"])
def test_a_filter_in_the_url_shows_exactly_its_claims(worklist, tmp_path, name):
    path, report, rows = worklist
    top_payer = Counter(r["payer"] for r in rows).most_common(1)[0][0]
    top_rule = Counter(code for r in rows for code in r["rules"]).most_common(1)[0][0]
    filters = {"payer": {"payer": top_payer}, "rule": {"rule": top_rule},
               "severity": {"severity": "warning"}, "file": {"file": "2"},
               "payer+rule": {"payer": top_payer, "rule": top_rule}}[name]
    wanted = [r for r in rows
              if r["payer"] == filters.get("payer", r["payer"])
              and filters.get("rule", next(iter(r["rules"]))) in r["rules"]
              and r["worst"] == filters.get("severity", r["worst"])
              and str(r["file"]) == filters.get("file", str(r["file"]))]
    assert 0 < len(wanted) < len(rows)
    doc = browse(path, "&".join(f"{k}={v}" for k, v in filters.items()), tmp_path)
    assert shown(doc).endswith(f" of {len(wanted):,} claims (of {len(rows):,})")
    assert [tr.get("data-key") for tr in visible_rows(doc)] == \
        default_order(wanted)[:PAGE_SIZE]
    for control, value in filters.items():  # the controls show the filter they apply
        assert doc.xpath(f'//select[@id="f-{control}"]/option[@value="{value}"]')


def test_sorting_and_pages_come_from_the_url(worklist, tmp_path):
    path, _, rows = worklist
    doc = browse(path, "sort=charge&dir=asc&page=2", tmp_path)
    order = sorted(enumerate(rows), key=lambda item: (
        item[1]["charge"] is None, item[1]["charge"] or 0, SEVERITIES.index(item[1]["worst"]),
        item[0]))
    assert [tr.get("data-key") for tr in visible_rows(doc)] == \
        [row["key"] for _, row in order][PAGE_SIZE:2 * PAGE_SIZE]
    assert shown(doc).startswith(f"{PAGE_SIZE + 1}-{2 * PAGE_SIZE} of ")
    assert doc.xpath('//th[@data-sort="charge"]/@aria-sort') == ["ascending"]


def test_summary_rows_link_to_the_filters_they_count(worklist, tmp_path):
    path, report, rows = worklist
    page = lxml_html.fromstring(path.read_text(encoding="utf-8"))
    numbers = figures(report)
    payer = numbers.payers[0]  # the most dollars held
    code, held = payer.top_rules()[0]  # for this rule
    [link] = page.xpath(f'//table[@id="by-payer"]/tbody/tr[@data-payer="{payer.payer_id}"]'
                        f'//a[text()="{code}"]')
    assert link.get("href") == f"#payer={payer.payer_id}&rule={code}"
    assert page.xpath(f'//table[@id="by-rule"]//tr[@data-rule="{code}"]//a/@href') == \
        [f"#rule={code}"]
    summary = page.xpath(f'string(//table[@id="by-rule"]//tr[@data-rule="{code}"]/td[2])')
    assert summary and summary[0].isupper()  # the rule's one-line explanation
    doc = browse(path, link.get("href")[1:], tmp_path)
    listed = [tr for tr in visible_rows(doc)]
    assert listed and {tr.get("data-payer") for tr in listed} == {payer.payer_id}
    assert all(code in tr.get("data-rules").split() for tr in listed)
    held_here = [r for r in rows if r["payer"] == payer.payer_id and code in r["rules"]]
    assert shown(doc).endswith(f" of {len(held_here):,} claims (of {len(rows):,})")
    assert doc.xpath('string(//*[@id="f-rule-help"])').startswith(f"{code}: ")


def test_a_claim_opens_with_its_segments_and_findings(worklist, tmp_path):
    path, _, rows = worklist
    row = next(r for r in rows if {f.severity for f in r["findings"]} >= {"error", "info"})
    doc = browse(path, f"severity=error&open={row['key']}", tmp_path)
    [detail] = doc.xpath(has_class("claim-detail"))
    assert detail.get("data-key") == row["key"]
    first, last = row["findings"][0].claim_first, row["findings"][0].claim_last
    indexes = [int(td.text_content()) for td in detail.xpath('.//td[@class="idx"]')]
    assert indexes == list(range(first, last + 1))  # every segment of the claim, in order
    assert detail.xpath('.//code')[0].text_content().startswith(f"CLM*{row['claim']}*")
    heads = [th.text_content() for th in detail.xpath('.//tr[@class="line-head"]/th')]
    assert heads[0] == "Claim level (loop 2300)"
    assert [h for h in heads[1:] if " · charge $" in h]  # the drug line's charge, for people
    found = Counter(f.severity for f in row["findings"])
    assert Counter(f.get("data-severity") for f in detail.xpath(has_class("finding", "."))) \
        == found
    infos = detail.xpath('.//details[@class="notes"]')
    assert infos and not [d for d in infos if d.get("open") is not None]  # collapsed
    assert {f.get("data-severity") for d in infos for f in d.xpath(has_class("finding", "."))} \
        == {"info"}
    # only the opened claim's segments are in the page's DOM
    assert len(doc.xpath(has_class("claim-detail"))) == 1
    assert len(doc.xpath('//td[@class="idx"]')) == len(indexes)


def test_a_claim_beyond_the_cap_says_where_its_segments_are(worklist, tmp_path, monkeypatch):
    _, report, rows = worklist
    monkeypatch.setattr(html_worklist, "DETAIL_LIMIT", 5)
    path = write_html(report, tmp_path / "capped.html")
    ordered = default_order(rows)
    doc = browse(path, f"open={ordered[-1]}", tmp_path)
    note = doc.xpath('string(//*[@id="detail-note"])')
    assert note.startswith(f"This page carries the segments of 5 of the {len(rows):,} "
                           "listed claims (errors first")
    assert "annotated report" in note and "CSV and JSON" in note
    [detail] = doc.xpath(has_class("claim-detail"))
    assert "does not carry the segments of claim" in detail.text_content()
    assert not detail.xpath('.//td[@class="idx"]')


def test_edi_text_stays_text_in_the_browser(tmp_path):
    source = tmp_path / "hostile.edi"
    source.write_text(wrap_claims(HOSTILE), encoding="utf-8")
    report = Engine(load_drug_table()).run([source])
    path = write_html(report, tmp_path / "hostile.html")
    [row] = expected_rows(report)
    doc = browse(path, f"open={row['key']}", tmp_path)
    assert [b.text_content() for b in doc.xpath('//button[@class="open"]')] == [
        "<script>alert(1)</script>"]
    runnable = [s for s in doc.xpath("//script") if s.get("type") != "application/json"]
    assert len(runnable) == 1 and "alert" not in runnable[0].text  # nothing injected ran
    segments = [c.text_content() for c in doc.xpath(has_class("claim-detail") + "//code")]
    assert "NM1*82*1*O'HARA \"Q\" <b>BOLD</b>*JOSÉ****XX*1234567893~" in segments
    assert not doc.xpath("//code//b | //button//script")


# -- a 100 MB input: slow --------------------------------------------------------------------
@pytest.mark.slow
def test_a_100_mb_report_opens_in_3_seconds_and_answers_the_morning_question(
        large_837, tmp_path):
    """Which payer has the most dollars held, for which rule, and one of those claims."""
    report = Engine(load_drug_table()).run([large_837])
    path = write_html(report, tmp_path / "large.html")
    size = path.stat().st_size
    assert size < 20 * 2**20, size
    numbers = figures(report)
    payer = numbers.payers[0]
    code, held = payer.top_rules()[0]
    every = expected_rows(report)
    rows = [r for r in every if r["payer"] == payer.payer_id and code in r["rules"]]
    doc = browse(path, f"payer={payer.payer_id}&rule={code}", tmp_path)
    assert ready_ms(doc) < LOAD_BUDGET_MS, ready_ms(doc)
    assert shown(doc).endswith(f" of {len(rows):,} claims (of {len(every):,})")
    first = default_order(rows)[0]
    assert [tr.get("data-key") for tr in visible_rows(doc)][:1] == [first]
    doc = browse(path, f"payer={payer.payer_id}&rule={code}&open={first}", tmp_path)
    assert ready_ms(doc) < LOAD_BUDGET_MS, ready_ms(doc)
    [detail] = doc.xpath(has_class("claim-detail"))
    assert detail.xpath('.//td[@class="idx"]') and \
        code in {f.get("data-rule") for f in detail.xpath(has_class("finding", "."))}
    print(f"100 MB input: report {size / 2**20:.1f} MiB, usable after {ready_ms(doc)} ms")
