"""A procedure code written in lower case ("j2350"): judged as the code it means, and
held (EDI007), never passed over as a line no rule reads.  A new user's Medicaid claim
billing "j2350" with a Zunovo NDC, 900 units and bare G35 after 2025-10-01 came out
clean, exit 0."""
import json

import pytest
from fast_support import VISIT, assert_same, billing, claim, envelope, subscriber

from edi837.cli import main

MEDICAID_J2350_LOWER = [
    "HL*1**20*1", "NM1*85*2*CLINIC*****XX*1234567893",
    "HL*2*1*22*0", "SBR*P*18*******MC", "NM1*IL*1*DOE*JANE****MI*SYN000000001",
    "DMG*D8*19800101*F", "NM1*PR*2*STATE MEDICAID*****PI*99904",
    "CLM*C1*1200***11:B:1*Y*A*Y*Y", "HI*ABK:G35A",
    "LX*1", "SV1*HC:{code}:JZ*1200*UN*600***1", "DTP*472*D8*20260115",
    "LX*2", "SV1*HC:96413*500*UN*1***1", "DTP*472*D8*20260115",
]


def run(tmp_path, code, composite=None):
    path = tmp_path / "claim.edi"
    segments = [s.format(code=code) for s in ["ST*837*0001*005010X222A1",
                                              *MEDICAID_J2350_LOWER]]
    if composite is not None:  # the drug line's SV101 as given
        segments = [f"SV1*{composite}*1200*UN*600***1" if s.startswith("SV1*HC:J2350")
                    else s for s in segments]
    path.write_text(envelope(segments))
    out = tmp_path / "r.json"
    try:
        main(["check", str(path), "--format", "json", "-o", str(out)],
             standalone_mode=False)
        status = 0
    except SystemExit as exc:
        status = exc.code
    report = json.loads(out.read_text())
    return status, report["files"][0]["findings"]


def test_a_lower_case_drug_code_is_judged_as_the_code_and_held(tmp_path):
    status, findings = run(tmp_path, "j2350")
    by_rule = {f["rule"]: f for f in findings}
    assert "EDI007" in by_rule
    assert "procedure code 'j2350' not as payers read codes" in by_rule["EDI007"]["message"]
    assert by_rule["EDI007"]["hcpcs"] == "J2350"
    # the J2350 rules ran on it: Medicaid wants the NDC on every drug line
    assert by_rule["NDC001"]["severity"] == "error" and by_rule["NDC001"]["hcpcs"] == "J2350"
    assert status == 1


def test_the_same_claim_upper_case_has_no_reader_finding(tmp_path):
    status, findings = run(tmp_path, "J2350")
    rules = {f["rule"] for f in findings}
    assert "EDI007" not in rules and "NDC001" in rules  # the claim's own verdict, unchanged


def test_the_fast_path_finds_a_claim_whose_only_drug_line_is_lower_case(monkeypatch):
    body = ["ST*837*0001*005010X222A1", *billing(1)]
    number = 2
    for k in range(40):
        body += subscriber(number, 1)
        lines = [VISIT] if k != 23 else [VISIT, VISIT.replace("99213", "j2350:jz")]
        body += claim(f"C{k}", *lines)
        number += 1
    full = assert_same(envelope(body).encode(), monkeypatch, chunks=(None, 301))
    assert len(full["drug claims"]) == 1 and "C23" in full["drug claims"][0]
    assert any("procedure code 'j2350' not as payers read" in f for f in full["findings"])


@pytest.mark.parametrize("composite, said", [
    ("HC:J2350 :JZ", "procedure code 'J2350 '"),
    ("HC: J2350:JZ", "procedure code ' J2350'"),
    ("HC:J2350\t:JZ", "procedure code 'J2350\\t'"),
    ("hc:J2350:JZ", "qualifier 'hc'"),
])
def test_codes_padded_or_in_lower_case_are_held_and_read_as_meant(tmp_path, composite, said):
    status, findings = run(tmp_path, "J2350", composite=composite)
    edi007 = [f for f in findings if f["rule"] == "EDI007"]
    assert len(edi007) == 1 and said in edi007[0]["message"], edi007
    assert "read as HC:J2350:JZ" in edi007[0]["message"]
    assert any(f["rule"] == "NDC001" and f["hcpcs"] == "J2350" for f in findings)
    assert status == 1


def test_a_modifier_with_a_space_is_not_told_to_add_jz_again(tmp_path):
    """'JZ ' is JZ with a stray space: held as written, not 'neither JW nor JZ: add JZ'
    (whose fix wrote SV1*HC:J2350:JZ :JZ into the accepted file)."""
    status, findings = run(tmp_path, "J2350", composite="HC:J2350:JZ ")
    rules = {f["rule"] for f in findings}
    assert "MOD001" not in rules
    edi007 = [f for f in findings if f["rule"] == "EDI007"]
    assert len(edi007) == 1 and "modifier 'JZ '" in edi007[0]["message"]
    assert status == 1


def test_the_fast_path_finds_a_drug_code_after_a_space(monkeypatch):
    body = ["ST*837*0001*005010X222A1", *billing(1)]
    for k in range(30):
        body += subscriber(k + 2, 1)
        lines = [VISIT] if k != 11 else [VISIT, VISIT.replace("HC:99213", "HC: J2350:JZ")]
        body += claim(f"C{k}", *lines)
    full = assert_same(envelope(body).encode(), monkeypatch, chunks=(None, 257))
    assert len(full["drug claims"]) == 1 and "C11" in full["drug claims"][0]
