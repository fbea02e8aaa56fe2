"""An 837P line's own place of service (SV105) overrides CLM05-1 for its line, for the
user's payer profile too: a profile chosen by setting ("837P:22") decides which line
rules run on a line given at POS 22 and how severe they are, whatever the claim's
place; claim rules keep the claim's profile.  With claim shapes or without, and on a
claim shaped like one checked before, the findings are the same."""
import pytest
from test_policy import TABLE, claim, line

from edi837.config import parse_config
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

HOSPITAL = {"name": "hospital-outpatient", "payer_ids": ["PAYER01"], "settings": ["837P:22"]}


def at(place: str, fragment: str) -> str:
    """A line() fragment of 600 units given at place of service ``place`` (SV105)."""
    return fragment.replace("UN*600***1", f"UN*600*{place}**1")


def two_lines(claim_place: str, line_place: str) -> str:
    """A J2350 claim at ``claim_place`` (CLM05-1): LX 1 at ``line_place`` (SV105), LX 2
    with no SV105 (the claim's place), a day later; neither line has JW or JZ."""
    return claim(f"837P:{claim_place}", at(line_place, line("J2350")),
                 line("J2350", date="20260116", number=2))


def check(tmp_path, fragment: str, profile: dict, *, shapes: bool = True) -> list:
    """The findings on ``fragment`` and on a copy of it (CLM01 C2: a claim of a shape
    checked already), commercial (SBR09 CI: MOD001 a warning by policy)."""
    config = parse_config({"profiles": [{**HOSPITAL, **profile}]})
    path = tmp_path / f"claims-{len(list(tmp_path.iterdir()))}.edi"
    path.write_text(wrap_claims(fragment + "\n" + fragment.replace("CLM*C1*", "CLM*C2*"),
                                "837P", filing="CI"))
    return list(Engine(TABLE, config, shapes=shapes).check_file(path).findings)


def by_line(found, code: str) -> dict:
    """{(claim id, LX): severity} of the ``code`` findings."""
    return {(f.claim_id, f.line_number): f.severity for f in found if f.rule == code}


@pytest.mark.parametrize("shapes", [True, False])
def test_a_profile_by_setting_raises_the_severity_on_a_line_given_there(tmp_path, shapes):
    raised = {"severity": {"MOD001": "error"}}
    # FAIL: an office claim (POS 11) with a line given at POS 22: that line's MOD001
    # takes the POS 22 profile's severity, the office line the shipped warning
    found = check(tmp_path, two_lines("11", "22"), raised, shapes=shapes)
    assert by_line(found, "MOD001") == {("C1", 1): "error", ("C1", 2): "warning",
                                        ("C2", 1): "error", ("C2", 2): "warning"}
    # PASS: the reverse, a POS 22 claim with an office line: the office line keeps the
    # warning, the line at the claim's place (no SV105) takes the profile's error
    found = check(tmp_path, two_lines("22", "11"), raised, shapes=shapes)
    assert by_line(found, "MOD001") == {("C1", 1): "warning", ("C1", 2): "error",
                                        ("C2", 1): "warning", ("C2", 2): "error"}


@pytest.mark.parametrize("shapes", [True, False])
def test_a_profile_by_setting_ignores_a_rule_only_on_lines_given_there(tmp_path, shapes):
    quiet = {"ignore": ["MOD001"]}
    found = check(tmp_path, two_lines("11", "22"), quiet, shapes=shapes)
    assert by_line(found, "MOD001") == {("C1", 2): "warning", ("C2", 2): "warning"}
    found = check(tmp_path, two_lines("22", "11"), quiet, shapes=shapes)
    assert by_line(found, "MOD001") == {("C1", 1): "warning", ("C2", 1): "warning"}


def test_pos001_on_a_hospital_line_of_an_office_claim_follows_the_lines_profile(tmp_path):
    """POS001 (a drug billed at POS 19/22 on a physician's claim) judges the line's
    SV105: a profile for 837P:22 that ignores it silences it there, not elsewhere."""
    fragment = two_lines("11", "22")
    assert by_line(check(tmp_path, fragment, {}), "POS001") == {
        ("C1", 1): "warning", ("C2", 1): "warning"}
    assert by_line(check(tmp_path, fragment, {"ignore": ["POS001"]}), "POS001") == {}


def test_claim_rules_keep_the_claims_profile(tmp_path):
    """ADM001 (no administration line) is a claim rule: an office claim's lines given at
    POS 22 do not take it out, and a POS 22 claim's office line does not bring it back."""
    quiet = {"ignore": ["ADM001"]}
    assert {f.claim_id for f in check(tmp_path, two_lines("11", "22"), quiet)
            if f.rule == "ADM001"} == {"C1", "C2"}
    assert [f for f in check(tmp_path, two_lines("22", "11"), quiet)
            if f.rule == "ADM001"] == []


def test_a_line_whose_place_maps_to_the_claims_profile_is_judged_as_before(tmp_path):
    """SV105 = CLM05-1, or a place no profile names: the claim's plan, the same findings
    as a line without SV105."""
    plain = check(tmp_path, claim("837P:11", line("J2350")), {"ignore": ["MOD001"]})
    for place in ("11", "12"):
        same = check(tmp_path, claim("837P:11", at(place, line("J2350"))),
                     {"ignore": ["MOD001"]})
        assert [(f.rule, f.severity, f.line_number) for f in same] == \
            [(f.rule, f.severity, f.line_number) for f in plain]
    assert by_line(plain, "MOD001") == {("C1", 1): "warning", ("C2", 1): "warning"}


def test_the_policy_a_line_finding_names_is_its_places(tmp_path):
    """A profile that enforces JW/JZ at POS 22 (a policy layer): the POS 22 line's
    MOD001 is an error under that policy, and says so in its ``policy`` field."""
    found = check(tmp_path, two_lines("11", "22"), {"jw_jz": True})
    names = {(f.claim_id, f.line_number): (f.severity, f.policy)
             for f in found if f.rule == "MOD001"}
    assert names[("C1", 1)] == ("error", "commercial+profile:hospital-outpatient")
    assert names[("C1", 2)] == ("warning", "commercial")
