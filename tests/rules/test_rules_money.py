"""Money a payer would not pay (issue 23): waste beyond the fewest containers (MOD007),
NDC quantities of a dose split over two lines (NDC007), through the real engine."""
from decimal import Decimal

import pytest
from test_rules_modifiers_units import (
    OCREVUS_NDC,
    check,
    i_claim,
    i_line,
    only,
    p_claim,
    p_line,
)

from edi837.rules.containers import fewest_containers, least_waste_containers

XOLAIR_150_SYRINGE = "50242021503"
XOLAIR_75_SYRINGE = "50242021403"


def codes(result, prefix):
    return sorted((f.rule, f.line_number) for f in result.findings if f.rule.startswith(prefix))


def ndc_line(number, composite, units, ndc, quantity, unit="UN", date="20260115"):
    return "\n".join([f"LX*{number}", f"SV1*HC:{composite}*100*UN*{units}***1",
                      f"DTP*472*D8*{date}", f"LIN**N4*{ndc}", f"CTP****{quantity}*{unit}"])


# -- the arithmetic ------------------------------------------------------------------------

@pytest.mark.parametrize("dose, sizes, amount, containers", [
    (450, (300,), 600, 2), (600, (300,), 600, 2), (301, (300,), 600, 2), (375, (150,), 450, 3),
    (375, (150, 300), 450, 2), (280, (80, 200, 400), 280, 2), (300, (80, 200, 400), 320, 4),
    (100, (80, 200, 400), 160, 2), (Decimal("1.2"), (Decimal("0.5"),), Decimal("1.5"), 3),
])
def test_least_waste_containers_least_left_over_then_fewest(dose, sizes, amount, containers):
    cover = least_waste_containers(Decimal(dose), tuple(Decimal(s) for s in sizes))
    assert (cover.amount, cover.containers) == (Decimal(amount), containers)


@pytest.mark.parametrize("dose, amount, containers", [
    (300, 400, 1), (280, 400, 1), (560, 600, 2), (500, 600, 2), (80, 80, 1), (100, 200, 1),
])
def test_fewest_containers_fewest_then_least_left_over(dose, amount, containers):
    cover = fewest_containers(Decimal(dose), (Decimal(80), Decimal(200), Decimal(400)))
    assert (cover.amount, cover.containers) == (Decimal(amount), containers)


def test_fewest_containers_without_a_dose_or_a_size():
    for find in (fewest_containers, least_waste_containers):
        assert find(Decimal(0), (Decimal(300),)) is None
        assert find(Decimal(300), ()) is None


# -- MOD007 ---------------------------------------------------------------------------------

def test_mod007_a_third_vial_of_waste_on_a_two_vial_dose(tmp_path):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350", 600, ndc=OCREVUS_NDC),
                                        p_line(2, "J2350:JW", 300, ndc=OCREVUS_NDC)))
    assert codes(result, "MOD") == [("MOD007", 2)]
    finding = only(result, "MOD007")
    assert finding.severity == "error" and finding.value == "300"
    assert finding.message == (
        "J2350 on 2026-01-15: 600 units administered need 2 x 300-unit single-dose vial "
        "(600 units), which leave 0 units to discard; JW bills 300: 300 units beyond the "
        "containers with the least left over")


def test_xolair_75_mg_dose_from_its_75_mg_syringe_is_whole_and_known(tmp_path):
    """PASS: 75 mg (15 units) JZ from one 75 mg/0.5 mL syringe: no MOD005 (the 150 and
    300 mg sizes alone made 15 units look like a part container) and no NDC004."""
    result, _ = check(tmp_path, p_claim(p_line(1, "J2357:JZ", 15, ndc=XOLAIR_75_SYRINGE),
                                        diagnosis="J4550"))
    assert [f.rule for f in result.findings if f.rule.startswith(("MOD", "NDC"))] == []


def test_xolair_waste_judged_against_the_75_mg_syringe(tmp_path):
    """FAIL: 75 mg given + JW 75 from a 150 mg syringe: one 75 mg syringe leaves nothing to
    discard, so the JW line bills 75 mg (15 units) beyond the least-waste container."""
    result, _ = check(tmp_path, p_claim(p_line(1, "J2357", 15, ndc=XOLAIR_150_SYRINGE),
                                        p_line(2, "J2357:JW", 15, ndc=XOLAIR_150_SYRINGE),
                                        diagnosis="J4550"))
    assert codes(result, "MOD") == [("MOD007", 2)]
    assert only(result, "MOD007").value == "15"


