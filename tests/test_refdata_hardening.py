"""Issue 24 items 10-13: reference data and configuration files from hostile hands.
Ranges are the importer's (a bad value is refused at import, naming file, line and
column, exit 2); names are stored escaped; ZIP members are streamed with caps; TOML
nested deeply is an error, not a RecursionError."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

import refdata_files as files
from edi837.cli import main
from edi837.refdata import import_files, open_reference


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def cli(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def refused(result, *expected):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    for text in expected:
        assert text in result.output, result.output


# -- item 10: ranges belong in the importer -------------------------------------------
def _pricing(limit: str) -> str:
    return files.pricing(rows=[["J2350", "Inj ocrelizumab 1mg", "1 MG", limit, "", "", ""]])


def _mue(value: str) -> str:
    return files.mue(rows=[["J2350", value, "3 Date of Service Edit: Clinical", "PI"]])


@pytest.mark.parametrize("limit", ["1E+26", "100000000.01", "59.6000001", "Infinity"])
def test_an_absurd_payment_limit_is_refused_at_import(tmp_path, store, limit):
    path = files.write(tmp_path, "pricing.csv", _pricing(limit))
    result = cli("refdata", "import", path, "--refdata", store)
    refused(result, f"edi837: {path}", "line 5: payment limit", "nothing was imported")
    assert not store.exists()


def test_a_plausible_payment_limit_is_imported(tmp_path, store):
    path = files.write(tmp_path, "pricing.csv", _pricing("2125000.000"))
    assert cli("refdata", "import", path, "--refdata", store).exit_code == 0


@pytest.mark.parametrize("value", ["12345678901234567890", "10000000"])
def test_an_absurd_mue_value_is_refused_at_import(tmp_path, store, value):
    path = files.write(tmp_path, "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", _mue(value))
    result = cli("refdata", "import", path, "--refdata", store)
    refused(result, f"edi837: {path}", "line 3: MUE value", "is outside")


def test_an_absurd_crosswalk_number_is_refused_at_import(tmp_path, store):
    text = files.crosswalk().replace("300,300", "300,1E+40")
    path = files.write(tmp_path, "crosswalk.csv", text)
    refused(cli("refdata", "import", path, "--refdata", store), "billing units per package",
            "is outside")


@pytest.mark.parametrize("effective", ["9999-12-31", "1899-01-01"])
def test_an_icd10cm_file_with_an_absurd_effective_date_is_refused(tmp_path, store, effective):
    path = files.write(tmp_path, "order.txt", files.icd10_order())
    result = cli("refdata", "import", path, "--refdata", store, "--effective", effective)
    refused(result, f"edi837: {path}", f"takes effect {effective}, outside")


def test_an_absurd_date_in_a_file_name_is_refused(tmp_path, store):
    path = files.write(tmp_path, "MCR_MUE_PractitionerServices_Eff_01-01-9999.csv",
                       _mue("600"))
    refused(cli("refdata", "import", path, "--refdata", store), "takes effect 9999-01-01")


def test_an_effective_date_a_year_ahead_is_imported(tmp_path, store):
    ahead = dt.date.today().replace(day=1) + dt.timedelta(days=365)
    path = files.write(tmp_path, "order.txt", files.icd10_order())
    assert import_files([path], store, effective=ahead)[0].result == "imported"


# -- item 13: TOML nested too deeply ----------------------------------------------------
DEEP = {"arrays": "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "inline tables": "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n",
        "past the limit": "a = " + "[" * 40 + "]" * 40 + "\n"}


@pytest.mark.parametrize("option", ["--config", "--drug-table"])
@pytest.mark.parametrize("case", sorted(DEEP))
def test_deeply_nested_toml_is_a_clear_error(tmp_path, option, case):
    from conftest import SAMPLES
    path = files.write(tmp_path, "deep.toml", DEEP[case])
    result = cli("check", option, path, SAMPLES / "837p-j2350-clean.edi")
    refused(result, f"{path}", "invalid TOML")
    assert "too deeply to read" in result.output or "levels deep, more than the 32 allowed" \
        in result.output
    assert "RecursionError" not in result.output


def test_a_config_that_is_not_utf8_is_a_clear_error(tmp_path):
    from conftest import SAMPLES
    path = files.write(tmp_path, "latin.toml", "[severity]\n# caf\xe9\n".encode("latin-1"))
    refused(cli("check", "--config", path, SAMPLES / "837p-j2350-clean.edi"), "not UTF-8")
