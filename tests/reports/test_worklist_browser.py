"""The work-list fixes of issue 27 in a real browser: a dollar total for every
filter, filters that combine when a rule is clicked, the first click on a number
sorting largest first, the billing provider column, the ASP payment limit; and
the queue page's clicks.  Clicks are made by a small script appended to a copy
of the page (its hash added to the copy's Content-Security-Policy), so the
page's own script handles them as it would a person's."""
import base64
import hashlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
import queue_support
from queue_support import rows as queue_rows
from test_html_browser import CHROMIUM, browse, expected_rows, shown, visible_rows, write_html

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.generator import generate
from edi837.reports.text import finding_line

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory):
    """The queue page of two nights (tests/queue_support.py), as test_queue_browser has it."""
    return queue_support.three_nights(tmp_path_factory.mktemp("queue-page"))


def with_clicks(page: Path, script: str, target: Path) -> Path:
    """A copy of ``page`` that runs ``script`` after the page's own."""
    text = page.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    text = re.sub(r"script-src ('sha256-[^']+')", rf"script-src \1 'sha256-{digest}'", text,
                  count=1)
    text = text.replace("</body>", f"<script>{script}</script></body>")
    target.write_text(text, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("worklist-fixes")
    path = folder / "837P.edi"
    with open(path, "w", encoding="latin-1", newline="") as out:
        generate(out, "837P", claims=1500, seed=27, defect_rate=0.1)
    result = Engine(load_drug_table()).run([path])
    for finding in result.files[0].findings:  # as if an ASP pricing file were imported
        if finding.hcpcs == "J2350" and finding.line_number is not None:
            finding.payment_limit = "41234.50"
    return write_html(result, folder / "report.html"), result, expected_rows(result)


def test_every_filter_shows_its_dollar_total(report, tmp_path):
    path, _, rows = report
    payer = rows[0]["payer"]
    doc = browse(path, f"payer={payer}", tmp_path)
    wanted = [r for r in rows if r["payer"] == payer]
    total = sum(Decimal(str(r["charge"] or 0)) for r in wanted)
    assert Decimal(doc.xpath('string(//*[@id="f-total"]/@data-value)')) == total
    assert doc.xpath('string(//*[@id="f-total"])').startswith(f"\u00b7 ${total:,.2f}")


def test_clicking_a_rule_keeps_the_payer_filter(report, tmp_path):
    path, _, rows = report
    payer = rows[0]["payer"]
    code = sorted(rows[0]["rules"])[0]
    click = ('document.querySelector("#worklist-body a.rule-pill[href=\'#rule=' + code +
             '\']").click();')
    doc = browse(with_clicks(path, click, tmp_path / "clicked.html"), f"payer={payer}", tmp_path)
    listed = visible_rows(doc)
    assert listed and {tr.get("data-payer") for tr in listed} == {payer}
    assert all(code in tr.get("data-rules").split() for tr in listed)
    wanted = [r for r in rows if r["payer"] == payer and code in r["rules"]]
    assert shown(doc).endswith(f" of {len(wanted):,} claims (of {len(rows):,})")


def test_the_first_click_on_charge_sorts_the_largest_first(report, tmp_path):
    path, _, rows = report
    click = 'document.querySelector("th[data-sort=charge] button").click();'
    doc = browse(with_clicks(path, click, tmp_path / "sorted.html"), "", tmp_path)
    charges = [Decimal(tr.xpath("string(td[8])").strip("$").replace(",", "") or 0)
               for tr in visible_rows(doc)]
    assert charges == sorted(charges, reverse=True) and charges[0] > charges[-1]
    assert doc.xpath('//th[@data-sort="charge"]/@aria-sort') == ["descending"]
    twice = click + click
    doc = browse(with_clicks(path, twice, tmp_path / "twice.html"), "", tmp_path)
    assert doc.xpath('//th[@data-sort="charge"]/@aria-sort') == ["ascending"]


def test_rows_name_the_billing_provider_and_lines_their_asp_limit(report, tmp_path):
    path, result, rows = report
    row = next(r for r in rows if any(f.hcpcs == "J2350" and f.line_number
                                      for f in r["findings"]))
    doc = browse(path, f"open={row['key']}", tmp_path)
    npi = next(f.billing_npi for f in row["findings"] if f.billing_npi)
    [tr] = [tr for tr in visible_rows(doc) if tr.get("data-key") == row["key"]] or \
        doc.xpath(f'//tr[@data-key="{row["key"]}"]')[:1]
    assert tr.xpath("string(td[4])") == npi
    assert doc.xpath('//th[@data-sort="npi"]')
    limits = doc.xpath('//div[contains(@class, "asp")]/text()')
    assert limits and set(limits) == {"ASP payment limit: $41,234.50"}
    line = next(f for f in result.files[0].findings if f.payment_limit)
    assert "ASP limit $41,234.50" in finding_line(line)


def test_queue_page_group_links_add_to_the_filters_and_charge_sorts_down(three_nights,
                                                                          tmp_path):
    click = 'document.querySelector("#rule-groups a[data-value=DX001]").click();'
    doc = browse(with_clicks(three_nights, click, tmp_path / "q1.html"), "payer=PAYER02",
                 tmp_path)
    assert sorted(r[0] for r in queue_rows(doc)) == ["Q2", "Q3"]
    click = 'document.querySelector("#queue th[data-key=charge]").click();'
    doc = browse(with_clicks(three_nights, click, tmp_path / "q2.html"), "", tmp_path)
    assert [r[0] for r in queue_rows(doc)] == ["Q3", "Q2", "Q1", "P2"]
    doc = browse(with_clicks(three_nights, click + click, tmp_path / "q3.html"), "", tmp_path)
    assert [r[0] for r in queue_rows(doc)] == ["P2", "Q1", "Q2", "Q3"]


# -- the submitter column (1000A) --------------------------------------------------------------
@pytest.fixture(scope="module")
def submitters_report(tmp_path_factory):
    """Sets from three submitters (1000A NM109 S1-S3, the fourth set S1 again)."""
    folder = tmp_path_factory.mktemp("submitters")
    path = folder / "837P.edi"
    with open(path, "w", encoding="latin-1", newline="") as out:
        generate(out, "837P", claims=400, seed=41, defect_rate=0.2, claims_per_st=100)
    parts = path.read_text(encoding="latin-1").split(
        "NM1*41*2*SYNTHETIC CLAIMS SUBMITTER*****46*EDI837SYN")
    assert len(parts) == 5
    text = parts[0] + "".join(f"NM1*41*2*SUBMITTER {n % 3 or 3}*****46*S{n % 3 or 3}" + part
                              for n, part in enumerate(parts[1:], 1))
    path.write_text(text, encoding="latin-1", newline="")
    sets, current = {}, None  # ST02 -> submitter id, read from the text, not by edi837
    for segment in text.split("~"):
        fields = segment.strip().split("*")
        if fields[0] == "ST":
            current = fields[2]
        elif fields[:2] == ["NM1", "41"]:
            sets[current] = fields[9]
    result = Engine(load_drug_table()).run([path])
    rows = expected_rows(result)
    for row in rows:
        row["submitter"] = sets[row["findings"][0].transaction]
    return write_html(result, folder / "report.html"), rows


def test_rows_name_their_submitter_and_filter_and_sort_on_it(submitters_report, tmp_path):
    path, rows = submitters_report
    assert {r["submitter"] for r in rows} == {"S1", "S2", "S3"}
    doc = browse(path, "submitter=S2", tmp_path)
    wanted = [r for r in rows if r["submitter"] == "S2"]
    listed = visible_rows(doc)
    assert {tr.get("data-submitter") for tr in listed} == {"S2"}
    assert all(tr.xpath("string(td[5])") == "SUBMITTER 2 (S2)" for tr in listed)
    assert shown(doc).endswith(f" of {len(wanted):,} claims (of {len(rows):,})")
    total = sum(Decimal(str(r["charge"] or 0)) for r in wanted)
    assert Decimal(doc.xpath('string(//*[@id="f-total"]/@data-value)')) == total
    labels = doc.xpath('//select[@id="f-submitter"]/option/text()')
    assert labels == ["all", "SUBMITTER 1 (S1)", "SUBMITTER 2 (S2)", "SUBMITTER 3 (S3)"]
    # combined with another filter, and sorted on the column (both directions)
    payer = wanted[0]["payer"]
    doc = browse(path, f"submitter=S2&payer={payer}", tmp_path)
    both = [r for r in wanted if r["payer"] == payer]
    assert shown(doc).endswith(f" of {len(both):,} claims (of {len(rows):,})")
    for direction, order in (("asc", ["S1", "S2", "S3"]), ("desc", ["S3", "S2", "S1"])):
        doc = browse(path, f"sort=submitter&dir={direction}&page=1", tmp_path)
        seen = [tr.get("data-submitter") for tr in visible_rows(doc)]
        assert seen == sorted(seen, key=order.index) and seen[0] == order[0]
    click = 'document.querySelector("th[data-sort=submitter] button").click();'
    doc = browse(with_clicks(path, click, tmp_path / "by-submitter.html"), "", tmp_path)
    assert visible_rows(doc)[0].get("data-submitter") == "S1"


def test_the_claim_view_names_the_submitter(submitters_report, tmp_path):
    path, rows = submitters_report
    row = next(r for r in rows if r["submitter"] == "S3")
    doc = browse(path, f"open={row['key']}", tmp_path)
    meta = doc.xpath('string(//div[contains(@class, "claim-detail")]/p[@class="meta"])')
    assert "billing NPI" in meta and " · submitter SUBMITTER 3 (S3) · " in meta
    assert doc.xpath("string(//tr[@class=\"detail\"]/td/@colspan)") == str(
        len(doc.xpath("//table[@id=\"worklist-table\"]/thead/tr/th")))
