"""`edi837 validate`: pyx12's implementation-guide validation without its sharp edges.

Positions below are 1-based segment indexes in the files wrap_claims makes
(one segment per line): 1 ISA, 2 GS, 3 ST, 9 NM1*85 (2010AA), 13 HL*2
(2000B), 17 the subscriber's N4 (2010BA), 20 CLM, 27 SE.
"""
from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837 import validate as validate_module
from edi837.acks import ControlNumberError, ControlNumbers, stamp
from edi837.cli.validate import validate
from edi837.validate import validate_file, validate_paths, write_999
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
INSTITUTIONAL = """
CLM*I1*600***13:A:1**A*Y*Y
DTP*434*RD8*20251105-20251105
CL1*1*1*01
HI*ABK:G35A
LX*1
SV2*0636*HC:J2350:JZ*600*UN*600
DTP*472*D8*20251105
LIN**N4*50242015001
CTP****20*ML
"""


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of every 999 in these tests: never the user's own."""
    folder = tmp_path / "state"
    monkeypatch.setenv("EDI837_STATE", str(folder))
    return folder


def ig(findings):
    return [f for f in findings if f.rule.startswith("IG")]


def rules_at(findings):
    return [(f.rule, f.segment_index) for f in ig(findings)]


def pyx12_accepts(text: str) -> bool:
    """pyx12's own verdict, called directly (not through edi837.validate)."""
    import pyx12.params
    import pyx12.x12n_document

    return pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text),
                                             None, None)


def multi_set(sets: int, broken: tuple[int, ...] = ()) -> str:
    """One interchange, one group, ``sets`` transaction sets of one claim each;
    the billing provider's name (NM103) is empty in the ``broken`` ones."""
    segments = [ISA.format(control="000000001")[:-1],
                "GS*HC*EDI837SUBMIT*EDI837RECEIVE*20261101*1200*1*X*005010X222A1"]
    for number in range(1, sets + 1):
        body = header_segments("837P", transaction=f"{number:04d}")
        body += fragment_segments(PROFESSIONAL.replace("C1", f"C{number}"))
        if number in broken:
            body = [s.replace("*SYNTHETIC INFUSION CLINIC*", "**") for s in body]
        body.append(f"SE*{len(body) + 1}*{number:04d}")
        segments += body
    segments += [f"GE*{sets}*1", "IEA*1*000000001"]
    return "~\n".join(segments) + "~\n"


# -- valid input ------------------------------------------------------------------
@pytest.mark.parametrize("kind, fragment", [("837P", PROFESSIONAL), ("837I", INSTITUTIONAL)])
def test_wrapped_claims_are_valid_for_pyx12_and_give_no_ig_findings(edi_file, kind, fragment):
    text = wrap_claims(fragment, kind)
    assert pyx12_accepts(text)  # the test data first, judged by pyx12 alone
    findings = validate_file(edi_file(fragment, kind=kind))
    assert ig(findings) == []
    assert all(f.severity != "error" for f in findings)


# -- corrupted copies: the matching finding at the original position ------------------
@pytest.mark.parametrize("old, new, rule, index, segment, loop, value, claim", [
    # SE01 says 24 segments; there are 25
    ("SE*25*0001", "SE*24*0001", "IGH4", 27, "SE", None, None, None),
    # the subscriber HL points at a parent that does not exist (its loop's first claim)
    ("HL*2*1*22*0", "HL*2*5*22*0", "IGSHL2", 13, "HL", "2000B", None, "C1"),
    # billing provider name (NM103, required) empty
    ("NM1*85*2*SYNTHETIC INFUSION CLINIC*", "NM1*85*2**", "IGE1", 9, "NM1", "2010AA",
     "NM103", None),
    # total claim charge (CLM02, required) removed
    ("CLM*C1*600*", "CLM*C1**", "IGE1", 20, "CLM", "2300", "CLM02", "C1"),
    # no such state (the subscriber's address; pyx12 checks N402 there)
    ("N4*SPRINGFIELD*IL*627010000~\nDMG", "N4*SPRINGFIELD*QQ*627010000~\nDMG", "IGE7", 17,
     "N4", "2010BA", "N402", "C1"),
])
def test_corruption_gives_the_matching_ig_finding(edi_file, old, new, rule, index, segment,
                                                   loop, value, claim):
    text = wrap_claims(PROFESSIONAL)
    assert old in text
    findings = ig(validate_file(edi_file(text.replace(old, new), wrap=False)))
    assert [(f.rule, f.segment_index) for f in findings] == [(rule, index)]
    finding = findings[0]
    assert (finding.severity, finding.segment, finding.loop, finding.value,
            finding.claim_id) == ("error", segment, loop, value, claim)
    assert (finding.interchange, finding.group, finding.transaction) == \
        ("000000001", "1", "0001")
    assert finding.message  # pyx12's own words


