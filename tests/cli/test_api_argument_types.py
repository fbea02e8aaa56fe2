"""A caller's mistakes and the OS's failures are Edi837Error, never a TypeError or an
OSError from edi837's internals (trial 8b, items 4, 6 and 9): paths as str, bytes or
path-likes, one path never iterated as characters, an empty path refused (never the
current folder), history_days as --history-days takes it, a report that cannot be
written."""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

import edi837
from edi837.cli import main

MISSING_MODIFIER_CLAIM = CLEAN_J2350_CLAIM.replace("J2350:JZ", "J2350")  # MOD001


@pytest.fixture
def claims(edi_file):
    return edi_file(MISSING_MODIFIER_CLAIM)


def test_bytes_paths_are_read_as_os_fsdecode_reads_them(claims):
    as_str = edi837.check([claims]).findings
    for given in (os.fsencode(claims), [os.fsencode(claims)]):
        result = edi837.check(given)
        assert [f.rule for f in result.findings] == [f.rule for f in as_str]
        assert result.files[0].path == str(claims)
    assert [line.hcpcs for line in edi837.extract(os.fsencode(claims))] == ["J2350"]


@pytest.mark.parametrize("bad", [5, None, [5], [None], [3.5]])
def test_paths_of_another_type_are_an_options_error(bad):
    with pytest.raises(edi837.OptionsError, match="paths: a path"):
        edi837.check(bad)


@pytest.mark.parametrize("empty", ["", b"", [""], [b""], ["inbox", ""]])
def test_an_empty_path_is_refused_never_the_current_folder(empty, claims, monkeypatch):
    monkeypatch.chdir(claims.parent)  # a claim file in the current folder
    with pytest.raises(edi837.OptionsError, match="empty path"):
        edi837.check(empty)
    with pytest.raises(edi837.OptionsError, match="empty path"):
        list(edi837.extract(empty))
    with pytest.raises(edi837.OptionsError, match="empty path"):
        edi837.fix(empty, "out")


@pytest.mark.parametrize("command", [["check"], ["extract"], ["fix", "--out-dir", "o"],
                                     ["validate"]])
def test_the_commands_refuse_an_empty_path(command, claims, monkeypatch):
    monkeypatch.chdir(claims.parent)
    done = CliRunner().invoke(main, [*command, ""])
    assert done.exit_code == 2
    assert "empty path" in done.output and "PATHS" in done.output


@pytest.mark.parametrize("option", ["drug_tables", "config", "history", "refdata"])
def test_the_other_path_arguments_refuse_an_empty_path_and_another_type(option, claims):
    for bad, said in (("", "empty path"), (3.5, "a path")):
        value = [bad] if option == "drug_tables" else bad
        with pytest.raises(edi837.OptionsError, match=said):
            edi837.check([claims], **{option: value})


def test_a_drug_table_given_as_one_str_or_bytes_is_one_path(claims, tmp_path):
    missing = str(tmp_path / "local.toml")
    for given in (missing, os.fsencode(missing)):
        with pytest.raises(edi837.OptionsError, match="local.toml: no such file"):
            edi837.check([claims], drug_tables=given)
    with pytest.raises(edi837.OptionsError, match="a folder, not a file"):
        edi837.check([claims], drug_tables=[tmp_path])


@pytest.mark.parametrize("bad", [5, [5], b"NDC", ["NDC", None]])
@pytest.mark.parametrize("option", ["select", "ignore"])
def test_rule_codes_of_another_type_are_an_options_error(bad, option, claims):
    with pytest.raises(edi837.OptionsError, match=f"{option}: rule codes are expected"):
        edi837.check([claims], **{option: bad})
    with pytest.raises(edi837.OptionsError, match=f"{option}: rule codes are expected"):
        edi837.fix([claims], "out", **{option: bad})


