"""Issue 27, items 4 and 5: progress on a terminal for every long command (never
in a pipe or a cron log), and the small things: an ICD-10-CM file far smaller
than a release refused unless --force, `validate -j 0` refused."""
import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import refdata_files as files
from batch_support import DEFECT, edi, new_key
from click.testing import CliRunner

from edi837 import progress as progress_module
from edi837.cli import main
from edi837.progress import Progress

# the command as a user runs it, with progress shown from the first moment
QUICK = ("import sys, edi837.progress as p; p.DELAY = 0; p.REDRAW = 0.001; "
         "from edi837.cli import main; sys.argv[0] = 'edi837'; main()")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_step_ticks_on_a_terminal_and_leaves_no_line(monkeypatch):
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr(progress_module, "REDRAW", 0.005)
    screen = Terminal()
    bar = Progress(10 << 20, "edi837 fix", stream=screen)
    with bar.ticking():
        time.sleep(0.1)
    text = screen.getvalue()
    assert "\redi837 fix: 0 of 10 MB" in text and " elapsed" in text
    assert text.endswith("\r") and text.rstrip("\r").endswith(" ")  # erased at the end
    quiet = Progress(10 << 20, "edi837 fix", stream=Terminal(), enabled=False)
    with quiet.ticking():
        time.sleep(0.02)
    assert quiet._stream.getvalue() == ""


