"""One claim-boundary rule (edi837.reader.boundaries): the claim reader, the walker
itself and fix's routing (edi837.fix.route.ClaimWalk) put every claim of an odd file
at the same segments: glued segments, HL cascades, a bare 'HL', claims under a
billing provider with no subscriber HL, a set cut short."""
import pytest

from edi837.fix.route import ClaimWalk, SplitError
from edi837.reader.boundaries import ClaimBoundaries
from edi837.reader.claims import ClaimReader
from edi837.x12.writer import RawSegmentReader

LINE = "LX*1~SV1*HC:J2350:JZ*100*UN*600***1~DTP*472*D8*20260115"


def claim(claim_id: str) -> str:
    return f"CLM*{claim_id}*100***11:B:1*Y*A*Y*Y~HI*ABK:G35A~{LINE}"


SUBSCRIBER = ("SBR*P*18*******MB~NM1*IL*1*DOE*JANE****MI*SYN000000001~"
              "NM1*PR*2*SYNTHETIC PAYER*****PI*PAYER01")
CASCADE = "~".join([  # 20 > 22 > 23 > 23, back to 22, a new 20 > 22 > 23
    claim("C1"), "HL*3*2*23*0", "PAT*01", "NM1*QC*1*KID*ONE", claim("C2"), claim("C3"),
    "HL*4*2*23*0", "NM1*QC*1*KID*TWO", claim("C4"),
    f"HL*5*1*22*0~{SUBSCRIBER}", claim("C5"),
    "HL*6**20*1~NM1*85*2*OTHER CLINIC*****XX*1234567893",
    f"HL*7*6*22*1~{SUBSCRIBER}", "HL*8*7*23*0~NM1*QC*1*KID*THREE", claim("C6")])
GLUED = "~".join([  # a CLM and an HL with the terminator before them lost: no boundary
    claim("C1"), "DTP*472*D8*20260115CLM*C2*100***11:B:1*Y*A*Y*Y", LINE,
    "REF*6R*1HL*3*2*23*0", claim("C3")])
BARE_HL = "~".join([claim("C1"), "HL", "NM1*82*1*RENDER*RAY****XX*1234567893", claim("C2")])


def envelope(body: str, *, subscriber: bool = True, se: bool = True) -> bytes:
    """An interchange around ``body`` (billing provider HL 1 and, unless said not,
    subscriber HL 2 before it)."""
    segments = ["ISA*00*          *00*          *ZZ*EDI837SUBMIT   *ZZ*EDI837RECEIVE  "
                "*261101*1200*^*00501*000000001*0*T*:",
                "GS*HC*EDI837SUBMIT*EDI837RECEIVE*20261101*1200*1*X*005010X222A1",
                "ST*837*0001*005010X222A1", "BHT*0019*00*BATCH0001*20261101*1200*CH",
                "NM1*41*2*SUBMITTER*****46*SUB0001", "NM1*40*2*RECEIVER*****46*REC0001",
                "HL*1**20*1", "NM1*85*2*SYNTHETIC CLINIC*****XX*1234567893"]
    if subscriber:
        segments += [f"HL*2*1*22*1~{SUBSCRIBER}"]
    segments += body.split("~")
    segments = "~".join(segments).split("~")
    if se:
        segments.append(f"SE*{len(segments) - 1}*0001")
    segments += ["GE*1*1", "IEA*1*000000001"]
    return ("~\n".join(segments) + "~\n").encode()


def by_reader(path) -> list[tuple[int, int]]:
    return [(c.first_index, c.last_index) for c in ClaimReader(path).claims()]


def by_walker(path) -> list[tuple[int, int, bool]]:
    bounds, spans, last = ClaimBoundaries(), [], 0
    for segment in RawSegmentReader(path):
        ended = bounds.step(segment.index, segment.tag, segment.text)
        if ended is not None:
            spans.append(ended)
        if segment.tag == "ST":
            bounds.read_set(segment.fields[1] == "837")
        last = segment.index
    ended = bounds.finish(last)
    return spans + ([ended] if ended is not None else [])


def by_routing(path) -> list[tuple[int, int]]:
    spans = []

    class Spans(ClaimWalk):
        def claim_routed(self, routed, envelope, hierarchy, segments):
            spans.append((segments[0].index, segments[-1].index))

    list(Spans(path, []).claims())
    return spans


@pytest.mark.parametrize("body, claims", [(CASCADE, 6), (GLUED, 2), (BARE_HL, 2)],
                         ids=["hl-cascade", "glued-clm-and-hl", "bare-hl"])
def test_reader_walker_and_routing_agree_on_every_claims_segments(tmp_path, body, claims):
    path = tmp_path / "odd.edi"
    path.write_bytes(envelope(body))
    spans = by_reader(path)
    assert len(spans) == claims
    assert [(first, last) for first, last, complete in by_walker(path) if complete] == spans
    assert by_routing(path) == spans


def test_a_bare_hl_is_inside_the_claim_not_the_start_of_a_level(tmp_path):
    path = tmp_path / "bare.edi"
    path.write_bytes(envelope(BARE_HL))
    (first, last), _ = by_reader(path)
    hl = next(s.index for s in RawSegmentReader(path) if s.text == "HL")
    assert first < hl <= last  # the claim before it runs on past it


def test_claims_under_a_billing_provider_with_no_subscriber_hl(tmp_path):
    # the reader reads them (EDI007 says no subscriber), the walker places them the
    # same; routing refuses the file rather than guess their subscriber
    path = tmp_path / "no22.edi"
    path.write_bytes(envelope("~".join([claim("C1"), claim("C2")]), subscriber=False))
    spans = by_reader(path)
    assert len(spans) == 2
    assert [(first, last) for first, last, _ in by_walker(path)] == spans
    with pytest.raises(SplitError, match="no billing provider or subscriber HL"):
        by_routing(path)


def test_a_set_cut_short_ends_its_claim_unfinished(tmp_path):
    path = tmp_path / "cut.edi"
    path.write_bytes(envelope("~".join([claim("C1"), claim("C2")]), se=False))
    reader = ClaimReader(path)
    spans = [(c.first_index, c.last_index) for c in reader.claims()]
    walked = by_walker(path)
    assert [(first, last) for first, last, complete in walked if complete] == spans
    assert len(spans) == 1 and not walked[-1][2]  # C2 ends at the GE, dropped
    assert reader.incomplete_claims == 1
