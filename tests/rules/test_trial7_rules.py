"""A biller's trial of J2350 (trial 7): rules that held good claims or let errors through.

1. the line's place of service (837P SV105) decides where JW/JZ apply, as POS001 reads it;
2. MOD002, MOD003, MOD004 and MOD007 follow the claim's payer policy, as MOD001 does: an
   error where the payer enforces JW/JZ, a warning saying why elsewhere (§9.1);
3. MOD001's fix adds no JZ to a line whose NDC quantity shows waste (§1.4);
4. MOD003 stays quiet on a line with both JW and JZ (MOD002 says it);
5. DX003's fix replaces an invalid pointer rather than adding beside it;
6. DX002's finding is dated by the date the rule judged by (an inpatient discharge).
"""
from pathlib import Path

import pytest
from pyx12check import pyx12_verdict
from test_policy import TABLE, findings

from edi837.config import Config, parse_config
from edi837.engine import Engine
from edi837.fix import fix_file
from edi837.x12.fragment import wrap_claims

DOS = "20260310"


def sv1(composite="J2350", units=600, place="", pointers="1", quantity=None, number=1):
    """An 837P drug line of Ocrevus (300 mg vials, 10 ML each); SV105 when ``place``."""
    quantity = units // 30 if quantity is None else quantity
    return "\n".join([f"LX*{number}",
                      f"SV1*HC:{composite}*{units * 52}*UN*{units}*{place}**{pointers}",
                      f"DTP*472*D8*{DOS}", "LIN**N4*50242015001", f"CTP****{quantity}*ML"])


def professional(place, *lines, hi="HI*ABK:G35A"):
    return "\n".join([f"CLM*C1*31200***{place}:B:1*Y*A*Y*Y", hi, *lines])


def rule(found, code):
    return [f for f in found if f.rule == code]


# -- 1. the line's place of service -------------------------------------------------------

def test_an_office_line_on_an_inpatient_claim_is_judged_as_an_office_line(tmp_path):
    """CLM05-1 21 (inpatient), SV105 11 (office): the line was given in the office."""
    found = findings(tmp_path, professional("21", sv1(place="11")), "837P", filing="MB")
    [mod001] = rule(found, "MOD001")
    assert mod001.severity == "error" and mod001.fix is not None
    assert rule(found, "POS001") == []
    # the office line with JZ: nothing
    found = findings(tmp_path, professional("21", sv1("J2350:JZ", place="11")), "837P",
                     filing="MB")
    assert rule(found, "MOD001") == [] and rule(found, "MOD006") == []


def test_an_inpatient_line_on_an_office_claim_is_judged_as_an_inpatient_line(tmp_path):
    """CLM05-1 11 (office), SV105 21 (inpatient): JW/JZ do not reach the line; JZ there is
    MOD006's warning, as on a claim at POS 21."""
    found = findings(tmp_path, professional("11", sv1(place="21")), "837P", filing="MB")
    assert rule(found, "MOD001") == []
    assert [f.value for f in rule(found, "POS001")] == ["21"]
    assert not any(f.severity == "error" for f in found), found
    found = findings(tmp_path, professional("11", sv1("J2350:JZ", place="21")), "837P",
                     filing="MB")
    [mod006] = rule(found, "MOD006")
    assert mod006.severity == "warning" and "place of service 21" in mod006.message
    # the same line at the claim's own place of service (SV105 11 = CLM05-1 11)
    found = findings(tmp_path, professional("11", sv1(place="11")), "837P", filing="MB")
    assert [f.severity for f in rule(found, "MOD001")] == ["error"]


def test_the_fix_adds_no_jz_to_an_inpatient_line(tmp_path):
    source = tmp_path / "in.edi"
    source.write_text(wrap_claims(professional("11", sv1(place="21")), "837P", filing="MB"))
    result = fix_file(source, tmp_path / "out", table=TABLE, config=Config())
    assert [c.rule for c in result.changes] == []
    assert b"J2350:JZ" not in Path(result.output).read_bytes()


def test_a_jw_pair_at_the_line_place_of_service_is_judged_there(tmp_path):
    """The claim rules (MOD003) take the place of service of the drug's lines."""
    jw_alone = sv1("J2350:JW", 300, place="21")
    found = findings(tmp_path, professional("11", jw_alone), "837P", filing="MB")
    assert rule(found, "MOD003") == []
    found = findings(tmp_path, professional("21", sv1("J2350:JW", 300, place="11")), "837P",
                     filing="MB")
    assert [f.severity for f in rule(found, "MOD003")] == ["error"]


