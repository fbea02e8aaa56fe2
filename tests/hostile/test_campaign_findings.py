"""What the third hostile campaign (issue 24 "Done when") found, each as a test that
failed before its fix."""
from __future__ import annotations

import pytest
import refdata_files as files
from click.testing import CliRunner

from edi837.cli import main


def cli(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def refused(result, *expected):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    for text in expected:
        assert text in result.output, result.output


def _package(first: str, last: str) -> str:
    return files.fda_package([["50242-150_s", "50242-150", "50242-150-01", "1 VIAL",
                               first, last, "N", "N"]])


def _hcpcs(first: str, last: str) -> str:
    return files.hcpcs_file([["J2350", "0010", "3", "Injection, ocrelizumab, 1 mg",
                              "Inj ocrelizumab 1mg", first, first, last, "N"]])


# -- FDA NDC Directory and HCPCS rows with absurd dates: refused at import, as the ASP
#    ranges are (edi837/refdata/limits.toml [dates]); before, 0001-01-01..9999-12-31 was
#    stored, and an end before the start held every claim of the code (NDC009/DOS002)
@pytest.mark.parametrize("first, last", [("00010101", ""), ("20170328", "99991231"),
                                         ("18991231", ""), ("20251231", "20200101")])
def test_an_fda_package_row_with_absurd_dates_is_refused(tmp_path, first, last):
    path = files.write(tmp_path, "package.txt", _package(first, last))
    store = tmp_path / "store"
    refused(cli("refdata", "import", path, "--refdata", store),
            f"edi837: {path}", "line 2: marketing dates", "nothing was imported")
    assert not store.exists()


@pytest.mark.parametrize("first, last", [("00010101", ""), ("20180101", "99991231"),
                                         ("20250101", "20180101")])
def test_a_hcpcs_row_with_absurd_dates_is_refused(tmp_path, first, last):
    path = files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", _hcpcs(first, last))
    refused(cli("refdata", "import", path, "--refdata", tmp_path / "store"),
            f"edi837: {path}", "line 2: dates", "nothing was imported")


def test_plausible_dates_are_imported(tmp_path):
    store = tmp_path / "store"
    package = files.write(tmp_path, "package.txt", _package("19820101", "20301231"))
    hcpcs = files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", _hcpcs("20180101", "20180101"))
    result = cli("refdata", "import", package, hcpcs, "--refdata", store)
    assert result.exit_code == 0, result.output


# -- a ZIP member whose deflate data is corrupt: zlib.error escaped the importer's
#    handling and was reported as "a bug in edi837, please report it"
def test_a_zip_member_with_corrupt_deflate_data_is_named_not_called_a_bug(tmp_path):
    path = files.zipped(tmp_path, "crosswalk.zip",
                        {"April_2026_ASP_NDC-HCPCS_Crosswalk.csv": files.crosswalk()})
    packed = bytearray(path.read_bytes())
    start = 30 + len("April_2026_ASP_NDC-HCPCS_Crosswalk.csv")  # the member's deflate data
    packed[start] = 0x07  # a final block of the reserved type 3: "invalid block type"
    path.write_bytes(bytes(packed))
    result = cli("refdata", "import", path, "--refdata", tmp_path / "store")
    refused(result, "crosswalk.zip!April_2026_ASP_NDC-HCPCS_Crosswalk.csv", "cannot be read")
    assert "bug in edi837" not in result.output


# -- payer profiles with wrong types: a string of payer ids or filing indicators was
#    split into characters ("MB" matched "M" and "B", never MB), a number gave an
#    internal error, and a profile naming no payer id, filing indicator or setting was
#    kept and matched no claim: each silently ignored the operator's profile.  A single
#    value given bare is now that one value; what cannot be one is refused.
@pytest.mark.parametrize("profile, message", [
    ("payer_ids = [true]", "profiles[0].payer_ids: expected a list of payer ids"),
    ("payer_ids = {a = 1}", "profiles[0].payer_ids: expected a list of payer ids"),
    ('filing_indicators = "M B"', "profiles[0].filing_indicators: 'M B' is not an SBR09"),
    ("payer_ids = []", "profiles[0]: matches no claim"),
    ("", "profiles[0]: matches no claim"),
])
def test_a_profile_of_the_wrong_shape_is_refused(tmp_path, profile, message):
    config = tmp_path / "edi837.toml"
    config.write_text(f'[[profiles]]\nname = "p"\n{profile}\njw_jz = true\n')
    result = cli("check", "--config", config, "samples/837p-j2350-clean.edi")
    refused(result, str(config), message)
    assert "bug in edi837" not in result.output


@pytest.mark.parametrize("profile, payer_ids, filing", [
    ('payer_ids = "SYN01"', ("SYN01",), ()),
    ("payer_ids = 5", ("5",), ()),
    ('payer_ids = ["SYN01", 7]', ("SYN01", "7"), ()),
    ('filing_indicators = "MB"', (), ("MB",)),
])
def test_a_bare_value_is_one_payer_id_or_filing_indicator(tmp_path, profile, payer_ids,
                                                          filing):
    from edi837.config import load_config

    config = tmp_path / "edi837.toml"
    config.write_text(f'[[profiles]]\nname = "p"\n{profile}\njw_jz = true\n')
    [loaded] = load_config(str(config)).profiles
    assert (loaded.payer_ids, loaded.filing_indicators) == (payer_ids, filing)


def test_a_profile_of_the_right_shape_is_used(tmp_path):
    from edi837.config import load_config

    config = tmp_path / "edi837.toml"
    config.write_text('[[profiles]]\nname = "p"\nfiling_indicators = ["MB"]\njw_jz = true\n'
                      '[[profiles]]\nname = "q"\nsettings = ["837I:13x"]\njw_jz = true\n')
    loaded = load_config(config)
    assert loaded.profile_for("ANY", "MB").name == "p"
    assert loaded.profile_for("ANY", "CI", "837I:13").name == "q"


# -- a setting "837I:1x" (one digit and the x) passed the pattern check and became
#    "837I:1", which no claim's setting is: the profile was silently inert
@pytest.mark.parametrize("setting", ["837I:1x", "837P:1X", "837I:x1", "837I:XX"])
def test_a_setting_that_no_claim_can_have_is_refused(tmp_path, setting):
    config = tmp_path / "edi837.toml"
    config.write_text(f'[[profiles]]\nname = "p"\nsettings = ["{setting}"]\njw_jz = true\n')
    refused(cli("check", "--config", config, "samples/837p-j2350-clean.edi"), str(config),
            f"profiles[0].settings: '{setting}' is not a setting")
