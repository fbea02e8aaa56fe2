"""The driver on a cluster, measured: `check --dask` on real `dask scheduler` and
`dask worker` processes (issue 26), against one process.

    python benchmarks/cluster.py                       # the nightly mix, 1, 2 and 4 workers
    python benchmarks/cluster.py --workers 1,2 --sizes 16,4,8 --repeat 1
    python benchmarks/cluster.py --mix sparse          # a sparse-only night, same sizes
    python benchmarks/cluster.py --history postgresql://... --command batch  # a lasting history

A nightly mix of generated files (dense and sparse, 837P and 837I, sizes in MB
from --sizes; a file of 16 MB or more is cut into pieces) is checked once by
one process (`edi837 check`) and then, for each number of workers, by a driver
(`edi837 check --dask tcp://127.0.0.1:PORT`) with a scheduler and that many
workers started as processes of their own, each in a folder of its own.  For
every command: the wall time, and the CPU time (user + system) of the command
alone, from ``os.wait4``: for the driver, its own CPU and nothing of the
workers'; the workers' CPU is read from /proc before and after.  The driver's
share is its CPU over the one-process CPU (issue 26's target: at most 15%).
The driver's fixed start-up (Python, imports, connecting; measured on one small
file) is shown apart: it does not grow with the night.  The reports must be the
same as the one process's (checked: the JSON report without its times).
Results go to benchmarks/results/cluster.json/.md (``--mix sparse``: a night of
sparse files only, 2% drug claims, the fastest to check per MB and so the one where
the driver's fixed start-up weighs most; to cluster-sparse.json, its table printed).
Needs Dask (pip install 'edi837[dask]') and Linux (/proc).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - the inputs, the commands and the machine, as run.py has them

DASK = str(Path(sys.executable).with_name("dask"))
HELPER = """
import os, sys, time
quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime,
      os.waitstatus_to_exitcode(status))