def test_mod007_450_and_jw_450_overbills_300(tmp_path):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                                        p_line(2, "J2350:JW", 450, ndc=OCREVUS_NDC)))
    assert codes(result, "MOD") == [("MOD007", 2)]
    assert only(result, "MOD007").message.endswith(
        "which leave 150 units to discard; JW bills 450: 300 units beyond the containers with "
        "the least left over")


@pytest.mark.parametrize("kind, make_claim, make_line", [("837P", p_claim, p_line),
                                                         ("837I", i_claim, i_line)])
def test_mod007_quiet_on_the_waste_of_the_fewest_vials(tmp_path, kind, make_claim, make_line):
    result, _ = check(tmp_path, make_claim(make_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                                           make_line(2, "J2350:JW", 150, ndc=OCREVUS_NDC)), kind)
    assert codes(result, "MOD") == []


def test_mod007_837i(tmp_path):
    result, _ = check(tmp_path, i_claim(i_line(1, "J2350", 600, ndc=OCREVUS_NDC),
                                        i_line(2, "J2350:JW", 300, ndc=OCREVUS_NDC)), "837I")
    assert codes(result, "MOD") == [("MOD007", 2)]


def test_mod007_with_several_sizes_uses_the_least_left_over(tmp_path):
    # J3262 80/200/400 mg, no NDC: 280 mg is 200 + 80, nothing to discard
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 280), p_line(2, "J3262:JW", 120),
                                        diagnosis="M0579"))
    assert codes(result, "MOD") == [("MOD007", 2)]
    assert "1 x 200 + 1 x 80-unit containers (280 units)" in only(result, "MOD007").message
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 300), p_line(2, "J3262:JW", 20),
                                        diagnosis="M0579"))
    assert codes(result, "MOD") == []  # 4 x 80 = 320


ACTEMRA_400_NDC, ACTEMRA_200_NDC = "50242013701", "50242013601"


def test_mod007_judges_every_size_of_the_drug_not_only_the_ndcs_vial(tmp_path):
    # 500 mg on the 400 mg vial's NDC: 200 + 4 x 80 leaves 20 (two 400s would leave 300)
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 500, ndc=ACTEMRA_400_NDC),
                                        p_line(2, "J3262:JW", 300, ndc=ACTEMRA_400_NDC),
                                        diagnosis="M0579"))
    assert [c for c in codes(result, "MOD") if c[0] == "MOD007"] == [("MOD007", 2)]
    # the billed product's vials (2 x 400) would leave the 300 billed, but the fewest
    # containers (400 + 200) and the least waste agree that they do not: the NDC chosen does
    # not make the waste billable, the catalog's error (trial 8 item 1), saying what was billed
    assert only(result, "MOD007").severity == "error"
    assert only(result, "MOD007").message == (
        "J3262 on 2026-01-15: 500 units administered need 1 x 200 + 4 x 80-unit containers "
        "(520 units), which leave 20 units to discard; JW bills 300: 280 units beyond the "
        "containers with the least left over (1 x 400 + 1 x 200-unit containers (600 units) "
        "would be fewer containers but leave 100: waste is billable only from the smallest "
        "vials that cover the dose while minimising waste: CGS Medicare JW/JZ guidelines; "
        "Noridian, billing-rules.md §1.4); the lines bill 500 units on NDC 50242013701 "
        "(400-unit single-dose vial), CTP 1 UN and JW 300 units on NDC 50242013701 (400-unit "
        "single-dose vial), CTP 1 UN: the NDC chosen does not make its container's waste "
        "billable (units billed must correspond with the smallest vials available that cover "
        "the dose, billing-rules.md §9.3)")
    # beyond every reading (2 x 400 leave 300; JW 320): the catalog's error
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 500, ndc=ACTEMRA_400_NDC),
                                        p_line(2, "J3262:JW", 320, ndc=ACTEMRA_400_NDC),
                                        diagnosis="M0579"))
    assert only(result, "MOD007").severity == "error"
    assert only(result, "MOD007").message.endswith(
        "(1 x 400 + 1 x 200-unit containers (600 units) would be fewer containers but leave 100: "
        "waste is billable only from the smallest vials that cover the dose while minimising "
        "waste: CGS Medicare JW/JZ guidelines; Noridian, billing-rules.md §1.4)")
    # 560 mg on the 200 mg vial's NDC: 400 + 80 + 80 leaves nothing to discard
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 560, ndc=ACTEMRA_200_NDC),
                                        p_line(2, "J3262:JW", 40, ndc=ACTEMRA_200_NDC),
                                        diagnosis="M0579"))
    assert "which leave 0 units to discard; JW bills 40" in only(result, "MOD007").message