def test_element_finding_names_the_element_and_the_bad_value(edi_file):
    text = wrap_claims(PROFESSIONAL).replace("CTP****20*ML", "CTP****20*ml")
    [finding] = ig(validate_file(edi_file(text, wrap=False)))
    assert (finding.rule, finding.segment_index, finding.loop, finding.claim_id,
            finding.value) == ("IGE7", 26, "2410", "C1", "CTP05-1")
    assert "(ml)" in finding.message


def test_unknown_segment_inside_a_claim(edi_file):
    text = wrap_claims(PROFESSIONAL).replace("HI*ABK:G35A~\n", "HI*ABK:G35A~\nZZZ*1~\n")
    findings = ig(validate_file(edi_file(text, wrap=False)))
    assert rules_at(findings) == [("IGS1", 22), ("IGH4", 28)]  # and SE01 is now wrong
    assert (findings[0].segment, findings[0].loop, findings[0].claim_id) == \
        ("ZZZ", "2300", "C1")


def test_segment_outside_any_transaction_set_is_kept(edi_file):
    # pyx12 drops errors outside an ST ("No current segment in error_handler")
    # and calls the file valid.
    text = wrap_claims(PROFESSIONAL).replace("GE*1*1~", "GE*1*1~\nJUNK~")
    findings = ig(validate_file(edi_file(text, wrap=False)))
    assert findings and {f.segment_index for f in findings} == {29}
    assert {f.segment for f in findings} == {"JUNK"}


def test_envelope_element_errors_are_kept(edi_file):
    # pyx12's JSON visitor drops ISA/GS element errors; they are findings here.
    text = wrap_claims(PROFESSIONAL).replace("*0*T*:~", "*0*Q*:~")
    [finding] = ig(validate_file(edi_file(text, wrap=False)))
    assert (finding.rule, finding.segment_index, finding.segment, finding.value) == \
        ("IGE7", 1, "ISA", "ISA15")


# -- input pyx12 cannot read by itself ------------------------------------------------
def test_bom_utf16_and_indented_crlf_validate_like_the_plain_file(edi_file):
    plain = wrap_claims(PROFESSIONAL).replace("CLM*C1*600*", "CLM*C1**")
    indented = "".join(f"  {line}\r\n" for line in plain.splitlines())
    inputs = {
        "bom": b"\xef\xbb\xbf" + plain.encode("ascii"),
        "utf16": plain.encode("utf-16"),
        "crlf-indent": indented.encode("ascii"),
    }
    for name, data in inputs.items():
        findings = validate_file(edi_file(data, wrap=False, name=f"{name}.edi"))
        assert rules_at(findings) == [("IGE1", 20)], name  # no "leading space" errors
        assert [f.rule for f in findings if not f.rule.startswith("IG")] == ["EDI006"], name


def test_line_break_as_segment_terminator(edi_file):
    text = wrap_claims(PROFESSIONAL).replace("CLM*C1*600*", "CLM*C1**").replace("~\n", "\n")
    assert rules_at(validate_file(edi_file(text, wrap=False))) == [("IGE1", 20)]


