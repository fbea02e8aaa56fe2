"""Claim model: loops of 837P and 837I, both HL branches, loops read past."""
from edi837.x12.fragment import header_segments

J2350_CLAIM = """
CLM*PAT1-0001*9500***11:B:1*Y*A*Y*Y
DTP*431*D8*20250101
HI*ABK:G35A*ABF:Z79899*ABF:R531
NM1*DN*1*REFERRER*RITA****XX*1111111112
NM1*82*1*RENDERER*RON****XX*2222222220
PRV*PE*PXC*207RN0300X
NM1*77*2*SYNTHETIC INFUSION SUITE*****XX*3333333336
N3*100 EXAMPLE ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1:3
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
REF*XZ*RX12345
NM1*82*1*LINERENDER*LIA****XX*4444444442
NM1*DK*1*ORDERER*OLGA****XX*5555555558
LX*2
SV1*HC:96365*300*UN*1***1
DTP*472*D8*20260115
"""


def test_837p_claim_fields(read):
    claims, reader = read(J2350_CLAIM)
    assert [f.rule for f in reader.findings if f.severity == "error"] == []
    (claim,) = claims
    assert claim.kind == "837P"
    assert (claim.claim_id, claim.charge) == ("PAT1-0001", "9500")
    assert (claim.facility_code, claim.facility_qualifier, claim.frequency) == ("11", "B", "1")
    assert claim.payer_id == "PAYER01" and claim.filing_indicator == "MB"
    assert claim.billing_provider.npi == "1234567893"
    assert [(d.position, d.qualifier, d.code) for d in claim.diagnoses] == [
        (1, "ABK", "G35A"), (2, "ABF", "Z79899"), (3, "ABF", "R531")]
    assert claim.dates == {"431": "20250101"}
    assert (claim.referring.npi, claim.referring.loop) == ("1111111112", "2310A")
    assert (claim.rendering.npi, claim.rendering.loop) == ("2222222220", "2310B")
    assert (claim.facility.npi, claim.facility.loop) == ("3333333336", "2310C")
    drug, admin = claim.lines
    assert (drug.number, drug.segment_id, drug.qualifier, drug.procedure) == (
        "1", "SV1", "HC", "J2350")
    assert drug.modifiers == ("JZ",)
    assert (drug.charge, drug.unit_basis, drug.units, drug.pointers) == (
        "9000", "UN", "600", ("1", "3"))
    assert drug.service_date == "20260115"
    assert (drug.drug.qualifier, drug.drug.ndc, drug.drug.quantity, drug.drug.unit) == (
        "N4", "50242015001", "20", "ML")
    assert drug.drug.references == [("XZ", "RX12345")]
    assert (drug.rendering.npi, drug.rendering.loop) == ("4444444442", "2420A")
    assert (drug.ordering.npi, drug.ordering.loop) == ("5555555558", "2420E")
    assert admin.procedure == "96365" and admin.drug is None and admin.ordering is None
    # positions: the SV1 is the 11th segment of the claim fragment
    assert drug.segment_index == claim.clm_index + 10
    assert drug.drug.lin_index == drug.segment_index + 2


def test_patient_branch_2000c(edi_file):
    """A claim under a 2000C patient loop gets the 2000B subscriber's payer."""
    header = header_segments("837P")
    header[header.index("HL*2*1*22*0")] = "HL*2*1*22*1"
    body = header + ["HL*3*2*23*0", "PAT*19", "NM1*QC*1*CHILD*SAM",
                     "N3*1 TEST LANE", "N4*SPRINGFIELD*IL*627010000", "DMG*D8*20100101*M"]
    body += [s for s in J2350_CLAIM.strip().splitlines()]
    text = _envelope(body)
    from edi837.reader.claims import ClaimReader
    reader = ClaimReader(edi_file(text, wrap=False))
    (claim,) = list(reader.claims())
    assert not claim.patient_is_subscriber
    assert claim.payer_id == "PAYER01" and claim.subscriber_id == "SYN000000001"
    assert claim.lines[0].drug.ndc == "50242015001"
    assert [f.rule for f in reader.findings if f.severity == "error"] == []


def _envelope(body):
    body = list(body) + [f"SE*{len(body) + 1}*0001"]
    isa = ("ISA*00*          *00*          *ZZ*EDI837SUBMIT   *ZZ*EDI837RECEIVE  "
           "*261101*1200*^*00501*000000001*0*T*:")
    version = body[0].split("*")[3]
    return "~".join([isa, f"GS*HC*S*R*20261101*1200*1*X*{version}"] + body +
                    ["GE*1*1", "IEA*1*000000001"]) + "~"


