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
