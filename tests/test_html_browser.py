"""The HTML report in a real browser: headless Chromium loads it from a file,
runs its inline script, and we read back the DOM it leaves (--dump-dom).

The filter state lives in the URL fragment (report.html#severity=error), and
the inline script applies it on load, so the dumped DOM shows which rows the
filter hid.  Skipped when Chromium is not installed (CI installs it:
`apt-get install -y chromium`).
"""
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from lxml import html as lxml_html

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.reports import load_writers
from edi837.reports.common import figures, money
from edi837.x12.fragment import wrap_claims

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install -y chromium); "
           "the HTML report's browser test needs it")

# Used when samples/ is empty: errors, warnings and infos on two claims.
FALLBACK = """
CLM*C1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242-150-01
CTP****20*ml
CLM*C2*4500***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*4500*UN*300***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****10*ML
"""


def has_class(name: str, root: str = "") -> str:
    return f"{root}//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    """The HTML report of samples/ (or of a fragment when samples/ is empty)."""
    folder = tmp_path_factory.mktemp("browser")
    inputs = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md") \
        if SAMPLES.is_dir() else []
    if not inputs:
        fallback = folder / "fallback.edi"
        fallback.write_text(wrap_claims(FALLBACK), encoding="utf-8")
        inputs = [fallback]
    report = Engine(load_drug_table()).run(inputs)
    path = folder / "report.html"
    with open(path, "w", encoding="utf-8") as out:
        load_writers()["html"](report, out)
    return path, report


def browse(path: Path, fragment: str, tmp_path: Path):
    """Load file://path#fragment in headless Chromium; the DOM after scripts ran."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
               path.resolve().as_uri() + (f"#{fragment}" if fragment else "")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout, done.stderr[-2000:]
    return lxml_html.fromstring(done.stdout)


def findings(doc):
    return doc.xpath(has_class("finding"))


def test_summary_figures_in_the_browser(report_file, tmp_path):
    path, report = report_file
    numbers = figures(report)
    doc = browse(path, "", tmp_path)
    assert doc.xpath("//body/@data-filters-applied") == ["yes"]  # the inline script ran
    shown = {cell.get("data-figure"): cell.text_content().strip()
             for cell in doc.xpath('//section[@id="summary"]/table[1]//*[@data-figure]')}
    summary = numbers.summary
    assert shown == {
        "files": str(summary["files"]), "claims": str(summary["claims"]),
        "drug-lines": str(summary["drug_lines"]),
        "claims-with-findings": str(numbers.claims_with_findings),
        "errors": str(summary["errors"]), "warnings": str(summary["warnings"]),
        "infos": str(summary["infos"]), "at-risk": money(numbers.at_risk),
        "lines-at-risk": str(numbers.at_risk_lines)}
    # unfiltered: every finding visible, and the count says so
    assert len(findings(doc)) == numbers.findings
    assert not [f for f in findings(doc) if f.get("hidden") is not None]
    total = numbers.findings
    assert doc.xpath('string(//*[@id="f-shown"])') == f"{total} of {total} findings shown"


def test_severity_filter_from_the_url_hides_rows(report_file, tmp_path):
    path, report = report_file
    summary = figures(report).summary
    assert summary["errors"] and (summary["warnings"] or summary["infos"])
    doc = browse(path, "severity=error", tmp_path)
    assert doc.xpath('string(//select[@id="f-severity"]/option[@selected]/@value)') in (
        "error", "")  # the DOM property is set; the attribute may not be
    visible = Counter(f.get("data-severity") for f in findings(doc) if f.get("hidden") is None)
    hidden = Counter(f.get("data-severity") for f in findings(doc) if f.get("hidden") is not None)
    assert visible == Counter({"error": summary["errors"]})
    assert hidden == Counter({k: v for k, v in (("warning", summary["warnings"]),
                                                ("info", summary["infos"])) if v})
    # a claim with no error finding is hidden as a whole
    for claim in doc.xpath(has_class("claim")):
        severities = {f.get("data-severity") for f in claim.xpath(has_class("finding", "."))}
        assert (claim.get("hidden") is None) == ("error" in severities)
    total = figures(report).findings
    assert doc.xpath('string(//*[@id="f-shown"])') == \
        f"{summary['errors']} of {total} findings shown"


def test_rule_filter_and_claim_search_from_the_url(report_file, tmp_path):
    path, report = report_file
    numbers = figures(report)
    rule = next(r for r in numbers.rules if r.findings)
    doc = browse(path, f"rule={rule.rule}", tmp_path)
    visible = [f for f in findings(doc) if f.get("hidden") is None]
    assert len(visible) == rule.findings
    assert {f.get("data-rule") for f in visible} == {rule.rule}

    claim_id = next(f.claim_id for f in report.findings if f.claim_id)
    doc = browse(path, f"claim={claim_id}", tmp_path)
    shown = [c.get("data-claim") for c in doc.xpath(has_class("claim"))
             if c.get("hidden") is None]
    assert shown and all(claim_id.lower() in c.lower() for c in shown)