@pytest.mark.parametrize("given, discarded, ndc, beyond", [
    (300, 100, ACTEMRA_400_NDC, 80),  # trial p5.edi: one 400 mg vial is fewest, 4 x 80 least
    (280, 120, ACTEMRA_400_NDC, 120),  # 200 + 80 leaves nothing
    (300, 60, ACTEMRA_200_NDC, 40),  # 200 + 80 + 80 is neither
])
def test_mod007_the_least_left_over_decides_not_the_fewest_vials(tmp_path, given, discarded,
                                                                 ndc, beyond):
    # CGS Medicare's JW/JZ guidelines: 300 mg from 100/400 mg vials is three 100 mg vials;
    # the 400 mg vial with 100 discarded is the incorrect method
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", given, ndc=ndc),
                                        p_line(2, "J3262:JW", discarded, ndc=ndc),
                                        diagnosis="M0579"))
    # ... but the catalog's "fewest containers" (one 400 mg vial) leave the waste billed:
    # the sources disagree, so a warning (trial 5 item 6)
    finding = only(result, "MOD007")
    assert finding.severity == "warning" and finding.line_number == 2
    assert f"JW bills {discarded}: {beyond} units beyond the containers with the least " \
        "left over, but the " in finding.message
    assert "the sources disagree" in finding.message


def test_mod007_no_fewer_containers_named_when_the_least_left_over_is_also_fewest(tmp_path):
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 380, ndc=ACTEMRA_400_NDC),
                                        p_line(2, "J3262:JW", 100, ndc=ACTEMRA_400_NDC),
                                        diagnosis="M0579"))
    assert only(result, "MOD007").message.endswith(
        "(400 units), which leave 20 units to discard; JW bills 100: 80 units beyond the "
        "containers with the least left over")


def test_mod007_quiet_on_the_waste_of_the_fewest_of_every_size(tmp_path):
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 500, ndc=ACTEMRA_400_NDC),
                                        p_line(2, "J3262:JW", 20, ndc=ACTEMRA_400_NDC),
                                        diagnosis="M0579"))
    assert "MOD007" not in [f.rule for f in result.findings]


def test_mod007_sizes_are_those_on_the_market_on_the_date(tmp_path):
    import datetime as dt

    from edi837.drugs import load_drug_table
    from edi837.rules.groups import container_amounts
    zunovo = load_drug_table().drug("J2351")  # 920 mg vial, marketed from 2024-09-13
    assert container_amounts(zunovo, dt.date(2024, 9, 12)) == ()
    assert container_amounts(zunovo, dt.date(2024, 9, 13)) == (Decimal(920),)


def test_mod007_and_mod005_on_waste_that_is_neither_whole_nor_the_fewest(tmp_path):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                                        p_line(2, "J2350:JW", 200, ndc=OCREVUS_NDC)))
    assert codes(result, "MOD") == [("MOD005", 1), ("MOD007", 2)]


def overbilled(day, make_claim=p_claim, make_line=p_line, **claim):
    return make_claim(make_line(1, "J2350", 600, day, OCREVUS_NDC),
                      make_line(2, "J2350:JW", 300, day, OCREVUS_NDC), diagnosis="G35", **claim)


def test_mod007_follows_jws_dates_not_jzs(tmp_path):
    # JW has been required since 2017-01-01 (CR 9603); JZ only from 2023-07-01 (§1.2)
    result, _ = check(tmp_path, overbilled("20230630"))
    assert codes(result, "MOD") == [("MOD007", 2)]
    result, _ = check(tmp_path, overbilled("20170101"))
    assert codes(result, "MOD") == [("MOD007", 2)]
    result, _ = check(tmp_path, overbilled("20161231"))
    assert codes(result, "MOD") == []


