"""Setups the batch refuses or warns about (issue #13): inboxes inside each
other, outputs inside the inbox, a ledger that was deleted."""
import json
import os

import pytest
from batch_support import CLEAN, drop, edi, ledger, options
from click.testing import CliRunner

from edi837.batch import Batch, BatchError, run_batch
from edi837.cli.batch import batch as batch_command


def test_an_inbox_inside_or_around_a_running_batchs_inbox_is_refused(tmp_path):
    outer = options(tmp_path, out=tmp_path / "out-outer", lock_wait=0.1)
    inner = options(tmp_path, inbox=outer.inbox / "partner", out=tmp_path / "out-inner",
                    lock_wait=0.1)
    drop(inner.inbox, "claims.edi", edi(CLEAN))
    with Batch(outer):
        with pytest.raises(BatchError, match="is inside .*inbox of another running"):
            Batch(inner).open()
    with Batch(inner):
        with pytest.raises(BatchError, match="contains .*partner, the inbox of another"):
            Batch(outer).open()
    assert (inner.inbox / "claims.edi").exists() and not ledger(inner.out)
    assert run_batch(outer) == 0  # alone, either one runs


@pytest.mark.parametrize("where", ["--out", "--archive", "--quarantine"])
def test_outputs_inside_the_inbox_are_refused(tmp_path, where):
    opts = options(tmp_path)
    drop(opts.inbox, "claims.edi", edi(CLEAN))
    argv = [str(opts.inbox), "--out", str(opts.out), where, str(opts.inbox / "done")]
    if where == "--out":
        argv = argv[:-2]
        argv[2] = str(opts.inbox / "done")
    result = CliRunner().invoke(batch_command, argv)
    assert result.exit_code == 2 and "is inside the inbox" in result.output
    assert (opts.inbox / "claims.edi").exists() and not (opts.inbox / "done").exists()


def test_a_deleted_ledger_is_said_loudly(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "claims.edi", edi(CLEAN))
    argv = [str(opts.inbox), "--out", str(opts.out), "--log-file", str(tmp_path / "batch.log")]
    assert CliRunner().invoke(batch_command, argv).exit_code == 0
    for leftover in opts.out.glob("ledger.sqlite3*"):
        os.unlink(leftover)
    drop(opts.inbox, "more.edi", edi(CLEAN, control="000000002"))
    result = CliRunner().invoke(batch_command, argv)
    assert result.exit_code == 2  # a cron job alerting on status 2 sees it
    for text in (result.output, (tmp_path / "batch.log").read_text()):
        assert "ERROR" in text and "no ledger ledger.sqlite3" in text
        assert "will be checked and archived again" in text
        assert "patient history kept in the ledger starts empty" in text
    [summary] = [json.loads(p.read_text()) for p in opts.out.glob("*/summary.json")
                 if "more.edi" in p.read_text()]
    assert any("no ledger" in problem for problem in summary["problems"])
    again = CliRunner().invoke(batch_command, argv)  # the new ledger exists: said once
    assert "no ledger" not in again.output and again.exit_code == 0
