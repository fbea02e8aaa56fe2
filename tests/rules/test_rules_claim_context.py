"""DX, ADM, REV, DOS and DOC rules: a drug line in its claim (diagnoses,
administration lines, revenue code, dates, providers), through the real engine."""
import pytest
from claim_support import (
    ADMIN_P,
    J2350_LINE,
    ORDERING_P,
    PROVIDERS_P,
    claim_checker,
    claim_engine,
    codes,
    institutional,
    professional,
)

from edi837.findings import Edit


@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return claim_engine()


@pytest.fixture
def check(engine, tmp_path):
    """Run a claim fragment; return the findings of the claim-context rules."""
    return claim_checker(engine, tmp_path)


def test_clean_professional_claim_raises_none_of_these_rules(check):
    assert check(professional()) == []


def test_clean_institutional_claim_raises_only_the_provider_notes(check):
    # No 2310A/D rendering or attending, no 2310E facility, no referring provider.
    assert codes(check(institutional(), "837I")) == ["DOC002", "DOC003", "DOC004"]


# -- DX001 / DX002: supporting diagnoses and their dates ---------------------------------

def test_bare_g35_before_fy2026_passes(check):
    assert check(professional(hi="HI*ABK:G35", date="20250930")) == []


def test_bare_g35_from_fy2026_is_dx002_at_the_hi_segment(check):
    found = check(professional(hi="HI*ABK:G35", date="20251001"))
    assert codes(found) == ["DX002"]
    (finding,) = found
    assert (finding.segment, finding.loop, finding.value, finding.hcpcs) == \
        ("HI", "2300", "G35", "J2350")
    assert finding.line_number is None
    assert finding.message.startswith("diagnosis G35 is not valid on 2025-10-01")
    assert "(valid through 2025-09-30); use G35.A-G35.D (written G35A, G35B0" in finding.message


def test_g35a_before_fy2026_is_dx002_pointing_back_to_g35(check):
    found = check(professional(hi="HI*ABK:G35A", date="20250930"))
    assert codes(found) == ["DX002"]
    assert found[0].value == "G35A"
    assert found[0].message.endswith("(valid from 2025-10-01); use G35")


def test_dx002_once_per_invalid_code_not_per_line(check):
    # Two J2350 lines and a J2351 line, G35 twice: one finding for each G35,
    # not one per line or per drug.
    extra = J2350_LINE.replace("LX*1", "LX*2").format(pointers="2", date="20260115") + \
        "\nLX*3\nSV1*HC:J2351:JZ*13800*UN*920***2\nDTP*472*D8*20260115" \
        "\nLIN**N4*50242055401\nCTP****23*ML"
    found = check(professional(hi="HI*ABK:G35*ABF:G35A*ABF:G35", pointers="2",
                               extra_lines=extra), rules={"DX001", "DX002", "DX003"})
    assert [(f.rule, f.value, f.message.split(" is ")[0]) for f in found] == [
        ("DX002", "G35", "diagnosis G35"), ("DX002", "G35", "diagnosis G35")]
    assert len({f.segment_index for f in found}) == 1  # both on the one HI segment


def test_no_supporting_diagnosis_is_dx001(check):
    found = check(professional(hi="HI*ABK:M0579"))
    assert codes(found) == ["DX001"]
    assert found[0].message == ("no diagnosis on the claim supports J2350 (multiple sclerosis); "
                                "claim diagnoses: M0579 [M05.79]")
    assert found[0].segment == "SV1"


@pytest.mark.parametrize("hi, says", [
    # trial finding: a lower-case qualifier was "none (no HI segment)" though there is one
    ("HI*abk:G35A", "none read: HI abk:G35A has a qualifier the guide does not allow as "
                    "written (ABK, ABF, BK, BF, ... in upper case), so no payer reads its code"),
    ("HI*ABK:G35A*abf:G35D", None),  # ABK read: supported, no DX001
    ("HI*ABK:M0579*abf:G35A", "M0579 [M05.79]; not read: HI abf:G35A has a qualifier the "
                              "guide does not allow as written (ABK, ABF, BK, BF, ... in "
                              "upper case), so no payer reads its code"),
    ("HI*BBR:0JH60DZ", "none (the HI segment has no diagnosis qualifier, such as ABK or ABF)"),
    ("", "none (no HI segment)"),
])
def test_dx001_says_what_the_hi_segment_holds(check, hi, says):
    found = [f for f in check(professional(hi=hi)) if f.rule == "DX001"]
    if says is None:
        assert found == []
        return
    (finding,) = found
    assert finding.message == ("no diagnosis on the claim supports J2350 (multiple sclerosis); "
                               f"claim diagnoses: {says}")


