"""MOD (JW/JZ discarded-drug modifiers) and UNT (billed units) through the real engine.

The docstring fragments (tests/rules/test_rule_docs.py) prove each rule fires and
stays quiet once; these cover the edges: the policy date, legitimate waste,
the MOD001 fix, payer profiles, 837I, unknown J-codes, several vial sizes,
and group findings reported once.
"""
from decimal import Decimal

import pytest

from edi837.config import parse_config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.findings import Edit
from edi837.rules import all_rules
from edi837.rules.groups import is_whole_containers
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()
OCREVUS_NDC = "50242015001"  # 300 mg/10 mL single-dose vial
ACTEMRA_200_NDC = "50242013601"  # tocilizumab 200 mg/10 mL


@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return Engine(TABLE)


def p_line(number, composite, units, date="20260115", ndc=None, basis="UN", charge="100",
           quantity=1):
    """An 837P service line (LX, SV1, DTP, optional LIN/CTP of ``quantity`` UN)."""
    segments = [f"LX*{number}", f"SV1*HC:{composite}*{charge}*{basis}*{units}***1",
                f"DTP*472*D8*{date}"]
    if ndc:
        segments += [f"LIN**N4*{ndc}", f"CTP****{quantity}*UN"]
    return "\n".join(segments)


def i_line(number, composite, units, date="20260115", ndc=None, basis="UN", charge="100",
           quantity=1):
    """An 837I service line (LX, SV2 under revenue code 0636, DTP, optional LIN/CTP of
    ``quantity`` UN)."""
    segments = [f"LX*{number}", f"SV2*0636*HC:{composite}*{charge}*{basis}*{units}",
                f"DTP*472*D8*{date}"]
    if ndc:
        segments += [f"LIN**N4*{ndc}", f"CTP****{quantity}*UN"]
    return "\n".join(segments)


def p_claim(*lines, diagnosis="G35A"):
    return "\n".join(["CLM*C1*9000***11:B:1*Y*A*Y*Y", f"HI*ABK:{diagnosis}", *lines])


def i_claim(*lines, date="20260115", diagnosis="G35A"):
    return "\n".join(["CLM*I1*9000***13:A:1**A*Y*Y", f"DTP*434*RD8*{date}-{date}",
                      f"HI*ABK:{diagnosis}", *lines])


def check(tmp_path, fragment, kind="837P", engine=None, **wrap):
    path = tmp_path / f"claim-{kind}.edi"
    path.write_text(wrap_claims(fragment, kind, **wrap))
    result = (engine or Engine(TABLE)).check_file(path)
    return result, path.read_text().split("~\n")


def ours(result, prefixes=("MOD", "UNT")):
    """The MOD/UNT findings, as (rule, line number) pairs sorted."""
    return sorted((f.rule, f.line_number) for f in result.findings if f.rule.startswith(prefixes))


def only(result, code):
    found = [f for f in result.findings if f.rule == code]
    assert len(found) == 1, [(f.rule, f.message) for f in result.findings]
    return found[0]


# ---------------------------------------------------------------------------
# The policy date comes from the table
# ---------------------------------------------------------------------------


def test_policy_date_is_the_tables():
    assert TABLE.policy.discarded_drug_modifiers.required_from.isoformat() == "2023-07-01"


def test_no_mod001_the_day_before_the_policy_date(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350", 600, "20230630", OCREVUS_NDC),
                                        diagnosis="G35"), engine=engine)
    assert ours(result) == []


def test_mod001_on_the_policy_date(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350", 600, "20230701", OCREVUS_NDC, quantity=2),
                       diagnosis="G35")
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result) == [("MOD001", 1)]
    finding = only(result, "MOD001")
    # Medicare (the fragments' SBR09 MB): JZ required from 2023-07-01, claims returned
    # only from 2023-10-01 (edi837.policy): a warning until then, an error after
    assert (finding.severity, finding.policy) == ("warning", "medicare-ffs")
    edits, _ = check(tmp_path, p_claim(p_line(1, "J2350", 600, "20231001", OCREVUS_NDC),
                                       diagnosis="G35"), engine=engine)
    assert only(edits, "MOD001").severity == "error"
    assert finding.message == ("J2350 is a single-dose drug and the line has neither JW nor JZ: "
                               "add JZ (nothing discarded) (a warning before 2023-10-01: "
                               "Medicare returned no claims for JW/JZ before its claim edits "
                               "of that date)")
    assert finding.value == "J2350"


