"""`edi837 history forget-file STORE SHA` while a running batch holds that file (taken,
judged: its lines committed, its outcome not yet recorded): forget-file waits for the
batch to record it, saying which batch and run it waits for, then takes the file out;
never under the batch, which would then record the file as reported with its queue
entries while its lines were gone (the operator's trial hist.sh).  Real processes, on
SQLite (the ledger's own history) and PostgreSQL (a shared ledger).  Synthetic inputs."""
import time

import pytest
from batch_support import CLEAN, drop, edi, sha, wait_for
from store_support import edi837, key_file, paused_at, popen


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """(the batch's ledger options, the history store forget-file is given)"""
    if request.param == "sqlite":
        yield [], tmp_path / "out" / "ledger.sqlite3"
        return
    from pg_support import drop_schema, new_schema

    url = new_schema()
    yield ["--ledger", url], url
    drop_schema(url)


def test_forget_file_waits_for_the_batch_that_holds_the_file(tmp_path, store):
    ledger, where = store
    key, data = key_file(tmp_path), edi(CLEAN, "000000001")
    drop(tmp_path / "inbox", "a.edi", data)
    batch = paused_at("judged", tmp_path, "batch", tmp_path / "inbox", "--out",
                      tmp_path / "out", "--settle", "0", "--history-key", key,
                      "--history-days", "0", *ledger)
    forget = None
    try:
        assert wait_for(lambda: (tmp_path / "PAUSED").exists(), timeout=60)
        forget = popen("history", "forget-file", where, sha(data), "--history-key", key)
        time.sleep(3)
        assert forget.poll() is None, forget.communicate()  # it waits for the batch
    finally:
        (tmp_path / "GO").touch()
        out, err = batch.communicate(timeout=120)
    assert batch.returncode == 0, err
    said, waited = forget.communicate(timeout=60)
    assert forget.returncode == 0, waited
    assert "held by the edi837 batch" in waited and "(run 20" in waited, waited
    assert f"of file {sha(data)} deleted" in said and " 0 lines" not in said, said
    # taken out after the batch recorded it: nothing of it is left, and the batch's
    # record of the file stands
    again = edi837("history", "forget-file", where, sha(data), "--history-key", key)
    assert again.returncode == 2 and "holds no line of file" in again.stderr, again.stderr
    assert (tmp_path / "out" / "archive").is_dir()
    assert [p.name for p in (tmp_path / "out" / "archive").rglob("a.edi")] == ["a.edi"]
