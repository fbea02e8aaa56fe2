"""Run edi837's commands on one hostile input and say what happened.

Shared by the hostile corpus test, the property tests and the campaign
(tests/hostile_campaign.py).  Each command is run the way a user runs it,
through the click command line: in this process with click's CliRunner
(`run_in_process`, fast, for the tests) or as a child process with a
timeout and its peak memory measured (`run_child`, for the campaign).

An outcome is a small dict of what may be pinned (exit status, finding
codes, claim and row counts, files written); `problems` lists the
invariants it breaks, each a bug by the terms of issue #13: a traceback,
an exit status outside 0/1/2, output that does not parse or does not
match its schema, an internal failure (EDI008), a claim lost between the
input and the split, extract and check disagreeing about drug lines.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parent / "schemas" / "report.schema.json"
COMMANDS = ("check", "extract", "fix", "validate")
REPORTS = ("r.txt", "r.html", "r.csv", "r.xml", "r.annotated.txt")
FORMULA_START = tuple("=+-@\t\r")


@dataclass
class Run:
    """One command run: exit status, output, and what went wrong around it."""

    args: list[str]
    exit: int
    stdout: str
    stderr: str
    traceback: str = ""  # the exception that escaped the command, if any
    hung: bool = False
    max_rss_kib: int = 0  # child runs only


def run_in_process(args: list[str]) -> Run:
    """Run `edi837 ARGS` with CliRunner; an escaped exception is a traceback."""
    import traceback

    from click.testing import CliRunner

    from edi837.cli import main

    result = CliRunner().invoke(main, args, catch_exceptions=True)
    escaped = ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        escaped = "".join(traceback.format_exception(*result.exc_info))
    return Run(args, result.exit_code if not escaped else -1, result.stdout, result.stderr,
               escaped)


# The child is started by a small Python process of its own: a child's peak RSS
# (ru_maxrss) starts from its parent's at fork, so a child of a large test or
# campaign process would be measured as large as its parent.
_WRAPPER = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[2:])\n"
            "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "open(sys.argv[1], 'w').write(f'{p.returncode} {usage.ru_maxrss}')\n")


def run_child(args: list[str], *, timeout: float = 60.0, cwd: str | None = None,
              env: dict | None = None) -> Run:
    """Run `python -m edi837 ARGS` as a child; kill it after ``timeout`` seconds
    (a hang) and measure its peak resident memory (ru_maxrss, KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as scratch:
        status_file = os.path.join(scratch, "status")
        child = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, status_file, sys.executable, "-m", "edi837", *args],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
            start_new_session=True)
        hung = False
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            hung = True
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        code, rss = -9, 0
        if not hung:
            try:
                code, rss = map(int, Path(status_file).read_text().split())
            except (OSError, ValueError):
                code = child.returncode
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    traceback = stderr[stderr.index("Traceback"):] if "Traceback (most recent" in stderr else ""
    return Run(args, code, stdout, stderr, traceback, hung, rss)


@lru_cache(maxsize=1)
def report_validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _basic_problems(run: Run, name: str) -> list[str]:
    problems = []
    if run.hung:
        problems.append(f"{name}: hung (killed after its timeout)")
    if run.traceback:
        last = run.traceback.strip().splitlines()[-1]
        problems.append(f"{name}: traceback: {last}")
    elif run.exit not in (0, 1, 2):
        problems.append(f"{name}: exit status {run.exit}")
    if "EDI008" in run.stderr or "EDI008" in run.stdout:
        problems.append(f"{name}: EDI008 (edi837 failed on the file)")
    return problems


def _report(run: Run, name: str, problems: list[str]) -> dict | None:
    """The JSON report on stdout, checked against the schema."""
    if run.hung or run.traceback:
        return None
    try:
        report = json.loads(run.stdout)
    except ValueError as exc:
        problems.append(f"{name}: stdout is not JSON ({exc})")
        return None
    errors = sorted(report_validator().iter_errors(report), key=str)
    if errors:
        problems.append(f"{name}: report does not match the schema: {errors[0].message}")
    return report


def _codes(report: dict) -> list[str]:
    """The file's finding codes with their severity ("EDI002:warning"), each once."""
    if not report["files"]:
        return []
    return sorted({f"{f['rule']}:{f['severity']}" for f in report["files"][0]["findings"]})


def count_claims(path: Path) -> int:
    """Claims edi837's own reader finds in a file it wrote."""
    from edi837.reader.claims import ClaimReader

    return sum(1 for _ in ClaimReader(path).claims())


