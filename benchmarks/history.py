"""What the patient history costs `check` (issue #12: at most 15% on the dense file).

    python benchmarks/history.py                  # the 20 MB dense 837P file
    python benchmarks/history.py --size 100MB --repeat 3

Runs `Engine.check_file` in this process (the same work as `edi837 check`,
without start-up and report writing), CPU time (`time.process_time`), best of
--repeat, round-robin, on one generated dense file (about 75% drug claims):

  - without the history stage (no records made, no stage: the reference);
  - with the run's own history (what `check` does without --history);
  - with a lasting store (`check --history FILE`) that is empty;
  - with a lasting store that already holds the same file's population
    (another file of the same seed's members: every claim's patient is known,
    so every claim is judged against rows read from the store).

The share is (with - without) / without.  Results are printed and written to
benchmarks/results/history.md.  CPU time, not wall time: the machine this
ran on is shared, and the stage is single-threaded work in this process.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from edi837.drugs import load_drug_table  # noqa: E402
from edi837.engine import Engine  # noqa: E402
from edi837.generator import generate  # noqa: E402
from edi837.history import HistoryStore  # noqa: E402


class NoHistory:
    """Stands in for the stage: keys and begin/add/end that do nothing."""

    persistent = False
    hash_first = False

    def __init__(self) -> None:
        self.keys = lambda *a: b""
        self.keys.of_claim = lambda claim: b""

    def begin_file(self, sha256=None):
        pass

    def add(self, record):
        return []

    def add_claim(self, *claim):
        return []

    def end_file(self, sha256, **options):
        return []


def timed(run, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="20MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", help="an existing 837 file instead of a generated one "
                        "(results are then only printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edi837-history-bench-"))
    table = load_drug_table()
    if args.file:
        path = Path(args.file)
        claims = Engine(table).check_file(path, history=NoHistory()).claims
        stats = {"claims": claims, "drug_lines": "?"}
    else:
        size = int(float(args.size.upper().rstrip("MB")) * (1 << 20))
        path = work / "dense.edi"
        with open(path, "w", newline="") as out:
            stats = generate(out, "837P", size=size, seed=1)
    drug_claims = stats["drug_lines"]

    def without():
        result = Engine(table).check_file(path, history=NoHistory())
        assert result.claims == stats["claims"], "the run stopped early"

    def own():
        engine = Engine(table)
        engine.check_file(path)
        engine.close()

    key = secrets.token_bytes(32)

    def empty_store():
        store = HistoryStore.open(work / f"empty-{secrets.token_hex(4)}.sqlite3", key)
        Engine(table, history=store).check_file(path)
        store.close()

    warm = work / "warm.sqlite3"
    seeded = HistoryStore.open(warm, key)
    twin = work / "twin.edi"  # the same members, other claims: every patient is known
    twin.write_bytes(path.read_bytes().replace(b"CLM*", b"CLM*W"))
    Engine(table, history=seeded).check_file(twin)
    seeded.close()

    def warm_store():
        copy = work / f"warm-{secrets.token_hex(4)}.sqlite3"
        copy.write_bytes(warm.read_bytes())
        store = HistoryStore.open(copy, key)
        Engine(table, history=store).check_file(path)
        store.close()

    rows = {}
    for _ in range(args.repeat):  # round-robin: noise spreads over every variant
        for name, run in (("without the history stage", without), ("the run's own history", own),
                          ("--history, empty store", empty_store),
                          ("--history, every patient known", warm_store)):
            rows[name] = min(rows.get(name, float("inf")), timed(run, 1))
    base = rows["without the history stage"]
    what = path.name if args.file else f"{args.size} dense 837P"
    lines = [f"History cost on a {what} file ({stats['claims']} claims, "
             f"{drug_claims} drug lines); CPU seconds, best of {args.repeat}:", "",
             "| variant | seconds | vs. without |", "|---|---:|---:|"]
    for name, seconds in rows.items():
        lines.append(f"| {name} | {seconds:.2f} | {100 * (seconds - base) / base:+.0f}% |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.file:
        (HERE / "results").mkdir(exist_ok=True)
        out = HERE / "results" / "history.md"
        kept = out.read_text() if out.exists() else ""
        notes = kept[kept.index("\n## "):] if "\n## " in kept else ""  # hand-written
        out.write_text(text + notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
