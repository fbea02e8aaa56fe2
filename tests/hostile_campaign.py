"""The hostile campaign of issue #13, run by hand (not by pytest: it takes a while).

    .venv/bin/python tests/hostile_campaign.py --files 2400 --out /tmp/campaign
    .venv/bin/python tests/hostile_campaign.py --files 600 --large 8 --seed 14 --out /tmp/c2

(2 cores: about 0.9 s a file with --jobs 2; the first took 36 minutes.)

Makes FILES inputs (the hostile corpus, generated 837P/837I files of many
shapes, and generated files mutated the way tests/hostile/test_properties.py mutates
them, from a fixed seed), plus --large files of 16-40 MB (long padding, a
large generated file), and runs every command on them as child processes,
each with a timeout (a hang) and its peak memory measured:

- `check --format json` (JSON against schemas/report.schema.json), and
  `check -o` with every other format (.txt .html .csv .xml .annotated.txt):
  the same exit status, XML against schemas/report.xsd, CSV cells that a
  spreadsheet would run escaped, no raw U+202E in the text and HTML reports;
- `extract --format jsonl` (rows = check's drug lines), `extract --format csv`
  for a share of the files;
- `fix --split` (corrected file and accepted + held read back with every
  claim check read);
- `validate --format json` on the small files, a share of them, and for those
  `ack`: every 999 and 277CA it writes must pass pyx12 (issue 24 item 7);
- `batch --jobs 1` and `--jobs 2` on inboxes of these files (every file
  archived or quarantined, nothing lost, the same outcome per file with both);
- `check --history` across "nights" of the same patients' files;
- `check --jobs`'s pieces (issue 24 item 5), in this process: small files cut
  before every CLM and HL, the driver's read in chunks that end at random
  places (after a segment, inside one), against the whole file's reports.

A finding is a traceback, a hang, an exit status outside 0/1/2, a report
that does not parse or match its schema, a lost claim, peak memory over
64 MiB, or a known bug again (counted apart).  Also listed, to triage by
hand: files that check calls readable although it read fewer claims than
the file has CLM segments.  Results go to OUT/findings.json and a summary
on stdout; the inputs of every finding stay in OUT/inputs/.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hostile_corpus  # noqa: E402
import hostile_run  # noqa: E402
from test_properties import TOKENS, mutate  # noqa: E402

from edi837.generator import generate  # noqa: E402

LIMIT_KIB = 64 * 1024
TIMEOUT = 120.0


# -- inputs -------------------------------------------------------------------------------
def generated(kind: str, claims: int, seed: int, defect_rate: float, per_st: int,
              terminator: str = "~", newline: str = "\n") -> bytes:
    out = io.StringIO(newline="")
    generate(out, kind, claims=claims, seed=seed, defect_rate=defect_rate,
             claims_per_st=per_st, terminator=terminator, newline=newline)
    return out.getvalue().encode("latin-1")


def random_edit(rng: random.Random, size: int, segments: int):
    kind = rng.choice(["flip", "delete", "duplicate", "swap", "delimiter", "truncate", "pad",
                       "insert", "delete-bytes"])
    position = rng.randrange(max(size, 1))
    if kind == "flip":
        return kind, position, rng.randrange(256)
    if kind in ("delete", "duplicate"):
        return kind, rng.randrange(segments)
    if kind == "swap":
        return kind, rng.randrange(segments), rng.randrange(segments)
    if kind == "delimiter":
        return (kind, rng.choice([b"*", b":", b"~", b"^"]),
                rng.choice([b"|", b"!", b"~", b"*", b":", b"\n", b"A", b" ", b"^"]),
                rng.random() < 0.5)
    if kind == "truncate":
        return kind, position
    if kind == "pad":
        return (kind, rng.choice(["end", "segment"]),
                rng.choice([b"\x00", b"\n", b"\r\n", b" ", b"\x1a", b"~"]),
                rng.randint(1, 1 << rng.randint(0, 16)), rng.randrange(segments))
    if kind == "insert":
        return kind, position, rng.choice(TOKENS)
    return kind, position, rng.randint(1, 200)


def large_inputs(count: int, folder: Path, seed: int) -> list[Path]:
    """Files of tens of MB: long padding between or after interchanges, long
    blank runs between segments, a large generated file (memory and hangs)."""
    rng = random.Random(seed)
    paths = []
    for n in range(count):
        base = generated(rng.choice(["837P", "837I"]), rng.randint(2, 20), rng.randrange(10**6),
                         0.3, 500)
        path = folder / f"large-{n:03d}.edi"
        shape = n % 4
        with open(path, "wb") as out:
            filler = rng.choice([b"\x00", b"\n", b"\r\n", b" ", b"\x1a"])
            padding = [filler * (1 << 20)] * rng.randint(16, 40)
            if shape == 3:  # a large generated file, 20-40 MB
                text = io.TextIOWrapper(out, encoding="latin-1", newline="")
                generate(text, rng.choice(["837P", "837I"]), size=rng.randint(20, 40) << 20,
                         seed=rng.randrange(10**6), defect_rate=0.05)
                text.flush()
                text.detach()
            elif shape == 2:  # blank lines between two segments
                cut = base.index(b"~\n", len(base) // 2) + 2
                out.writelines([base[:cut], *padding, base[cut:]])
            elif shape == 1:  # after the last interchange
                out.writelines([base, *padding])
            else:  # between two interchanges
                out.writelines([base, *padding, base])
        paths.append(path)
    return paths


def inputs(count: int, folder: Path, seed: int) -> list[Path]:
    """The corpus, then generated files, then mutations of generated files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = hostile_corpus.build(folder / "corpus")
    bases = []
    shapes = 0
    while len(paths) < count:
        n = len(paths)
        if shapes < count // 8:  # a share of plain generated files of many shapes
            shapes += 1
            kind = rng.choice(["837P", "837I"])
            shape = (kind, rng.randint(1, 60), rng.randrange(10**6),
                     rng.choice([0, 0.05, 0.5, 1]), rng.choice([1, 3, 500]))
            try:
                data = generated(*shape, rng.choice(["~", "~", "'", "\n"]),
                                 rng.choice(["\n", "\r\n", ""]))
            except ValueError:  # a terminator and line break the generator refuses
                data = generated(*shape)
            bases.append(data)
            path = folder / f"gen-{n:05d}.edi"
        else:
            base = rng.choice(bases) if bases and rng.random() < 0.5 else \
                generated(rng.choice(["837P", "837I"]), rng.randint(1, 12),
                          rng.randrange(10**6), 0.5, rng.choice([2, 500]))
            data = base
            for _ in range(rng.randint(1, 5)):
                data = mutate(data, [random_edit(rng, len(data), data.count(b"~\n") + 1)])
            path = folder / f"mut-{n:05d}.edi"
        path.write_bytes(data)
        paths.append(path)
    return paths