def test_lone_jw_line_before_policy_date_is_not_checked(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:JW", 150, "20230630"), diagnosis="G35"),
                      engine=engine)
    assert [r for r, _ in ours(result) if r.startswith("MOD")] == []


# ---------------------------------------------------------------------------
# Legitimate waste: 450 administered + 150 discarded is a 600 dose
# ---------------------------------------------------------------------------


def test_legitimate_waste_raises_no_mod_or_unt(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                       p_line(2, "J2350:JW", 150, ndc=OCREVUS_NDC))
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result) == []


def test_legitimate_waste_837i_raises_no_mod_or_unt(tmp_path, engine):
    fragment = i_claim(i_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                       i_line(2, "J2350:JW", 150, ndc=OCREVUS_NDC))
    result, _ = check(tmp_path, fragment, "837I", engine=engine)
    assert ours(result) == []


def test_waste_that_overshoots_the_vials_is_reported_once(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350", 300, ndc=OCREVUS_NDC),
                       p_line(2, "J2350", 150, ndc=OCREVUS_NDC),
                       p_line(3, "J2350:JW", 200, ndc=OCREVUS_NDC))
    result, _ = check(tmp_path, fragment, engine=engine)
    # UNT001 on the line that completes the day's total (rule catalog); MOD007: two vials
    # cover 450 units and leave 150 to discard, not 200
    assert ours(result) == [("MOD005", 1), ("MOD007", 3), ("UNT001", 3)]
    assert only(result, "MOD005").message == (
        "J2350 on 2026-01-15: 450 units administered + 200 discarded (JW) = 650, which is not "
        "a whole number of containers (300-unit single-dose vial)")
    assert only(result, "UNT001").message == (
        "J2350 on 2026-01-15: 450 units administered + 200 discarded (JW) = 650 units "
        "prepared, not a labeled dose (300 or 600 units)")
    assert only(result, "UNT001").value == "650"


def test_jw_on_another_date_does_not_pair(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350", 600, "20260115", OCREVUS_NDC, quantity=2),
                       p_line(2, "J2350:JW", 150, "20260116", OCREVUS_NDC))
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result) == [("MOD001", 1), ("MOD003", 2), ("UNT001", 2)]
    assert only(result, "MOD001").fix is not None
    assert only(result, "MOD003").message == (
        "J2350 JW line (150 units discarded) has no line billing the administered units on "
        "2026-01-16: bill the administered units on a line without JW/JZ")


# ---------------------------------------------------------------------------
# MOD001's fix
# ---------------------------------------------------------------------------


def test_mod001_fix_adds_jz_in_the_first_modifier_component(tmp_path, engine):
    result, segments = check(tmp_path, p_claim(p_line(1, "J2350", 600, ndc=OCREVUS_NDC,
                                                      quantity=2)), engine=engine)
    finding = only(result, "MOD001")
    assert segments[finding.segment_index - 1].startswith("SV1*HC:J2350*")
    assert finding.fix.edits == (Edit(finding.segment_index, "SV1", 1, 3, "", "JZ"),)
    assert finding.fix.edits[0].reference == "SV101-3"


def test_mod001_fix_goes_after_existing_modifiers(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:KX:GA", 300, ndc=OCREVUS_NDC)),
                      engine=engine)
    assert only(result, "MOD001").fix.edits == (
        Edit(only(result, "MOD001").segment_index, "SV1", 1, 5, "", "JZ"),)