def test_claims_alike_but_for_the_payer_do_not_share_an_answer_on_a_line_place(tmp_path):
    """Claim shapes replay which rules fired: a profile switching JW/JZ off for one payer's
    office lines must not silence another payer's (CLM05-1 21 for both; SV105 11)."""
    config = parse_config({"profiles": [{"name": "office-off", "payer_ids": ["QUIET01"],
                                         "settings": ["837P:11"], "jw_jz": False}]})
    engine = Engine(TABLE, config)
    for number, payer, expected in [(1, "QUIET01", []), (2, "LOUD01", ["error"]),
                                    (3, "QUIET01", []), (4, "LOUD01", ["error"])]:
        fragment = professional("21", sv1(place="11")).replace("CLM*C1*", f"CLM*C{number}*")
        path = tmp_path / f"{number}.edi"
        path.write_text(wrap_claims(fragment, "837P", filing="MB", payer_id=payer))
        found = engine.check_file(path).findings
        assert [f.severity for f in rule(found, "MOD001")] == expected, payer


def test_the_finding_names_the_line_policy(tmp_path):
    config = parse_config({"profiles": [{"name": "office-enforces", "payer_ids": ["PAYER01"],
                                         "settings": ["837P:11"], "jw_jz": True}]})
    found = findings(tmp_path, professional("21", sv1(place="11")), "837P", config,
                     filing="CI")
    [mod001] = rule(found, "MOD001")
    assert mod001.severity == "error" and mod001.policy == "commercial+profile:office-enforces"


# -- 2. JW/JZ rules by the payer's policy -----------------------------------------------------

JW_AND_JZ = professional("11", sv1("J2350:JZ:JW"))
JW_ALONE = professional("11", sv1("J2350:JW", 300))
JZ_WITH_JW = professional("11", sv1("J2350:JZ", 300), sv1("J2350:JW", 300, number=2))
TOO_MUCH_WASTE = professional("11", sv1("J2350", 600), sv1("J2350:JW", 300, number=2))
CASES = {"MOD002": JW_AND_JZ, "MOD003": JW_ALONE, "MOD004": JZ_WITH_JW,
         "MOD007": TOO_MUCH_WASTE}


@pytest.mark.parametrize("code", sorted(CASES))
@pytest.mark.parametrize("filing", ["ZZ", "CI", "BL", "16", "MC"])
def test_a_payer_whose_jw_jz_rule_is_unknown_gets_a_warning_saying_why(tmp_path, code,
                                                                      filing):
    found = findings(tmp_path, CASES[code], "837P", filing=filing)
    [finding] = rule(found, code)
    assert finding.severity == "warning", finding.message
    assert "payer profile" in finding.message  # the reason: where it would be an error
    assert not any(f.severity == "error" for f in found), [f.rule for f in found]


@pytest.mark.parametrize("code", sorted(CASES))
def test_medicare_and_an_enforcing_profile_keep_the_error(tmp_path, code):
    [finding] = rule(findings(tmp_path, CASES[code], "837P", filing="MB"), code)
    assert finding.severity == "error" and "payer profile" not in finding.message
    config = parse_config({"profiles": [{"name": "bcbs-enforces", "payer_ids": ["PAYER01"],
                                         "jw_jz": True}]})
    [finding] = rule(findings(tmp_path, CASES[code], "837P", config, filing="BL"), code)
    assert finding.severity == "error"


def test_between_july_and_october_2023_medicare_warns_of_them_too(tmp_path):
    fragment = JW_AND_JZ.replace(DOS, "20230815").replace("G35A", "G35")
    [finding] = rule(findings(tmp_path, fragment, "837P", filing="MB"), "MOD002")
    assert finding.severity == "warning"


def test_mod007_keeps_its_warning_on_an_inpatient_bill(tmp_path):
    fragment = "\n".join([
        "CLM*I1*46800***11:1:1**A*Y*Y", f"DTP*434*RD8*{DOS}-{DOS}", "HI*ABK:G35A",
        "LX*1", "SV2*0636*HC:J2350*31200*UN*600", f"DTP*472*D8*{DOS}",
        "LX*2", "SV2*0636*HC:J2350:JW*15600*UN*300", f"DTP*472*D8*{DOS}"])
    [finding] = rule(findings(tmp_path, fragment, "837I", filing="MA"), "MOD007")
    assert finding.severity == "warning" and "not required in this setting" in finding.message


