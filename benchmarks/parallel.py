"""Parallel checking, measured: `check --jobs 1/2` on one large file, and the
Dask scheduler's overhead (`batch --dask local:2` against `batch --jobs 2`).

    python benchmarks/parallel.py                  # 100 MB file, batch inbox, 3 runs each
    python benchmarks/parallel.py --size 20 --repeat 5 --no-batch

Before and after, two pure Python loops side by side say how many cores the
machine gives now (2.0 on two idle cores; on a shared one, less: no parallel
run can be faster than that). Each command runs as a whole process,
round-robin with the others, like
run.py; for each the best wall time is kept, and the CPU time (user + system)
of the command and every process it waited for (its worker processes, a
LocalCluster's workers), from ``os.wait4``.  The CPU time says how much work
a parallel run adds; on a machine shared with other work the wall time is
the noisier of the two.  Results go to benchmarks/results/parallel.json/.md.
Standard library only (Dask for the --dask rows: pip install 'edi837[dask]').
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - the inputs, the commands and the machine, as run.py has them

HELPER = """
import os, sys, time
quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""


def once(cmd: list[str], cwd: str) -> tuple[float, float, float, int]:
    """(wall s, CPU s of the command and the processes it waited for, peak RSS MiB, exit)."""
    out = subprocess.run([sys.executable, "-S", "-c", HELPER] + cmd, cwd=cwd, env=run.ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2]) / 1024, int(out[3])


def measure(commands: list[dict], repeat: int) -> None:
    for round_ in range(1, repeat + 1):
        for command in commands:
            with tempfile.TemporaryDirectory() as work:
                for name, source in command.get("inputs", {}).items():
                    run.place_input(source, Path(work, name))
                cmd = [a.replace("{work}", work) for a in command["cmd"]]
                wall, cpu, rss, status = once(cmd, work)
            print(f"  [{round_}/{repeat}] {command['name']}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
                  f"{rss:.0f} MiB, exit {status}", flush=True)
            command.setdefault("walls", []).append(round(wall, 3))
            command.setdefault("cpus", []).append(round(cpu, 3))
            command["peak_rss_mib"] = round(max(command.get("peak_rss_mib", 0), rss), 1)
            command["exit"] = status
    for command in commands:
        command["wall"] = min(command["walls"])
        command["cpu"] = min(command["cpus"])


SPIN = "x = 0\nfor i in range(30_000_000):\n    x += i\n"


def capacity() -> float:
    """How many cores the machine gives two busy processes now: the time of one pure
    Python loop alone, over the time of two side by side (2.0 on two idle cores)."""
    import time

    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", SPIN], check=True)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    pair = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
    for process in pair:
        process.wait()
    return round(2 * alone / (time.perf_counter() - start), 2)


def dask_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import distributed"], env=run.ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="MB of the one large file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-batch", action="store_true", help="skip the Dask batch rows")
    args = parser.parse_args()

    big = run.generate("837P", args.size, run.SEED, run.DATA / f"837P-{args.size}MB.edi")
    commands = [{"name": f"check --jobs {n}", "cmd": run.EDI837 + [
        "check", str(big), "--format", "json", "-o", "{work}/report.json", "--jobs", str(n)]}
        for n in (1, 2)]
    batch = not args.no_batch and dask_available()
    if batch:
        folder = run.DATA / f"batch-{run.BATCH_FILES}x{run.BATCH_FILE_MB}MB"
        paths = [run.generate(run.KINDS[i % 2], run.BATCH_FILE_MB, 100 + i,
                              folder / f"{i:02d}-{run.KINDS[i % 2]}.edi")
                 for i in range(run.BATCH_FILES)]
        inbox = {f"inbox/{p.name}": str(p) for p in paths}
        for how in (["--jobs", "2"], ["--dask", "local:2"]):
            commands.append({"name": "batch " + " ".join(how), "inputs": inbox,
                             "cmd": run.EDI837 + ["batch", "{work}/inbox", "--out", "{work}/out",
                                                  "--settle", "0", "--no-history", *how]})
    cores_before = capacity()
    measure(commands, args.repeat)
    cores_after = capacity()
    by = {c["name"]: c for c in commands}
    one, two = by["check --jobs 1"], by["check --jobs 2"]
    result = {"machine": run.machine(), "file": str(big.relative_to(run.ROOT)),
              "bytes": big.stat().st_size, "commands": commands,
              "cores_given": [cores_before, cores_after],
              "check_speedup": round(one["wall"] / two["wall"], 2),
              "check_cpu_ratio": round(two["cpu"] / one["cpu"], 2)}
    if batch:
        local, dask = by["batch --jobs 2"], by["batch --dask local:2"]
        result["dask_overhead"] = round(dask["wall"] / local["wall"], 2)
        result["dask_cpu_ratio"] = round(dask["cpu"] / local["cpu"], 2)
    run.RESULTS.mkdir(exist_ok=True)
    (run.RESULTS / "parallel.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Parallel checking ({result['machine']['nproc']} cores, "
             f"{result['machine']['cpu']}, Python {result['machine']['python']}, "
             f"{result['machine']['code']})", "",
             "| command | best wall | best CPU (all processes) | peak RSS (largest process) |",
             "|---|---:|---:|---:|"]
    lines += [f"| `{c['name']}` | {c['wall']:.2f} s | {c['cpu']:.2f} s | {c['peak_rss_mib']} MiB |"
              for c in commands]
    lines += ["", f"cores the machine gave two busy processes (2.0 = two idle cores): "
              f"{cores_before} before, {cores_after} after"]
    lines += [f"check on {args.size} MB: --jobs 1 wall / --jobs 2 wall = "
              f"{result['check_speedup']}; --jobs 2 CPU / --jobs 1 CPU = "
              f"{result['check_cpu_ratio']} (on a loaded machine, read the CPU)"]
    if batch:
        lines.append(f"batch --dask local:2 vs --jobs 2: {result['dask_overhead']}x the wall time, "
                     f"{result['dask_cpu_ratio']}x the CPU")
    (run.RESULTS / "parallel.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
