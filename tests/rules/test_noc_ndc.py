"""NDC001 on a not-otherwise-classified drug code (J3490, J3590, J9999, C9399) with no NDC:
the NDC is the only identity of the drug, so a warning for every payer class whose NDC
rule is unknown or a warning, the error where the class's sourced rule requires it
(Medicare FFS, Medicaid) (trial 5 item 9; billing-rules.md §9.2)."""
import pytest
from test_policy import findings

NOC = """\
CLM*NOC-1*2000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:{code}*2000*UN*1***1
DTP*472*D8*20260310{ndc}"""
WITH_NDC = "\nLIN**N4*50242015001\nCTP****10*ML"


def ndc001(tmp_path, code, filing, ndc=""):
    return [f for f in findings(tmp_path, NOC.format(code=code, ndc=ndc), "837P", filing=filing)
            if f.rule == "NDC001"]


@pytest.mark.parametrize("code", ["J3490", "J3590", "J9999", "C9399"])
@pytest.mark.parametrize("filing, severity", [
    ("MB", "error"), ("MC", "error"), ("CI", "warning"), ("BL", "warning"), ("16", "warning"),
    ("VA", "warning")])
def test_noc_code_without_ndc(tmp_path, code, filing, severity):
    found, = ndc001(tmp_path, code, filing)
    assert found.severity == severity


@pytest.mark.parametrize("filing", ["MB", "MC", "CI", "16", "VA"])
def test_noc_code_with_its_ndc_passes(tmp_path, filing):
    assert ndc001(tmp_path, "J3590", filing, WITH_NDC) == []


def test_a_named_code_outside_the_table_stays_silent_for_commercial(tmp_path):
    # J1745 (infliximab) is not in the drug table: payers vary, nothing shipped says
    assert ndc001(tmp_path, "J1745", "CI") == []
