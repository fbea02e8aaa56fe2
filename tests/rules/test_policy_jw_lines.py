"""MOD002-MOD004 (JW/JZ lines built against the rule) and MOD007 (waste beyond the
least-waste containers) are errors only where their source binds the payer: Medicare
fee-for-service (CMS, CGS, Noridian) or a payer a profile says enforces JW/JZ; for the
other payer classes where JW/JZ are in scope, a warning (policies.toml [[.jw_jz_lines]],
[[.least_waste]], as MOD001 and NDC001 are resolved: data, not code).  MOD005 is a
warning everywhere already."""
import pytest
from test_rules_modifiers_units import OCREVUS_NDC, TABLE, check, p_claim, p_line

from edi837.config import parse_config
from edi837.engine import Engine
from edi837.policy import shipped_policies

WASTE = p_claim(p_line(1, "J2350", 600, ndc=OCREVUS_NDC),  # + JW 300: a third vial (MOD007)
                p_line(2, "J2350:JW", 300, ndc=OCREVUS_NDC))
BOTH = p_claim(p_line(1, "J2350:JW:JZ", 600, ndc=OCREVUS_NDC))  # MOD002 and MOD003
JZ_AND_JW = p_claim(p_line(1, "J2350:JZ", 450, ndc=OCREVUS_NDC),  # MOD004
                    p_line(2, "J2350:JW", 150, ndc=OCREVUS_NDC))


def severities(result, *codes):
    return {f.rule: f.severity for f in result.findings if f.rule in codes}


@pytest.mark.parametrize("filing, severity", [
    ("MB", "error"), ("MA", "error"), ("16", "warning"), ("MC", "warning"), ("CI", "warning"),
    ("BL", "warning"), ("HM", "warning"), ("ZZ", "warning")])
def test_waste_beyond_least_waste_containers_is_an_error_only_for_medicare_ffs(
        tmp_path, filing, severity):
    result, _ = check(tmp_path, WASTE, filing=filing)
    assert severities(result, "MOD007") == {"MOD007": severity}


@pytest.mark.parametrize("fragment, codes", [(BOTH, ("MOD002", "MOD003")),
                                             (JZ_AND_JW, ("MOD004",))])
@pytest.mark.parametrize("filing, severity", [("MB", "error"), ("CI", "warning"),
                                              ("MC", "warning")])
def test_jw_jz_lines_against_the_rule_by_payer_class(tmp_path, fragment, codes, filing,
                                                     severity):
    result, _ = check(tmp_path, fragment, filing=filing)
    assert severities(result, *codes) == dict.fromkeys(codes, severity)


def test_a_profile_that_says_the_payer_enforces_jw_jz_makes_them_errors(tmp_path):
    config = parse_config({"profiles": [{"name": "strict-bcbs", "filing_indicators": ["BL"],
                                         "jw_jz": True}]})
    for fragment, codes in ((WASTE, ("MOD007",)), (BOTH, ("MOD002", "MOD003"))):
        result, _ = check(tmp_path, fragment, filing="BL", engine=Engine(TABLE, config))
        assert severities(result, *codes) == dict.fromkeys(codes, "error")
        result, _ = check(tmp_path, fragment, filing="CI", engine=Engine(TABLE, config))
        assert severities(result, *codes) == dict.fromkeys(codes, "warning")


def test_every_payer_class_has_sourced_line_and_waste_requirements():
    book = shipped_policies()
    for name, policy in book.policies.items():
        for requirements in (policy.jw_jz_lines, policy.least_waste):
            assert requirements and all(r.source and r.confidence for r in requirements)
            # an error needs a sourced rule of that payer class: Medicare FFS's alone
            assert {r.severity for r in requirements} == \
                ({"error"} if name == "medicare-ffs" else {"warning"}), name


def test_the_policy_command_names_them(tmp_path):
    from click.testing import CliRunner

    from edi837.cli import main

    out = CliRunner().invoke(main, ["policy", "--filing", "CI", "--date", "2026-01-15"]).output
    assert "(MOD007): warning" in out and "(MOD002-MOD004): warning" in out
    out = CliRunner().invoke(main, ["policy", "--filing", "MB", "--date", "2026-01-15"]).output
    assert "(MOD007): error" in out and "CGS Medicare JW/JZ guidelines" in out
