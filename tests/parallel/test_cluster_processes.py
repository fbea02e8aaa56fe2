"""`--dask` on real `dask scheduler` and `dask worker` processes that share no folder
with the driver (issue 26): each worker runs in a folder of its own, in a mount
namespace of its own where the driver's folders (OUTDIR, work folders) are an empty
tmpfs, so a task that needed them would fail.  The workers reach only the inputs.

* check and batch give the one-process outputs (reports compared byte for byte,
  times aside), a large file checked in pieces cut by a worker;
* nothing is written into a worker's folder;
* a worker that cannot see an input (another tmpfs over it): exit 2, naming the file
  and the worker; batch quarantines nothing and leaves the file for the next run.

Linux only (``unshare --mount``, as root, as CI runs); slow (two schedulers and three
workers for the session, started by tests/dask_support.py).
"""
import contextlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed")

from batch_support import DEFECT, HOUR, drop, edi, generated, ledger, new_key, options  # noqa: E402
from dask_support import own_cluster  # noqa: E402
from test_parallel_dask import assert_same_outputs, check_reports, without_times  # noqa: E402

from edi837.batch import run_batch  # noqa: E402
from edi837.batch.ledger import WORK_DIR  # noqa: E402
from edi837.cli import main  # noqa: E402
from edi837.parallel import check as parallel_check  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def processes(tmp_path_factory):
    """Two clusters (tests/dask_support.py's, workers added here): ``seeing`` (two
    workers that see the inputs) and ``blind`` (one worker that sees neither the
    driver's folders nor ``hidden``).  Not the session's ``dask_cluster``: these
    workers need mount namespaces of their own."""
    if not _can_unshare():
        pytest.skip("needs unshare --mount and tmpfs (Linux, as root)")
    root = tmp_path_factory.mktemp("cluster")
    private, inputs, hidden = root / "private", root / "inputs", root / "hidden"
    for folder in (private, inputs, hidden):
        folder.mkdir()
    with contextlib.ExitStack() as stack:
        seeing = stack.enter_context(own_cluster(root / "seeing", workers=0))
        blind = stack.enter_context(own_cluster(root / "blind", workers=0))
        folders = [seeing.add_worker(f"w{n}", [private], scratch=root / "scratch" / f"w{n}")
                   for n in (1, 2)]
        blind.add_worker("blind", [private, hidden], scratch=root / "scratch" / "blind")
        seeing.wait_for_workers(2)
        blind.wait_for_workers(1)
        yield {"seeing": seeing.address, "blind": blind.address, "private": private,
               "inputs": inputs, "hidden": hidden, "folders": folders}


def _place(folder: Path, test: str) -> Path:
    place = folder / test
    place.mkdir()
    return place


def _assert_worker_folders_empty(processes) -> None:
    for folder in processes["folders"]:
        assert list(folder.iterdir()) == [], folder  # no handover file, no report


# -- check --------------------------------------------------------------------------------
def test_check_on_worker_processes_gives_the_one_process_reports(processes, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 30_000)
    inputs = _place(processes["inputs"], "check")
    big = inputs / "big.edi"
    big.write_bytes(generated("837P", claims=200, seed=3))
    small = inputs / "defects.edi"
    small.write_bytes((ROOT / "samples/837p-j2350-defects.edi").read_bytes())
    truncated = inputs / "truncated.edi"
    truncated.write_bytes((ROOT / "tests/data/malformed/truncated.edi").read_bytes())
    paths = [big, small, truncated, small]
    monkeypatch.chdir(_place(processes["private"], "check"))  # the driver's folder
    one = check_reports(tmp_path, "one", paths)
    dask = check_reports(tmp_path, "dask", paths, "--dask", processes["seeing"])
    assert dask == one
    assert one[0] == 2 and '"path": "%s"' % big in one[1][0]
    _assert_worker_folders_empty(processes)


def test_check_a_worker_that_cannot_see_an_input_exit_2_naming_it(processes, tmp_path):
    hidden = _place(processes["hidden"], "check")
    path = hidden / "only-here.edi"
    path.write_bytes(generated("837P", claims=4, seed=1))
    result = CliRunner().invoke(main, ["check", str(path), "-o", str(tmp_path / "r.json"),
                                       "--dask", processes["blind"]])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert str(path) in message and "blind" in message  # the file and the worker
    assert "No such file" in message
    assert "changed" not in message and "Traceback" not in result.output


