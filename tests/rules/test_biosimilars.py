"""Biosimilars as drug-table data (trial 5, items 2, 3 and 8): Tyruko Q5134 and Tofidence
Q5133 with their own entries, one molecule with their reference products (J2323,
J3262) for the day's maximum (UNT002) and the schedule (HIS002), and NDC004 naming a
product's own code only when the code is valid on the date of service."""
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()


def claim(claim_id, code, units, date, ndc, qty, hi="G35A"):
    return f"""\
CLM*{claim_id}*2000***11:B:1*Y*A*Y*Y
HI*ABK:{hi}
LX*1
SV1*HC:{code}:JZ*2000*UN*{units}***1
DTP*472*D8*{date}
LIN**N4*{ndc}
CTP****{qty}*ML
LX*2
SV1*HC:96365*300*UN*1***1
DTP*472*D8*{date}"""


def findings(tmp_path, *claims, rule):
    path = tmp_path / "claims.edi"
    path.write_text(wrap_claims("\n".join(claims)))
    return [f for f in Engine(TABLE).check_file(path).findings if f.rule == rule]


TYSABRI = dict(code="J2323", units=300, ndc="64406000801", qty=15)
ACTEMRA = dict(code="J3262", units=400, ndc="50242013701", qty=20, hi="M0579")
TOFIDENCE = dict(code="Q5133", units=400, ndc="78206020101", qty=20, hi="M0579")


def test_the_shipped_table_has_the_biosimilars_with_dates_and_their_molecule():
    for code, ingredient, reference in (("Q5134", "natalizumab", "J2323"),
                                        ("Q5133", "tocilizumab", "J3262")):
        drug = TABLE.drug(code)
        assert drug is not None and str(drug.code_dates.start) == "2024-04-01"
        assert drug.schedule.ingredient == ingredient
        assert TABLE.drug(reference).schedule.ingredient == ingredient
    assert TABLE.hcpcs_for_ndc("78206020101") == "Q5133"


def test_tysabri_ndc_on_the_tyruko_code_is_an_error_naming_j2323(tmp_path):
    found, = findings(tmp_path, claim("TYR", "Q5134", 300, "20260112", "64406000801", 15),
                      rule="NDC004")
    assert found.severity == "error" and "is Tysabri, billed under J2323, not Q5134" in \
        found.message


def test_avtozma_ndc_on_j3262_is_an_error_naming_avtozma(tmp_path):
    fail = claim("AVT", "J3262", 80, "20260310", "72606004201", 4, hi="M0579")
    found, = findings(tmp_path, fail, rule="NDC004")
    assert found.severity == "error" and "is Avtozma" in found.message
    good = claim("ACT", "J3262", 80, "20260310", "50242013501", 4, hi="M0579")
    assert findings(tmp_path, good, rule="NDC004") == []


def test_tocilizumab_over_two_codes_on_one_day_is_above_the_maximum(tmp_path):
    tofidence = dict(TOFIDENCE, units=480, qty=24)
    found, = findings(tmp_path, claim("ACT-1", date="20260105", **ACTEMRA),
                      claim("TOF-2", date="20260105", **tofidence), rule="UNT002")
    # the 800 mg rests on elsevier.health [C] only: a warning (see the test below)
    assert found.severity == "warning" and found.claim_id == "TOF-2"
    assert "880 mg of tocilizumab" in found.message and "J3262" in found.message
    # 400 + 400 = 800: the maximum itself passes
    assert findings(tmp_path, claim("ACT-1", date="20260105", **ACTEMRA),
                    claim("TOF-2", date="20260105", **TOFIDENCE), rule="UNT002") == []
    # one code alone keeps its message
    found, = findings(tmp_path, claim("ACT-1", date="20260105", **dict(ACTEMRA, units=880)),
                      rule="UNT002")
    assert "880 units administered, above the maximum of 800 units per day" in found.message


def test_a_maximum_resting_on_a_secondary_source_only_is_a_unt002_warning(tmp_path):
    # tocilizumab's 800 mg: elsevier.health [C] only (billing-rules.md §5)
    found, = findings(tmp_path, claim("ACT-1", date="20260105", **dict(ACTEMRA, units=880)),
                      rule="UNT002")
    assert found.severity == "warning", found
    assert "secondary source only (elsevier.health" in found.message and "[C]" in found.message
    assert findings(tmp_path, claim("ACT-1", date="20260105", **dict(ACTEMRA, units=800)),
                    rule="UNT002") == []
    # Tyruko Q5134's 300 units: 1 unit = 1 mg rests on openpayer.com [C]
    found, = findings(tmp_path, claim("TYR-1", date="20260105",
                                      **dict(TYSABRI, code="Q5134", units=400)), rule="UNT002")
    assert found.severity == "warning" and "secondary source only" in found.message
    # Tysabri J2323's 300 units is the DailyMed label [A]: an error, no hedge
    found, = findings(tmp_path, claim("TYS-1", date="20260105", **dict(TYSABRI, units=400)),
                      rule="UNT002")
    assert found.severity == "error" and "secondary source" not in found.message


