"""`edi837 batch`: drop folders, the ledger, crash safety, workers, watch mode, logs.

Every input here is synthetic (edi837.generator, edi837.x12.fragment).
"""
import itertools
import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from batch_support import (
    CLEAN,
    DEFECT,
    HOUR,
    assert_consistent,
    batch_argv,
    by_name,
    drop,
    edi,
    generated,
    has_fix,
    has_validate,
    killed_in_fork,
    ledger,
    options,
    run_dirs,
    subprocess_env,
    summaries,
    wait_for,
)
from click.testing import CliRunner

from edi837 import batch as batch_module
from edi837.batch import BatchError, BatchOptions, StopFlag, durable, run_batch
from edi837.cli.batch import batch as batch_command


# -- a drop folder ----------------------------------------------------------------------------
def test_drop_folder_outcomes_archive_quarantine_summary_exit_status(tmp_path):
    opts = options(tmp_path)
    inbox = opts.inbox
    good = generated("837P", seed=1)
    files = {
        "good-837p.edi": good,
        "partner/good-837i.edi": generated("837I", seed=2),
        "defect.edi": edi(DEFECT),
        "not-x12.pdf": b"%PDF-1.4 this is not an interchange\n",
        "remittance.835": edi(CLEAN).replace(b"ST*837*", b"ST*835*"),
        "truncated.edi": good[: len(good) // 2],
        '<b>odd & "name".edi': edi(CLEAN, control="000000077"),
    }
    for name, data in files.items():
        drop(inbox, name, data)
    drop(inbox, "growing.edi", good[:300], age=0)  # still being written: mtime now
    # sender's clock ahead, mtime in the future: taken once the run saw it unchanged for
    # --settle seconds (and quarantined: it is cut short)
    drop(inbox, "skewed.edi", good[:300], age=-600)
    drop(inbox, "upload.edi.part", good)  # partial and hidden names are never inputs
    drop(inbox, ".hidden.edi", good)

    result = CliRunner().invoke(batch_command, [str(inbox), "--out", str(opts.out),
                                                "--settle", "5", "--format", "json,html"])

    assert result.exit_code == 2, result.output  # four files quarantined
    [summary] = summaries(opts.out)
    files_in = by_name(summary)
    run_id = summary["run"]["id"]
    # "findings" is an error or warning; the good files have infos only, so they are OK
    assert {n: (f["outcome"], f["errors"] > 0) for n, f in files_in.items()} == {
        "good-837p.edi": ("ok", False), "partner/good-837i.edi": ("ok", False),
        "defect.edi": ("findings", True), "not-x12.pdf": ("quarantined", True),
        "truncated.edi": ("quarantined", True), '<b>odd & "name".edi': ("ok", False),
        "remittance.835": ("quarantined", True), "skewed.edi": ("quarantined", True)}
    assert "NDC002" in files_in["defect.edi"]["rules"]
    assert summary["totals"]["quarantined"] == 4 and summary["run"]["exit_status"] == 2
    assert [w["name"] for w in summary["waiting"]] == ["growing.edi"]

    archive, quarantine = opts.out / "archive" / run_id, opts.out / "quarantine" / run_id
    for name in ("good-837p.edi", "partner/good-837i.edi", "defect.edi"):
        assert (archive / name).read_bytes() == files[name]
        assert json.loads((opts.out / run_id / "files" / name / "report.json").read_text())
        assert (opts.out / run_id / "files" / name / "report.html").is_file()
    for name, rule in (("not-x12.pdf", "EDI001"), ("truncated.edi", "EDI002"),
                       ("remittance.835", "EDI005")):
        assert (quarantine / name).read_bytes() == files[name]
        reason = (quarantine / f"{name}.reason.txt").read_text()
        assert rule in reason and files_in[name]["reason"] in reason
    assert sorted(p.name for p in inbox.rglob("*") if p.is_file()) == [
        ".hidden.edi", "growing.edi", "upload.edi.part"]

    page = (opts.out / run_id / "summary.html").read_text()
    assert "<b>odd" not in page and "&lt;b&gt;odd &amp; &quot;name&quot;.edi" in page
    assert 'href="files/good-837p.edi/report.html"' in page
    assert 'data-figure="quarantined">4<' in page


def test_quarantined_is_what_check_calls_unreadable_not_an_edi_warning(tmp_path):
    """Text after the last IEA is an EDI002 warning to ``check`` (the file is read
    whole): batch archives such a file with its findings, it does not quarantine it."""
    from edi837.cli import main

    opts = options(tmp_path)
    good = generated("837P", seed=3)
    files = {"trailer.edi": edi(CLEAN) + b"\nsent by SYNTHETIC CLEARINGHOUSE\n",
             "truncated.edi": good[: len(good) // 2], "not-x12.txt": b"hello\n",
             "clean.edi": edi(CLEAN, control="000000002")}
    check = {}
    for name, data in files.items():
        check[name] = CliRunner().invoke(main, ["check", str(drop(opts.inbox, name, data))])
    assert "EDI002 warning" in check["trailer.edi"].output
    assert run_batch(opts) == 2
    rows = {r["name"]: r for r in ledger(opts.out)}
    for name in files:  # quarantined exactly when check says "could not be read" (status 2)
        assert (rows[name]["outcome"] == "quarantined") == (check[name].exit_code == 2), name
    assert rows["trailer.edi"]["outcome"] == "findings"
    assert json.loads(rows["trailer.edi"]["rules"])["EDI002"] == 1


def test_exit_status_0_clean_1_error_findings(tmp_path):
    clean = options(tmp_path / "a")
    drop(clean.inbox, "clean.edi", edi(CLEAN))
    assert run_batch(clean) == 0
    defect = options(tmp_path / "b")
    drop(defect.inbox, "clean.edi", edi(CLEAN))
    drop(defect.inbox, "defect.edi", edi(DEFECT))
    assert run_batch(defect) == 1
    assert [s["run"]["exit_status"] for s in summaries(defect.out)] == [1]


def test_rerun_does_nothing_new_and_takes_a_file_once_it_settles(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "a.edi", edi(CLEAN))
    drop(opts.inbox, "b.edi", edi(DEFECT))
    growing = drop(opts.inbox, "late.edi", edi(CLEAN, control="000000002"), age=0)
    assert run_batch(opts) == 1
    before = sorted(p for p in opts.out.rglob("*")), ledger(opts.out)

    assert run_batch(opts) == 0  # nothing new: no run, no output, no ledger row
    assert (sorted(p for p in opts.out.rglob("*")), ledger(opts.out)) == before

    os.utime(growing, (time.time() - HOUR, time.time() - HOUR))  # the upload finished
    assert run_batch(opts) == 0
    assert [r["name"] for r in ledger(opts.out)] == ["a.edi", "b.edi", "late.edi"]
    assert len(run_dirs(opts.out)) == 2


def test_same_content_under_another_name_is_not_checked_again(tmp_path):
    opts = options(tmp_path)
    data = edi(DEFECT)
    drop(opts.inbox, "first.edi", data)
    drop(opts.inbox, "same-run-copy.edi", data)  # a copy in the same run waits for the first
    assert run_batch(opts) == 1
    drop(opts.inbox, "renamed.edi", data)
    assert run_batch(opts) == 0  # nothing new checked: no error findings of its own

    rows = {r["name"]: r for r in ledger(opts.out)}
    assert rows["first.edi"]["outcome"] == "findings"
    for name in ("same-run-copy.edi", "renamed.edi"):
        assert rows[name]["outcome"] == "duplicate"
        assert rows[name]["duplicate_of"] == rows["first.edi"]["id"]
        assert not (opts.out / rows[name]["run_id"] / "files" / name).exists()
        assert Path(rows[name]["destination"]).read_bytes() == data  # archived, not lost
    last = summaries(opts.out)[-1]
    assert by_name(last)["renamed.edi"]["duplicate_of"]["name"] == "first.edi"
    assert last["totals"]["duplicates"] == 1

    drop(opts.inbox, "again.edi", data)
    assert run_batch(options(tmp_path, reprocess=True)) == 1  # --reprocess checks it again
    assert {r["name"]: r["outcome"] for r in ledger(opts.out)}["again.edi"] == "findings"


def test_marker_file_mode(tmp_path):
    opts = options(tmp_path, marker=".done", settle=3600)  # marker replaces settling
    drop(opts.inbox, "a.edi", edi(CLEAN), age=0)
    drop(opts.inbox, "b.edi", edi(CLEAN, control="000000002"), age=0)
    drop(opts.inbox, "a.edi.done", b"", age=0)
    assert run_batch(opts) == 0
    assert [r["name"] for r in ledger(opts.out)] == ["a.edi"]
    assert sorted(p.name for p in opts.inbox.iterdir()) == ["b.edi"]  # marker removed too


def test_one_bad_file_never_stops_the_batch(tmp_path, monkeypatch, caplog):
    from edi837.engine import Engine
    from edi837.reports import load_writers

    real_check, real_json = Engine.check_file, load_writers()["json"]

    def check_file(self, path, **options):  # a rule crashes on one file
        if str(path).endswith("boom.edi"):
            raise ValueError("rule crashed on member SYN000000001")
        return real_check(self, path, **options)

    def write_json(report, out):  # a report writer crashes on another
        if report.files[0].path.endswith("bad-report.edi"):
            out.write('{"half": ')
            raise KeyError("SYN000000001")
        real_json(report, out)

    monkeypatch.setattr(Engine, "check_file", check_file)
    monkeypatch.setitem(load_writers(), "json", write_json)
    opts = options(tmp_path, formats=("html", "json"))
    for n, name in enumerate(("a.edi", "bad-report.edi", "boom.edi", "c.edi")):
        drop(opts.inbox, name, edi(CLEAN, control=f"00000000{n + 1}"))
    with caplog.at_level("INFO", logger="edi837.batch"):
        assert run_batch(opts) == 2
    rows = {r["name"]: r for r in ledger(opts.out)}
    assert (rows["a.edi"]["errors"], rows["c.edi"]["errors"]) == (0, 0)
    assert {rows["a.edi"]["outcome"], rows["c.edi"]["outcome"]} <= {"ok", "findings"}
    for name, error in (("boom.edi", "ValueError"), ("bad-report.edi", "KeyError")):
        assert rows[name]["outcome"] == "quarantined"
        reason = Path(rows[name]["destination"] + ".reason.txt").read_text()
        assert error in reason  # the message goes to the reason file beside the data ...
        assert f"internal error {error}" in caplog.text
    assert "SYN000000001" not in caplog.text  # ... never to the log
    # no partial set of reports for the file whose reports failed
    assert not (opts.out / rows["bad-report.edi"]["run_id"] / "files" / "bad-report.edi").exists()
    assert not list(opts.out.rglob("*.tmp"))


def test_stop_signal_finishes_the_current_file_then_stops(tmp_path, monkeypatch):
    opts = options(tmp_path)
    for n in range(3):
        drop(opts.inbox, f"f{n}.edi", edi(CLEAN, control=f"00000000{n + 1}"))
    stop = StopFlag()

    def checkpoint(step):
        if step == "report-written":  # SIGTERM arrives while the first file is checked
            stop.set(signal.SIGTERM)

    monkeypatch.setattr(durable, "checkpoint", checkpoint)
    assert run_batch(opts, stop=stop) == 2  # one-shot: files were left, the operator must know
    rows = ledger(opts.out)
    assert [(r["name"], r["state"]) for r in rows] == [("f0.edi", "done")]
    assert sorted(p.name for p in opts.inbox.iterdir()) == ["f1.edi", "f2.edi"]
    [summary] = summaries(opts.out)
    assert summary["run"]["state"] == "stopped" and summary["problems"]
    monkeypatch.setattr(durable, "checkpoint", lambda step: None)
    assert run_batch(opts) == 0  # the next run takes the rest
    assert_consistent(opts, {f"f{n}.edi": edi(CLEAN, control=f"00000000{n + 1}")
                             for n in range(3)})


def test_a_second_batch_on_the_same_outdir_or_inbox_is_refused(tmp_path):
    opts = options(tmp_path, lock_wait=0.2)
    with batch_module.Batch(opts):
        with pytest.raises(BatchError, match="another edi837 batch is running on the output"):
            batch_module.Batch(opts).open()
        other_out = options(tmp_path, out=tmp_path / "elsewhere", lock_wait=0)
        with pytest.raises(BatchError, match="another edi837 batch is running on the inbox"):
            batch_module.Batch(other_out).open()
    result = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.inbox)])
    assert result.exit_code == 2 and "must not be the inbox" in result.output


