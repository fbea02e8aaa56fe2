"""README "Cold start": the seeding commands, as the README gives them, work (trial
item 4: `-o /dev/null` exited 2, `archive/2026-*/` matched no archive folder, which
are named by run id, and a ledger that `check` created is refused by the batch)."""
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from batch_support import CLEAN, drop, edi, subprocess_env

README = Path(__file__).resolve().parents[2] / "README.md"
EDI837 = f"{shlex.quote(sys.executable)} -m edi837"


def cold_start_commands() -> list[str]:
    paragraph = README.read_text().split("**Cold start.**", 1)[1].split("\n\n", 1)[0]
    spans = re.findall(r"`([^`]+)`", paragraph.replace("\n", " "))
    return [span for span in spans if "edi837 " in span and "OUTDIR" in span]


def run(command: str, cwd: Path, **paths: Path) -> subprocess.CompletedProcess:
    for name, path in paths.items():
        command = command.replace(name, shlex.quote(str(path)))
    command = command.replace("edi837 ", f"{EDI837} ")
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=subprocess_env(),
                          capture_output=True, text=True)


def history_lines(store: Path) -> int:
    stats = subprocess.run([sys.executable, "-m", "edi837", "history", "stats", str(store)],
                           capture_output=True, text=True, env=subprocess_env(), check=True)
    return int(re.search(r": ([0-9,]+) drug lines?", stats.stdout).group(1).replace(",", ""))


def batch(inbox: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edi837", "batch", str(inbox), "--out", str(out),
                           "--settle", "0", "--format", "json"],
                          env=subprocess_env(), capture_output=True, text=True)


@pytest.mark.slow
def test_the_cold_start_commands_seed_the_batch_ledger_from_past_folders(tmp_path):
    past, out, inbox = tmp_path / "past", tmp_path / "out", tmp_path / "inbox"
    # two nights of past files, in dated folders; each a drug line of its own patient
    drop(past / "2026-11-30", "a.edi", edi(CLEAN, control="000000101"))
    drop(past / "2026-12-01", "b.edi", edi(CLEAN, control="000000102"))
    commands = cold_start_commands()
    assert len(commands) == 2, commands
    for command in commands:
        done = run(command, tmp_path, EMPTY=tmp_path / "empty", OUTDIR=out, PAST=past)
        assert done.returncode in (0, 1), (command, done.stderr)
    assert history_lines(out / "ledger.sqlite3") == 2

    # the batch takes the seeded ledger, and finds a past night's service billed again
    drop(inbox, "resent.edi", edi(CLEAN.replace("CLM*C1*", "CLM*C9*"), control="000000101"))
    assert batch(inbox, out).returncode == 1
    [report] = out.glob("*/files/resent.edi/report.json")
    found = {f["rule"] for f in json.loads(report.read_text())["files"][0]["findings"]}
    assert "HIS001" in found and "HIS003" not in found

    # the batch's own archive, named by run id, works as PAST too
    [seed] = [c for c in commands if "check --history" in c]
    again = run(seed.replace("PAST/*/", "OUTDIR/archive/*/"), tmp_path, OUTDIR=out)
    assert again.returncode in (0, 1), again.stderr
    assert history_lines(out / "ledger.sqlite3") == 2  # a file checked again replaces its lines