def test_mod001_fix_without_an_ndc_uses_the_drugs_vials(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350", 300)), engine=engine)
    assert only(result, "MOD001").fix is not None


def test_mod001_no_fix_for_a_partial_vial(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350", 450, ndc=OCREVUS_NDC)),
                      engine=engine)
    assert ours(result) == [("MOD001", 1), ("UNT001", 1)]
    finding = only(result, "MOD001")
    assert finding.fix is None
    assert finding.message.endswith(
        "add JZ if nothing was discarded, or bill the discarded amount on a second line with JW")


def test_mod001_no_fix_with_four_modifiers(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:KX:GA:GY:59", 600, ndc=OCREVUS_NDC)),
                      engine=engine)
    finding = only(result, "MOD001")
    assert finding.fix is None
    assert finding.value == "J2350:KX:GA:GY:59"


def test_administered_half_of_a_jw_pair_gets_no_mod001_nor_fix(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350", 450, ndc=OCREVUS_NDC),
                       p_line(2, "J2350:JW", 150, ndc=OCREVUS_NDC))
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result) == []  # 450 + 150 = 600: whole vials, a labeled dose
    # (300 + JW 300 bills a second vial a 300 dose does not need: MOD007)


def test_mod001_fix_uses_the_lines_ndc_package(tmp_path, engine):
    # J3262 vials: 80, 200, 400 mg. 280 mg fills an 80 + a 200 vial, but not 200 mg vials only.
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 280, ndc=ACTEMRA_200_NDC),
                                        diagnosis="M0579"), engine=engine)
    assert only(result, "MOD001").fix is None
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262", 400, ndc=ACTEMRA_200_NDC,
                                               quantity=2), diagnosis="M0579"), engine=engine)
    assert only(result, "MOD001").fix is not None


def test_mod001_fix_837i(tmp_path, engine):
    result, segments = check(tmp_path, i_claim(i_line(1, "J2350", 600, ndc=OCREVUS_NDC,
                                                      quantity=2)), "837I", engine=engine)
    finding = only(result, "MOD001")
    assert finding.segment == "SV2"
    assert segments[finding.segment_index - 1].startswith("SV2*0636*HC:J2350*")
    assert finding.fix.edits == (Edit(finding.segment_index, "SV2", 2, 3, "", "JZ"),)
    assert finding.fix.edits[0].reference == "SV202-3"


# ---------------------------------------------------------------------------
# Payer profiles: jw_jz = false silences the MOD rules for that payer only
# ---------------------------------------------------------------------------

PROFILES = parse_config({"profiles": [{"name": "commercial", "payer_ids": ["COMM01"],
                                       "jw_jz": False}]})


@pytest.mark.parametrize("kind, make_claim, make_line", [
    ("837P", p_claim, p_line), ("837I", i_claim, i_line)])
def test_jw_jz_false_profile_silences_mod_rules(tmp_path, kind, make_claim, make_line):
    fragment = make_claim(make_line(1, "J2350", 600, ndc=OCREVUS_NDC),
                          make_line(2, "J2350", 300, "20260201", ndc=OCREVUS_NDC),
                          make_line(3, "J2350:JW:JZ", 300, "20260201", ndc=OCREVUS_NDC),
                          make_line(4, "J2350:JW", 100, "20260301"),
                          make_line(5, "J2350:JZ", 450, "20260401"),
                          make_line(6, "J2350:JW", 150, "20260401"),
                          make_line(7, "J2350", 450, "20260501"),
                          make_line(8, "J2350:JW", 100, "20260501"))
    engine = Engine(TABLE, PROFILES)
    medicare, _ = check(tmp_path, fragment, kind, engine=engine)
    assert ours(medicare, ("MOD",)) == [("MOD001", 1), ("MOD002", 3), ("MOD003", 4),
                                        ("MOD004", 5), ("MOD005", 7), ("MOD007", 3)]
    commercial, _ = check(tmp_path, fragment, kind, engine=engine, payer_id="COMM01")
    assert ours(commercial, ("MOD",)) == []
    # Units are still checked for that payer: 100 and 550 prepared are no labeled dose.
    assert ours(commercial, ("UNT",)) == [("UNT001", 4), ("UNT001", 8)]
    assert ours(commercial, ("UNT",)) == ours(medicare, ("UNT",))


