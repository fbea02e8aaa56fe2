"""What the store tests (history and ledger under kills, concurrent writers and
hostile databases) share: `edi837` in processes of its own, killed for real.

Every input is synthetic (tests/history/test_history.py builds the claims).
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from batch_support import subprocess_env

EDI837 = [sys.executable, "-m", "edi837"]

# `edi837` itself, SIGKILLed by its own hand at a named batch checkpoint
# (edi837.batch.durable.checkpoint): the one kill point a test cannot time from outside
KILLED_AT = """
import os, signal, sys
from edi837.batch import durable
step = sys.argv.pop(1)
def checkpoint(name):
    if name == step:
        os.kill(os.getpid(), signal.SIGKILL)
durable.checkpoint = checkpoint
from edi837.cli import main
main(prog_name="edi837")
"""


# `edi837` paused at a named batch checkpoint, the first time it reaches it: it creates
# the file $PAUSED and goes on once the file $GO exists (the test's hand on the clock)
PAUSED_AT = """
import os, sys, time
from edi837.batch import durable
step = sys.argv.pop(1)
def checkpoint(name):
    if name == step and not os.path.exists(os.environ["PAUSED"]):
        open(os.environ["PAUSED"], "w").close()
        while not os.path.exists(os.environ["GO"]):
            time.sleep(0.05)
durable.checkpoint = checkpoint
from edi837.cli import main
main(prog_name="edi837")
"""


def paused_at(step: str, folder: Path, *args) -> subprocess.Popen:
    """`edi837 ARGS` in a process of its own that pauses at the batch checkpoint
    ``step``: ``folder / "PAUSED"`` appears then, and it goes on once the test
    creates ``folder / "GO"``."""
    env = {**subprocess_env(), "PAUSED": str(folder / "PAUSED"), "GO": str(folder / "GO")}
    return subprocess.Popen([sys.executable, "-c", PAUSED_AT, step, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def edi837(*args, cwd=None, timeout: float = 120, env=None) -> subprocess.CompletedProcess:
    """`edi837 ARGS` in a process of its own."""
    return subprocess.run([*EDI837, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env or subprocess_env())


def popen(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([*EDI837, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env(), **kwargs)


def killed_at(step: str, *args, timeout: float = 120) -> int:
    """`edi837 ARGS`, SIGKILLed when it reaches the batch checkpoint ``step``;
    returns the (negative) signal status."""
    process = subprocess.run([sys.executable, "-c", KILLED_AT, step, *map(str, args)],
                             capture_output=True, text=True, timeout=timeout,
                             env=subprocess_env())
    assert process.returncode == -signal.SIGKILL, (process.returncode, process.stderr)
    return process.returncode


def key_file(directory: Path) -> Path:
    path = directory / "history.key"
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path


def findings(report_path: Path) -> dict[str, list[tuple[str, str]]]:
    """(rule, claim id) of each file's findings in a JSON report, by file name."""
    report = json.loads(Path(report_path).read_text())
    return {Path(f["path"]).name: [(x["rule"], x.get("claim_id")) for x in f["findings"]]
            for f in report["files"]}


def history_rules(found: dict[str, list[tuple[str, str]]]) -> dict[str, list]:
    return {name: sorted(f for f in items if f[0].startswith(("HIS", "UNT", "DOC")))
            for name, items in found.items()}


