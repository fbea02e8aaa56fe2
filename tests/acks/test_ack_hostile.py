"""Issue 24 items 7-9: acknowledgments of hostile inputs.  Every 999 and 277CA
written here is checked by pyx12 as an independent validator."""
from __future__ import annotations

from pathlib import Path

import pytest
from batch_support import drop, options, summaries
from click.testing import CliRunner
from hostile_corpus import BASE_I, text, with_delimiters
from pyx12check import pyx12_verdict

from edi837.batch import run_batch
from edi837.cli import main


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of every 999 here: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def valid(path: Path) -> None:
    ok, errors = pyx12_verdict(path)
    assert ok, f"{path.name}: {errors}\n{path.read_text(encoding='latin-1')}"


def segments(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text(encoding="latin-1").split("~") if s.strip()]


# -- item 8: an 837I whose ST03 is not its GS08 ------------------------------------
ST03_NOT_GS08 = text([s.replace("ST*837*0001*005010X223A2", "ST*837*0001*005010X222A1")
                      for s in BASE_I]).encode()


@pytest.fixture
def st03_file(tmp_path) -> Path:
    assert b"ST*837*0001*005010X222A1" in ST03_NOT_GS08
    path = tmp_path / "st03.edi"
    path.write_bytes(ST03_NOT_GS08)
    return path


def _rejected_by_999(ack: Path) -> None:
    valid(ack)
    found = segments(ack)
    assert "IK5*R*I6" in found  # implementation convention not supported
    assert any(s.startswith("AK9*R*1*1*0") for s in found)