# ---------------------------------------------------------------------------
# MOD002-MOD004, unknown J-codes
# ---------------------------------------------------------------------------


def test_unknown_j_code_gets_mod002_but_not_mod001(tmp_path, engine):
    fragment = p_claim(p_line(1, "J9999:JW:JZ", 10), p_line(2, "J9999", 10, "20260116"))
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result) == [("MOD002", 1)]
    finding = only(result, "MOD002")
    assert finding.message == ("J9999 line has both JW (amount discarded) and JZ (nothing "
                               "discarded): keep one")
    assert finding.value == "J9999:JW:JZ"


def test_unknown_j_code_837i_gets_mod002(tmp_path, engine):
    result, _ = check(tmp_path, i_claim(i_line(1, "J9999:JZ:JW", 10)), "837I", engine=engine)
    assert ours(result) == [("MOD002", 1)]


def test_jw_and_jz_on_one_line_is_mod002_and_no_administered_line(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:JW:JZ", 600, ndc=OCREVUS_NDC)),
                      engine=engine)
    # The line bills JW, so it is no administered line either (MOD003), whose advice is
    # to drop one modifier, not to bill the units on a line without JW/JZ (trial 7)
    assert [r for r, _ in ours(result, ("MOD",))] == ["MOD002", "MOD003"]
    assert "drop one modifier" in only(result, "MOD003").message
    assert "bill the administered units on a line without JW/JZ" not in \
        only(result, "MOD003").message


def test_two_lone_jw_lines_report_mod003_once(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350:JW", 100), p_line(2, "J2350:JW", 200))
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result, ("MOD",)) == [("MOD003", 1)]


def test_mod004_points_at_the_jz_line(tmp_path, engine):
    fragment = p_claim(p_line(1, "J2350:JW", 150, ndc=OCREVUS_NDC),
                       p_line(2, "J2350:JZ", 450, ndc=OCREVUS_NDC))
    result, _ = check(tmp_path, fragment, engine=engine)
    assert ours(result) == [("MOD004", 2)]
    assert only(result, "MOD004").message == (
        "J2350 line has JZ (nothing discarded) but line 1 bills 150 units discarded with JW "
        "on the same date: remove JZ, or the JW line")


# ---------------------------------------------------------------------------
# MOD005: whole containers, several vial sizes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("amount, whole", [
    (280, True), (480, True), (160, True), (600, True), (2000, True),
    (100, False), (120, False), (0, False), (Decimal("80.5"), False)])
def test_whole_containers_with_several_sizes(amount, whole):
    assert is_whole_containers(Decimal(amount), (Decimal(80), Decimal(200), Decimal(400))) \
        is whole


def test_whole_containers_with_fractional_sizes():
    assert is_whole_containers(Decimal("1.5"), (Decimal("0.5"),))
    assert not is_whole_containers(Decimal("1.25"), (Decimal("0.5"),))
    assert is_whole_containers(Decimal(10**12), (Decimal(7), Decimal(9)))


def test_jz_on_mixed_vial_sizes_is_whole(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262:JZ", 280), diagnosis="M0579"),
                      engine=engine)
    assert ours(result) == []  # J3262 is weight-based: no labeled-dose check


def test_jz_on_mixed_vial_sizes_is_whole_on_one_sizes_ndc(tmp_path, engine):
    # 280 = 200 + 80, billed on the 200 mg vial's NDC: whole containers of the drug's sizes
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262:JZ", 280, ndc=ACTEMRA_200_NDC),
                                        diagnosis="M0579"), engine=engine)
    assert ours(result, ("MOD",)) == []
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262:JZ", 290, ndc=ACTEMRA_200_NDC),
                                        diagnosis="M0579"), engine=engine)
    assert ours(result, ("MOD",)) == [("MOD005", 1)]


def test_jz_on_partial_container_of_several_sizes(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262:JZ", 100), diagnosis="M0579"),
                      engine=engine)
    assert ours(result) == [("MOD005", 1)]
    assert only(result, "MOD005").message == (
        "J3262 on 2026-01-15: JZ (nothing discarded) on 100 units, which is not a whole "
        "number of containers (80/200/400-unit containers)")


