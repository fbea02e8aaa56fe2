"""Issue 26's "done when", all parts together: an S3 inbox (moto's server on localhost),
real `dask scheduler` / `dask worker` processes whose workers share no folder with the
driver (each in a mount namespace of its own where the driver's folders are an empty
tmpfs: they reach the inputs only through the object store), and a PostgreSQL history.

* `check s3://bucket/nightly/ --dask ...` gives the one-process report;
* `batch s3://bucket/inbox --dask ... --history postgresql://...` gives the outputs of
  one process, archives by copy and delete, and a resend through the same inbox is
  judged a duplicate by the shared history;
* the scheduler killed mid-run: exit 2, nothing quarantined, the files still in the inbox.
"""
import contextlib
import json
import os
import uuid
from pathlib import Path

import pytest
from batch_support import CLEAN, DEFECT, edi, generated, new_key, wait_for
from click.testing import CliRunner
from dask_support import own_cluster
from store_support import paused_at
from test_cluster_processes import _can_unshare
from test_parallel_dask import check_reports

from edi837.cli import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def s3_workers(s3_server, tmp_path_factory):
    """A scheduler and two workers started after the S3 server (they read its address
    from their environment, as a worker host reads its AWS settings), each worker blind
    to ``private``, where the driver keeps its folders."""
    if not _can_unshare():
        pytest.skip("needs unshare --mount and tmpfs (Linux, as root)")
    root = tmp_path_factory.mktemp("s3-cluster")
    private = root / "private"
    private.mkdir()
    with own_cluster(root / "cluster", workers=0) as cluster:
        folders = [cluster.add_worker(f"w{n}", [private], scratch=root / "scratch" / f"w{n}")
                   for n in (1, 2)]
        cluster.wait_for_workers(2)
        yield {"cluster": cluster, "address": cluster.address, "private": private,
               "folders": folders}


def _night() -> dict[str, bytes]:
    files = {f"p{n}.edi": generated("837P", claims=8, seed=n) for n in range(3)}
    files["i0.edi"] = generated("837I", claims=6, seed=9)
    files["defect.edi"] = edi(DEFECT)
    files["clean.edi"] = edi(CLEAN)
    return files


