"""The benchmark's input files: the dense and sparse mixes, and a file of findings.

    python benchmarks/mixes.py dense|sparse|notes KIND SIZE_MB SEED OUT

* dense: `edi837 generate` as it is (about 75% drug claims, 5% defects);
* sparse: `edi837 generate --drug-share 0.02`, a clearinghouse's nightly mix
  (drug claims a few percent, most claims office visits and labs);
* notes: the dense mix without the service facility (2310C/2310E) and the
  ordering provider (2420E), as many senders leave them out: each drug claim
  then carries a DOC003 note and each drug line a DOC004 (837P) note, so the
  file has some 2,500 findings per MB; SE01 is counted again, so the file
  stays valid and the notes are the only findings added.

Used by benchmarks/run.py; standard library and edi837 only.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The segments left out of the notes file: NM1*77 and its N3/N4 (service facility),
# NM1*DK (ordering provider).
DROPPED = ("NM1*77*", "NM1*DK*")


def generate(mix: str, kind: str, size_mb: int, seed: int, out: Path,
             edi837: list[str], env: dict | None = None) -> Path:
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    options = ["--drug-share", "0.02"] if mix == "sparse" else []
    target = out.with_name(out.name + ".dense") if mix == "notes" else out
    subprocess.run(edi837 + ["generate", "--kind", kind, "--size", f"{size_mb}MB",
                             "--seed", str(seed), "-o", str(target), "--force", *options],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if mix == "notes":
        without_notes_providers(target, out)
        target.unlink()
    return out


def without_notes_providers(source: Path, target: Path) -> None:
    """Copy ``source`` without the segments in DROPPED (and an N3/N4 right after a
    dropped NM1), with SE01 counted again; one segment per line ("~\\n")."""
    tmp = target.with_name(target.name + ".tmp")
    with open(source, encoding="latin-1", newline="") as inp, \
            open(tmp, "w", encoding="latin-1", newline="") as out:
        kept: list[str] = []
        dropping = False
        for line in inp:
            segment = line.rstrip("\r\n")
            if segment.startswith(DROPPED):
                dropping = True
                continue
            if dropping and segment.startswith(("N3*", "N4*")):
                continue
            dropping = False
            if segment.startswith("ST*"):
                kept = [line]
                continue
            if kept:
                if segment.startswith("SE*"):
                    fields = segment.rstrip("~").split("*")
                    out.writelines(kept)
                    out.write(f"SE*{len(kept) + 1}*{fields[2]}~\n")
                    kept = []
                else:
                    kept.append(line)
                continue
            out.write(line)
    tmp.replace(target)


if __name__ == "__main__":
    mix_, kind_, size_, seed_, out_ = sys.argv[1:6]
    here = Path(__file__).resolve().parent
    generate(mix_, kind_, int(size_), int(seed_), Path(out_),
             [sys.executable, "-m", "edi837"])
