"""Peak memory of `edi837 fix --split` as the input grows (issue #13, item 14).

    python benchmarks/fix_split.py                  # 10, 20, 60 and 100 MB 837P files
    python benchmarks/fix_split.py --sizes 10,100
    python benchmarks/fix_split.py --held 3000      # also a file of 3,000 claims, most held

Not a test: run by hand after a change to edi837/fix/.  Each run is a whole
process, measured like benchmarks/run.py does it (its helper reports the peak
RSS of that one process).  The target: under 64 MiB, and flat (within
RSS_GROWTH_MIB) from the smallest to the largest file.  Inputs are the
generated files of run.py in benchmarks/data/, reused when present.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from run import DATA, EDI837, ENV, SEED, count_claims, generate, run_once

LIMIT_MIB = 64
RSS_GROWTH_MIB = 10


def held_heavy(claims: int) -> Path:
    """A small file where most claims are held: the held report is the largest output."""
    path = DATA / f"837P-{claims}-claims-defects.edi"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(EDI837 + ["generate", "--kind", "837P", "--claims", str(claims),
                                 "--defect-rate", "1", "--seed", str(SEED), "-o", str(path)],
                       env=ENV, check=True, stdout=subprocess.DEVNULL)
    return path


def measure(path: Path) -> tuple[float, float, int, str]:
    with tempfile.TemporaryDirectory(prefix="edi837-fix-bench-") as out:
        return run_once(EDI837 + ["fix", str(path), "--out-dir", out, "--split"], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,20,60,100", help="MB, comma-separated")
    parser.add_argument("--held", type=int, default=0,
                        help="also a file of this many claims, every one with a defect")
    args = parser.parse_args()
    paths = [generate("837P", int(mb), SEED, DATA / f"837P-{int(mb)}MB.edi")
             for mb in args.sizes.split(",")]
    if args.held:
        paths.append(held_heavy(args.held))
    print(f"{'file':<34} {'MiB in':>7} {'claims':>8} {'seconds':>8} {'peak RSS':>9} exit")
    sized = []
    for path in paths:
        seconds, rss, status, first_error = measure(path)
        size = path.stat().st_size / (1 << 20)
        print(f"{path.name:<34} {size:>7.1f} {count_claims(path):>8} {seconds:>8.1f} "
              f"{rss:>6.1f} MiB {status}" + (f"  ({first_error})" if status > 1 else ""),
              flush=True)
        sized.append(rss)
    worst, growth = max(sized), max(sized) - min(sized)
    verdict = worst < LIMIT_MIB and growth <= RSS_GROWTH_MIB
    print(f"peak {worst:.1f} MiB (limit {LIMIT_MIB}), spread {growth:.1f} MiB "
          f"(limit {RSS_GROWTH_MIB}): {'ok' if verdict else 'NOT MET'}")
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