def test_omalizumab_units_are_converted_to_mg(tmp_path, engine):
    # J2357: 1 unit = 5 mg; 75, 150 and 300 mg containers = 15, 30 and 60 units.
    for units in (15, 30, 45):
        result, _ = check(tmp_path, p_claim(p_line(1, "J2357:JZ", units), diagnosis="L501"),
                          engine=engine)
        assert ours(result) == []
    result, _ = check(tmp_path, p_claim(p_line(1, "J2357:JZ", 20), diagnosis="L501"),
                      engine=engine)
    # 100 mg: no whole number of 75/150/300 mg containers (and not a labeled dose: UNT001)
    assert ours(result) == [("MOD005", 1), ("UNT001", 1)]


# ---------------------------------------------------------------------------
# MOD006: multi-dose drugs (the shipped table has none; an extra table adds one)
# ---------------------------------------------------------------------------

MULTI_DOSE = """\
version = "test.1"
updated = 2026-12-01
[drugs.J1815]
descriptor = "Injection, insulin, per 5 units"
amount_per_unit = 5
unit_of_measure = "IU"
route = "SC"
single_dose = false
source = "test: multi-dose 10 mL vial"
confidence = "B"
diagnoses = []
ndcs = []
[drugs.J1815.dosing]
labeled_doses = []
max_units_per_day = 100
source = "test"
confidence = "B"
[drugs.J1815.administration]
codes = ["96372"]
source = "test"
confidence = "B"
"""


@pytest.fixture(scope="module")
def multi_dose_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "multi-dose.toml"
    path.write_text(MULTI_DOSE)
    return Engine(load_drug_table([path]))


def test_mod006_documented_fragments_with_a_multi_dose_drug(tmp_path, multi_dose_engine):
    rule = all_rules()["MOD006"]
    for kind, fragment in rule.examples()["FAIL"]:
        result, _ = check(tmp_path, fragment, kind, engine=multi_dose_engine)
        assert ours(result, ("MOD",)) == [("MOD006", 1)]
        assert only(result, "MOD006").severity == "warning"
    for kind, fragment in rule.examples()["PASS"]:
        result, _ = check(tmp_path, fragment, kind, engine=multi_dose_engine)
        assert ours(result, ("MOD",)) == []


def test_mod006_message_and_no_other_mod_rule(tmp_path, multi_dose_engine):
    fragment = p_claim(p_line(1, "J1815:JZ", 4), p_line(2, "J1815", 4, "20260116"),
                       diagnosis="E119")
    result, _ = check(tmp_path, fragment, engine=multi_dose_engine)
    assert ours(result) == [("MOD006", 1)]
    assert only(result, "MOD006").message == (
        "J1815 is not supplied in single-dose containers (drug table): JZ applies only to "
        "single-dose containers")


# ---------------------------------------------------------------------------
# UNT
# ---------------------------------------------------------------------------


