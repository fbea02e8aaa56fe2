"""The claim reader's usual segments, tested in place (a claim made by position, a line's
SV1/SV2 and a CLM judged without a call where nothing is wrong): the same claims and
findings as the general path they stand in for."""
import itertools

import pytest

from edi837.model import Claim, Envelope
from edi837.reader.claims import ClaimReader
from edi837.reader.loops import claim_problem, new_claim
from edi837.reader.state import ReadState
from edi837.x12.fragment import wrap_claims


def test_a_claim_made_by_position_is_the_claim_made_by_keyword():
    envelope = Envelope("x.edi", "1", "2", "0001", "005010X222A1", "837P")
    fields = ["CLM", "A-1", "9500", "", "", "11:B:1", "Y", *[""] * 10]
    assert new_claim(fields, 7, ":", envelope) == Claim(
        envelope=envelope, claim_id="A-1", clm_index=7, charge="9500", facility_code="11",
        facility_qualifier="B", frequency="1", first_index=7)
    # (equal, yet not sharing a list or dict with another claim)
    one, two = (new_claim(fields, 7, ":", envelope) for _ in range(2))
    one.lines.append(None)
    one.diagnoses.append(None)
    one.hi_unread.append(None)
    one.dates["472"] = "20260115"
    assert two == new_claim(fields, 7, ":", envelope)


class _Reference(ClaimReader):
    """Every SV1/SV2 through the general path (_service, _service_segment)."""

    def _on_service(self, s: ReadState, fields, index):
        claim = s.claim
        if claim is None:
            claim = self._orphan(s, fields, index)
        line = s.line
        if s.loop == 6 and line is not None and not line.segment_id:  # LINE
            self._service(fields, index, line, claim, s.component, s.held)
        else:
            s.line = self._service_segment(fields, index, line, claim, s.loop == 6,
                                           s.component, s.held)
        s.drug, s.loop = None, 6


COMPOSITES = {"837P": ["HC:J2350:JZ", "hc:j2350", "HC:J2350 ", "HC", "HC:", "HC:J2350:JZ\t",
                       "HC: J2350", "HC:99213:25:59"],
              "837I": ["HC:J2350:JZ", "hc:j2350", "HC", "", "HC:J2350 :JZ"]}
NUMBERS = ["9000", "90.50", "", "1E2", "\u00b2", "0" * 18, "0" * 19, "-5", " 900", "6_00",
           "\u0661\u0662"]


def _lines(kind: str) -> str:
    lines = []
    cases = itertools.product(COMPOSITES[kind], NUMBERS,
                              ["600", "1.5", "", "x", "\u00b3", "0" * 19, "\u0663"])
    for number, (composite, charge, units) in enumerate(cases, 1):
        service = f"SV1*{composite}*{charge}*UN*{units}***1" if kind == "837P" \
            else f"SV2*0636*{composite}*{charge}*UN*{units}"
        lines += [f"LX*{number}", service, "DTP*472*D8*20260115"]
    return "\n".join(lines)


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_lines_read_in_place_are_the_general_paths(edi_file, kind):
    text = ("CLM*A-1*9500***11:B:1*Y*A*Y*Y" if kind == "837P"
            else "CLM*A-1*9500***13:A:1**A*Y*Y") + "\nHI*ABK:G35\n" + _lines(kind)
    # (UTF-16: digits other than 0-9 reach the reader as they are)
    path = edi_file(wrap_claims(text, kind).encode("utf-16"), wrap=False)
    read = []
    for reader_class in (ClaimReader, _Reference):
        reader = reader_class(path, drug_codes={"J2350"})
        claims = list(reader.claims())
        read.append(([(f.rule, f.message, f.segment_index) for f in reader.findings],
                     [line for claim in claims for line in claim.lines]))
    assert read[0] == read[1]
    findings, lines = read[0]
    assert len(lines) >= 385
    assert sum(rule == "EDI007" for rule, _, _ in findings) > 200


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_a_clm_judged_in_place_is_judged_as_claim_problem_judges_it(read, kind):
    charges = ["9500", "95.5", "", "1E2", "\u00b2", "\u0661", "0" * 18, "0" * 19, "-5", "95 "]
    facilities = ["11:B:1", "131", "13:A:1", "1", ""]
    text = "\n".join(f"CLM*C{n}*{charge}***{facility}*Y*A*Y*Y\nLX*1\nSV1*HC:J2350*1*UN*1***1"
                     for n, (charge, facility) in enumerate(
                         itertools.product(charges, facilities)))
    claims, reader = read(wrap_claims(text, kind).encode("utf-16"), wrap=False)
    said = {f.claim_id: f.message for f in reader.findings if f.segment == "CLM"}
    judged = {claim.claim_id: problem[0] for claim in claims
              if (problem := claim_problem(claim, False, None)) is not None}
    assert said == judged
    assert len(judged) >= 20