def test_mod007_before_jz_keeps_the_policys_setting(tmp_path):
    # an inpatient bill (11x) is outside JW/JZ at any date
    fragment = overbilled("20200115", i_claim, i_line, date="20200115").replace(
        "CLM*I1*9000***13:A:1", "CLM*I1*9000***11:A:1")
    result, _ = check(tmp_path, fragment, "837I")
    # the JW and JZ there are themselves out of place (MOD006, a warning), and the waste
    # billed beyond the containers is a warning too (MOD007), not an error
    assert codes(result, "MOD") == [("MOD006", 2), ("MOD007", 2)]
    assert only(result, "MOD007").severity == "warning"
    result, _ = check(tmp_path, overbilled("20200115", i_claim, i_line, date="20200115"), "837I")
    assert codes(result, "MOD") == [("MOD007", 2)]


def test_mod007_jw_date_is_the_tables():
    from edi837.drugs import load_drug_table
    modifiers = load_drug_table().policy.discarded_drug_modifiers
    assert str(modifiers.waste_rules_from) == "2017-01-01"
    assert modifiers.waste_rules_from < modifiers.required_from


# -- NDC007 on a dose split over two lines ----------------------------------------------------

def test_ndc007_shares_the_vials_of_a_dose_and_its_waste(tmp_path):
    fragment = p_claim(ndc_line(1, "J2350", 450, OCREVUS_NDC, "1.5"),
                       ndc_line(2, "J2350:JW", 150, OCREVUS_NDC, "0.5"))
    result, _ = check(tmp_path, fragment)
    assert codes(result, "NDC007") == []


def test_ndc007_three_vials_for_a_two_vial_dose(tmp_path):
    fragment = p_claim(ndc_line(1, "J2350", 450, OCREVUS_NDC, "2"),
                       ndc_line(2, "J2350:JW", 150, OCREVUS_NDC, "1"))
    result, _ = check(tmp_path, fragment)
    assert codes(result, "NDC007") == [("NDC007", 1), ("NDC007", 2)]
    messages = [f.message for f in result.findings if f.rule == "NDC007"]
    assert messages[0].endswith("(expected 1.5 UN)") and messages[1].endswith("(expected 0.5 UN)")


def test_ndc007_a_line_alone_counts_its_partial_vial_whole(tmp_path):
    result, _ = check(tmp_path, p_claim(ndc_line(1, "J2350:JZ", 450, OCREVUS_NDC, "2")))
    assert codes(result, "NDC007") == []
    result, _ = check(tmp_path, p_claim(ndc_line(1, "J2350:JZ", 450, OCREVUS_NDC, "3")))
    assert codes(result, "NDC007") == [("NDC007", 1)]
    assert only(result, "NDC007").message.endswith("(expected 2 UN)")


def test_ndc007_whole_vials_on_each_line_when_they_add_none(tmp_path):
    fragment = p_claim(ndc_line(1, "J2350", 300, OCREVUS_NDC, "1"),
                       ndc_line(2, "J2350:JW", 300, OCREVUS_NDC, "1"))
    result, _ = check(tmp_path, fragment)
    assert codes(result, "NDC007") == []


def test_ndc007_omalizumab_375_mg_is_three_syringes_not_four(tmp_path):
    # J2357: 1 unit = 5 mg; 375 mg = 75 units + JW 75 mg = 15 units from 150 mg syringes:
    # the NDC quantities (2.5 + 0.5 syringes) are right; the waste is not the least (two
    # 150 mg and one 75 mg syringe give 375 mg with nothing to discard): MOD007
    good = p_claim(ndc_line(1, "J2357", 75, XOLAIR_150_SYRINGE, "2.5"),
                   ndc_line(2, "J2357:JW", 15, XOLAIR_150_SYRINGE, "0.5"), diagnosis="L501")
    result, _ = check(tmp_path, good)
    assert codes(result, "NDC007") == [] and codes(result, "MOD") == [("MOD007", 2)]
    four = p_claim(ndc_line(1, "J2357", 75, XOLAIR_150_SYRINGE, "3"),
                   ndc_line(2, "J2357:JW", 15, XOLAIR_150_SYRINGE, "1"), diagnosis="L501")
    result, _ = check(tmp_path, four)
    assert codes(result, "NDC007") == [("NDC007", 1), ("NDC007", 2)]


# -- the 277CA rejects a claim MOD007 holds ---------------------------------------------------