def on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run edi837 with stderr on a pseudo-terminal; its exit status and what it drew."""
    master, slave = pty.openpty()
    child = subprocess.Popen([sys.executable, "-c", QUICK, *args], cwd=cwd,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    drawn = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return child.wait(timeout=60), drawn.decode("utf-8", "replace")


def in_a_pipe(args: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", QUICK, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", ["generate", "fix --split", "validate", "refdata import"])
def test_long_commands_show_progress_on_a_terminal_only(tmp_path, command):
    claims = tmp_path / "claims.edi"
    claims.write_bytes(edi(DEFECT))
    order = files.write(tmp_path, "icd10cm_order_2026.txt", files.icd10_order())
    args = {"generate": ["generate", "--claims", "3000", "-o", "gen.edi", "--force"],
            "fix --split": ["fix", "--split", str(claims), "--out-dir", "fixed"],
            "validate": ["validate", str(claims)],
            "refdata import": ["refdata", "import", str(order), "--refdata", "store",
                               "--effective", "2025-10-01", "--force"]}[command]
    label = "edi837 " + command.replace(" --split", "")
    status, drawn = on_terminal(args, tmp_path)
    assert status in (0, 1), drawn
    assert f"\r{label}: " in drawn
    for leftover in ("gen.edi", "fixed", "store"):  # the same command again, into a pipe
        subprocess.run(["rm", "-rf", str(tmp_path / leftover)], check=True)
    status, piped = in_a_pipe(args, tmp_path)
    assert status in (0, 1) and "\r" not in piped and label + ":" not in piped


def test_a_small_icd10cm_file_is_refused_unless_forced(tmp_path):
    order = files.write(tmp_path, "icd10cm_order_2026.txt", files.icd10_order())
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["refdata", "import", str(order), "--refdata", str(store),
                                       "--effective", "2025-10-01"])
    assert result.exit_code == 2
    billable = sum(1 for code in files.ICD_CODES if code[1])
    assert f"only {billable} billable codes" in result.output and "--force" in result.output
    assert "nothing was imported" in result.output
    result = CliRunner().invoke(main, ["refdata", "import", str(order), "--refdata", str(store),
                                       "--effective", "2025-10-01", "--force"])
    assert result.exit_code == 0, result.output


def test_an_icd10cm_file_the_size_of_a_release_needs_no_force(tmp_path):
    from edi837.refdata import import_files

    codes = [(f"Z{n:05d}", True, "SYNTHETIC CODE", "Synthetic code") for n in range(10_000)]
    order = files.write(tmp_path, "icd10cm_order_2026.txt", files.icd10_order(codes))
    [outcome] = import_files([order], tmp_path / "store", effective=__import__("datetime").date(
        2025, 10, 1))
    assert outcome.result == "imported" and outcome.rows == 10_000


def test_validate_jobs_0_is_refused(tmp_path):
    claims = tmp_path / "claims.edi"
    claims.write_bytes(edi(DEFECT))
    result = CliRunner().invoke(main, ["validate", "-j", "0", str(claims)])
    assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output


def test_his001_names_the_originals_file_and_night(tmp_path):
    import json

    from batch_support import CLEAN, drop, options

    from edi837.batch import run_batch
    from edi837.x12.fragment import wrap_claims

    opts = options(tmp_path)
    drop(opts.inbox, "monday.edi", wrap_claims(CLEAN, control="000000001").encode())
    run_batch(opts)
    drop(opts.inbox, "tuesday.edi", wrap_claims(CLEAN.replace("CLM*C1*", "CLM*C7*"),
                                                control="000000002").encode())
    assert run_batch(opts) == 1
    [run] = [p for p in sorted(opts.out.iterdir()) if (p / "files" / "tuesday.edi").is_dir()]
    report = json.loads((run / "files" / "tuesday.edi" / "report.json").read_text())
    [his001] = [f for f in report["files"][0]["findings"] if f["rule"] == "HIS001"]
    night = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"already billed on claim C1 in file monday.edi of {night} (same" in his001["message"]
    # and the report names the history store it was judged by
    assert report["reference_data"]["history"]["store"] == str(opts.out / "ledger.sqlite3")


def test_held_txt_formats_charges_and_names_the_payer(tmp_path):
    claims = tmp_path / "in.edi"
    claims.write_bytes(edi(DEFECT.replace("CLM*C1*9400*", "CLM*C1*12400*")
                           .replace("HI*ABK:G35A", "HI*ABK:J45909")))  # DX001: held
    result = CliRunner().invoke(main, ["fix", "--split", str(claims), "--out-dir",
                                       str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    text = (tmp_path / "out" / "in.held.txt").read_text()
    assert "1 claim held from" in text and "(charges $12,400.00):" in text
    assert "claim C1 (transaction 0001, payer SYNTHETIC PAYER (PAYER01), charge $12,400.00):" \
        in text


def test_the_batch_summary_writes_counts_with_thousands_separators(tmp_path):
    import io as _io

    from batch_support import drop, options, summaries

    from edi837.batch import run_batch
    from edi837.batch.summary_html import write_summary_html

    opts = options(tmp_path)
    drop(opts.inbox, "a.edi", edi(DEFECT))
    run_batch(opts)
    [doc] = summaries(opts.out)
    doc["totals"].update(claims=123456, drug_lines=23456, errors=1234)
    doc["files"][0].update(claims=123456, drug_lines=23456, errors=1234, claims_held=1500)
    page = _io.StringIO()
    write_summary_html(doc, page)
    html = page.getvalue()
    assert 'data-figure="claims">123,456<' in html and 'data-figure="errors">1,234<' in html
    assert 'data-value="23456">23,456</td>' in html and 'data-value="1500">1,500</td>' in html
    assert ">123456<" not in html and ">23456<" not in html


def test_his001_in_check_names_the_originals_sha256_and_night_or_this_run(tmp_path):
    import hashlib
    import json

    from batch_support import CLEAN

    from edi837.x12.fragment import wrap_claims

    monday, tuesday = tmp_path / "monday.edi", tmp_path / "tuesday.edi"
    monday.write_text(wrap_claims(CLEAN, control="000000001"))
    tuesday.write_text(wrap_claims(CLEAN.replace("CLM*C1*", "CLM*C7*"), control="000000002"))
    store, key = tmp_path / "history.sqlite3", new_key(tmp_path / "key")

    def his001(*args) -> str:
        result = CliRunner().invoke(main, ["check", *map(str, args), "--format", "json"])
        found = json.loads(result.stdout)["files"][-1]["findings"]
        return next(f["message"] for f in found if f["rule"] == "HIS001")

    assert f"already billed on claim C1 in {monday} at segment 24 earlier in this run (same" \
        in his001(monday, tuesday)
    CliRunner().invoke(main, ["check", str(monday), "--history", str(store),
                              "--history-key", str(key)])
    sha = hashlib.sha256(monday.read_bytes()).hexdigest()[:12]
    night = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"claim C1 in file with SHA-256 {sha} of {night} (same" in his001(
        tuesday, "--history", store, "--history-key", key)
