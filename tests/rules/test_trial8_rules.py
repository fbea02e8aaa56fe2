"""A drug-billing specialist's trial (trial 8): waste, crosswalk and 837I dates.

1. MOD007: where the fewest containers and the least waste agree, the provider's choice of
   NDC (a larger vial) does not make the waste billable: the catalog's error, naming the
   containers and saying what the lines bill as billed (billing-rules.md §9.3, §1.4);
2. NDC004 on a not-otherwise-classified or former code (J3590, C9494) billed with an NDC
   the drug table knows under a code valid on the date (Ocrevus in 2026: J2350), §2.1, §9.4;
3. 837I lines without a day of their own: the date rules (DOS002, NDC009) warn where the
   statement period crosses a change of validity, as DX002 does, and hold only a period
   wholly outside it (§4.2, §9.4);
4. MOD001's fix adds no JZ to a line whose units a units rule flags (§1.4, §5).
"""
import datetime as dt

import pytest
from test_rules_modifiers_units import check, only, p_claim

from edi837.drugs.model import DateWindow
from edi837.rules.dates import crossing

ACTEMRA_400, ACTEMRA_200, ACTEMRA_80 = "50242013701", "50242013601", "50242013501"


def tocilizumab(number, composite, units, ndc, quantity, unit="ML", date="20261110"):
    """An 837P Actemra line as the trial wrote it (CTP in ML: 400 mg = 20 ML)."""
    return "\n".join([f"LX*{number}", f"SV1*HC:{composite}*{units * 5}*UN*{units}***1",
                      f"DTP*472*D8*{date}", f"LIN**N4*{ndc}", f"CTP****{quantity}*{unit}"])


def actemra_claim(*lines):
    return p_claim(*lines, diagnosis="M0579")


# -- 1. MOD007: a larger vial's NDC does not make its waste billable ---------------------------

def test_mod007_an_error_where_fewest_and_least_waste_agree_whatever_the_ndc(tmp_path):
    """Trial 8 TOC-A5: 600 mg on the 400 mg vial's NDC (30 ML, 1.5 vials) + JW 40 on the
    80 mg vial's (2 ML, 0.5 vial): 400 + 200 is both the fewest containers and the least
    waste, and leaves nothing; only the NDC chosen would leave 40."""
    result, _ = check(tmp_path, actemra_claim(
        tocilizumab(1, "J3262", 600, ACTEMRA_400, 30),
        tocilizumab(2, "J3262:JW", 40, ACTEMRA_80, 2)))
    finding = only(result, "MOD007")
    assert (finding.severity, finding.line_number, finding.value) == ("error", 2, "40")
    message = finding.message
    assert "600 units administered need 1 x 400 + 1 x 200-unit containers (600 units), " \
        "which leave 0 units to discard; JW bills 40" in message
    assert "sources disagree" not in message
    assert "3 x 80" not in message  # no line bills three 80 mg vials
    # what was billed, as billed
    assert "600 units on NDC 50242013701 (400-unit single-dose vial), CTP 30 ML" in message
    assert "JW 40 units on NDC 50242013501 (80-unit single-dose vial), CTP 2 ML" in message
    assert "§9.3" in message


@pytest.mark.parametrize("given, waste, jw_ndc, quantity, cover", [
    (480, 120, ACTEMRA_200, 6, "1 x 400 + 1 x 80-unit containers (480 units)"),  # TOC-A2
    (450, 150, ACTEMRA_200, 7.5, "1 x 400 + 1 x 80-unit containers (480 units)"),  # TOC-A4
])
def test_mod007_other_trial_claims_where_the_readings_agree(tmp_path, given, waste, jw_ndc,
                                                             quantity, cover):
    result, _ = check(tmp_path, actemra_claim(
        tocilizumab(1, "J3262", given, ACTEMRA_400, given / 20),
        tocilizumab(2, "J3262:JW", waste, jw_ndc, quantity)))
    finding = only(result, "MOD007")
    assert finding.severity == "error" and finding.line_number == 2
    assert cover in finding.message and "sources disagree" not in finding.message