# -- crash safety ------------------------------------------------------------------------------
def crash_inputs() -> dict[str, bytes]:
    return {"a-clean.edi": edi(CLEAN), "b-defect.edi": edi(DEFECT),
            "c-copy.edi": edi(CLEAN),  # same content as a-clean.edi: a duplicate
            "d-truncated.edi": edi(CLEAN)[:400]}


def killed_at_step(opts: BatchOptions, step: int) -> bool:
    """Run a batch in a forked child that SIGKILLs itself at checkpoint number ``step``
    (counting every step of every file); True if it died there."""
    reached = itertools.count(1)
    return os.WIFSIGNALED(killed_in_fork(opts, lambda name: next(reached) == step))


def test_killed_at_every_step_then_restarted(tmp_path):
    """Deterministic kill points: after each step of the order of operations (row
    written, each report, outputs fsynced, recorded, reason file, moved, done, summary)."""
    inputs = crash_inputs()
    step = 0
    while True:
        step += 1
        opts = options(tmp_path / f"step{step}")
        for name, data in inputs.items():
            drop(opts.inbox, name, data)
        died = killed_at_step(opts, step)
        run_batch(opts)  # the restart repairs and finishes
        assert_consistent(opts, inputs)
        rows = {r["name"]: r for r in ledger(opts.out)}
        assert rows["c-copy.edi"]["outcome"] == "duplicate"
        if not died:
            break
    assert step > 20  # every step of every file was a kill point


