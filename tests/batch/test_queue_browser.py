"""The work-queue page (queue.html beside a run's summary) in a real browser:
headless Chromium loads it with a state in the URL, runs its script, and we read
the DOM it leaves (as tests/reports/test_html_browser.py does for the report)."""
import random
import sqlite3
import time
from decimal import Decimal

import pytest
import queue_support
from batch_support import options
from queue_support import claim, drop_night, rows
from test_html_browser import CHROMIUM, browse

from edi837.batch import driver, run_batch
from edi837.batch.queue_page import summary_section, write_queue_html
from edi837.queue.store import apply_file, ensure_schema

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def total(doc) -> Decimal:
    return Decimal(doc.xpath('string(//*[@id="q-total"]/@data-value)'))


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory):
    return queue_support.three_nights(tmp_path_factory.mktemp("queue-page"))


def test_the_page_opens_with_the_open_claims_oldest_first(three_nights, tmp_path):
    doc = browse(three_nights, "", tmp_path)
    assert [r[0] for r in rows(doc)] == ["Q2", "Q1", "P2", "Q3"]  # age, then charge
    assert total(doc) == Decimal("3000.00")
    assert doc.xpath('string(//*[@id="q-shown"])').startswith("1\u20134 of 4 claims")
    resolved = doc.xpath('//table[@id="resolved"]//tr[@data-claim]/@data-claim')
    assert resolved == ["P1"]


def test_filters_combine_and_the_total_follows(three_nights, tmp_path):
    doc = browse(three_nights, "payer=PAYER02&rule=DX001", tmp_path)
    assert sorted(r[0] for r in rows(doc)) == ["Q2", "Q3"]
    assert total(doc) == Decimal("2400.00")
    doc = browse(three_nights, "payer=PAYER02&rule=DX001&tonight=1", tmp_path)
    assert [r[0] for r in rows(doc)] == ["Q3"] and total(doc) == Decimal("1600.00")
    doc = browse(three_nights, "npi=0000000000", tmp_path)
    assert rows(doc) == [] and total(doc) == Decimal("0.00")


def test_sort_direction_comes_from_the_url_largest_first_by_default(three_nights, tmp_path):
    doc = browse(three_nights, "sort=charge", tmp_path)
    assert [r[0] for r in rows(doc)] == ["Q3", "Q2", "Q1", "P2"]
    assert doc.xpath('//th[@data-key="charge"]/@data-dir') == ["down"]
    doc = browse(three_nights, "sort=charge&dir=up", tmp_path)
    assert [r[0] for r in rows(doc)] == ["P2", "Q1", "Q2", "Q3"]


def test_group_rows_link_to_their_filter(three_nights, tmp_path):
    doc = browse(three_nights, "", tmp_path)
    links = {a.get("data-value"): a.get("href")
             for a in doc.xpath('//table[@id="payer-groups"]//a')}
    assert links == {"PAYER01": "#payer=PAYER01", "PAYER02": "#payer=PAYER02"}
    cells = {tr.xpath("string(td[1])").split()[0]: tr.xpath("string(td[3])")
             for tr in doc.xpath('//table[@id="payer-groups"]/tbody/tr')}
    assert cells == {"PAYER02": "$2,800.00", "PAYER01": "$200.00"}
    summary = (three_nights.parent / "summary.html").read_text()
    assert 'href="queue.html#payer=PAYER02&amp;tonight=1"' in summary