def test_mod007_rejects_the_claim_in_the_277ca_on_its_jw_line(tmp_path, monkeypatch):
    from conftest import CLEAN_J2350_CLAIM
    from test_ack277 import claims_of, valid, write

    from edi837.acks.statuses import status_table
    from edi837.drugs import load_drug_table

    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))
    # another date than the clean claim's, so the day's totals are this claim's own
    overbilled = p_claim(p_line(1, "J2350", 600, "20260301", OCREVUS_NDC),
                         p_line(2, "J2350:JW", 300, "20260301", OCREVUS_NDC)).replace(
        "CLM*C1*", "CLM*C2*")
    path = tmp_path / "claims.edi"
    from edi837.x12.fragment import wrap_claims
    path.write_text(wrap_claims(CLEAN_J2350_CLAIM + overbilled))
    result = write(path, load_drug_table(), tmp_path / "out")
    assert (result.accepted, result.rejected_claims) == (1, ["C2"])
    claim = claims_of(valid(result.output))["C2"]
    assert status_table().for_rule("MOD007").composite() == "A8:476"
    assert [s[1] for s in claim["stc"]] == ["A8:476"]
    assert claim["stc"][0][-1].startswith("MOD007 line 2; ")
    [line] = claim["lines"]
    assert line["svc"][1] == "HC:J2350:JW"


# -- MOD007 where JW/JZ are out of scope: a warning beside MOD006 -------------------------

@pytest.mark.parametrize("bill_type", ["11", "71", "77"])
def test_mod007_warns_of_overbilled_waste_on_an_out_of_scope_bill(tmp_path, bill_type):
    """FAIL: an inpatient, RHC or FQHC bill with 600 + JW 300 (a third vial): JW/JZ are
    not required there (MOD006), but the waste billed is still beyond the containers:
    MOD007 as a warning, the claim not held."""
    fragment = i_claim(i_line(1, "J2350", 600, ndc=OCREVUS_NDC),
                       i_line(2, "J2350:JW", 300, ndc=OCREVUS_NDC)).replace(
        "CLM*I1*9000***13:A:1", f"CLM*I1*9000***{bill_type}:A:1")
    result, _ = check(tmp_path, fragment, "837I")
    mod007 = only(result, "MOD007")
    assert mod007.severity == "warning" and mod007.value == "300"
    assert "not required in this setting:" in mod007.message
    assert "MOD006" in {f.rule for f in result.findings}


def test_mod007_quiet_on_an_out_of_scope_bill_whose_waste_is_right(tmp_path):
    """PASS: 450 + JW 150 on an inpatient bill: the waste is what two vials leave."""
    fragment = i_claim(i_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                       i_line(2, "J2350:JW", 150, ndc=OCREVUS_NDC)).replace(
        "CLM*I1*9000***13:A:1", "CLM*I1*9000***11:A:1")
    result, _ = check(tmp_path, fragment, "837I")
    assert codes(result, "MOD007") == []


def test_mod007_warns_at_place_of_service_21(tmp_path):
    fragment = p_claim(p_line(1, "J2350", 600, ndc=OCREVUS_NDC),
                       p_line(2, "J2350:JW", 300, ndc=OCREVUS_NDC)).replace(
        "CLM*C1*9000***11:B:1", "CLM*C1*9000***21:B:1")
    result, _ = check(tmp_path, fragment)
    assert only(result, "MOD007").severity == "warning"


def test_mod007_trial5_mixed_vials_billed_explain_the_waste(tmp_path):
    """Trial 5 s1.edi TOC500: 500 mg on the 400 mg vial's NDC and JW 60 on the 80 mg vial's:
    the fewest containers (400 + 200) leave 100, the 1 x 200 + 4 x 80 least waste 20: the
    sources disagree, a warning, not a hold."""
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 500, ndc=ACTEMRA_400_NDC),
                                        p_line(2, "J3262:JW", 60, ndc="50242013501"),
                                        diagnosis="M0579"))
    finding = only(result, "MOD007")
    assert finding.severity == "warning"  # the fewest containers (400 + 200) leave 100
    assert "the fewest containers, 1 x 400 + 1 x 200-unit containers (600 units), leave 100" \
        in finding.message
    assert "80-unit containers (560 units)" not in finding.message  # no line bills 2 x 80
    # JW 110 is beyond the billed vials (60), the fewest (400 + 200: 100) and the least
    # waste (20): every reading agrees, the catalog's error
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 500, ndc=ACTEMRA_400_NDC),
                                        p_line(2, "J3262:JW", 110, ndc="50242013501"),
                                        diagnosis="M0579"))
    assert only(result, "MOD007").severity == "error"
