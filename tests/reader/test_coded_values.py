"""A code value in lower case or padded ("mb", "MB " in SBR09; CLM05-2, NM108, REF01,
the DTP qualifiers, ...): pyx12 and the payer reject the set ("is not a valid code"),
so the reader holds what it concerns (EDI007, naming the element and the value) and
judges the claim as the code meant.  `fix --split` forwarded such a set as accepted."""
import json
import random
import re
from pathlib import Path

import pytest
from fast_support import DRUG, VISIT, assert_same, billing, claim, envelope, subscriber
from pyx12check import pyx12_verdict

from edi837.cli import main
from edi837.x12 import code_lists

SAMPLES = Path(__file__).parents[2] / "samples"
CLEAN = (SAMPLES / "837p-j2350-clean.edi").read_text()
CLEAN_I = (SAMPLES / "837i-j2350-clean.edi").read_text()


def check(tmp_path, text: str) -> tuple[int, list[dict]]:
    path = tmp_path / "in.edi"
    path.write_text(text)
    out = tmp_path / "r.json"
    try:
        main(["check", str(path), "--format", "json", "-o", str(out)], standalone_mode=False)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.read_text())["files"][0]["findings"]


def test_the_code_lists_are_those_of_pyx12s_maps():
    """code-lists.json is written from pyx12's maps; the installed pyx12 says the same."""
    shipped = json.loads((Path(code_lists.__file__).with_name(code_lists.DATA_FILE))
                         .read_text())
    assert shipped == code_lists.from_pyx12()
    assert "MB" in shipped["lists"]["837P"]["SBR"]["09"]
    assert shipped["lists"]["837P"]["CLM"]["05-02"] == ["B"]


# (text, as sent, the element named, the claim named: an HL loop's finding is the first
# claim's under it, trial 7): one sample segment each
CASES = [
    ("SBR*P*18*******MB~", "SBR*P*18*******mb~", "SBR09 'mb'", "CLEAN-P1-A"),
    ("SBR*P*18*******MB~", "SBR*P*18*******MB ~", "SBR09 'MB '", "CLEAN-P1-A"),
    ("SBR*P*18*******MB~", "SBR*p*18*******MB~", "SBR01 'p'", "CLEAN-P1-A"),
    ("CLM*CLEAN-P1-A*16240***11:B:1", "CLM*CLEAN-P1-A*16240***11:b:1", "CLM05-2 'b'",
     "CLEAN-P1-A"),
    ("NM1*82*1*HOLLOWELL*MARLOWE****XX", "NM1*82*1*HOLLOWELL*MARLOWE****xx", "NM108 'xx'",
     "CLEAN-P1-A"),
    ("DTP*472*D8*20250923", "DTP*472*d8*20250923", "DTP02 'd8'", "CLEAN-P1-A"),
    ("DTP*472*D8*20250923", "DTP* 472*D8*20250923", "DTP01 ' 472'", "CLEAN-P1-A"),
    ("REF*EI*991582036", "REF*ei*991582036", "REF01 'ei'", "CLEAN-P1-A"),
    ("DMG*D8*19680412*F", "DMG*D8*19680412*f", "DMG03 'f'", "CLEAN-P1-A"),
]


@pytest.mark.parametrize("good, sent, named, claim_id", CASES)
def test_a_code_in_lower_case_or_padded_is_held(tmp_path, good, sent, named, claim_id):
    assert good in CLEAN
    status, findings = check(tmp_path, CLEAN.replace(good, sent, 1))
    edi007 = [f for f in findings if f["rule"] == "EDI007"]
    assert len(edi007) == 1, edi007
    assert edi007[0]["message"].startswith(f"{named} not as payers read codes")
    assert edi007[0]["severity"] == "error" and edi007[0]["claim_id"] == claim_id
    assert edi007[0]["segment"] == sent[:3].rstrip("*")
    assert status == 1
    ok, _ = pyx12_verdict(tmp_path / "in.edi")
    assert not ok  # (what the finding is for: pyx12 rejects it too)


def test_the_sample_as_sent_has_none(tmp_path):
    status, findings = check(tmp_path, CLEAN)
    assert status == 0 and not [f for f in findings if f["rule"] == "EDI007"]


def test_institutional_codes_too(tmp_path):
    sent = CLEAN_I.replace("SBR*P*18*******MA~", "SBR*P*18*******ma~", 1)
    assert sent != CLEAN_I
    status, findings = check(tmp_path, sent)
    assert [f["message"][:12] for f in findings if f["rule"] == "EDI007"] == ["SBR09 'ma' n"]
    assert status == 1


@pytest.mark.parametrize("good, sent, rule", [
    ("CTP****10*ML", "CTP****10*ml", "NDC006"), ("LIN**N4*50242015001", "LIN**n4*50242015001",
                                                 "NDC003")])
def test_a_drug_lines_unit_and_ndc_qualifier_stay_their_rules_with_their_fix(
        tmp_path, good, sent, rule):
    status, findings = check(tmp_path, CLEAN.replace(good, sent, 1))
    assert [f["rule"] for f in findings if f["severity"] == "error"] == [rule]
    assert status == 1


def test_lower_case_names_and_values_with_no_code_list_are_no_finding(tmp_path):
    text = CLEAN.replace("NM1*IL*1*ALDERWOOD*CASEY*J", "NM1*IL*1*Alderwood*Casey*j", 1) \
        .replace("SBR*P*18*******MB~", "SBR*P*18*******qq~", 1)  # (no code, meant or not)
    status, findings = check(tmp_path, text)
    assert not [f for f in findings if f["rule"] == "EDI007"] and status == 0


