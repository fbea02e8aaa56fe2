"""A file whose mtime is in the future (the sender's clock ahead) is taken by a one-shot
run once the run saw it unchanged for --settle seconds; a file not settled yet is named
as waiting, never passed over as "nothing new"."""
import logging
import os
import time

from batch_support import CLEAN, drop, edi, ledger

from edi837.batch import run_batch
from edi837.batch.options import BatchOptions

DAY = 86400


def test_a_file_from_the_future_is_taken_after_the_run_watched_it(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    path = drop(inbox, "ahead.edi", edi(CLEAN))
    ahead = time.time() + 400 * DAY
    os.utime(path, (ahead, ahead))
    started = time.monotonic()
    status = run_batch(BatchOptions(inbox=inbox, out=out, settle=1.0, formats=("json",)))
    assert time.monotonic() - started >= 1.0
    assert status == 0
    assert [r["name"] for r in ledger(out)] == ["ahead.edi"]
    assert not path.exists()


def test_a_file_not_settled_is_named_as_waiting(tmp_path, caplog):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    drop(inbox, "uploading.edi", edi(CLEAN), age=0)
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        status = run_batch(BatchOptions(inbox=inbox, out=out, settle=60.0))
    assert status == 0
    assert "nothing new" not in caplog.text
    assert "nothing taken: 1 file not settled yet" in caplog.text
    assert "uploading.edi" in caplog.text
