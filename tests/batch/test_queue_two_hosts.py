"""Two batch hosts on one PostgreSQL ledger (`batch --ledger URL`), in processes of their
own: the work queue's resolutions follow the ledger's order of the files, whatever order
the runs end in (the operator's trial qv.sh: host J's void taken first, host K's hold
after it, J's run ending last).  Every input is synthetic."""
import json

import pytest
from batch_support import drop, wait_for
from pg_support import drop_schema, new_schema, query
from queue_support import claim, night
from store_support import edi837, key_file, paused_at


@pytest.fixture
def pg_url():
    url = new_schema()
    yield url
    drop_schema(url)


def batch_args(host, url, key):
    return ["batch", host / "inbox", "--out", host / "out", "--settle", "0", "--ledger", url,
            "--history-key", key, "--history-days", "0"]


def queue_rows(url) -> list[dict]:
    listed = edi837("queue", "list", "--ledger", url, "--all", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]


HELD = [claim(f"K{n}", f"00{n}", "20251201", held=True) for n in range(1, 4)]
VOIDS = [claim(f"K{n}", f"00{n}", "20251201", frequency="8") for n in range(1, 4)]


def test_a_void_taken_before_another_hosts_hold_does_not_resolve_it(tmp_path, pg_url):
    """J takes the void first (HIS004: no original) and stays open; K takes the originals
    after it and holds them; J's run ends last: the holds stay open, as when the files
    run one after the other in the ledger's order."""
    key, host_j, host_k = key_file(tmp_path), tmp_path / "J", tmp_path / "K"
    drop(host_j / "inbox", "a-void.edi", night(VOIDS, "000000002"))
    drop(host_k / "inbox", "dense-0.edi", night(HELD, "000000001"))
    j = paused_at("done", tmp_path, *batch_args(host_j, pg_url, key))  # a-void.edi done, run open
    try:
        assert wait_for(lambda: (tmp_path / "PAUSED").exists(), timeout=60), j.stderr
        k = edi837(*batch_args(host_k, pg_url, key))
        assert k.returncode == 1, k.stderr
        assert sorted(r["claim_id"] for r in queue_rows(pg_url)
                      if r["status"] == "open") == ["K1", "K2", "K3"]
    finally:
        (tmp_path / "GO").touch()
        _, err = j.communicate(timeout=120)
    assert j.returncode in (0, 1), err
    taken = query(pg_url, "SELECT name FROM inputs ORDER BY id")
    assert taken == [("a-void.edi",), ("dense-0.edi",)]  # the void first in the ledger
    two_hosts = {r["claim_id"]: r["status"] for r in queue_rows(pg_url)}
    assert two_hosts == {"K1": "open", "K2": "open", "K3": "open"}, two_hosts

    # the same files one after the other, in the ledger's order, on one host: the same
    replay, url = tmp_path / "replay", new_schema()
    try:
        for name, data in (("a-void.edi", night(VOIDS, "000000002")),
                           ("dense-0.edi", night(HELD, "000000001"))):
            drop(replay / "inbox", name, data)
            assert edi837(*batch_args(replay, url, key)).returncode in (0, 1)
        one_host = {r["claim_id"]: r["status"] for r in queue_rows(url)}
    finally:
        drop_schema(url)
    assert one_host == two_hosts


def test_a_void_taken_after_another_hosts_hold_voids_it_when_the_hold_syncs_last(
        tmp_path, pg_url):
    """K takes the originals first and holds them, its run stays open; J takes their void
    after them and its run ends first: when K's run ends, the holds are voided, as when
    the files run one after the other in the ledger's order."""
    key, host_j, host_k = key_file(tmp_path), tmp_path / "J", tmp_path / "K"
    drop(host_k / "inbox", "dense-0.edi", night(HELD, "000000001"))
    drop(host_j / "inbox", "a-void.edi", night(VOIDS, "000000002"))
    k = paused_at("done", tmp_path, *batch_args(host_k, pg_url, key))  # run still open
    try:
        assert wait_for(lambda: (tmp_path / "PAUSED").exists(), timeout=60), k.stderr
        j = edi837(*batch_args(host_j, pg_url, key))
        assert j.returncode in (0, 1), j.stderr
        assert queue_rows(pg_url) == []  # K's holds are not in the queue yet
        kept = query(pg_url, "SELECT fact FROM queue_later")  # J's voids, for K's holds
        assert len(kept) == 3 and not any(private in fact for (fact,) in kept
                                          for private in ("SYN00", "DOE", "JANE", "1980"))
    finally:
        (tmp_path / "GO").touch()
        _, err = k.communicate(timeout=120)
    assert k.returncode == 1, err
    assert query(pg_url, "SELECT name FROM inputs ORDER BY id") == [("dense-0.edi",),
                                                                    ("a-void.edi",)]
    two_hosts = {r["claim_id"]: r["status"] for r in queue_rows(pg_url)}
    assert two_hosts == {"K1": "voided", "K2": "voided", "K3": "voided"}, two_hosts
    assert query(pg_url, "SELECT COUNT(*) FROM queue_later") == [(0,)]
