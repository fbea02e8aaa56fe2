"""The command line: exit statuses, messages on bad input, outputs."""
import csv
import io
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main
from edi837.x12.fragment import wrap_claims

CLEAN = CLEAN_J2350_CLAIM
DEFECT = CLEAN.replace("50242015001", "50242-150-01")


@pytest.fixture
def runner():
    return CliRunner()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_clean_file_exits_0(runner, tmp_path):
    path = write(tmp_path, "clean.edi", wrap_claims(CLEAN).replace("\n", ""))
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 file (1 OK), 1 claim, 1 drug line: 0 errors, 0 warnings, 0 infos" in result.output


def test_check_error_finding_exits_1_with_linter_lines(runner, tmp_path):
    path = write(tmp_path, "defect.edi", wrap_claims(DEFECT))
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    line = next(text for text in result.output.splitlines() if "NDC002" in text)
    assert line.startswith(f"{path}:29: NDC002 error NDC '50242-150-01'")
    assert line.endswith("[claim C1, line 1]")


def test_bad_file_does_not_stop_the_batch_and_exits_2(runner, tmp_path):
    write(tmp_path, "a-not-x12.edi", "this is a spreadsheet, not a claim file\n")
    truncated = wrap_claims(CLEAN)
    write(tmp_path, "b-truncated.edi", truncated[: truncated.index("LX*2")])
    write(tmp_path, "c-good.edi", wrap_claims(DEFECT))
    result = runner.invoke(main, ["check", str(tmp_path), "--format", "json"])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    document = json.loads(result.stdout)
    statuses = {f["path"].rsplit("/", 1)[1]: f["status"] for f in document["files"]}
    assert statuses == {"a-not-x12.edi": "unreadable", "b-truncated.edi": "unreadable",
                        "c-good.edi": "findings"}
    assert "a-not-x12.edi:1: EDI001" in result.stderr
    assert [f["rule"] for f in document["files"][2]["findings"]] == ["NDC002"]


def test_select_and_ignore(runner, tmp_path):
    path = write(tmp_path, "defect.edi", wrap_claims(DEFECT))
    ignored = runner.invoke(main, ["check", str(path), "--ignore", "NDC002,EDI"])
    assert ignored.exit_code == 0 and "NDC002" not in ignored.output
    selected = runner.invoke(main, ["check", str(path), "--select", "NDC", "--format", "json"])
    rules = {f["rule"] for f in json.loads(selected.stdout)["files"][0]["findings"]}
    assert rules == {"NDC002"}


def test_config_file_changes_severity_and_profiles(runner, tmp_path):
    path = write(tmp_path, "defect.edi", wrap_claims(DEFECT, filing="CI"))
    config = write(tmp_path, "edi837.toml", '[severity]\nNDC002 = "warning"\n')
    result = runner.invoke(main, ["check", str(path), "--config", str(config)])
    assert result.exit_code == 0 and "NDC002 warning" in result.output
    bad = write(tmp_path, "bad.toml", '[severity]\nNDC002 = "fatal"\n')
    result = runner.invoke(main, ["check", str(path), "--config", str(bad)])
    assert result.exit_code == 2 and "severity.NDC002" in result.stderr