def test_dx002_quotes_the_code_as_written_with_its_dotted_form(check):
    found = check(professional(hi="HI*ABK:G35A", date="20250930"))
    assert found[0].message.startswith("diagnosis G35A [G35.A] is not valid on 2025-09-30")
    found = check(professional(hi="HI*ABK:G35B"))
    assert found[0].message.startswith("diagnosis G35B [G35.B] is not valid on 2026-01-15")
    assert "G35.A is not" not in found[0].message


def test_dx001_ignores_the_date_a_supporting_code_is_valid_on(check):
    # G35 on a 2026 date: DX002 says the code is out of date, not DX001.
    assert codes(check(professional(hi="HI*ABK:G35"))) == ["DX002"]


def test_review_only_diagnosis_is_not_dx001_but_a_dx005_warning(check):
    found = check(professional(hi="HI*ABK:G35C2"))
    assert codes(found) == ["DX005"]
    assert found[0].value == "G35C2"
    assert "non-active secondary progressive multiple sclerosis" in found[0].message
    assert "G35.C2" in found[0].message and found[0].severity == "warning"
    assert codes(check(professional(hi="HI*ABK:G35A*ABF:G35C2"))) == []


def test_dx001_on_837i(check):
    fragment = institutional(providers="NM1*71*1*SMITH*JANE****XX*1234567893").replace(
        "HI*ABK:G35A", "HI*ABK:M0579")
    assert "DX001" in codes(check(fragment, "837I"))


# -- DX003 / DX004: SV107 pointers ------------------------------------------------------

def test_dx003_repoints_to_the_single_supporting_diagnosis(check):
    found = check(professional(hi="HI*ABK:Z79899*ABF:G35A", pointers="1"))
    assert codes(found) == ["DX003"]
    (finding,) = found
    assert finding.severity == "warning"
    assert finding.value == "1"
    assert finding.fix.description == "add diagnosis pointer 2 (G35.A) to SV107"
    assert finding.fix.edits == (Edit(finding.segment_index, "SV1", 7, 2, "", "2"),)
    assert finding.segment == "SV1"


def test_dx003_has_no_fix_with_two_supporting_diagnoses(check):
    found = check(professional(hi="HI*ABK:Z79899*ABF:G35A*ABF:G35C1", pointers="1"))
    assert codes(found) == ["DX003"]
    assert found[0].fix is None
    assert "G35.A at position 2, G35.C1 at position 3" in found[0].message


def test_dx003_has_no_fix_when_all_four_pointer_slots_are_used(check):
    hi = "HI*ABK:Z79899*ABF:Z7982*ABF:Z23*ABF:Z0000*ABF:G35A"
    found = check(professional(hi=hi, pointers="1:2:3:4"))
    assert codes(found) == ["DX003"]
    assert found[0].fix is None


def test_dx003_not_on_837i(check):
    fragment = institutional(providers="NM1*71*1*SMITH*JANE****XX*1234567893").replace(
        "HI*ABK:G35A", "HI*ABK:Z79899*ABF:G35A")
    assert "DX003" not in codes(check(fragment, "837I"))


def test_dx004_pointer_to_a_missing_hi_position(check):
    found = check(professional(hi="HI*ABK:G35A*ABF:Z79899", pointers="1:5"))
    assert codes(found) == ["DX004"]
    assert found[0].value == "5"
    assert found[0].message == ("SV107-2 diagnosis pointer '5' refers to HI position 5, "
                                "but the claim has 2 diagnoses")


def test_dx004_pointer_outside_1_to_12(check):
    found = check(professional(pointers="1:13"))
    assert [(f.rule, f.value) for f in found] == [("DX004", "13")]
    assert "is not a diagnosis position 1-12" in found[0].message


def test_dx004_also_checks_j_codes_the_table_does_not_know(check):
    fragment = professional(extra_lines="LX*2\nSV1*HC:J3490*100*UN*1***3\nDTP*472*D8*20260115")
    assert [(f.rule, f.hcpcs, f.value) for f in check(fragment)] == [("DX004", "J3490", "3")]


# -- DX001 on ICD-9 codes ------------------------------------------------------------------

