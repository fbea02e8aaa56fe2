"""A file re-sent under the same name while the batch works on the first version
(issue #13, item 1): only the bytes that were checked are archived, and the
new version is left in the inbox for the next run, which checks it."""
import os
import time
from pathlib import Path

import pytest
from batch_support import CLEAN, DEFECT, HOUR, drop, edi, ledger, options, sha

from edi837.batch import durable, run_batch


def resend(path: Path, data: bytes, how: str) -> None:
    """What a sender's client does: upload and rename over the old file, or
    write into it in place."""
    if how == "rename":
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)
    else:
        with open(path, "r+b") as handle:
            handle.write(data)
            handle.truncate()
    past = time.time() - HOUR  # a finished upload, settled for the next run
    os.utime(path, (past, past))


@pytest.mark.parametrize("how", ["rename", "in place"])
@pytest.mark.parametrize("step", ["report-written", "reported"])
def test_a_file_resent_while_it_is_processed_is_never_archived_unchecked(tmp_path, monkeypatch,
                                                                          step, how):
    """step: the resend lands while the first version's reports are written, or
    after its outcome is recorded and before it is moved."""
    opts = options(tmp_path)
    first, second = edi(CLEAN), edi(DEFECT)
    path = drop(opts.inbox, "claims.edi", first)
    sent = []

    def checkpoint(name: str) -> None:
        if name == step and not sent:
            sent.append(name)
            resend(path, second, how)

    monkeypatch.setattr(durable, "checkpoint", checkpoint)
    first_status = run_batch(opts)
    monkeypatch.setattr(durable, "checkpoint", lambda name: None)
    assert sent

    # every file in the archive is the content its ledger row says was checked
    for row in ledger(opts.out):
        if row["destination"] and Path(row["destination"]).exists():
            assert sha(Path(row["destination"]).read_bytes()) == row["sha256"], row["name"]
    assert path.read_bytes() == second  # the new version waits in the inbox
    checked_first = [r for r in ledger(opts.out) if r["sha256"] == sha(first)]
    if step == "reported" and how == "rename":
        # the checked bytes were still open: archived from there
        [row] = checked_first
        assert Path(row["destination"]).read_bytes() == first and not row["problem"]
        assert first_status == 0
    elif step == "reported":  # rewritten in place: the checked bytes are gone
        [row] = checked_first
        assert row["state"] == "done" and "changed after it was checked" in row["problem"]
        assert row["destination"] is None and not list((opts.out / "archive").rglob("*.edi"))
        assert first_status == 2
    else:  # changed while its reports were written: no reports kept, taken again later
        assert not checked_first and first_status == 0

    assert run_batch(opts) == 1  # the next run checks the new version: NDC002 errors
    [row] = [r for r in ledger(opts.out) if r["sha256"] == sha(second)]
    assert row["outcome"] == "findings" and row["errors"] > 0
    assert Path(row["destination"]).read_bytes() == second
    assert (opts.out / row["run_id"] / "files" / "claims.edi" / "report.json").is_file()
    assert not path.exists()
