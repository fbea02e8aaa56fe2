"""`validate`'s findings and summary say what its 999 says.

A TA1 between ISA and GS is a valid interchange-level segment (X12; pyx12's
x12.control.00501.xml has TA1 in ISA_LOOP beside GS_LOOP): no finding, and
the 999 accepts the set.  A transaction set the 999 rejects is named in the
summary with its claims, never "no claim held".
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837.cli.validate import validate
from edi837.validate import validate_file, write_999
from edi837.x12.fragment import ISA, fragment_segments, header_segments, wrap_claims

PROFESSIONAL = """
CLM*C1*600***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*600*UN*600***1
DTP*472*D8*20251105
LIN**N4*50242015001
CTP****20*ML
"""
TA1 = "TA1*000000101*261101*1200*A*000~\n"


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def ig(findings):
    return [(f.rule, f.segment_index, f.segment) for f in findings if f.rule.startswith("IG")]


def ack_lines(path) -> list[list[str]]:
    return [line.rstrip("~").split("*") for line in path.read_text().splitlines() if line]


def between_isa_and_gs(segment: str) -> str:
    text = wrap_claims(PROFESSIONAL)
    first_line_end = text.index("\n") + 1
    return text[:first_line_end] + segment + text[first_line_end:]


def test_a_ta1_between_isa_and_gs_is_no_finding_and_the_999_accepts(edi_file, tmp_path):
    path = edi_file(between_isa_and_gs(TA1), wrap=False, name="ta1.edi")
    assert pyx12_verdict(path)[0]  # pyx12's own verdict on the input
    assert ig(validate_file(path)) == []
    ack = write_999(path, tmp_path / "acks")
    assert ack is not None and pyx12_verdict(ack)[0]
    lines = ack_lines(ack)
    assert [s for s in lines if s[0] == "IK5"] == [["IK5", "A"]]
    assert [s[:2] for s in lines if s[0] == "AK9"] == [["AK9", "A"]]


def test_another_segment_between_isa_and_gs_is_still_a_finding(edi_file):
    # only the walker's "GS_LOOP missing" on a TA1 is passed over; another segment
    # there is the interchange's fault, a TA1's (tests/acks/test_validate_ta1.py)
    path = edi_file(between_isa_and_gs("NTE*ADD*STRAY~\n"), wrap=False)
    assert ("IGH024", 2, "NTE") in ig(validate_file(path))


def test_the_hostile_corpus_stray_ta1_validates_clean():
    from pathlib import Path

    path = Path(__file__).parent.parent / "data" / "hostile" / "stray-ta1.edi"
    assert ig(validate_file(path)) == []


def two_sets(bad_count_in_second: bool) -> str:
    """One interchange, one group, sets 0001 (claim C1) and 0002 (claims C2, C3); the
    second's SE01 wrong when asked: an envelope error no claim holds."""
    segments = [ISA.format(control="000000007")[:-1],
                "GS*HC*EDI837SUBMIT*EDI837RECEIVE*20261101*1200*5*X*005010X222A1"]
    for number, claims in ((1, ["C1"]), (2, ["C2", "C3"])):
        body = header_segments("837P", transaction=f"{number:04d}")
        for claim in claims:
            body += fragment_segments(PROFESSIONAL.replace("C1", claim))
        count = len(body) + 1 + (5 if bad_count_in_second and number == 2 else 0)
        body.append(f"SE*{count}*{number:04d}")
        segments += body
    segments += ["GE*2*5", "IEA*1*000000007"]
    return "~\n".join(segments) + "~\n"


def test_summary_names_the_set_the_999_rejects_and_its_claims(edi_file, tmp_path):
    path = edi_file(two_sets(True), wrap=False, name="sets.edi")
    result = CliRunner().invoke(validate, [str(path), "--ack", str(tmp_path / "acks"), "-q"])
    assert result.exit_code == 1, result.output
    ack = tmp_path / "acks" / "sets.999"
    assert pyx12_verdict(ack)[0]
    verdicts = [(s[2], t[1]) for s, t in zip(ack_lines(ack), ack_lines(ack)[1:], strict=False)
                if s[0] == "AK2" and t[0] == "IK5"]
    assert verdicts == [("0001", "A"), ("0002", "R")]
    assert "no claim held" not in result.output
    assert "\nno claim has an error of its own: 1 error outside any claim\n" in result.output
    assert (f"\nthe 999 rejects 1 transaction set with 2 claims: {path} set 0002 "
            "(interchange 000000007, group 5: 2 claims)") in result.output
    report = CliRunner().invoke(validate, [str(path), "--format", "json", "-q"])
    [file] = json.loads(report.output)["files"]
    assert file["rejected_sets"] == [
        {"interchange": "000000007", "group": "5", "transaction": "0002", "claims": 2}]


def test_summary_of_sets_the_999_accepts_names_none(edi_file):
    path = edi_file(two_sets(False), wrap=False)
    result = CliRunner().invoke(validate, [str(path), "-q"])
    assert result.exit_code == 0, result.output
    assert "999 rejects" not in result.output
    assert "no claim held: no error finding" in result.output
    report = CliRunner().invoke(validate, [str(path), "--format", "json", "-q"])
    assert "rejected_sets" not in json.loads(report.output)["files"][0]


def test_claims_held_by_their_own_errors_and_the_set_rejected_both_said(edi_file):
    text = two_sets(False).replace("CLM*C2*600***11:B:1*Y*", "CLM*C2*600***11:B:1*Q*")
    path = edi_file(text, wrap=False, name="own.edi")
    result = CliRunner().invoke(validate, [str(path), "-q"])
    assert result.exit_code == 1, result.output
    assert "charges held: $600.00 on 1 claim with errors (CLM02, each claim once)\n" \
        in result.output
    assert f"\nthe 999 rejects 1 transaction set with 2 claims: {path} set 0002 " \
        in result.output
