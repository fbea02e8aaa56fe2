"""The driver with a lasting history on PostgreSQL (issue 26, item 3), measured:
`check --history URL` and `batch --history URL` (the ledger local), one process
against a `--dask` driver with real scheduler and worker processes, into an empty
store and into one that knows the night's patients (the night run twice).

    python benchmarks/cluster.py --history postgresql://edi837@127.0.0.1:5432/postgres
    python benchmarks/cluster.py --history URL --command batch --workers 1,2
    python benchmarks/cluster.py --history URL --profile     # the driver's parts

Every measurement gets a schema of its own in the URL's database (created here,
dropped at the end): the first run of the night finds it empty, the second knows
every patient of the night (check: the same inputs again, so their earlier lines
are taken out first; batch: a new OUTDIR, so a new local ledger takes the files
again, and the store holds the night's lines).  CPU is the command's alone (its
user + system time, ``os.wait4``); the PostgreSQL server's CPU is nobody's here.
The reports must be the one process's (check: the JSON report without its times;
batch: every file's JSON report).  ``--profile``: the driver of 2 workers run
under cProfile (its main thread only: Dask's client thread is not in it, and the
profiler slows Python code more than C), its time split into parts by the
functions entered from outside each part.
"""
from __future__ import annotations

import json
import os
import pstats
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import cluster
import run


class Stores:
    """Schemas of their own in the database of ``url``, dropped at the end."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)
        self.made: list[str] = []

    def new(self) -> str:
        name = f"bench_{secrets.token_hex(4)}"
        self.conn.execute(f"CREATE SCHEMA {name}")
        self.made.append(name)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}options=-csearch_path%3D{name}"

    def close(self) -> None:
        for name in self.made:
            self.conn.execute(f"DROP SCHEMA {name} CASCADE")
        self.conn.close()


def _batch_reports(out: Path) -> dict:
    """Every file's JSON report under OUTDIR, by file name, without times."""
    found = {}
    for path in sorted(out.glob("*/files/*/*.json")):
        found[f"{path.parent.name}/{path.name}"] = cluster.without_times(path.read_text())
    if not found:
        raise SystemExit(f"no file's JSON report under {out}")
    return found


class Commands:
    """The command lines of ``command`` (check or batch) on ``paths``, in ``work``."""

    def __init__(self, command: str, paths: list[Path], work: Path) -> None:
        self.command, self.paths, self.work = command, [str(p) for p in paths], work
        self.key = str(work / "history.key")
        Path(self.key).write_text(secrets.token_hex(32) + "\n")
        os.chmod(self.key, 0o600)
        self.inbox = work / "inbox"
        self.runs = 0

    def argv(self, store: str, dask: str | None) -> tuple[list[str], Path]:
        """The command and where its reports go (an inbox filled afresh for batch)."""
        self.runs += 1
        history = ["--history", store, "--history-key", self.key]
        extra = ["--dask", dask] if dask else []
        if self.command == "check":
            out = self.work / f"check-{self.runs}.json"
            return (run.EDI837 + ["check", *self.paths, "--format", "json", "-o", str(out)]
                    + history + extra, out)
        shutil.rmtree(self.inbox, ignore_errors=True)
        self.inbox.mkdir()
        for path in self.paths:  # the same names, the same bytes: hard links
            os.link(path, self.inbox / Path(path).name)
        out = self.work / f"out-{self.runs}"
        return (run.EDI837 + ["batch", str(self.inbox), "--out", str(out), "--settle", "0",
                              "--quiet"] + history + extra, out)

    def reports(self, out: Path):
        """The reports, the store's schema and OUTDIR's name set apart (each run has its
        own)."""
        found = cluster.without_times(out.read_text()) if self.command == "check" \
            else json.dumps(_batch_reports(out))
        return re.sub(r"bench_[0-9a-f]{8}|out-\d+|\d{8}T\d{6}\.\d+Z", "X", found)