@pytest.mark.parametrize("kind, fragment, variant, guide", [
    ("837P", PROFESSIONAL, "005010X222A2", "005010X222A1"),
    ("837P", PROFESSIONAL, "005010X222", "005010X222A1"),
    ("837I", INSTITUTIONAL, "005010X223A3", "005010X223A2"),
    ("837I", INSTITUTIONAL, "005010X223A1", "005010X223A2"),
])
def test_version_variants_validate_with_edi005_warnings(edi_file, kind, fragment, variant,
                                                        guide):
    text = wrap_claims(fragment, kind).replace(guide, variant)
    findings = validate_file(edi_file(text, wrap=False))
    assert ig(findings) == []  # no "Map not found"
    warnings = [(f.rule, f.severity, f.segment_index, f.value) for f in findings
                if f.rule == "EDI005"]
    assert warnings == [("EDI005", "warning", 2, variant), ("EDI005", "warning", 3, variant)]


def test_interchanges_with_different_delimiters_in_one_file(edi_file):
    # pyx12 takes the delimiters of the first ISA for the whole file.
    first = wrap_claims(PROFESSIONAL)
    second = wrap_claims(PROFESSIONAL.replace("C1", "C2"), control="000000002")
    second = second.replace("*", "|").replace(":", ">").replace("|^|", "|!|")
    second = second.replace("CLM|C2|600|", "CLM|C2||")
    findings = validate_file(edi_file(first + second, wrap=False))
    assert rules_at(findings) == [("IGE1", 49)]
    assert findings[-1].claim_id == "C2" and findings[-1].interchange == "000000002"


# -- pyx12 exceptions -----------------------------------------------------------------
def test_garbage_after_a_valid_isa_gives_a_file_level_finding(edi_file):
    isa = ISA.format(control="000000001")
    path = edi_file(f"{isa}\nGE**1~\n", wrap=False, name="garbage.edi")
    findings = validate_file(path)  # pyx12 raises IndexError here; we must not
    [crash] = [f for f in findings if f.rule == "IG001"]
    assert crash.severity == "error" and crash.segment_index is None
    assert str(path) in crash.message and "IndexError" in crash.message


def test_unknown_version_is_a_finding_not_a_traceback(edi_file):
    text = wrap_claims(PROFESSIONAL).replace("005010X222A1", "005010X999")
    findings = validate_file(edi_file(text, wrap=False))
    [crash] = [f for f in findings if f.rule == "IG001"]
    assert "Map not found" in crash.message


def test_not_x12_is_unreadable(edi_file, tmp_path):
    findings = validate_file(edi_file("name,amount\nx,1\n", wrap=False))
    assert [f.rule for f in findings] == ["EDI001"]
    report = validate_paths([tmp_path / "missing.edi"])
    assert report.files[0].status == "unreadable" and report.exit_status() == 2


def test_reader_findings_can_be_left_out_for_merging_into_check(edi_file):
    text = wrap_claims(PROFESSIONAL).replace("005010X222A1", "005010X222A2")
    text = text.replace("CLM*C1*600*", "CLM*C1**")
    findings = validate_file(edi_file(text, wrap=False), reader_findings=False)
    assert [f.rule for f in findings] == ["IGE1"]


# -- 999 acknowledgments ---------------------------------------------------------------
def segments(ack: str) -> list[list[str]]:
    return [line.rstrip("~").split("*") for line in ack.splitlines()]


def test_999_for_a_valid_file_accepts(edi_file, tmp_path):
    path = edi_file(PROFESSIONAL, name="clean.edi")
    target = write_999(path, tmp_path / "acks")
    assert target == tmp_path / "acks" / "clean.999"
    assert not (tmp_path / "acks" / "clean.997").exists()
    acks = segments(target.read_text())
    ids = [s[0] for s in acks]
    assert ids == ["ISA", "GS", "ST", "AK1", "AK2", "IK5", "AK9", "SE", "GE", "IEA"]
    assert acks[2][:2] == ["ST", "999"]
    assert acks[5] == ["IK5", "A"] and acks[6] == ["AK9", "A", "1", "1", "1"]
    assert acks[7][1] == "6"  # SE01 counts ST..SE