def test_loops_the_rules_do_not_need_are_not_mistaken_for_theirs(read):
    claims, _ = read("""
CLM*C2*500***11:B:1*Y*A*Y*Y
HI*ABK:G35A
PWK*OZ*BM***AC*DOC1
SBR*S*01*******CI
NM1*IL*1*OTHER*SUB****MI*OTHERMEMBER
NM1*PR*2*OTHER PAYER*****PI*OTHERPAYER
NM1*82*1*OTHERRENDER*X****XX*9999999991
LX*1
SV1*HC:J2350:JZ*500*UN*300***1
DTP*472*D8*20260201
LIN**N4*50242015001
CTP****10*ML
SVD*OTHERPAYER*400*HC:J2350:JZ**300
DTP*573*D8*20260301
LX*2
SV1*HC:96365*300*UN*1***1
DTP*472*D8*20260201
""")
    (claim,) = claims
    assert claim.payer_id == "PAYER01"  # 2330B is another payer's, not ours
    assert claim.rendering is None  # 2330D rendering is the other payer's
    first, second = claim.lines
    assert first.service_date == "20260201"  # 2430 DTP*573 is not the service date
    assert first.date_index == first.segment_index + 1
    assert second.procedure == "96365"


def test_837i_claim(read):
    claims, reader = read("""
CLM*I-0001*9600***13:A:1**A*Y*Y
DTP*434*RD8*20260115-20260115
CL1*1*1*01
HI*ABK:G35B1
HI*ABF:Z79899*ABF:R531
HI*BH:11:D8:20260115
NM1*71*1*ATTENDING*AL****XX*1111111112
NM1*82*1*RENDERER*RON****XX*2222222220
NM1*77*2*SYNTHETIC HOSPITAL OP*****XX*3333333336
N3*100 EXAMPLE ST
N4*SPRINGFIELD*IL*627010000
NM1*DN*1*REFERRER*RITA****XX*5555555558
LX*1
SV2*0636*HC:J2350:JZ*9000*UN*600
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
NM1*82*1*LINERENDER*LIA****XX*4444444442
LX*2
SV2*0260*HC:96365*300*UN*1
""", kind="837I")
    (claim,) = claims
    assert claim.kind == "837I"
    assert claim.service_date == "20260115"
    assert [(d.position, d.qualifier, d.code) for d in claim.diagnoses] == [
        (1, "ABK", "G35B1"), (2, "ABF", "Z79899"), (3, "ABF", "R531")]
    assert claim.attending.loop == "2310A"
    assert (claim.rendering.loop, claim.facility.loop, claim.referring.loop) == (
        "2310D", "2310E", "2310F")
    drug, admin = claim.lines
    assert (drug.revenue_code, drug.procedure, drug.modifiers, drug.charge, drug.units) == (
        "0636", "J2350", ("JZ",), "9000", "600")
    assert drug.pointers == ()
    assert drug.rendering.loop == "2420C"
    assert drug.drug.ndc == "50242015001"
    assert admin.service_date == "" and claim.line_date(admin) == "20260115"
    assert [f.rule for f in reader.findings if f.severity == "error"] == []


def test_malformed_service_line_is_edi007(read):
    claims, reader = read("""
CLM*C3*500***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350*5O0*UN*3OO***1
""")
    (finding,) = [f for f in reader.findings if f.rule == "EDI007"]
    assert finding.segment == "SV1" and finding.claim_id == "C3" and finding.line_number == 1
    assert "charge '5O0'" in finding.message and "units '3OO'" in finding.message
    assert finding.segment_index == claims[0].lines[0].segment_index


def test_hl_out_of_order_is_edi007(edi_file):
    header = header_segments("837P")
    header[header.index("HL*2*1*22*0")] = "HL*3*1*22*0"
    from edi837.reader.claims import ClaimReader
    reader = ClaimReader(edi_file(_envelope(header + J2350_CLAIM.strip().splitlines()), wrap=False))
    list(reader.claims())
    (finding,) = [f for f in reader.findings if f.rule == "EDI007"]
    assert "HL01 is 3, expected 2" in finding.message
    assert finding.segment_index == 13  # ISA GS ST BHT NM1 PER NM1 HL NM1 N3 N4 REF HL


def test_the_readers_quick_number_check_agrees_with_parse_decimal():
    """The reader tells a charge or unit count is a number without parsing plain
    digits (edi837.model.is_x12_number): the same verdict as parse_decimal, which
    refuses non-ASCII digits, exponents, signs, and more digits than an 837 holds."""
    from edi837.model import is_x12_number, parse_decimal

    texts = ["", "0", "600", "31200", "1.5", ".5", "5.", "-3", "-", ".", "6E2", "+600",
             "6_00", " 600", "600 ", "\u00b2", "\u0663\u0660", "1" * 18, "1" * 19,
             "-" + "1" * 18, "1" * 17 + ".5", "1" * 18 + ".5", "12a", "0x10", None]
    verdicts = [is_x12_number(text) for text in texts]
    assert verdicts == [parse_decimal(text) is not None for text in texts]
    assert verdicts[:5] == [False, True, True, True, True] and not verdicts[16]
