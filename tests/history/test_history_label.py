"""Issue 23, the history's part: Medicare identity across MACs (item 4), the
dose schedule per ingredient and per label revision (item 3), DOC001's first
dose (item 10) and replacements that change nothing (item 11).

Each case is a PASS and a FAIL fragment, checked as nights against one store.
"""
import secrets

import pytest

from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.history import HistoryStore, PatientKeys
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()
# DOC001 named on its own (a severity entry): reported as itself, not in DOC000
DOC001_ALONE = Config(severity={"DOC001": "info"})
HOSPITAL = "NM1*85*2*SYNTHETIC HOSPITAL*****XX*2222222220"
CLINIC = "NM1*85*2*SYNTHETIC NEUROLOGY CLINIC*****XX*3333333336"

# a hospital outpatient 837I (type of bill 131) and a physician 837P, one dose each
P_CLAIM = """
CLM*{id}*{charge}***11:B:{freq}*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RAY****XX*1234567893
NM1*77*2*SUITE*****XX*1234567893
N3*1 MAIN ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV1*HC:{hcpcs}:JZ*{charge}*UN*{units}***1
DTP*472*D8*{date}
LIN**N4*{ndc}
CTP****{ml}*ML
NM1*DK*1*ORDER*OLA****XX*1234567893
"""
I_CLAIM = """
CLM*{id}*{charge}***13:A:{freq}**A*Y*Y
DTP*434*RD8*{date}-{date}
CL1*1*1*01
HI*ABK:G35A
NM1*71*1*ATTEND*ANN****XX*1234567893
NM1*77*2*SUITE*****XX*1234567893
N3*1 MAIN ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV2*0636*HC:{hcpcs}:JZ*{charge}*UN*{units}
DTP*472*D8*{date}
LIN**N4*{ndc}
CTP****{ml}*ML
"""
NDC = {"J2350": ("50242015001", 10), "J2351": ("50242055401", 23)}


def claim_text(kind, claim_id, date, units=600, hcpcs="J2350", frequency="1"):
    ndc, ml_per = NDC[hcpcs]
    ml = ml_per * units // 300 if hcpcs == "J2350" else ml_per
    return (P_CLAIM if kind == "837P" else I_CLAIM).format(
        id=claim_id, charge=units * 15, freq=frequency, hcpcs=hcpcs, units=units,
        date=date, ndc=ndc, ml=ml)


def night(tmp_path, name, kind, *claims, payer="PARTB01", filing="MB", billing=CLINIC):
    path = tmp_path / name
    path.write_text(wrap_claims("".join(claims), kind, payer_id=payer, filing=filing,
                                billing=billing, control=f"{abs(hash(name)) % 10 ** 9:09d}"))
    return path


def hospital(tmp_path, name, *claims, filing="MA", payer="PARTA01"):
    return night(tmp_path, name, "837I", *claims, payer=payer, filing=filing,
                 billing=HOSPITAL)


@pytest.fixture
def store(tmp_path):
    opened = HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))
    yield opened
    opened.close()


def run(store, *paths, config=None):
    engine = Engine(TABLE, config or DOC001_ALONE, history=store)
    try:
        results = [engine.check_file(path) for path in paths]
    finally:
        engine.close()
    return [[f for f in result.findings] for result in results]


def codes(findings, prefixes=("HIS", "UNT001", "UNT002", "DOC001")):
    return sorted((f.rule, f.claim_id) for f in findings if f.rule.startswith(prefixes))


# -- item 4: one Medicare beneficiary, two MACs -------------------------------------------
def test_medicare_ffs_patient_is_the_mbi_alone():
    keys = PatientKeys(secrets.token_bytes(32))

    class Person:
        member_id, birth_date, first_name = "1EG4TE5MK73", "19500101", "JANE"

    class Claim:
        subscriber = patient_person = Person()
        subscriber_id = ""

        def __init__(self, payer_id, filing):
            self.payer_id, self.filing_indicator = payer_id, filing

    part_a, part_b = keys.of_claim(Claim("PARTA01", "MA")), keys.of_claim(Claim("PARTB01", "MB"))
    assert part_a == part_b == keys.medicare("1eg4te5mk73 ")
    # a commercial plan keeps payer, member id, birth date and first name
    assert keys.of_claim(Claim("PARTB01", "CI")) != part_b
    assert keys.of_claim(Claim("PLAN01", "CI")) != keys.of_claim(Claim("PLAN02", "CI"))
    # Medicare Advantage (16) is a plan of its own: not the MBI key
    assert keys.of_claim(Claim("PARTB01", "16")) != part_b


def test_hospital_837i_and_physician_837p_for_one_mbi_meet_in_one_history(tmp_path, store):
    hospital_night = hospital(tmp_path, "hospital.edi", claim_text("837I", "H1", "20260115"))
    # PASS: the physician bills the next maintenance dose, six months later
    later = night(tmp_path, "later.edi", "837P", claim_text("837P", "P1", "20260716"))
    run(store, hospital_night)
    assert codes(run(store, later)[0]) == []  # not a first dose: the 837I's is seen


