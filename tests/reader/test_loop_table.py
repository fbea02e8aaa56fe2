"""The reader's loop table (edi837.reader.loop_table) is the 5010 guides' loops as
pyx12 keeps them, and each loop segment goes to the handler of the loop it is in."""
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import pyx12

from edi837.model import INSTITUTIONAL, PROFESSIONAL
from edi837.reader.claims import ClaimReader
from edi837.reader.loop_table import LOOPS, READS, STATES
from edi837.x12.fragment import wrap_claims

MAPS = {PROFESSIONAL: "837.5010.X222.A1.xml", INSTITUTIONAL: "837Q3.I.5010.X223.A1.v2.xml"}


def pyx12_loops(kind: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """loop id -> (its first segment's id, the codes its first element may have) from
    pyx12's map (ISA/GS/ST loops aside; the 2300 ... loops under 2000B and 2000C are
    the same loops)."""
    root = ET.parse(Path(pyx12.__file__).parent / "map" / MAPS[kind]).getroot()
    loops = {}
    for loop in root.iter("loop"):
        first = loop.find("segment")
        if first is None:
            continue
        element = first.find("element")
        codes = element.find("valid_codes") if element is not None else None
        loops[loop.get("xid")] = (first.get("xid"), tuple(
            code.text for code in codes.findall("code")) if codes is not None else ())
    return loops


@pytest.mark.parametrize("kind", [PROFESSIONAL, INSTITUTIONAL])
def test_every_loop_of_the_table_is_pyx12s_with_its_opening_segment_and_codes(kind):
    guide = pyx12_loops(kind)
    assert len(guide) > 30  # the map was read
    for loop, segment, codes, _, _ in LOOPS[kind]:
        assert loop in guide, f"{kind} {loop} is no loop of pyx12's map"
        assert guide[loop][0] == segment, (kind, loop)
        if loop.startswith("2000"):  # HL: pyx12 tells the levels apart by HL03, not HL01
            assert codes in (("20",), ("22",), ("23",))
        else:
            assert codes == guide[loop][1], (kind, loop)


def test_a_provider_loop_of_one_guide_is_not_read_as_one_of_the_other():
    # 837P 2310B rendering is NM1*82; 837I's 2310A attending (71) is not an 837P loop
    professional = {entity for _, segment, codes, _, attr in LOOPS[PROFESSIONAL]
                    if attr == "attending" for entity in codes}
    assert professional == set()
    institutional = {entity for _, segment, codes, _, attr in LOOPS[INSTITUTIONAL]
                     if attr == "attending" for entity in codes}
    assert institutional == {"71"}


def test_every_state_has_a_handler_table_whose_handlers_are_the_readers_methods(tmp_path):
    assert sorted(READS) == list(range(len(STATES)))
    path = tmp_path / "empty.edi"
    path.write_bytes(b"")
    reader = ClaimReader(path)
    for reads in READS.values():
        for handler in reads.values():
            assert callable(getattr(reader, handler))
        # HL, CLM, LX and SV1/SV2 open their loops wherever they come
        assert {"HL", "CLM", "LX", "SV1", "SV2"} <= set(reads)


def test_an_nm1_82_is_the_claims_rendering_provider_in_2310_and_not_in_2330(read):
    claims, _ = read("""
CLM*C1*100***11:B:1*Y*A*Y*Y
NM1*82*1*CLAIMRENDER*RAY****XX*1234567893
SBR*S*18*******MB
NM1*IL*1*OTHER*SUB****MI*X1
NM1*82*1*OTHERPAYER*RENDER****XX*1999999992
LX*1
SV1*HC:J2350:JZ*100*UN*600***1
NM1*82*1*LINERENDER*LEE****XX*1588667638
DTP*472*D8*20260115
""")
    claim = claims[0]
    assert claim.rendering.name == "CLAIMRENDER"  # the 2330D one is the other payer's
    assert claim.lines[0].rendering.name == "LINERENDER"  # 2420A
    assert claim.lines[0].service_date == ""  # DTP after 2420A: not the line's 2400 DTP


def test_in_an_837i_nm1_71_is_the_attending_provider_and_82_the_rendering(read):
    claims, _ = read("""
CLM*C1*100***13:A:1**A*Y*Y
NM1*71*1*ATTEND*ANN****XX*1234567893
NM1*82*1*RENDER*RAY****XX*1588667638
LX*1
SV2*0636*HC:J2350:JZ*100*UN*600
DTP*472*D8*20260115
""", kind="837I")
    claim = claims[0]
    assert (claim.attending.loop, claim.attending.name) == ("2310A", "ATTEND")
    assert (claim.rendering.loop, claim.rendering.name) == ("2310D", "RENDER")


def test_a_reader_is_freed_when_dropped_not_kept_by_its_handler_table(tmp_path):
    """The handler tables hold the class's functions, not the reader's bound methods:
    a reader (with its open file and findings) goes with its last reference, without
    waiting for the cycle collector."""
    import gc
    import weakref

    path = tmp_path / "one.edi"
    path.write_text(wrap_claims("CLM*C1*100***11:B:1*Y*A*Y*Y\nLX*1\nSV1*HC:99213*100*UN*1"))
    enabled = gc.isenabled()
    gc.disable()
    try:
        reader = ClaimReader(path)
        assert len(list(reader.claims())) == 1
        gone = weakref.ref(reader)
        del reader
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_a_subclass_override_of_a_handler_is_the_one_its_readers_call(tmp_path):
    path = tmp_path / "one.edi"
    path.write_text(wrap_claims("CLM*C1*100***11:B:1*Y*A*Y*Y\nHI*ABK:G35A"))
    seen = []

    class Counting(ClaimReader):
        def _on_diagnoses(self, s, fields, index):
            seen.append(index)
            super()._on_diagnoses(s, fields, index)

    claim, = Counting(path).claims()
    assert len(seen) == 1 and claim.diagnoses[0].code == "G35A"
    assert claim.diagnoses == next(ClaimReader(path).claims()).diagnoses
