"""The patient history in `edi837 batch`: kept in the ledger's database, judged
by the driver in the order files were taken, never counted twice after a crash."""
import json
import sqlite3

from batch_support import CLEAN, drop, edi, ledger, options, run_dirs
from click.testing import CliRunner
from test_batch import killed_at_step

from edi837.batch import run_batch
from edi837.cli.batch import batch as batch_command
from edi837.x12.fragment import wrap_claims

# the same infusion, billed again under another claim id: a duplicate (HIS001)
RESENT = CLEAN.replace("CLM*C1*", "CLM*C7*")


def nightly(fragment: str, control: str) -> bytes:
    """One patient in every file (unlike batch_support.edi): the history links them."""
    return wrap_claims(fragment, control=control).encode()


def report_rules(out, name: str) -> list[str]:
    """Rule codes in the JSON report of the run that finished ``name``."""
    row = next(r for r in ledger(out) if r["name"] == name and r["state"] == "done")
    report = json.loads((out / row["run_id"] / "files" / name / "report.json").read_text())
    return [f["rule"] for f in report["files"][0]["findings"]]


def history_lines(out) -> int:
    with sqlite3.connect(out / "ledger.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM history_lines").fetchone()[0]


def test_a_duplicate_sent_the_next_night_is_flagged(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "monday.edi", nightly(CLEAN, "000000001"))
    assert run_batch(opts) == 0
    assert "HIS003" in report_rules(opts.out, "monday.edi")  # first dose seen
    drop(opts.inbox, "tuesday.edi", nightly(RESENT, "000000002"))
    assert run_batch(opts) == 1
    assert "HIS001" in report_rules(opts.out, "tuesday.edi")
    assert history_lines(opts.out) == 1  # the duplicate was held, so not kept


def test_no_history_judges_a_run_on_its_own(tmp_path):
    opts = options(tmp_path, history=False)
    drop(opts.inbox, "monday.edi", nightly(CLEAN, "000000001"))
    run_batch(opts)
    drop(opts.inbox, "tuesday.edi", nightly(RESENT, "000000002"))
    assert run_batch(opts) == 0  # Monday is forgotten
    assert "HIS001" not in report_rules(opts.out, "tuesday.edi")
    with sqlite3.connect(opts.out / "ledger.sqlite3") as db:  # nothing kept
        assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'history_lines'"
                              ).fetchall()


def test_jobs_2_judge_the_history_in_the_order_files_were_taken(tmp_path):
    reports = {}
    for jobs in (1, 2):
        opts = options(tmp_path / f"jobs{jobs}", jobs=jobs)
        for n in range(6):
            fragment = CLEAN.replace("CLM*C1*", f"CLM*C{n}*")
            drop(opts.inbox, f"f{n}.edi", nightly(fragment, f"{n + 1:09d}"))
        run_batch(opts)
        reports[jobs] = {f"f{n}.edi": report_rules(opts.out, f"f{n}.edi") for n in range(6)}
    assert reports[1] == reports[2]
    assert "HIS001" not in reports[1]["f0.edi"]
    assert all("HIS001" in reports[1][f"f{n}.edi"] for n in range(1, 6))


def test_killed_at_every_step_the_history_counts_each_file_once(tmp_path):
    inputs = {"a-monday.edi": nightly(CLEAN, "000000001"),
              "b-tuesday.edi": nightly(RESENT, "000000002")}
    step = 0
    while True:
        step += 1
        opts = options(tmp_path / f"step{step}")
        for name, data in inputs.items():
            drop(opts.inbox, name, data)
        died = killed_at_step(opts, step)
        run_batch(opts)  # the restart repairs and finishes
        assert history_lines(opts.out) == 1, step
        assert "HIS001" not in report_rules(opts.out, "a-monday.edi"), step
        assert report_rules(opts.out, "b-tuesday.edi").count("HIS001") == 1, step
        if not died:
            break
    assert step > 8


def test_batch_history_options(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "a.edi", edi(CLEAN))
    store = tmp_path / "history.sqlite3"
    runner = CliRunner()
    result = runner.invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                           "--settle", "0", "--history", str(store)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM history_lines").fetchone()[0] == 1
    result = runner.invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                           "--no-history", "--history", str(store)])
    assert result.exit_code == 2 and "contradict" in result.output
    assert run_dirs(opts.out)


def test_batch_writes_a_999_and_a_277ca_beside_each_files_reports(tmp_path):
    from pyx12check import pyx12_verdict

    opts = options(tmp_path, ack277=True, split=True)
    drop(opts.inbox, "monday.edi", nightly(CLEAN, "000000001"))
    drop(opts.inbox, "tuesday.edi", nightly(RESENT, "000000002"))
    run_batch(opts)
    for name in ("monday.edi", "tuesday.edi"):
        row = next(r for r in ledger(opts.out) if r["name"] == name)
        folder = opts.out / row["run_id"] / "files" / name
        ack = folder / "tuesday.277" if name == "tuesday.edi" else folder / "monday.277"
        assert ack.exists() and (folder / ack.with_suffix(".999").name).exists()
        ok, output = pyx12_verdict(ack)
        assert ok, output
    # the duplicate the history found is the claim the 277CA rejects
    text = (opts.out / next(r for r in ledger(opts.out) if r["name"] == "tuesday.edi")["run_id"]
            / "files" / "tuesday.edi" / "tuesday.277").read_text()
    assert "STC*A" in text and "C7" in text
    assert "STC*A1" not in text.split("TRN*2*C7")[1].split("TRN*")[0]