def outcome(path: Path, commands=COMMANDS, *, run=run_in_process,
            work: Path | None = None, one_check: bool = False,
            extract_csv: bool = True) -> tuple[dict, list[str]]:
    """(what each command did, the invariants broken) for one input file.

    ``one_check``: a single check writes every report (-o), the JSON one
    included, instead of `check --format json` to stdout and a second check
    for the other formats.  ``extract_csv``: extract as CSV too (formulas
    escaped, the same exit status, as many rows)."""
    path = Path(path)
    found: dict = {}
    problems: list[str] = []
    check = None
    if "check" in commands and one_check:
        with tempfile.TemporaryDirectory(dir=work) as folder:
            outputs = [a for name in REPORTS + ("r.json",)
                       for a in ("-o", str(Path(folder) / name))]
            r = run(["check", *outputs, str(path)])
            problems += _basic_problems(r, "check -o")
            json_report = Path(folder) / "r.json"
            if not r.traceback and not r.hung:
                problems += report_problems(Path(folder))
                if json_report.exists():
                    r.stdout = json_report.read_text(encoding="utf-8")
        report = _report(r, "check -o", problems)
        check = _check_outcome(r, report, problems)
        found["check"] = check
    elif "check" in commands:
        r = run(["check", "--format", "json", str(path)])
        problems += _basic_problems(r, "check")
        report = _report(r, "check", problems)
        check = _check_outcome(r, report, problems)
        found["check"] = check
        with tempfile.TemporaryDirectory(dir=work) as folder:
            # every other report format, as -o files (what the text, HTML, CSV,
            # XML and annotated writers make of the same findings)
            outputs = [a for name in REPORTS for a in ("-o", str(Path(folder) / name))]
            r = run(["check", *outputs, str(path)])
            problems += _basic_problems(r, "check -o")
            if not r.traceback and not r.hung:
                if r.exit != check["exit"]:
                    problems.append(f"check -o: exit {r.exit}, with --format json {check['exit']}")
                problems += report_problems(Path(folder))
    if "extract" in commands:
        r = run(["extract", "--format", "jsonl", str(path)])
        problems += _basic_problems(r, "extract")
        rows = []
        # JSON lines end at "\n" only: a value may hold U+0085 or U+2028 as it is
        for line in filter(None, r.stdout.split("\n")):
            try:
                rows.append(json.loads(line))
            except ValueError:
                problems.append(f"extract: a row is not JSON: {line[:80]!r}")
                break
        found["extract"] = {"exit": r.exit, "rows": len(rows)}
        if check and "status" in check and (r.exit == 2) != (check["status"] == "unreadable") \
                and not r.traceback:
            problems.append(f"extract: exit {r.exit}, but check calls the file "
                            f"{check['status']} (exit {check['exit']})")
        if check and "drug_lines" in check and check.get("status") != "unreadable" \
                and r.exit != 2 and len(rows) != check["drug_lines"]:
            problems.append(f"extract: {len(rows)} rows, check counted {check['drug_lines']} "
                            "drug lines")
        if extract_csv:
            r = run(["extract", "--format", "csv", str(path)])
            problems += _basic_problems(r, "extract --format csv")
            problems += csv_problems(r.stdout, "extract --format csv")
            if r.exit != found["extract"]["exit"] and not r.traceback:
                problems.append(f"extract --format csv: exit {r.exit}, with jsonl "
                                f"{found['extract']['exit']}")
            elif max(len(r.stdout.splitlines()) - 1, 0) < len(rows):
                problems.append("extract --format csv: fewer rows than with jsonl")
    if "fix" in commands:
        with tempfile.TemporaryDirectory(dir=work) as out:
            r = run(["fix", "--split", "--out-dir", out, str(path)])
            problems += _basic_problems(r, "fix")
            found["fix"] = fixed = {"exit": r.exit}
            written = sorted(p.name for p in Path(out).iterdir())
            fixed["written"] = [n.replace(path.stem, "NAME", 1) for n in written]
            if not r.traceback and not r.hung:
                problems += _split_problems(path, Path(out), written, r, check, fixed)
    if "validate" in commands:
        r = run(["validate", "--format", "json", str(path)])
        problems += _basic_problems(r, "validate")
        report = _report(r, "validate", problems)
        found["validate"] = {"exit": r.exit}
        if report is not None and report["files"]:
            found["validate"]["codes"] = _codes(report)
        # a file check cannot read whole (EDI001/EDI002 errors) validate cannot either
        cut = check and any(c in check.get("codes", ()) for c in ("EDI001:error",
                                                                   "EDI002:error"))
        if cut and r.exit != 2 and not r.traceback and not r.hung:
            problems.append(f"validate: exit {r.exit}, but check cannot read the file whole "
                            f"(EDI001/EDI002 errors, exit {check['exit']})")
    return found, problems