def test_the_same_dose_billed_to_both_macs_is_hi001(tmp_path, store):
    run(store, hospital(tmp_path, "hospital.edi", claim_text("837I", "H1", "20260115")))
    [found] = run(store, night(tmp_path, "clinic.edi", "837P",
                               claim_text("837P", "P1", "20260115")))
    assert codes(found) == [("HIS001", "P1")]
    [his001] = [f for f in found if f.rule == "HIS001"]
    assert his001.severity == "error" and his001.value == "H1"
    assert "already billed on claim H1 in file with SHA-256 " in his001.message and \
        "by billing provider 2222222220 to payer PARTA01" in his001.message and \
        "Medicare beneficiary" in his001.message
    # the duplicate is not summed: no UNT002 (1200 units) on top of it


def test_a_commercial_member_under_two_payers_stays_two_histories(tmp_path, store):
    run(store, hospital(tmp_path, "hospital.edi", claim_text("837I", "H1", "20260115"),
                        filing="CI", payer="PLAN01"))
    [found] = run(store, night(tmp_path, "clinic.edi", "837P",
                               claim_text("837P", "P1", "20260115"), filing="CI",
                               payer="PLAN02"))
    assert ("HIS001", "P1") not in codes(found)
    assert ("HIS003", "P1") in codes(found)  # another payer: another member


# -- item 3: one schedule per ingredient, the interval per label revision ------------------
def his002(findings):
    return [f for f in findings if f.rule == "HIS002"]


def test_zunovo_six_months_after_an_iv_dose_is_on_schedule(tmp_path, store):
    run(store, night(tmp_path, "a.edi", "837P", claim_text("837P", "C1", "20251124")))
    [found] = run(store, night(tmp_path, "b.edi", "837P",
                               claim_text("837P", "C2", "20260525", 920, "J2351")))
    assert his002(found) == []
    assert ("HIS003", "C2") not in codes(found)  # not the first ocrelizumab dose seen


def test_zunovo_100_days_after_a_600_mg_iv_dose_is_his002(tmp_path, store):
    run(store, night(tmp_path, "a.edi", "837P", claim_text("837P", "C1", "20251124")))
    [found] = run(store, night(tmp_path, "b.edi", "837P",
                               claim_text("837P", "C2", "20260304", 920, "J2351")))
    [warning] = his002(found)
    assert warning.severity == "warning" and warning.hcpcs == "J2351"
    assert warning.value == "100"
    assert warning.message.startswith(
        "J2351: 920 units on 2026-03-04, 100 days after J2350 600 units on claim C1 on "
        "2025-11-24 (the same ingredient, ocrelizumab); the label's interval is 6 months")


@pytest.mark.parametrize("first, second, flagged, revision", [
    # before the 5/2026 revision: "at least 5 months" (150 days)
    ("20251001", "20260228", False, None),  # 150 days
    ("20251001", "20260223", True, "before the 5/2026 revision"),  # 145 days
    # from 5/2026: "at least 20 weeks" (140) or "5 months" (150): flagged under 150
    ("20260101", "20260601", False, None),  # 151 days
    ("20260101", "20260526", True, "of 5/2026"),  # 145 days: too soon under one wording
])
def test_the_interval_is_the_label_revisions_on_the_date_of_service(
        tmp_path, store, first, second, flagged, revision):
    run(store, night(tmp_path, "a.edi", "837P", claim_text("837P", "C1", first)))
    [found] = run(store, night(tmp_path, "b.edi", "837P", claim_text("837P", "C2", second)))
    assert bool(his002(found)) == flagged
    if flagged:
        message = his002(found)[0].message
        assert f"Ocrevus label {revision}" in message
        if revision == "of 5/2026":  # both wordings, with their sources
            assert '"Doses of OCREVUS must be separated by at least 20 weeks" (140 days' \
                in message and "at least 5 months\" (150 days" in message
            assert "sources disagree, flagged under the longer (150 days)" in message


def test_each_label_wording_in_the_table_has_its_source():
    schedule = TABLE.drug("J2350").schedule
    assert [i.valid_to for i in schedule.label_intervals if i.valid_to] and \
        [i.valid_from for i in schedule.label_intervals if i.valid_from]
    for revision in schedule.label_intervals:
        for wording in revision.wordings:
            assert wording.provenance.source and wording.provenance.confidence
    assert TABLE.drug("J2351").schedule.ingredient == schedule.ingredient == "ocrelizumab"


