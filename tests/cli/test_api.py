"""The Python API (edi837.check / iter_findings / extract / fix) as the public surface it is:
the same results as the command line, options as parameters, documented exceptions."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from batch_support import new_key
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM, SAMPLES, TWO_ERRORS_ON_ONE_LINE
from pyx12check import pyx12_verdict
from test_drug_table import extra_drug

import edi837
from edi837.cli import main

RUN_FIELDS = ("run",)  # when it ran: the only part of a report that differs between runs


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def same_report(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in RUN_FIELDS}


def rules_of(findings) -> list[tuple[str, str, int | None]]:
    return [(f.rule, f.severity, f.segment_index) for f in findings]


# -- import ------------------------------------------------------------------------------
def test_import_edi837_loads_no_engine_until_a_function_is_used():
    code = ("import sys, edi837\n"
            "before = {m for m in sys.modules if m.startswith('edi837')}\n"
            "edi837.check\n"
            "after = {m for m in sys.modules if m.startswith('edi837')}\n"
            "print(sorted(before)); print('edi837.api' in after, 'edi837.engine' in after)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "['edi837']"
    assert out[1] == "True False"  # the engine comes with the first call, not the name


def test_the_api_names_are_documented_and_listed():
    for name in edi837._API:
        assert name in dir(edi837)
        assert getattr(edi837, name).__doc__
    with pytest.raises(AttributeError):
        edi837.no_such_function  # noqa: B018


# -- check -------------------------------------------------------------------------------
def test_check_of_the_samples_equals_the_cli_json_report():
    done = cli("check", str(SAMPLES), "--format", "json")
    result = edi837.check(SAMPLES, errors="report")
    assert result.exit_status == done.exit_code == 1
    api_document = json.loads(result.render("json"))
    assert same_report(api_document) == same_report(json.loads(done.stdout))
    assert result.summary() == api_document["summary"]
    assert len(list(result.findings)) == sum(len(f["findings"]) for f in api_document["files"])


def test_check_of_a_fragment_pass_and_fail(edi_file):
    clean = edi837.check(edi_file(CLEAN_J2350_CLAIM))
    assert clean.exit_status == 0
    assert not [f for f in clean.findings if f.severity != "info"]
    failing = edi_file(TWO_ERRORS_ON_ONE_LINE)
    result = edi837.check([failing])
    assert result.exit_status == 1
    errors = [f for f in result.findings if f.severity == "error"]
    assert [f.rule for f in errors] == ["NDC002", "NDC006"]
    assert result.files[0].status == "findings" and result.files[0].claims == 1
    finding = errors[0]
    assert (finding.path, finding.claim_id, finding.line_number) == (str(failing), "C1", 1)
    assert finding.fix is not None  # NDC002's safe fix, as `fix` applies it


def test_select_ignore_config_and_drug_table_are_parameters(edi_file, tmp_path):
    path = edi_file(TWO_ERRORS_ON_ONE_LINE)
    assert [f.rule for f in edi837.check(path, select="NDC002").findings] == ["NDC002"]
    assert "NDC002" not in [f.rule for f in edi837.check(path, ignore=["NDC002"]).findings]
    assert "NDC006" in [f.rule for f in edi837.check(path, ignore="ndc002, MOD").findings]
    config = tmp_path / "edi837.toml"
    config.write_text('[severity]\nNDC006 = "warning"\n')
    cli_json = json.loads(cli("check", str(path), "--format", "json", "--config",
                              str(config)).stdout)
    result = edi837.check(path, config=config)
    assert rules_of(result.findings) == [(f["rule"], f["severity"], f["segment_index"])
                                         for f in cli_json["files"][0]["findings"]]
    assert ("NDC006", "warning") in [(f.rule, f.severity) for f in result.findings]
    # a local table that lists another NDC for J2350: the claim's NDC is no longer known
    clean = edi_file(CLEAN_J2350_CLAIM)
    table = tmp_path / "override.toml"
    table.write_text(extra_drug("J2350", ndc="50242015099"))
    assert [f for f in edi837.check(clean).findings if f.rule.startswith("NDC")] == []
    local = edi837.check(clean, drug_tables=[table])
    cli_json = json.loads(cli("check", str(clean), "--format", "json", "--drug-table",
                              str(table)).stdout)
    assert [f.rule for f in local.findings if f.rule.startswith("NDC")]
    assert rules_of(local.findings) == [(f["rule"], f["severity"], f["segment_index"])
                                        for f in cli_json["files"][0]["findings"]]


def test_history_is_a_parameter_and_judges_a_file_sent_again(edi_file, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM)
    store, key = tmp_path / "history.sqlite", new_key(tmp_path / "history.key")
    first = edi837.check(path, history=store, history_key=key)
    assert store.exists() and key.exists()
    assert first.report.reference_data["history"]["lasting"] is True
    again = edi_file(CLEAN_J2350_CLAIM.replace("CLM*C1", "CLM*C2"))
    second = edi837.check(again, history=store, history_key=key)
    cli_json = json.loads(cli("check", str(again), "--format", "json", "--history",
                              str(tmp_path / "other.sqlite"), "--history-key", str(key)).stdout)
    # the same dose billed again on another claim: an error only against the history
    assert [(f.rule, f.severity) for f in second.findings] == [("HIS001", "error")]
    assert second.exit_status == 1
    assert "HIS001" not in [f["rule"] for f in cli_json["files"][0]["findings"]]
    with pytest.raises(edi837.OptionsError, match="history"):
        edi837.check(path, history_days=30)


def test_write_picks_the_format_from_the_extension_as_check_o(edi_file, tmp_path):
    result = edi837.check(edi_file(TWO_ERRORS_ON_ONE_LINE))
    result.write(tmp_path / "report.csv")
    result.write(tmp_path / "report.html")
    assert (tmp_path / "report.csv").read_text().splitlines()[0].startswith("file,")
    assert "<html" in (tmp_path / "report.html").read_text().lower()
    assert "NDC002" in result.render("text")
    with pytest.raises(edi837.OptionsError, match="report.pdf: its extension names no"):
        result.write(tmp_path / "report.pdf")
    with pytest.raises(edi837.OptionsError, match="'docx'"):
        result.render("docx")
    result.write(tmp_path / "report.pdf", "text")  # as check -o report.pdf --format text
    assert (tmp_path / "report.pdf").read_text() == result.render("text")


def test_iter_findings_streams_file_by_file_the_same_findings(edi_file):
    paths = [edi_file(TWO_ERRORS_ON_ONE_LINE), edi_file(CLEAN_J2350_CLAIM),
             edi_file(TWO_ERRORS_ON_ONE_LINE)]
    stream = edi837.iter_findings(paths)
    first = next(stream)
    assert first.path == str(paths[0])
    rest = list(stream)
    assert rules_of([first, *rest]) == rules_of(edi837.check(paths).findings)
    assert {"NDC002", "NDC006"} <= {f.rule for f in rest if f.path == str(paths[2])}


def test_validate_adds_the_ig_findings_as_check_validate():
    sample = SAMPLES / "837p-j2350-defects-ig-invalid.edi"
    done = cli("check", str(sample), "--validate", "--format", "json")
    result = edi837.check(sample, validate=True)
    assert rules_of(result.findings) == [(f["rule"], f["severity"], f["segment_index"])
                                         for f in json.loads(done.stdout)["files"][0]["findings"]]
    assert "IGE7" in [f.rule for f in result.findings]
    assert "IGE7" not in [f.rule for f in edi837.check(sample).findings]
    assert not [f for f in edi837.check(sample, validate=True, ignore="IG").findings
                if f.rule.startswith("IG")]


# -- bad input ---------------------------------------------------------------------------
def test_an_unreadable_file_raises_input_error_naming_file_and_segment(edi_file, tmp_path):
    good = edi_file(TWO_ERRORS_ON_ONE_LINE, name="a-good.edi")
    bad = tmp_path / "b-not-x12.edi"
    bad.write_text("this is a spreadsheet, not a claim file\n")
    with pytest.raises(edi837.InputError) as raised:
        edi837.check([good, bad])
    error = raised.value
    assert isinstance(error, edi837.Edi837Error)
    assert (error.path, error.segment_index, error.rule) == (str(bad), 1, "EDI001")
    assert str(error).startswith(f"{bad}:1: EDI001")
    with pytest.raises(edi837.InputError, match="b-not-x12.edi"):
        list(edi837.iter_findings(tmp_path))
    with pytest.raises(edi837.InputError, match="b-not-x12.edi"):
        list(edi837.extract(tmp_path))
    # as the command line: reported, the others still checked, exit status 2
    reported = edi837.check(tmp_path, errors="report")
    assert [f.status for f in reported.files] == ["findings", "unreadable"]
    assert reported.exit_status == 2


def test_bad_arguments_raise_options_error_not_internals(edi_file, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(edi837.InputError, match="no 837 files found in .*empty"):
        edi837.check(empty)
    with pytest.raises(edi837.OptionsError, match="NDX001"):
        edi837.check(path, select="NDX001")
    broken = tmp_path / "broken.toml"
    broken.write_text("this is = not [toml\n")
    with pytest.raises(edi837.OptionsError):
        edi837.check(path, config=broken)
    with pytest.raises(edi837.OptionsError, match="broken.toml"):
        edi837.extract(path, drug_tables=[broken])
    with pytest.raises(edi837.OptionsError, match="missing.toml"):
        edi837.check(path, drug_tables=[tmp_path / "missing.toml"])
    with pytest.raises(edi837.OptionsError, match="errors"):
        edi837.check(path, errors="ignore")


# -- extract -----------------------------------------------------------------------------
def test_extract_rows_equal_the_cli_jsonl_rows():
    done = cli("extract", str(SAMPLES), "--format", "jsonl")
    lines = edi837.extract(SAMPLES)
    rows = [line.as_dict() for line in lines]
    assert rows == [json.loads(text) for text in done.stdout.splitlines()]
    assert lines.exit_status == done.exit_code == 0 and lines.problems == []
    with pytest.raises(edi837.Edi837Error, match="once"):
        list(lines)


def test_extract_of_a_fragment_pass_and_fail(edi_file):
    rows = list(edi837.extract(edi_file(CLEAN_J2350_CLAIM)))
    assert [(r.claim_id, r.hcpcs, r.ndc, r.units) for r in rows] == \
        [("C1", "J2350", "50242015001", "600")]
    # a drug line outside any claim is not read: no row, EDI007, exit status 1 (as the CLI)
    stray = edi_file("LX*1\nSV1*HC:J2350*9000*UN*600***1\n" + CLEAN_J2350_CLAIM)
    lines = edi837.extract(stray)
    assert [r.claim_id for r in lines] == ["C1"]
    assert lines.exit_status == cli("extract", str(stray)).exit_code == 1
    assert [f.rule for f in lines.problems] == ["EDI007"]


# -- fix ---------------------------------------------------------------------------------
def test_fix_writes_what_the_cli_writes_and_pyx12_accepts_it(edi_file, tmp_path):
    path = edi_file(TWO_ERRORS_ON_ONE_LINE, name="claims.edi")
    run = edi837.fix(path, tmp_path / "api", split=True)
    done = cli("fix", str(path), "--out-dir", str(tmp_path / "cli"), "--split")
    assert run.exit_status == done.exit_code == 0  # both errors have a safe fix
    result = run.files[0]
    assert [c.rule for c in result.changes] == ["NDC002", "NDC006"]
    assert not result.remaining and result.split.accepted == 1
    for name in ("claims.edi", "claims.accepted.edi"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    ok, why = pyx12_verdict(tmp_path / "api" / "claims.edi")
    assert ok, why


def test_fix_dry_run_select_and_existing_outputs(edi_file, tmp_path):
    path = edi_file(TWO_ERRORS_ON_ONE_LINE, name="claims.edi")
    dry = edi837.fix(path, tmp_path / "out", dry_run=True)
    assert "50242015001" in dry.files[0].diff and not (tmp_path / "out").exists()
    none = edi837.fix(path, tmp_path / "out", ignore="NDC002")
    assert [c.rule for c in none.files[0].changes] == ["NDC006"]
    assert [f.rule for f in none.files[0].remaining] == ["NDC002"]
    assert none.exit_status == 1
    again = edi837.fix(path, tmp_path / "out")
    assert again.files[0].status == "exists" and again.exit_status == 2
    assert edi837.fix(path, tmp_path / "out", force=True).files[0].changes
    bad = tmp_path / "not-x12.edi"
    bad.write_text("no claims here\n")
    with pytest.raises(edi837.InputError, match="not-x12.edi"):
        edi837.fix(bad, tmp_path / "out2")
    assert edi837.fix(bad, tmp_path / "out2", errors="report").exit_status == 2


# -- the README's worked examples ---------------------------------------------------------
def test_the_readme_use_from_python_examples_run(tmp_path, monkeypatch, capsys):
    import queue as queues
    import re
    import shutil

    readme = (SAMPLES.parent / "README.md").read_text()
    section = readme[readme.index("## Use from Python"):]
    section = section[:section.index("\n## ", 3)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 4  # check, iter_findings, extract, fix
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    shutil.copy(SAMPLES / "837p-j2350-waste.edi", inbox / "claims.edi")
    (tmp_path / "local-drugs.toml").write_text(extra_drug())
    (tmp_path / "edi837.toml").write_text('[severity]\nNDC006 = "warning"\n')
    monkeypatch.chdir(tmp_path)
    found: queues.Queue = queues.Queue()
    namespace = {"queue": found}  # one session: the later examples use the first's import
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "report.html").exists() and (tmp_path / "history.sqlite").exists()
    assert found.qsize() > 0 and "rule" in found.get()
    assert (tmp_path / "out" / "claims.edi").exists()
    printed = capsys.readouterr().out
    assert "NDC" in printed or "MOD" in printed


def test_a_failure_inside_the_reader_is_an_input_error_not_a_traceback(edi_file,
                                                                       monkeypatch):
    from edi837.reader import claims

    def broken(self):
        raise KeyError("internal")
        yield  # pragma: no cover

    monkeypatch.setattr(claims.ClaimReader, "claims", broken)
    path = edi_file(CLEAN_J2350_CLAIM)
    for call in (lambda: list(edi837.extract(path)), lambda: edi837.check(path)):
        with pytest.raises(edi837.InputError, match="EDI008 edi837 failed while reading"):
            call()
    lines = edi837.extract(path, errors="report")
    assert list(lines) == [] and lines.exit_status == 2
    assert [f.rule for f in lines.problems] == ["EDI008"]


def test_the_fix_command_is_a_client_of_the_api(edi_file, tmp_path):
    # what the API refuses, the command names on stderr with exit status 2
    (tmp_path / "empty").mkdir()
    done = cli("fix", str(tmp_path / "empty"), "--out-dir", str(tmp_path / "out"))
    assert done.exit_code == 2 and "no 837 files found in" in done.stderr
    assert not (tmp_path / "out").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("not = [toml\n")
    path = edi_file(TWO_ERRORS_ON_ONE_LINE)
    done = cli("fix", str(path), "--out-dir", str(tmp_path / "out"), "--drug-table", str(bad))
    assert done.exit_code == 2 and done.stderr.startswith(f"edi837: {bad}")
    assert "Traceback" not in done.output
