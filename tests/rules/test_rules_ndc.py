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


# -- NDC004: a placeholder NDC is no NDC (the drug table's [policy.ndc_placeholders]) -------

def placeholder_findings(tmp_path, ndc: str, filing: str, procedure: str = "J2350"):
    fragment = CLEAN_J2350_CLAIM.replace("LIN**N4*50242015001", f"LIN**N4*{ndc}")
    if procedure != "J2350":
        fragment = fragment.replace("HC:J2350:JZ", f"HC:{procedure}")
    path = tmp_path / f"claim-{filing}.edi"
    path.write_text(wrap_claims(fragment, filing=filing))
    return [f for f in Engine(load_drug_table()).check_file(path).findings
            if f.rule.startswith("NDC")]


@pytest.mark.parametrize("ndc, why", [("00000000000", "labeler code 00000 is assigned to no firm"),
                                      ("00000015001", "labeler code 00000 is assigned to no firm"),
                                      ("99999999999", "a filler NDC")])
def test_ndc004_a_placeholder_on_a_medicaid_claim_is_an_error(tmp_path, ndc, why):
    # Medicaid requires the NDC (NDC001 an error there): a dummy does not meet it (trial p9)
    found, = placeholder_findings(tmp_path, ndc, "MC")
    assert (found.rule, found.severity, found.segment) == ("NDC004", "error", "LIN")
    assert found.message == (f"NDC {ndc} is a placeholder ({why}), not a package's NDC: the "
                             "claim's payer requires the NDC of the package the drug was "
                             "drawn from")


def test_ndc004_a_placeholder_where_the_ndc_is_not_required_is_a_warning(tmp_path):
    # Medicare requires no NDC on J2350 (billing-rules.md §9.2): a dummy is wrong, not held
    found, = placeholder_findings(tmp_path, "00000000000", "MB")
    assert (found.rule, found.severity) == ("NDC004", "warning")
    assert found.message.endswith("give the NDC of the package the drug was drawn from, or none")
    # commercial: payers vary, a warning (NDC001 would be one too)
    found, = placeholder_findings(tmp_path, "99999999999", "CI")
    assert (found.rule, found.severity) == ("NDC004", "warning")


def test_ndc004_a_real_ndc_and_a_plausible_unlisted_one_are_no_placeholders(tmp_path):
    assert placeholder_findings(tmp_path, "50242015001", "MC") == []
    found, = placeholder_findings(tmp_path, "00002759701", "MC")  # a real labeler (00002)
    assert found.severity == "warning" and "placeholder" not in found.message


def test_ndc_placeholders_are_data_with_a_source():
    placeholders = load_drug_table().policy.ndc_placeholders
    assert placeholders.labelers == ("00000",) and placeholders.ndcs == ("99999999999",)
    assert "21 CFR 207.33" in placeholders.provenance.source
    assert placeholders.why("50242015001") is None