# -- item 11: a replacement that changes nothing makes no new schedule pair ----------------
def test_a_replacement_keeping_date_code_and_units_is_no_new_pair(tmp_path, store):
    run(store, night(tmp_path, "a.edi", "837P", claim_text("837P", "C1", "20251001", 300)))
    [late] = run(store, night(tmp_path, "b.edi", "837P",
                              claim_text("837P", "C2", "20251105", 300)))
    assert [(f.rule, f.claim_id) for f in his002(late)] == [("HIS002", "C2")]  # 35 days
    # PASS: C1 replaced with the same date, code and units: already judged
    [again] = run(store, night(tmp_path, "c.edi", "837P",
                               claim_text("837P", "C1", "20251001", 300, frequency="7")))
    assert his002(again) == []
    # FAIL: a replacement that moves the dose is a new pair, judged again
    [moved] = run(store, night(tmp_path, "d.edi", "837P",
                               claim_text("837P", "C2", "20251108", 300, frequency="7")))
    assert [(f.rule, f.claim_id) for f in his002(moved)] == [("HIS002", "C2")]


# -- item 10: DOC001, the first-dose note, only on a first dose of the primary claim -------
def doc001(findings):
    return [f for f in findings if f.rule == "DOC001"]


def test_doc001_not_on_a_600_mg_maintenance_dose_seen_first(tmp_path, store):
    # FAIL before: the history's first dose of a member, 600 mg, got the note
    [found] = run(store, night(tmp_path, "a.edi", "837P", claim_text("837P", "C1", "20251124")))
    assert codes(found) == [("HIS003", "C1")]
    # PASS: a first 300 mg dose gets it, on the first dose seen
    [first] = run(store, night(tmp_path, "b.edi", "837P", claim_text("837P", "C9", "20251124",
                                                                     300), filing="CI"))
    [note] = doc001(first)
    assert "first J2350 dose seen for this member" in note.message and note.value == "300"


@pytest.mark.parametrize("with_store", [False, True])
def test_doc001_not_on_a_secondary_or_medigap_claim(tmp_path, store, with_store):
    primary = claim_text("837P", "C1", "20251124", 300)
    secondary = primary.replace("CLM*C1*", "CLM*C2*")
    path = tmp_path / "secondary.edi"
    # a Medigap supplement after Medicare: SBR01 S, the supplement's plan as payer
    path.write_text(wrap_claims(secondary, payer_id="MEDIGAP01", filing="CI")
                    .replace("SBR*P*18*", "SBR*S*18*"))
    [found] = run(store if with_store else None, path)
    assert doc001(found) == []
    [found] = run(store if with_store else None,
                  night(tmp_path, "primary.edi", "837P", primary, filing="CI", payer="PLAN01"))
    assert len(doc001(found)) == 1


def test_doc001_not_on_a_void(tmp_path):
    [found] = run(None, night(tmp_path, "a.edi", "837P",
                              claim_text("837P", "C1", "20251124", 300, frequency="8")))
    assert doc001(found) == []
    [found] = run(None, night(tmp_path, "b.edi", "837P",
                              claim_text("837P", "C1", "20251124", 300)))
    assert len(doc001(found)) == 1 and "likely an initial dose" in doc001(found)[0].message


def test_a_claim_shape_never_carries_doc001_from_a_secondary_to_a_primary(tmp_path):
    """The same claim as secondary first, then as primary, in one file: the claim
    shape cache must tell them apart (SBR01 and CLM05-3 are in the shape)."""
    secondary = claim_text("837P", "C1", "20251124", 300)
    body = wrap_claims(secondary).replace("SBR*P*18*", "SBR*S*18*")
    # a second subscriber loop, primary, with the same claim shape
    extra = ("HL*3*1*22*0~\nSBR*P*18*******CI~\nNM1*IL*1*ROE*SAM****MI*SYN000000002~\n"
             "N3*1 TEST LANE~\nN4*SPRINGFIELD*IL*627010000~\nDMG*D8*19700101*M~\n"
             "NM1*PR*2*SYNTHETIC PAYER*****PI*PLAN01~\n" +
             "~\n".join(line for line in secondary.replace("CLM*C1*", "CLM*C2*").strip()
                        .splitlines()) + "~\n")
    segments = body.split("SE*")
    count = int(segments[1].split("*")[0]) + extra.count("~")
    text = segments[0] + extra + f"SE*{count}*" + segments[1].split("*", 1)[1]
    path = tmp_path / "both.edi"
    path.write_text(text)
    [found] = run(None, path)
    assert [(f.rule, f.claim_id) for f in doc001(found)] == [("DOC001", "C2")]


def test_one_claim_with_both_codes_on_two_dates_is_judged_as_one_molecule(tmp_path):
    both = claim_text("837P", "C1", "20260115") + "\n".join(
        claim_text("837P", "X", "20260301", 920, "J2351").strip().splitlines()[6:]) + "\n"
    both = both.replace("LX*1\nSV1*HC:J2351", "LX*2\nSV1*HC:J2351")
    [found] = run(None, night(tmp_path, "a.edi", "837P", both))
    assert [(f.rule, f.hcpcs, f.value) for f in his002(found)] == [("HIS002", "J2351", "45")]
    # PASS: the same two codes six months apart
    apart = both.replace("DTP*472*D8*20260301", "DTP*472*D8*20260720")
    [found] = run(None, night(tmp_path, "b.edi", "837P", apart))
    assert his002(found) == []