def _put(fs, prefix: str, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        with fs.open(f"{prefix}/{name}", "wb") as out:
            out.write(data)


def _place(s3_workers, name: str) -> Path:
    place = s3_workers["private"] / f"{name}-{uuid.uuid4().hex[:6]}"
    place.mkdir()
    return place


def test_check_of_an_s3_prefix_on_blind_workers_gives_the_one_process_report(
        s3_workers, bucket, monkeypatch):
    name, fs = bucket
    _put(fs, f"{name}/nightly", _night())
    place = _place(s3_workers, "check")
    monkeypatch.chdir(place)
    url = f"s3://{name}/nightly/"
    one = check_reports(place, "one", [url])
    dask = check_reports(place, "dask", [url], "--dask", s3_workers["address"])
    assert dask == one
    assert one[0] == 1  # the defect file's errors
    report = json.loads(one[1][0])
    assert {f["path"] for f in report["files"]} == {
        f"s3://{name}/nightly/{n}" for n in _night()}
    for folder in s3_workers["folders"]:
        assert list(folder.iterdir()) == []


def _batch(inbox: str, out: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["batch", inbox, "--out", str(out), "--settle", "0",
                                       "--history-key", str(new_key(out.parent / "history.key")),
                                       *args])
    return result.exit_code, result.output


def _reports(out: Path) -> dict[str, str]:
    found = {}
    for path in sorted(out.glob("*/files/*/report.json")):
        doc = json.loads(path.read_text())
        for entry in doc["files"]:
            entry.pop("path", None)
        doc.pop("run", None)
        doc.get("reference_data", {}).pop("history", None)  # the store's name
        found[path.parent.name] = json.dumps(doc, sort_keys=True)
    return found


@pytest.fixture
def pg_history():
    if not os.environ.get("EDI837_TEST_PG"):
        pytest.skip("needs a PostgreSQL server (EDI837_TEST_PG; .ci/run starts one)")
    from pg_support import drop_schema, new_schema

    url = new_schema()
    yield url
    drop_schema(url)


def test_batch_of_an_s3_inbox_on_blind_workers_with_a_postgres_history(
        s3_workers, bucket, pg_history):
    name, fs = bucket
    history = pg_history
    night = _night()
    place = _place(s3_workers, "batch")
    (place / "history.key").write_text("ab" * 32 + "\n")
    (place / "history.key").chmod(0o600)

    _put(fs, f"{name}/one", night)
    one = _batch(f"s3://{name}/one", place / "one")
    _put(fs, f"{name}/dask", night)
    dask = _batch(f"s3://{name}/dask", place / "dask", "--dask", s3_workers["address"],
                  "--history", history)
    assert one[0] == dask[0] == 1, (one, dask)
    reports = _reports(place / "one")
    assert _reports(place / "dask") == reports and len(reports) == len(night)
    assert fs.find(f"{name}/dask") == []  # every object moved (copy, then delete)
    archived = [p for p in fs.find(f"{name}/archive") if p.endswith(".edi")]
    assert len(archived) == 2 * len(night)  # the one-process inbox's and this one's
    for folder in s3_workers["folders"]:
        assert list(folder.iterdir()) == []

    # the same claims again, through the same inbox: the shared history knows them
    again = generated("837P", claims=8, seed=1) + b"\n"  # other bytes, the same claims
    _put(fs, f"{name}/dask", {"resent.edi": again})
    code, _ = _batch(f"s3://{name}/dask", place / "dask", "--dask", s3_workers["address"],
                     "--history", history)
    resent = list((place / "dask").glob("*/files/resent.edi/report.json"))
    assert len(resent) == 1, code
    resent = resent[0]
    rules = {f["rule"] for entry in json.loads(resent.read_text())["files"]
             for f in entry["findings"]}
    assert "HIS001" in rules and code == 1


def test_scheduler_killed_mid_batch_quarantines_nothing(s3_server, bucket, tmp_path):
    if not _can_unshare():
        pytest.skip("needs unshare --mount and tmpfs (Linux, as root)")

    name, fs = bucket
    big = {f"n{n}.edi": generated("837P", claims=400, seed=n) for n in range(4)}
    _put(fs, f"{name}/inbox", big)
    private = tmp_path / "private"
    private.mkdir()
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(own_cluster(tmp_path / "cluster", workers=0))
        cluster.add_worker("w1", [private], scratch=tmp_path / "scratch")
        cluster.wait_for_workers(1)
        out = private / "out"
        # held at the end of its first file (the batch checkpoint "done"): the scheduler
        # dies mid-batch whatever the machine's speed (4 files take about a second)
        driver = paused_at("done", tmp_path, "batch", f"s3://{name}/inbox", "--out", out,
                           "--settle", "0", "--history-key", new_key(tmp_path / "history.key"),
                           "--dask", cluster.address)
        assert wait_for(lambda: (tmp_path / "PAUSED").exists(), timeout=120), \
            driver.stderr.read() if driver.poll() is not None else "never paused"
        cluster.kill_scheduler()
        (tmp_path / "GO").touch()
        _, err = driver.communicate(timeout=240)
    assert driver.returncode == 2, err
    assert "cluster" in err.lower()
    left = {p.rsplit("/", 1)[-1] for p in fs.find(f"{name}/inbox")}
    quarantined = [p for p in fs.find(f"{name}") if "/quarantine/" in p]
    assert quarantined == []
    archived = {p.rsplit("/", 1)[-1] for p in fs.find(f"{name}") if "/archive/" in p}
    assert left | archived == set(big) and left  # nothing lost, the rest still there