def test_rule_codes_as_a_tuple_or_a_generator_are_taken(claims):
    found = edi837.check([claims], select=(code for code in ["MOD"]))
    assert {f.rule for f in found.findings} == {"MOD001"}
    assert {f.rule for f in edi837.check([claims], select=("MOD001",)).findings} == {"MOD001"}


@pytest.mark.parametrize("days,said", [(-5, "negative"), (True, "whole number"),
                                       (3.7, "whole number"), ("abc", "whole number"),
                                       ("30", "whole number")])
def test_history_days_is_checked_as_the_command_line_checks_it(days, said, claims,
                                                                tmp_path):
    store = tmp_path / "h.sqlite"
    with pytest.raises(edi837.OptionsError, match=f"history_days: .*{said}"):
        edi837.check([claims], history=store, history_days=days)
    with pytest.raises(edi837.OptionsError, match=said):
        edi837.iter_findings([claims], history=store, history_days=days)
    assert not store.exists()  # refused before the store is made


def test_history_days_zero_and_a_number_are_taken(edi_file, tmp_path):
    claims = edi_file(CLEAN_J2350_CLAIM)
    for days in (0, 30):
        result = edi837.check([claims], history=tmp_path / "h.sqlite", history_days=days)
        assert result.exit_status == 0


def test_a_report_that_cannot_be_written_is_an_options_error(claims, tmp_path):
    result = edi837.check([claims])
    folder = tmp_path / "rep"
    folder.mkdir()
    with pytest.raises(edi837.OptionsError, match="rep: a folder"):
        result.write(folder, "json")
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the report's folder would be
    with pytest.raises(edi837.OptionsError, match="cannot write the report"):
        result.write(blocked / "r.json")
    with pytest.raises(edi837.OptionsError, match="empty path"):
        result.write("", "json")
    target = tmp_path / "r.json"
    result.write(os.fsencode(target))  # a bytes path, its format by its extension
    assert '"MOD001"' in target.read_text()


def test_config_false_reads_no_configuration_file(claims, tmp_path, monkeypatch):
    (tmp_path / "edi837.toml").write_text('[severity]\nMOD001 = "warning"\n')
    monkeypatch.chdir(tmp_path)
    severity = {f.severity for f in edi837.check([claims]).findings if f.rule == "MOD001"}
    assert severity == {"warning"}  # None: ./edi837.toml, as the command line
    assert edi837.check([claims]).report.config_source == "edi837.toml"
    plain = edi837.check([claims], config=False)
    assert {f.severity for f in plain.findings if f.rule == "MOD001"} == {"error"}
    assert plain.report.config_source is None


@pytest.mark.parametrize("content", [None, "this is not X12\n"])
def test_fix_raises_the_input_error_check_raises(content, tmp_path):
    bad = tmp_path / "notx12.edi"
    if content is not None:
        bad.write_text(content)
    with pytest.raises(edi837.InputError) as checked:
        edi837.check([bad])
    with pytest.raises(edi837.InputError) as fixed:
        edi837.fix([bad], tmp_path / "out")
    assert checked.value.rule == "EDI001" if content is None else checked.value.rule
    for attribute in ("path", "segment_index", "rule"):
        assert getattr(fixed.value, attribute) == getattr(checked.value, attribute), attribute
    assert str(fixed.value) == str(checked.value)


def test_fix_and_extract_show_the_api_functions_signatures():
    import inspect

    from edi837 import api

    assert inspect.signature(edi837.fix) == inspect.signature(api.fix)
    assert "out_dir" in inspect.signature(edi837.fix).parameters
    assert inspect.signature(edi837.extract) == inspect.signature(api.extract)


def test_rules_of_a_warning_says_it_holds_no_claim_an_error_says_its_277ca_status():
    warned = CliRunner().invoke(main, ["rules", "UNT001"]).output
    assert "this rule holds no claim (a warning)" in warned
    assert "a claim this rule holds is rejected" not in warned
    held = CliRunner().invoke(main, ["rules", "NDC004"]).output
    assert "a claim this rule holds is rejected with STC A8:218" in held
