"""JW/JZ on an inpatient, RHC or FQHC bill (type of bill 11x, 71x, 77x): the CMS
requirement does not extend there (billing-rules.md §1.3, §9.1), so a JW or JZ on
such a line is a warning to look (§6 JWZ-06), MOD006, for every payer class.  The
settings and the severity are data (edi837/policy/policies.toml [jw_jz_scope],
[jw_jz_out_of_scope]); a profile that puts the setting in scope, or switches JW/JZ
off, leaves it silent."""
import pytest
from test_policy import CLASSES, TABLE, claim, findings, line, severity_of

from edi837.config import parse_config
from edi837.engine import Engine
from edi837.policy import shipped_data, shipped_policies
from edi837.x12.fragment import wrap_claims

OUT_OF_SCOPE = ["837I:11", "837I:71", "837I:77"]


def mod006(found):
    return [f for f in found if f.rule == "MOD006"]


@pytest.mark.parametrize("payer", CLASSES)
@pytest.mark.parametrize("setting", OUT_OF_SCOPE)
@pytest.mark.parametrize("modifier", ["JZ", "JW"])
def test_jw_or_jz_on_an_out_of_scope_bill_is_a_warning(tmp_path, payer, setting, modifier):
    filing = CLASSES[payer] or "MA"
    fail = claim(setting, line(f"J2350:{modifier}", kind="837I"))
    [found] = mod006(findings(tmp_path, fail, "837I", filing=filing))
    assert found.severity == "warning" and found.policy == payer
    assert found.value == f"J2350:{modifier}" and found.segment == "SV2"
    bill = setting.split(":")[1]
    assert f"J2350 with {modifier} on type of bill {bill}x" in found.message
    assert "types of bill 11x, 71x, 77x" in found.message
    passing = claim(setting, line("J2350", kind="837I"))
    found = findings(tmp_path, passing, "837I", filing=filing)
    assert mod006(found) == [] and severity_of(found, "MOD001") is None


@pytest.mark.parametrize("setting", ["837I:13", "837I:85"])
def test_jz_on_an_outpatient_or_critical_access_bill_is_no_finding(tmp_path, setting):
    passing = claim(setting, line("J2350:JZ", kind="837I"))
    assert mod006(findings(tmp_path, passing, "837I", filing="MA")) == []


def test_a_jw_pair_on_an_inpatient_bill_warns_on_each_line_and_holds_nothing(tmp_path):
    fragment = claim("837I:11", line("J2350", 450, kind="837I"),
                     line("J2350:JW", 150, number=2, kind="837I"))
    found = findings(tmp_path, fragment, "837I", filing="MA")
    assert [f.value for f in mod006(found)] == ["J2350:JW"]
    assert not any(f.severity == "error" for f in found)


def test_a_profile_that_puts_inpatient_in_scope_or_switches_jw_jz_off_is_silent(tmp_path):
    fail = claim("837I:11", line("J2350:JZ", kind="837I"))
    in_scope = parse_config({"profiles": [{"name": "ipps-too", "payer_ids": ["PAYER01"],
                                           "settings": ["837I:11x"], "jw_jz": True}]})
    assert mod006(findings(tmp_path, fail, "837I", in_scope, filing="MA")) == []
    off = parse_config({"defaults": {"jw_jz": False}})
    assert mod006(findings(tmp_path, fail, "837I", off, filing="MA")) == []
    # a profile enforcing JW/JZ without naming settings stops where CMS's rule stops
    enforcing = parse_config({"profiles": [{"name": "follows-cms", "payer_ids": ["PAYER01"],
                                            "jw_jz": True}]})
    assert [f.severity for f in mod006(findings(tmp_path, fail, "837I", enforcing,
                                                filing="CI"))] == ["warning"]


def test_the_settings_and_the_severity_are_data_with_a_source():
    data = shipped_data()
    assert data["jw_jz_out_of_scope"]["severity"] == "warning"
    assert "JWZ-06" in data["jw_jz_out_of_scope"]["source"]
    book = shipped_policies()
    # 837P:21: a physician's claim at an inpatient hospital (the stay's drug is the
    # hospital's; POS001 warns of the place too)
    assert book.misplaced.settings == book.out_of_scope.settings == ("837I:11", "837I:71",
                                                                     "837I:77", "837P:21")


def test_claims_alike_but_for_the_type_of_bill_do_not_share_an_answer(tmp_path):
    """Claim shapes (edi837.reader.shapes) replay which rules fired: an inpatient bill's MOD006
    must not be skipped after an outpatient claim of the same shape was silent."""
    engine = Engine(TABLE)
    for number, bill, expected in [(1, "13", []), (2, "11", ["MOD006"]), (3, "13", []),
                                   (4, "77", ["MOD006"])]:
        fragment = claim(f"837I:{bill}", line("J2350:JZ", kind="837I")).replace(
            "CLM*I1*", f"CLM*I{number}*")
        path = tmp_path / f"{number}.edi"
        path.write_text(wrap_claims(fragment, "837I", filing="MA"))
        assert [f.rule for f in engine.check_file(path).findings
                if f.rule == "MOD006"] == expected, bill


def test_policy_command_explains_the_warning_with_its_source():
    from click.testing import CliRunner

    from edi837.cli import main

    result = CliRunner().invoke(main, ["policy", "--filing", "MA", "--bill-type", "111",
                                       "--date", "2026-01-15"])
    assert result.exit_code == 0, result.output
    assert "JW/JZ where the setting is out of scope (MOD006): warning" in result.output
    assert "JWZ-06" in result.output


def test_a_drug_the_table_does_not_know_gets_the_warning_too(tmp_path):
    """JWZ-06 names no drug: JZ on any drug line (J1745, infliximab, not in the table)
    of an inpatient bill is as misplaced; the multi-dose part needs the table."""
    fail = claim("837I:11", line("J1745:JZ", 40, ndc=None, kind="837I"))
    [found] = mod006(findings(tmp_path, fail, "837I", filing="MA"))
    assert found.hcpcs == "J1745" and found.severity == "warning"
    passing = claim("837I:13", line("J1745:JZ", 40, ndc=None, kind="837I"))
    assert mod006(findings(tmp_path, passing, "837I", filing="MA")) == []