MEDICAID_NO_NDC = [
    "ST*837*0001*005010X222A1", *billing(1), "HL*2*1*22*0", "SBR*P*18*******{filing}",
    "NM1*IL*1*DOE*JANE****MI*SYN000000001", "DMG*D8*19800101*F",
    "NM1*PR*2*STATE MEDICAID*****PI*99904",
    *claim("C1", "SV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115"),
]


def test_the_claim_is_judged_as_the_code_meant(tmp_path):
    """'mc ' is Medicaid (MC): its NDC requirement is the error it is with MC."""
    verdicts = {}
    for filing in ("MC", "mc "):
        _, findings = check(tmp_path, envelope([s.format(filing=filing)
                                                for s in MEDICAID_NO_NDC]))
        verdicts[filing] = {f["rule"]: f["severity"] for f in findings}
    assert verdicts["MC"]["NDC001"] == "error" and "EDI007" not in verdicts["MC"]
    assert verdicts["mc "]["NDC001"] == "error" and verdicts["mc "]["EDI007"] == "error"


def test_split_holds_the_claims_the_code_concerns_and_forwards_a_valid_file(tmp_path):
    source = tmp_path / "in.edi"
    source.write_text(CLEAN.replace("SBR*P*18*******MB~", "SBR*P*18*******mb~", 1)
                      .replace("CLM*CLEAN-P2-A*", "CLM*CLEAN-P2-A*", 1)
                      .replace("DTP*472*D8*20250923", "DTP*472*d8*20250923", 1))
    out = tmp_path / "out"
    try:
        main(["fix", str(source), "--out-dir", str(out), "--split"], standalone_mode=False)
        status = 0
    except SystemExit as exc:
        status = exc.code
    assert status == 1
    held = json.loads((out / "in.held.json").read_text())
    held_ids = {c["claim_id"] for c in held["held"]}
    assert "CLEAN-P1-A" in held_ids  # under the SBR, with the DTP too
    assert {r["rule"] for c in held["held"] for r in c["reasons"]} == {"EDI007"}
    for part in ("accepted", "held"):
        assert (out / f"in.{part}.edi").exists()
    assert pyx12_verdict(out / "in.accepted.edi") == (True, "")
    accepted = (out / "in.accepted.edi").read_text()
    assert "*mb~" not in accepted and "*d8*" not in accepted
    ok, errors = pyx12_verdict(out / "in.held.edi")
    assert not ok and "(mb) is not a valid code" in errors


def test_the_fast_path_says_what_the_full_reader_says(monkeypatch):
    """A level's finding is said with the first drug claim under it, on both paths:
    the fast path reads a subscriber's loop only for a drug claim."""
    body = ["ST*837*0001*005010X222A1", *billing(1)]
    for k in range(30):
        lines = [VISIT, DRUG] if k % 7 == 3 else [VISIT]
        if k == 10:
            lines = [VISIT, DRUG.replace("D8", "d8")]
        level = subscriber(k + 2, 1)
        if k % 5 == 3:  # a drug claim (k 3) and others (8, 13, 18, 23, 28)
            level[1] = "SBR*p*18*******mb "
        body += level + claim(f"C{k}", *lines)
    full = assert_same(envelope(body).encode(), monkeypatch, chunks=(None, 211))
    said = [f for f in full["findings"] if "EDI007" in f]
    assert len(said) == 1 + 1, said  # subscriber 3 (C3) and C10's DTP, not C8's or C13's
    assert "SBR01 'p', SBR09 'mb '" in said[0] and "DTP02 'd8'" in said[1]


# The padded-value pattern as first written: every character tried (code_lists.padded
# finds the same matches starting at the white space only)
FIRST_PADDED = re.compile(r"[ \t][^\w \t]|[^\w \t][ \t]|[ \t]$").search


def test_padded_finds_what_the_first_pattern_found():
    pieces = ["NM1", "*", ":", "^", " ", "\t", "A", "b", "9", "_", ".", ",", "\n", "é", "·",
              "STATE MEDICAID", "MB "]
    rng = random.Random(837)
    texts = ["", " ", "\t", "A ", " A", "A *", "* A", "A \n", "A B", "A.\tB", ",  x", "_ _"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
              for _ in range(20_000)]
    for text in texts:
        assert (code_lists.padded(text) is None) == (FIRST_PADDED(text) is None), repr(text)


def test_a_readers_kept_verdicts_on_segments_with_spaces_are_the_verdicts():
    spaced: dict[str, bool] = {}
    texts = ["NM1*PR*2*STATE MEDICAID*****PI*99904", "NM1*PR*2*STATE MEDICAID *****PI*1",
             "NM1*85*2*CLINIC*****XX*1", "SBR*P*18*******mb", "DTP*472*D8*20260115\t"]
    for _ in range(2):  # the second time from what was kept
        assert [code_lists.suspect(t, spaced) for t in texts] == \
            [code_lists.suspect(t) for t in texts] == [False, True, False, True, True]
    assert spaced == {texts[0]: False, texts[1]: True}  # only those with spaces are kept
    for n in range(code_lists.SPACED_KEPT + 5):  # bounded
        code_lists.suspect(f"NM1*PR*2*PAYER {n}", spaced)
    assert len(spaced) <= code_lists.SPACED_KEPT
