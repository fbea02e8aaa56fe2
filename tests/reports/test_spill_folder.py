"""A store's spill files live in a folder of the process's own; a process killed with
SIGKILL leaves its folder behind, and the next process that spills removes it, never
the folder of a process still alive (edi837.spilldir)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edi837.spilldir import PREFIX

SPILL = """
import os, signal, sys, time
from edi837.findings import Finding
from edi837.store import FindingStore
store = FindingStore(limit=4)
store.extend(Finding("NDC001", "warning", "m", "f.edi", segment_index=i) for i in range(40))
assert store.spilled and len(list(store)) == 40
print("spilled", flush=True)
if sys.argv[1] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[1] == "wait":
    sys.stdin.readline()
"""


def _spill(folder: Path, how: str, **kwargs):
    env = {**os.environ, "TMPDIR": str(folder)}
    return subprocess.Popen([sys.executable, "-c", SPILL, how], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(PREFIX))


def test_a_killed_process_s_spill_folder_is_removed_by_the_next_spill_not_a_live_one(tmp_path):
    killed = _spill(tmp_path, "kill")
    out, err = killed.communicate(timeout=60)
    assert out == "spilled\n", err
    assert killed.returncode == -signal.SIGKILL
    [left] = _folders(tmp_path)  # SIGKILL: nothing could clean up
    assert any(p.name.startswith("edi837-findings-") for p in left.iterdir())

    alive = _spill(tmp_path, "wait", stdin=subprocess.PIPE)
    try:
        assert alive.stdout.readline() == "spilled\n"
        [live] = _folders(tmp_path)  # the dead one is gone, the live one is there
        assert live != left and not left.exists()
        # a third process, while the second lives: it sweeps nothing of the live one
        done = _spill(tmp_path, "exit")
        out, err = done.communicate(timeout=60)
        assert out == "spilled\n", err
        assert done.returncode == 0
        assert _folders(tmp_path) == [live]  # its own went at its exit, the live one stays
    finally:
        alive.communicate("\n", timeout=60)
    assert alive.returncode == 0
    deadline = time.monotonic() + 10
    while _folders(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _folders(tmp_path) == []  # a normal exit takes its folder with it
    assert list(tmp_path.iterdir()) == []