# -- batch --------------------------------------------------------------------------------
def _night() -> dict[str, bytes]:
    files = {f"p{n}.edi": generated("837P", claims=6, seed=n) for n in range(3)}
    files["i0.edi"] = generated("837I", claims=6, seed=9)
    files["defect.edi"] = edi(DEFECT)
    files["again.edi"] = files["p1.edi"]  # a duplicate of content in this run
    files["truncated.edi"] = generated("837P", claims=3, seed=5)[:700]
    files["big.edi"] = generated("837P", claims=250, seed=11)
    return files


def _batch(inbox: Path, out: Path, files: dict, **overrides) -> tuple[int, dict, list]:
    opts = options(out, inbox=inbox, out=out, formats=("json", "html", "csv"),
                   history_key=new_key(out.parent / "history.key"), fix=True, ack277=True,
                   **overrides)
    for name, data in files.items():  # the same inbox path: reports name their input
        drop(opts.inbox, name, data, age=HOUR)
    status = run_batch(opts)
    [run_dir] = [d for d in opts.out.iterdir() if d.name[:1].isdigit()]
    assert not (run_dir / WORK_DIR).exists()
    found = {}
    for path in sorted(run_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            try:
                text = data.decode()
            except UnicodeDecodeError:
                found[str(path.relative_to(run_dir))] = data
                continue
            if path.suffix in (".999", ".277"):  # dates, times and control numbers (a
                # counter that goes on from run to run): the envelopes and trace numbers
                text = re.sub(r"(?m)^(ISA|IEA|GS|GE|ST|SE|BHT|TRN|REF\*D9|DTP)\*.*$",
                              lambda m: re.sub(r"\d+", "N", m.group()), text)
            found[str(path.relative_to(run_dir))] = without_times(text, run_dir.name,
                                                                  str(opts.out))
    archived = sorted(p.name for p in (opts.out / "archive").rglob("*") if p.is_file())
    return status, found, archived


def test_batch_on_worker_processes_writes_the_one_process_outputs(processes, monkeypatch):
    from edi837.parallel import batch_pieces

    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 30_000)  # big.edi in pieces
    split_job, cut = batch_pieces.split_job, {}

    def recording(job, submit, piece_size):
        split = split_job(job, submit, piece_size)
        cut[Path(job.path).name] = split
        return split

    monkeypatch.setattr(batch_pieces, "split_job", recording)
    inbox = _place(processes["inputs"], "batch")
    private = _place(processes["private"], "batch")
    files = _night()
    one = _batch(inbox, private / "one", files)
    dask = _batch(inbox, private / "dask", files, dask=processes["seeing"])
    assert_same_outputs(dask, one)
    assert one[0] == 2 and "truncated.edi" not in one[2]
    assert len(cut["big.edi"].units) > 3  # cut by a worker, checked in pieces
    assert "files/big.edi/report.json" in dask[1] and "files/p0.edi/report.html" in dask[1]
    _assert_worker_folders_empty(processes)


def test_batch_a_worker_that_cannot_see_the_inbox_leaves_the_file_there(processes, caplog):
    inbox = _place(processes["hidden"], "batch")
    out = _place(processes["private"], "blind") / "out"
    data = generated("837P", claims=4, seed=2)
    opts = options(out, inbox=inbox, out=out, history_key=new_key(out.parent / "history.key"),
                   dask=processes["blind"])
    drop(inbox, "night.edi", data, age=HOUR)
    assert run_batch(opts) == 2
    assert [p.name for p in inbox.iterdir()] == ["night.edi"]  # left in the inbox
    assert not (out / "quarantine").exists() or not any((out / "quarantine").rglob("*.edi"))
    assert ledger(out) == []  # no row: the next run takes it
    said = " ".join(caplog.text.split())
    assert "night.edi" in said and "blind" in said and "cannot read this input" in said
    assert "changed while being checked" not in said
    # the next run, on workers that see it, takes it
    assert run_batch(options(out, inbox=inbox, out=out, history_key=opts.history_key,
                             dask=processes["seeing"])) == 0
    assert list(inbox.iterdir()) == [] and [r["name"] for r in ledger(out)] == ["night.edi"]