def test_mod007_837i_critical_access_hospital_the_same(tmp_path):
    """Trial 8 i_dx.edi DX-08: an 85x bill, the same lines."""
    fragment = "\n".join([
        "CLM*I1*3200***85:A:1**A*Y*Y", "DTP*434*RD8*20261110-20261110", "HI*ABK:M0579",
        "LX*1", "SV2*0636*HC:J3262*3000*UN*600", "DTP*472*D8*20261110",
        f"LIN**N4*{ACTEMRA_400}", "CTP****30*ML",
        "LX*2", "SV2*0636*HC:J3262:JW*200*UN*40", "DTP*472*D8*20261110",
        f"LIN**N4*{ACTEMRA_80}", "CTP****2*ML"])
    result, _ = check(tmp_path, fragment, "837I", filing="MA")
    finding = only(result, "MOD007")
    assert finding.severity == "error" and finding.line_number == 2


def test_mod007_a_payer_with_no_enforcing_profile_still_gets_a_warning(tmp_path):
    result, _ = check(tmp_path, actemra_claim(
        tocilizumab(1, "J3262", 600, ACTEMRA_400, 30),
        tocilizumab(2, "J3262:JW", 40, ACTEMRA_80, 2)), filing="CI")
    finding = only(result, "MOD007")
    assert finding.severity == "warning" and "payer profile" in finding.message


def test_mod007_keeps_the_warning_where_fewest_and_least_waste_differ(tmp_path):
    """300 mg: one 400 mg vial is fewest (100 to discard), 4 x 80 the least waste (20):
    JW 100 is the fewest containers' waste, the readings truly differ."""
    result, _ = check(tmp_path, actemra_claim(
        tocilizumab(1, "J3262", 300, ACTEMRA_400, 15),
        tocilizumab(2, "J3262:JW", 100, ACTEMRA_400, 5)))
    finding = only(result, "MOD007")
    assert finding.severity == "warning" and "the sources disagree" in finding.message
    assert "the fewest containers, 1 x 400-unit single-dose vial (400 units), leave 100" \
        in finding.message


def test_mod007_quiet_where_the_waste_is_the_least_wastes(tmp_path):
    """PASS: 450 mg on the 400 mg vial's NDC + JW 30 on the 80 mg vial's: 400 + 80, the
    fewest containers and the least waste, leave 30."""
    result, _ = check(tmp_path, actemra_claim(
        tocilizumab(1, "J3262", 450, ACTEMRA_400, 22.5),
        tocilizumab(2, "J3262:JW", 30, ACTEMRA_80, 1.5)))
    assert "MOD007" not in [f.rule for f in result.findings]


# -- 2. NDC004 on a not-otherwise-classified or former code ------------------------------------

OCREVUS = "50242015001"


def ocrelizumab(composite, date):
    return "\n".join(["CLM*CE*30300***11:B:1*Y*A*Y*Y", "HI*ABK:G35A" if date >= "2025" else
                      "HI*ABK:G35", "LX*1", f"SV1*HC:{composite}*30000*UN*600***1",
                      f"DTP*472*D8*{date}", f"LIN**N4*{OCREVUS}", "CTP****20*ML"])


@pytest.mark.parametrize("code", ["J3590", "C9494", "J3490"])
def test_ndc004_names_the_code_of_an_ndc_billed_under_an_unclassified_or_former_code(
        tmp_path, code):
    """Trial 8 p_ce.edi CE-1, CE-2: Ocrevus billed in 2026 under J3590 or C9494."""
    result, _ = check(tmp_path, ocrelizumab(f"{code}:JZ", "20260310"))
    finding = only(result, "NDC004")
    assert finding.severity == "error" and finding.value == OCREVUS
    assert f"NDC {OCREVUS} is Ocrevus" in finding.message
    assert f"bill J2350, not {code}" in finding.message


def test_ndc004_names_the_date_the_former_code_was_the_drugs(tmp_path):
    result, _ = check(tmp_path, ocrelizumab("J3590:JZ", "20260310"))
    assert "J3590 was ocrelizumab's code through 2017-12-31" in only(result, "NDC004").message


def test_ndc004_quiet_on_ocrelizumab_under_j3590_before_j2350_existed(tmp_path):
    """Trial 8 CE-3: J3590 on 2017-11-10, before J2350 (2018-01-01): right then."""
    result, _ = check(tmp_path, ocrelizumab("J3590", "20171110"))
    assert "NDC004" not in [f.rule for f in result.findings]


def test_ndc004_quiet_on_an_unclassified_code_with_an_ndc_the_table_does_not_know(tmp_path):
    fragment = ocrelizumab("J3590:JZ", "20260310").replace(OCREVUS, "12345678901")
    result, _ = check(tmp_path, fragment)
    assert "NDC004" not in [f.rule for f in result.findings]