def test_sigkill_at_random_moments_then_restart(tmp_path):
    rng = random.Random(8370)
    opts = options(tmp_path, settle=0.0, formats=("json", "html"))
    inputs: dict[str, bytes] = {}
    kills = rounds = 0
    window = 0.1  # kill within this many seconds of the run starting; adapts to the machine
    while kills < 20:
        rounds += 1
        assert rounds < 60, "the batch finished before every kill; make the window wider"
        for n in range(3):  # new uploads every round, some for the killed run to take
            name = f"r{rounds:02d}-{n}.edi"
            inputs[name] = generated("837I" if n == 2 else "837P", claims=3,
                                     seed=rounds * 10 + n)
            drop(opts.inbox, name, inputs[name])
        # often two kills in a row: the second run killed may be in the middle of recovery
        for _ in range(rng.choice((1, 2))):
            log = tmp_path / f"stderr-{rounds}-{kills}.txt"
            with open(log, "wb") as err:
                process = subprocess.Popen(
                    batch_argv() + [str(opts.inbox), "--out", str(opts.out), "--settle", "0",
                                    "--format", "json,html", "--jobs", rng.choice("12")],
                    stderr=err, env=subprocess_env())
            # aim at the work, not at the interpreter starting: wait until the run begins
            wait_for(lambda process=process, log=log: process.poll() is not None
                     or b"files to take" in log.read_bytes()
                     or b"recovery" in log.read_bytes(), timeout=20)
            time.sleep(rng.uniform(0, window))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
                window *= 1.1
            else:  # it finished first: aim earlier
                window *= 0.8
            process.wait()
        assert run_batch(opts) in (0, 1, 2)  # the restart
        assert_consistent(opts, inputs)