def test_extract_rows_and_formats(runner, tmp_path):
    path = write(tmp_path, "clean.edi", wrap_claims(CLEAN))
    result = runner.invoke(main, ["extract", str(path)])
    assert result.exit_code == 0
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["claim_id"], row["hcpcs"], row["units"], row["ndc"], row["ndc_unit"]) == (
        "C1", "J2350", "600", "50242015001", "ML")
    assert (row["modifiers"], row["date_of_service"], row["pointed_diagnosis_codes"]) == (
        "JZ", "20260115", "G35A")
    assert row["rendering_npi"] == "1234567893" and row["ordering_npi"] == "1234567893"
    out = tmp_path / "rows.jsonl"
    result = runner.invoke(main, ["extract", str(path), "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 0
    (record,) = [json.loads(text) for text in out.read_text().splitlines()]
    assert record["payer_id"] == "PAYER01" and record["line_number"] == "1"
    # the extension says the format (was: CSV into rows.json without a word)
    for name in ("rows2.jsonl", "rows.json"):
        result = runner.invoke(main, ["extract", str(path), "-o", str(tmp_path / name)])
        assert result.exit_code == 0
        assert json.loads((tmp_path / name).read_text().splitlines()[0])["hcpcs"] == "J2350"
    result = runner.invoke(main, ["extract", str(path), "--format", "csv",
                                  "-o", str(tmp_path / "rows3.jsonl")])
    assert result.exit_code == 2 and "names jsonl rows, but --format csv" in result.output
    assert not (tmp_path / "rows3.jsonl").exists()


def test_extract_help_names_each_exit_status(runner):
    text = " ".join(runner.invoke(main, ["extract", "--help"]).output.split())
    assert "0 every file and segment read" in text
    assert "1 a segment could not be read (EDI007" in text
    assert "2 a file could not be read" in text


def test_extract_escapes_formula_cells(runner, tmp_path):
    text = wrap_claims(CLEAN.replace("CLM*C1*", "CLM*=HYPERLINK(1)*"))
    path = write(tmp_path, "formula.edi", text)
    result = runner.invoke(main, ["extract", str(path)])
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["claim_id"] == "'=HYPERLINK(1)"


def test_rules_and_drugs_commands(runner):
    listing = runner.invoke(main, ["rules"])
    assert listing.exit_code == 0
    assert any(text.startswith("MOD001  by policy") for text in listing.output.splitlines())
    one = runner.invoke(main, ["rules", "ndc002"])
    assert "PASS:" in one.output and "FAIL:" in one.output and "Fix safety: safe" in one.output
    assert runner.invoke(main, ["rules", "XYZ999"]).exit_code == 2
    drug = runner.invoke(main, ["drugs", "J2350"])
    assert "NDC 50242015001" in drug.output and "labeled doses (units): 300, 600" in drug.output
    # the table's sources cite sections of the maintainers' notes: the output says what they are
    assert "(§2.1, §2.2)" in drug.output
    assert drug.output.splitlines()[-1].startswith("  § N: section N of billing-rules.md, "
                                                    "the maintainers' reference notes")


def test_generate_is_deterministic(runner, tmp_path):
    a, b = tmp_path / "a.edi", tmp_path / "b.edi"
    for out in (a, b):
        result = runner.invoke(main, ["generate", "--claims", "20", "--seed", "7", "-o", str(out)])
        assert result.exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert runner.invoke(main, ["generate", "-o", str(a)]).exit_code == 2


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "edi837", "--version"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("edi837, version ")


def test_folders_skip_hidden_partial_documentation_and_report_files(tmp_path):
    from edi837.files import discover

    for name in ("README.md", "report.html", "findings.csv", "upload.edi.part", ".hidden.edi",
                 "x.edi.reason.txt", "claims.edi", "claims2.x12", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.837").write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert found == ["claims.edi", "claims2.x12", "notes.txt", "sub/more.837"]
    for own in ("x.held.txt", "report.annotated.txt", "x.edi.changes.txt"):
        (tmp_path / own).write_text("x")
    assert [p.name for p in discover([tmp_path])] == ["claims.edi", "claims2.x12",
                                                     "notes.txt", "more.837"]
    # a file named directly is always read, whatever its name
    assert list(discover([tmp_path / "README.md"])) == [tmp_path / "README.md"]


def test_check_validate_merges_ig_findings_and_honours_ignore(runner):
    from conftest import SAMPLES

    sample = str(SAMPLES / "837p-j2350-defects-ig-invalid.edi")
    result = runner.invoke(main, ["check", sample, "--validate", "--format", "json"])
    assert result.exit_code == 1
    rules = [f["rule"] for f in json.loads(result.stdout)["files"][0]["findings"]]
    assert rules.count("IGE7") == 2 and rules.count("IGS3") == 1 and "NDC006" in rules
    result = runner.invoke(main, ["check", sample, "--validate", "--ignore", "IG",
                                  "--format", "json"])
    rules = [f["rule"] for f in json.loads(result.stdout)["files"][0]["findings"]]
    assert not [r for r in rules if r.startswith("IG")]
    plain = runner.invoke(main, ["check", sample, "--format", "json"])
    assert "IGE7" not in plain.stdout


def test_unwritable_outputs_and_bad_sizes_exit_2_without_traceback(runner, tmp_path):
    path = write(tmp_path, "clean.edi", wrap_claims(CLEAN))
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for args in (["check", str(path), "-o", str(folder)],
                 ["extract", str(path), "-o", str(folder)],
                 ["generate", "--size", "MB", "-o", str(tmp_path / "g.edi")],
                 ["generate", "--size", "-5MB", "-o", str(tmp_path / "g.edi")],
                 ["generate", "--size", "1e999MB", "-o", str(tmp_path / "g.edi")],
                 ["batch", str(tmp_path), "--out", str(tmp_path / "out"),
                  "--log-file", str(folder)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Traceback" not in result.output


@pytest.mark.parametrize("command, under", [
    (["check"], "r.json"), (["extract"], "sub/r.csv"), (["fix", "--out-dir"], "fixed")])
def test_an_output_under_a_file_says_the_file_is_not_a_folder(runner, tmp_path, command, under):
    path = write(tmp_path, "clean.edi", wrap_claims(CLEAN))
    target = str(path / under)
    args = [command[0], str(path), *command[1:], target] if command[0] == "fix" else \
        [*command, str(path), "-o", target]
    result = runner.invoke(main, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"{path} is a file, not a folder" in result.stderr
    assert "File exists" not in result.stderr and "Not a directory" not in result.stderr


def test_an_unreadable_file_is_reported_and_the_others_still_checked(runner, tmp_path,
                                                                     monkeypatch):
    import os

    dangling = tmp_path / "gone.edi"
    dangling.symlink_to(tmp_path / "nowhere.edi")
    good = write(tmp_path, "good.edi", wrap_claims(DEFECT))
    # click must not refuse the whole command because one input looks unreadable
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if str(p).endswith(
        "good.edi") else real_access(p, mode, *a, **k))
    result = runner.invoke(main, ["check", str(dangling), str(good)])
    assert result.exit_code == 2
    assert "NDC002" in result.output and "gone.edi: EDI001 cannot read file" in result.stderr


def test_utf8_text_shows_as_written_in_json_and_extract(runner, tmp_path):
    path = tmp_path / "utf8.edi"
    path.write_bytes(wrap_claims(DEFECT.replace("CLM*C1*", "CLM*CL\u00d61*")).encode("utf-8"))
    report = json.loads(runner.invoke(main, ["check", str(path), "--format", "json"]).stdout)
    claim_ids = {f["claim_id"] for f in report["files"][0]["findings"] if f["claim_id"]}
    assert claim_ids == {"CL\u00d61"}
    rows = runner.invoke(main, ["extract", str(path), "--format", "jsonl"]).stdout
    assert json.loads(rows.splitlines()[0])["claim_id"] == "CL\u00d61"


def test_jsonl_rows_stay_one_line_for_splitlines(runner, tmp_path):
    """Issue #13: a NEL byte (0x85, latin-1) or a UTF-8 line separator in a claim id
    came out raw, and str.splitlines() cut the row in two."""
    path = tmp_path / "nel.edi"
    path.write_bytes(wrap_claims(DEFECT.replace("CLM*C1*", "CLM*C\x851*")).encode("latin-1"))
    rows = runner.invoke(main, ["extract", str(path), "--format", "jsonl"]).stdout
    [row] = rows.splitlines()
    assert json.loads(row)["claim_id"] == "C\x851"
    path.write_bytes(wrap_claims(DEFECT.replace("CLM*C1*", "CLM*C\u20281*")).encode("utf-8"))
    rows = runner.invoke(main, ["extract", str(path), "--format", "jsonl"]).stdout
    [row] = rows.splitlines()
    assert json.loads(row)["claim_id"] == "C\u20281"


def test_a_bug_while_reading_one_file_is_edi008_and_the_run_goes_on(runner, tmp_path,
                                                                     monkeypatch):
    import dataclasses

    from edi837.rules import REGISTRY, all_rules

    def broken(ctx):  # a bug that only this file's hyphenated NDC sets off
        if "-" in ctx.line.ndc:
            raise RuntimeError("simulated bug")

    rule = all_rules()["NDC002"]
    monkeypatch.setitem(REGISTRY, "NDC002", dataclasses.replace(rule, check=broken))
    bad = write(tmp_path, "a.edi", wrap_claims(DEFECT))
    good = write(tmp_path, "b.edi", wrap_claims(CLEAN))
    result = runner.invoke(main, ["check", str(bad), str(good), "--format", "json"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    first, second = json.loads(result.stdout)["files"]
    assert first["status"] == "unreadable"
    assert [f["rule"] for f in first["findings"] if f["rule"] == "EDI008"] == ["EDI008"]
    assert second["claims"] == 1 and "EDI008" not in str(second["findings"])
    assert "EDI008" in result.stderr and "simulated bug" in result.stderr


def test_writing_to_a_device_never_replaces_it(tmp_path):
    """-o /dev/null must write to the device, not rename a plain file over it."""
    import os
    import stat

    from edi837.files import atomic_output

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with atomic_output(fifo) as out:
            out.write("report\n")
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        assert os.read(reader, 100) == b"report\n"
    finally:
        os.close(reader)
    with atomic_output(os.devnull) as out:
        out.write("nothing")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_file_named_twice_is_read_once(runner, tmp_path):
    path = write(tmp_path, "one.edi", wrap_claims(DEFECT))
    result = runner.invoke(main, ["check", str(tmp_path), str(path), "--format", "json"])
    assert json.loads(result.stdout)["summary"]["files"] == 1


def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(runner, tmp_path):
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"bad\xff.edi")
    (folder / name).write_bytes(wrap_claims(DEFECT).encode())
    for output in ("r.json", "r.xml", "r.html", "r.csv", "r.txt", "r.annotated.txt"):
        result = runner.invoke(main, ["check", str(folder), "-o", str(tmp_path / output)])
        assert result.exit_code == 1, (output, result.output)
        assert "bad\\udcff.edi" in (tmp_path / output).read_text(encoding="utf-8"), output


def test_extract_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    """`edi837 extract ... | head -1`: the closed pipe is no EDI008 'bug' and no
    traceback, and the status is not 2 (trouble) for the scheduler."""
    big = tmp_path / "big.edi"
    assert CliRunner().invoke(main, ["generate", "--claims", "3000", "-o", str(big)]).exit_code == 0
    process = subprocess.Popen([sys.executable, "-m", "edi837", "extract", str(big)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # as head does after its line
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert "EDI008" not in stderr and "Traceback" not in stderr