def night_twice(commands: Commands, stores: Stores, dask: str | None, repeat: int,
                workers: cluster.Cluster | None = None) -> list[dict]:
    """The night into an empty store, then again into the store that knows it; best
    of ``repeat`` (each repeat a new store) by CPU."""
    best: list[dict] = [{}, {}]
    for _ in range(repeat):
        store = stores.new()
        for state in (0, 1):
            argv, out = commands.argv(store, dask)
            before = workers.workers_cpu() if workers else 0.0
            wall, cpu, status = cluster.once(argv, str(commands.work))
            row = {"state": ("empty store", "store knows the night")[state], "wall": wall,
                   "cpu": cpu, "exit": status, "reports": commands.reports(out),
                   "workers_cpu": (workers.workers_cpu() - before) if workers else 0.0}
            if not best[state] or cpu < best[state]["cpu"]:
                best[state] = row
    return best


def measure(command: str, paths: list[Path], counts: list[int], url: str,
            repeat: int) -> dict:
    stores = Stores(url)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            commands = Commands(command, paths, work)
            ones = night_twice(commands, stores, None, repeat)
            for one in ones:
                print(f"  one process, {one['state']}: {one['wall']:.1f} s wall, "
                      f"{one['cpu']:.1f} s CPU, exit {one['exit']}", flush=True)
                rows.append({"name": "one process", "workers": 0, **one})
            for count in counts:
                root = work / f"cluster-{count}"
                root.mkdir()
                workers = cluster.Cluster(count, root)
                try:
                    found = night_twice(commands, stores, workers.address, repeat, workers)
                finally:
                    workers.stop()
                for one, row in zip(ones, found, strict=True):
                    if row["reports"] != one["reports"]:
                        keep = work.parent / f"drv-reports-{count}-{row['state'][:5]}"
                        keep.mkdir(exist_ok=True)
                        (keep / "one").write_text(one["reports"])
                        (keep / "dask").write_text(row["reports"])
                    row.update(name=f"--dask, {count} worker{'s' * (count > 1)}",
                               workers=count, driver_share=row["cpu"] / one["cpu"],
                               speedup=one["wall"] / row["wall"],
                               same_report=row["reports"] == one["reports"])
                    print(f"  {row['name']}, {row['state']}: {row['wall']:.1f} s wall, "
                          f"driver {row['cpu']:.1f} s CPU = {100 * row['driver_share']:.1f}%"
                          f" of one process, workers {row['workers_cpu']:.1f} s, same "
                          f"report: {row['same_report']}", flush=True)
                    rows.append(row)
    finally:
        stores.close()
    for row in rows:
        row.pop("reports", None)
    return {"command": command, "files": [{"name": p.name, "mb": round(
        p.stat().st_size / run.MIB, 1)} for p in paths], "rows": rows,
        "machine": run.machine(), "code": run.code_version(), "load": os.getloadavg()}


# -- the driver's parts, from a profile of its main thread ---------------------------------
PARTS = (
    ("hashing the inputs", lambda f, n: (f.endswith("batch/inbox.py") and n == "hash_chunks")
     or (f.endswith("edi837/engine.py") and n == "sha256_of")),
    ("the history stage (with its store's SQL)",
     lambda f, n: "/edi837/history/" in f or f.endswith("batch/history.py")),
    ("  of which the store's SQL on PostgreSQL (pgdb)", lambda f, n: f.endswith("edi837/pgdb.py")),
    ("the ledger (SQLite)", lambda f, n: "/edi837/batch/ledger" in f),
    ("writing reports", lambda f, n: "/edi837/reports/" in f),
)


def _entered(stats: pstats.Stats, inside) -> float:
    """Cumulative seconds in the functions ``inside(file, name)`` picks, counted where
    they are entered from a function it does not pick (nested calls counted once)."""
    total = 0.0
    for (file, _, name), (_, _, _, _, callers) in stats.stats.items():  # type: ignore
        if not inside(file, name):
            continue
        for (cfile, _, cname), edge in callers.items():
            if not inside(cfile, cname):
                total += edge[3]
    return total