def test_jobs_2_writes_the_same_outputs_as_jobs_1(tmp_path):
    files = {f"p{n}.edi": generated("837P", claims=5, seed=n) for n in range(3)}
    files["i0.edi"] = generated("837I", claims=5, seed=9)
    files["sub/defect.edi"] = edi(DEFECT)
    files["truncated.edi"] = generated("837P", claims=3, seed=5)[:700]

    def run(jobs: int, out: str) -> Path:
        opts = options(tmp_path, out=tmp_path / out, jobs=jobs, formats=("json", "html", "csv"))
        for name, data in files.items():  # the same inbox path: reports name their input
            drop(opts.inbox, name, data, age=HOUR)
        assert run_batch(opts) == 2
        return opts.out

    one, two = run(1, "out1"), run(2, "out2")

    def contents(out: Path) -> dict[str, object]:
        [run_dir] = run_dirs(out)
        found = {}
        for path in sorted(run_dir.rglob("*")):
            if not path.is_file():
                continue
            # what may differ: the run id, the output folder, times
            text = path.read_text().replace(run_dir.name, "RUN").replace(str(out), "OUT")
            text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?",
                          "TIME", text)
            text = re.sub(r'data-figure="seconds">[^<]*', "", text)
            found[str(path.relative_to(run_dir))] = text
        return found

    assert contents(one) == contents(two)
    # summaries and the queue page + 3 formats per file + queue.jsonl per file checked
    # (not the quarantined one)
    assert len(contents(one)) == 3 + 3 * len(files) + len(files) - 1


