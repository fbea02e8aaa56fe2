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
    if how == "rename":
        # the checked bytes were still open: archived from there, and reported
        # (resent while its reports were written: they are written from the archive)
        [row] = checked_first
        assert Path(row["destination"]).read_bytes() == first and not row["problem"]
        assert row["state"] == "done" and row["outcome"] == "ok"
        assert (opts.out / row["run_id"] / "files" / "claims.edi" / "report.json").is_file()
        assert first_status == 0
    elif step == "reported":  # rewritten in place: the checked bytes are gone
        [row] = checked_first
        assert row["state"] == "done" and "changed after it was checked" in row["problem"]
        assert row["destination"] is None and not list((opts.out / "archive").rglob("*.edi"))
        assert first_status == 2
    else:  # rewritten while its reports were written: no reports kept, taken again later
        assert not checked_first and first_status == 0

    assert run_batch(opts) == 1  # the next run checks the new version: NDC002 errors
    [row] = [r for r in ledger(opts.out) if r["sha256"] == sha(second)]
    assert row["outcome"] == "findings" and row["errors"] > 0
    assert Path(row["destination"]).read_bytes() == second
    assert (opts.out / row["run_id"] / "files" / "claims.edi" / "report.json").is_file()
    assert not path.exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_resent_by_rename_while_it_is_checked_is_archived_and_reported(
        tmp_path, monkeypatch, jobs):
    """The resend lands before the worker reads the file (issue 24 item 14): the
    bytes that were taken are checked from the archive and reported; the new
    version is checked by the next run."""
    from edi837.engine import Engine

    opts = options(tmp_path, jobs=jobs)
    first, second = edi(DEFECT), edi(CLEAN)
    path = drop(opts.inbox, "claims.edi", first)
    real = Engine.check_file

    def check_file(engine, checked, **kwargs):
        if Path(checked) == path and path.read_bytes() == first:
            resend(path, second, "rename")  # in the worker, just before it reads
        return real(engine, checked, **kwargs)

    monkeypatch.setattr(Engine, "check_file", check_file)
    assert run_batch(opts) == 1  # the first version's NDC002 error, not "changed"
    [row] = ledger(opts.out)
    assert row["sha256"] == sha(first) and row["outcome"] == "findings"
    assert row["state"] == "done" and not row["problem"]
    assert Path(row["destination"]).read_bytes() == first
    report = (opts.out / row["run_id"] / "files" / "claims.edi" / "report.json").read_text()
    assert "NDC002" in report
    assert path.read_bytes() == second  # the new version waits in the inbox

    assert run_batch(opts) == 0  # and the next run checks it
    [row] = [r for r in ledger(opts.out) if r["sha256"] == sha(second)]
    assert row["outcome"] == "ok" and Path(row["destination"]).read_bytes() == second
    assert not path.exists()


def test_a_truncated_file_resent_while_it_is_checked_is_quarantined_from_the_archive(
        tmp_path, monkeypatch):
    from edi837.engine import Engine

    opts = options(tmp_path)
    first, second = edi(DEFECT)[:400], edi(CLEAN)
    path = drop(opts.inbox, "claims.edi", first)
    real = Engine.check_file

    def check_file(engine, checked, **kwargs):
        if Path(checked) == path and path.read_bytes() == first:
            resend(path, second, "rename")
        return real(engine, checked, **kwargs)

    monkeypatch.setattr(Engine, "check_file", check_file)
    assert run_batch(opts) == 2
    [row] = ledger(opts.out)
    assert row["outcome"] == "quarantined" and row["state"] == "done"
    assert Path(row["destination"]).read_bytes() == first
    assert "quarantine" in row["destination"]
    assert not list((opts.out / "archive").rglob("claims.edi"))  # not left in the archive too
    assert path.read_bytes() == second


@pytest.mark.parametrize("outcome", ["findings", "quarantined"])
def test_a_hard_linked_inbox_file_is_archived_as_a_copy_of_its_own(tmp_path, outcome):
    """Issue 24 item 16: the archived file never shares its inode with a name
    outside the inbox (a later write there would change the archive)."""
    opts = options(tmp_path)
    data = edi(DEFECT) if outcome == "findings" else edi(DEFECT)[:400]
    outside = tmp_path / "elsewhere.edi"
    outside.write_bytes(data)
    past = time.time() - HOUR
    os.utime(outside, (past, past))
    os.link(outside, opts.inbox / "claims.edi")
    assert run_batch(opts) == (1 if outcome == "findings" else 2)
    [row] = ledger(opts.out)
    assert row["outcome"] == outcome and row["state"] == "done" and not row["problem"]
    archived = Path(row["destination"])
    assert archived.read_bytes() == data
    assert not archived.samefile(outside) and archived.stat().st_nlink == 1
    assert outside.stat().st_nlink == 1 and not (opts.inbox / "claims.edi").exists()
    outside.write_bytes(b"changed later")
    assert archived.read_bytes() == data


@pytest.mark.parametrize("what", ["renamed", "removed", "replaced"])
def test_the_log_says_what_became_of_a_file_while_it_was_checked(tmp_path, monkeypatch,
                                                                 caplog, what):
    """`mv inbox/a.edi inbox/b.edi` during the check was logged "replaced ... a new file
    waits for the next run" (trial 8c, item 8): nothing replaced it."""
    import logging

    from edi837.engine import Engine

    opts = options(tmp_path)
    path = drop(opts.inbox, "claims.edi", edi(DEFECT))
    real = Engine.check_file

    def check_file(engine, checked, **kwargs):
        if Path(checked) == path and path.exists():
            if what == "renamed":
                os.replace(path, path.with_name("other.edi"))
            elif what == "removed":
                os.replace(path, tmp_path / "elsewhere.edi")
            else:
                resend(path, edi(CLEAN), "rename")
        return real(engine, checked, **kwargs)

    monkeypatch.setattr(Engine, "check_file", check_file)
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        assert run_batch(opts) == 1
    [said] = [r.getMessage() for r in caplog.records if "while it was checked" in r.getMessage()]
    assert said.startswith({
        "renamed": "claims.edi: renamed to other.edi in the inbox while it was checked; the "
                   "checked bytes are archived and checked from there; other.edi, the same "
                   "content, is a duplicate for the next run",
        "removed": "claims.edi: removed from the inbox (or moved out of it) while it was "
                   "checked; the checked bytes are archived and checked from there",
        "replaced": "claims.edi: replaced in the inbox while it was checked; the checked "
                    "bytes are archived and checked from there, a new file waits for the "
                    "next run"}[what])
