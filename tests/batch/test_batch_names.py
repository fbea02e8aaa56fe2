"""Names a sender may choose (issue #13, items 7 and 8, and escaping): bytes that
are not UTF-8, names as long as the file system allows, control characters and
bidi overrides.  None stops a batch; every log line shows them escaped."""
import errno
import json
import os
import re
from pathlib import Path

from batch_support import CLEAN, DEFECT, drop, edi, ledger, options, summaries
from click.testing import CliRunner

from edi837.batch import run_batch
from edi837.cli.batch import batch as batch_command

LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d (INFO|WARNING|ERROR) ")


def test_a_name_that_is_not_utf8_is_processed_stored_and_shown_escaped(tmp_path):
    opts = options(tmp_path)
    name = os.fsdecode(b"caf\xe9-\xff.edi")  # Latin-1 from a Windows sender, and a stray byte
    drop(opts.inbox, name, edi(DEFECT))
    drop(opts.inbox, "plain.edi", edi(CLEAN))
    log_file = tmp_path / "batch.log"
    argv = [str(opts.inbox), "--out", str(opts.out), "--log-file", str(log_file)]

    result = CliRunner().invoke(batch_command, argv)
    assert result.exit_code == 1, result.output  # NDC002 errors; no traceback, no crash
    rows = {r["name"]: r for r in ledger(opts.out)}
    assert rows[name]["outcome"] == "findings" and rows[name]["source"].endswith(name)
    assert Path(rows[name]["destination"]).read_bytes() == edi(DEFECT)
    assert (opts.out / rows[name]["run_id"] / "files" / name / "report.json").is_file()
    logged = log_file.read_text()
    assert r"caf\xe9-\xff.edi: findings" in logged
    [summary] = summaries(opts.out)
    entry = next(f for f in summary["files"] if f["name"] == r"caf\xe9-\xff.edi")
    assert entry["urls"] == ["files/caf%E9-%FF.edi/report.json"]

    assert CliRunner().invoke(batch_command, argv).exit_code == 0  # nothing new, no crash
    drop(opts.inbox, name, edi(DEFECT))  # the same content again: a duplicate of it
    assert CliRunner().invoke(batch_command, argv).exit_code == 0
    assert [r["outcome"] for r in ledger(opts.out)][-1] == "duplicate"


def test_a_quarantined_file_with_a_250_character_name(tmp_path):
    opts = options(tmp_path)
    long_names = ["x" * 245 + "1.edi", "x" * 245 + "2.edi"]  # alike but for the end
    for name in long_names:
        drop(opts.inbox, name, b"not an interchange " + name[-5:].encode())
    assert run_batch(opts) == 2
    rows = ledger(opts.out)
    assert [r["outcome"] for r in rows] == ["quarantined", "quarantined"]
    [quarantine] = (opts.out / "quarantine").iterdir()
    reasons = sorted(p for p in quarantine.iterdir() if p.name.endswith(".reason.txt"))
    assert len(reasons) == 2 and all(len(os.fsencode(p.name)) <= 255 for p in reasons)
    for row in rows:
        assert Path(row["destination"]).is_file()
    assert all("EDI001" in p.read_text() for p in reasons)
    assert run_batch(opts) == 0  # the next start recovers nothing and takes nothing


def test_a_long_name_archived_across_file_systems(tmp_path, monkeypatch):
    """An archive on another file system: the copy's temporary name must fit too."""
    opts = options(tmp_path)
    name = "y" * 250
    drop(opts.inbox, name, edi(CLEAN))
    rename = os.rename

    def across(source, target, *args, **kwargs):
        if Path(source).parent == opts.inbox:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return rename(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "rename", across)
    assert run_batch(opts) == 0
    [row] = ledger(opts.out)
    assert Path(row["destination"]).read_bytes() == edi(CLEAN)
    assert not (opts.inbox / name).exists()


def test_control_characters_and_bidi_overrides_in_names_are_escaped_in_every_line(tmp_path):
    inbox = tmp_path / "in\x1b[2Jbox"
    opts = options(tmp_path, inbox=inbox)
    names = ["ansi\x1b[31mred.edi", "two\nlines.edi", "bidi\u202etxt.exe.edi", "tab\there.edi"]
    for n, name in enumerate(names):
        drop(opts.inbox, name, edi(CLEAN, control=f"00000000{n + 1}"))
    drop(opts.inbox, "cut\rshort.edi", edi(CLEAN)[:300])  # quarantined: its lines too
    drop(opts.inbox, "late\x07.edi", edi(CLEAN), age=0)  # waiting: logged too
    os.symlink("/nowhere\x1b]0;title\x07", opts.inbox / "link\u202e.edi")  # skipped
    log_file = tmp_path / "batch.log"
    result = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                                "--settle", "60", "--log-file", str(log_file)])
    assert result.exit_code == 2, result.output
    for text in (result.output, log_file.read_text()):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", text)
        assert all(LOG_LINE.match(line) for line in text.splitlines()), text
        assert r"ansi\x1b[31mred.edi" in text and r"bidi\u202etxt.exe.edi" in text
    reason = next((opts.out / "quarantine").rglob("*.reason.txt")).read_text()
    assert r"cut\rshort.edi" in reason and "\x1b" not in reason
    [summary] = summaries(opts.out)
    page = (opts.out / summary["run"]["id"] / "summary.html").read_text()
    assert "\x1b" not in page and "\u202e" not in page
    json.loads((opts.out / summary["run"]["id"] / "summary.json").read_text())

    for entry in opts.inbox.iterdir():  # an empty inbox: the "nothing new" line names it
        entry.unlink()
    again = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.out)])
    assert again.exit_code == 0 and r"in\x1b[2Jbox: nothing new" in again.output
    assert "\x1b" not in again.output
