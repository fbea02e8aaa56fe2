"""What the label and the code sets say (issue 23): diagnoses (DX002, DX005), NDC units
that cannot describe the drug (NDC006), place of service (POS001), dates of codes and
products (DOS002, NDC009), through the real engine."""
import pytest
from claim_support import claim_checker, claim_engine, codes, institutional, professional

DX_RULES = {"DX001", "DX002", "DX003", "DX005"}


@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return claim_engine()


@pytest.fixture
def check(engine, tmp_path):
    """Run a claim fragment; return the findings of the claim-context rules."""
    return claim_checker(engine, tmp_path)


# -- DX005: primary progressive MS is on the label, with no activity qualifier ---------------

@pytest.mark.parametrize("code", ["G35B0", "G35B1", "G35B2"])
def test_ppms_supports_ocrelizumab_with_no_warning(check, code):
    assert check(professional(hi=f"HI*ABK:{code}"), rules=DX_RULES) == []


def test_non_active_spms_warns_in_the_labels_words(check):
    found, = check(professional(hi="HI*ABK:G35C2"), rules=DX_RULES)
    assert found.rule == "DX005"
    assert found.message == (
        "J2350 is supported only by diagnoses marked for review (G35.C2): non-active secondary "
        "progressive multiple sclerosis (outside the label's relapsing forms of MS, which take "
        "in active secondary progressive MS only; warn, do not reject); have the medical "
        "necessity documented")
    assert "active secondary progressive\"" not in found.message


def test_ppms_on_natalizumab_still_warns(check):
    fragment = professional(hi="HI*ABK:G35B2").replace("J2350:JZ*9000*UN*600",
                                                       "J2323:JZ*9000*UN*300") \
        .replace("50242015001", "64406000801").replace("CTP****20*ML", "CTP****15*ML")
    assert codes(check(fragment, rules=DX_RULES)) == ["DX005"]


# -- DX002: categories and decimal points --------------------------------------------------------

@pytest.mark.parametrize("code, children", [
    ("G35B", "G35.B0-G35.B2 (written G35B0, G35B1, G35B2 in HI)"),
    ("G35C", "G35.C0-G35.C2 (written G35C0, G35C1, G35C2 in HI)")])
def test_a_category_is_not_valid_on_the_date_not_unsupported(check, code, children):
    found, = check(professional(hi=f"HI*ABK:{code}"), rules=DX_RULES)
    assert found.rule == "DX002" and found.severity == "error"
    assert found.segment == "HI" and found.value == code
    assert found.message == (
        f"diagnosis {code} [{code[:3]}.{code[3:]}] is not valid on 2026-01-15, the date of "
        f"service of "
        f"J2350 (a category, not a billable code); use {children}")


def test_a_category_beside_a_billable_code_is_still_dx002(check):
    assert codes(check(professional(hi="HI*ABK:G35B0*ABF:G35B", pointers="1"),
                       rules=DX_RULES)) == ["DX002"]


def test_a_decimal_point_makes_an_invalid_code(check):
    found, = check(professional(hi="HI*ABK:G35.A"), rules=DX_RULES)
    assert found.rule == "DX002" and found.value == "G35.A"
    assert found.message == ("diagnosis 'G35.A' is not a valid ICD-10-CM code as written: the "
                             "HI segment carries codes without the decimal point (G35A)")


def test_a_decimal_point_on_837i(check):
    fragment = institutional(providers="NM1*71*1*SMITH*JANE****XX*1234567893").replace(
        "HI*ABK:G35A", "HI*ABK:G35.A")
    assert codes(check(fragment, "837I", rules=DX_RULES)) == ["DX002"]


@pytest.mark.parametrize("written", ["g35a", "G35a", "g35"])
def test_a_lower_case_code_is_not_valid_as_written(check, written):
    found, = check(professional(hi=f"HI*ABK:{written}"), rules=DX_RULES)
    assert (found.rule, found.severity, found.value) == ("DX002", "error", written)
    assert found.message == (
        f"diagnosis {written!r} is not a valid ICD-10-CM code as written: ICD-10-CM codes are "
        f"upper case ({written.upper()}); payers check the code as sent")
    assert check(professional(hi="HI*ABK:G35A"), rules=DX_RULES) == []