# the command's main thread profiled by its CPU time (cProfile's default clock is the wall's)
PROFILED = """
import cProfile, runpy, sys, time
out = sys.argv.pop(1)
sys.argv.pop(0)
profiler = cProfile.Profile(time.thread_time)
try:
    profiler.runcall(runpy.run_module, "edi837", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    status = exc.code
else:
    status = 0
profiler.dump_stats(out)
sys.exit(status)
"""


def profile(command: str, paths: list[Path], url: str) -> list[dict]:
    """The 2-worker driver under cProfile, into an empty store and one that knows the
    night: its CPU (``os.wait4``) and each part's seconds in its main thread."""
    stores = Stores(url)
    found = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            commands = Commands(command, paths, work)
            (work / "cluster").mkdir()
            workers = cluster.Cluster(2, work / "cluster")
            try:
                store = stores.new()
                for state in ("empty store", "store knows the night"):
                    argv, _ = commands.argv(store, workers.address)
                    prof = work / "driver.prof"
                    at = argv.index("check" if command == "check" else "batch")
                    argv = [sys.executable, "-c", PROFILED, str(prof), "edi837"] + argv[at:]
                    wall, cpu, status = cluster.once(argv, str(work))
                    stats = pstats.Stats(str(prof))
                    main = stats.total_tt  # type: ignore[attr-defined]
                    parts = {label: _entered(stats, inside) for label, inside in PARTS}
                    found.append({"state": state, "cpu": cpu, "wall": wall, "exit": status,
                                  "main_thread": main, "parts": parts})
                    print(f"  profiled driver ({command}, {state}): {cpu:.1f} s CPU, main "
                          f"thread {main:.1f} s: " + ", ".join(
                              f"{k.strip()} {v:.2f}" for k, v in parts.items()), flush=True)
            finally:
                workers.stop()
    finally:
        stores.close()
    return found


def markdown(report: dict) -> str:
    total = sum(f["mb"] for f in report["files"])
    lines = [f"### {report['command']} --history postgresql:// ({report['code']}, "
             f"load {report['load'][0]:.1f})", "",
             f"{len(report['files'])} files, {total:.0f} MB ({report.get('mix', 'nightly')})",
             "", "| command | store | wall s | CPU s (driver) | driver share | workers CPU s "
             "| same reports |", "|---|---|---:|---:|---:|---:|---|"]
    for row in report["rows"]:
        if not row["workers"]:
            lines.append(f"| one process | {row['state']} | {row['wall']:.1f} | "
                         f"{row['cpu']:.2f} | 100% | - | - |")
            continue
        lines.append(f"| {row['name']} | {row['state']} | {row['wall']:.1f} | "
                     f"{row['cpu']:.2f} | {100 * row['driver_share']:.1f}% | "
                     f"{row['workers_cpu']:.1f} | {'yes' if row['same_report'] else 'NO'} |")
    for found in report.get("profile", ()):
        lines += ["", f"Driver with 2 workers under cProfile, {found['state']}: "
                  f"{found['cpu']:.1f} s CPU (profiled), main thread's CPU "
                  f"{found['main_thread']:.2f} s:",
                  "", "| part | s | of the main thread |", "|---|---:|---:|"]
        for label, seconds in found["parts"].items():
            lines.append(f"| {label} | {seconds:.2f} | "
                         f"{100 * seconds / found['main_thread']:.0f}% |")
    return "\n".join(lines) + "\n"


def main(args, paths: list[Path]) -> None:
    counts = [int(n) for n in args.workers.split(",")]
    if args.profile:
        report = {"command": args.command, "files": [], "rows": [], "code":
                  run.code_version(), "load": os.getloadavg(),
                  "profile": profile(args.command, paths, args.history)}
    else:
        report = measure(args.command, paths, counts, args.history, args.repeat)
    report["mix"] = args.mix
    run.RESULTS.mkdir(exist_ok=True)
    name = f"cluster-history-{args.command}-{args.mix}{'-profile' * args.profile}.json"
    (run.RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
