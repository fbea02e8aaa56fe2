"""A hostile campaign on reference-data imports (issue 24: the reference-files class),
run by hand (not by pytest: it takes a while):

    .venv/bin/python tests/refdata_campaign.py --cases 150 --seed 24 --out /tmp/refdata-campaign

Builds the CMS reference files of tests/refdata_files.py (ASP pricing, ASP
NDC-HCPCS crosswalk, MUE, ICD-10-CM order file, FDA NDC Directory package and
product files, CMS HCPCS file), mutates them from a fixed seed (truncated, bytes
flipped, huge or odd numbers, control characters and bidirectional overrides in
cells, lines deleted or repeated, another encoding) and puts each plain or in a
ZIP (member names with control characters or "../", a ZIP in a ZIP in a ZIP, a
bomb, a ZIP of many members), under a file name that may hold control characters
itself.  Each is imported into a fresh store as a child process (timeout, peak
memory measured), then `refdata status` and a `check` of a sample on that store.

A finding is: an exit status other than 0/2 from the import (0/1 from check),
a traceback or a message calling itself "a bug in edi837", a hang, peak memory
over --limit MiB, a raw control character (C0 other than newline and tab, DEL,
C1, bidirectional controls) in what a command prints, or a check that says
EDI008 (the reference data made it fail).
Results in OUT/findings.json and a summary on stdout; the inputs of every
finding stay in OUT/inputs/.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import re
import shutil
import sys
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hostile_run  # noqa: E402
import refdata_files as files  # noqa: E402

SAMPLE = HERE.parent / "samples" / "837p-j2350-clean.edi"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
TIMEOUT = 120.0


def bases() -> list[tuple[str, str, list[str]]]:
    """(file name, text, extra import options) of one good file of every kind."""
    return [("April_2026_ASP_Pricing_File.csv", files.pricing(), []),
            ("April_2026_ASP_NDC-HCPCS_Crosswalk.csv", files.crosswalk(), []),
            ("MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", files.mue(), []),
            ("MCR_MUE_OutpatientHospitalServices_Eff_01-01-2026.csv",
             files.mue("Outpatient Hospital Services"), []),
            ("icd10cm_order_2026.txt", files.icd10_order(), ["--effective", "2025-10-01"]),
            ("package.txt", files.fda_package(), []),
            ("product.txt", files.fda_product(), []),
            ("HCPC2026_JAN_ANWEB.csv", files.hcpcs_file(), [])]


HOSTILE_CELLS = ["\x1b[2J\x1b[31mred", "a\rb", "\x00", "\u202etxt.exe", "\x07\x08", "\x85\x9b",
                 '"', '""unbalanced', "=cmd|' /C calc'!A0", "\ufeff", "\udcff"]
HUGE = ["9" * 25, "9" * 400, "1E+999", "1E+26", "-1", "NaN", "Infinity", "-0", "0x10",
        "1e-400", "1_000", "٣٣", "1,000,000.5", "99999999", "00010101", "99991231", "20261399"]


def mutate(rng: random.Random, text: str) -> tuple[bytes, list[str]]:
    """Up to three mutations of ``text``; the bytes and what was done."""
    done = []
    data = text
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.choice(["huge", "huge", "cell", "line-delete", "line-repeat", "none",
                           "flip", "truncate", "encoding"])
        done.append(kind)
        if kind == "huge":
            numbers = list(re.finditer(r"[0-9][0-9.]*", data))
            if numbers:
                hit = rng.choice(numbers)
                data = data[:hit.start()] + rng.choice(HUGE) + data[hit.end():]
        elif kind == "cell":
            position = rng.randrange(len(data) + 1)
            data = data[:position] + rng.choice(HOSTILE_CELLS) + data[position:]
        elif kind in ("line-delete", "line-repeat"):
            lines = data.split("\r\n")
            at = rng.randrange(len(lines))
            if kind == "line-delete":
                del lines[at]
            else:
                lines[at:at] = [lines[at]] * rng.choice([2, 50, 5000])
            data = "\r\n".join(lines)
    raw = data.encode("utf-8", "surrogateescape")
    if "encoding" in done:
        raw = data.encode(rng.choice(["utf-16", "utf-16-le", "latin-1", "cp1252"]),
                          "replace")
    if "flip" in done:
        raw = bytearray(raw)
        for _ in range(rng.choice([1, 3, 20])):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        raw = bytes(raw)
    if "truncate" in done:
        raw = raw[:rng.randrange(len(raw) + 1)]
    return raw, done


NAME_TRICKS = ["", "", "", "\x1b[31m", "\r", "\u202e", "\x07", "\n", " ", "\x85"]


def odd_name(rng: random.Random, name: str) -> str:
    trick = rng.choice(NAME_TRICKS)
    return name if not trick else trick + name if rng.random() < 0.5 else \
        name.replace(".", trick + ".", 1)


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()


def container(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes, str]:
    """The mutated file as given to the import: plain or in one of the ZIP shapes."""
    shape = rng.choice(["plain", "plain", "plain", "zip", "zip", "zip-odd-member", "nested",
                        "bomb", "many", "slip", "corrupt-zip", "stored"])
    member = odd_name(rng, name) if shape == "zip-odd-member" else name
    if shape == "plain":
        return name, data, shape
    if shape in ("zip", "zip-odd-member"):
        return "ref.zip", zip_bytes({member: data}), shape
    if shape == "stored":
        return "ref.zip", zip_bytes({member: data, "readme.txt": b"read me\r\n"},
                                    zipfile.ZIP_STORED), shape
    if shape == "nested":
        inner = zip_bytes({member: data})
        for level in range(rng.choice([1, 2, 5])):
            inner = zip_bytes({f"level{level}.zip": inner})
        return "nested.zip", inner, shape
    if shape == "bomb":
        return "bomb.zip", zip_bytes({member: data, "zeros.csv": b"0" * (rng.choice([8, 64])
                                                                          << 20)}), shape
    if shape == "many":
        return "many.zip", zip_bytes({member: data, **{f"x/{i}.txt": b"x"
                                                       for i in range(3000)}}), shape
    if shape == "slip":
        return "slip.zip", zip_bytes({"../../" + member: data, "/abs/" + member: data}), shape
    packed = bytearray(zip_bytes({member: data}))
    for _ in range(5):
        packed[rng.randrange(len(packed))] = rng.randrange(256)
    return "corrupt.zip", bytes(packed), shape


def cases(count: int, seed: int, folder: Path) -> list[dict]:
    rng = random.Random(seed)
    made = []
    for n in range(count):
        name, text, extra = rng.choice(bases())
        data, done = mutate(rng, text)
        given, packed, shape = container(rng, name, data)
        case = folder / f"{n:04d}"
        case.mkdir(parents=True)
        path = case / odd_name(rng, given)
        path.write_bytes(packed)
        made.append({"n": n, "path": path, "extra": extra, "kind": name, "mutations": done,
                     "shape": shape})
    return made


def raw_characters(run: hostile_run.Run) -> list[str]:
    return sorted({repr(c) for c in RAW.findall(run.stdout + run.stderr)})


def judge(run: hostile_run.Run, statuses: tuple[int, ...], limit_kib: int) -> list[str]:
    name = run.args[0] if run.args[0] != "refdata" else " ".join(run.args[:2])
    problems = []
    if run.hung:
        problems.append(f"{name}: hung")
    if run.traceback:
        problems.append(f"{name}: traceback {run.traceback.strip().splitlines()[-1][:200]}")
    if run.exit not in statuses and not run.hung:
        problems.append(f"{name}: exit {run.exit}")
    if run.max_rss_kib > limit_kib:
        problems.append(f"{name}: peak memory {run.max_rss_kib // 1024} MiB")
    if "bug in edi837" in run.stdout + run.stderr:
        problems.append(f"{name}: calls itself a bug: {run.stderr.strip()[-200:]!r}")
    raw = raw_characters(run)
    if raw:
        problems.append(f"{name}: raw control characters printed {raw}")
    return problems


def one_case(case: dict, limit_kib: int) -> dict:
    store = case["path"].parent / "store"
    runs = [hostile_run.run_child(["refdata", "import", "--refdata", str(store), *case["extra"],
                                   str(case["path"])], timeout=TIMEOUT)]
    problems = judge(runs[0], (0, 2), limit_kib)
    if store.exists():
        status = hostile_run.run_child(["refdata", "status", "--refdata", str(store)],
                                       timeout=TIMEOUT)
        runs.append(status)
        problems += judge(status, (0,), limit_kib)
    if runs[0].exit == 0:
        check = hostile_run.run_child(["check", "--refdata", str(store), "--format", "json",
                                       str(SAMPLE)], timeout=TIMEOUT)
        runs.append(check)
        problems += judge(check, (0, 1), limit_kib)
        if "EDI008" in check.stdout:
            problems.append("check: EDI008 after the import")
    return {"n": case["n"], "kind": case["kind"], "shape": case["shape"],
            "mutations": case["mutations"], "path": repr(str(case["path"])),
            "exits": [r.exit for r in runs], "peak_kib": max(r.max_rss_kib for r in runs),
            "problems": problems, "message": (runs[0].stderr or runs[0].stdout)[-300:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=96, help="peak memory, MiB")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    started = time.monotonic()
    made = cases(args.cases, args.seed, args.out / "inputs")
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda case: one_case(case, args.limit * 1024), made))
    for case, result in zip(made, results, strict=True):
        if not result["problems"]:
            shutil.rmtree(case["path"].parent, ignore_errors=True)
    found = [r for r in results if r["problems"]]
    (args.out / "findings.json").write_text(json.dumps(results, indent=1, ensure_ascii=True))
    imports = Counter(r["exits"][0] for r in results)
    print(f"{len(results)} imports in {time.monotonic() - started:.0f} s (seed {args.seed}): "
          f"exit statuses {dict(imports)}, checks after an import {imports[0]}, "
          f"peak memory {max(r['peak_kib'] for r in results) // 1024} MiB")
    print(f"shapes {dict(Counter(r['shape'] for r in results))}")
    print(f"{len(found)} with findings")
    for result in found:
        print(f"  {result['n']:04d} {result['kind']} {result['shape']} {result['mutations']}: "
              f"{'; '.join(result['problems'])}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