"""


def once(cmd: list[str], cwd: str) -> tuple[float, float, int]:
    """(wall s, CPU s of the command alone, exit status)."""
    out = subprocess.run([sys.executable, "-S", "-c", HELPER] + cmd, cwd=cwd, env=run.ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system, with reaped children) of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class Cluster:
    """A scheduler and ``count`` workers, each a process of its own in its own folder."""

    def __init__(self, count: int, root: Path) -> None:
        self.processes: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        address_file = root / "scheduler.json"
        self._spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(address_file)], root)
        deadline = time.monotonic() + 120
        while not address_file.exists():
            if time.monotonic() > deadline:
                raise SystemExit("dask scheduler did not start")
            time.sleep(0.2)
        self.address = json.loads(address_file.read_text())["address"]
        for n in range(count):
            folder = root / f"worker-{n}"
            folder.mkdir()
            self.workers.append(self._spawn(
                [DASK, "worker", self.address, "--nthreads", "1", "--no-dashboard", "--no-nanny",
                 "--name", f"w{n}", "--local-directory", str(folder / "scratch")], folder))
        import distributed

        with distributed.Client(self.address, timeout="60s") as client:
            client.wait_for_workers(count, timeout=180)
            client.run(lambda: __import__("edi837.engine"))  # imported before timing

    def _spawn(self, argv: list[str], cwd: Path) -> subprocess.Popen:
        process = subprocess.Popen(argv, cwd=cwd, env=run.ENV, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def workers_cpu(self) -> float:
        return sum(cpu_of(p.pid) for p in self.workers)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def without_times(text: str) -> str:
    text = re.sub(r'"run": \{[^}]*\}', '"run": {}', text)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "TIME", text)


def nightly(sizes: list[int], only: str | None = None) -> list[Path]:
    """The mix: kinds and mixes alternating over the sizes given (``only``: every file
    of that mix, the kinds alternating as before)."""
    paths = []
    for n, size in enumerate(sizes):
        kind = run.KINDS[n % 2]
        mix = only or ("sparse" if n % 3 else "dense")
        paths.append(run.generate(kind, size, run.SEED + n,
                                  run.DATA / f"cluster-{mix}-{kind}-{size}mb-{n}.edi", mix))
    return paths


def measure(paths: list[Path], counts: list[int], repeat: int) -> dict:
    files = [str(p) for p in paths]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        one_json = Path(work, "one.json")
        best = None
        for _ in range(repeat):
            wall, cpu, status = once(run.EDI837 + ["check", *files, "--format", "json", "-o",
                                                   str(one_json)], work)
            best = (wall, cpu, status) if best is None or wall < best[0] else best
        one = {"name": "one process", "workers": 0, "wall": best[0], "cpu": best[1],
               "exit": best[2]}
        print(f"  one process: {best[0]:.1f} s wall, {best[1]:.1f} s CPU", flush=True)
        rows.append(one)
        expected = without_times(one_json.read_text())
        tiny = str(run.ROOT / "samples" / "837p-j2350-clean.edi")
        for count in counts:
            root = Path(work, f"cluster-{count}")
            root.mkdir()
            cluster = Cluster(count, root)
            try:
                # the driver's fixed cost (Python, edi837 and Dask imported, the client
                # connected) on one small file, told apart from the cost per MB
                _, startup, _ = once(run.EDI837 + ["check", tiny, "--format", "json", "-o",
                                                   str(Path(work, "tiny.json")), "--dask",
                                                   cluster.address], work)
                best = None
                for _ in range(repeat):
                    out = Path(work, f"dask-{count}.json")
                    before = cluster.workers_cpu()
                    wall, cpu, status = once(run.EDI837 + [
                        "check", *files, "--format", "json", "-o", str(out),
                        "--dask", cluster.address], work)
                    workers = cluster.workers_cpu() - before
                    same = without_times(out.read_text()) == expected
                    if best is None or wall < best["wall"]:
                        best = {"name": f"--dask, {count} worker{'s' * (count > 1)}",
                                "workers": count, "wall": wall, "cpu": cpu,
                                "workers_cpu": workers, "exit": status, "same_report": same,
                                "startup_cpu": startup}
            finally:
                cluster.stop()
            best["driver_share"] = best["cpu"] / one["cpu"]
            best["driver_share_after_startup"] = (best["cpu"] - startup) / one["cpu"]
            best["speedup"] = one["wall"] / best["wall"]
            print(f"  {best['name']}: {best['wall']:.1f} s wall ({best['speedup']:.2f}x), "
                  f"driver {best['cpu']:.1f} s CPU = {100 * best['driver_share']:.1f}% of one "
                  f"process ({100 * best['driver_share_after_startup']:.1f}% past its "
                  f"{startup:.1f} s start-up), workers {best['workers_cpu']:.1f} s CPU, "
                  f"same report: {best['same_report']}", flush=True)
            rows.append(best)
    return {"files": [{"name": p.name, "mb": round(p.stat().st_size / run.MIB, 1)}
                      for p in paths], "rows": rows, "machine": run.machine(),
            "code": run.code_version()}


def breakdown(paths: list[Path]) -> dict:
    """Where the driver's CPU goes past its start-up, measured in this process: the
    driver's loop (ParallelCheck) run on results the workers' functions computed
    beforehand (their CPU not counted), the history stage's calls timed apart, and
    the JSON report written as `check` writes it."""
    import io
    from concurrent.futures import Future

    from edi837.config import Config
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.history.stage import HistoryStage
    from edi837.parallel import work
    from edi837.parallel.check import ParallelCheck
    from edi837.parallel.keys import install
    from edi837.reports import load_writers

    spent = {"workers": 0.0, "history": 0.0}

    class Replay:
        """Units computed when submitted, their CPU set apart."""

        remote, slots = True, 4

        def __init__(self, settings) -> None:
            self.settings = settings

        def submit(self, unit):
            start = time.process_time()
            future = Future()
            future.set_result(work.check_unit(self.settings, unit))
            spent["workers"] += time.process_time() - start
            return future

        def judge(self, run_id, files, index):
            """A shard of the run's own history: a worker's task, its CPU set apart (and
            its stage's calls not the driver's)."""
            from edi837.parallel.shards import judge_shard

            start, history = time.process_time(), spent["history"]
            future = Future()
            future.set_result(judge_shard(self.settings, run_id, files))
            spent["workers"] += time.process_time() - start
            spent["history"] = history
            return future

        def wait(self, futures) -> None:
            return None

        def result(self, future):
            return future.result()

    def timed(function):
        def call(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent["history"] += time.process_time() - start
        return call

    originals = {name: getattr(HistoryStage, name)
                 for name in ("add", "apply_file", "begin_file", "end_file")}
    for name, function in originals.items():
        setattr(HistoryStage, name, timed(function))
    try:
        engine = Engine(load_drug_table([]), Config())
        stage = engine.history
        settings = work.CheckSettings((), engine.config, install(stage.keys.key),
                                      stage.persistent)
        start = time.process_time()
        report = ParallelCheck(engine, Replay(settings)).run([str(p) for p in paths])
        loop = time.process_time() - start - spent["workers"]
        start = time.process_time()
        load_writers()["json"](report, io.StringIO())
        writing = time.process_time() - start
        engine.close()
    finally:
        for name, function in originals.items():
            setattr(HistoryStage, name, function)
    return {"loop_cpu": loop, "history_cpu": spent["history"],
            "other_loop_cpu": loop - spent["history"], "report_cpu": writing,
            "workers_cpu": spent["workers"]}


def breakdown_only(paths: list[Path], repeat: int) -> dict:
    """The one process's CPU (best of ``repeat``) and the driver's parts, best of
    ``repeat`` each, without a cluster: what to look at while working on the driver."""
    with tempfile.TemporaryDirectory() as work:
        cpu = min(once(run.EDI837 + ["check", *map(str, paths), "--format", "json", "-o",
                                     str(Path(work, "one.json"))], work)[1]
                  for _ in range(repeat))
    parts: dict = {}
    for _ in range(repeat):
        for key, value in breakdown(paths).items():
            parts[key] = min(parts.get(key, value), value)
    return {"files": [{"name": p.name, "mb": round(p.stat().st_size / run.MIB, 1)}
                      for p in paths],
            "rows": [{"name": "one process", "workers": 0, "wall": 0.0, "cpu": cpu}],
            "breakdown": parts, "machine": run.machine(), "code": run.code_version()}


def markdown(report: dict) -> str:
    total = sum(f["mb"] for f in report["files"])
    night = " (a sparse-only night)" if report.get("mix") == "sparse" else ""
    lines = [f"# check --dask on scheduler and worker processes{night} ({report['code']})", "",
             f"{len(report['files'])} files, {total:.0f} MB: "
             + ", ".join(f"{f['name']} ({f['mb']} MB)" for f in report["files"]), "",
             "| command | wall s | speed-up | driver CPU s | driver share | driver share "
             "past its start-up | workers CPU s | same report |",
             "|---|---|---|---|---|---|---|---|"]
    for row in report["rows"]:
        if row["workers"] == 0:
            lines.append(f"| {row['name']} | {row['wall']:.1f} | 1.00 | {row['cpu']:.1f} "
                         "| 100% | 100% | - | - |")
            continue
        lines.append(f"| {row['name']} | {row['wall']:.1f} | {row['speedup']:.2f} | "
                     f"{row['cpu']:.1f} | {100 * row['driver_share']:.1f}% | "
                     f"{100 * row['driver_share_after_startup']:.1f}% | "
                     f"{row['workers_cpu']:.1f} | {'yes' if row['same_report'] else 'NO'} |")
    parts = report.get("breakdown")
    if parts:
        one = report["rows"][0]["cpu"]
        lines += ["", "Where the driver's CPU goes past its start-up (measured in one process, "
                  "the workers' results replayed; % of the one-process CPU):", "",
                  "| part | CPU s | share |", "|---|---|---|"]
        for label, key in (("judging the history (HistoryStage)", "history_cpu"),
                           ("the rest of the loop: results decoded, findings merged",
                            "other_loop_cpu"),
                           ("writing the JSON report", "report_cpu")):
            lines.append(f"| {label} | {parts[key]:.2f} | {100 * parts[key] / one:.1f}% |")
    machine = report["machine"]
    lines += ["", f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), Python "
              f"{machine['python']}, {machine['platform']}; shared with other work, so the "
              "wall times are the noisier figures.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sizes", default="24,4,10,2,16,6,3,8",
                        help="file sizes in MB, comma-separated (the nightly mix)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--mix", choices=("nightly", "sparse"), default="nightly",
                        help="nightly: dense and sparse files alternating; sparse: every file "
                        "sparse (2%% drug claims), results to cluster-sparse.json")
    parser.add_argument("--breakdown-only", action="store_true",
                        help="only the one process and the driver's parts, replayed in this "
                        "process (no cluster started; results are printed, not written)")
    parser.add_argument("--history", metavar="URL",
                        help="a lasting history on this PostgreSQL (postgresql://...): the "
                        "night into an empty store and again (cluster_history.py)")
    parser.add_argument("--command", choices=("check", "batch"), default="check",
                        help="with --history: check FILES or batch INBOX (ledger local)")
    parser.add_argument("--profile", action="store_true",
                        help="with --history: the 2-worker driver's parts, under cProfile")
    args = parser.parse_args()
    sparse = args.mix == "sparse"
    paths = nightly([int(s) for s in args.sizes.split(",")], "sparse" if sparse else None)
    if args.history:
        import cluster_history

        cluster_history.main(args, paths)
        return
    if args.breakdown_only:
        print(markdown(breakdown_only(paths, args.repeat)))
        return
    report = measure(paths, [int(n) for n in args.workers.split(",")], args.repeat)
    report["breakdown"] = breakdown(paths)
    report["mix"] = args.mix
    run.RESULTS.mkdir(exist_ok=True)
    name = "cluster-sparse" if sparse else "cluster"
    (run.RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    if sparse:  # cluster.md's table stays the nightly mix's; this one is printed
        print(markdown(report))
        return
    out = run.RESULTS / "cluster.md"
    kept = out.read_text() if out.exists() else ""
    notes = kept[kept.index("\n## "):] if "\n## " in kept else ""  # hand-written
    out.write_text(markdown(report) + notes)
    print(markdown(report))


if __name__ == "__main__":
    main()
