"""UNT005: units written in mg where one HCPCS unit is 5 mg (J2357, omalizumab).

Trial 5 (s22.edi): one 75 mg syringe billed as 75 units (375 mg) got only an NDC007
warning telling the biller to change the NDC quantity to 2.5 ML."""
import pytest

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

OMALIZUMAB = """\
CLM*OMA-mg*2000***11:B:1*Y*A*Y*Y
HI*ABK:J4550
LX*1
SV1*HC:J2357:JZ*2000*UN*{units}***1
DTP*472*D8*20260310
LIN**N4*{ndc}
CTP****{ctp}"""


def check(tmp_path, units, ndc="50242021403", ctp="0.5*ML"):
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(OMALIZUMAB.format(units=units, ndc=ndc, ctp=ctp)))
    return Engine(load_drug_table()).check_file(path).findings


def test_75_units_for_one_75_mg_syringe_is_an_error_on_the_units(tmp_path):
    findings = check(tmp_path, 75)
    found, = [f for f in findings if f.rule == "UNT005"]
    assert found.severity == "error" and found.segment == "SV1" and found.value == "75"
    assert "1 unit = 5 mg" in found.message and "375 mg" in found.message
    assert "0.5 ML of this package is 15 units" in found.message
    assert "correct the units, not the NDC quantity" in found.message
    # the NDC quantity is right: no advice to change it to 2.5 ML
    assert [f for f in findings if f.rule == "NDC007"] == []


@pytest.mark.parametrize("units, ndc, ctp", [
    ("150", "50242021503", "1*ML"),    # 150 mg/mL syringe, 1 mL: 150 mg billed as 150 units
    ("300", "50242022701", "1*UN"),    # one 300 mg/2 mL syringe counted in containers
    ("150", "50242004062", "150*ME"),  # the vial, quantity in milligrams
])
def test_other_packages_and_ctp_units(tmp_path, units, ndc, ctp):
    found, = [f for f in check(tmp_path, units, ndc, ctp) if f.rule == "UNT005"]
    assert f"is {int(units) // 5} units" in found.message


def test_units_in_5_mg_units_pass_and_other_mismatches_stay_ndc007(tmp_path):
    assert [f.rule for f in check(tmp_path, 15) if f.rule in ("UNT005", "NDC007")] == []
    # 30 units (150 mg) with 0.5 ML of the 75 mg syringe: not the mg written as units
    found = [f.rule for f in check(tmp_path, 30) if f.rule in ("UNT005", "NDC007")]
    assert found == ["NDC007"]


def test_no_ndc_no_finding_and_1_mg_drugs_untouched(tmp_path):
    path = tmp_path / "claim.edi"
    fragment = "\n".join(s for s in OMALIZUMAB.format(units=75, ndc="", ctp="").splitlines()
                         if not s.startswith(("LIN", "CTP")))
    path.write_text(wrap_claims(fragment))
    assert [f for f in Engine(load_drug_table()).check_file(path).findings
            if f.rule == "UNT005"] == []
    # J2350: 1 unit = 1 mg, units equal to the mg are right
    j2350 = OMALIZUMAB.replace("J2357", "J2350").replace("J4550", "G35A")
    path.write_text(wrap_claims(j2350.format(units=600, ndc="50242015001", ctp="20*ML")))
    assert [f for f in Engine(load_drug_table()).check_file(path).findings
            if f.rule == "UNT005"] == []
