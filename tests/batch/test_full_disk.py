"""A full disk while an output is written (issue 24 item 15): the command ends
with a message naming the output and exit status 2, and no truncated file is
put in place of the output (an old one stays as it was); no temporary is left.

The disk fills after ``LIMIT`` bytes of the output: ``os.fdopen`` (what
``files.atomic_output`` writes through) gives a file whose writes then raise
OSError(ENOSPC), as a write or flush on a full file system does."""
import errno
import os
from pathlib import Path

import pytest
from batch_support import FullDisk
from click.testing import CliRunner

from edi837.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "837p-j2350-defects.edi"
LIMIT = 200


@pytest.fixture
def full_disk(monkeypatch):
    real = os.fdopen

    def fdopen(fd, *args, **kwargs):
        return FullDisk(real(fd, *args, **kwargs), LIMIT)

    monkeypatch.setattr(os, "fdopen", fdopen)


def left_over(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("args", [
    ["extract", str(SAMPLE)],
    ["extract", str(SAMPLE), "--format", "jsonl"],
    ["check", str(SAMPLE), "--format", "json"],
    ["check", str(SAMPLE), "--format", "csv"],
    ["generate", "--claims", "20", "--force"],
], ids=lambda a: "-".join(a[:1] + a[2:]))
@pytest.mark.parametrize("old", [False, True], ids=["new", "over an old file"])
def test_a_full_disk_never_puts_a_truncated_output_in_place(tmp_path, full_disk, args, old):
    target = tmp_path / "out.txt"
    if old:
        target.write_text("the old output\n")
    result = CliRunner().invoke(main, [*args, "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.output and str(target) in result.output
    assert "Traceback" not in result.output
    if old:
        assert target.read_text() == "the old output\n"
    else:
        assert not target.exists()
    assert left_over(tmp_path) == []


def _outputs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("args", [
    ["fix", str(SAMPLE), "--split", "--out-dir"],
    ["ack", str(SAMPLE), "--out-dir"],
    ["validate", str(SAMPLE), "--ack"],
    ["check", str(SAMPLE), "-o", "-", "--ack277"],
    ["generate", "--nights", "30", "--out-dir"],
], ids=lambda a: a[0] + ("-split" if "--split" in a else ""))
def test_a_full_disk_leaves_no_truncated_file_among_a_commands_outputs(
        tmp_path, full_disk, args):
    """Every output a command put in place is whole: written in full before the
    disk filled (re-read here), or not there at all."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [*args, str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "No space left on device" in result.output
    for path in _outputs(out) if out.exists() else []:
        assert path.stat().st_size <= LIMIT, path  # only files that fitted
        assert not path.name.endswith(".tmp"), path


def test_a_handover_file_on_a_full_disk_is_not_made_and_leaves_no_temporary(
        tmp_path, monkeypatch):
    """The workers' handover files (findings, claim records): the disk fills when the
    last buffer is flushed, and closing the abandoned file fails the same way;
    neither the file nor its temporary is left."""
    import builtins

    from edi837.history import handover

    class FullOnFlush:
        def __init__(self, handle) -> None:
            self._handle = handle

        def write(self, data):
            return len(data)  # buffered: the disk is full when it is flushed

        def fileno(self):
            return self._handle.fileno()

        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self._handle.close()
            raise OSError(errno.ENOSPC, "No space left on device")

    real_open = builtins.open
    monkeypatch.setattr(handover, "open", lambda path, mode="r", *a, **k: FullOnFlush(
        real_open(path, mode, *a, **k)) if "w" in mode else real_open(path, mode, *a, **k),
        raising=False)
    writer = handover.ChunkWriter(tmp_path / "unit.records", lambda item: item)
    writer.write(("a claim",))
    with pytest.raises(OSError):
        writer.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
