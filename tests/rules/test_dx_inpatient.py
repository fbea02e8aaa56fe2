"""DX002 on an inpatient stay: the diagnoses of an inpatient bill (type of bill 11x)
are valid by the stay's discharge, the statement period's through date (DTP*434), not
by each line's date: CMS's fiscal-year ICD-10-CM codes are "to be used for discharges
occurring from October 1" (policy data [diagnosis_dates], with its sources).  A stay
across 2025-10-01 takes the FY2026 codes: bare G35 is not valid on it (error), G35.A
is (no finding), even on a line dated in September.  Other bills keep the line's date."""
import pytest
from test_policy import TABLE, findings, line

from edi837.engine import Engine
from edi837.policy import shipped_data, shipped_policies
from edi837.x12.fragment import wrap_claims

STAY = ("20250928", "20251003")  # admitted in FY2025, discharged in FY2026


def bill(bill_type: str, dx: str, stay=STAY, line_date="20250929", claim_id="I1") -> str:
    statement = f"DTP*434*RD8*{stay[0]}-{stay[1]}" if stay else "DTP*434*D8*20250928"
    return "\n".join([f"CLM*{claim_id}*9000***{bill_type}:A:1**A*Y*Y", statement,
                      f"HI*ABK:{dx}", line(date=line_date, kind="837I")])


def dx002(found):
    return [f for f in found if f.rule == "DX002"]


@pytest.mark.parametrize("filing", ["MA", "MC", "CI"])
def test_an_inpatient_stay_across_the_fy2026_split_is_judged_by_its_discharge(tmp_path,
                                                                                filing):
    [found] = dx002(findings(tmp_path, bill("11", "G35"), "837I", filing=filing))
    assert found.severity == "error" and found.value == "G35" and found.segment == "HI"
    assert "not valid on 2025-10-03, the discharge (statement through date)" in found.message
    assert "use G35.A-G35.D" in found.message
    assert dx002(findings(tmp_path, bill("11", "G35A"), "837I", filing=filing)) == []


def test_a_stay_discharged_before_the_split_keeps_bare_g35(tmp_path):
    stay = ("20250920", "20250930")
    assert dx002(findings(tmp_path, bill("11", "G35", stay), "837I", filing="MA")) == []
    [found] = dx002(findings(tmp_path, bill("11", "G35A", stay), "837I", filing="MA"))
    assert "not valid on 2025-09-30" in found.message and "valid from 2025-10-01" in \
        found.message


@pytest.mark.parametrize("bill_type", ["13", "85", "71"])
def test_other_bills_are_judged_by_each_lines_date(tmp_path, bill_type):
    assert dx002(findings(tmp_path, bill(bill_type, "G35"), "837I", filing="MA")) == []
    [found] = dx002(findings(tmp_path, bill(bill_type, "G35A"), "837I", filing="MA"))
    assert "not valid on 2025-09-29, the date of service of J2350" in found.message


def test_an_inpatient_bill_without_a_through_date_falls_back_to_the_lines_date(tmp_path):
    assert dx002(findings(tmp_path, bill("11", "G35", stay=None), "837I", filing="MA")) == []


def test_the_setting_and_its_sources_are_data():
    data = shipped_data()["diagnosis_dates"]
    assert data["through_date_settings"] == ["837I:11x"] and data["confidence"] == "A"
    assert "discharges" in data["source"]
    assert shipped_policies().diagnosis_dates.settings == ("837I:11",)


def test_claims_alike_but_for_the_discharge_do_not_share_an_answer(tmp_path):
    """Claim shapes (edi837.reader.shapes): DX002 reads the through date, so a stay discharged
    in October is judged after one discharged in September that was clean."""
    engine = Engine(TABLE)
    cases = [("I1", ("20250920", "20250930"), []), ("I2", STAY, ["DX002"]),
             ("I3", ("20250921", "20250930"), []), ("I4", ("20250928", "20251009"), ["DX002"])]
    for claim_id, stay, expected in cases:
        path = tmp_path / f"{claim_id}.edi"
        path.write_text(wrap_claims(bill("11", "G35", stay, claim_id=claim_id), "837I",
                                    filing="MA"))
        assert [f.rule for f in engine.check_file(path).findings
                if f.rule == "DX002"] == expected, claim_id


def test_policy_command_says_which_date_decides():
    from click.testing import CliRunner

    from edi837.cli import main

    inpatient = CliRunner().invoke(main, ["policy", "--filing", "MA", "--bill-type", "111"])
    assert inpatient.exit_code == 0, inpatient.output
    assert "diagnoses valid on (DX002): the statement's through (discharge) date" in \
        inpatient.output
    outpatient = CliRunner().invoke(main, ["policy", "--filing", "MA", "--bill-type", "131"])
    assert "diagnoses valid on (DX002): each drug line's date of service" in outpatient.output
