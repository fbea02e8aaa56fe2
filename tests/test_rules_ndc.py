"""NDC rules through the real engine: what their messages say."""
from decimal import Decimal

import pytest
from conftest import CLEAN_J2350_CLAIM

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.rules.groups import number
from edi837.x12.fragment import wrap_claims


def ndc007(tmp_path, units: str, ctp: str) -> str:
    fragment = CLEAN_J2350_CLAIM.replace("9000*UN*600", f"9000*UN*{units}").replace(
        "CTP****20*ML", f"CTP****{ctp}")
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(fragment))
    found = [f for f in Engine(load_drug_table()).check_file(path).findings if f.rule == "NDC007"]
    assert len(found) == 1, found
    return found[0].message


@pytest.mark.parametrize("units, ctp, expected", [
    ("650", "20*ML", "(expected 21.667 ML)"),      # 650 mg / 30 mg per mL: rounded, not 28 digits
    ("600", "10*ML", "(expected 20 ML)"),          # whole: no decimals, no trailing zeros
    ("615", "20*ML", "(expected 20.5 ML)"),        # trailing zeros stripped
    ("0.001", "1*ML", "(expected 0.0000333 ML)"),  # tiny: significant digits, not 0
])
def test_ndc007_expected_quantity_is_readable(tmp_path, units, ctp, expected):
    assert ndc007(tmp_path, units, ctp).endswith(expected)


def test_number_rounds_only_when_asked_and_never_fails():
    assert number(Decimal(1) / Decimal(3)) == "0.3333333333333333333333333333"
    assert number(Decimal(2) / Decimal(3), places=3) == "0.667"
    assert number(Decimal("6E+2"), places=3) == "600"
    assert number(Decimal("1E+30"), places=3) == "1" + "0" * 30  # too long to round: as it is
    assert number(Decimal("NaN"), places=3) == "NaN" and number(0, places=3) == "0"


# -- NDC004: an NDC merely absent from the table warns; one of another code holds --------

def ndc004(tmp_path, fragment: str):
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(fragment))
    return [f for f in Engine(load_drug_table()).check_file(path).findings if f.rule == "NDC004"]


XOLAIR = """\
CLM*C1*1150***11:B:1*Y*A*Y*Y
HI*ABK:J4540
LX*1
SV1*HC:J2357:JZ*750*UN*15***1
DTP*472*D8*20251015
LIN**N4*{ndc}
CTP****1*UN"""


def test_ndc004_an_ndc_unknown_to_the_table_is_a_warning(tmp_path):
    # a plausible Xolair syringe NDC the shipped table does not list: never held for that
    found, = ndc004(tmp_path, XOLAIR.format(ndc="50242021401"))
    assert found.severity == "warning"
    assert found.message.startswith("NDC 50242021401 is not listed for J2357 (listed: ")
    assert ndc004(tmp_path, XOLAIR.format(ndc="50242021503")) == []


def test_ndc004_an_ndc_of_another_hcpcs_is_an_error(tmp_path):
    fragment = CLEAN_J2350_CLAIM.replace("LIN**N4*50242015001", "LIN**N4*50242055401")
    found, = ndc004(tmp_path, fragment)
    assert found.severity == "error" and "bill J2351" in found.message


def test_ndc004_a_configured_severity_still_wins(tmp_path):
    from edi837.config import Config
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(XOLAIR.format(ndc="50242021401")))
    engine = Engine(load_drug_table(), Config(severity={"NDC004": "error"}))
    found, = [f for f in engine.check_file(path).findings if f.rule == "NDC004"]
    assert found.severity == "error"
