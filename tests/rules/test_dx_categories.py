"""DX002 for ICD-10-CM categories that are not billable codes (trial 5, items 4 and 5):
G35B on J2323 as on J2350, and K50, K51, M05, M06, J45.4, J33, D89.83 ... on every drug
whose table entry takes their codes by prefix, without an imported ICD-10-CM file."""
import pytest

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

ENGINE = Engine(load_drug_table())

LINE = {
    "J3380": ("300", "64764030020", "1*UN"),
    "J3262": ("400", "50242013701", "20*ML"),
    "Q5133": ("400", "78206020101", "20*ML"),
    "J2357": ("60", "50242022701", "2*ML"),
    "J2323": ("300", "64406000801", "15*ML"),
    "Q5134": ("300", "64406000801", "15*ML"),
}


def dx(tmp_path, code, hi):
    units, ndc, ctp = LINE[code]
    fragment = f"""\
CLM*C1*2000***11:B:1*Y*A*Y*Y
HI*{hi}
LX*1
SV1*HC:{code}:JZ*2000*UN*{units}***1
DTP*472*D8*20260310
LIN**N4*{ndc}
CTP****{ctp}"""
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(fragment))
    return [f for f in ENGINE.check_file(path).findings if f.rule.startswith("DX")]


@pytest.mark.parametrize("code, category", [
    ("J3380", "K50"), ("J3380", "K51"), ("J3262", "M05"), ("J3262", "M06"),
    ("J3262", "D8983"), ("J3262", "M082"), ("Q5133", "M05"), ("J2357", "J454"),
    ("J2357", "J455"), ("J2357", "J33"), ("J2323", "K50"), ("Q5134", "K50"),
    ("J2323", "G35B"), ("Q5134", "G35B")])
def test_a_category_is_dx002_not_valid(tmp_path, code, category):
    found = dx(tmp_path, code, f"ABK:{category}")
    assert [(f.rule, f.severity) for f in found] == [("DX002", "error")], found
    assert "a category, not a billable code" in found[0].message


@pytest.mark.parametrize("code, billable", [
    ("J3380", "K5090"), ("J3380", "K51911"), ("J3262", "M0579"), ("J3262", "M0600"),
    ("J3262", "D89831"), ("J2357", "J4550"), ("J2357", "J330"), ("J2323", "K5000"),
    ("J2323", "G35A")])
def test_billable_codes_under_the_categories_pass(tmp_path, code, billable):
    assert dx(tmp_path, code, f"ABK:{billable}") == []


def test_g35b_next_to_a_supporting_code_is_still_dx002_on_j2323(tmp_path):
    found = dx(tmp_path, "J2323", "ABK:G35A*ABF:G35B")
    assert [(f.rule, f.value) for f in found] == [("DX002", "G35B")]
    assert "use G35.B0-G35.B2" in found[0].message