def test_999_for_an_invalid_file_rejects_with_loop_ids(edi_file, tmp_path):
    text = wrap_claims(PROFESSIONAL).replace("NM1*85*2*SYNTHETIC INFUSION CLINIC*", "NM1*85*2**")
    text = text.replace("CLM*C1*600*", "CLM*C1**")
    target = write_999(edi_file(text, wrap=False, name="bad.edi"), tmp_path)
    assert target.name == "bad.999"
    acks = segments(target.read_text())
    ik3 = [s for s in acks if s[0] == "IK3"]
    # pyx12 leaves IK303 blank (its issue #120): the map's loop id is given when it fits
    # the element (4 characters, 999.5010.xml), else left out ("2010AA" does not fit).
    assert [(s[1], s[3]) for s in ik3] == [("NM1", ""), ("CLM", "2300")]
    assert pyx12_verdict(target)[0]
    assert [s for s in acks if s[0] == "IK5"][0][1] == "R"
    assert [s for s in acks if s[0] == "AK9"][0][:5] == ["AK9", "R", "1", "1", "0"]
    se = next(s for s in acks if s[0] == "SE")
    st_at = next(k for k, s in enumerate(acks) if s[0] == "ST")
    assert int(se[1]) == acks.index(se) - st_at + 1


def test_999_for_several_sets_has_one_ak2_each(edi_file, tmp_path, monkeypatch):
    monkeypatch.setattr(validate_module, "CHUNK_SEGMENTS", 30)  # several work units
    target = write_999(edi_file(multi_set(4, broken=(3,)), wrap=False, name="m.edi"), tmp_path)
    acks = segments(target.read_text())
    assert [s[2] for s in acks if s[0] == "AK2"] == ["0001", "0002", "0003", "0004"]
    assert [s[1] for s in acks if s[0] == "IK5"] == ["A", "A", "R", "A"]
    assert [s for s in acks if s[0] == "AK9"][0][:5] == ["AK9", "P", "4", "4", "3"]


def envelope_numbers(ack: Path) -> tuple[str, str, str, str]:
    """ISA13, GS06, GE02, IEA02 of a 999."""
    found = {s[0]: s for s in segments(ack.read_text())}
    return found["ISA"][13], found["GS"][6], found["GE"][2], found["IEA"][2]


def test_999s_written_in_the_same_second_get_their_own_control_numbers(edi_file, tmp_path,
                                                                       state):
    clean = edi_file(PROFESSIONAL, name="clean.edi")
    bad = edi_file(wrap_claims(PROFESSIONAL).replace("CLM*C1*600*", "CLM*C1**"), wrap=False,
                   name="bad.edi")
    first = write_999(clean, tmp_path / "one")
    second = write_999(bad, tmp_path / "two")
    again = write_999(clean, tmp_path / "three")  # the same input: still a new interchange
    numbers = [envelope_numbers(ack) for ack in (first, second, again)]
    # pyx12 alone gave all three the ISA13 of this minute
    assert numbers == [("000000001", "1", "1", "000000001"),
                       ("000000002", "2", "2", "000000002"),
                       ("000000003", "3", "3", "000000003")]
    assert (state / "control-numbers").read_text() == "3\n"
    for ack in (first, second, again):
        ok, messages = pyx12_verdict(ack)
        assert ok, (ack, messages)


def test_control_numbers_survive_across_processes_and_never_repeat(tmp_path):
    import subprocess

    counter = tmp_path / "shared" / "counter"
    take = ("import sys; from edi837.acks import ControlNumbers; n = ControlNumbers(sys.argv[1]); "
            "print(*[n.next() for _ in range(25)], *n.reserve(5))")
    runs = [subprocess.Popen([sys.executable, "-c", take, str(counter)], stdout=subprocess.PIPE,
                             text=True) for _ in range(4)]
    taken = [int(n) for run in runs for n in run.communicate()[0].split()]
    assert all(run.returncode == 0 for run in runs)
    assert sorted(taken) == list(range(1, 121))  # 4 processes at once, no number twice
    assert ControlNumbers(counter).next() == 121  # and the next run goes on from there