# -- watch mode --------------------------------------------------------------------------------
def test_watch_picks_up_a_dropped_file_and_stops_on_sigterm(tmp_path):
    opts = options(tmp_path)
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        process = subprocess.Popen(
            batch_argv() + [str(opts.inbox), "--out", str(opts.out), "--watch",
                            "--interval", "0.1", "--settle", "0.3",
                            "--log-file", str(tmp_path / "batch.log")],
            stderr=err, env=subprocess_env())
    try:
        assert wait_for(lambda: b"watching" in log.read_bytes()), log.read_text()
        # a sender uploads under a partial name, then renames: the usual SFTP pattern
        partial = opts.inbox / "dropped.edi.part"
        partial.write_bytes(edi(CLEAN))
        time.sleep(0.5)  # several polls see only the partial name
        assert not ledger(opts.out)
        partial.rename(opts.inbox / "dropped.edi")
        assert wait_for(lambda: not (opts.inbox / "dropped.edi").exists()), log.read_text()
        assert wait_for(lambda: len(run_dirs(opts.out)) == 1
                        and (run_dirs(opts.out)[0] / "summary.html").exists())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert [(r["name"], r["errors"], r["state"]) for r in ledger(opts.out)] == [
        ("dropped.edi", 0, "done")]
    text = log.read_text()
    assert "stopped (signal 15)" in text
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d INFO ", text, re.M)
    assert text == (tmp_path / "batch.log").read_text()  # --log-file gets the same lines


def test_progress_bar_on_a_terminal(tmp_path):
    import pty

    opts = options(tmp_path)
    for n in range(3):
        drop(opts.inbox, f"f{n}.edi", edi(CLEAN, control=f"00000000{n + 1}"))
    master, slave = pty.openpty()
    try:
        process = subprocess.run(batch_argv() + [str(opts.inbox), "--out", str(opts.out)],
                                 stderr=slave, env=subprocess_env(), timeout=60)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert process.returncode == 0
    text = shown.decode()
    assert "edi837 batch" in text and "100%" in text  # click's bar
    assert " INFO " not in text  # while a bar is drawn, stderr gets warnings only


# -- logs --------------------------------------------------------------------------------------
def people(data: bytes) -> set[str]:
    """Names, member ids and birth dates in the NM1*IL / NM1*QC / DMG segments."""
    found = set()
    for segment in data.decode().replace("\n", "").split("~"):
        fields = segment.split("*")
        if fields[0] == "NM1" and fields[1] in ("IL", "QC"):
            found.update(f for f in (fields[3], fields[4], fields[9] if len(fields) > 9 else "")
                         if len(f) >= 3)
        if fields[0] == "DMG":
            found.add(fields[2])
    return found


