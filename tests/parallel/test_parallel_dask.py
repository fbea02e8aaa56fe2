"""`--dask`: a real LocalCluster with worker processes gives the reports of one job and
retries a task whose worker was lost once; relative paths on a real `dask scheduler`
with `dask worker` processes in folders of their own (dask_support).  What the
cluster's failures do: test_dask_faults.py.

Slow (each test starts a cluster: a few seconds); skipped without Dask.
"""
import os
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")

from batch_support import DEFECT, HOUR, drop, edi, generated, new_key, options  # noqa: E402

from edi837.batch import run_batch  # noqa: E402
from edi837.batch.ledger import WORK_DIR  # noqa: E402
from edi837.cli import main  # noqa: E402
from edi837.parallel import check as parallel_check  # noqa: E402
from edi837.parallel import cluster  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


class Poison(distributed.WorkerPlugin):
    """In every worker process (restarted ones too): checking the file ``name`` kills
    the worker, every time, or only the first time (``marker``: a file it leaves)."""

    def __init__(self, name: str, marker: str | None = None) -> None:
        self.name, self.marker = name, marker

    def setup(self, worker):
        from edi837.engine import Engine

        real, name, marker = Engine.check_file, self.name, self.marker

        def check_file(engine, path, **options):
            if os.path.basename(str(path)) == name and not (marker and os.path.exists(marker)):
                if marker:
                    Path(marker).touch()
                os._exit(1)  # the worker process dies mid-task
            return real(engine, path, **options)

        Engine.check_file = check_file


@pytest.fixture
def poison(monkeypatch):
    """Register a Poison plugin on the cluster the command connects to."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    plugins = []
    connect = cluster.connect

    def connect_and_poison(address, insecure):
        client, local = connect(address, insecure)
        for plugin in plugins:
            client.register_plugin(plugin)
        return client, local

    monkeypatch.setattr(cluster, "connect", connect_and_poison)
    return plugins.append


def without_times(text: str, *names: str) -> str:
    for name in names:
        text = text.replace(name, "X")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "TIME", text)
    text = re.sub(r'"seconds">[^<]*', "", text)
    return re.sub(r"\(\d+(\.\d+)? s\)", "", text)


def check_reports(tmp_path, name: str, paths, *args) -> tuple[int, list[str]]:
    outputs = [str(tmp_path / f"{name}.{ext}") for ext in ("json", "txt", "html", "csv")]
    argv = ["check", *map(str, paths), *args]
    for output in outputs:
        argv += ["-o", output]
    result = CliRunner().invoke(main, argv)
    return result.exit_code, [without_times(Path(o).read_text()) for o in outputs]


def test_check_dask_gives_the_reports_of_one_job_with_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 30_000)
    big = tmp_path / "big.edi"
    big.write_bytes(generated("837P", claims=200, seed=3))
    paths = [big, ROOT / "samples/837p-j2350-defects.edi",
             ROOT / "tests/data/malformed/truncated.edi"]
    one = check_reports(tmp_path, "one", paths)
    dask = check_reports(tmp_path, "dask", paths, "--dask", "local:2")
    assert dask == one
    assert one[0] == 2  # the truncated file


def _inbox_files() -> dict[str, bytes]:
    files = {f"p{n}.edi": generated("837P", claims=6, seed=n) for n in range(3)}
    files["i0.edi"] = generated("837I", claims=6, seed=9)
    files["sub/defect.edi"] = edi(DEFECT)
    files["again.edi"] = files["p1.edi"]  # a duplicate of content in this run
    files["truncated.edi"] = generated("837P", claims=3, seed=5)[:700]
    return files


def _batch_contents(tmp_path, out: str, files, **overrides) -> tuple[int, dict, list]:
    opts = options(tmp_path, out=tmp_path / out, formats=("json", "html", "csv"),
                   history_key=new_key(tmp_path / "history.key"), **overrides)
    for name, data in files.items():  # the same inbox path: reports name their input
        drop(opts.inbox, name, data, age=HOUR)
    status = run_batch(opts)
    [run_dir] = [d for d in opts.out.iterdir() if d.name[:1].isdigit()]
    assert not (run_dir / WORK_DIR).exists()
    found = {}
    for path in sorted(run_dir.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(run_dir))] = without_times(
                path.read_text(), run_dir.name, str(opts.out))
    archived = sorted(p.name for p in (opts.out / "archive").rglob("*") if p.is_file())
    return status, found, archived


def assert_same_outputs(got, expected) -> None:
    """Status, archived files, then each output file, with a diff of the first that
    differs (the whole tuple is too long for pytest to show where)."""
    import difflib

    assert got[0] == expected[0]
    assert got[2] == expected[2]
    assert set(got[1]) - set(expected[1]) == set() == set(expected[1]) - set(got[1])
    for name in sorted(expected[1]):
        if got[1][name] != expected[1][name]:
            diff = difflib.unified_diff(expected[1][name].splitlines(), got[1][name].splitlines(),
                                        "jobs 1", "dask", lineterm="", n=2)
            pytest.fail(f"{name} differs:\n" + "\n".join(list(diff)[:80]))


def test_batch_dask_writes_the_outputs_of_jobs_1(tmp_path):
    files = _inbox_files()
    one = _batch_contents(tmp_path, "one", files)
    dask = _batch_contents(tmp_path, "dask", files, dask="local:2")
    assert_same_outputs(dask, one)
    assert one[0] == 2 and "truncated.edi" not in one[2]


def test_batch_dask_a_worker_lost_mid_task_is_retried(tmp_path, poison):
    files = _inbox_files()
    one = _batch_contents(tmp_path, "one", files)
    poison(Poison("p2.edi", marker=str(tmp_path / "killed-once")))
    dask = _batch_contents(tmp_path, "dask", files, dask="local:2")
    assert (tmp_path / "killed-once").exists()  # its worker did die
    assert_same_outputs(dask, one)


def test_batch_dask_checks_a_large_file_in_pieces_with_the_outputs_of_jobs_1(
        tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 30_000)
    sent = []
    from edi837.parallel import batch_pieces

    split_job = batch_pieces.split_job

    def recording(job, submit, piece_size):
        split = split_job(job, submit, piece_size)
        sent.append((Path(job.path).name, split))
        return split

    monkeypatch.setattr(batch_pieces, "split_job", recording)
    files = _inbox_files()
    import io

    from edi837.generator import generate

    text = io.StringIO(newline="")
    generate(text, "837P", claims=250, seed=11, defect_rate=0.3, claims_per_st=50)
    big = text.getvalue().encode()
    parts = big.split(b"NM1*41*2*SYNTHETIC CLAIMS SUBMITTER*****46*EDI837SYN")
    files["big.edi"] = parts[0] + b"".join(  # each set from a submitter of its own
        b"NM1*41*2*SUBMITTER %d*****46*S%d" % (n, n) + part for n, part in enumerate(parts[1:], 1))
    one = _batch_contents(tmp_path, "one", files)
    dask = _batch_contents(tmp_path, "dask", files, dask="local:2")
    assert_same_outputs(dask, one)
    assert len(dict(sent)["big.edi"].units) > 3  # a worker cut it
    page = next(text for name, text in one[1].items() if name.endswith("big.edi/report.html"))
    assert '"S5"]' in page and '"S5":"SUBMITTER 5"' in page  # the pieces' submitters


DRIVER = """
import os, signal, sys
from pathlib import Path
from edi837.batch import BatchOptions, durable, run_batch

