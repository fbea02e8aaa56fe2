"""Issue 26, "Done when": two batch hosts on one store judge *different* nights at the
same time and end as one host that ran the same nights one after another, in the order
the store took them (the audit of 7 December: the two-host test gave the hosts one
night each in turn, or both the same night, so they never judged two nights at once).

Each round drops one night into host A's inbox and the next night into host B's and
starts both batches together (real processes); the shared store is a PostgreSQL ledger
with its history, or one SQLite history file beside two local ledgers.  The store's
own record of files (history_files, in the order their lines were committed) gives the
order one host then runs the nights in, and every claim's history findings must be
that host's."""
import sqlite3

import pytest
from batch_support import drop
from store_support import edi837, key_file, popen


def _generated_nights(tmp_path):
    from click.testing import CliRunner

    from edi837.cli import main

    corpus = tmp_path / "nights"
    made = CliRunner().invoke(main, ["generate", "--nights", "60", "--seed", "11",
                                     "--out-dir", str(corpus)])
    assert made.exit_code == 0, made.output
    return sorted(p for p in corpus.iterdir() if p.suffix == ".edi")


def _store_order(kind, where) -> list[str]:
    """The SHA-256 of each file the shared store holds lines of, in commit order."""
    statement = "SELECT sha256 FROM history_files ORDER BY id"
    if kind == "postgres":
        from pg_support import query

        return [sha for (sha,) in query(where, statement)]
    with sqlite3.connect(where) as db:
        return [sha for (sha,) in db.execute(statement)]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_two_hosts_judging_two_nights_at_once_end_as_one_host_in_the_store_order(
        tmp_path, kind):
    import hashlib

    from test_ledger_postgres import _reports

    files = _generated_nights(tmp_path)
    assert len(files) >= 20
    key = key_file(tmp_path)
    one, a, b = tmp_path / "one", tmp_path / "a", tmp_path / "b"
    for host in (one, a, b):
        (host / "inbox").mkdir(parents=True)
    if kind == "postgres":
        from pg_support import drop_schema, new_schema

        where = new_schema()
        shared = ["--ledger", where]
    else:
        where = str(tmp_path / "shared-history.sqlite3")
        shared = ["--history", where]
    try:
        for start in range(0, len(files), 2):
            pair = files[start:start + 2]
            hosts = (a, b)[:len(pair)]
            for host, path in zip(hosts, pair, strict=True):
                drop(host / "inbox", path.name, path.read_bytes())
            processes = [popen("batch", host / "inbox", "--out", host / "out", "--settle",
                               "0", *shared, "--history-key", key, "--history-days", "0")
                         for host in hosts]
            for process in processes:
                _, stderr = process.communicate(timeout=300)
                assert process.returncode in (0, 1), stderr
        by_sha = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in files}
        order = [by_sha[sha] for sha in _store_order(kind, where)]
    finally:
        if kind == "postgres":
            drop_schema(where)
    assert sorted(order) == files, "every night's lines in the store, once"
    swapped = sum(order.index(files[n]) > order.index(files[n + 1])
                  for n in range(0, len(files) - 1, 2))
    for path in order:  # one host, the nights one after another in the store's order
        drop(one / "inbox", path.name, path.read_bytes())
        alone = edi837("batch", one / "inbox", "--out", one / "out", "--settle", "0",
                       "--history-key", key, "--history-days", "0")
        assert alone.returncode in (0, 1), alone.stderr
    expected, shared_found = _reports(one / "out"), _reports(a / "out", b / "out")
    assert sorted(expected) == [p.name for p in files]
    assert shared_found == expected
    seen = {rule for night in expected.values() for rules in night.values() for rule in rules}
    assert {"HIS001", "HIS002"} <= seen, seen  # duplicates and schedule slips across nights
    print(f"{kind}: {len(files)} nights, {swapped} rounds judged the later night first")
