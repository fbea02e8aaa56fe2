"""Issue 24 items 1-2: a history store killed mid-run ends as if the killed run
had not happened (or had finished): `edi837` in real processes, SIGKILLed.

The reference is always the same files run without a kill, on a fresh store.
"""
import os
import signal

import pytest
from batch_support import drop
from store_support import (
    check_killed_reading,
    edi837,
    findings,
    history_rules,
    key_file,
    killed_at,
    popen,
)
from test_history import claim, night, subscriber


def nights(folder):
    """Three nights: an original (C1), its replacement (C1 again, the same line) and
    another member's claim."""
    folder.mkdir()
    first = night(folder, "1-monday.edi", subscriber(2), claim("C1", "20260115"))
    second = night(folder, "2-tuesday.edi", subscriber(2),
                   claim("C1", "20260115", frequency="7", reference="ICN1"))
    third = night(folder, "3-wednesday.edi", subscriber(2, member="SYN000000003", first="ANN"),
                  claim("C3", "20260115"))
    return [first, second, third]


def checked(store, key, paths, report):
    result = edi837("check", *paths, "--history", store, "--history-key", key,
                    "--history-days", "0", "-o", report)
    assert result.returncode in (0, 1), result.stderr
    return history_rules(findings(report))


def test_check_killed_in_its_third_file_leaves_no_row_that_counts(tmp_path):
    key = key_file(tmp_path)
    files = nights(tmp_path / "in")
    expected = checked(tmp_path / "reference.sqlite3", key, files, tmp_path / "reference.json")
    assert ("HIS001", "C1") not in expected["1-monday.edi"]  # not a copy of Tuesday's

    # the killed run: its third file is a pipe, so the kill comes while it is read
    store = tmp_path / "history.sqlite3"
    check_killed_reading(files, store, key, tmp_path / "killed.json")
    assert checked(store, key, files, tmp_path / "rerun.json") == expected


@pytest.mark.slow
@pytest.mark.parametrize("own_store", [False, True], ids=["ledger", "own-store"])
def test_batch_killed_mid_file_puts_back_what_its_voids_and_replacements_removed(
        tmp_path, own_store):
    """Night 2 voids C1 and replaces C2; killed after its history was judged and
    stored, before its outcome was recorded: the restart must judge it as the
    uninterrupted run did (the void finds C1, the replacement finds C2, C4's dose
    is still out of schedule against C2)."""
    key = key_file(tmp_path)
    monday = [subscriber(2), claim("C1", "20260115"),
              subscriber(3, member="SYN000000002", first="BOB"), claim("C2", "20260115")]
    tuesday = [subscriber(2), claim("C1", "20260115", frequency="8", reference="ICN1"),
               subscriber(3, member="SYN000000002", first="BOB"),
               claim("C2", "20260115", frequency="7", reference="ICN2"),
               claim("C4", "20260301")]
    (tmp_path / "files").mkdir()
    data = {"1-monday.edi": night(tmp_path / "files", "1-monday.edi", *monday).read_bytes(),
            "2-tuesday.edi": night(tmp_path / "files", "2-tuesday.edi", *tuesday).read_bytes()}

    def batch(name, *, kill=None):
        folder = tmp_path / name
        args = ["batch", folder / "inbox", "--out", folder / "out", "--settle", "0",
                "--history-key", key, "--history-days", "0"]
        if own_store:
            args += ["--history", folder / "history.sqlite3"]
        if kill:
            return killed_at(kill, *args)
        result = edi837(*args)
        assert result.returncode in (0, 1), result.stderr
        return result

    def tuesday_rules(name):
        out = tmp_path / name / "out"
        [report] = [p for p in out.rglob("report.json") if p.parent.name == "2-tuesday.edi"]
        return history_rules(findings(report))["2-tuesday.edi"]

    for name in ("reference", "killed"):
        drop(tmp_path / name / "inbox", "1-monday.edi", data["1-monday.edi"])
        batch(name)
        drop(tmp_path / name / "inbox", "2-tuesday.edi", data["2-tuesday.edi"])
    batch("reference")
    batch("killed", kill="judged")
    batch("killed")  # repairs, then checks Tuesday again

    expected = tuesday_rules("reference")
    assert ("HIS004", "C1") not in expected and ("HIS003", "C2") not in expected
    assert ("HIS002", "C4") in expected
    assert tuesday_rules("killed") == expected


def test_taking_a_void_out_puts_its_original_back(tmp_path):
    """The store keeps what a void removed, marked: forgetting the void's file (by
    hand, or by checking it again) gives the original back, so the void checked
    again finds it (no HIS004) and a copy of the original is a duplicate again."""
    import secrets

    from edi837.history import HistoryStore

    store = HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))
    try:
        void_taken_out(store, tmp_path)
    finally:
        store.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/wchan"), reason="needs Linux /proc")
def test_check_killed_while_writing_its_report_has_not_happened(tmp_path):
    """The run's lines are committed once its reports are out: killed while its
    report fills a pipe nobody reads, it leaves no line in the store."""
    import sqlite3
    import time

    from batch_support import generated, wait_for

    key, store = key_file(tmp_path), tmp_path / "history.sqlite3"
    big = tmp_path / "big.edi"
    big.write_bytes(generated(claims=600, seed=3))
    process = popen("check", big, "--history", store, "--history-key", key,
                    "--history-days", "0", "--format", "json")  # stdout: a pipe, unread

    def writing() -> bool:
        assert process.poll() is None, process.communicate()
        with open(f"/proc/{process.pid}/wchan") as handle:
            return handle.read() in ("pipe_write", "anon_pipe_write", "pipe_wait")

    assert wait_for(writing, timeout=120)
    time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM history_lines").fetchone()[0] == 0
    db.close()


def void_taken_out(store, tmp_path) -> None:
    """A void finds its original, checked again finds it again, and forgetting the
    void puts the original back (a copy of it is a duplicate again)."""
    import hashlib

    from test_history import ours, run

    run(store, night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115")))
    void = night(tmp_path, "b.edi", subscriber(2),
                 claim("C1", "20260115", frequency="8", reference="ICN1"))
    assert ours(run(store, void)[0]) == []
    assert store.stats()["lines"] == 0
    assert ours(run(store, void)[0]) == []  # checked again: finds C1 again
    assert store.stats()["lines"] == 0
    store.forget_file(hashlib.sha256(void.read_bytes()).hexdigest())
    assert store.stats()["lines"] == 1
    copy = night(tmp_path, "c.edi", subscriber(2), claim("C9", "20260115"))
    assert ("HIS001", "C9") in ours(run(store, copy)[0])
