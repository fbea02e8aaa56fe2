"""A fault of the interchange itself is a TA1's, and `validate`'s report and its
acknowledgment say the same of it.

X12: an interchange holds functional groups, and TA1s between its ISA and its first
GS; anything else there (a stray `REF*XX*1~`, or a segment after the last GE) makes
its content invalid (TA105 note code 024, X12 data element I18, in pyx12's
x12.control.00501.xml), and a receiver rejects the interchange whole: TA104 R, its
groups not processed, so no 999 acknowledgment of their sets.  pyx12 writes a TA1
only when ISA14 asks for one, after the GE, and never for a stray segment: its 999
accepted the sets the report called invalid (IGS1).  So do ISA/IEA errors pyx12
reports with an I18 code (IEA02 not the ISA13: 001).  An interchange asking for a
TA1 (ISA14 = 1) without a fault gets TA104 A, 000, where X12 puts it: before the
first GS.  Every acknowledgment here is read by pyx12."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict
from test_validate import PROFESSIONAL  # the clean claim validate's tests wrap

from edi837.acks.ack999 import Acceptance
from edi837.cli.validate import validate
from edi837.validate import validate_file, write_999
from edi837.x12.fragment import wrap_claims


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def interchange(control: str = "000000101", *, after_isa: str = "", before_iea: str = "",
                ta1_requested: bool = False, iea: str | None = None) -> str:
    lines = wrap_claims(PROFESSIONAL, control=control).splitlines(keepends=True)
    if ta1_requested:
        lines[0] = lines[0].replace("*0*T*:~", "*1*T*:~")
    if iea is not None:
        lines[-1] = f"IEA*1*{iea}~\n"
    return "".join([lines[0], after_isa, *lines[1:-1], before_iea, lines[-1]])


def ack_segments(path) -> list[list[str]]:
    return [line.rstrip("~").split("*") for line in path.read_text().splitlines() if line]


def ig(findings):
    return [(f.rule, f.segment_index, f.segment) for f in findings if f.rule.startswith("IG")]


def acknowledged(path, tmp_path) -> list[list[str]]:
    ack = write_999(path, tmp_path / "acks")
    assert ack is not None
    ok, errors = pyx12_verdict(ack)
    assert ok, errors
    return ack_segments(ack)


@pytest.mark.parametrize("where", ["after_isa", "before_iea"])
def test_a_stray_segment_outside_the_groups_rejects_the_interchange_by_ta1(
        edi_file, tmp_path, where):
    path = edi_file(interchange(**{where: "REF*XX*1~\n"}), wrap=False, name="stray.edi")
    found = ig(validate_file(path))
    stray = 2 if where == "after_isa" else len(path.read_text().splitlines()) - 1
    assert found == [("IGH024", stray, "REF")]  # the interchange's, not a segment's
    segments = acknowledged(path, tmp_path)
    assert ["TA1", "000000101", "261101", "1200", "R", "024"] in segments
    assert [s[0] for s in segments] == ["ISA", "TA1", "IEA"]  # no group processed
    assert segments[-1][1] == "0"  # IEA01: no functional group
    verdict = Acceptance.from_999(tmp_path / "acks" / "stray.999").verdict(
        "000000101", "1", "0001")
    assert verdict is not None and "TA1 rejects interchange 000000101" in verdict


def test_validate_reports_the_rejection_its_ack_sends(edi_file, tmp_path):
    path = edi_file(interchange(after_isa="REF*XX*1~\n"), wrap=False, name="stray.edi")
    result = CliRunner().invoke(validate, [str(path), "--ack", str(tmp_path / "acks"), "-q"])
    assert result.exit_code == 2, result.output  # check's reader cannot read it either
    assert "IGH024" in result.output and "IGS1" not in result.output
    assert "the 999 rejects 1 transaction set with 1 claim" in result.output
    assert pyx12_verdict(tmp_path / "acks" / "stray.999")[0]


def test_an_iea_that_does_not_close_its_isa_is_a_ta1_rejection(edi_file, tmp_path):
    path = edi_file(interchange(iea="000000102"), wrap=False, name="iea.edi")
    assert [rule for rule, _, _ in ig(validate_file(path))] == ["IGH001"]
    segments = acknowledged(path, tmp_path)
    assert ["TA1", "000000101", "261101", "1200", "R", "001"] in segments
    assert not [s for s in segments if s[0] in ("IK5", "AK9")]  # the 999 accepts nothing


def test_a_ta1_asked_for_is_sent_before_the_group_it_accepts(edi_file, tmp_path):
    path = edi_file(interchange(ta1_requested=True), wrap=False, name="asked.edi")
    assert ig(validate_file(path)) == []
    segments = acknowledged(path, tmp_path)
    assert [s[0] for s in segments[:3]] == ["ISA", "TA1", "GS"]  # X12's place for it
    assert segments[1] == ["TA1", "000000101", "261101", "1200", "A", "000"]
    assert [s for s in segments if s[0] == "IK5"] == [["IK5", "A"]]
    assert sum(s[0] == "TA1" for s in segments) == 1  # not pyx12's too, after the GE
    assert segments[-1][1] == "1"


def test_of_two_interchanges_only_the_faulty_one_is_rejected(edi_file, tmp_path):
    text = interchange("000000101", after_isa="NTE*ADD*STRAY~\n") + \
        interchange("000000102")
    path = edi_file(text, wrap=False, name="two.edi")
    assert [rule for rule, _, _ in ig(validate_file(path))] == ["IGH024"]
    segments = acknowledged(path, tmp_path)
    assert [s for s in segments if s[0] == "TA1"] == [
        ["TA1", "000000101", "261101", "1200", "R", "024"]]
    assert [s[:3] for s in segments if s[0] == "AK1"] == [["AK1", "HC", "1"]]  # one group
    assert [s for s in segments if s[0] == "IK5"] == [["IK5", "A"]]
    acceptance = Acceptance.from_999(tmp_path / "acks" / "two.999")
    assert acceptance.verdict("000000101", "1", "0001") is not None
    assert acceptance.verdict("000000102", "1", "0001") is None


@pytest.mark.parametrize("ta1_requested", [False, True])
def test_a_file_cut_short_keeps_the_999s_answer_and_says_it_in_a_ta1_asked_for(
        edi_file, tmp_path, ta1_requested):
    """The faults the 999 answers itself (a group left open: AK905 3) reject no
    interchange whole: its group stays acknowledged, and a TA1 is written only when
    ISA14 asks for one: R with the fault's code (023, premature end), never A."""
    text = interchange(ta1_requested=ta1_requested)
    path = edi_file(text[:text.index("GE*")], wrap=False, name="cut.edi")
    assert "IGH023" in [rule for rule, _, _ in ig(validate_file(path))]
    segments = acknowledged(path, tmp_path)
    assert [s[2] for s in segments if s[0] == "AK2"] == ["0001"]
    assert [s for s in segments if s[0] == "AK9"][0][:2] == ["AK9", "R"]
    ta1s = [s for s in segments if s[0] == "TA1"]
    assert ta1s == ([["TA1", "000000101", "261101", "1200", "R", "023"]] if ta1_requested
                    else [])
