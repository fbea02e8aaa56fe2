"""Issue 26: a batch killed while its file's outcome was not recorded leaves history
lines that must never count for another batch; while it lives, another batch that
needs them waits for the outcome.  Several batches on one history then judge as in
one of the orders one after the other (the HIS findings and the stored lines).

`edi837 batch` in processes of its own, paused at a checkpoint and SIGKILLed for
real: on a PostgreSQL ledger holding the history (two hosts), and on a SQLite
`--history FILE` shared by two batches of one host.  Every input is synthetic.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from batch_support import drop, generated, new_key, subprocess_env, wait_for
from store_support import edi837, findings, history_rules, key_file, killed_at
from test_history import claim, night, subscriber

# `edi837 ARGS` that stops at the batch checkpoint named by argv[1]: it writes the file
# argv[2] and waits, alive, until the file argv[3] exists (or it is killed)
PAUSED_AT = """
import os, sys, time
from edi837.batch import durable
step, paused, go = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
def checkpoint(name):
    if name == step:
        open(paused, "w").close()
        while not os.path.exists(go):
            time.sleep(0.05)
durable.checkpoint = checkpoint
from edi837.cli import main
main(prog_name="edi837")
"""

Q = dict(member="SYNQ00000001", first="QUINN")


def files(tmp_path) -> dict[str, bytes]:
    """Patient Q's first 300 mg (in a larger file) and, two weeks later, the second."""
    folder = tmp_path / "made"
    folder.mkdir()
    first = night(folder, "z-big.edi", subscriber(2, **Q),
                  claim("Q-DOSE1", "20261102", units=300)).read_bytes()
    padding = generated(claims=100, seed=26)  # another interchange of other patients
    second = night(folder, "a-second.edi", subscriber(2, **Q),
                   claim("Q-DOSE2", "20261116", units=300)).read_bytes()
    return {"z-big.edi": padding + first, "a-second.edi": second}


def rules_of(out) -> dict[str, list]:
    """HIS/UNT/DOC findings of each file checked in OUTDIR, by file name."""
    found: dict[str, list] = {}
    for report in out.rglob("files/*/report.json"):
        found.update(history_rules(findings(report)))
    return found


def sequential(tmp_path, data, order) -> tuple[dict, list]:
    """The files run one after the other by one batch on a fresh SQLite ledger: each
    file's history findings, and the lines stored."""
    host = tmp_path / ("seq-" + "-".join(name[0] for name in order))
    key = new_key(tmp_path / "history.key")
    for name in order:
        drop(host / "inbox", name, data[name])
        result = edi837("batch", host / "inbox", "--out", host / "out", "--settle", "0",
                        "--history-key", key, "--history-days", "0")
        assert result.returncode in (0, 1), result.stderr
    with sqlite3.connect(host / "out" / "ledger.sqlite3") as db:
        lines = db.execute(STORED).fetchall()
    db.close()
    return rules_of(host / "out"), lines


STORED = ("SELECT claim_id, service_date, duplicate FROM history_lines "
          "WHERE removed_by IS NULL AND claim_id LIKE 'Q-%' ORDER BY claim_id")


STARTED: list[subprocess.Popen] = []  # killed after each test, whatever its end


@pytest.fixture(autouse=True)
def _no_process_left():
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)