def test_the_secondary_sourced_maxima_are_the_c_and_unconfirmed_ones():
    from edi837.rules.units import secondary
    weak = sorted(drug.hcpcs for drug in TABLE.drugs.values()
                  if drug.max_units_per_day is not None and secondary(drug))
    assert weak == ["J2351", "J2357", "J3262", "Q5133", "Q5134"]


def test_an_unconfirmed_code_is_never_advised_by_ndc004(tmp_path):
    # Omlyclo's Q5154 only appears next to J2357 on carecostestimate [C]: UNCONFIRMED
    omlyclo = claim("OML", "J2357", 60, "20260105", "72606005401", 2, hi="J4550")
    found, = findings(tmp_path, omlyclo, rule="NDC004")
    assert found.severity == "error" and "is Omlyclo (omalizumab-igec)" in found.message
    assert "its own code, which is unconfirmed (Q5154" in found.message, found.message
    assert "bill Q5154" not in found.message and "billed under Q5154" not in found.message
    assert TABLE.code_unconfirmed("Q5154").confidence == "unconfirmed"
    # a code of the table's own entries keeps its advice (Tyruko's Q5134 [C], J2351 [C])
    assert TABLE.code_unconfirmed("Q5134") is None and TABLE.code_unconfirmed("J2351") is None
    found, = findings(tmp_path, claim("ZUN", "J2350", 920, "20260105", "50242055401", 23,
                                      hi="G35A"), rule="NDC004")
    assert "bill J2351 or correct the NDC" in found.message
    assert findings(tmp_path, claim("XOL", date="20260105", **XOLAIR), rule="NDC004") == []


def test_tyruko_a_week_after_tysabri_is_out_of_schedule(tmp_path):
    found, = findings(tmp_path, claim("TYS-1", date="20260105", **TYSABRI),
                      claim("TYR-2", date="20260112", **dict(TYSABRI, code="Q5134")),
                      rule="HIS002")
    assert found.claim_id == "TYR-2" and "the same ingredient, natalizumab" in found.message
    assert findings(tmp_path, claim("TYS-1", date="20260105", **TYSABRI),
                    claim("TYR-2", date="20260202", **dict(TYSABRI, code="Q5134")),
                    rule="HIS002") == []


def test_ndc004_names_the_biosimilar_code_only_from_its_effective_date(tmp_path):
    before, = findings(tmp_path, claim("T1", "J3262", 200, "20240115", "78206020101", 10,
                                       hi="M0579"), rule="NDC004")
    assert before.severity == "error" and "bill Q5133" not in before.message
    assert "Q5133 is valid from 2024-04-01" in before.message
    after, = findings(tmp_path, claim("T2", "J3262", 200, "20240515", "78206020101", 10,
                                      hi="M0579"), rule="NDC004")
    assert "bill Q5133 or correct the NDC" in after.message


# -- item 3: the label's interval for vedolizumab, tocilizumab and omalizumab -----------------

ENTYVIO = dict(code="J3380", units=300, ndc="64764030020", qty=1, hi="K5090")
XOLAIR = dict(code="J2357", units=60, ndc="50242022701", qty=2, hi="J4550")


def doses(drug, *dates):
    return [claim(f"C{i}", date=date, **drug) for i, date in enumerate(dates, start=1)]


def test_label_intervals_pass(tmp_path):
    # Entyvio weeks 0, 2, 6, then 8 weeks later; Xolair every 2 then 4 weeks; Actemra q4w
    # then the sJIA q2w
    for drug, dates in ((ENTYVIO, ("20260105", "20260119", "20260216", "20260413")),
                        (XOLAIR, ("20260105", "20260119", "20260216")),
                        (ACTEMRA, ("20260105", "20260202", "20260216"))):
        assert findings(tmp_path, *doses(drug, *dates), rule="HIS002") == [], drug["code"]


def test_too_short_intervals_are_his002_warnings_with_the_labels_words(tmp_path):
    for drug, dates, words in (
            (ENTYVIO, ("20260504", "20260511"), "weeks 0, 2 and 6, then every 8 weeks"),
            (XOLAIR, ("20260105", "20260108"), "every 2 or 4 weeks"),
            (ACTEMRA, ("20260105", "20260112"), "every 2 weeks (sJIA)")):
        found, = findings(tmp_path, *doses(drug, *dates), rule="HIS002")
        assert found.severity == "warning" and words in found.message, found.message
        assert found.claim_id == "C2"


def test_a_q_code_before_its_secondary_sourced_date_is_a_dos002_warning(tmp_path):
    # Q5133 from 2024-04-01 rests on buyandbill.com [C]: a warning, never a hold
    found, = findings(tmp_path, claim("T0", date="20240115", **TOFIDENCE), rule="DOS002")
    assert found.severity == "warning" and "secondary source" in found.message
    assert findings(tmp_path, claim("T1", date="20240415", **TOFIDENCE), rule="DOS002") == []
    # J2350 before 2018-01-01 ([B], Genentech Access) stays an error
    j2350 = claim("O0", "J2350", 600, "20171115", "50242015001", 20, hi="G35")
    found, = findings(tmp_path, j2350, rule="DOS002")
    assert found.severity == "error"