step, count = int(sys.argv[1]), 0

def checkpoint(name):
    global count
    count += 1
    if count == step:
        os.kill(os.getpid(), signal.SIGKILL)

durable.checkpoint = checkpoint
run_batch(BatchOptions(inbox=Path(sys.argv[2]), out=Path(sys.argv[3]), settle=5.0,
                       history_key=Path(sys.argv[4]), dask="local:1"))
"""


def test_batch_dask_driver_killed_mid_run_is_repaired_by_the_next_start(tmp_path):
    """The driver SIGKILLed after its first steps (taking files, judging, recording):
    the next start (one job) repairs the run; every input is processed exactly once.
    The driver is a process of its own (forking this one, which has run clusters,
    would copy their threads' locks)."""
    import signal
    import subprocess
    from dataclasses import replace

    from batch_support import CLEAN, assert_consistent, subprocess_env

    inputs = {"a-clean.edi": edi(CLEAN), "b-defect.edi": edi(DEFECT),
              "c-copy.edi": edi(CLEAN), "d-truncated.edi": edi(CLEAN)[:400],
              "e.edi": generated("837P", claims=4, seed=7)}
    for step in (2, 5, 9):
        opts = options(tmp_path / f"step{step}", history_key=new_key(tmp_path / "history.key"))
        for name, data in inputs.items():
            drop(opts.inbox, name, data, age=HOUR)
        driver = subprocess.run([sys.executable, "-c", DRIVER, str(step), str(opts.inbox),
                                 str(opts.out), str(opts.history_key)],
                                env=subprocess_env(), timeout=300, capture_output=True)
        assert driver.returncode == -signal.SIGKILL, driver.stderr[-2000:]
        run_batch(replace(opts, lock_wait=30.0))  # the restart repairs and finishes
        assert_consistent(opts, inputs)


# -- relative paths: a cluster's workers run in another folder ---------------------------------
@pytest.fixture
def elsewhere_cluster(tmp_path, monkeypatch, dask_cluster):
    """A real scheduler whose `dask worker` processes run in empty folders of their
    own (as on a cluster's machines: dask_support), the command in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    return dask_cluster


def test_check_dask_with_relative_paths_gives_the_report_of_one_job(
        tmp_path, elsewhere_cluster, monkeypatch):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 30_000)
    Path("in").mkdir()
    Path("in/big.edi").write_bytes(generated("837P", claims=200, seed=3))
    Path("in/small.edi").write_bytes((ROOT / "samples/837p-j2350-defects.edi").read_bytes())
    paths = ["in/big.edi", "in/small.edi"]
    one = check_reports(tmp_path, "one", paths)
    dask = check_reports(tmp_path, "dask", paths, "--dask", elsewhere_cluster)
    assert dask == one  # the reports name the files as given
    assert one[0] == 1 and '"path": "in/big.edi"' in one[1][0]


def test_batch_dask_with_a_relative_inbox_checks_and_archives(tmp_path, elsewhere_cluster):
    Path("inbox").mkdir()
    for n in range(2):
        drop(Path("inbox"), f"p{n}.edi", generated("837P", claims=4, seed=n), age=HOUR)
    drop(Path("inbox"), "defect.edi", edi(DEFECT), age=HOUR)
    result = CliRunner().invoke(main, ["batch", "inbox", "--out", "out", "--quiet",
                                       "--dask", elsewhere_cluster])
    assert result.exit_code == 1, result.output  # the defect, not "changed while checked"
    assert "changed while being checked" not in result.output
    assert sorted(p.name for p in Path("out/archive").rglob("*.edi")) == \
        ["defect.edi", "p0.edi", "p1.edi"]
    assert list(Path("inbox").iterdir()) == []