def writer_to_fifo(fifo: Path, process: subprocess.Popen, timeout: float = 60) -> int:
    """Open ``fifo`` for writing once ``process`` has opened it for reading (it is
    then reading that file); fails if the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
    raise AssertionError(f"{fifo} never opened")


# -- a store its user cannot write ---------------------------------------------------------
NOBODY = 65534


def can_drop_privileges() -> bool:
    return os.geteuid() != 0 or shutil.which("setpriv") is not None


@contextmanager
def shared_folder():
    """A folder another (unprivileged) user can reach: pytest's are the owner's only."""
    path = Path(tempfile.mkdtemp(prefix="edi837-readonly-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        path.chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def as_unprivileged(*args, cwd: Path) -> subprocess.CompletedProcess:
    """`edi837 ARGS` as a user for whom read-only means read-only: root writes any
    file, so as root the process drops to ``nobody`` (setpriv)."""
    env = {**subprocess_env(), "HOME": str(cwd), "XDG_DATA_HOME": str(cwd / ".data")}
    env.pop("EDI837_REFDATA", None)
    argv = [*EDI837, *map(str, args)]
    if os.geteuid() == 0:
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def give_to_unprivileged(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            os.chown(path, NOBODY, NOBODY)


# -- the runs the SQLite and PostgreSQL store tests share ----------------------------------
def check_killed_reading(paths, store, key, report: Path) -> None:
    """`check PATHS --history STORE`, its last file given through a pipe: SIGKILLed
    while it reads that file (its other files done, nothing committed yet)."""
    *first, last = paths
    fifo = report.parent / "pipe" / last.name
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    process = popen("check", *first, fifo, "--history", store, "--history-key", key,
                    "--history-days", "0", "-o", report)
    handle = writer_to_fifo(fifo, process)
    try:
        os.write(handle, last.read_bytes()[:200])
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        os.close(handle)
    assert process.returncode == -signal.SIGKILL


def race_two_checks(folder: Path, store, key) -> list[tuple[str, str]]:
    """Two `check --history STORE` started together, each with a large file first
    (the store is opened, and was read, before either stores anything), then the
    same infusion under claim ids C1 and C7: the HIS001 findings of the two."""
    from batch_support import generated
    from test_history import claim, night, subscriber

    member = dict(member="SYNRACE00001", first="RACE")
    runs = []
    for n, claim_id in enumerate(("C1", "C7")):
        big = folder / f"big{n}.edi"
        big.write_bytes(generated(claims=3000, seed=n + 1))
        same = night(folder, f"same{n}.edi", subscriber(2, **member),
                     claim(claim_id, "20260115"))
        runs.append((big, same, folder / f"report{n}.json"))
    processes = [popen("check", big, same, "--history", store, "--history-key", key,
                       "--history-days", "0", "-o", report) for big, same, report in runs]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr
    return [(rule, claim_id) for _, same, report in runs
            for rule, claim_id in findings(report)[same.name] if rule == "HIS001"]


def checks_half_a_second_apart(folder: Path, store, key, baseline) -> tuple[Counter, Counter]:
    """Issue 26's measurement: `check --history STORE` of a large file (14 MB), and
    0.5 s later a second process with the same services resent under other claim ids
    (the first is still reading).  Returns the HIS001 findings of both together, and
    those of the same two files checked one after the other on ``baseline`` (a fresh
    store): which claims of which file, and how many times each."""
    from batch_support import generated

    first = folder / "first.edi"
    first.write_bytes(generated(claims=20000, seed=5))
    resent = folder / "resent.edi"
    resent.write_bytes(first.read_bytes().replace(b"CLM*", b"CLM*R"))

    def his001(report: Path) -> Counter:
        return Counter((name, claim) for name, found in findings(report).items()
                       for rule, claim in found if rule == "HIS001")

    expected: Counter = Counter()
    for n, path in enumerate((first, resent)):
        result = edi837("check", path, "--history", baseline, "--history-key", key,
                        "--history-days", "0", "-o", folder / f"sequence{n}.json",
                        timeout=300)
        assert result.returncode in (0, 1), result.stderr
        expected += his001(folder / f"sequence{n}.json")
    processes = []
    for n, path in enumerate((first, resent)):
        if processes:
            time.sleep(0.5)
            assert processes[0].poll() is None  # the first is still at work: they overlap
        processes.append(popen("check", path, "--history", store, "--history-key", key,
                               "--history-days", "0", "-o", folder / f"together{n}.json"))
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode in (0, 1), stderr
    return his001(folder / "together0.json") + his001(folder / "together1.json"), expected