def test_dx001_says_icd9_is_not_valid_after_2015_09_30(check):
    found, = [f for f in check(professional(hi="HI*BK:340")) if f.rule == "DX001"]
    assert found.message == (
        "the claim's diagnoses are ICD-9-CM (qualifier BK: 340), not valid for dates of "
        "service after 2015-09-30 (J2350 on 2026-01-15): send ICD-10-CM codes (qualifiers "
        "ABK, ABF) that support it (multiple sclerosis)")
    # an ICD-10 qualifier on an unsupporting code, or ICD-9 in its own time: the usual words
    for fragment in (professional(hi="HI*ABK:340"),
                     professional(hi="HI*BK:340", date="20150915")):
        found, = [f for f in check(fragment) if f.rule == "DX001"]
        assert found.message.startswith("no diagnosis on the claim supports J2350")


# -- ADM001 / ADM002: administration lines ----------------------------------------------

def test_adm001_when_the_administration_is_on_another_date(check):
    fragment = professional(admin=False,
                            extra_lines="LX*2\nSV1*HC:96413*500*UN*1***1\nDTP*472*D8*20260116")
    found = check(fragment)
    assert codes(found) == ["ADM001"]
    assert found[0].message == ("no administration line for J2350 on 2026-01-15 (expected one of "
                                "96365, 96366, 96413, 96415); administration billed: "
                                "96413 on 2026-01-16")
    assert (found[0].segment, found[0].line_number) == ("SV1", 1)


def test_adm002_iv_drug_with_an_injection_code(check):
    fragment = professional(extra_lines="LX*2\nSV1*HC:96372*100*UN*1***1\nDTP*472*D8*20260115")
    found = check(fragment)
    assert codes(found) == ["ADM002"]
    (finding,) = found
    assert (finding.line_number, finding.value, finding.hcpcs) == (2, "96372", "J2350")
    assert finding.message == ("administration code 96372 (SC/IM) does not fit the route of "
                               "J2350 (IV) billed on 2026-01-15")


def test_adm002_names_zunovo_for_920_units_of_j2350_given_subcutaneously(check):
    fragment = professional(admin=False,
                            extra_lines="LX*2\nSV1*HC:96372*100*UN*1***1\nDTP*472*D8*20260115")
    fragment = fragment.replace("HC:J2350:JZ*9000*UN*600", "HC:J2350:JZ*13800*UN*920")
    adm002, = [f for f in check(fragment) if f.rule == "ADM002"]
    assert adm002.message == (
        "administration code 96372 (SC/IM) does not fit the route of J2350 (IV) billed on "
        "2026-01-15; 920 units of J2350 with 96372 look like Ocrevus Zunovo (ocrelizumab and "
        "hyaluronidase-ocsq), subcutaneous: bill J2351")


def test_adm002_sc_drug_with_an_infusion_code(check):
    fragment = "\n".join([
        "CLM*C1*1500***11:B:1*Y*A*Y*Y", "HI*ABK:J4550", PROVIDERS_P,
        "LX*1", "SV1*HC:J2357:JZ*1000*UN*30***1", "DTP*472*D8*20260115",
        "LIN**N4*50242004062", "CTP****1*UN", ORDERING_P,
        "LX*2", "SV1*HC:96365*500*UN*1***1", "DTP*472*D8*20260115"])
    found = check(fragment)
    assert codes(found) == ["ADM001", "ADM002"]
    adm002 = next(f for f in found if f.rule == "ADM002")
    assert (adm002.value, adm002.hcpcs) == ("96365", "J2357")
    assert "J2357 (SC)" in adm002.message


def test_adm002_not_when_another_drug_that_day_may_own_the_code(check):
    # J1200 is not in the drug table: its route is unknown, 96372 may be its.
    extra = ("LX*2\nSV1*HC:J1200*50*UN*1***1\nDTP*472*D8*20260115\n"
             "LX*3\nSV1*HC:96372*100*UN*1***1\nDTP*472*D8*20260115")
    assert "ADM002" not in codes(check(professional(extra_lines=extra)))


# -- REV001 ------------------------------------------------------------------------------

def test_rev001_on_837i_under_0250(check):
    found = check(institutional(revenue="0250"), "837I", rules={"REV001"})
    assert [(f.rule, f.value, f.segment) for f in found] == [("REV001", "0250", "SV2")]
    assert found[0].message == "J2350 billed under revenue code 0250; report it under 0636"


def test_rev001_not_on_837p(check):
    assert check(professional(), rules={"REV001"}) == []


# -- DOS001 ------------------------------------------------------------------------------

def test_dos001_837i_falls_back_to_the_statement_period(check):
    assert check(institutional(line_date=""), "837I", rules={"DOS001"}) == []