# -- DX002 as a warning: a line dated by a period that crosses a code's validity change ------

def undated_837i(hi, statement):
    return institutional(line_date="", statement=f"DTP*434*RD8*{statement}").replace(
        "HI*ABK:G35A", f"HI*ABK:{hi}")


@pytest.mark.parametrize("hi, valid, invalid", [("G35", "2025-09-20", "2025-10-10"),
                                                ("G35A", "2025-10-10", "2025-09-20")])
def test_an_undated_line_in_a_period_across_2025_10_01_warns(check, hi, valid, invalid):
    found, = check(undated_837i(hi, "20250920-20251010"), "837I", rules=DX_RULES)
    assert (found.rule, found.severity, found.line_number) == ("DX002", "warning", 1)
    assert found.message == (
        f"J2350 line 1 has no single date of service (DTP*472 D8) and the claim's period "
        f"2025-09-20..2025-10-10 crosses a change in the validity of diagnosis "
        f"{hi}{f' [{hi[:3]}.{hi[3:]}]' if hi[3:] else ''} (valid on {valid}, not on "
        f"{invalid}): it is "
        f"judged on 2025-09-20; send the day the drug was given")


def test_an_undated_line_in_a_period_on_one_side_of_the_change_is_judged_as_before(check):
    assert check(undated_837i("G35", "20250920-20250930"), "837I", rules=DX_RULES) == []
    found, = check(undated_837i("G35", "20251001-20251010"), "837I", rules=DX_RULES)
    assert (found.rule, found.severity) == ("DX002", "error")
    # a line with its own day is judged on it, whatever the claim's period
    dated = institutional(statement="DTP*434*RD8*20250920-20251010",
                          line_date="DTP*472*D8*20250925").replace("HI*ABK:G35A", "HI*ABK:G35")
    assert check(dated, "837I", rules=DX_RULES) == []


def test_claims_alike_but_for_their_periods_end_are_judged_apart(engine, tmp_path):
    # the claim shapes (edi837.reader.shapes) must tell the two apart: the second crosses 2025-10-01
    from edi837.x12.fragment import wrap_claims

    first = undated_837i("G35", "20250920-20250930")
    second = undated_837i("G35", "20250920-20251010").replace("CLM*I1*", "CLM*I2*")
    path = tmp_path / "two.edi"
    path.write_text(wrap_claims(first + "\n" + second, "837I"))
    found = [(f.claim_id, f.rule, f.severity) for f in engine.check_file(path).findings
             if f.rule == "DX002"]
    assert found == [("I2", "DX002", "warning")]


def test_a_line_range_across_the_change_warns(check):
    fragment = professional(hi="HI*ABK:G35").replace("DTP*472*D8*20260115",
                                                     "DTP*472*RD8*20250930-20251001", 1)
    found, = check(fragment, rules=DX_RULES)
    assert (found.rule, found.severity) == ("DX002", "warning")
    assert "its RD8 range 2025-09-30..2025-10-01" in found.message


def test_dx002_277ca_code_for_a_category(tmp_path):
    from edi837.acks.statuses import status_table

    assert status_table().for_rule("DX002").composite() == "A7:255"


# -- NDC006: a unit that cannot describe the drug ------------------------------------------------

def test_f2_for_a_drug_dosed_in_mg_is_invalid(check):
    fragment = professional().replace("CTP****20*ML", "CTP****600*F2")
    found, = check(fragment, rules={"NDC006"})
    assert found.severity == "error" and found.segment == "CTP" and found.value == "F2"
    assert found.message == ("CTP05-1 unit F2 cannot describe J2350 (ocrelizumab, dosed in mg): "
                             "use one of GR, ME, ML, UN")
    assert found.fix is None


@pytest.mark.parametrize("ctp", ["20*ML", "2*UN", "600*ME", "0.6*GR"])
def test_units_that_measure_a_mg_drug_pass(check, ctp):
    assert check(professional().replace("CTP****20*ML", f"CTP****{ctp}"), rules={"NDC006"}) == []


