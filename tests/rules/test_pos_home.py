"""MOD001 on a physician's claim at the patient's home (837P place of service 12) for
Medicare FFS: the sources name physician office, hospital outpatient and critical access
hospital settings, not the home (billing-rules.md §1.3, §9.1), so a missing JZ there is a
warning saying why, not a hold (trial 5 item 7).  The severity and its reason are data
(edi837/policy/policies.toml)."""
import pytest
from test_policy import claim, findings, line

from edi837.policy import shipped_policies


def mod001(found):
    return [f for f in found if f.rule == "MOD001"]


@pytest.mark.parametrize("filing", ["MB", "MA"])
def test_medicare_home_visit_without_jz_is_a_warning_with_its_reason(tmp_path, filing):
    found, = mod001(findings(tmp_path, claim("837P:12", line("J2350")), "837P", filing=filing))
    assert found.severity == "warning" and found.policy == "medicare-ffs"
    assert "place of service 12, home" in found.message and "not the home" in found.message
    # with JZ: nothing
    assert mod001(findings(tmp_path, claim("837P:12", line("J2350:JZ")), "837P",
                           filing=filing)) == []


def test_the_office_keeps_the_error_and_no_reason(tmp_path):
    found, = mod001(findings(tmp_path, claim("837P:11", line("J2350")), "837P", filing="MB"))
    assert found.severity == "error" and "place of service 12" not in found.message


def test_before_jz_was_required_the_home_is_silent_too(tmp_path):
    assert mod001(findings(tmp_path, claim("837P:12", line("J2350", date="20230630")),
                           "837P", filing="MB")) == []


def test_the_requirement_is_data_with_a_source():
    found = [r for r in shipped_policies().policies["medicare-ffs"].jw_jz
             if "837P:12" in r.settings]
    assert found and found[0].severity == "warning" and found[0].reason
    assert "§1.3" in found[0].source
