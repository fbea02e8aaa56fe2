"""The batch summary's totals, its files and the run's last log line agree: the
totals are of the files read whole (issue 24 item 17) and a quarantined file's
partial findings are named apart, in summary.json (quarantined_findings), on the
page and in the log line (they were in the log and the file's row but silently
out of the totals: "5 errors" logged, `errors: 2` in the totals)."""
import json
import logging
import re

from batch_support import CLEAN, DEFECT, drop, edi, options
from lxml import html as lxml_html

from edi837.batch import run_batch

COUNTS = ("claims", "drug_lines", "errors", "warnings", "infos")


def night(tmp_path, *, broken: bool):
    opts = options(tmp_path, settle=0.0, formats=("json",))
    drop(opts.inbox, "good1.edi", edi(CLEAN, "000000001"))
    drop(opts.inbox, "good2.edi", edi(DEFECT, "000000002"))
    drop(opts.inbox, "good3.edi", edi(DEFECT, "000000003"))
    if broken:  # good1 cut in half: read up to the cut, then quarantined
        whole = edi(CLEAN, "000000004")
        drop(opts.inbox, "broken.edi", whole[:len(whole) // 2])
    return opts


def last_log_line(caplog) -> dict[str, int]:
    """The errors and warnings the run's last line gives: in the totals, and apart."""
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("run ")
              and "exit status" in r.getMessage()]
    said = re.findall(r"(\d+) errors, (\d+) warnings", line)
    (errors, warnings), *rest = said
    found = {"errors": int(errors), "warnings": int(warnings), "apart": None}
    if rest:
        [(errors, warnings)] = rest
        assert "quarantined, not in the totals" in line, line
        found["apart"] = {"errors": int(errors), "warnings": int(warnings)}
    return found


def summarised(opts, caplog):
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        run_batch(opts)
    [run] = [p for p in opts.out.iterdir() if p.is_dir() and p.name[:1].isdigit()]
    return run, json.loads((run / "summary.json").read_text()), last_log_line(caplog)


def test_a_quarantined_files_findings_are_named_apart_and_everything_adds_up(
        tmp_path, caplog):
    run, doc, logged = summarised(night(tmp_path, broken=True), caplog)
    totals, files = doc["totals"], doc["files"]
    [broken] = [f for f in files if f["name"] == "broken.edi"]
    assert broken["outcome"] == "quarantined" and broken["errors"] > 0
    apart = totals["quarantined_findings"]
    assert apart["files"] == totals["quarantined"] == 1
    for count in COUNTS:  # the files' rows add up to the totals and what is apart
        assert totals[count] + apart[count] == sum(f[count] or 0 for f in files), count
        assert apart[count] == (broken[count] or 0), count
    assert totals["errors"] == logged["errors"] == 2  # the files read whole
    assert logged["apart"] == {"errors": apart["errors"], "warnings": apart["warnings"]}
    assert totals["warnings"] == logged["warnings"]
    assert totals["claims_held"] == 2 and totals["charges_held"] == 18800.0
    page = lxml_html.fromstring((run / "summary.html").read_bytes())
    assert page.xpath('string(//td[@data-figure="errors"])') == str(totals["errors"])
    note = " ".join(page.xpath('string(//p[@id="totals-note"])').split())
    assert f"the 1 quarantined file(s) add {apart['errors']} errors" in note


def test_without_a_quarantined_file_the_counts_agree_and_nothing_is_apart(tmp_path, caplog):
    run, doc, logged = summarised(night(tmp_path, broken=False), caplog)
    totals = doc["totals"]
    assert totals["quarantined"] == 0
    assert totals["quarantined_findings"] == {"files": 0, **dict.fromkeys(COUNTS, 0)}
    assert totals["errors"] == logged["errors"] == 2 and logged["apart"] is None
    for count in COUNTS:
        assert totals[count] == sum(f[count] or 0 for f in doc["files"]), count
    page = lxml_html.fromstring((run / "summary.html").read_bytes())
    assert not page.xpath('//p[@id="totals-note"]')
