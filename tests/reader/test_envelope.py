"""Envelope checks EDI001-EDI006: each with a passing and a failing input."""
import codecs

import pytest

from edi837.reader.claims import ClaimReader
from edi837.x12.fragment import wrap_claims

CLAIM = """
CLM*C1*500***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*500*UN*300***1
DTP*472*D8*20260201
LIN**N4*50242015001
CTP****10*ML
"""


def findings(path):
    reader = ClaimReader(path)
    claims = list(reader.claims())
    return claims, reader


def rules(reader, severity=None):
    return [f.rule for f in reader.findings if severity in (None, f.severity)]


def test_clean_interchange_has_no_envelope_findings(edi_file):
    claims, reader = findings(edi_file(wrap_claims(CLAIM).replace("\n", ""), wrap=False))
    assert len(claims) == 1
    assert reader.findings == []
    assert (reader.interchanges, reader.transactions, reader.claim_count) == (1, 1, 1)


@pytest.mark.parametrize("content", [b"PLAIN TEXT, NOT X12\n", b"   \n",
                                     b"ISA*00*TOO SHORT~GS*HC~"])
def test_edi001_not_an_interchange(edi_file, content):
    claims, reader = findings(edi_file(content, wrap=False))
    assert claims == []
    assert rules(reader) == ["EDI001"]
    assert reader.unreadable


def test_edi002_truncated_file(edi_file):
    text = wrap_claims(CLAIM)
    cut = text[: text.index("LIN*")]
    claims, reader = findings(edi_file(cut, wrap=False))
    assert claims == [] and reader.incomplete_claims == 1  # half a claim is not checked
    assert rules(reader) == ["EDI002", "EDI002", "EDI002"]
    assert "truncated" in reader.findings[0].message
    assert reader.unreadable  # part of the file is missing: exit status 2


def test_edi002_transaction_cut_before_the_next_interchange(edi_file):
    """A set cut short and followed by a complete interchange: the cut claim is
    dropped, the next interchange's claim is read whole."""
    first = wrap_claims(CLAIM)
    cut = first[: first.index("LIN*")]
    claims, reader = findings(edi_file(cut + wrap_claims(CLAIM, control="000000002"),
                                       wrap=False))
    assert [c.envelope.interchange for c in claims] == ["000000002"]
    messages = [f.message for f in reader.findings if f.rule == "EDI002"]
    assert messages[0] == "transaction 0001 is not closed (no SE before the next ISA)"
    assert "interchange 000000001 is not closed" in messages[1]
    assert claims[0].first_index > reader.findings[0].segment_index


def test_text_after_the_last_interchange_is_a_warning_not_unreadable(edi_file):
    for tail, rule in (("~", None), ("\x1a", None), ("\x00" * 64, None),
                       ("NOT X12 AT ALL", "EDI002")):
        claims, reader = findings(edi_file(wrap_claims(CLAIM) + tail, wrap=False))
        assert len(claims) == 1 and not reader.unreadable
        found = [(f.rule, f.severity) for f in reader.findings if f.rule != "EDI006"]
        assert found == ([(rule, "warning")] if rule else [])


def test_edi003_control_numbers_do_not_match(edi_file):
    text = wrap_claims(CLAIM).replace("SE*", "SE*X").replace("IEA*1*000000001", "IEA*1*000000009")
    text = text.replace("SE*X", "SE*")
    text = text.replace("*0001~\nGE", "*0002~\nGE")
    claims, reader = findings(edi_file(text, wrap=False))
    found = [f for f in reader.findings if f.rule == "EDI003"]
    assert [(f.segment, f.value) for f in found] == [("SE", "0002"), ("IEA", "000000009")]
    se = found[0]
    assert se.fix.edits[0].after == "0001" and se.fix.edits[0].reference == "SE02"


def test_edi004_counts_do_not_match(edi_file):
    text = wrap_claims(CLAIM)
    se_count = text.split("SE*")[1].split("*")[0]
    text = text.replace(f"SE*{se_count}*", f"SE*{int(se_count) + 2}*").replace("GE*1*", "GE*2*")
    _, reader = findings(edi_file(text, wrap=False))
    found = [f for f in reader.findings if f.rule == "EDI004"]
    assert [(f.segment, f.value, f.fix.edits[0].after) for f in found] == [
        ("SE", str(int(se_count) + 2), se_count), ("GE", "2", "1")]


@pytest.mark.parametrize("version,kind", [("005010X222", "837P"), ("005010X222A2", "837P"),
                                          ("005010X223A1", "837I"), ("005010X223A3", "837I")])
def test_edi005_version_variants_are_read_with_a_warning(edi_file, version, kind):
    guide = "005010X222A1" if kind == "837P" else "005010X223A2"
    text = wrap_claims(CLAIM, kind).replace(guide, version)
    claims, reader = findings(edi_file(text, wrap=False))
    assert len(claims) == 1 and claims[0].kind == kind
    (finding,) = [f for f in reader.findings if f.rule == "EDI005"]
    assert finding.severity == "warning" and finding.value == version


def test_edi005_non_837_transaction_is_skipped_with_an_error(edi_file):
    text = wrap_claims(CLAIM).replace("ST*837*", "ST*835*")
    claims, reader = findings(edi_file(text, wrap=False))
    assert claims == []
    (finding,) = [f for f in reader.findings if f.rule == "EDI005"]
    assert finding.severity == "error" and finding.value == "835" and finding.segment_index == 3