def test_f2_for_insulin_passes_and_a_mass_does_not(check):
    insulin = ("CLM*C1*40***11:B:1*Y*A*Y*Y\nHI*ABK:E119\nLX*1\nSV1*HC:J1815*40*UN*4***1\n"
               "DTP*472*D8*20260115\nLIN**N4*00002751001\nCTP****20*{unit}")
    assert check(insulin.format(unit="F2"), rules={"NDC006"}) == []
    assert codes(check(insulin.format(unit="ME"), rules={"NDC006"})) == ["NDC006"]


def test_an_unknown_j_code_is_held_to_the_code_list_only(check):
    fragment = professional().replace("J2350:JZ", "J9999").replace("CTP****20*ML", "CTP****1*F2")
    assert check(fragment, rules={"NDC006"}) == []


# -- POS001: the hospital's drug on a physician's claim -----------------------------------------

POS_RULES = {"POS001"}


@pytest.mark.parametrize("place, name", [("19", "off-campus outpatient hospital"),
                                         ("22", "on-campus outpatient hospital"),
                                         ("21", "inpatient hospital"),
                                         ("23", "hospital emergency room")])
def test_hospital_place_of_service_on_the_claim(check, place, name):
    fragment = professional().replace("CLM*C1*9500***11:B:1", f"CLM*C1*9500***{place}:B:1")
    found, = check(fragment, rules=POS_RULES)
    assert found.severity == "warning" and found.value == place and found.segment == "SV1"
    assert found.message == (
        f"J2350 billed by a physician at place of service {place} (CLM05-1, {name}): the "
        "drug there is normally the hospital's, billed on its 837I; an incident-to drug must "
        "be the physician's expense")


def test_the_lines_place_of_service_wins_over_the_claims(check):
    at_22 = professional().replace("UN*600***1", "UN*600*22**1")
    found, = check(at_22, rules=POS_RULES)
    assert "(SV105, on-campus outpatient hospital)" in found.message
    office_line = professional().replace("CLM*C1*9500***11:B:1", "CLM*C1*9500***22:B:1") \
        .replace("UN*600***1", "UN*600*11**1")
    assert check(office_line, rules=POS_RULES) == []


@pytest.mark.parametrize("place", ["11", "12", "24"])
def test_office_and_other_places_pass(check, place):
    fragment = professional().replace("CLM*C1*9500***11:B:1", f"CLM*C1*9500***{place}:B:1")
    assert check(fragment, rules=POS_RULES) == []


@pytest.mark.parametrize("place, mod001", [("21", None), ("23", "error"), ("11", "error")])
def test_mod001_out_of_scope_on_a_physicians_inpatient_claim(tmp_path, place, mod001):
    # §9.1: JW/JZ do not reach the inpatient (IPPS) stay's drug; POS001 flags the line
    fragment = professional().replace("CLM*C1*9500***11:B:1", f"CLM*C1*9500***{place}:B:1") \
        .replace("HC:J2350:JZ*", "HC:J2350*")
    found = claim_checker(claim_engine(), tmp_path)(fragment, rules={"MOD001", "POS001"})
    assert [f.severity for f in found if f.rule == "MOD001"] == ([mod001] if mod001 else [])
    assert ("POS001" in {f.rule for f in found}) == (place != "11")


def test_the_administration_line_is_not_flagged(check):
    fragment = professional().replace("CLM*C1*9500***11:B:1", "CLM*C1*9500***22:B:1")
    assert [f.line_number for f in check(fragment, rules=POS_RULES)] == [1]


def test_837i_has_no_place_of_service_finding(check):
    fragment = institutional(providers="NM1*71*1*SMITH*JANE****XX*1234567893")
    assert check(fragment, "837I", rules=POS_RULES) == []


# -- DOS002 / NDC009: codes and products have dates (drug table) ---------------------------------

DATE_RULES = {"DOS002", "NDC009"}


def dated(date, hcpcs="J2350", ndc="50242015001", units=600, ctp="20*ML", dx="G35"):
    return (f"CLM*C1*9000***11:B:1*Y*A*Y*Y\nHI*ABK:{dx}\nLX*1\n"
            f"SV1*HC:{hcpcs}:JZ*9000*UN*{units}***1\nDTP*472*D8*{date}\nLIN**N4*{ndc}\n"
            f"CTP****{ctp}")