def test_validate_ack_rejects_an_st03_that_is_not_gs08(tmp_path, st03_file):
    result = CliRunner().invoke(main, ["validate", str(st03_file), "--ack", str(tmp_path / "a")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    assert "IGE7" in result.output and "ST03" in result.output
    _rejected_by_999(tmp_path / "a" / "st03.999")


def test_ack_rejects_an_st03_that_is_not_gs08(tmp_path, st03_file):
    result = CliRunner().invoke(main, ["ack", str(st03_file), "--out-dir", str(tmp_path / "a")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    assert "rejects it (R)" in result.output
    _rejected_by_999(tmp_path / "a" / "st03.999")
    assert not (tmp_path / "a" / "st03.277").exists()  # a rejected set gets no 277CA


def test_check_ack277_rejects_an_st03_that_is_not_gs08(tmp_path, st03_file):
    result = CliRunner().invoke(main, ["check", str(st03_file), "--ack277", str(tmp_path / "a")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    _rejected_by_999(tmp_path / "a" / "st03.999")


def test_batch_does_not_quarantine_an_st03_that_is_not_gs08(tmp_path):
    opts = options(tmp_path, ack277=True, settle=0.0, archive=tmp_path / "archive",
                   quarantine=tmp_path / "quarantine")
    drop(opts.inbox, "st03.edi", ST03_NOT_GS08)
    status = run_batch(opts)
    assert status != 2
    assert not any((tmp_path / "quarantine").rglob("*.edi"))
    [summary] = summaries(opts.out)
    assert "internal" not in repr(summary).lower()
    [ack] = list(opts.out.rglob("st03.999"))
    _rejected_by_999(ack)


# -- item 9: delimiters inside a claim id ------------------------------------------
def x12_segments(path: Path) -> list[list[str]]:
    """A file's segments split by the delimiters its ISA names."""
    data = path.read_text(encoding="latin-1")
    element, terminator = data[3], data[105]
    component = data[104]
    assert data[106] == "\n"
    return [s.strip("\n").split(element) for s in data.split(terminator) if s.strip()], component


def _ack(tmp_path, data: bytes, name: str):
    path = tmp_path / f"{name}.edi"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "acks")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result, tmp_path / "acks" / f"{name}.277"


def test_a_claim_id_holding_the_usual_delimiters_is_echoed_in_the_837s_own(tmp_path):
    data = with_delimiters("|", "^", ">", "!").replace(b"CLM|HC-CLEAN|", b"CLM|A*~:|")
    assert b"CLM|A*~:|" in data
    result, ack = _ack(tmp_path, data, "odd")
    valid(ack)
    found, component = x12_segments(ack)
    assert ["TRN", "2", "A*~:"] in found  # TRN02 is the CLM01 sent, not "A"
    assert found[0][16] == ">" and component == ">"
    stc = [s for s in found if s[0] == "STC"]
    assert stc and all(">" in s[1] for s in stc)


def test_a_claim_id_holding_the_277cas_own_delimiters_gets_no_mangled_trn02(tmp_path):
    # A newline terminator cannot be the 277CA's: it is written in * ^ : ~, and the
    # set whose CLM01 holds '*' is not acknowledged rather than echoed as another id.
    from test_ack277 import write

    from edi837.drugs import load_drug_table
    data = with_delimiters("|", "^", ">", "\n", newline="").replace(b"CLM|HC-CLEAN|",
                                                                     b"CLM|A*~:|")
    path = tmp_path / "nl.edi"
    path.write_bytes(data)
    result = write(path, load_drug_table([]), tmp_path / "acks")
    assert result.output is None and not (tmp_path / "acks" / "nl.277").exists()
    [skipped] = result.skipped
    assert "'A*~:'" in skipped and "TRN02" in skipped


@pytest.mark.parametrize("value", ["A*~:", "x|y!z>w^v", "~~~", "*", "a\x07b"])
def test_no_value_breaks_the_277ca_in_any_delimiters(value):
    from edi837.acks import x214
    for delimiters in (x214.STANDARD, ("|", "^", ">", "!"), ("!", "{", "}", "'")):
        text = x214.serialise([["TRN", "2", x214.clean(value)]], delimiters)
        element, terminator = delimiters[0], delimiters[3]
        assert text.count(terminator) == 1 and text.count(element) == 2
        assert all(c not in text.split(element)[2] for c in delimiters[1:3])


# -- item 7: every 999 of a hostile input is one pyx12 accepts ---------------------------
def _edit(old: str, new: str, segments=None) -> bytes:
    from hostile_corpus import BASE, recount
    segments = list(BASE if segments is None else segments)
    found = [k for k, s in enumerate(segments) if old in s]
    assert found, old
    segments[found[0]] = segments[found[0]].replace(old, new, 1)
    return text(recount(segments)).encode("latin-1")


HOSTILE_999 = {
    # an error in a loop whose id does not fit IK303 (4 characters): 2010AA, 2310B
    "long loop ids": lambda: _edit("NM1*85*2*SYNTHETIC INFUSION CLINIC*", "NM1*85*2**"),
    "long loop id 2310B": lambda: _edit("NM1*82*1*RENDER*RAY****XX*1234567893",
                                        "NM1*82*1*RENDER*RAY****ZZ*1234567893"),
    # raw non-ASCII (UTF-8 bytes, read as two latin-1 characters) in a bad value: IK404
    "non-ASCII bad value": lambda: _edit("N4*SPRINGFIELD*IL*627010000",
                                         "N4*SPRINGFIELD*IL*62701\u00e9\u00e90"),
    "non-ASCII in a code": lambda: _edit("SBR*P*18", "SBR*\u00c3\u00a9*18"),
    # a CR inside a segment id: an IK3 cut in two, a wrong SE01
    "CR inside a segment id": lambda: _edit("DTP*472*D8*20260115", "D\rTP*472*D8*20260115"),
    "CR inside an element": lambda: _edit("REF*EI*990000001", "REF*EI*9900\r00001"),
    # segment ids that are not 2-3 characters of A-Z0-9
    "long segment id": lambda: _edit("N3*100 EXAMPLE ST", "KEVIEW DR*100 EXAMPLE ST"),
    "one-letter segment id": lambda: _edit("N3*100 EXAMPLE ST", "X*100 EXAMPLE ST"),
    "lower-case segment id": lambda: _edit("N3*100 EXAMPLE ST", "n3*100 EXAMPLE ST"),
    # control numbers and conventions an AK1/AK2 cannot copy as they are
    "one-character ST02": lambda: _edit("SE*", "SE*", [s.replace("*0001", "*1") if
                                                      s.startswith(("ST*", "SE*")) else s
                                                      for s in __import__("hostile_corpus").BASE]),
    "twelve-character ST02": lambda: _edit("SE*", "SE*", [
        s.replace("*0001", "*123456789012") if s.startswith(("ST*", "SE*")) else s
        for s in __import__("hostile_corpus").BASE]),
    "letters in GS06": lambda: _edit("GS*HC", "GS*HC", [
        s.replace("*1200*1*X*", "*1200*AB*X*").replace("GE*1*1", "GE*1*AB")
        for s in __import__("hostile_corpus").BASE]),
    # non-ASCII in the sender's id (the 999's ISA08)
    "non-ASCII ISA06": lambda: _edit("ISA*", "ISA*", [
        s.replace("HOSTILESUBMIT  ", "HOSTILE\u00c2\u00acSUBM  ") for s in
        __import__("hostile_corpus").BASE]),
    # the 999's own delimiters inside a bad value (an 837 with other delimiters)
    "999 delimiters in a value": lambda: with_delimiters("|", "^", ">", "!").replace(
        b"N4|SPRINGFIELD|IL|627010000", b"N4|SPRINGFIELD|I*:~^L|627010000"),
}


def _check_999s(tmp_path, names: list[str]) -> None:
    acks = tmp_path / "acks"
    paths = [str(tmp_path / "in" / name) for name in names]
    result = CliRunner().invoke(main, ["validate", *paths, "--ack", str(acks)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1, 2), result.output
    written = sorted(acks.glob("*.999"))
    assert written, result.output
    failures = []
    for ack in written:
        ok, errors = pyx12_verdict(ack)
        raw = ack.read_bytes()
        if not ok or not raw.isascii() or b"\r" in raw:
            failures.append(f"{ack.name}: {errors}\n{raw.decode('latin-1')}")
        segments = raw.decode("ascii", "replace").split("~\n")
        if not any(s.startswith("ST*999") for s in segments):
            # an interchange rejected whole (its ISA06 unreadable, say): a TA1, no 999 set
            if not any(s.startswith("TA1*") and s.split("*")[4] == "R" for s in segments):
                failures.append(f"{ack.name}: neither a 999 set nor a TA1 rejection")
            continue
        st = next(k for k, s in enumerate(segments) if s.startswith("ST*999"))
        se = next(k for k, s in enumerate(segments) if s.startswith("SE*"))
        if segments[se].split("*")[1] != str(se - st + 1):
            failures.append(f"{ack.name}: SE01 {segments[se]} for {se - st + 1} segments")
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_999s_of_hostile_inputs_are_accepted_by_pyx12(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    names = []
    for number, (_case, build) in enumerate(sorted(HOSTILE_999.items())):
        name = f"h{number:02d}.edi"
        (folder / name).write_bytes(build())
        names.append(name)
    _check_999s(tmp_path, names)
    # each 999 says what pyx12 found: a rejected set or group for each of these files
    # (but the one whose only fault is a character in its ISA06: pyx12 accepts that)
    verdicts = {}
    for name, case in zip(names, sorted(HOSTILE_999), strict=True):
        if case == "non-ASCII ISA06":
            continue
        found = segments(tmp_path / "acks" / name.replace(".edi", ".999"))
        verdicts[name] = [s for s in found if s.startswith(("IK3", "IK4", "IK5", "AK9"))]
    assert all(any(s.startswith(("IK5*R", "AK9*R")) for s in v) for v in verdicts.values()), \
        verdicts


def test_a_loop_id_that_does_not_fit_ik303_is_left_out(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "loop.edi").write_bytes(HOSTILE_999["long loop ids"]())
    _check_999s(tmp_path, ["loop.edi"])
    ik3 = [s.split("*") for s in segments(tmp_path / "acks" / "loop.999") if s.startswith("IK3")]
    assert ik3 and all(len(s) < 4 or len(s[3]) <= 4 for s in ik3), ik3
    assert ["IK3", "NM1", "7", "", "8"] in ik3  # NM1*85 (2010AA), the 7th of the set


def test_ak2_and_ak1_name_the_set_so_ack_finds_its_verdict(tmp_path):
    from edi837.acks.ack999 import Acceptance
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "st02.edi").write_bytes(HOSTILE_999["one-character ST02"]())
    _check_999s(tmp_path, ["st02.edi"])
    acceptance = Acceptance.from_999(tmp_path / "acks" / "st02.999")
    assert acceptance.acknowledges("000000101", "1", "1")
    assert acceptance.verdict("000000101", "1", "1") is not None  # rejected, and said so


@pytest.mark.slow
def test_999s_of_the_hostile_corpus_and_mutated_files_are_accepted_by_pyx12(tmp_path):
    """The hostile corpus (its files pyx12 can read) and 60 generated 837P/837I files
    mutated as the campaign mutates them (fixed seed), through one `validate --ack`:
    every 999 written is valid by pyx12, ASCII, with a right SE01."""
    import random

    import hostile_campaign
    import hostile_corpus
    from test_properties import mutate

    folder = tmp_path / "in"
    folder.mkdir()
    names = []
    for case in hostile_corpus.CASES:
        data = case.build()
        if case.validate and len(data) < 100_000:
            names.append(f"c-{case.name}.edi")
            (folder / names[-1]).write_bytes(data)
    rng = random.Random(24)
    for number in range(60):
        data = hostile_campaign.generated(rng.choice(["837P", "837I"]), rng.randint(1, 6),
                                          rng.randrange(10**6), 0.5, rng.choice([2, 500]))
        for _ in range(rng.randint(1, 5)):
            data = mutate(data, [hostile_campaign.random_edit(rng, len(data),
                                                              data.count(b"~\n") + 1)])
        names.append(f"m-{number:02d}.edi")
        (folder / names[-1]).write_bytes(data)
    _check_999s(tmp_path, names)


@pytest.mark.parametrize("claim_id", ["I26^", "^I26", "C>2", "A ^ B"])
def test_a_277ca_value_never_keeps_a_space_where_a_delimiter_was(tmp_path, claim_id):
    from test_ack277 import write

    from edi837.drugs import load_drug_table
    data = with_delimiters("|", "^", ">", "!").replace(b"CLM|HC-CLEAN|",
                                                       b"CLM|" + claim_id.encode() + b"|")
    data = data.replace(b"HOSTILESUBMIT  ", b"HOST^LE>SUB    ")  # ISA06: fixed width
    path = tmp_path / "rep.edi"
    path.write_bytes(data)
    result = write(path, load_drug_table([]), tmp_path / "acks")
    valid(result.output)
    found, _ = x12_segments(result.output)
    trn02 = [s[2] for s in found if s[:2] == ["TRN", "2"]]
    assert " ".join(claim_id.replace("^", " ").replace(">", " ").split()) in trn02
    assert all(value == value.strip() for s in found[2:] for value in s)
    assert len(found[0][8]) == 15 and found[0][8].rstrip() == "HOST LE SUB"


def test_a_999_pyx12_left_cut_off_is_no_999():
    """pyx12's 999 writer logs and goes on when it raises: what it wrote is cut off after
    an AK2.  Such a 999 is never assembled (and so never stamped and written)."""
    from edi837.validate.results import _assemble_999
    from edi837.validate.units import _Unit, _UnitResult
    head = ["ISA*00*          *00*          *ZZ*A              *ZZ*B              *261207*0500"
            "*^*00501*000000001*0*T*:~", "GS*FA*A*B*20261207*0500*1*X*005010X231~",
            "ST*999*0001*005010X231~", "AK1*HC*1*005010X222A1~", "AK2*837*0001*005010X222A1~"]
    tail = ["IK5*A~", "AK9*A*1*1*1~", "SE*6*0001~", "GE*1*1~", "IEA*1*000000001~"]
    units = [_Unit("x", (), True), _Unit("x", (), False, 1)]
    whole = _assemble_999([_UnitResult([], head + tail), _UnitResult([], [head[-1], "IK5*A~"])],
                          units)
    assert whole is not None and whole.rstrip().endswith("IEA*1*000000001~")
    assert _assemble_999([_UnitResult([], head), _UnitResult([], [head[-1], "IK5*A~"])],
                         units) is None
    assert _assemble_999([_UnitResult([], head + tail), _UnitResult([], [head[-1]])],
                         units) is None
