"""Failures of the cluster are not failures of the file (issue 26), on real parts:
``dask scheduler`` and ``dask worker`` processes (tests/dask_support.py), or a
LocalCluster where a test poisons its workers.

* the history key reaches workers once (a worker plugin): no task holds it;
* a scheduler killed mid-run: exit 2 naming it; batch leaves what it had not
  finished in the inbox (nothing quarantined) and the next run finishes it;
* a file that kills its workers is checked once more in a process of its own on
  the driver's host: fine there, its result is used (a fault of the cluster);
  dead there too, it is poison (EDI008, quarantined); three such faults in a
  run stop it as a cluster error;
* no worker at all: the run stops, as a cluster error, after NO_WORKERS s.
"""
import json
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from batch_support import new_key
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")

from batch_support import (  # noqa: E402
    DEFECT,
    HOUR,
    assert_consistent,
    drop,
    edi,
    generated,
    ledger,
    options,
    summaries,
)
from dask_support import own_cluster  # noqa: E402

from edi837.batch import run_batch  # noqa: E402
from edi837.cli import main  # noqa: E402
from edi837.history.identity import load_key  # noqa: E402
from edi837.parallel import cluster, faults, isolated  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plugins(monkeypatch):
    """Register worker plugins (of this module: sent by value) on the cluster the
    command connects to."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    registered = []
    connect = cluster.connect

    def connect_and_register(address, insecure):
        client, local = connect(address, insecure)
        for plugin in registered:
            client.register_plugin(plugin)
        return client, local

    monkeypatch.setattr(cluster, "connect", connect_and_register)
    return registered.append


class OnFile(distributed.WorkerPlugin):
    """In every worker process: checking a file named in ``names`` does ``what``:
    "die" (the worker process dies mid-task, every time) or "kill-scheduler" (SIGKILL
    to the process ``pid``, then the task goes on after a while)."""

    def __init__(self, names, what: str, pid: int = 0) -> None:
        self.names, self.what, self.pid = set(names), what, pid

    def setup(self, worker):
        from edi837.engine import Engine

        real, names, what, pid = Engine.check_file, self.names, self.what, self.pid

        def check_file(engine, path, **options):
            if os.path.basename(str(path)) in names:
                if what == "die":
                    os._exit(1)
                os.kill(pid, signal.SIGKILL)
                time.sleep(2)
            return real(engine, path, **options)

        Engine.check_file = check_file


POISONED_CHILD = """
import os, sys
from edi837.engine import Engine
real, name = Engine.check_file, sys.argv[1]
def check_file(engine, path, **options):
    if os.path.basename(str(path)) == name:
        os._exit(1)
    return real(engine, path, **options)
Engine.check_file = check_file
from edi837.parallel import isolated
isolated.main()
"""


@pytest.fixture
def poisoned_child(tmp_path, monkeypatch):
    """The driver host's re-check dies too on the file ``name``."""
    script = tmp_path / "poisoned_child.py"
    script.write_text(POISONED_CHILD)

    def poison(name: str) -> None:
        from batch_support import subprocess_env

        monkeypatch.setattr(isolated, "COMMAND", [sys.executable, str(script), name])
        for key, value in subprocess_env().items():  # the child imports edi837 from here
            monkeypatch.setenv(key, value)

    return poison


def check(paths, *args) -> tuple[int, str, dict]:
    out = Path(str(paths[0]) + ".report.json")
    result = CliRunner().invoke(main, ["check", *map(str, paths), *args, "-o", str(out)])
    report = json.loads(out.read_text()) if out.exists() else {}
    return result.exit_code, result.output, report


def findings(report: dict) -> list:
    return sorted((f["rule"], Path(file["path"]).name, f.get("segment_index"))
                  for file in report.get("files", []) for f in file["findings"])