def test_control_number_counter_wraps_and_refuses_a_damaged_file(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("999999998\n")
    assert ControlNumbers(counter).reserve(3) == [999999999, 1, 2]
    counter.write_text("twelve\n")
    with pytest.raises(ControlNumberError, match=re.escape(str(counter))):
        ControlNumbers(counter).next()
    assert counter.read_text() == "twelve\n"  # never silently restarted


def test_stamp_sets_the_envelope_numbers_and_nothing_else():
    ack = ("ISA*00*          *00*          *ZZ*R              *ZZ*S              *261129*1951*^"
           "*00501*611291951*0*T*:~\nGS*FA*R*S*20261129*195151*484082445*X*005010X231~\n"
           "ST*999*0001*005010X231~\nSE*2*0001~\nGE*1*484082445~\nIEA*1*611291951~\n")
    stamped = stamp(ack, 42)
    assert stamped == ack.replace("611291951", "000000042").replace("484082445", "42")
    with pytest.raises(ValueError, match="one group"):
        stamp(ack.replace("GE*1*484082445~\n", "GE*1*484082445~\nGS*FA*R*S*1*1*7*X*1~\n"), 1)


def test_no_999_when_pyx12_cannot_validate(edi_file, tmp_path):
    text = wrap_claims(PROFESSIONAL).replace("005010X222A1", "005010X999")
    path = edi_file(text, wrap=False, name="unknown.edi")
    (tmp_path / "unknown.999").write_text("stale")
    assert write_999(path, tmp_path) is None
    assert not (tmp_path / "unknown.999").exists()


# -- work split by transaction set ---------------------------------------------------
def as_rows(report):
    return [[f.as_dict() for f in result.findings] for result in report.files]


def test_split_gives_the_same_findings_as_one_unit(edi_file, monkeypatch):
    text = multi_set(5, broken=(2, 5))
    text = text.replace("SE*25*0004", "SE*26*0004").replace("GE*5*1", "GE*6*1")
    text = text.replace("ST*837*0003", "ST*837*0002").replace("SE*25*0003", "SE*25*0002")
    path = edi_file(text, wrap=False)
    whole = validate_file(path)
    monkeypatch.setattr(validate_module, "CHUNK_SEGMENTS", 30)
    split = validate_file(path)
    assert [f.as_dict() for f in split] == [f.as_dict() for f in whole]
    assert rules_at(split) == [("IGE1", 34), ("IGH23", 53), ("IGH4", 102), ("IGE1", 109),
                               ("IGH5", 128)]
    assert [f.transaction for f in ig(split)] == ["0002", "0002", "0004", "0005", None]


def test_jobs_2_equals_jobs_1(edi_file, monkeypatch):
    monkeypatch.setattr(validate_module, "CHUNK_SEGMENTS", 30)
    paths = [edi_file(multi_set(6, broken=(2, 5)), wrap=False),
             edi_file(PROFESSIONAL),
             edi_file(multi_set(3, broken=(1,)), wrap=False)]
    one = validate_paths(paths, jobs=1)
    two = validate_paths(paths, jobs=2)
    assert as_rows(two) == as_rows(one)
    assert [len(ig(r.findings)) for r in one.files] == [2, 0, 1]
    assert one.summary()["claims"] == 10 and one.files[0].transactions == 6


# -- the command --------------------------------------------------------------------
@pytest.fixture
def runner():
    return CliRunner()


def test_cli_exit_statuses(runner, edi_file, tmp_path):
    clean = edi_file(PROFESSIONAL)
    bad = edi_file(wrap_claims(PROFESSIONAL).replace("CLM*C1*600*", "CLM*C1**"), wrap=False)
    result = runner.invoke(validate, [str(clean)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(validate, [str(clean), str(bad)])
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(bad))}:20: IGE1 error .*CLM02.*\[claim C1\]",
                     result.output)
    result = runner.invoke(validate, [str(clean), str(tmp_path / "missing.edi")])
    assert result.exit_code == 2
    result = runner.invoke(validate, [str(clean), "--jobs", "-1"])
    assert result.exit_code == 2