def test_unt002_with_900_units(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:JZ", 900)), engine=engine)
    assert ours(result) == [("UNT001", 1), ("UNT002", 1)]  # 900 = three vials: no MOD005
    finding = only(result, "UNT002")
    assert finding.severity == "error"
    assert finding.message == ("J2350 on 2026-01-15: 900 units administered, above the "
                               "maximum of 600 units per day")
    assert finding.value == "900"


def test_unt002_adds_lines_of_the_same_date_and_excludes_jw(tmp_path, engine):
    fragment = i_claim(i_line(1, "J2350", 300), i_line(2, "J2350", 300),
                       i_line(3, "J2350:JW", 300), i_line(4, "J2350:JZ", 600, "20260116"))
    result, _ = check(tmp_path, fragment, "837I", engine=engine)
    # 600 administered (not above 600); 900 prepared is no labeled dose, on the
    # line that completes the day's total; JW 300 beside a 600 dose is a third vial (MOD007)
    assert ours(result) == [("MOD007", 3), ("UNT001", 3)]
    fragment = i_claim(i_line(1, "J2350", 300), i_line(2, "J2350", 400))
    result, _ = check(tmp_path, fragment, "837I", engine=Engine(TABLE))
    assert ("UNT002", 2) in ours(result)  # the line that pushes the day over 600
    assert only(result, "UNT002").message.startswith("J2350 on 2026-01-15: 700 units")


def test_unt001_skips_weight_based_drugs(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J3262:JZ", 480), diagnosis="M0579"),
                      engine=engine)
    assert ours(result, ("UNT",)) == []


def test_unt003_unit_basis_mj(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:JZ", 600, basis="MJ")),
                      engine=engine)
    assert ours(result) == [("UNT003", 1)]
    finding = only(result, "UNT003")
    assert finding.message == "J2350: SV103 unit basis is 'MJ', not UN"
    assert finding.value == "MJ"


def test_unt003_fractional_units(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:JZ", "2.5")), engine=engine)
    finding = only(result, "UNT003")
    assert finding.message == "J2350: SV104 units 2.5 are not a positive whole number"
    assert finding.value == "2.5"


def test_unt003_837i_both_problems_in_one_finding(tmp_path, engine):
    result, _ = check(tmp_path, i_claim(i_line(1, "J2350:JZ", "0", basis="DA")), "837I",
                      engine=engine)
    finding = only(result, "UNT003")
    assert finding.message == ("J2350: SV204 unit basis is 'DA', not UN; SV205 units 0 are "
                               "not a positive whole number")
    assert finding.segment == "SV2"


def test_unt003_runs_on_unknown_j_codes(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J9999", 10, basis="MJ")), engine=engine)
    assert ours(result) == [("UNT003", 1)]


def test_unt003_whole_number_written_with_decimals_is_fine(tmp_path, engine):
    result, _ = check(tmp_path, p_claim(p_line(1, "J2350:JZ", "600.0")), engine=engine)
    assert ours(result) == []


def test_review_mod002_and_mod006_respect_the_policy_date(tmp_path):
    """The whole MOD family is scoped to dates on or after 2023-07-01 (catalog)."""
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.x12.fragment import wrap_claims

    engine = Engine(load_drug_table())
    for day, expected in (("20230630", set()), ("20230701", {"MOD002"})):
        path = tmp_path / f"jwjz{day}.edi"
        path.write_text(wrap_claims(f"""
CLM*C1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35
LX*1
SV1*HC:J2350:JW:JZ*9000*UN*600***1
DTP*472*D8*{day}
LIN**N4*50242015001
CTP****20*ML
"""))
        assert {f.rule for f in engine.check_file(path).findings} & {"MOD002"} == expected
    for day, expected in (("20230630", set()), ("20230701", {"MOD006"})):
        path = tmp_path / f"insulin{day}.edi"
        path.write_text(wrap_claims(f"""
CLM*C1*40***11:B:1*Y*A*Y*Y
HI*ABK:E119
LX*1
SV1*HC:J1815:JZ*40*UN*4***1
DTP*472*D8*{day}
"""))
        assert {f.rule for f in engine.check_file(path).findings} & {"MOD006"} == expected


def test_review_mod001_fix_only_when_the_whole_group_fills_vials(tmp_path):
    """300 + 150 units on two unmodified lines: JZ on either would be wrong."""
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.x12.fragment import wrap_claims

    def lines(first, second):
        return f"""
CLM*C1*6750***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350*4500*UN*{first}***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****10*ML
LX*2
SV1*HC:J2350*2250*UN*{second}***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****{second // 30}*ML
"""
    engine = Engine(load_drug_table())
    path = tmp_path / "partial.edi"
    path.write_text(wrap_claims(lines(300, 150)))
    mod001 = [f for f in engine.check_file(path).findings if f.rule == "MOD001"]
    assert len(mod001) == 2 and all(f.fix is None for f in mod001)
    path.write_text(wrap_claims(lines(300, 300)))
    mod001 = [f for f in engine.check_file(path).findings if f.rule == "MOD001"]
    assert len(mod001) == 2 and all(f.fix is not None for f in mod001)