# -- 3. no JZ where the NDC quantity shows waste ------------------------------------------

def test_the_fix_adds_no_jz_where_the_ndc_quantity_shows_a_third_vial(tmp_path):
    """600 units (two 300 mg vials) with CTP 30 ML (three 10 ML vials): was one vial
    discarded?  JZ would say no; a person decides."""
    found = findings(tmp_path, professional("11", sv1(quantity=30)), "837P", filing="MB")
    [mod001] = rule(found, "MOD001")
    assert mod001.severity == "error" and mod001.fix is None
    assert "add JZ if nothing was discarded" in mod001.message
    assert rule(found, "NDC007")
    # the quantity agreeing with the units: the fix stays
    [mod001] = rule(findings(tmp_path, professional("11", sv1(quantity=20)), "837P",
                             filing="MB"), "MOD001")
    assert mod001.fix is not None


def test_fix_leaves_the_wasteful_line_and_writes_valid_edi(tmp_path):
    source = tmp_path / "in.edi"
    source.write_text(wrap_claims(professional("11", sv1(quantity=30)), "837P", filing="MB"))
    result = fix_file(source, tmp_path / "out", table=TABLE, config=Config())
    assert "MOD001" not in [c.rule for c in result.changes]
    assert b"HC:J2350*" in Path(result.output).read_bytes()
    ok, messages = pyx12_verdict(result.output)
    assert ok, messages


# -- 4. MOD003 on a line with JW and JZ --------------------------------------------------------

def test_mod003_on_a_line_with_jw_and_jz_says_to_drop_one_modifier(tmp_path):
    found = findings(tmp_path, JW_AND_JZ, "837P", filing="MB")
    assert rule(found, "MOD002")
    [mod003] = rule(found, "MOD003")
    assert "drop one modifier" in mod003.message
    assert "bill the administered units on a line without JW/JZ" not in mod003.message
    # a JW line alone keeps its advice
    [mod003] = rule(findings(tmp_path, JW_ALONE, "837P", filing="MB"), "MOD003")
    assert "bill the administered units on a line without JW/JZ" in mod003.message
    assert "drop one modifier" not in mod003.message


# -- 5. DX003's fix replaces an invalid pointer ----------------------------------------------

def test_dx003_fix_replaces_the_pointer_to_a_missing_diagnosis(tmp_path):
    fragment = professional("11", sv1("J2350:JZ", pointers="3"), hi="HI*ABK:G35A*ABF:Z79899")
    source = tmp_path / "in.edi"
    source.write_text(wrap_claims(fragment, "837P", filing="MB"))
    found = findings(tmp_path, fragment, "837P", filing="MB")
    [dx003] = rule(found, "DX003")
    assert [(e.before, e.after) for e in dx003.fix.edits] == [("3", "1")]
    result = fix_file(source, tmp_path / "out", table=TABLE, config=Config())
    assert [c.rule for c in result.changes] == ["DX003"]
    text = Path(result.output).read_text()
    assert "*600***1~" in text and "3:1" not in text
    after = Engine(TABLE, Config()).check_file(result.output).findings
    assert not rule(after, "DX003") and not rule(after, "DX004")
    ok, messages = pyx12_verdict(result.output)
    assert ok, messages


def test_dx003_fix_still_adds_beside_a_valid_pointer(tmp_path):
    fragment = professional("11", sv1("J2350:JZ", pointers="2"), hi="HI*ABK:G35A*ABF:Z79899")
    [dx003] = rule(findings(tmp_path, fragment, "837P", filing="MB"), "DX003")
    assert [(e.component, e.before, e.after) for e in dx003.fix.edits] == [(2, "", "1")]


# -- 6. DX002's date ------------------------------------------------------------------------

def test_dx002_on_an_inpatient_stay_is_dated_by_the_discharge(tmp_path):
    fragment = "\n".join([
        "CLM*I1*31200***11:1:1**A*Y*Y", "DTP*434*RD8*20250928-20251003", "HI*ABK:G35",
        "LX*1", "SV2*0636*HC:J2350*31200*UN*600", "DTP*472*D8*20250929"])
    [dx002] = rule(findings(tmp_path, fragment, "837I", filing="MA"), "DX002")
    assert "2025-10-03" in dx002.message
    assert dx002.service_date == "20251003"