# -- one file -------------------------------------------------------------------------------
def clm_segments(data: bytes) -> int:
    """CLM segments in the file, whatever its delimiters (a rough count)."""
    utf16 = data[1:2] == b"\x00" or data[:2] in (b"\xff\xfe", b"\xfe\xff")
    return _count_clm(data.decode("utf-16", "replace") if utf16 else data.decode("latin-1"))


def _count_clm(text: str) -> int:
    """CLM segments: "CLM" after a segment terminator (the ISA's) or a line break,
    followed by a character that is not a letter or digit (an element separator)."""
    isa = text.find("ISA")
    terminators = {"\n", "\r", "~"}
    if isa >= 0 and len(text) > isa + 105:
        terminators.add(text[isa + 105])
    count = 0
    start = 0
    while True:
        i = text.find("CLM", start)
        if i < 0:
            return count
        before = text[:i].rstrip(" \t")[-1:]
        after = text[i + 3:i + 4]
        if (not before or before in terminators) and after and not after.isalnum():
            count += 1
        start = i + 3


def child(args: list[str], work: Path) -> hostile_run.Run:
    return hostile_run.run_child(args, timeout=TIMEOUT, cwd=str(work))


def one_file(path: Path, work: Path, rng: random.Random) -> dict:
    """Every command on one file: what was found, the peak memory of each."""
    record = {"file": str(path), "size": path.stat().st_size, "runs": 0, "problems": [],
              "known": [], "suspect": [], "max_rss_kib": {}}
    runs: list[hostile_run.Run] = []

    def run(args):
        r = child(args, work)
        runs.append(r)
        return r

    commands = ["check", "extract", "fix"]
    if record["size"] < 20_000 and rng.random() < 0.2:
        commands.append("validate")
    found, problems = hostile_run.outcome(path, commands, run=run, work=work, one_check=True,
                                          extract_csv=False)
    if rng.random() < 0.25:
        r = child(["extract", "--format", "csv", str(path)], work)
        runs.append(r)
        problems += hostile_run._basic_problems(r, "extract-csv")
        problems += hostile_run.csv_problems(r.stdout, "extract-csv")
    for r in runs:
        record["runs"] += 1
        name = "extract-csv" if r.args[:3] == ["extract", "--format", "csv"] else \
            "check -o" if r.args[:2] == ["check", "-o"] else r.args[0]
        record["max_rss_kib"][name] = max(record["max_rss_kib"].get(name, 0), r.max_rss_kib)
        if r.max_rss_kib > LIMIT_KIB:
            problems.append(f"{name}: peak memory {r.max_rss_kib // 1024} MiB")
    if "validate" in commands:
        problems += acknowledgment_problems(path, work, run)
    data = path.read_bytes()
    for p in problems:
        bug = hostile_run.known_bug(found, p, data)
        (record["known"] if bug else record["problems"]).append(bug or p)
    check = found.get("check", {})
    if check.get("status") in ("ok", "findings"):
        clm = clm_segments(path.read_bytes())
        if clm > check.get("claims", 0):
            record["suspect"].append(f"check reads {check.get('claims')} claims of "
                                     f"{clm} CLM segments, status {check['status']}, "
                                     f"codes {check.get('codes')}")
    record["outcome"] = found
    return record