@pytest.mark.slow
def test_a_queue_of_100000_claims_opens_quickly_and_filters_add_up(tmp_path):
    """100,000 open claims (fed to the queue store as a run would, not through
    the checker: the page is what is tested), five payers, three rules."""
    started = time.monotonic()
    db = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    ensure_schema(db)
    rng = random.Random(27)
    payers, rules = [f"PAYER{n:02d}" for n in range(5)], ["NDC002", "DX001", "MOD004"]
    claims, expected = [], Decimal(0)
    for n in range(100_000):
        payer, rule = payers[n % 5], rules[n % 3]
        charge = Decimal(rng.randrange(100, 2_000_000)) / 100
        if payer == "PAYER03" and rule == "DX001":
            expected += charge
        claims.append({"claim_id": f"CLM{n:06d}", "payer_id": payer, "payer_name": payer,
                       "billing_npi": f"{1000000000 + n % 40}", "charge": str(charge),
                       "frequency": "1", "patient": "", "services": [], "held": True,
                       "rules": [rule], "submitter": f"SUB{n % 7}", "submitter_name": ""})
    run_id = "20260105T021500.000000Z"
    db.execute("BEGIN")
    apply_file(db, claims, run_id=run_id, file="big.edi", sha256="0" * 64)
    db.execute("COMMIT")
    section = summary_section(db, "20260107T021500.000000Z")
    page = tmp_path / "queue.html"
    with open(page, "w", encoding="utf-8") as out:
        write_queue_html(section, "20260107T021500.000000Z", out)
    assert section["open"]["claims"] == 100_000
    doc = browse(page, "payer=PAYER03&rule=DX001&sort=charge", tmp_path)
    assert int(doc.xpath("string(//body/@data-ready-ms)")) < 3_000
    assert doc.xpath('string(//*[@id="q-count"])') == str(100_000 // 15)
    assert total(doc) == expected.quantize(Decimal("0.01"))
    shown = rows(doc)
    assert len(shown) == 100  # a page at a time
    charges = [Decimal(r[5].strip("$").replace(",", "")) for r in shown]
    assert charges == sorted(charges, reverse=True)
    assert all(r[1] == "PAYER03" and r[6] == "DX001" for r in shown)
    assert time.monotonic() - started < 60


@pytest.fixture(scope="module")
def warned_night(tmp_path_factory):
    """One night: a held claim, two with a warning only (ADM001), a clean one."""
    tmp = tmp_path_factory.mktemp("queue-warned")
    saved = driver._new_run_id
    driver._new_run_id = lambda: "20260109T021500.000000Z"
    try:
        opts = options(tmp)
        drop_night(opts.inbox, "night.edi", [
            claim("H1", "011", "20251201", held=True, charge="100", payer="PAYER01"),
            claim("W1", "012", "20251201", warned=True, charge="250", payer="PAYER01"),
            claim("C1", "013", "20251201", charge="300", payer="PAYER01"),
            claim("W2", "014", "20251201", warned=True, charge="1000", payer="PAYER02")],
            "000000009")
        run_batch(opts)
    finally:
        driver._new_run_id = saved
    return opts.out / "20260109T021500.000000Z" / "queue.html"


def warned_total(doc) -> Decimal:
    return Decimal(doc.xpath('string(//*[@id="q-warned"]/@data-value)'))


def test_the_runs_claims_with_warnings_only_are_listed_apart_from_the_held(warned_night,
                                                                          tmp_path):
    """Item 2 of issue 27: the morning page is the run's whole work list (errors and
    warnings, as the per-file report), the held dollars counting error claims only."""
    doc = browse(warned_night, "", tmp_path)
    listed = {r[0]: r for r in rows(doc)}
    assert sorted(listed) == ["H1", "W1", "W2"]  # the clean claim is not listed
    assert listed["W1"][12] == "warning (not held)" and listed["H1"][12] == "error (held)"
    assert listed["W1"][6] == "ADM001"
    assert total(doc) == Decimal("100.00") and warned_total(doc) == Decimal("1250.00")
    shown = doc.xpath('string(//*[@id="q-shown"])')
    assert shown.startswith("1\u20133 of 3 claims \u00b7 $100.00 held + $1,250.00 on 2 with "
                            "warnings only, not held (open queue: 1 claims")
    assert "error finding only" in doc.xpath('string(//*[@id="held-note"])')
    doc = browse(warned_night, "severity=warning", tmp_path)
    assert sorted(r[0] for r in rows(doc)) == ["W1", "W2"]
    assert total(doc) == Decimal("0.00") and warned_total(doc) == Decimal("1250.00")
    doc = browse(warned_night, "severity=warning&payer=PAYER01", tmp_path)
    assert [r[0] for r in rows(doc)] == ["W1"] and warned_total(doc) == Decimal("250.00")
    doc = browse(warned_night, "severity=error", tmp_path)
    assert [r[0] for r in rows(doc)] == ["H1"] and warned_total(doc) == Decimal("0.00")
    doc = browse(warned_night, "rule=ADM001&tonight=1", tmp_path)
    assert sorted(r[0] for r in rows(doc)) == ["W1", "W2"]


def test_the_summary_links_the_warnings_and_the_queue_holds_none_of_them(warned_night):
    import json

    folder = warned_night.parent
    summary = (folder / "summary.html").read_text()
    assert 'href="queue.html#severity=warning&amp;tonight=1"' in summary
    assert 'href="queue.html#rule=ADM001&amp;tonight=1"' in summary
    doc = json.loads((folder / "summary.json").read_text())["queue"]
    assert doc["open"] == {"claims": 1, "charges": 100.0}
    assert [c["claim_id"] for c in doc["claims"]] == ["H1"]
    assert doc["warned_tonight"] == {"claims": 2, "charges": 1250.0, "listed": 2}
    assert [(c["claim_id"], c["rules"], c["severity"]) for c in doc["warned"]] == [
        ("W1", ["ADM001"], "warning"), ("W2", ["ADM001"], "warning")]
