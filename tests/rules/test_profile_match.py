"""Payer profiles that silently lost or matched nothing, and an 837I bill type written
UB-04 style ("131", "0131") read one way by `check` and `policy`.

A payer-id profile wins over an earlier filing-indicator profile; two profiles of
one name are refused; a profile an earlier one always beats is a warning at load;
a profile whose payer ids no checked claim carries is a notice (stderr and the
report's run section) that leaves the exit status to the findings."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837.bill_types import bill_type_problem
from edi837.cli import main
from edi837.config import ConfigError, parse_config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.policy.model import setting_of
from edi837.profile_match import unmatched_payer_ids
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()

# a J2350 line with JZ and no NDC, on a professional claim: NDC001 is an error only
# where the payer policy requires the NDC (Medicaid)
NO_NDC = """\
CLM*C1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115"""

SHADOW = """\
[[profiles]]
name = "commercial-no-ndc"
filing_indicators = ["CI"]
ndc_required = false

[[profiles]]
name = "nj-medicaid-mco"
payer_ids = ["SYNMCD01"]
payer_class = "medicaid"
"""


def _findings(tmp_path, fragment, config, kind="837P", **wrap):
    path = tmp_path / f"claim-{len(list(tmp_path.iterdir()))}.edi"
    path.write_text(wrap_claims(fragment, kind, **wrap))
    return list(Engine(TABLE, config).check_file(path).findings)


def _severity(found, code):
    return {f.severity for f in found if f.rule == code}


def _config(text: str):
    import tomllib

    return parse_config(tomllib.loads(text), "edi837.toml")


# -- 1. the more specific match wins ---------------------------------------------------------

def test_a_payer_id_profile_wins_over_an_earlier_filing_indicator_profile(tmp_path):
    config = _config(SHADOW)
    found = _findings(tmp_path, NO_NDC, config, filing="CI", payer_id="SYNMCD01")
    assert _severity(found, "NDC001") == {"error"}
    assert {f.policy for f in found} == {"medicaid+profile:nj-medicaid-mco"}
    # another CI payer still takes the filing-indicator profile: no NDC required
    other = _findings(tmp_path, NO_NDC, config, filing="CI", payer_id="OTHER01")
    assert _severity(other, "NDC001") == set()
    assert config.profile_for("OTHER01", "CI").name == "commercial-no-ndc"
    assert config.warnings == ()  # nothing is shadowed: each profile takes claims


def test_among_matches_of_one_kind_the_first_wins_and_the_loser_is_warned_about():
    config = _config("""
[[profiles]]
name = "first"
payer_ids = ["P1", "P2"]
[[profiles]]
name = "second"
payer_ids = ["P2"]
settings = ["837I:13x"]
[[profiles]]
name = "third"
payer_ids = ["P2", "P3"]
[[profiles]]
name = "by-setting"
settings = ["837I"]
[[profiles]]
name = "narrower-setting"
settings = ["837I:13x"]
""")
    assert config.profile_for("P2", "CI", "837I:13").name == "first"
    assert config.profile_for("P3", "CI", "837I:13").name == "third"
    assert config.profile_for("X", "CI", "837I:13").name == "by-setting"
    assert config.profile_for("X", "CI", "837P").name == "default"
    warned = "\n".join(config.warnings)
    assert len(config.warnings) == 3, warned
    assert "profiles[1] 'second' never applies" in warned
    assert "never applies: its payer id P2 (taken first by profiles[0] 'first')" in warned
    # P3 is still its own
    assert "profiles[2] 'third' does not apply to payer id P2 (taken first by profiles[0]" \
        in warned
    assert "profiles[4] 'narrower-setting' never applies" in warned


def test_a_narrower_earlier_profile_does_not_shadow_a_wider_later_one():
    config = _config("""