def acknowledgment_problems(path: Path, work: Path, run) -> list[str]:
    """`ack` on the file: every 999 and 277CA it writes is valid by pyx12's verdict
    (a 999 echoes the input's bad values: they must be cleaned to the guide's types and
    lengths), and it ends with 0, 1 or 2 without a traceback."""
    from pyx12check import pyx12_verdict

    folder = work / f"acks-{path.stem}-{random.getrandbits(32):08x}"
    r = run(["ack", str(path), "--out-dir", str(folder)])
    problems = hostile_run._basic_problems(r, "ack")
    for written in sorted(folder.glob("*")) if folder.is_dir() else ():
        if written.suffix in (".999", ".277"):
            ok, why = pyx12_verdict(written)
            if not ok:
                problems.append(f"ack: {written.suffix[1:]} rejected by pyx12: {why[:300]}")
    return problems


# -- batch and history ----------------------------------------------------------------------
ODD_NAMES = ["", "\udce9t\udce9-", "\x1b[31m-", "\u202e-", "line\nbreak-", " spaced ",
             "\u5c71\u7530-", "=cmd()-"]


def inbox_name(i: int, path: Path) -> str:
    """A file's name in a batch inbox: some are not UTF-8 (latin-1 bytes, read
    back as surrogates), hold control characters, U+202E, line breaks..."""
    return f"{i:03d}-{ODD_NAMES[i % len(ODD_NAMES)]}{path.name}"


