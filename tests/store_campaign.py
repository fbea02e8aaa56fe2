"""A kill campaign on the stores (issue 24 items 1-2), run by hand (not by pytest):

    .venv/bin/python tests/store_campaign.py --out /tmp/store-campaign --seed 13

Generates a patient-history corpus (`edi837 generate --nights`), then, five
nights at a time, in processes of their own:

- `check --history` over the five nights, SIGKILLed after a random delay
  (up to three tries; a try that finishes is the run), on one store; the
  reference checks the same five nights once, uninterrupted, on another;
- `batch` of an inbox the five nights were dropped into, SIGKILLed the same
  way and restarted; the reference is an uninterrupted batch.

Every night's findings (rule, claim id, line) must be the reference's, or, for
a `check --history` killed after its commit (the run happened), what a second
uninterrupted run of the same nights says.  The
delays suit this machine's start-up time (about 0.35 s): --delay widens them.
Results on stdout; exit status 1 when a night differs.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
EDI837 = [sys.executable, "-m", "edi837"]
CHUNK = 5


def rules(report: Path) -> dict[str, list]:
    found = json.loads(report.read_text())
    return {Path(f["path"]).name: sorted((x["rule"], x.get("claim_id") or "",
                                          x.get("line_number") or 0) for x in f["findings"])
            for f in found["files"]}


def started(args: list) -> subprocess.Popen:
    return subprocess.Popen([*EDI837, *map(str, args)], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def finished(args: list) -> None:
    process = started(args)
    _, stderr = process.communicate()
    assert process.returncode in (0, 1), stderr


def killed(args: list, delay: float) -> bool:
    """Run ``args``, SIGKILLed after ``delay`` s unless finished; True if killed."""
    process = started(args)
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return True
    _, stderr = process.communicate()
    assert process.returncode in (0, 1), stderr
    return False


def drop(inbox: Path, night: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(night, inbox / night.name)
    old = time.time() - 3600
    os.utime(inbox / night.name, (old, old))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--nights", type=int, default=120)
    parser.add_argument("--delay", type=float, nargs=2, default=(0.25, 0.6))
    args = parser.parse_args()
    rng, work = random.Random(args.seed), args.out
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    key = work / "history.key"
    key.write_text(secrets.token_hex(32) + "\n")
    key.chmod(0o600)
    finished(["generate", "--nights", args.nights, "--out-dir", work / "corpus",
              "--seed", args.seed])
    nights = sorted((work / "corpus").glob("*.edi"))
    chunks = [nights[i:i + CHUNK] for i in range(0, len(nights), CHUNK)]
    common = ["--history-key", key, "--history-days", "0"]
    low, high = args.delay

    expected, got, kills, second_runs = {}, {}, 0, 0
    for n, chunk in enumerate(chunks):
        finished(["check", *chunk, "--history", work / "reference.sqlite3", *common,
                  "-o", work / f"reference-{n}.json"])
        expected.update(rules(work / f"reference-{n}.json"))
        report = work / f"killed-{n}.json"
        command = ["check", *chunk, "--history", work / "killed.sqlite3", *common, "-o", report]
        for _ in range(rng.choice([1, 1, 2, 3])):
            if not killed(command, rng.uniform(low, high)):
                break
            kills += 1
        else:
            finished(command)
        found = rules(report)
        if any(found.get(name) != expected[name] for name in found):
            # a try killed after its commit (writing its summary, exiting) has happened:
            # the rerun is a second run of the chunk, judged against the chunk's own later
            # nights; it must then be what a second uninterrupted run says
            twice = work / f"twice-{n}.sqlite3"
            with sqlite3.connect(work / "reference.sqlite3") as source, \
                    sqlite3.connect(twice) as copy:
                source.backup(copy)
            finished(["check", *chunk, "--history", twice, *common,
                      "-o", work / f"twice-{n}.json"])
            if rules(work / f"twice-{n}.json") == found:
                second_runs += 1
                found = {name: expected[name] for name in found}
        got.update(found)
    differ = sorted(name for name in expected if expected[name] != got.get(name))
    print(f"check --history: {len(expected)} nights, {kills} kills ({second_runs} after the "
          f"commit: the rerun was a second run), nights that differ: {differ or 'none'}")

    batch_kills = 0
    for chunk in chunks:
        for name in ("reference", "killed"):
            for night in chunk:
                drop(work / f"batch-{name}" / "inbox", night)
        for name in ("reference", "killed"):
            command = ["batch", work / f"batch-{name}" / "inbox", "--out",
                       work / f"batch-{name}" / "out", "--settle", "0", *common]
            if name == "killed":
                for _ in range(rng.choice([0, 1, 1, 2])):
                    batch_kills += killed(command, rng.uniform(low, 3 * high))
            finished(command)
    found = {name: {} for name in ("reference", "killed")}
    for name, nights_found in found.items():
        for report in (work / f"batch-{name}" / "out").rglob("report.json"):
            nights_found.update(rules(report))
    batch_differ = sorted(name for name in found["reference"]
                          if found["reference"][name] != found["killed"].get(name))
    print(f"batch: {len(found['reference'])} nights, {batch_kills} kills, nights that "
          f"differ: {batch_differ or 'none'}")
    return 1 if differ or batch_differ else 0


if __name__ == "__main__":
    sys.exit(main())