def test_logs_hold_no_patient_names_member_ids_or_birth_dates(tmp_path, monkeypatch):
    from edi837.engine import Engine

    opts = options(tmp_path)
    files = {"p.edi": generated("837P", claims=12, seed=4), "i.edi": generated("837I", seed=5),
             "defect.edi": edi(DEFECT)}
    files["truncated.edi"] = files["p.edi"][: len(files["p.edi"]) * 2 // 3]
    files["boom.edi"] = generated("837P", claims=3, seed=6)
    for name, data in files.items():
        drop(opts.inbox, name, data)
    secrets = set().union(*(people(data) for data in files.values()))
    assert len(secrets) > 20
    assert any("NM1*QC" in data.decode() for data in files.values())  # dependants too

    real = Engine.check_file

    def check_file(self, path, **options):  # an exception quoting data must not reach the log
        if str(path).endswith("boom.edi"):
            raise ValueError(f"cannot read {' '.join(sorted(people(files['boom.edi'])))}")
        return real(self, path, **options)

    monkeypatch.setattr(Engine, "check_file", check_file)
    log_file = tmp_path / "batch.log"
    result = CliRunner().invoke(batch_command, [
        str(opts.inbox), "--out", str(opts.out), "--settle", "1", "--log-file", str(log_file),
        "--format", "json,html,text"])
    assert result.exit_code == 2, result.output
    logs = result.output + log_file.read_text()
    assert "quarantined" in logs and "NDC002" in logs  # the log does say what happened
    # not a terminal: no progress bar, every line a timestamped log line
    assert all(re.match(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d (INFO|WARNING|ERROR) ", line)
               for line in logs.splitlines())
    leaked = sorted(s for s in secrets if s in logs)
    assert not leaked


# -- options that need other modules -------------------------------------------------------------
@pytest.mark.skipif(not has_fix, reason="needs edi837.fix (issue #6), not there yet")
def test_fix_writes_corrected_edi_beside_the_reports(tmp_path):
    opts = options(tmp_path, fix=True)
    drop(opts.inbox, "defect.edi", edi(DEFECT))
    run_batch(opts)
    [row] = ledger(opts.out)
    fixed = opts.out / row["run_id"] / "files" / "defect.edi" / "fixed"
    corrected = [p for p in fixed.rglob("*") if p.is_file()
                 and b"LIN**N4*50242015001" in p.read_bytes()]
    assert corrected, sorted(fixed.rglob("*"))
    assert all("files/defect.edi/fixed/" in r or r.endswith("report.json")
               for r in json.loads(row["outputs"]))
    assert_consistent(opts, {"defect.edi": edi(DEFECT)})


@pytest.mark.skipif(not has_fix, reason="needs edi837.fix (issue #6), not there yet")
def test_split_writes_accepted_and_held_files(tmp_path):
    opts = options(tmp_path, split=True)
    no_ndc = CLEAN.replace("C1", "C2").replace("LIN**N4*50242015001\n", "").replace(
        "CTP****20*ML\n", "")  # NDC001: no safe fix, so the claim is held
    drop(opts.inbox, "mixed.edi", edi(CLEAN + no_ndc))
    run_batch(opts)
    [row] = ledger(opts.out)
    names = [p.name for p in (opts.out / row["run_id"] / "files" / "mixed.edi").rglob("*")]
    assert any(n.endswith(".accepted.edi") for n in names), names
    assert any(n.endswith(".held.edi") for n in names), names


@pytest.mark.skipif(not has_validate, reason="needs edi837.validate (issue #8), not there yet")
def test_validate_merges_ig_findings_into_the_reports(tmp_path):
    opts = options(tmp_path, validate=True)
    drop(opts.inbox, "clean.edi", edi(CLEAN))
    assert run_batch(opts) in (0, 1)
    [row] = ledger(opts.out)
    report = json.loads((opts.out / row["run_id"] / "files" / "clean.edi" /
                         "report.json").read_text())
    assert report["files"][0]["status"] in ("ok", "findings")


def test_bad_options_are_refused_before_anything_moves(tmp_path):
    opts = options(tmp_path)
    drop(opts.inbox, "clean.edi", edi(CLEAN))
    result = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                                "--format", "json,pdf"])
    assert result.exit_code == 2 and "unknown report format pdf" in result.output
    if not (has_fix and has_validate):
        flag = "--validate" if not has_validate else "--fix"
        result = CliRunner().invoke(batch_command, [str(opts.inbox), "--out", str(opts.out),
                                                    flag])
        assert result.exit_code == 2 and "needs edi837." in result.output
    assert (opts.inbox / "clean.edi").exists() and not ledger(opts.out)
