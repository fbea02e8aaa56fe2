"""Issue #13: segments the reader cannot place must not hide a claim.

A segment whose id is not an X12 id (lower case, junk glued before it, a
separator turned into a letter), service lines outside any claim (the CLM
lost in the segment before it), an SV1 with no LX and a claim with no
subscriber HL: each is an EDI007 error in check, the same on the fast path,
a status 1 in extract (rows may be missing) and a refusal in fix --split.
"""
import pickle
import re

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM
from fast_support import assert_same, generated

from edi837.cli import main
from edi837.x12.blocks import block_cut, block_forms
from edi837.x12.reader import Delimiters

OTHER = CLEAN_J2350_CLAIM.replace("CLM*C1*", "CLM*C2*")


def edi007(reader) -> list:
    return [f for f in reader.findings if f.rule == "EDI007"]


def test_clean_claims_have_no_edi007(read):
    claims, reader = read(CLEAN_J2350_CLAIM + OTHER)
    assert len(claims) == 2 and edi007(reader) == []


@pytest.mark.parametrize("hidden", ["clm*C2*", "<b> CLM*C2*", "CLMXC2*"])
def test_a_claim_behind_a_segment_that_is_no_x12_id_is_an_error(read, hidden):
    claims, reader = read(CLEAN_J2350_CLAIM + OTHER.replace("CLM*C2*", hidden))
    assert [c.claim_id for c in claims] == ["C1"]  # never read as a claim
    found = edi007(reader)
    assert found and found[0].severity == "error"
    assert "is not an X12 segment id" in found[0].message
    assert found[0].claim_id == "C1"  # in that claim's span: held with it


def test_lower_case_ids_are_reported_ten_times_a_set_at_most(read):
    claims, reader = read("\n".join(s[:3].lower() + s[3:] for s in CLEAN_J2350_CLAIM.split("\n")))
    found = edi007(reader)
    assert claims == [] and len(found) == 10 and "any further ones" in found[-1].message


def test_drug_lines_outside_any_claim_are_an_error(read):
    lost = CLEAN_J2350_CLAIM.replace("CLM*C1*9400***11:B:1*Y*A*Y*Y\n", "")
    claims, reader = read(lost)
    assert claims == [] and reader.claim_count == 0  # the lines are not a claim
    [found] = edi007(reader)
    assert found.segment == "LX" and "outside any claim" in found.message
    assert reader.unread == 1


def test_lines_outside_any_claim_with_no_drug_are_not_reported(read):
    # as the fast path, which passes over what holds no drug line, would not see them
    lost = "LX*1\nSV1*HC:99213*100*UN*1***1\nDTP*472*D8*20260115\n"
    claims, reader = read(lost + CLEAN_J2350_CLAIM)
    assert [c.claim_id for c in claims] == ["C1"] and edi007(reader) == []


def test_an_sv1_with_no_lx_is_read_as_a_line_and_reported(read):
    claims, reader = read(CLEAN_J2350_CLAIM.replace("LX*1\n", "", 1))
    assert claims[0].lines[0].procedure == "J2350" and claims[0].lines[0].ndc == "50242015001"
    [found] = edi007(reader)
    assert found.segment == "SV1" and "no LX before it" in found.message


def test_a_claim_with_no_subscriber_hl_is_an_error(read):
    claims, reader = read(CLEAN_J2350_CLAIM, subscriber=False)
    [found] = edi007(reader)
    assert found.segment == "CLM" and "no subscriber HL" in found.message
    assert claims[0].claim_id == "C1"


def test_blocks_stop_at_a_segment_that_is_no_x12_id():
    delimiters = Delimiters(element="*", segment="~", component=":", repetition="^")
    forms = block_forms(delimiters)
    good = "NM1*IL*1~\nCLM*A*1~\nLX*1~\n"
    assert block_cut(good, True, "~", forms, "IEA*") is not None
    for bad in ("clm*A*1", "<b>\nCLM*A*1", "CLMXA*1", "*X*Y"):
        assert block_cut(good.replace("CLM*A*1", bad), True, "~", forms, "IEA*") is None
    assert block_cut("clm*A~\n" + good, True, "~", forms, "IEA*") is None  # the first too
    # a chunk may end in the middle of an id: the rest comes with the next chunk
    assert block_cut(good + "NM", False, "~", forms, "IEA*") is not None