[[profiles]]
name = "outpatient"
payer_ids = ["P1"]
settings = ["837I:13x"]
[[profiles]]
name = "all"
payer_ids = ["P1"]
""")
    assert config.warnings == ()
    assert config.profile_for("P1", "MB", "837I:13").name == "outpatient"
    assert config.profile_for("P1", "MB", "837P:11").name == "all"


def test_the_policy_command_shows_the_payer_id_profile_and_warns_about_shadowing(tmp_path):
    path = tmp_path / "edi837.toml"
    path.write_text(SHADOW)
    done = CliRunner().invoke(main, ["policy", "--payer", "SYNMCD01", "--filing", "CI",
                                     "--config", str(path)])
    assert done.exit_code == 0, done.output
    assert "policy medicaid+profile:nj-medicaid-mco" in done.output
    path.write_text(SHADOW + '\n[[profiles]]\nname = "again"\npayer_ids = ["SYNMCD01"]\n')
    done = CliRunner().invoke(main, ["policy", "--payer", "SYNMCD01", "--filing", "CI",
                                     "--config", str(path)])
    assert done.exit_code == 0, done.output
    assert "warning: " in done.output and "profiles[2] 'again' never applies" in done.output


def test_two_profiles_of_one_name_are_refused_naming_the_file_and_the_profile(tmp_path):
    text = SHADOW.replace('"nj-medicaid-mco"', '"commercial-no-ndc"')
    with pytest.raises(ConfigError, match=r"edi837.toml: profiles\[1\]: name "
                                          r"'commercial-no-ndc' is already the name of "
                                          r"profiles\[0\]"):
        _config(text)
    path = tmp_path / "dup.toml"
    path.write_text(text)
    claims = tmp_path / "c.edi"
    claims.write_text(wrap_claims(NO_NDC, "837P", filing="CI", payer_id="SYNMCD01"))
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(path)])
    assert done.exit_code == 2
    assert f"{path}: profiles[1]: name 'commercial-no-ndc'" in done.output
    assert "Traceback" not in done.output
    # unnamed profiles are "default" each, as before: not refused
    assert len(parse_config({"profiles": [{"payer_ids": ["A"]}, {"payer_ids": ["B"]}]})
               .profiles) == 2


# -- 2. a profile whose payer id matches no claim --------------------------------------------

@pytest.mark.parametrize("written, hint", [
    ("SYNMCD1", "'SYNMCD1': did you mean 'SYNMCD01'?"),
    ("synmcd01", "'synmcd01' differs only in case from the claims' 'SYNMCD01'"),
])
def test_a_profile_matching_no_claim_is_a_notice_not_an_exit_status(tmp_path, written, hint):
    config = tmp_path / "edi837.toml"
    config.write_text(f'[[profiles]]\nname = "nj-medicaid-mco"\npayer_ids = ["{written}"]\n'
                      'payer_class = "medicaid"\n')
    clean = NO_NDC.replace("DTP*472*D8*20260115",
                           "DTP*472*D8*20260115\nLIN**N4*50242015001\nCTP****20*ML")
    claims = tmp_path / "c.edi"
    claims.write_text(wrap_claims(clean, "837P", filing="CI", payer_id="SYNMCD01"))
    report = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "--format", "json", "-o", str(report)])
    assert done.exit_code == 0, done.output  # the claim itself is clean
    assert "notice: profile 'nj-medicaid-mco'" in done.output and hint in done.output
    notices = json.loads(report.read_text())["run"]["notices"]
    assert len(notices) == 1 and hint in notices[0]
    assert "matched no drug claim of this run" in notices[0]
    # written as the claim has it: no notice
    config.write_text(config.read_text().replace(written, "SYNMCD01"))
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "--format", "json", "-o", str(report)])
    assert done.exit_code == 0 and "notice" not in done.output
    assert json.loads(report.read_text())["run"]["notices"] == []


def test_payer_ids_are_compared_as_written():
    config = parse_config({"profiles": [{"name": "lower", "payer_ids": ["synmcd01"]}]})
    assert config.profile_for("SYNMCD01", "CI").name == "default"
    notices = unmatched_payer_ids(config.profiles, ["SYNMCD01", ""])
    assert len(notices) == 1 and "differs only in case" in notices[0]
    # one of its ids seen, or no checked claim at all: nothing to say
    many = parse_config({"profiles": [{"name": "two", "payer_ids": ["A1", "SYNMCD01"]}]})
    assert unmatched_payer_ids(many.profiles, ["SYNMCD01"]) == []
    assert unmatched_payer_ids(config.profiles, []) == []


def test_the_xml_report_carries_the_notice(tmp_path):
    from lxml import etree

    config = tmp_path / "edi837.toml"
    config.write_text('[[profiles]]\nname = "typo"\npayer_ids = ["SYNMCD1"]\n')
    claims = tmp_path / "c.edi"
    claims.write_text(wrap_claims(NO_NDC, "837P", filing="CI", payer_id="SYNMCD01"))
    report = tmp_path / "r.xml"
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "--format", "xml", "-o", str(report)])
    assert done.exit_code == 0, done.output
    document = etree.parse(str(report))
    notices = document.findall("run/notice")
    assert len(notices) == 1 and "profile 'typo'" in notices[0].text
    from pathlib import Path

    schema = etree.XMLSchema(etree.parse(str(Path(__file__).resolve().parents[2]
                                             / "schemas" / "report.xsd")))
    assert schema.validate(document), schema.error_log


# -- 3. a type of bill written UB-04 style ----------------------------------------------------

MISSING_JZ_837I = """\
CLM*I1*9000***{tob}:A:1**A*Y*Y
DTP*434*RD8*20260115-20260115
CL1*3*1*01
HI*ABK:G35A
LX*1
SV2*0636*HC:J2350*9000*UN*600
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML"""


@pytest.mark.parametrize("tob", ["131", "0131"])
def test_a_ub04_bill_type_is_read_as_13x_and_holds_the_claim(tmp_path, tob):
    found = _findings(tmp_path, MISSING_JZ_837I.format(tob=tob), None, "837I", filing="MB")
    assert _severity(found, "MOD001") == {"error"}  # as `edi837 policy --bill-type 131`
    edi007 = [f for f in found if f.rule == "EDI007"]
    assert len(edi007) == 1 and edi007[0].severity == "error"
    assert f"CLM05-1 '{tob}'" in edi007[0].message and "write '13'" in edi007[0].message
    assert "frequency 1 in CLM05-3" in edi007[0].message
    assert edi007[0].claim_id == "I1" and edi007[0].segment == "CLM"


def test_a_two_character_bill_type_passes_and_pyx12_agrees(tmp_path):
    good = _findings(tmp_path, MISSING_JZ_837I.format(tob="13"), None, "837I", filing="MB")
    assert [f for f in good if f.rule == "EDI007"] == []
    assert _severity(good, "MOD001") == {"error"}
    for tob, valid in (("13", True), ("131", False)):
        path = tmp_path / f"tob-{tob}.edi"
        text = MISSING_JZ_837I.format(tob=tob).replace("SV2*0636*HC:J2350*9000",
                                                        "SV2*0636*HC:J2350:JZ*9000")
        path.write_text(wrap_claims(text, "837I", filing="MB"))
        ok, errors = pyx12_verdict(path)
        assert ok is valid, errors
        if not valid:
            assert "CLM05-01" in errors and "too long" in errors, errors


@pytest.mark.parametrize("bill_type", ["131", "0131", "13"])
def test_check_and_policy_read_the_bill_type_the_same_way(bill_type):
    assert setting_of("837I", bill_type) == "837I:13"
    done = CliRunner().invoke(main, ["policy", "--filing", "MB", "--bill-type", bill_type,
                                     "--date", "2026-03-01"])
    assert done.exit_code == 0 and "setting 837I:13;" in done.output


def test_bill_type_problem_names_what_to_write():
    assert bill_type_problem("13") is None
    assert "write '85'" in bill_type_problem("0851")
    assert "not a facility type code" in bill_type_problem("13A5X")
    assert setting_of("837P", "111") == "837P:111"  # a place of service is not a bill type



def test_the_api_and_the_html_report_carry_the_notice(tmp_path):
    from edi837 import api

    config = tmp_path / "edi837.toml"
    config.write_text('[[profiles]]\nname = "typo"\npayer_ids = ["SYNMCD1"]\n')
    claims = tmp_path / "c.edi"
    claims.write_text(wrap_claims(NO_NDC, "837P", filing="CI", payer_id="SYNMCD01"))
    checked = api.check([claims], config=config)
    assert len(checked.report.notices) == 1 and "'typo'" in checked.report.notices[0]
    assert checked.exit_status == 0
    page = tmp_path / "r.html"
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "--format", "html", "-o", str(page)])
    assert done.exit_code == 0, done.output
    assert '<p class="notice">notice: profile &#x27;typo&#x27;' in page.read_text()


def test_worker_processes_and_pieces_give_the_notices_of_one_job(tmp_path, monkeypatch):
    import io

    from edi837.generator import generate
    from edi837.parallel import check as parallel_check

    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)  # the file in several pieces
    out = io.StringIO(newline="")
    generate(out, "837P", seed=3, claims=150, defect_rate=0.3)
    claims = tmp_path / "gen.edi"
    claims.write_bytes(out.getvalue().encode("latin-1"))
    config = tmp_path / "edi837.toml"
    config.write_text('[[profiles]]\nname = "present"\npayer_ids = ["99906"]\n'
                      '[[profiles]]\nname = "missing"\npayer_ids = ["99909"]\n')
    notices = {}
    for jobs in ("1", "2"):
        report = tmp_path / f"j{jobs}.json"
        done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                         "--jobs", jobs, "-o", str(report)])
        assert done.exit_code in (0, 1), done.output
        notices[jobs] = json.loads(report.read_text())["run"]["notices"]
    assert notices["1"] == notices["2"]
    assert len(notices["1"]) == 1 and "profile 'missing'" in notices["1"][0]
