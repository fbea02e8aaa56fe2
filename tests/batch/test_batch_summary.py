"""The batch summary for a morning (issue #14 item 6): totals across files with the
charges held by payer and rule, quarantine reasons visible, links to each file's
reports, sortable, and it fits a 1,366 px window (headless Chromium)."""
import json
import shutil
import subprocess

import pytest
from batch_support import CLEAN, DEFECT, drop, edi, options
from lxml import html as lxml_html

from edi837.batch import run_batch

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
MORNING = 1366  # the narrowest window the issue names


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("morning")
    opts = options(tmp, settle=0.0, formats=("json", "html"))
    drop(opts.inbox, "a-clean.edi", edi(CLEAN, "000000001"))
    drop(opts.inbox, "b-defect.edi", edi(DEFECT, "000000002"))
    drop(opts.inbox, "c-payer-b.edi", edi(DEFECT, "000000003").replace(b"PAYER01", b"PAYER02"))
    drop(opts.inbox, "d-" + "long-name-" * 12 + ".edi", b"not a claim file at all\n" * 20)
    run_batch(opts)
    [run] = [p for p in opts.out.iterdir() if p.is_dir() and p.name[:1].isdigit()]
    return run, json.loads((run / "summary.json").read_text())


def test_totals_hold_the_charges_held_by_payer_and_rule(summary):
    _, doc = summary
    totals = doc["totals"]
    assert totals["claims_held"] == 2 and totals["charges_held"] == 18800.0
    assert sum(p["charges_held"] for p in doc["by_payer"]) == totals["charges_held"]
    assert {p["payer_id"] for p in doc["by_payer"] if p["claims_held"]} == {"PAYER01", "PAYER02"}
    assert [r["rule"] for r in doc["by_rule"] if r["claims_held"]] == ["NDC002"]
    by_file = {f["name"]: f for f in doc["files"]}
    assert by_file["b-defect.edi"]["charges_held"] == 9400.0
    assert by_file["a-clean.edi"]["claims_held"] == 0


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("fragment", ["", "sort=files:8:down"])
def test_the_summary_fits_a_morning_window_and_sorts(summary, tmp_path, fragment):
    run, doc = summary
    page = run / "summary.html"
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--window-size={MORNING},800", "--dump-dom",
         page.resolve().as_uri() + (f"#{fragment}" if fragment else "")],
        capture_output=True, text=True, timeout=180)
    dom = lxml_html.fromstring(done.stdout)
    assert dom.xpath("//body/@data-ready") == ["yes"]
    assert int(dom.xpath("//body/@data-width")[0]) <= MORNING
    # the quarantine reason is on the page, whole, and each file links its reports
    why = dom.xpath('string(//tr[@data-outcome="quarantined"]//pre)')
    assert "cannot be read as 837 claims" in why and "EDI001" in why
    assert dom.xpath('//tr[@data-outcome="findings"]//a[contains(@href, "report.html")]')
    names = [" ".join(t.split())
             for t in dom.xpath('//table[@id="files"]/tbody/tr/td[1]/code/text()')]
    if fragment:  # charges held, largest first
        assert names[0] in ("b-defect.edi", "c-payer-b.edi") and names[-1] != "b-defect.edi"
    else:
        assert names == sorted(names)


def test_the_summary_page_escapes_and_needs_nothing_from_outside(summary):
    run, _ = summary
    text = (run / "summary.html").read_text()
    assert "Content-Security-Policy" in text and "http" not in text.split("<body>")[1].split(
        "<script>")[0].replace("https", "")