def _check_outcome(r: Run, report: dict | None, problems: list[str]) -> dict:
    check = {"exit": r.exit}
    if report is not None and report["files"]:
        entry = report["files"][0]
        check.update(status=entry["status"], claims=entry["claims"],
                     drug_lines=entry["drug_lines"], codes=_codes(report))
        if entry["status"] == "unreadable" and r.exit != 2:
            problems.append(f"check: the file is unreadable but the exit status is {r.exit}")
    return check


def _split_problems(path: Path, out: Path, written: list[str], r: Run, check: dict | None,
                    fixed: dict) -> list[str]:
    """Every claim of the input is in the corrected file, and accepted + held."""
    problems = []
    stem = Path(path.name).stem
    claims_in = check.get("claims") if check else None
    corrected = out / path.name
    if corrected.exists():
        fixed["claims"] = n = count_claims(corrected)
        if claims_in is not None and n != claims_in:
            problems.append(f"fix: the corrected file has {n} claims, check read {claims_in}")
    accepted, held = out / f"{stem}.accepted.edi", out / f"{stem}.held.edi"
    if corrected.exists() and r.exit in (0, 1):
        a = count_claims(accepted) if accepted.exists() else 0
        h = count_claims(held) if held.exists() else 0
        fixed["accepted"], fixed["held"] = a, h
        if claims_in is not None and a + h != claims_in:
            problems.append(f"fix --split: {a} accepted + {h} held claims, check read "
                            f"{claims_in}")
    if r.exit in (0, 1) and not corrected.exists():
        problems.append(f"fix: exit {r.exit} but no corrected file was written")
    return problems


# Problems already known and reported (each pinned by a strict xfail in
# tests/hostile/test_hostile_corpus.py); the property tests and the campaign tolerate
# them and count them, and look for anything else.
_RUN_ON_ID = re.compile(rb"(?:^|[~\n'])[ \t]*(?:CLM|SV1|SV2|LIN|CTP|NM1|DTP|REF|SBR|SVD|DMG|BHT)"
                        rb"[A-Za-z0-9]")


def known_bug(found: dict, problem: str, data: bytes = b"") -> str | None:
    """The name of the known bug a problem is an instance of, or None.
    ``data``: the input, for bugs known by what is in it."""
    codes = found.get("check", {}).get("codes", [])
    if problem.startswith("extract: exit 2, but check calls the file findings") \
            and "EDI005:error" in codes:
        return "edi005-skipped-transaction-exit"  # corpus: env-835-and-837 extract
    if problem.startswith("check -o: traceback: decimal.InvalidOperation"):
        return "huge-charge-report-traceback"  # corpus: num-charge-26-digits check
    if problem.startswith("fix --split:") and _RUN_ON_ID.search(data):
        return "run-on-segment-id"  # corpus: size-run-on-ids fix
    return None


def unknown_problems(found: dict, problems: list[str], data: bytes = b"") -> list[str]:
    return [p for p in problems if known_bug(found, p, data) is None]


def report_problems(folder: Path) -> list[str]:
    """The -o reports of one check: XML valid, CSV escaped, no raw bidi override."""
    problems = []
    xml = folder / "r.xml"
    if xml.exists():
        try:
            from lxml import etree

            schema = etree.XMLSchema(etree.parse(str(SCHEMA.with_name("report.xsd"))))
            document = etree.parse(str(xml))
            if not schema.validate(document):
                problems.append(f"check -o: XML report does not match report.xsd: "
                                f"{schema.error_log.last_error}")
        except Exception as exc:  # any failure to read it is the finding
            problems.append(f"check -o: XML report unreadable: {type(exc).__name__}: {exc}")
    table = folder / "r.csv"
    if table.exists():
        problems += csv_problems(table.read_text(encoding="utf-8", errors="replace"), "check -o")
    for name in ("r.txt", "r.html", "r.annotated.txt"):
        path = folder / name
        content = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        for raw, what in (("\u202e", "U+202E"), ("\x1b", "an ESC"), ("<script>alert", "markup")):
            if raw in content and (what != "markup" or name == "r.html"):
                problems.append(f"check -o: raw {what} from the input in the {name} report")
    return problems


def csv_problems(content: str, command: str) -> list[str]:
    try:
        rows = list(csv.reader(io.StringIO(content)))
    except csv.Error as exc:
        return [f"{command}: CSV does not parse: {exc}"]
    for row in rows[1:]:
        for cell in row:
            if cell.lstrip(" ").startswith(FORMULA_START) and not _number(cell):
                return [f"{command}: CSV cell a spreadsheet would run: {cell[:60]!r}"]
    return []


def _number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False
