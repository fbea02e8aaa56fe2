"""A payer profile whose payer ids matched no claim: `check` says so (stderr, the
report's run section); `batch` said nothing.  Its summary (summary.json, the
page) and its log carry the same notice now."""
from __future__ import annotations

import logging

from batch_support import drop, options, summaries
from conftest import CLEAN_J2350_CLAIM

from edi837.batch import run_batch
from edi837.config import parse_config
from edi837.x12.fragment import wrap_claims

CLAIMS = wrap_claims(CLEAN_J2350_CLAIM, "837P", filing="CI", payer_id="SYNMCD01").encode()


def profile(payer_id: str):
    return parse_config({"profiles": [{"name": "nj-medicaid-mco", "payer_ids": [payer_id],
                                       "payer_class": "medicaid"}]})


def batch_with(tmp_path, payer_id: str, caplog) -> dict:
    opts = options(tmp_path, settle=0.0, config=profile(payer_id), history=False)
    run_batch(opts)  # the ledger made first (a new ledger is a notice of its own)
    drop(opts.inbox, "claims.edi", CLAIMS)
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        status = run_batch(opts)
    [summary] = summaries(opts.out)
    summary["_status"] = status
    summary["_page"] = next(opts.out.rglob("summary.html")).read_text()
    return summary


def test_a_profile_that_matched_no_claim_is_in_the_summary_and_the_log(tmp_path, caplog):
    summary = batch_with(tmp_path, "SYNMCD1", caplog)
    assert summary["_status"] == 0  # a notice, not an exit status: the claim is clean
    [notice] = summary["notices"]
    assert notice.startswith("profile 'nj-medicaid-mco': payer_ids 'SYNMCD1' matched no drug "
                             "claim of this run")
    assert "did you mean 'SYNMCD01'?" in notice
    logged = [r.getMessage() for r in caplog.records if "notice:" in r.getMessage()]
    assert len(logged) == 1 and notice in logged[0]
    assert '<ul id="notices">' in summary["_page"] and "nj-medicaid-mco" in summary["_page"]
    assert summary["files"][0]["figures"]["payer_ids"] == ["SYNMCD01"]


def test_a_profile_that_matched_says_nothing(tmp_path, caplog):
    summary = batch_with(tmp_path, "SYNMCD01", caplog)
    assert summary["_status"] == 0
    assert summary["notices"] == []
    assert not [r for r in caplog.records if "notice:" in r.getMessage()]
    assert 'id="notices"' not in summary["_page"]
