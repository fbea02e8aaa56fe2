"""What the batch tests share: synthetic drop folders, and reading what a batch left.

Every input here is synthetic (edi837.generator, edi837.x12.fragment).
"""
import errno
import hashlib
import importlib.util
import json
import os
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

from edi837.batch import LEDGER_NAME, BatchOptions, iter_inputs
from edi837.generator import generate
from edi837.x12.fragment import wrap_claims

ROOT = Path(__file__).resolve().parent.parent

CLEAN = """
CLM*C1*9400***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RAY****XX*1234567893
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
LX*2
SV1*HC:96365*400*UN*1***1
DTP*472*D8*20260115
"""
DEFECT = CLEAN.replace("50242015001", "50242-150-01")  # NDC002, error (safe fix)
HOUR = 3600

has_fix = importlib.util.find_spec("edi837.fix") is not None
has_validate = importlib.util.find_spec("edi837.validate") is not None


# -- building drop folders ---------------------------------------------------------------------
def generated(kind: str = "837P", claims: int = 4, seed: int = 0) -> bytes:
    import io

    out = io.StringIO(newline="")
    generate(out, kind, claims=claims, seed=seed, defect_rate=0.0)
    return out.getvalue().encode()


def edi(fragment: str, control: str = "000000001") -> bytes:
    """An interchange of ``fragment``; each control number its own patient, so files
    made from one fragment are not duplicates of each other in the history."""
    return wrap_claims(fragment, control=control).replace(
        "SYN000000001", f"SYN{control}").encode()


def drop(inbox: Path, name: str, data: bytes, *, age: float = HOUR) -> Path:
    """Write a file as a finished upload: its mtime ``age`` seconds ago."""
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def options(tmp_path: Path, **overrides) -> BatchOptions:
    values = {"inbox": tmp_path / "inbox", "out": tmp_path / "out", "settle": 5.0}
    values.update(overrides)
    values["inbox"].mkdir(parents=True, exist_ok=True)
    return BatchOptions(**values)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ledger(out: Path) -> list[dict]:
    path = out / LEDGER_NAME
    return list(iter_inputs(path)) if path.exists() else []


def runs(out: Path) -> list[dict]:
    db = sqlite3.connect(out / LEDGER_NAME)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM runs ORDER BY run_id")]
    finally:
        db.close()


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and p.name[:1].isdigit())


def summaries(out: Path) -> list[dict]:
    return [json.loads((d / "summary.json").read_text()) for d in run_dirs(out)]


def by_name(summary: dict) -> dict[str, dict]:
    return {f["name"]: f for f in summary["files"]}


def stored(*roots: Path) -> Counter:
    """(name, content hash) of the inputs kept in archive/quarantine folders (ROOT/<run>/name)."""
    return Counter((p.relative_to(root).as_posix().split("/", 1)[1], sha(p.read_bytes()))
                   for root in roots if root.exists() for p in root.rglob("*")
                   if p.is_file() and not p.name.endswith(".reason.txt"))


def assert_consistent(opts: BatchOptions, inputs: dict[str, bytes]) -> None:
    """The crash-safety promise: every input processed exactly once, every output
    complete, no input lost."""
    out = opts.out
    rows = ledger(out)
    assert all(r["state"] == "done" for r in rows), rows
    assert all(r["state"] in ("finished", "stopped", "interrupted") for r in runs(out))
    checked = Counter(r["sha256"] for r in rows if r["outcome"] != "duplicate")
    kept = stored(opts.archive_dir, opts.quarantine_dir)
    for name, data in inputs.items():  # copies of one content are checked once, kept each
        assert checked[sha(data)] == 1, f"{name} checked {checked[sha(data)]} times"
        assert kept[name, sha(data)] == 1, f"{name} kept {kept[name, sha(data)]} times"
    assert sum(checked.values()) == len({sha(data) for data in inputs.values()})
    assert sum(kept.values()) == len(inputs) == len(rows)
    assert not [p for p in opts.inbox.rglob("*") if p.is_file()], "input left in the inbox"
    assert not [p for p in out.rglob("*.tmp")], "temporary file left"
    # one complete report per input, in the run that recorded it, and nowhere else
    reports = sorted(p.relative_to(out) for p in out.rglob("report.json"))
    expected = sorted(Path(r["run_id"]) / "files" / r["name"] / "report.json"
                      for r in rows if r["outcome"] != "duplicate")
    assert reports == expected
    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    for directory in run_dirs(out):
        summary = json.loads((directory / "summary.json").read_text())
        listed = sorted(f["name"] for f in summary["files"])
        assert listed == sorted(r["name"] for r in rows if r["run_id"] == directory.name)
        assert (directory / "summary.html").read_text().rstrip().endswith("</html>")


# -- running the command in a process of its own -----------------------------------------------
def batch_argv() -> list[str]:
    """`python -m edi837 batch` once the command is registered, else the command itself."""
    from edi837.cli import main

    if main.get_command(None, "batch") is not None:
        return [sys.executable, "-m", "edi837", "batch"]
    return [sys.executable, "-c", "from edi837.cli.batch import batch; "
                                  "batch(prog_name='edi837 batch')"]


def subprocess_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def wait_for(predicate, timeout: float = 20.0, step: float = 0.01) -> bool:
    """Poll ``predicate`` until true; a predicate that walks folders a running batch is
    changing (``out.rglob``: a work folder removed mid-walk) just asks again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except FileNotFoundError:
            pass
        time.sleep(step)
    return False


def unprivileged(argv: list[str]) -> list[str]:
    """``argv`` run so that file permissions count: as root, with the capabilities that
    override them dropped (setpriv), as an operator's chmod would be met; a test needing
    this fails (never skips) on a root machine without setpriv."""
    import shutil

    import pytest

    if os.geteuid() != 0:
        return argv
    if shutil.which("setpriv") is None:
        pytest.fail("running as root without setpriv: permissions cannot be made to count")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *argv]


def new_key(path: Path) -> Path:
    """A history key file at ``path`` (made if missing): only the default key is made
    by edi837 itself; a key named with --history-key must exist."""
    import secrets

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    return path


class FullDisk:
    """A file object whose writes fail as on a full file system, once ``limit`` bytes
    are written (0: the first write fails)."""

    def __init__(self, handle, limit: int = 0) -> None:
        self._handle = handle
        self._limit = limit
        self._written = 0

    def write(self, data):
        self._written += len(data)
        if self._written > self._limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


def killed_in_fork(opts: BatchOptions, at) -> int:
    """Run the batch in a forked child that SIGKILLs itself at the first checkpoint
    whose name ``at(name)`` is true for; the child's wait status.  A child that failed
    otherwise (an exception) fails the test."""
    import signal

    from edi837.batch import durable, run_batch

    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            def checkpoint(name):
                if at(name):
                    os.kill(os.getpid(), signal.SIGKILL)

            durable.checkpoint = checkpoint
            run_batch(opts)
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3), "child failed"
    return status
