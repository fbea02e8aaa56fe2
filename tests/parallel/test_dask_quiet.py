"""Operator trial 7b, item 3: the Dask scheduler killed (SIGKILL) mid `check --dask` and
mid `batch --dask`: the driver's stderr holds edi837's one line ("cluster error ...
lost the connection to the scheduler"), not Dask's own `distributed.client - ERROR`
tracebacks (CancelledError, CommClosedError).  The driver runs as a process of its own
(Dask's loggers write to the real stderr), with a worker plugin, defined in the
driver's script, that kills the scheduler as a given file is checked."""
import re
import subprocess
import sys

import pytest
from batch_support import generated, subprocess_env

pytest.importorskip("distributed")

from dask_support import own_cluster

DRIVER = """
import os, signal, sys, time
import distributed

class KillScheduler(distributed.WorkerPlugin):
    def __init__(self, name, pid):
        self.name, self.pid = name, pid

    def setup(self, worker):
        from edi837.engine import Engine
        real, name, pid = Engine.check_file, self.name, self.pid

        def check_file(engine, path, **options):
            if os.path.basename(str(path)) == name:
                os.kill(pid, signal.SIGKILL)
                time.sleep(2)
            return real(engine, path, **options)
        Engine.check_file = check_file

from edi837.parallel import cluster
connect = cluster.connect

def connect_and_register(address, insecure):
    client, local = connect(address, insecure)
    client.register_plugin(KillScheduler(sys.argv[1], int(sys.argv[2])))
    return client, local

cluster.connect = connect_and_register
from edi837.entry import main
main(sys.argv[3:])
"""
OURS = re.compile(r"edi837: |\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* (INFO|WARNING|ERROR) ")


def driver(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", DRIVER, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=subprocess_env())


@pytest.mark.slow
@pytest.mark.parametrize("command", ["check", "batch"])
def test_a_killed_scheduler_is_one_line_without_dask_tracebacks(tmp_path, command):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n, name in enumerate(("a.edi", "b.edi", "c.edi", "d.edi")):
        (inbox / name).write_bytes(generated("837P", claims=4, seed=n))
    key = tmp_path / "history.key"
    key.write_text("ab" * 32 + "\n")
    key.chmod(0o600)
    with own_cluster(tmp_path / "cluster") as real:
        argv = {"check": ["check", "--dask", real.address, "-o", tmp_path / "r.json",
                          *sorted(inbox.iterdir())],
                "batch": ["batch", inbox, "--out", tmp_path / "out", "--settle", "0",
                          "--dask", real.address, "--history-key", key]}[command]
        result = driver("c.edi", real.scheduler.pid, *argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    err = result.stderr
    assert "lost the connection" in err and real.address in err, err
    # edi837's own lines only: its message (check), its log lines (batch)
    noise = [line for line in err.splitlines() if not OURS.match(line)]
    assert noise == [], err
    assert "distributed.client" not in err and "Traceback" not in err
    if command == "check":
        assert err.strip().count("\n") == 0, err  # one line