def test_dos001_837i_without_any_date(check):
    found = check(institutional(line_date="", statement=""), "837I", rules={"DOS001"})
    assert [(f.rule, f.segment, f.line_number) for f in found] == [("DOS001", "SV2", 1)]


def test_dos001_837p_without_dtp472(check):
    fragment = professional().replace("DTP*472*D8*20260115\nLIN", "LIN")
    found = check(fragment, rules={"DOS001"})
    assert [(f.rule, f.hcpcs) for f in found] == [("DOS001", "J2350")]


def test_dos001_date_that_is_not_a_date(check):
    found = check(professional(date="20261315"), rules={"DOS001"})
    assert [(f.segment, f.value) for f in found] == [("DTP", "20261315")]


# -- DOC001-DOC004 ----------------------------------------------------------------------

def test_doc001_initial_dose_of_300_units(check):
    fragment = professional().replace("J2350:JZ*9000*UN*600", "J2350:JZ*4500*UN*300").replace(
        "CTP****20*ML", "CTP****10*ML")
    found = check(fragment)
    assert codes(found) == ["DOC001"]
    assert found[0].value == "300"
    assert "hepatitis B screening and quantitative serum immunoglobulins" in found[0].message


def test_doc_rules_on_837p_without_providers(check):
    found = check(professional(providers="", ordering=False))
    assert [(f.rule, f.severity, f.segment) for f in found] == [
        ("DOC002", "info", "CLM"), ("DOC003", "info", "CLM"), ("DOC004", "info", "SV1")]
    messages = {f.rule: f.message for f in found}
    assert "(2310B/2420A NM1*82)" in messages["DOC002"]
    assert "(2310C NM1*77)" in messages["DOC003"]
    assert messages["DOC004"] == ("J2350 line names no ordering provider (2420E NM1*DK) and no "
                                  "referring provider (2310A/2420F NM1*DN/P3)")


def test_doc002_never_when_the_billing_provider_is_a_person(check):
    # 837P sends 2310B only when the rendering provider differs from the billing one
    person = "NM1*85*1*INFUSER*DANA****XX*1234567893"
    fragment = professional(providers="", ordering=False)
    assert "DOC002" not in codes(check(fragment, billing=person))
    assert "DOC002" not in codes(check(institutional(), "837I", billing=person))
    organisation = "NM1*85*2*HOME INFUSION CO*****XX*1234567893"
    assert "DOC002" in codes(check(fragment, billing=organisation))


def test_doc002_satisfied_by_line_level_rendering_providers(check):
    fragment = professional(providers="NM1*77*2*SUITE*****XX*1234567893",
                            ordering=False).replace(
        "CTP****20*ML", "CTP****20*ML\nNM1*82*1*SMITH*JANE****XX*1234567893")
    assert codes(check(fragment)) == ["DOC004"]


def test_doc002_once_per_claim(check):
    extra = J2350_LINE.replace("LX*1", "LX*2").format(pointers="1", date="20260116") + \
        "\n" + ADMIN_P.format(date="20260116")
    found = check(professional(providers="NM1*77*2*SUITE*****XX*1234567893", extra_lines=extra),
                  rules={"DOC002"})
    assert len(found) == 1
    assert found[0].message.endswith("drug lines without one: LX 1, 2")


def test_doc_rules_on_837i(check):
    found = check(institutional(), "837I")
    messages = {f.rule: f.message for f in found}
    assert "(2310D/2420C NM1*82)" in messages["DOC002"]
    assert messages["DOC002"].startswith("the billing provider is an organisation")
    assert "(2310E NM1*77)" in messages["DOC003"]
    assert messages["DOC004"] == "J2350 line names no referring provider (2310F/2420D NM1*DN)"


def test_doc_rules_satisfied_on_837i(check):
    providers = "\n".join(["NM1*71*1*SMITH*JANE****XX*1234567893",
                           "NM1*82*1*SMITH*JANE****XX*1234567893",
                           "NM1*77*2*SUITE*****XX*1234567893",
                           "NM1*DN*1*JONES*ALEX****XX*1234567893"])
    assert check(institutional(providers=providers), "837I") == []


def test_claim_level_findings_carry_the_drug_lines_date(check):
    # no claim-level DTP*472: a claim-level finding takes its drug line's date
    found = [f for f in check(professional(providers="", ordering=False)) if f.rule == "DOC003"]
    assert found and found[0].service_date == "20260115"