def paused(host, args, tmp_path):
    """The host's batch, stopped alive at the checkpoint "judged" of its first file."""
    mark, go = tmp_path / f"{host.name}.paused", tmp_path / f"{host.name}.go"
    process = _started(subprocess.Popen(
        [sys.executable, "-c", PAUSED_AT, "judged", str(mark), str(go), "batch",
         str(host / "inbox"), "--out", str(host / "out"), "--settle", "0",
         *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=subprocess_env()))
    assert wait_for(lambda: mark.exists() or process.poll() is not None, timeout=120)
    assert process.poll() is None, process.communicate()
    return process, go


def _started(process: subprocess.Popen) -> subprocess.Popen:
    STARTED.append(process)
    return process


def batch(host, args, log=None):
    """The host's batch; its stderr in the file ``log`` if given (read while it runs)."""
    stderr = open(log, "w") if log else subprocess.PIPE
    try:
        return _started(subprocess.Popen(
            [sys.executable, "-m", "edi837", "batch", str(host / "inbox"), "--out",
             str(host / "out"), "--settle", "0", *map(str, args)], stdout=subprocess.PIPE,
            stderr=stderr, text=True, env=subprocess_env()))
    finally:
        if log:
            stderr.close()


def still_waiting(process, log, says: str = "waits for another batch") -> None:
    """``process`` says in ``log`` that it waits for the other batch, and goes on
    waiting (still running a second later)."""
    assert wait_for(lambda: says in log.read_text() or process.poll() is not None,
                    timeout=120)
    time.sleep(1.0)
    assert process.poll() is None, (process.communicate(), log.read_text())


@pytest.fixture(params=["postgresql ledger", "sqlite history"])
def setup(request, tmp_path):
    """(host A's args, host B's args, stored lines (query), held files (query))."""
    key = key_file(tmp_path)
    common = ["--history-key", key, "--history-days", "0"]
    if request.param == "sqlite history":
        store = tmp_path / "history.sqlite3"

        def query(statement):
            with sqlite3.connect(store) as db:
                found = db.execute(statement).fetchall()
            db.close()
            return found

        yield [*common, "--history", store], [*common, "--history", store], query
        return
    from pg_support import drop_schema, new_schema
    from pg_support import query as pg_query

    url = new_schema()
    yield ([*common, "--ledger", url], [*common, "--ledger", url],
           lambda statement: pg_query(url, statement))
    drop_schema(url)


@pytest.mark.slow
def test_a_killed_batchs_unfinished_file_never_counts_for_another(tmp_path, setup):
    """Issue 26's report: host B judged z-big (Q's first dose) and was killed before
    its outcome was recorded; host A, given a-second (Q's second dose) and z-big,
    judges as if B had never run: a-second then z-big, one after the other.  While B
    was alive, A waited for it (it could not know B would die)."""
    args_a, args_b, query = setup
    data = files(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    drop(b / "inbox", "z-big.edi", data["z-big.edi"])
    process_b, _ = paused(b, args_b, tmp_path)
    assert query("SELECT COUNT(*) FROM history_files WHERE holder IS NOT NULL") == [(1,)]
    for name in ("a-second.edi", "z-big.edi"):
        drop(a / "inbox", name, data[name])
    log = tmp_path / "a.log"
    process_a = batch(a, args_a, log)
    still_waiting(process_a, log)  # a-second needs Q's line of z-big, which B holds
    process_b.send_signal(signal.SIGKILL)
    process_b.communicate(timeout=60)
    process_a.communicate(timeout=300)
    assert process_a.returncode in (0, 1), log.read_text()
    # z-big, taken while B lived, was left to B (PostgreSQL: one ledger): the next run
    # here finds B dead and abandons its claim
    _, stderr = batch(a, args_a).communicate(timeout=300)
    assert "z-big.edi" in str(list((a / "out").rglob("files/*"))), stderr

    expected, lines = sequential(tmp_path, data, ["a-second.edi", "z-big.edi"])
    assert ("HIS003", "Q-DOSE2") in expected["a-second.edi"]  # the first dose seen
    assert rules_of(a / "out") == expected
    assert query(STORED) == lines
    assert query("SELECT COUNT(*) FROM history_files WHERE holder IS NOT NULL") == [(0,)]


@pytest.mark.slow
def test_the_issue_26_report_a_host_killed_before_the_other_starts(tmp_path, setup):
    """As reported: B killed once z-big's lines are in the history, then A runs: its
    a-second is Q's first dose seen (HIS003), z-big is judged after it."""
    args_a, args_b, query = setup
    data = files(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    drop(b / "inbox", "z-big.edi", data["z-big.edi"])
    killed_at("judged", "batch", b / "inbox", "--out", b / "out", "--settle", "0", *args_b)
    assert query("SELECT COUNT(*) FROM history_files WHERE holder IS NOT NULL") == [(1,)]
    for name in ("a-second.edi", "z-big.edi"):
        drop(a / "inbox", name, data[name])
    _, stderr = batch(a, args_a).communicate(timeout=300)
    assert "waits for another batch" not in stderr

    expected, lines = sequential(tmp_path, data, ["a-second.edi", "z-big.edi"])
    assert rules_of(a / "out") == expected
    assert query(STORED) == lines


@pytest.mark.slow
def test_a_batch_waits_for_the_file_another_live_batch_holds(tmp_path, setup):
    """B holds z-big (judged, outcome not recorded) and goes on: A's a-second waits
    for it, then is judged after it, as if B's run had come first."""
    args_a, args_b, query = setup
    data = files(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    drop(b / "inbox", "z-big.edi", data["z-big.edi"])
    process_b, go = paused(b, args_b, tmp_path)
    drop(a / "inbox", "a-second.edi", data["a-second.edi"])
    log = tmp_path / "a.log"
    process_a = batch(a, args_a, log)
    still_waiting(process_a, log)
    go.touch()
    for process in (process_b, process_a):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr or log.read_text()

    expected, lines = sequential(tmp_path, data, ["z-big.edi", "a-second.edi"])
    assert ("HIS003", "Q-DOSE1") in expected["z-big.edi"]
    assert {**rules_of(b / "out"), **rules_of(a / "out")} == expected
    assert query(STORED) == lines
    assert query("SELECT COUNT(*) FROM history_files WHERE holder IS NOT NULL") == [(0,)]


def test_a_batch_stopped_while_it_waits_leaves_the_file_in_its_inbox(tmp_path):
    """SIGTERM while a file waits for another batch: the run ends now (it does not wait
    for the other batch), the file is left in the inbox, nothing of it stored."""
    key, store = key_file(tmp_path), tmp_path / "history.sqlite3"
    args = ["--history", store, "--history-key", key, "--history-days", "0"]
    data = files(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    drop(b / "inbox", "z-big.edi", data["z-big.edi"])
    process_b, go = paused(b, args, tmp_path)
    drop(a / "inbox", "a-second.edi", data["a-second.edi"])
    log = tmp_path / "a.log"
    process_a = batch(a, args, log)
    try:
        still_waiting(process_a, log)
        process_a.send_signal(signal.SIGTERM)
        process_a.communicate(timeout=30)
        stderr = log.read_text()
    finally:
        go.touch()
        process_b.communicate(timeout=300)
    assert "stop requested while it waited for another batch" in stderr, stderr
    assert (a / "inbox" / "a-second.edi").exists()
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM history_lines WHERE claim_id = 'Q-DOSE2'"
                          ).fetchone() == (0,)
    db.close()
    with sqlite3.connect(a / "out" / "ledger.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM inputs").fetchone() == (0,)
    db.close()


@pytest.mark.slow
def test_a_check_waits_until_no_live_batch_holds_a_file(tmp_path, setup):
    """`check --history` holds the store for its whole run: it cannot wait in the
    middle for a batch, so it waits before it begins, then judges after B's file."""
    args_a, args_b, query = setup
    data = files(tmp_path)
    b = tmp_path / "b"
    drop(b / "inbox", "z-big.edi", data["z-big.edi"])
    process_b, go = paused(b, args_b, tmp_path)
    second = tmp_path / "a-second.edi"
    second.write_bytes(data["a-second.edi"])
    store = args_a[args_a.index("--history" if "--history" in args_a else "--ledger") + 1]
    log = tmp_path / "check.log"
    with open(log, "w") as stderr:
        check = _started(subprocess.Popen(
            [sys.executable, "-m", "edi837", "check", str(second), "--history", str(store),
             "--history-key", str(new_key(tmp_path / "history.key")), "--history-days", "0", "-o",
             str(tmp_path / "check.json")], stdout=subprocess.PIPE, stderr=stderr,
            text=True, env=subprocess_env()))
    still_waiting(check, log, "waiting for another edi837 batch")
    go.touch()
    for process in (process_b, check):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr or log.read_text()

    expected, lines = sequential(tmp_path, data, ["z-big.edi", "a-second.edi"])
    assert history_rules(findings(tmp_path / "check.json")) == \
        {"a-second.edi": expected["a-second.edi"]}
    assert query(STORED) == lines


def test_a_batch_killed_between_its_outcome_and_its_own_store_finishes_at_start(tmp_path):
    """A history of its own is finished just after the ledger's step 4: a batch
    killed in between holds the file until its next start finishes it (recovery),
    and then it counts for every batch."""
    key, store = key_file(tmp_path), tmp_path / "history.sqlite3"
    host = tmp_path / "b"
    drop(host / "inbox", "z-big.edi", files(tmp_path)["z-big.edi"])
    args = ["batch", host / "inbox", "--out", host / "out", "--settle", "0", "--history",
            store, "--history-key", key, "--history-days", "0"]
    killed_at("reported-in-ledger", *args)

    def held():
        with sqlite3.connect(store) as db:
            found = db.execute("SELECT COUNT(*) FROM history_files WHERE holder IS NOT NULL "
                               "AND sha256 != 'pending'").fetchone()[0]
        db.close()
        return found

    assert held() == 1
    result = edi837(*args)
    assert result.returncode in (0, 1), result.stderr
    assert "recovery: finishing z-big.edi" in result.stderr
    assert held() == 0


def test_another_batchs_unfinished_file_is_hidden_once_it_is_dead(tmp_path):
    """The store alone: a file held by a dead batch counts for nothing (its lines, and
    the line its replacement took out, are as before it); one held by a live batch
    stops the judging (HistoryHeld); a finished one, and the batch's own, count."""
    import secrets

    from edi837.history import HistoryStore
    from edi837.history.holders import HistoryHeld, finish_file

    patient = b"\x01" * 32
    store = HistoryStore.open(tmp_path / "h.sqlite3", secrets.token_bytes(32))
    alive = {"a": True, "b": True}

    def file_of(holder, claim_id, removes=None):
        store.holder = holder
        sha = holder * 64
        store.begin_file(f"run-{holder}", sha)
        line = store.db.execute(
            "INSERT INTO history_lines (patient, service_date, hcpcs, units, modifiers, "
            "ndc, billing_npi, payer_id, responsibility, claim_id, frequency, "
            "original_reference, duplicate, file) VALUES (?, '20261102', 'J2350', '300', "
            "'', '', '', '', 'P', ?, '1', '', 0, ?)", (patient, claim_id, store._file))
        if removes is not None:
            store.db.execute("UPDATE history_lines SET removed_by = ? WHERE id = ?",
                             (store._file, removes))
        store.patients.add(patient)
        store.end_file(sha, keep=True)
        return line.lastrowid

    def claims(holder):
        store.holder = holder
        return [row.claim_id for row in store.rows_for([patient]).get(patient, [])]

    try:
        store.alive = lambda holder: alive[holder]
        original = file_of("a", "Q-1")
        with store.transaction():
            assert finish_file(store, "A" * 64, "run-a") == 1
        file_of("b", "Q-1R", removes=original)  # b's replacement of Q-1, not finished
        assert claims("b") == ["Q-1R"]  # its own
        with pytest.raises(HistoryHeld) as held:
            claims("c")
        assert held.value.holder == "b"
        alive["b"] = False
        assert claims("c") == ["Q-1"]  # as if b had not run
        with store.transaction():
            assert finish_file(store, "b" * 64, "run-b") == 1
        assert claims("c") == ["Q-1R"]
    finally:
        store.close()


def test_a_schema_2_store_is_brought_to_3_with_every_file_finished(tmp_path):
    import secrets

    from edi837.history import HistoryStore

    path, key = tmp_path / "h.sqlite3", secrets.token_bytes(32)
    HistoryStore.open(path, key).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE history_files DROP COLUMN holder")
        db.execute("UPDATE history_meta SET value = '2' WHERE name = 'schema'")
        db.execute("INSERT INTO history_files (sha256, run_id, added) VALUES ('x', 'r', 'n')")
    db.close()
    HistoryStore.open(path, key).close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM history_meta WHERE name = 'schema'").fetchone() \
            == ("3",)
        assert db.execute("SELECT holder FROM history_files").fetchall() == [(None,)]
    db.close()
    assert os.path.exists(path)