def batch_round(files: list[Path], work: Path, number: int) -> dict:
    """The same inbox with --jobs 1 and --jobs 2: nothing lost, the same outcomes."""
    result = {"inbox": number, "files": len(files), "problems": [], "runs": 0,
              "max_rss_kib": 0}
    outcomes = {}
    for jobs in (1, 2):
        inbox, out = work / f"inbox-{number}-{jobs}", work / f"out-{number}-{jobs}"
        inbox.mkdir(parents=True)
        for i, path in enumerate(files):
            shutil.copyfile(path, inbox / inbox_name(i, path))
        env = dict(os.environ, XDG_DATA_HOME=str(work / f"xdg-{number}-{jobs}"))
        r = hostile_run.run_child(["batch", str(inbox), "--out", str(out), "--settle", "0",
                                   "--jobs", str(jobs), "--split", "--format",
                                   "json,html,csv,xml,text,annotated"],
                                  timeout=TIMEOUT * 4, env=env, cwd=str(work))
        result["runs"] += 1
        result["max_rss_kib"] = max(result["max_rss_kib"], r.max_rss_kib)
        result["problems"] += hostile_run._basic_problems(r, f"batch --jobs {jobs}")
        if "Traceback" in r.stderr and not r.traceback:
            result["problems"].append(f"batch --jobs {jobs}: a traceback in its log")
        left = sorted(p.name for p in inbox.iterdir())
        if left:
            result["problems"].append(f"batch --jobs {jobs}: left in the inbox: {left[:5]}")
        taken = sorted(p.name for p in (out / "archive").rglob("*") if p.is_file()) + sorted(
            p.name for p in (out / "quarantine").rglob("*")
            if p.is_file() and not p.name.endswith(".reason.txt"))
        names = [inbox_name(i, p) for i, p in enumerate(files)]
        if sorted(taken) != sorted(names):
            missing = set(names) - set(taken)
            result["problems"].append(f"batch --jobs {jobs}: not archived or quarantined: "
                                      f"{sorted(missing)[:5]}")
        summaries = list(out.glob("*/summary.json"))
        if summaries:
            summary = json.loads(summaries[0].read_text())
            outcomes[jobs] = _batch_outcomes(summary)
        elif not r.hung:
            result["problems"].append(f"batch --jobs {jobs}: no summary.json")
        result[f"exit_jobs_{jobs}"] = r.exit
        shutil.rmtree(inbox, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    if len(outcomes) == 2 and outcomes[1] != outcomes[2]:
        diff = [k for k in outcomes[1] if outcomes[1].get(k) != outcomes[2].get(k)]
        result["problems"].append(f"batch: --jobs 1 and --jobs 2 differ on {diff[:5]}")
    if result.get("exit_jobs_1") != result.get("exit_jobs_2"):
        result["problems"].append(f"batch: exit {result.get('exit_jobs_1')} with --jobs 1, "
                                  f"{result.get('exit_jobs_2')} with --jobs 2")
    return result


def _batch_outcomes(summary: dict) -> dict:
    files = summary.get("files", [])
    out = {}
    for entry in files:
        name = entry.get("name") or entry.get("path") or json.dumps(entry)[:80]
        out[str(name)] = json.dumps({k: v for k, v in entry.items()
                                     if k in ("outcome", "state", "claims", "errors", "rules",
                                              "warnings", "drug_lines", "problem")},
                                    sort_keys=True)
    return out


def history_round(nights: list[Path], work: Path, number: int) -> dict:
    """`check --history` night after night: each night read whole, no traceback."""
    result = {"history": number, "nights": len(nights), "problems": [], "runs": 0,
              "max_rss_kib": 0}
    from batch_support import new_key

    store, key = work / f"history-{number}.sqlite3", new_key(work / f"history-{number}.key")
    for night in nights:
        r = hostile_run.run_child(["check", "--format", "json", "--history", str(store),
                                   "--history-key", str(key), str(night)],
                                  timeout=TIMEOUT, cwd=str(work))
        result["runs"] += 1
        result["max_rss_kib"] = max(result["max_rss_kib"], r.max_rss_kib)
        result["problems"] += hostile_run._basic_problems(r, "check --history")
        if r.max_rss_kib > LIMIT_KIB:
            result["problems"].append(f"check --history: peak memory {r.max_rss_kib // 1024} MiB")
        if not r.traceback and not r.hung:
            hostile_run._report(r, "check --history", result["problems"])
    return result


# -- the run -------------------------------------------------------------------------------
def pieces_round(paths: list[Path], rng: random.Random, work: Path) -> list[str]:
    """Each file's reports checked in pieces (cut before every CLM and HL) while the
    driver reads it in chunks ending at random places: the whole file's reports."""
    from test_parallel_check import in_pieces, one_job

    from edi837.x12 import reader as x12_reader

    problems, usual = [], x12_reader.CHUNK_SIZE
    try:
        for path in paths:
            x12_reader.CHUNK_SIZE = usual
            whole = one_job([path])
            size = path.stat().st_size
            for chunk in sorted({rng.randrange(100, size + 101) for _ in range(3)}):
                x12_reader.CHUNK_SIZE = chunk
                try:
                    pieces, _ = in_pieces([path], tmp_path=work)
                except Exception as exc:  # a finding of the campaign
                    problems.append(f"pieces: {path.name} chunk {chunk}: "
                                    f"{type(exc).__name__}: {exc}")
                    continue
                if pieces != whole:
                    problems.append(f"pieces: {path.name} chunk {chunk}: another report")
    finally:
        x12_reader.CHUNK_SIZE = usual
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--batches", type=int, default=12, help="inboxes of 20 files")
    parser.add_argument("--histories", type=int, default=6, help="runs of 5 nights")
    parser.add_argument("--large", type=int, default=8, help="files of 16-40 MB")
    parser.add_argument("--pieces", type=int, default=200,
                        help="small files checked in pieces, read in odd chunks")
    options = parser.parse_args()
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_DATA_HOME"] = str(out / "xdg")  # no real reference data or keys
    os.environ.pop("EDI837_REFDATA", None)
    started = time.monotonic()
    paths = inputs(options.files, out / "inputs", options.seed)
    small = list(paths)  # for the batch inboxes
    paths += large_inputs(options.large, out / "inputs", options.seed)
    print(f"{len(paths)} inputs in {time.monotonic() - started:.0f} s", flush=True)

    def work_on(item):
        n, path = item
        with tempfile.TemporaryDirectory(dir=out) as work:
            return one_file(path, Path(work), random.Random(options.seed * 100_003 + n))

    records = []
    with ThreadPoolExecutor(options.jobs) as pool:
        for n, record in enumerate(pool.map(work_on, enumerate(paths))):
            records.append(record)
            if record["problems"]:
                print(f"PROBLEM {record['file']}: {record['problems']}", flush=True)
            if n % 200 == 0:
                print(f"{n} files, {time.monotonic() - started:.0f} s", flush=True)

    rng = random.Random(options.seed)
    rounds = []
    for number in range(options.batches):
        with tempfile.TemporaryDirectory(dir=out) as work:
            rounds.append(batch_round(rng.sample(small, min(20, len(small))), Path(work),
                                      number))
        if rounds[-1]["problems"]:
            print(f"PROBLEM batch {number}: {rounds[-1]['problems']}", flush=True)
    for number in range(options.histories):
        kind = rng.choice(["837P", "837I"])
        seed = rng.randrange(10**6)
        base = generated(kind, 8, seed, 0.3, 500)
        nights = []
        with tempfile.TemporaryDirectory(dir=out) as work:
            for night in range(5):  # the same patients, a little damaged some nights
                data = base if night % 2 == 0 else mutate(
                    base, [random_edit(rng, len(base), base.count(b"~\n") + 1)])
                path = Path(work) / f"night-{night}.edi"
                path.write_bytes(data)
                nights.append(path)
            rounds.append(history_round(nights, Path(work), number))
        if rounds[-1]["problems"]:
            print(f"PROBLEM history {number}: {rounds[-1]['problems']}", flush=True)

    with tempfile.TemporaryDirectory(dir=out) as work:
        small_enough = [p for p in small if p.stat().st_size < 200_000]
        found = pieces_round(rng.sample(small_enough, min(options.pieces, len(small_enough))),
                             rng, Path(work))
        rounds.append({"round": "pieces", "problems": found, "runs": 0, "max_rss_kib": 0})
        for problem in found:
            print(f"PROBLEM {problem}", flush=True)

    problems = Counter(p.split(":")[0] + ": " + p.split(": ", 1)[-1][:70]
                       for r in records for p in r["problems"])
    known = Counter(k for r in records for k in r["known"])
    rss = Counter()
    for r in records:
        for name, kib in r["max_rss_kib"].items():
            rss[name] = max(rss[name], kib)
    summary = {
        "files": len(records),
        "runs": sum(r["runs"] for r in records) + sum(r["runs"] for r in rounds),
        "seconds": round(time.monotonic() - started),
        "files_with_problems": sum(1 for r in records if r["problems"]),
        "problems": problems.most_common(),
        "known_bugs": known.most_common(),
        "suspect_lost_claims": sum(1 for r in records if r["suspect"]),
        "rounds_with_problems": [r for r in rounds if r["problems"]],
        "peak_rss_mib": {k: v // 1024 for k, v in rss.items()},
        "batch_and_history_peak_rss_mib": max((r["max_rss_kib"] for r in rounds), default=0)
        // 1024,
    }
    (out / "findings.json").write_text(json.dumps(
        {"summary": summary, "files": [r for r in records if r["problems"] or r["known"]
                                       or r["suspect"]], "rounds": rounds}, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