def test_cli_json_ack_and_jobs(runner, edi_file, tmp_path):
    paths = [str(edi_file(multi_set(3, broken=(2,)), wrap=False, name="multi.edi")),
             str(edi_file(PROFESSIONAL, name="clean.edi"))]
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"report{jobs}.json"
        result = runner.invoke(validate, [*paths, "--ack", str(tmp_path / "acks"),
                                          "--jobs", jobs, "-o", str(out)])
        assert result.exit_code == 1, result.output
        outputs.append(json.loads(out.read_text()))
    assert outputs[0]["files"] == outputs[1]["files"]
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "report.schema.json")
                        .read_text())
    jsonschema.validate(outputs[0], schema)
    files = outputs[0]["files"]
    assert [[f["rule"] for f in file["findings"] if f["rule"] != "EDI006"]
            for file in files] == [["IGE1"], []]
    [finding] = [f for f in files[0]["findings"] if f["rule"].startswith("IG")]
    assert (finding["rule"], finding["segment_index"], finding["loop"], finding["value"],
            finding["transaction_control_number"]) == ("IGE1", 34, "2010AA", "NM103", "0002")
    assert sorted(p.name for p in (tmp_path / "acks").iterdir()) == ["clean.999", "multi.999"]


def test_cli_takes_control_numbers_from_the_counter_given(runner, edi_file, tmp_path):
    path = str(edi_file(PROFESSIONAL, name="clean.edi"))
    counter = tmp_path / "counter"
    counter.write_text("41\n")
    for expected in ("000000042", "000000043"):
        result = runner.invoke(validate, [path, "--ack", str(tmp_path / "acks"),
                                          "--control-numbers", str(counter)])
        assert result.exit_code == 0, result.output
        assert envelope_numbers(tmp_path / "acks" / "clean.999")[0] == expected
    counter.write_text("not a number\n")
    result = runner.invoke(validate, [path, "--ack", str(tmp_path / "acks"),
                                      "--control-numbers", str(counter)])
    assert result.exit_code == 2 and str(counter) in result.output
    result = runner.invoke(validate, [path, "--control-numbers", str(counter)])
    assert result.exit_code == 2 and "--ack" in result.output


