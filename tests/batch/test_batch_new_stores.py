"""A mistyped OUTDIR or --history path made a new, empty ledger or history store
without a word: duplicates were missed and the run looked normal (trial 8c,
item 1).  A WARNING naming the path, and a notice in the run's summary (and
check's report); the exit status is the findings'.  A store that exists says
nothing (the PASS case)."""
from __future__ import annotations

import json
import logging

from batch_support import drop, options, summaries
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.batch import run_batch
from edi837.cli import main
from edi837.x12.fragment import wrap_claims

CLAIMS = wrap_claims(CLEAN_J2350_CLAIM, "837P").encode()


def said(caplog, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if words in r.getMessage() and r.levelno >= logging.WARNING]


def test_a_new_ledger_is_a_warning_and_a_notice_once(tmp_path, caplog):
    opts = options(tmp_path, settle=0.0)
    drop(opts.inbox, "a.edi", CLAIMS)
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        assert run_batch(opts) == 0
    ledger = str(opts.out / "ledger.sqlite3")
    [summary] = summaries(opts.out)
    [notice] = summary["notices"]
    assert notice.startswith(f"new, empty ledger created at {ledger}")
    assert "patient history has seen nobody" in notice
    assert said(caplog, "new, empty ledger created at")
    caplog.clear()
    drop(opts.inbox, "b.edi", CLAIMS.replace(b"000000001", b"000000002"))
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        run_batch(opts)
    assert not said(caplog, "new, empty")  # the ledger exists now: nothing to say
    assert all(s["notices"] == [] for s in summaries(opts.out) if s is not summary
               and s["run"]["id"] != summary["run"]["id"])


def test_a_new_history_store_is_named(tmp_path, caplog):
    store = tmp_path / "hist.sqlite3"
    opts = options(tmp_path, settle=0.0, history_path=store)
    run_batch(opts)  # the ledger made first: only the store is new below
    store.unlink()
    for extra in ("-wal", "-shm"):
        (tmp_path / f"hist.sqlite3{extra}").unlink(missing_ok=True)
    drop(opts.inbox, "a.edi", CLAIMS)
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        run_batch(opts)
    [summary] = [s for s in summaries(opts.out) if s["files"]]
    assert summary["notices"] == [
        f"new, empty history store created at {store}: it has seen nobody, so no claim "
        "sent before is found as a duplicate (a mistyped --history?)"]
    assert not [n for n in summary["notices"] if "ledger" in n]


def check(*args: str):
    return CliRunner().invoke(main, ["check", *args, "--format", "json"])


def test_check_names_a_new_history_store_and_not_an_old_one(tmp_path):
    claims = tmp_path / "a.edi"
    claims.write_bytes(CLAIMS)
    store = str(tmp_path / "h.sqlite3")
    first = check("--history", store, str(claims))
    assert first.exit_code == 0, first.output
    assert f"edi837: warning: new, empty history store created at {store}" in first.stderr
    assert json.loads(first.stdout)["run"]["notices"] == [
        f"new, empty history store created at {store}: it holds no earlier run, so no claim "
        "of one is found as a duplicate (a mistyped path?)"]
    again = check("--history", store, str(claims))
    assert "new, empty" not in again.stderr
    assert json.loads(again.stdout)["run"]["notices"] == []


def batch_cli(inbox, out, *args: str):
    log = out.parent / "batch.log"
    result = CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out), "--settle",
                                       "0", "--log-file", str(log), "-q", *args])
    return result.exit_code, log.read_text() if log.exists() else ""


def test_no_new_stores_refuses_a_mistyped_out_or_history(tmp_path):
    """For scheduled runs: --no-new-stores refuses (exit 2, nothing made) rather than
    make an empty ledger or store; once they exist, it starts as usual."""
    inbox, out, store = tmp_path / "inbox", tmp_path / "out", tmp_path / "h.sqlite3"
    drop(inbox, "a.edi", CLAIMS)
    status, log = batch_cli(inbox, out, "--no-new-stores")
    assert status == 2 and not out.exists() and (inbox / "a.edi").exists()
    assert (f"not started: {out / 'ledger.sqlite3'}: the ledger does not exist, and "
            "--no-new-stores refuses to make it: a mistyped --out?") in log
    (tmp_path / "empty").mkdir()
    assert batch_cli(tmp_path / "empty", out, "--history", str(store))[0] == 0  # made
    assert batch_cli(inbox, out, "--history", str(store), "--no-new-stores")[0] == 0
    status, log = batch_cli(inbox, out, "--history", str(tmp_path / "hh.sqlite3"),
                            "--no-new-stores")
    assert status == 2 and "the history store does not exist" in log
    assert not (tmp_path / "hh.sqlite3").exists()
