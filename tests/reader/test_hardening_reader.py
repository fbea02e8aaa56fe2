"""Issue #13, reading side: what hostile and other people's 837 files broke.

Each test names the issue item it keeps fixed.
"""
import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.reader.claims import ClaimReader
from edi837.x12.fragment import wrap_claims

CLEAN = wrap_claims(CLEAN_J2350_CLAIM)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def engine():  # one run each: the history of one test is not the next test's
    return Engine(load_drug_table())


def rules_of(result):
    return [(f.rule, f.severity) for f in result.findings]


# -- item 2: segments outside any transaction set ------------------------------------------
def test_claims_before_their_st_are_an_error_and_the_file_unreadable(engine, tmp_path):
    lines = CLEAN.splitlines()
    st = next(i for i, text in enumerate(lines) if text.startswith("ST*"))
    clm = next(i for i, text in enumerate(lines) if text.startswith("CLM*"))
    se = next(i for i, text in enumerate(lines) if text.startswith("SE*"))
    # the claim moved before ST: outside any transaction set
    moved = lines[:st] + lines[clm:se] + lines[st:clm] + lines[se:]
    path = tmp_path / "claims-before-st.edi"
    path.write_text("\n".join(moved) + "\n")
    result = engine.check_file(path)
    stray = [f for f in result.findings if f.rule == "EDI002"]
    assert stray and stray[0].severity == "error"
    assert stray[0].segment == "CLM" and "outside any transaction set" in stray[0].message
    assert f"{se - clm} segments from {st + 1}" in stray[0].message  # one finding for the run
    assert result.status == "unreadable"


def test_a_ta1_between_isa_and_gs_is_not_stray(engine, tmp_path):
    lines = CLEAN.splitlines()
    lines.insert(1, "TA1*000000001*261101*1200*A*000~")
    path = tmp_path / "ta1.edi"
    path.write_text("\n".join(lines) + "\n")
    assert [f.rule for f in engine.check_file(path).findings if f.rule == "EDI002"] == []


# -- item 3: ISA11 equal to the segment terminator -----------------------------------------
def test_isa11_equal_to_the_terminator_is_refused(runner, tmp_path):
    text = CLEAN.replace("*^*00501*", "*~*00501*", 1)
    path = tmp_path / "isa11.edi"
    path.write_text(text)
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert "EDI001" in result.stderr and "ISA11" in result.stderr


def test_component_separator_that_cannot_work_is_refused(engine, tmp_path):
    path = tmp_path / "isa16.edi"
    path.write_text(CLEAN.replace("*T*:~", "*T**~", 1))  # ISA16 = element separator
    result = engine.check_file(path)
    assert ("EDI001", "error") in rules_of(result) and result.status == "unreadable"


# -- item 5: one CSV writer ----------------------------------------------------------------
def test_extract_csv_never_writes_a_bare_carriage_return(runner, tmp_path):
    path = tmp_path / "cr.edi"
    path.write_text(CLEAN.replace("CLM*C1*", "CLM*\r=1+2*", 1))
    result = runner.invoke(main, ["extract", str(path)])
    assert result.exit_code == 0
    rows = result.stdout.split("\n")
    assert "\r" not in result.stdout
    assert len([r for r in rows if r]) == 2  # header and one drug line
    assert not any(r.startswith("=") for r in rows)
    assert "\\x0d=1+2" in rows[1]  # the CR shown, so the cell cannot start a formula


def test_csv_cells_with_leading_blanks_before_a_formula_are_neutralised():
    from edi837.safetext import excel_safe

    assert excel_safe(" =1+1") == "' =1+1"
    assert excel_safe("\t@SUM(A1)") == "'\t@SUM(A1)"
    assert excel_safe("J2350") == "J2350"


# -- item 6: an output that is an input ----------------------------------------------------
@pytest.mark.parametrize("command", ["check", "extract"])
def test_an_output_that_is_an_input_is_refused(runner, tmp_path, command):
    path = tmp_path / "claims.edi"
    path.write_text(CLEAN)
    before = path.read_bytes()
    result = runner.invoke(main, [command, str(path), "-o", str(path)])
    assert result.exit_code == 2
    assert "is one of the input files" in result.stderr
    assert path.read_bytes() == before