def test_edi005_a_skipped_set_beside_an_837_makes_the_file_unreadable(edi_file):
    """Issue #13 (hostile corpus): an 837 set of another version beside a 5010 one was
    'findings' to check, so batch archived the file while the skipped set's claims were
    in no report; extract and fix refused it.  (A set that is not an 837 holds no claim:
    the file stays readable, fix lists the set as not carried.)"""
    good = wrap_claims(CLAIM)
    se = good.index("SE*")
    other = good[good.index("ST*837*"):se].replace("ST*837*0001", "ST*837*0002", 1)
    other = other.replace("005010X222A1", "004010X098A1")
    text = good[:se] + good[se:good.index("GE*")] + other + \
        f"SE*{other.count(chr(126)) + 1}*0002~\n" + good[good.index("GE*"):].replace(
            "GE*1*", "GE*2*", 1)
    claims, reader = findings(edi_file(text, wrap=False))
    assert len(claims) == 1 and reader.unreadable
    assert sorted(f.severity for f in reader.findings if f.rule == "EDI005") == [
        "error", "warning"]  # the set is skipped; its ST03 differs from GS08
    assert not [f for f in reader.findings if f.rule in ("EDI003", "EDI004")]
    remittance = text.replace("ST*837*0002", "ST*835*0002", 1)
    claims, reader = findings(edi_file(remittance, wrap=False))
    assert len(claims) == 1 and not reader.unreadable
    assert "ST*835" in remittance and "835" in [f.value for f in reader.findings]


def test_edi006_bom_and_utf16_are_reported(edi_file):
    text = wrap_claims(CLAIM)
    for data in (codecs.BOM_UTF8 + text.encode(), text.encode("utf-16")):
        claims, reader = findings(edi_file(data, wrap=False))
        assert len(claims) == 1
        (finding,) = reader.findings
        assert finding.rule == "EDI006" and finding.severity == "info"


def test_one_file_two_interchanges_counts_each(edi_file):
    text = wrap_claims(CLAIM) + wrap_claims(CLAIM, control="000000002")
    claims, reader = findings(edi_file(text, wrap=False))
    assert [c.envelope.interchange for c in claims] == ["000000001", "000000002"]
    assert rules(reader, "error") == []


# -- a truncated or duplicated interchange (EDI002, EDI003) -------------------------------

@pytest.mark.parametrize("cut_before, open_", [("IEA*", ["interchange"]),
                                               ("GE*", ["group", "interchange"])])
def test_edi002_a_file_cut_after_whole_claims_is_truncated_and_unreadable(edi_file, cut_before,
                                                                          open_):
    """The claims are whole, the interchange is not: the file ends where no IEA (and no
    GE) closed it, so part of it may be missing (exit status 2, as any truncation)."""
    text = wrap_claims(CLAIM)
    claims, reader = findings(edi_file(text[: text.index(cut_before)], wrap=False))
    assert len(claims) == 1
    messages = [f.message for f in reader.findings if f.rule == "EDI002"]
    assert [m.split(" ")[3] for m in messages] == open_  # "file ends inside <what>"
    assert all("truncated?" in m for m in messages)
    assert reader.findings[-1].segment_index == text[: text.index(cut_before)].count("~")


def test_edi002_a_truncated_interchange_exits_2_naming_the_file_and_segment(edi_file):
    from click.testing import CliRunner

    from edi837.cli import main

    text = wrap_claims(CLAIM)
    path = edi_file(text[: text.index("IEA*")], wrap=False)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    last = text[: text.index("IEA*")].count("~")
    assert f"{path}:{last}: EDI002 error file ends inside interchange 000000001 (no IEA): " \
           "truncated?" in result.output


@pytest.mark.parametrize("second", [CLAIM, CLAIM.replace("CLM*C1*", "CLM*C2*")])
def test_edi003_an_interchange_control_number_used_twice_in_a_file(edi_file, second):
    first = wrap_claims(CLAIM)
    claims, reader = findings(edi_file(first + wrap_claims(second), wrap=False))
    assert len(claims) == 2  # both read: which one is meant is the sender's to say
    (found,) = reader.findings
    assert (found.rule, found.severity, found.segment, found.value) == \
        ("EDI003", "error", "ISA", "000000001")
    assert found.segment_index == first.count("~") + 1  # the second ISA
    assert "is also the one of the interchange at segment 1" in found.message
    assert found.fix is None
    # PASS: the same file with its own number on each interchange
    claims, reader = findings(edi_file(first + wrap_claims(second, control="000000002"),
                                       wrap=False))
    assert len(claims) == 2 and reader.findings == []


def test_edi003_a_repeated_interchange_is_found_by_the_parallel_scan_too(tmp_path):
    """A large file checked in pieces (edi837.parallel) takes its envelope findings from
    the scan, the claim reader over the envelopes: the same finding."""
    from edi837.parallel.scan import read_and_cut

    path = tmp_path / "twice.edi"
    path.write_text(wrap_claims(CLAIM) + wrap_claims(CLAIM))
    pieces = []
    read = read_and_cut(str(path), 1, pieces.append)
    assert read is not None and len(pieces) >= 2
    assert [(f.rule, f.segment) for f in read.envelope] == [("EDI003", "ISA")]