def test_ndc004_a_warning_where_the_named_codes_dates_are_not_known(tmp_path):
    """Actemra's 400 mg vial under J3490: the drug table gives no dates for J3262, so it
    cannot say J3262 was valid on the date: a warning, never a hold."""
    fragment = "\n".join(["CLM*TOC*3000***11:B:1*Y*A*Y*Y", "HI*ABK:M0579", "LX*1",
                          "SV1*HC:J3490*3000*UN*1***1", "DTP*472*D8*20261110",
                          f"LIN**N4*{ACTEMRA_400}", "CTP****20*ML"])
    result, _ = check(tmp_path, fragment)
    finding = only(result, "NDC004")
    assert finding.severity == "warning" and "J3262" in finding.message


# -- 3. 837I lines without a day of their own: the statement period ----------------------------

def statement(start, end, composite, units, ndc, quantity, line_date=None):
    """An 837I outpatient bill (13x) whose drug line has no DTP*472 unless ``line_date``."""
    return "\n".join(["CLM*ST*30300***13:A:1**A*Y*Y", f"DTP*434*RD8*{start}-{end}",
                      "HI*ABK:G35", "LX*1", f"SV2*0636*HC:{composite}*30000*UN*{units}",
                      *([f"DTP*472*D8*{line_date}"] if line_date else []),
                      f"LIN**N4*{ndc}", f"CTP****{quantity}*ML"])


ZUNOVO = "50242055401"  # marketed from 2024-09-13


def test_ndc009_a_warning_where_the_statement_period_crosses_the_marketing_start(tmp_path):
    """Trial 8 i_stmt.edi ST-1: 2024-09-01..2024-09-20, Zunovo marketed from 2024-09-13,
    no line date: the drug may have been given on the 13th or later."""
    result, _ = check(tmp_path, statement("20240901", "20240920", "J2351:JZ", 920, ZUNOVO,
                                          23), "837I", filing="MA")
    finding = only(result, "NDC009")
    assert finding.severity == "warning", finding.message
    assert "no date of service of its own (DTP*472 D8)" in finding.message
    assert "2024-09-01..2024-09-20" in finding.message
    assert "marketed from 2024-09-13" in finding.message


def test_ndc009_still_an_error_where_the_whole_period_is_before_marketing(tmp_path):
    result, _ = check(tmp_path, statement("20240801", "20240820", "J2351:JZ", 920, ZUNOVO,
                                          23), "837I", filing="MA")
    assert only(result, "NDC009").severity == "error"


def test_ndc009_the_line_date_decides_where_there_is_one(tmp_path):
    result, _ = check(tmp_path, statement("20240901", "20240920", "J2351:JZ", 920, ZUNOVO,
                                          23, line_date="20240905"), "837I", filing="MA")
    assert only(result, "NDC009").severity == "error"
    result, _ = check(tmp_path, statement("20240901", "20240920", "J2351:JZ", 920, ZUNOVO,
                                          23, line_date="20240915"), "837I", filing="MA")
    assert "NDC009" not in [f.rule for f in result.findings]


def test_dos002_a_warning_where_the_statement_period_crosses_the_codes_start(tmp_path):
    """Trial 8 i_dates.edi W-07: 2017-12-20..2018-01-10, J2350 valid from 2018-01-01."""
    result, _ = check(tmp_path, statement("20171220", "20180110", "J2350:JZ", 600, OCREVUS,
                                          20), "837I", filing="MA")
    finding = only(result, "DOS002")
    assert finding.severity == "warning", finding.message
    assert "2017-12-20..2018-01-10" in finding.message and "from 2018-01-01" in finding.message
    # wholly before it: the error stands
    result, _ = check(tmp_path, statement("20171201", "20171215", "J2350:JZ", 600, OCREVUS,
                                          20), "837I", filing="MA")
    assert only(result, "DOS002").severity == "error"


def test_a_period_crosses_a_window_where_it_holds_days_inside_and_outside():
    """A code or NDC that ends inside the period crosses it too (valid on its first day,
    not on its last): a warning, as a start inside it."""
    end_june = DateWindow(None, dt.date(2026, 6, 30), "test [A]")
    assert crossing(end_june, dt.date(2026, 6, 20), dt.date(2026, 7, 5))
    assert not crossing(end_june, dt.date(2026, 7, 1), dt.date(2026, 7, 5))  # all after
    assert not crossing(end_june, dt.date(2026, 6, 1), dt.date(2026, 6, 30))  # all inside
    assert not crossing(end_june, dt.date(2026, 7, 1), None)  # a day, not a period
    from_july = DateWindow(dt.date(2026, 7, 1), None, "test [A]")
    assert crossing(from_july, dt.date(2026, 6, 20), dt.date(2026, 7, 5))
    assert not crossing(from_july, dt.date(2026, 6, 1), dt.date(2026, 6, 30))