# -- the history key -------------------------------------------------------------------------
def test_no_task_holds_the_history_key(tmp_path, dask_cluster, monkeypatch):
    """check and batch on a real cluster: every task's pickled arguments are free of
    the key's bytes, and the results are those of one process (the key did reach
    the workers: the history's findings need it)."""
    import cloudpickle

    sent = []
    submit = distributed.Client.submit

    def recording(client, function, *args, **kwargs):
        sent.append(cloudpickle.dumps((function, args)))
        return submit(client, function, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "submit", recording)
    key_file = new_key(tmp_path / "history.key")
    data = generated("837P", claims=6, seed=4)
    (tmp_path / "a.edi").write_bytes(data)
    (tmp_path / "b.edi").write_bytes(data.replace(b"*SYNTHETIC CLAIMS SUBMITTER*", b"*RESENT*"))
    a, b = tmp_path / "a.edi", tmp_path / "b.edi"
    history = ["--history-key", str(key_file), "--history"]
    one = [check([path], *history, str(tmp_path / "one.sqlite3")) for path in (a, b)]
    assert any(rule == "HIS001" for rule, _, _ in findings(one[1][2]))
    # a on the cluster: its workers hash its patients; b then here, judged by a's records
    dask = check([a], *history, str(tmp_path / "dask.sqlite3"), "--dask", dask_cluster,
                 "--work-dir", str(tmp_path))
    after = check([b], *history, str(tmp_path / "dask.sqlite3"))
    assert findings(dask[2]) == findings(one[0][2]) and dask[0] == one[0][0]
    assert findings(after[2]) == findings(one[1][2])  # the same patients: the same key
    key = load_key(key_file)
    assert sent and not any(key in blob for blob in sent)

    sent.clear()
    opts = options(tmp_path / "batch", history_key=key_file, dask=dask_cluster)
    for n in range(3):
        drop(opts.inbox, f"p{n}.edi", generated("837P", claims=4, seed=n), age=HOUR)
    assert run_batch(opts) in (0, 1)
    assert len(sent) >= 6 and not any(key in blob for blob in sent)  # check + reports
    assert sorted(p.name for p in opts.archive_dir.rglob("*.edi")) == \
        ["p0.edi", "p1.edi", "p2.edi"]


def test_a_worker_without_the_key_is_a_cluster_error(tmp_path, monkeypatch):
    """The key plugin not registered (as if it had not reached a worker): no task
    carries the key instead, and the run stops as a cluster error."""
    monkeypatch.setattr(cluster, "register_key", lambda client, key_id: None)
    (tmp_path / "a.edi").write_bytes(generated("837P", claims=3, seed=1))
    status, output, report = check([tmp_path / "a.edi"], "--dask", "local:1")
    assert status == 2 and report == {}
    assert "cluster error" in output and "was not given the patient history's key" in output


# -- a lost scheduler --------------------------------------------------------------------------
def test_check_scheduler_killed_mid_run_is_a_cluster_error(tmp_path, plugins):
    with own_cluster(tmp_path / "cluster") as real:
        plugins(OnFile({"c.edi"}, "kill-scheduler", real.scheduler.pid))
        paths = []
        for n, name in enumerate(("a.edi", "b.edi", "c.edi", "d.edi")):
            paths.append(tmp_path / name)
            paths[-1].write_bytes(generated("837P", claims=4, seed=n))
        status, output, report = check(paths, "--dask", real.address,
                                       "--work-dir", str(tmp_path))
    assert status == 2, output
    assert f"cluster error at Dask scheduler {real.address}" in output
    assert "lost the connection to the scheduler" in output
    assert "internal error" not in output and "Traceback" not in output
    assert report == {}  # no report from half a run


def _batch_inputs() -> dict[str, bytes]:
    inputs = {f"p{n}.edi": generated("837P", claims=4, seed=n) for n in range(5)}
    inputs["defect.edi"] = edi(DEFECT)
    return inputs