# -- item 12: a short ISA inside a file ----------------------------------------------------
def test_extract_goes_on_after_a_short_isa_inside_a_file(runner, tmp_path):
    bad = CLEAN.replace("LX*2", "ISA*00*X*01\nLX*2", 1)
    (tmp_path / "a-short-isa.edi").write_text(bad)
    (tmp_path / "b-good.edi").write_text(CLEAN)
    result = runner.invoke(main, ["extract", str(tmp_path), "--format", "jsonl"])
    assert "Traceback" not in result.output and not isinstance(result.exception, IndexError)
    assert result.exit_code == 2
    files = [json.loads(line)["file"] for line in result.stdout.splitlines()]
    assert any(name.endswith("b-good.edi") for name in files)


# -- items 13 and 15: padding and missing terminators cost one chunk, not the file ----------
def _peak_rss_mib(args) -> tuple[int, float]:
    """Exit status and peak RSS (MiB) of `edi837 ARGS` in a child process."""
    script = textwrap.dedent(f"""
        import resource, subprocess, sys
        p = subprocess.run([sys.executable, "-m", "edi837", *{args!r}],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    return int(out[0]), int(out[1]) / 1024


@pytest.mark.slow
@pytest.mark.parametrize("filler", [b"\x00", b"\n"])
def test_padding_after_the_interchange_costs_one_chunk(tmp_path, filler):
    path = tmp_path / "padded.edi"
    with open(path, "wb") as out:
        out.write(CLEAN.encode())
        block = filler * (1 << 20)
        for _ in range(40):
            out.write(block)
    for command in ("check", "extract"):
        status, rss = _peak_rss_mib([command, str(path)])
        assert status == 0 and rss < 64, (command, status, rss)


def test_padding_after_the_interchange_is_noted_only_when_unusual(engine, tmp_path):
    nul = tmp_path / "nul.edi"
    nul.write_bytes(CLEAN.encode() + b"\x00" * 5000)
    result = engine.check_file(nul)
    assert [f.message for f in result.findings if f.rule == "EDI006"] == [
        "input normalised to read it: NUL or Ctrl-Z padding between or after interchanges"]
    newlines = tmp_path / "newlines.edi"
    newlines.write_bytes(CLEAN.encode() + b"\n" * 5000)
    assert [f.rule for f in engine.check_file(newlines).findings if f.rule == "EDI006"] == []


@pytest.mark.slow
def test_a_file_without_terminators_stops_early_in_bounded_memory(tmp_path):
    path = tmp_path / "no-terminator.edi"
    isa = CLEAN.split("\n", 1)[0]
    with open(path, "wb") as out:
        out.write(isa.encode() + b"\n")
        block = b"GS*HC*A*B*20260101*1200*1*X*005010X222A1*" * (1 << 14)
        for _ in range(100):
            out.write(block)
    status, rss = _peak_rss_mib(["check", str(path)])
    assert status == 2 and rss < 64, (status, rss)


def test_no_terminator_is_reported_with_its_position(engine, tmp_path):
    path = tmp_path / "no-terminator.edi"
    isa = CLEAN.split("\n", 1)[0]
    path.write_bytes(isa.encode() + b"GS*HC" + b"x" * (5 << 20))
    result = engine.check_file(path)
    assert result.status == "unreadable"
    assert any("no segment terminator" in f.message for f in result.findings)


# -- items 17, 18: misplaced drug loop, ambiguous composites -------------------------------
LINE_ADJUDICATED = """
CLM*C1*9400***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RAY****XX*1234567893
NM1*77*2*SUITE*****XX*1234567893
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
SVD*PAYER01*9000*HC:J2350:JZ**600
DTP*573*D8*20260201
LIN**N4*50242015001
CTP****20*ML
LX*2
SV1*HC:96365*400*UN*1***1
DTP*472*D8*20260115
"""


def test_lin_after_the_line_adjudication_loop_is_reported_and_read(read):
    claims, reader = read(LINE_ADJUDICATED)
    edi007 = [f for f in reader.findings if f.rule == "EDI007"]
    assert len(edi007) == 1 and edi007[0].segment == "LIN" and "2430" in edi007[0].message
    assert claims[0].lines[0].ndc == "50242015001"  # still read, so NDC rules judge it
    assert claims[0].lines[0].drug.quantity == "20"


def test_lin_in_its_place_is_not_reported(read):
    claims, reader = read(CLEAN_J2350_CLAIM)
    assert [f for f in reader.findings if f.rule == "EDI007"] == []


def test_isa16_equal_to_isa11_is_named_as_the_cause(read, edi_file):
    text = CLEAN.replace("*T*:~", "*T*^~", 1)  # ISA16 '^' = ISA11; the body uses ':'  
    reader = ClaimReader(edi_file(text, wrap=False))
    list(reader.claims())
    messages = [f.message for f in reader.findings if f.rule == "EDI007"]
    assert messages and all("ISA16" in m and "equals ISA11" in m for m in messages)


# -- item 19: version and group checks -----------------------------------------------------
def test_rules_lists_edi005_as_error_or_warning(runner):
    line = next(text for text in runner.invoke(main, ["rules"]).output.splitlines()
                if text.startswith("EDI005"))
    assert "error / warning" in line


def test_gs01_other_than_hc_and_gs08_other_than_st03_are_warned(engine, tmp_path):
    path = tmp_path / "gs.edi"
    path.write_text(CLEAN.replace("GS*HC*", "GS*HP*", 1).replace(
        "*1*X*005010X222A1", "*1*X*005010X222A2", 1))
    found = [(f.rule, f.severity, f.segment) for f in engine.check_file(path).findings
             if f.rule == "EDI005"]
    assert found == [("EDI005", "warning", "GS"), ("EDI005", "warning", "ST")]


# -- smaller items ---------------------------------------------------------------------------
def test_stderr_escapes_control_characters_in_file_names(runner, tmp_path):
    path = tmp_path / "evil\x1b[2Jname.edi"
    path.write_text("not x12 at all\n")
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


def test_bidi_override_in_a_claim_id_is_escaped_in_text_and_html(runner, tmp_path):
    path = tmp_path / "bidi.edi"
    path.write_text(CLEAN.replace("CLM*C1*", "CLM*C1\u202eFDP.EXE*", 1)
                    .replace("50242015001", "50242-150-01"))
    for fmt in ("text", "html"):
        result = runner.invoke(main, ["check", str(path), "--format", fmt])
        assert "\u202e" not in result.stdout, fmt
        assert "\\u202e" in result.stdout, fmt


def test_ten_digit_ndc_suggests_the_one_reading_the_table_lists(engine, tmp_path):
    path = tmp_path / "ten.edi"
    path.write_text(CLEAN.replace("50242015001", "5024215001"))
    found = [f for f in engine.check_file(path).findings if f.rule == "NDC002"]
    assert len(found) == 1 and found[0].fix is None
    assert "only 50242015001 is an NDC the drug table lists for J2350" in found[0].message


def test_ten_digit_ndc_with_no_listed_reading_suggests_nothing(engine, tmp_path):
    path = tmp_path / "ten.edi"
    path.write_text(CLEAN.replace("50242015001", "1234567890"))
    found = [f for f in engine.check_file(path).findings if f.rule == "NDC002"]
    assert "readings" not in found[0].message


@pytest.mark.parametrize("name, mutate, noted", [
    ("lf", lambda t: t, False),
    ("crlf", lambda t: t.replace("\n", "\r\n"), False),
    ("none", lambda t: t.replace("\n", ""), False),
    ("spaces", lambda t: t.replace("~\n", "~\n  "), True),
    ("lone-cr", lambda t: t.replace("\n", "\r"), True),
    ("blank-lines", lambda t: t.replace("~\n", "~\n\n"), True),
])
def test_edi006_only_for_what_is_unusual(engine, tmp_path, name, mutate, noted):
    path = tmp_path / f"{name}.edi"
    path.write_bytes(mutate(CLEAN).encode())
    result = engine.check_file(path)
    assert any(f.rule == "EDI006" for f in result.findings) == noted
    assert result.claims == 1


def test_check_and_extract_on_an_empty_folder_exit_2(runner, tmp_path):
    (tmp_path / "notes.md").write_text("not claims")
    for command in ("check", "extract"):
        result = runner.invoke(main, [command, str(tmp_path)])
        assert result.exit_code == 2, command
        assert "no 837 files found" in result.stderr


def test_an_unreadable_interchange_after_the_last_is_an_error(engine, tmp_path):
    # a second ISA that cannot be read holds claims nobody checks: not a warning
    path = tmp_path / "second.edi"
    path.write_text(CLEAN + CLEAN.replace("*T*:~", "*T**~", 1))
    result = engine.check_file(path)
    assert result.status == "unreadable"
    assert [(f.rule, f.severity) for f in result.findings if f.rule == "EDI002"] == [
        ("EDI002", "error")]
    junk = tmp_path / "junk.edi"
    junk.write_text(CLEAN + "this was appended by a mail client\n")
    assert engine.check_file(junk).status != "unreadable"


@pytest.mark.parametrize("after, lost", [
    ("--\nSent from my claims system\n", False),   # a mail footer: ignored, a warning
    ("Total: 3 claims, 5 lines\n", False),
    (bytes(range(256)).decode("latin-1"), False),   # a binary blob (has a '*', no segment)
    ("CLM*HC-AFTER*9400***11:B:1*Y*A*Y*Y~\n", True),  # a claim after the IEA
    ("--\n" + CLEAN, True),                         # stray text, then a good interchange
    ("-~\n" + CLEAN, True),
    ("x" * 1_100_000 + "\nNM1*QC*1~", True),         # the segment a chunk further on
])
def test_text_after_an_interchange_with_segments_in_it_is_an_error(engine, tmp_path, after,
                                                                  lost):
    """Issue #13 (hostile campaign): a stray line between two interchanges or a claim
    after the IEA was a warning and the file was archived with claims unread."""
    path = tmp_path / "after.edi"
    path.write_bytes((CLEAN + after).encode("latin-1"))
    result = engine.check_file(path)
    [edi002] = [f for f in result.findings if f.rule == "EDI002"]
    assert (result.status == "unreadable") == lost
    assert edi002.severity == ("error" if lost else "warning")
    assert ("X12 segments follow it and were not read" in edi002.message) == lost


def test_validate_ignores_a_footer_as_check_does(runner, tmp_path):
    path = tmp_path / "footer.edi"
    path.write_text(CLEAN + "--\nSent from my claims system\n")
    result = runner.invoke(main, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    [edi002] = [f for f in json.loads(result.stdout)["files"][0]["findings"]
                if f["rule"] == "EDI002"]
    assert edi002["severity"] == "warning"
    path.write_text(CLEAN + "--\n" + CLEAN)
    assert runner.invoke(main, ["validate", str(path)]).exit_code == 2


def test_an_empty_header_control_number_is_no_safe_fix(read):
    text = wrap_claims(CLEAN_J2350_CLAIM).replace("ST*837*0001*", "ST*837**", 1)
    claims, reader = read(text, wrap=False)
    [edi003] = [f for f in reader.findings if f.rule == "EDI003"]
    assert edi003.fix is None and "ST02 (empty)" in edi003.message


def test_folders_skip_fifos_and_devices(tmp_path):
    import os

    from edi837.files import discover

    (tmp_path / "a.edi").write_text(CLEAN)
    os.mkfifo(tmp_path / "pipe.edi")
    os.symlink("/dev/zero", tmp_path / "zero.edi")
    assert [p.name for p in discover([tmp_path])] == ["a.edi"]