def test_j2350_before_its_code_took_effect(check):
    found, = check(dated("20170615"), rules=DATE_RULES)
    assert found.rule == "DOS002" and found.severity == "error" and found.value == "J2350"
    assert found.message.startswith("J2350 is not a valid HCPCS code on 2017-06-15: valid from "
                                    "2018-01-01 (drug table: Genentech Access")


@pytest.mark.parametrize("date", ["20180101", "20260115"])
def test_j2350_from_its_effective_date(check, date):
    assert check(dated(date, dx="G35" if date < "2025" else "G35A"), rules=DATE_RULES) == []


def test_zunovo_before_its_marketing_start(check):
    found, = check(dated("20240610", "J2351", "50242055401", 920, "23*ML"), rules=DATE_RULES)
    assert found.rule == "NDC009" and found.severity == "error"
    assert found.segment == "LIN" and found.value == "50242055401"
    assert found.message.startswith("NDC 50242055401 (Ocrevus Zunovo) is not marketed on "
                                    "2024-06-10: marketed from 2024-09-13 (drug table: openFDA")


def test_zunovo_on_its_marketing_start_and_j2351_without_a_date(check):
    # J2351's effective date is unconfirmed: no DOS002 on any date
    assert check(dated("20240913", "J2351", "50242055401", 920, "23*ML"), rules=DATE_RULES) == []


def test_an_unknown_code_with_no_dates_is_not_judged(check):
    assert check(dated("20100101", "J9999", "12345678901", 1, "1*UN"), rules=DATE_RULES) == []


def test_dates_and_claim_shapes(tmp_path):
    """Two claims of one shape on either side of a date: the second is judged afresh."""
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.x12.fragment import wrap_claims

    claims = "\n".join(dated(day, "J2351", "50242055401", 920, "23*ML").replace("C1", f"C{i}")
                       for i, day in enumerate(["20241015", "20240610"]))
    path = tmp_path / "two.edi"
    path.write_text(wrap_claims(claims))
    found = [f.claim_id for f in Engine(load_drug_table()).check_file(path).findings
             if f.rule == "NDC009"]
    assert found == ["C1"]


def test_drugs_command_shows_the_dates_and_units_with_their_sources():
    from click.testing import CliRunner

    from edi837.cli import main

    j2350 = CliRunner().invoke(main, ["drugs", "J2350"]).output
    assert "code valid: 2018-01-01 to ...  [Genentech Access" in j2350
    assert "NDC units (CTP05-1): GR, ME, ML, UN  [payer NDC billing guides" in j2350
    j2351 = CliRunner().invoke(main, ["drugs", "J2351"]).output
    assert "code valid: unknown to ..." in j2351 and "UNCONFIRMED" in j2351
    assert "(billable, marketed 2024-09-13 to ...)" in j2351


def test_a_category_is_rejected_in_the_277ca_as_not_valid_not_unsupported(tmp_path, monkeypatch):
    """Issue 23 case 7: G35B was DX001 and A8:255; it is DX002 and A7:255."""
    from conftest import CLEAN_J2350_CLAIM
    from test_ack277 import claims_of, valid, write

    from edi837.drugs import load_drug_table
    from edi837.x12.fragment import wrap_claims

    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))
    category = CLEAN_J2350_CLAIM.replace("CLM*C1*", "CLM*C2*").replace("HI*ABK:G35A",
                                                                       "HI*ABK:G35B") \
        .replace("20260115", "20260301")
    assert "HI*ABK:G35B" in category
    path = tmp_path / "claims.edi"
    path.write_text(wrap_claims(CLEAN_J2350_CLAIM + category))
    result = write(path, load_drug_table(), tmp_path / "out")
    assert result.rejected_claims == ["C2"]
    claim = claims_of(valid(result.output))["C2"]
    assert [s[1] for s in claim["stc"]] == ["A7:255"]
    assert claim["stc"][0][-1].startswith("DX002 ")
