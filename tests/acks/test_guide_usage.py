"""Issue 24 item 19: an element the implementation guide lets a sender omit never
makes an EDI007 error (nor holds a claim), on the fast path and the full reader alike.
The usage (required / situational) is pyx12's, read from its 5010 maps."""
import os
import xml.etree.ElementTree as ET

import pytest
import pyx12
from fast_support import assert_same, claim, envelope
from pyx12check import pyx12_verdict

from edi837.reader.claims import ClaimReader
from edi837.x12.fragment import header_segments

MAPS = os.path.join(os.path.dirname(pyx12.__file__), "map")
DRUG_I = "SV2*0636*HC:J2350:JZ*9000*UN*600"


def usage(map_name: str, segment: str, element: str) -> str:
    """The usage (R/S/N) of ``element`` of ``segment`` in the 2400 loop of a pyx12 map."""
    tree = ET.parse(os.path.join(MAPS, map_name))
    for seg in tree.iter("segment"):
        if seg.get("xid") == segment:
            for elem in seg:
                if elem.get("xid") == element:
                    return elem.get("usage") or elem.findtext("usage")
    raise LookupError(segment + element)


def institutional(*lines: str) -> bytes:
    body = header_segments("837I") + ["CLM*I1*10200***13:A:1**A*Y*Y",
                                        "DTP*434*RD8*20260115-20260115",
                                        "CL1*1*1*01", "HI*ABK:G35A",
                                        "NM1*71*1*ATTENDING*AL****XX*1234567893"]
    for number, line in enumerate(lines, 1):
        body += [f"LX*{number}", line, "DTP*472*D8*20260115"]
    return envelope(body, kind="837I").encode()


def edi007(data: bytes, fast: bool) -> list:
    import io
    reader = ClaimReader("input.edi", io.BytesIO(data), drug_codes=("J2350",), fast=fast)
    list(reader.claims())
    return [f for f in reader.findings if f.rule == "EDI007"]


def test_sv202_is_situational_in_the_837i_guide_and_required_sv101_in_the_837p():
    assert usage("837Q3.I.5010.X223.A1.xml", "SV2", "SV202") == "S"
    assert usage("837.5010.X222.A1.xml", "SV1", "SV101") == "R"


@pytest.mark.parametrize("fast", [False, True])
def test_a_revenue_code_only_line_in_an_837i_drug_claim_is_no_error(fast, tmp_path):
    data = institutional(DRUG_I, "SV2*0120**1200*DA*2")
    path = tmp_path / "rev.edi"
    path.write_bytes(data)
    ok, errors = pyx12_verdict(path)
    assert ok, errors  # the guide (pyx12) accepts the line
    assert edi007(data, fast) == []


def test_revenue_code_only_lines_read_alike_both_ways(monkeypatch):
    data = institutional(DRUG_I, "SV2*0120**1200*DA*2", "SV2*0250**35*UN*1")
    assert_same(data, monkeypatch, chunks=(None, 61))


@pytest.mark.parametrize("fast", [False, True])
def test_an_837p_line_without_its_procedure_composite_is_still_an_error(fast):
    body = header_segments("837P") + claim("P1", "SV1*HC:J2350*9000*UN*600***1",
                                           "SV1**100*UN*1***1")
    found = edi007(envelope(body).encode(), fast)
    assert [f.message for f in found] == ["malformed SV1: no procedure code composite"]


def test_the_revenue_code_only_claim_is_not_held(tmp_path):
    from click.testing import CliRunner

    from edi837.cli import main
    path = tmp_path / "rev.edi"
    path.write_bytes(institutional(DRUG_I, "SV2*0120**1200*DA*2"))
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert "EDI007" not in result.output
    assert result.exit_code in (0, 1)


@pytest.mark.parametrize("fast", [False, True])
def test_an_sv202_with_a_qualifier_and_no_code_is_still_an_error(fast):
    # SV202 is situational, but once sent its SV202-02 is required.
    found = edi007(institutional(DRUG_I, "SV2*0120*HC*1200*DA*2"), fast)
    assert [f.message for f in found] == ["malformed SV2: no procedure code composite"]