def test_batch_scheduler_killed_mid_run_quarantines_nothing(tmp_path, plugins):
    inputs = _batch_inputs()
    opts = options(tmp_path, history_key=new_key(tmp_path / "history.key"))
    for name, data in inputs.items():
        drop(opts.inbox, name, data, age=HOUR)
    with own_cluster(tmp_path / "cluster") as real:
        plugins(OnFile({"p2.edi"}, "kill-scheduler", real.scheduler.pid))
        status = run_batch(replace(opts, dask=real.address))
    assert status == 2
    assert not opts.quarantine_dir.exists() or not any(opts.quarantine_dir.rglob("*"))
    left = sorted(p.name for p in opts.inbox.iterdir())
    archived = sorted(p.name for p in opts.archive_dir.rglob("*.edi"))
    assert "p2.edi" in left and sorted(left + archived) == sorted(inputs)
    rows = ledger(opts.out)  # what was finished is done; what was not, not in the ledger
    assert sorted(r["name"] for r in rows) == archived
    assert all(r["state"] == "done" for r in rows)
    [summary] = summaries(opts.out)
    problems = " ".join(summary.get("problems", []))
    assert f"cluster error at Dask scheduler {real.address}" in problems
    assert "p2.edi" in problems and "left in the inbox" in problems
    run_batch(opts)  # the next run (here: one process) finishes them
    assert_consistent(opts, inputs)


def test_batch_watch_stops_with_exit_2_when_the_scheduler_is_lost(tmp_path, plugins):
    """A watching service whose scheduler is lost ends (exit 2: its service manager
    restarts it, and it connects again) instead of rolling files back forever."""
    import threading

    from edi837.batch import StopFlag

    inputs = _batch_inputs()
    opts = options(tmp_path, history_key=new_key(tmp_path / "history.key"), interval=0.2)
    for name, data in inputs.items():
        drop(opts.inbox, name, data, age=HOUR)
    stop = StopFlag()
    timer = threading.Timer(120, stop.set)  # a watch that does not end fails, not hangs
    timer.start()
    try:
        with own_cluster(tmp_path / "cluster") as real:
            plugins(OnFile({"p2.edi"}, "kill-scheduler", real.scheduler.pid))
            status = run_batch(replace(opts, dask=real.address), watch=True, stop=stop)
    finally:
        timer.cancel()
    assert status == 2 and not stop
    assert "p2.edi" in [p.name for p in opts.inbox.iterdir()]
    assert len(summaries(opts.out)) == 1  # the run that found it, no empty runs after it


# -- files that kill their workers -------------------------------------------------------------
def test_check_a_file_killing_its_workers_but_fine_alone_is_checked_there(
        tmp_path, plugins, capsys):
    plugins(OnFile({"deadly.edi"}, "die"))
    (tmp_path / "deadly.edi").write_bytes(generated("837P", claims=5, seed=1))
    (tmp_path / "fine.edi").write_bytes(edi(DEFECT))
    paths = [tmp_path / "deadly.edi", tmp_path / "fine.edi"]
    one = check(paths)
    dask = check(paths, "--dask", "local:2")
    assert dask[0] == one[0] == 1
    assert findings(dask[2]) == findings(one[2])  # deadly.edi's own result, no EDI008
    assert "deadly.edi: its Dask workers died" in dask[1] and "fault of the cluster" in dask[1]


def test_check_a_file_killing_its_workers_and_a_process_of_its_own_is_edi008(
        tmp_path, plugins, poisoned_child):
    plugins(OnFile({"deadly.edi"}, "die"))
    poisoned_child("deadly.edi")
    (tmp_path / "deadly.edi").write_bytes(generated("837P", claims=5, seed=1))
    (tmp_path / "fine.edi").write_bytes(generated("837P", claims=5, seed=2))
    status, output, report = check([tmp_path / "deadly.edi", tmp_path / "fine.edi"],
                                   "--dask", "local:2")
    assert status == 2
    [edi008] = [(name, f) for name, f in ((Path(file["path"]).name, f)
                                          for file in report["files"] for f in file["findings"])
                if f["rule"] == "EDI008"]
    assert edi008[0] == "deadly.edi" and "process of its own" in edi008[1]["message"]
    assert len(report["files"]) == 2  # the run went on