# -- 4. no JZ on a line whose units a units rule questions ---------------------------------------

def omalizumab(units, claim="OM", date="20261110"):
    """Trial 8 p_oma.edi OM-09: J2357 (5 mg a unit) with no NDC, at the office."""
    return "\n".join([f"CLM*{claim}*2050***11:B:1*Y*A*Y*Y", "HI*ABK:J4550", "LX*1",
                      f"SV1*HC:J2357*2000*UN*{units}***1", f"DTP*472*D8*{date}"])


def test_mod001_offers_no_jz_above_the_drugs_maximum(tmp_path):
    """300 units = 1500 mg, 2.5 times the 600 mg maximum (120 units): JZ would certify
    that nothing of it was discarded."""
    result, _ = check(tmp_path, omalizumab(300))
    mod001 = only(result, "MOD001")
    assert mod001.severity == "error" and mod001.fix is None
    assert "add JZ if nothing was discarded" in mod001.message
    assert {"UNT001", "UNT002"} <= {f.rule for f in result.findings}
    # UNT002 on J2357 rests on a secondary source only: the warning stands
    assert only(result, "UNT002").severity == "warning"
    # a labeled dose within the maximum: the fix stays (120 units = 600 mg, 4 x 150 mg)
    result, _ = check(tmp_path, omalizumab(120))
    assert only(result, "MOD001").fix is not None


def test_mod001_offers_no_jz_on_a_dose_that_is_not_a_labeled_one(tmp_path):
    """J2350 900 units (three 300 mg vials, whole): above 600 and no labeled dose."""
    fragment = "\n".join(["CLM*C1*13500***11:B:1*Y*A*Y*Y", "HI*ABK:G35A", "LX*1",
                          "SV1*HC:J2350*13500*UN*900***1", "DTP*472*D8*20260115",
                          f"LIN**N4*{OCREVUS}", "CTP****30*ML"])
    result, _ = check(tmp_path, fragment)
    assert only(result, "MOD001").fix is None
    assert only(result, "UNT002").severity == "error"


def test_fix_adds_no_jz_where_the_claims_lines_of_the_day_exceed_the_maximum(tmp_path):
    """Two J2350 lines of 600 units on one claim and day (1200, UNT002): no JZ on either;
    one line of 600: JZ."""
    from pathlib import Path

    from pyx12check import pyx12_verdict

    from edi837.config import Config
    from edi837.drugs import load_drug_table
    from edi837.fix import fix_file
    from edi837.x12.fragment import wrap_claims

    def line(number):
        return "\n".join([f"LX*{number}", "SV1*HC:J2350*9000*UN*600***1",
                          "DTP*472*D8*20260115", f"LIN**N4*{OCREVUS}", "CTP****20*ML"])
    head = ["CLM*A1*18000***11:B:1*Y*A*Y*Y", "HI*ABK:G35A"]
    source = tmp_path / "in.edi"
    source.write_text(wrap_claims("\n".join([*head, line(1), line(2)]), "837P"))
    result = fix_file(source, tmp_path / "out", table=load_drug_table(), config=Config())
    assert "MOD001" not in [c.rule for c in result.changes]
    assert "HC:J2350:JZ" not in Path(result.output).read_text()
    ok, messages = pyx12_verdict(result.output)
    assert ok, messages
    source.write_text(wrap_claims("\n".join([*head, line(1)]), "837P"))
    result = fix_file(source, tmp_path / "out2", table=load_drug_table(), config=Config())
    assert [c.status for c in result.changes if c.rule == "MOD001"] == ["applied"]
    ok, messages = pyx12_verdict(result.output)
    assert ok, messages


def test_fix_leaves_the_trial_omalizumab_line_without_jz(tmp_path):
    from pathlib import Path

    from edi837.config import Config
    from edi837.drugs import load_drug_table
    from edi837.fix import fix_file
    from edi837.x12.fragment import wrap_claims
    source = tmp_path / "in.edi"
    source.write_text(wrap_claims(omalizumab(300), "837P"))
    result = fix_file(source, tmp_path / "out", table=load_drug_table(), config=Config())
    assert "MOD001" not in [c.rule for c in result.changes if c.status == "applied"]
    assert "HC:J2357:JZ" not in Path(result.output).read_text()