def test_cli_without_pyx12_exits_2(runner, edi_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyx12", None)  # import pyx12 -> ImportError
    result = runner.invoke(validate, [str(edi_file(PROFESSIONAL))])
    assert result.exit_code == 2
    assert "pip install pyx12" in result.output


def test_validate_text_says_no_billing_rules_ran(tmp_path):
    from click.testing import CliRunner

    from edi837.cli import main

    sample = Path(__file__).resolve().parents[2] / "samples" / "837p-j2350-clean.edi"
    result = CliRunner().invoke(main, ["validate", str(sample)])
    assert "drug table n/a" not in result.output and "drug lines" not in result.output
    assert "implementation-guide validation: no billing rules" in result.output


# -- what validate shares with check: unreadable files, the claims' figures --------------
MALFORMED = Path(__file__).resolve().parents[1] / "data" / "malformed"


def test_truncated_file_is_unreadable_as_check_says(runner, edi_file, tmp_path):
    """A file cut short was validated as a file with findings (status 1) while
    `check` calls it unreadable (status 2): its claims cannot all be read."""
    from edi837.cli import main

    path = MALFORMED / "truncated.edi"
    result = runner.invoke(validate, [str(path)])
    assert result.exit_code == 2, result.output
    assert f"edi837: {path}:73: EDI002 transaction 0002 is not closed (the file ends " \
        "inside it: truncated?)\n" in result.output
    assert f"edi837: {path}:73: EDI002 file ends inside interchange 000000801 (no IEA): " \
        "truncated?\n" in result.output
    assert f"  unreadable: {path} sha256 " in result.output
    checked = runner.invoke(main, ["check", str(path)])
    assert checked.exit_code == 2
    report = validate_paths([path])
    [file] = report.files
    assert file.status == "unreadable" and report.exit_status() == 2
    assert [(f.rule, f.segment_index) for f in file.findings if f.rule.startswith("EDI")] \
        == [("EDI002", 73)] * 3
    # a file cut inside a claim's segment, and one cut between two segments
    text = wrap_claims(PROFESSIONAL)
    for cut in (text[:text.index("LIN**N4*5024")], text[:text.index("SE*")]):
        result = runner.invoke(validate, [str(edi_file(cut, wrap=False, name="cut.edi"))])
        assert result.exit_code == 2, result.output
        assert "EDI002 transaction 0001 is not closed (the file ends inside it: " \
            "truncated?)\n" in result.output


def test_segments_outside_a_transaction_set_make_the_file_unreadable_as_in_check(
        runner, edi_file):
    text = wrap_claims(PROFESSIONAL).replace("GE*1*1~", "GE*1*1~\nCLM*C9*600~")
    path = edi_file(text, wrap=False, name="stray.edi")
    result = runner.invoke(validate, [str(path)])
    assert result.exit_code == 2, result.output
    assert f"edi837: {path}:29: EDI002 CLM outside any transaction set (segment 29): " \
        "segments there are not read\n" in result.output


def test_ig_findings_carry_their_claims_charge_and_payer_as_checks_do(runner):
    """The IG findings had no CLM02 or payer: the summary said $0.00 held on
    claims 'without a charge' and '(no payer id)'."""
    from edi837.config import Config
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine

    sample = Path(__file__).resolve().parents[2] / "samples" / \
        "837p-j2350-defects-ig-invalid.edi"
    result = runner.invoke(validate, [str(sample)])
    assert result.exit_code == 1, result.output
    assert "charges held: $95,850.00 on 3 claims with errors (CLM02, each claim once)\n" \
        in result.output
    assert "  99901 EXAMPLE MEDICARE PART B MAC: $95,850.00 on 3 claims (largest: IGE7 " \
        "$63,900.00, IGS3 $31,950.00)\n" in result.output
    assert "without a charge" not in result.output and "no payer id" not in result.output
    checked = Engine(load_drug_table([]), Config()).check_file(sample).findings

    def claims(findings):
        return {f.claim_id: (f.payer_id, f.payer_name, f.claim_charge, f.billing_npi)
                for f in findings if f.claim_id}

    found = ig(validate_file(sample))
    assert len(found) == 3 and claims(found) == claims(checked)
    assert claims(found)["IGX-DOS001"] == ("99901", "EXAMPLE MEDICARE PART B MAC", "31950",
                                           "1839204769")
    assert [f.service_date for f in found] == ["20251212", "20251215", "20251217"]


def test_999_of_a_truncated_file_counts_the_sets_it_acknowledges(edi_file, tmp_path):
    """No SE, GE, IEA: pyx12 wrote AK9*R*0*0*0*3 beside an AK2 for set 0001.  AK903
    (received) counts the AK2s, and AK902 (included: GE01, which is missing) too; AK905
    3 says the group trailer is missing (trial item 5)."""
    text = wrap_claims(PROFESSIONAL)
    cut = edi_file(text[:text.index("SE*")], wrap=False, name="cut.edi")
    target = write_999(cut, tmp_path)
    acks = segments(target.read_text())
    assert [s[2] for s in acks if s[0] == "AK2"] == ["0001"]
    assert [s for s in acks if s[0] == "AK9"] == [["AK9", "R", "1", "1", "0", "3"]]
    assert pyx12_verdict(target) == (True, "")
    two = edi_file(multi_set(2), wrap=False, name="two.edi").read_text()
    cut = edi_file(two[:two.index("GE*")], wrap=False, name="cut2.edi")
    target = write_999(cut, tmp_path / "two")
    acks = segments(target.read_text())
    assert [s[1] for s in acks if s[0] == "IK5"] == ["A", "A"]
    assert [s for s in acks if s[0] == "AK9"] == [["AK9", "R", "2", "2", "2", "3"]]
    assert pyx12_verdict(target) == (True, "")