@pytest.mark.parametrize("junk", [b"clm", b"<b>\nCLM", b"CLMX"])
def test_the_fast_path_reports_what_the_full_reader_reports(junk, monkeypatch):
    data = generated(claims=600, seed=5, drug_share=0.05)
    starts = [m.start() + 1 for m in re.finditer(rb"\nCLM\*", data)]
    at = starts[len(starts) // 2]
    data = data[:at] + junk + data[at + 3:]
    full = assert_same(data, monkeypatch, chunks=(None, 4096, 777))
    assert any("is not an X12 segment id" in f for f in full["findings"])


@pytest.fixture
def junk_file(edi_file):
    return edi_file(CLEAN_J2350_CLAIM + OTHER.replace("CLM*C2*", "<b> CLM*C2*"))


def test_extract_says_a_drug_line_may_be_missing(junk_file, edi_file):
    result = CliRunner().invoke(main, ["extract", str(junk_file)])
    assert result.exit_code == 1 and "is not an X12 segment id" in result.stderr
    clean = CliRunner().invoke(main, ["extract", str(edi_file(CLEAN_J2350_CLAIM))])
    assert clean.exit_code == 0 and clean.stderr == ""


@pytest.mark.parametrize("fragment", [
    CLEAN_J2350_CLAIM + OTHER.replace("CLM*C2*", "<b> CLM*C2*"),
    OTHER.replace("CLM*C2*9400***11:B:1*Y*A*Y*Y\n", "") + CLEAN_J2350_CLAIM,
])
def test_split_refuses_what_it_cannot_place(edi_file, tmp_path, fragment):
    path = edi_file(fragment, name="in.edi")
    result = CliRunner().invoke(main, ["fix", str(path), "--split", "--out-dir",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2 and "split not written" in result.stderr
    assert not list((tmp_path / "out").glob("*.accepted.edi"))
    assert not list((tmp_path / "out").glob("*.held.edi"))


def test_a_new_transaction_set_forgets_the_last_sets_subscriber(read):
    from conftest import CLEAN_J2350_CLAIM as claim

    from edi837.x12.fragment import wrap_claims

    lines = wrap_claims(claim).splitlines()
    se = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    second = ["ST*837*0002*005010X222A1~", "BHT*0019*00*B2*20261101*1200*CH~",
              *(s + "~" for s in claim.replace("C1", "C9").strip().split("\n"))]
    second.append(f"SE*{len(second) + 1}*0002~")
    text = "\n".join(lines[:se + 1] + second + lines[se + 1:]) + "\n"
    claims, reader = read(text, wrap=False)
    assert [c.claim_id for c in claims] == ["C1", "C9"]
    assert claims[0].subscriber is not None and claims[0].payer_id == "PAYER01"
    orphan = claims[1]
    assert orphan.subscriber is None and orphan.payer_id == "" and orphan.payer_name == ""
    assert orphan.payer_responsibility == "" and orphan.relationship == ""
    assert any("no subscriber HL" in f.message for f in edi007(reader))


@pytest.mark.parametrize("charge", ["inf", "NaN", "1e5", "12,00", "1" * 26])
def test_a_claim_charge_that_is_no_x12_number_is_an_error(read, charge):
    claims, reader = read(CLEAN_J2350_CLAIM.replace("CLM*C1*9400", f"CLM*C1*{charge}"))
    [found] = edi007(reader)
    assert found.segment == "CLM" and "CLM02 charge" in found.message
    assert found.claim_id == "C1"


@pytest.mark.parametrize("charge", ["9400", "9400.50", "-5", "0", ".5"])
def test_a_claim_charge_that_is_an_x12_number_passes(read, charge):
    claims, reader = read(CLEAN_J2350_CLAIM.replace("CLM*C1*9400", f"CLM*C1*{charge}"))
    assert edi007(reader) == []


# -- a segment terminator lost: the next segment glued to the end of one ------------------
def test_a_claim_glued_to_a_line_date_is_an_error_and_holds_the_claim(read, edi_file, tmp_path):
    glued = CLEAN_J2350_CLAIM.rstrip("\n") + "CLM*C2*9400***11:B:1*Y*A*Y*Y\n" + \
        OTHER.split("\n", 2)[2]  # C2's lines follow, read as C1's
    claims, reader = read(glued)
    assert [c.claim_id for c in claims] == ["C1"]
    [found] = edi007(reader)
    assert found.segment == "DTP" and "more than the 3 the guide allows" in found.message
    assert "CLM*C2*9400" in found.message and found.claim_id == "C1"
    path = edi_file(glued, name="glued.edi")
    result = CliRunner().invoke(main, ["fix", str(path), "--split", "--out-dir",
                                       str(tmp_path / "out")])
    assert "0 claim(s) accepted, 1 held" in result.output  # not forwarded as one claim


def test_segments_within_the_guides_element_counts_pass(read):
    claims, reader = read(CLEAN_J2350_CLAIM.replace("DTP*472*D8*20260115\nLIN",
                                                    "DTP*472*D8*20260115\nREF*6R*A1\nLIN"))
    assert edi007(reader) == [] and claims[0].lines[0].control_number == "A1"


def test_too_many_elements_on_a_claim_with_no_drug_line_are_not_reported(read):
    # the fast path passes over such a claim unread, so neither reader reports it
    visit = "CLM*V1*100***11:B:1*Y*A*Y*Y\nLX*1\nSV1*HC:99213*100*UN*1***1\n" \
            "DTP*472*D8*20260115*X*Y\n"
    claims, reader = read(visit + CLEAN_J2350_CLAIM)
    assert len(claims) == 2 and edi007(reader) == []


def test_an_sv1_after_its_lines_lin_is_read_as_the_lines_and_reported(read):
    late = CLEAN_J2350_CLAIM.replace(
        "SV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115\nLIN**N4*50242015001\nCTP****20*ML",
        "LIN**N4*50242015001\nCTP****20*ML\nSV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115")
    claims, reader = read(late)
    line = claims[0].lines[0]
    assert line.procedure == "J2350" and line.units == "600" and line.ndc == "50242015001"
    [found] = edi007(reader)
    assert found.segment == "SV1" and "after its line's LIN/CTP" in found.message


def test_a_second_sv1_in_one_lx_loop_is_a_line_of_its_own(read):
    doubled = CLEAN_J2350_CLAIM.replace("SV1*HC:96365*400*UN*1***1",
                                        "SV1*HC:96365*400*UN*1***1\nSV1*HC:J2350:JW*900*UN*60***1")
    claims, reader = read(doubled)
    assert [line.procedure for line in claims[0].lines] == ["J2350", "96365", "J2350"]
    [found] = edi007(reader)
    assert found.segment == "SV1" and "no LX before it" in found.message


def test_an_sv1_outside_any_claim_is_reported_if_a_drug_line(read):
    lost = "SV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115\n"
    claims, reader = read(lost + CLEAN_J2350_CLAIM)
    assert [c.claim_id for c in claims] == ["C1"] and reader.claim_count == 1
    [found] = edi007(reader)
    assert found.segment == "SV1" and "outside any claim" in found.message


def test_the_fast_path_reports_a_glued_claim_as_the_full_reader(monkeypatch):
    data = generated(claims=600, seed=7, drug_share=0.05)
    for tag in (b"J2350", b"99213"):  # a line date glued to what follows it
        at = data.find(b"~\n", data.find(b"DTP*472", data.find(b"SV1*HC:" + tag)))
        glued = data[:at] + data[at + 2:]
        full = assert_same(glued, monkeypatch, chunks=(None, 4096))
        if tag == b"J2350":  # a drug claim: reported (on both paths)
            assert any("glued on" in f for f in full["findings"])


def test_fix_names_the_segment_where_a_file_cannot_be_read(edi_file, tmp_path):
    text = edi_file(CLEAN_J2350_CLAIM).read_text()
    cut = edi_file(text[:text.index("LX*2")], wrap=False, name="cut.edi")
    result = CliRunner().invoke(main, ["fix", str(cut), "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 2
    segments = text[:text.index("LX*2")].count("~")
    assert f"cut.edi: segment {segments}: EDI002 transaction 0001 is not closed" in result.stderr


# -- a reviewer's cases: both readers, pieces, dropped claims ------------------------------
def _body(*units: list[str]) -> bytes:
    from fast_support import envelope

    head = ["ST*837*0001*005010X222A1", "BHT*0019*00*B1*20261101*1200*CH",
            "NM1*41*2*SUBMITTER*****46*S1", "NM1*40*2*RECEIVER*****46*R1"]
    return envelope(head + [s for unit in units for s in unit]).encode()


def _visits(first_hl: int, count: int, parent: int = 1) -> list[str]:
    from fast_support import VISIT, claim, subscriber

    segments = []
    for k in range(count):
        segments += subscriber(first_hl + k, parent) + claim(f"V{first_hl + k}", VISIT)
    return segments


@pytest.mark.parametrize("first", ["LX*1", "SV1*HC:J2350:JZ*9000*UN*600***1"])
def test_lines_outside_any_claim_in_a_loop_of_no_claim_on_both_paths(monkeypatch, first):
    from fast_support import DRUG, billing, subscriber

    orphan = [first, *DRUG.split("\n")[first.startswith("SV1"):]]
    data = _body(billing(1), _visits(2, 30), subscriber(32, 1), orphan, _visits(33, 30))
    full = assert_same(data, monkeypatch, chunks=(None, 2048))
    assert any("outside any claim" in f for f in full["findings"])


def test_a_claim_under_a_billing_hl_is_reported_on_both_paths(monkeypatch):
    from fast_support import DRUG, VISIT, billing, claim

    data = _body(billing(1), _visits(2, 20), billing(22), claim("N1", VISIT),
                 claim("D1", DRUG), _visits(23, 20, parent=22))
    full = assert_same(data, monkeypatch, chunks=(None, 2048))
    assert sum("no subscriber HL" in f for f in full["findings"]) == 1  # D1, a drug claim


def test_lines_outside_any_claim_are_tied_to_no_claim(read):
    lost = "LX*1\nSV1*HC:J2350:JZ*12X*UN*600***1\nDTP*472*D8*20260115\n"
    claims, reader = read(lost + CLEAN_J2350_CLAIM)
    found = edi007(reader)
    assert len(found) == 2 and all(f.claim_id is None for f in found)


def test_elements_that_fit_pass_and_a_glued_lx_is_its_own_lines(read):
    lx = CLEAN_J2350_CLAIM.replace("CTP****20*ML\n", "CTP****20*MLLX*9*X\n")
    claims, reader = read(lx)  # CTP allows 11 elements: 'MLLX', '9', 'X' fit
    assert edi007(reader) == []
    lx = CLEAN_J2350_CLAIM.replace("NM1*DK*1*ORDER*OLA****XX*1234567893\nLX*2",
                                   "NM1*DK*1*ORDER*OLA****XX*1234567893\nLX*2SV1*HC:96365*4")
    claims, reader = read(lx)
    [found] = edi007(reader)
    assert found.segment == "LX" and found.line_number is None and found.claim_id == "C1"


def test_trailing_empty_elements_are_no_glued_segment(read):
    claims, reader = read(CLEAN_J2350_CLAIM.replace("DTP*472*D8*20260115\nLIN",
                                                    "DTP*472*D8*20260115**\nLIN")
                          .replace("LX*2", "LX*2*"))
    assert edi007(reader) == []


def test_drug_lines_before_the_first_hl_are_reported(edi_file):
    from edi837.reader.claims import ClaimReader

    text = edi_file(CLEAN_J2350_CLAIM).read_text()
    text = text.replace("HL*1**20*1~", "LX*1~\nSV1*HC:J2350:JZ*9000*UN*600***1~\nHL*1**20*1~")
    reader = ClaimReader(edi_file(text, wrap=False))
    list(reader.claims())
    assert any("outside any claim" in f.message for f in edi007(reader))


def test_a_dropped_claims_findings_stay_with_it(edi_file):
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine

    first = edi_file(CLEAN_J2350_CLAIM.replace("HI*ABK:G35A", "HI*ABK:G35A\nx-y*1")).read_text()
    cut = first[:first.index("SE*")] + "GE*1*1~\nIEA*1*000000001~\n"  # no SE: dropped
    second = edi_file(OTHER, control="000000002").read_text()
    result = Engine(load_drug_table()).check_file(edi_file(cut + second, wrap=False))
    bad = next(f for f in result.findings if "not an X12 segment id" in f.message)
    assert bad.claim_id == "C1" and bad.claim_last < 40  # not C2's span (from 56 on)
    assert [c for c in result.findings if c.claim_id == "C2" and c.severity == "error"] == []


def test_check_jobs_keeps_findings_outside_any_claim(tmp_path, monkeypatch):
    import json

    from edi837.parallel import check as parallel_check

    data = generated(claims=1500, seed=11, drug_share=0.05)
    at = data.find(b"~\nHL*", len(data) // 2) + 2
    at = data.index(b"~\n", at) + 2  # after the HL
    data = data[:at] + b"x1*BAD~\n" + data[at:]  # outside any claim
    sv1 = data.find(b"SV1*HC:J", len(data) // 3)
    units = data.index(b"*UN*", sv1) + 4
    data = data[:units] + b"1X" + data[data.index(b"*", units):]  # a malformed drug line
    hl = data.find(b"~\nHL*", data.find(b"~\nHL*", units) + 5)  # two loops on
    after = data.index(b"~\n", hl + 2) + 2  # after that HL: before its loop's claim
    data = data[:after] + b"LX*1~\nSV1*HC:99213*10*UN*1***1~\n" + data[after:]  # visit
    path = tmp_path / "mixed.edi"
    path.write_bytes(data)
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 60_000)
    reports = []
    for jobs in ("1", "2"):
        result = CliRunner().invoke(main, ["check", str(path), "--format", "json",
                                           "--jobs", jobs])
        found = json.loads(result.stdout)["files"][0]["findings"]
        reports.append([(f["rule"], f["segment_index"], f["claim_id"]) for f in found])
    assert reports[0] == reports[1]
    assert sum(rule == "EDI007" for rule, _, _ in reports[0]) == 2


def test_chunk_writer_leaves_no_temporary_when_closing_fails(tmp_path):
    from edi837.history.handover import dump

    with pytest.raises((pickle.PicklingError, AttributeError)):  # a local lambda
        dump([1, 2, lambda: 0], tmp_path / "out", lambda item: item)  # cannot be pickled
    assert list(tmp_path.iterdir()) == []