def test_batch_poison_is_quarantined_a_cluster_fault_is_not(tmp_path, plugins, poisoned_child):
    """p0 kills its workers and the driver host's process: quarantined (EDI008); p1
    kills its workers only: checked on the driver host, archived as one process
    would."""
    inputs = _batch_inputs()
    plugins(OnFile({"p0.edi", "p1.edi"}, "die"))
    poisoned_child("p0.edi")
    opts = options(tmp_path, history_key=new_key(tmp_path / "history.key"), dask="local:2")
    for name, data in inputs.items():
        drop(opts.inbox, name, data, age=HOUR)
    assert run_batch(opts) == 2  # the quarantine
    assert [p.name for p in opts.quarantine_dir.rglob("*.edi")] == ["p0.edi"]
    reason = next(opts.quarantine_dir.rglob("p0.edi.reason.txt")).read_text()
    assert "EDI008" in reason and "process of its own" in reason
    archived = sorted(p.name for p in opts.archive_dir.rglob("*.edi"))
    assert archived == sorted(set(inputs) - {"p0.edi"})
    assert list(opts.inbox.iterdir()) == []
    [summary] = summaries(opts.out)
    by_name = {f["name"]: f for f in summary["files"]}
    assert by_name["p1.edi"]["outcome"] == by_name["p2.edi"]["outcome"]


def test_batch_three_files_killing_workers_is_a_cluster_error(tmp_path, plugins):
    inputs = _batch_inputs()
    plugins(OnFile({"p0.edi", "p1.edi", "p2.edi"}, "die"))
    opts = options(tmp_path, history_key=new_key(tmp_path / "history.key"))
    for name, data in inputs.items():
        drop(opts.inbox, name, data, age=HOUR)
    assert run_batch(replace(opts, dask="local:2")) == 2
    assert not opts.quarantine_dir.exists() or not any(opts.quarantine_dir.rglob("*"))
    left = sorted(p.name for p in opts.inbox.iterdir())
    assert "p2.edi" in left  # the third fault stops the run: its file waits
    [summary] = summaries(opts.out)
    problems = " ".join(summary.get("problems", []))
    assert "cluster error" in problems and f"workers died on {faults.MAX_FAULTS} files" \
        in problems
    run_batch(opts)
    assert_consistent(opts, inputs)


# -- no worker ----------------------------------------------------------------------------------
def test_check_without_any_worker_stops_as_a_cluster_error(tmp_path, monkeypatch):
    monkeypatch.setattr(faults, "NO_WORKERS", 1.0)
    monkeypatch.setattr(faults, "POLL", 0.5)
    (tmp_path / "a.edi").write_bytes(generated("837P", claims=3, seed=1))
    with own_cluster(tmp_path / "cluster", workers=0) as real:
        status, output, _ = check([tmp_path / "a.edi"], "--dask", real.address,
                                  "--work-dir", str(tmp_path))
    assert status == 2
    assert f"cluster error at Dask scheduler {real.address}: no worker for 1 s" in output


# -- the driver host's child process ------------------------------------------------------------
def test_isolated_child_gives_the_result_or_the_exception_or_dies():
    assert isolated.run(bytes.fromhex, ("6869",), memory_limit=None) == b"hi"
    with pytest.raises(ValueError):
        isolated.run(bytes.fromhex, ("not hex",), memory_limit=None)
    # a worker's memory limit holds: 1 GiB of address space, 2 GiB asked
    with pytest.raises(isolated.ChildDied, match="out of memory"):
        isolated.run(bytearray, (2 << 30,), memory_limit=1 << 30)
    assert len(isolated.run(bytearray, (64 << 20,), memory_limit=1 << 30)) == 64 << 20
