"""277CA claim acknowledgments (issue #17): `edi837 ack`, `--ack277` on check and fix.

Every 277CA these tests write is read by pyx12 as the independent validator
(its 277 X214 map), through :func:`valid`.
"""
from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM
from pyx12check import pyx12_verdict
from test_validate import multi_set  # sets of one claim each (C1, C2 ...); broken: 999 rejects

from edi837.acks import ControlNumbers
from edi837.acks.ack277 import Ack277Error, OutputExists, write_277ca
from edi837.acks.ack999 import Acceptance, AckReadError
from edi837.acks.statuses import status_table
from edi837.cli import main
from edi837.config import Acknowledgments, Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
# the clean claim with its NDC taken off the drug line: NDC001 on LX 1, a line finding
# (an error for Medicaid, filing="MC"; Medicare does not ask a named HCPCS for an NDC)
NO_NDC = CLEAN_J2350_CLAIM.replace("LIN**N4*50242015001\nCTP****20*ML\n", "") \
    .replace("CLM*C1*", "CLM*C2*")


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture(scope="module")
def table():
    return load_drug_table([])


@pytest.fixture
def runner():
    return CliRunner()


def findings(path: Path, table, config: Config | None = None):
    return Engine(table, config or Config()).check_file(path).findings


def segments(path: Path) -> list[list[str]]:
    return [line.rstrip("~").split("*") for line in path.read_text().splitlines() if line]


def valid(path: Path) -> list[list[str]]:
    """The 277CA's segments, after pyx12 has accepted it."""
    ok, messages = pyx12_verdict(path)
    assert ok, messages
    return segments(path)


def claims_of(acks: list[list[str]]) -> dict[str, dict]:
    """Per CLM01 (2200D TRN02): the patient NM1, claim STCs, REFs, DTP and 2220D loops."""
    found: dict[str, dict] = {}
    claim = line = None
    for segment in acks:
        tag = segment[0]
        if tag == "HL":
            claim = {"stc": [], "ref": {}, "lines": []} if segment[3] == "PT" else None
            line = None
        elif claim is None:
            continue
        elif tag == "NM1":
            claim["patient"] = segment
        elif tag == "TRN":
            found[segment[2]] = claim
        elif tag == "SVC":
            line = {"svc": segment, "stc": [], "ref": {}}
            claim["lines"].append(line)
        elif tag == "STC":
            (line or claim)["stc"].append(segment)
        elif tag == "REF":
            (line or claim)["ref"][segment[1]] = segment[2]
        elif tag == "DTP":
            (line or claim)["dtp"] = segment
    return found


def rejected(acks) -> set[str]:
    return {cid for cid, c in claims_of(acks).items() if c["stc"][0][3] == "U"}


def accept_all(path: Path) -> Acceptance:
    """What a 999 accepting every set of ``path`` says (tests of the 277CA alone)."""
    from edi837.acks.ack999 import SetVerdict
    from edi837.reader.claims import ClaimReader

    sets = {(c.envelope.group, c.envelope.transaction) for c in ClaimReader(path).claims()}
    return Acceptance([SetVerdict(g, t, "A") for g, t in sorted(sets)], set(), "test 999")


def write(path, table, out_dir, **options):
    options.setdefault("acceptance", accept_all(Path(path)))
    return write_277ca(path, findings(Path(path), table), out_dir, **options)


# -- 1. what a 277CA says ---------------------------------------------------------------

def test_hierarchy_trace_numbers_and_patient_of_an_accepted_claim(edi_file, table, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM, name="clean.edi")
    result = write(path, table, tmp_path / "acks")
    assert result.output == tmp_path / "acks" / "clean.277" and result.accepted == 1
    acks = valid(result.output)
    tags = [s[0] for s in acks]
    assert [s[3] for s in acks if s[0] == "HL"] == ["20", "21", "19", "PT"]
    assert ["ST", "277", "0001", "005010X214"] in acks
    assert acks[tags.index("NM1")][:3] == ["NM1", "AY", "2"]  # 2100A: the clearinghouse
    receiver = [s for s in acks if s[:2] == ["NM1", "41"]][0]
    assert receiver[3] == "EDI837 TEST SUBMITTER" and receiver[8:] == ["46", "SUB0001"]
    assert ["TRN", "2", "BATCH0001"] in acks  # 2200B: the 837's BHT03
    claim = claims_of(acks)["C1"]
    assert claim["stc"] == [["STC", "A1:20", claim["stc"][0][2], "WQ", "9400"]]
    assert claim["patient"][1:4] == ["QC", "1", "DOE"] and claim["patient"][-2:] == \
        ["MI", "SYN000000001"]
    assert "D9" in claim["ref"] and "1K" not in claim["ref"]  # our trace, never the payer's
    assert claim["dtp"] == ["DTP", "472", "D8", "20260115"]
    assert claim["lines"] == []  # service lines only for lines a finding rejects
    assert not any(s[0] == "STC" and s[1].startswith("A2") for s in acks)


def test_a_line_finding_rejects_the_claim_with_an_svc_loop(edi_file, table, tmp_path):
    fragment = NO_NDC.replace("SV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115\n",
                              "SV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115\n"
                              "REF*6R*LINE-0001\n")
    path = edi_file(CLEAN_J2350_CLAIM + fragment.replace("20260115", "20260116"), filing="MC")
    result = write(path, table, tmp_path)
    assert (result.accepted, result.rejected_claims) == (1, ["C2"])
    claim = claims_of(valid(result.output))["C2"]
    row = status_table().for_rule("NDC001")
    assert [s[1] for s in claim["stc"]] == [row.composite()] == ["A6:218"]
    assert claim["stc"][0][3:5] == ["U", "9400"]
    assert claim["stc"][0][-1].startswith("NDC001 line 1; ")  # STC12 says why, in words
    [line] = claim["lines"]
    assert line["svc"][1:3] == ["HC:J2350:JZ", "9000"] and line["svc"][-1] == "600"
    assert [s[1] for s in line["stc"]] == ["A6:218"] and line["stc"][0][3] == "U"
    assert line["ref"] == {"FJ": "LINE-0001"}  # REF*FJ from the line's REF*6R
    assert line["dtp"] == ["DTP", "472", "D8", "20260116"]


def test_institutional_claim_has_its_bill_type_and_revenue_code(table, tmp_path):
    result = write(SAMPLES / "837i-j2350-defects.edi", table, tmp_path)
    claims = claims_of(valid(result.output))
    assert all(c["ref"]["BLT"] == "131" for c in claims.values())
    lines = [line for c in claims.values() for line in c["lines"]]
    assert lines and all(line["svc"][4] for line in lines)  # SVC04 revenue code


def test_claim_findings_and_their_rows(table, tmp_path):
    """Each held claim of the defect sample: one STC per reason, coded by its rule's row."""
    path = SAMPLES / "837p-j2350-defects.edi"
    result = write(path, table, tmp_path)
    claims = claims_of(valid(result.output))
    assert claims["DEF-MOD002"]["stc"][0][1] == "A8:453"
    assert claims["DEF-DX001"]["stc"][0][1] == "A8:255"
    assert claims["DEF-NDC004"]["stc"][0][1] == "A8:218"
    assert claims["DEF-NDC004"]["stc"][0][10] == "A8:454"  # STC10: the second code
    for claim_id in result.rejected_claims:
        rules = {s[-1].split()[0] for s in claims[claim_id]["stc"]}
        assert {s[1] for s in claims[claim_id]["stc"]} == \
            {status_table().for_rule(rule).composite() for rule in rules}


def test_identity_from_configuration_and_the_envelope_swapped(edi_file, table, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM)
    default = valid(write(path, table, tmp_path / "a").output)
    assert default[0][5:9] == ["ZZ", "EDI837RECEIVE  ", "ZZ", "EDI837SUBMIT   "]
    assert default[1][2:4] == ["EDI837RECEIVE", "EDI837SUBMIT"]
    assert ["NM1", "AY", "2", "EDI837 TEST RECEIVER", "", "", "", "", "46", "REC0001"] \
        in default  # the 837's 1000B by default
    identity = Acknowledgments(name="EXAMPLE CLEARINGHOUSE", id="990000009", qualifier="FI",
                               sender_id="CH0001", sender_qualifier="30")
    chosen = valid(write(path, table, tmp_path / "b", identity=identity).output)
    assert chosen[0][5:7] == ["30", "CH0001         "] and chosen[1][2] == "CH0001"
    assert ["NM1", "AY", "2", "EXAMPLE CLEARINGHOUSE", "", "", "", "", "FI", "990000009"] \
        in chosen


def test_without_a_receiver_or_configuration_the_set_cannot_be_acknowledged(edi_file, table,
                                                                           tmp_path):
    receiver = "NM1*40*2*EDI837 TEST RECEIVER*****46*REC0001~\n"  # 1000B
    path = edi_file(wrap_claims(CLEAN_J2350_CLAIM).replace(receiver, ""), wrap=False)
    result = write(path, table, tmp_path)
    assert result.output is None and "no clearinghouse name and id" in result.skipped[0]
    assert "(the set starts at segment 3)" in result.skipped[0]
    configured = Acknowledgments(name="EXAMPLE CLEARINGHOUSE", id="CH0001")
    assert valid(write(path, table, tmp_path, identity=configured).output)


def test_text_from_the_file_cannot_break_the_structure(edi_file, table, tmp_path):
    text = wrap_claims(NO_NDC, filing="MC").replace("SUB0001", "SUB^0001") \
        .replace("CLM*C2*", "CLM*C~2*")
    path = edi_file(text.replace("CLM*C~2*", "CLM*C:2*"), wrap=False)
    acks = valid(write(path, table, tmp_path).output)
    assert ["TRN", "2", "C 2"] in acks
    assert [s for s in acks if s[:2] == ["NM1", "41"]][0][-1] == "SUB 0001"


@pytest.mark.parametrize("filing, rejected_claims", [("MC", ["C2"]), ("MB", []), ("CI", [])])
def test_the_277ca_rejects_only_on_errors_under_the_claims_payer_policy(
        edi_file, table, tmp_path, filing, rejected_claims):
    """J2350 without an NDC: Medicaid requires it (an error: rejected), Medicare does not
    (no finding), a commercial payer may (a warning: accepted)."""
    path = edi_file(CLEAN_J2350_CLAIM + NO_NDC.replace("20260115", "20260116"), filing=filing)
    result = write(path, table, tmp_path)
    assert result.rejected_claims == rejected_claims
    assert result.accepted == 2 - len(rejected_claims)
    assert rejected(valid(result.output)) == set(rejected_claims)
    severities = {f.severity for f in findings(path, table) if f.rule == "NDC001"}
    assert severities == {"MC": {"error"}, "MB": set(), "CI": {"warning"}}[filing]


# -- 2. accepted and held as fix --split decides; the 999's verdict; control numbers ------

@pytest.mark.parametrize("sample", ["837p-j2350-defects.edi", "837i-j2350-defects.edi"])
def test_rejected_claims_are_exactly_the_held_claims_of_fix_split(sample, runner, tmp_path):
    fixed = runner.invoke(main, ["fix", str(SAMPLES / sample), "--out-dir",
                                 str(tmp_path / "fix"), "--split", "--ack277",
                                 str(tmp_path / "fixacks")])
    assert fixed.exit_code == 1, fixed.output
    stem = Path(sample).stem
    held = json.loads((tmp_path / "fix" / f"{stem}.held.json").read_text())["held"]
    held_ids = {c["claim_id"] for c in held}
    assert held_ids and rejected(valid(tmp_path / "fixacks" / f"{stem}.277")) == held_ids
    assert (tmp_path / "fixacks" / f"{stem}.999").exists()

    acked = runner.invoke(main, ["ack", str(SAMPLES / sample), "--out-dir",
                                 str(tmp_path / "acks")])
    assert acked.exit_code == 1, acked.output
    acks = valid(tmp_path / "acks" / f"{stem}.277")
    assert rejected(acks) == held_ids
    claims = claims_of(acks)
    for claim in held:  # and each says why: the rows of the rules that hold it
        assert {s[1] for s in claims[claim["claim_id"]]["stc"]} == \
            {status_table().for_rule(r["rule"]).composite() for r in claim["reasons"]}


def test_check_ack277_rejects_every_claim_with_an_error(runner, tmp_path, table):
    sample = SAMPLES / "837p-j2350-defects.edi"
    done = runner.invoke(main, ["check", str(sample), "--format", "json",
                                "--ack277", str(tmp_path)])
    assert done.exit_code == 1
    with_errors = {f.claim_id for f in findings(sample, table) if f.severity == "error"}
    assert rejected(valid(tmp_path / "837p-j2350-defects.277")) == with_errors


def test_a_set_the_999_rejects_gets_no_277ca(runner, edi_file, tmp_path):
    path = edi_file(multi_set(3, broken=(2,)), wrap=False, name="three.edi")
    done = runner.invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "acks")])
    assert done.exit_code == 1
    assert "transaction set 0002 (group 1, interchange 000000001): no 277CA" in done.output
    acks = valid(tmp_path / "acks" / "three.277")
    assert [s[2] for s in acks if s[0] == "ST"] == ["0001", "0002"]  # our own numbering
    assert set(claims_of(acks)) == {"C1", "C3"}
    # the same verdict read from the 999 just written, and nothing for a file without one
    again = runner.invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "again"),
                                 "--999", str(tmp_path / "acks")])
    assert again.exit_code == 1 and set(claims_of(valid(tmp_path / "again" / "three.277"))) \
        == {"C1", "C3"}
    missing = runner.invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "none"),
                                   "--999", str(tmp_path)])
    assert missing.exit_code == 2 and "no 999" in missing.output
    assert not (tmp_path / "none" / "three.277").exists()


def test_a_999_of_another_file_is_no_999_for_it(runner, edi_file, tmp_path):
    """`ack --999 DIR` where DIR/<stem>.999 acknowledges another file: no 277CA,
    as without a 999 (exit status 2, README), not a rejection (1)."""
    path = tmp_path / "in" / "clean.edi"
    other = tmp_path / "other" / "clean.edi"
    for source, target in (("837p-j2350-clean.edi", path), ("837i-j2350-clean.edi", other)):
        target.parent.mkdir()
        target.write_bytes((SAMPLES / source).read_bytes())
    assert runner.invoke(main, ["validate", str(other), "--ack", str(tmp_path / "999s")]) \
        .exit_code == 0
    done = runner.invoke(main, ["ack", str(path), "--999", str(tmp_path / "999s"),
                                "--out-dir", str(tmp_path / "acks")])
    assert done.exit_code == 2, done.output
    assert done.output == f"edi837: {path}: transaction set 0001 (group 101, interchange " \
        "000000101): no 277CA: clean.999 does not acknowledge it\n"
    assert list((tmp_path / "acks").iterdir()) == []
    # its own 999 acknowledges it
    assert runner.invoke(main, ["validate", str(path), "--ack", str(tmp_path / "own")]) \
        .exit_code == 0
    done = runner.invoke(main, ["ack", str(path), "--999", str(tmp_path / "own"),
                                "--out-dir", str(tmp_path / "acks")])
    assert done.exit_code == 0, done.output
    assert valid(tmp_path / "acks" / "clean.277")


def test_a_set_the_999_does_not_mention_gets_no_277ca_and_exit_2(runner, edi_file,
                                                                  tmp_path):
    """The 999 of a file of two sets, read for a file of three (the same group and
    set numbers): the two it acknowledges get a 277CA, the third none, status 2."""
    two = tmp_path / "two" / "three.edi"
    two.parent.mkdir()
    two.write_text(multi_set(2))
    path = edi_file(multi_set(3), wrap=False, name="three.edi")
    assert runner.invoke(main, ["validate", str(two), "--ack", str(tmp_path / "999s")]) \
        .exit_code == 0
    done = runner.invoke(main, ["ack", str(path), "--999", str(tmp_path / "999s"),
                                "--out-dir", str(tmp_path / "acks")])
    assert done.exit_code == 2, done.output
    assert f"edi837: {path}: transaction set 0003 (group 1, interchange 000000001): no " \
        "277CA: three.999 does not acknowledge it\n" in done.output
    assert f"{path}: 277CA -> {tmp_path / 'acks' / 'three.277'}: 2 transaction set(s), " \
        "1 claim(s) accepted, 1 rejected\n" in done.output  # C2 repeats C1: a duplicate
    assert set(claims_of(valid(tmp_path / "acks" / "three.277"))) == {"C1", "C2"}


def test_999_verdicts_group_rejections_ta1_and_unreadable(tmp_path):
    ack = tmp_path / "x.999"
    ack.write_text(wrap_ack(["AK1*HC*5*005010X222A1", "AK2*837*0001", "IK5*A",
                             "AK2*837*0002", "IK5*E", "AK9*R*2*2*2*4"]))
    verdicts = Acceptance.from_999(ack)
    assert "rejects it (R)" in verdicts.verdict("000000001", "5", "0001")
    assert "rejects it (R)" in verdicts.verdict("000000001", "5", "0002")
    assert "does not acknowledge" in verdicts.verdict("000000001", "5", "0003")
    ack.write_text(wrap_ack(["AK1*HC*5", "AK2*837*0001", "IK5*E", "AK9*E*1*1*1"],
                            ta1="TA1*000000007*261101*1200*R*022"))
    verdicts = Acceptance.from_999(ack)
    assert verdicts.verdict("000000001", "5", "0001") is None  # accepted with errors
    assert "TA1 rejects" in Acceptance.from_999(ack).verdict("000000007", "5", "0001")
    ack.write_text("not a 999")
    with pytest.raises(AckReadError, match="x.999"):
        Acceptance.from_999(ack)


def wrap_ack(body: list[str], ta1: str | None = None) -> str:
    lines = ["ISA*00*          *00*          *ZZ*A              *ZZ*B              "
             "*261101*1200*^*00501*000000009*0*T*:"] + ([ta1] if ta1 else [])
    lines += ["GS*FA*A*B*20261101*1200*9*X*005010X231", "ST*999*0001*005010X231", *body,
              f"SE*{len(body) + 2}*0001", "GE*1*9", "IEA*1*000000009"]
    return "~\n".join(lines) + "~\n"


def test_control_numbers_never_repeat_and_come_from_the_999s_counter(runner, edi_file,
                                                                      tmp_path, state):
    path = edi_file(CLEAN_J2350_CLAIM, name="c.edi")
    numbers = []
    for run in ("one", "two"):
        assert runner.invoke(main, ["ack", str(path), "--out-dir",
                                    str(tmp_path / run)]).exit_code == 0
        for name in ("c.999", "c.277"):
            isa = segments(tmp_path / run / name)[0]
            numbers.append(isa[13])
    assert numbers == ["000000001", "000000002", "000000003", "000000004"]
    assert ControlNumbers(state / "control-numbers").last() == 4


def test_command_line_ids_replace_the_swapped_envelope(runner, edi_file, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM, name="c.edi")
    done = runner.invoke(main, ["ack", str(path), "--out-dir", str(tmp_path),
                                "--sender-id", "CH0001", "--receiver-id", "PM0001"])
    assert done.exit_code == 0, done.output
    isa, gs = valid(tmp_path / "c.277")[:2]
    assert (isa[6], isa[8], gs[2], gs[3]) == ("CH0001         ", "PM0001         ", "CH0001",
                                              "PM0001")


def test_existing_output_needs_force_and_force_removes_a_stale_one(edi_file, table, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM, name="c.edi")
    first = write(path, table, tmp_path)
    with pytest.raises(OutputExists, match="--force"):
        write(path, table, tmp_path)
    assert write(path, table, tmp_path, force=True).output == first.output
    nothing = Acceptance([], set(), "empty 999")
    result = write(path, table, tmp_path, force=True, acceptance=nothing)
    assert result.output is None and not first.output.exists()
    assert result.skipped == ["transaction set 0001 (group 1, interchange 000000001): "
                              "no 277CA: empty 999 does not acknowledge it"]


@pytest.mark.parametrize("name, message", [
    ("truncated.edi", "truncated.edi:34: no 277CA: an envelope is not closed (EDI002)"),
    ("not-x12.edi", "not-x12.edi:1: no 277CA: the file is not X12 (EDI001)")])
def test_unreadable_file_gets_no_277ca_and_a_message(name, message, edi_file, table, tmp_path):
    text = wrap_claims(CLEAN_J2350_CLAIM)
    text = text[:text.index("SE*")] if name == "truncated.edi" else "hello, this is no 837\n"
    path = edi_file(text, wrap=False, name=name)
    with pytest.raises(Ack277Error, match=re.escape(message)):
        write_277ca(path, findings(path, table), tmp_path, acceptance=Acceptance([], set(), "-"))
    assert list(tmp_path.glob("*.277")) == [] and list(tmp_path.glob(".*")) == []


def test_cli_names_the_file_and_exits_2_without_a_traceback(runner, edi_file, tmp_path):
    text = wrap_claims(CLEAN_J2350_CLAIM)
    bad = edi_file(text[:text.index("SE*")], wrap=False, name="cut.edi")
    good = edi_file(CLEAN_J2350_CLAIM, name="good.edi")
    done = runner.invoke(main, ["ack", str(bad), str(good), "--out-dir", str(tmp_path / "o")])
    assert done.exit_code == 2 and "Traceback" not in done.output
    assert f"{bad}: no 277CA" in done.output
    assert valid(tmp_path / "o" / "good.277")  # one bad file never stops the run
    again = runner.invoke(main, ["ack", str(good), "--out-dir", str(tmp_path / "o")])
    assert again.exit_code == 2 and "exists (use --force" in again.output
    bad_id = runner.invoke(main, ["ack", str(good), "--out-dir", str(tmp_path / "p"),
                                  "--sender-id", "WAY*TOO*LONG*SENDER"])
    assert bad_id.exit_code == 2 and "--sender-id" in bad_id.output
    no_split = runner.invoke(main, ["fix", str(good), "--out-dir", str(tmp_path / "f"),
                                    "--ack277", str(tmp_path / "f")])
    assert no_split.exit_code == 2 and "--split" in no_split.output


# -- 3. the status table ------------------------------------------------------------------

def test_status_table_uses_only_codes_pyx12_accepts_and_covers_every_rule():
    import xml.etree.ElementTree as ET

    import pyx12

    from edi837.rules import all_rules

    maps = Path(pyx12.__file__).parent / "map"
    codes = {c.findtext("id"): {x.text for x in c.iter("code")}
             for c in ET.parse(maps / "codes.xml").getroot()}
    x214 = ET.parse(maps / "277.5010.X214.xml").getroot()
    entities = {x.text for e in x214.iter("element") if e.get("xid") == "STC01-03"
                for x in e.iter("code")}
    table = status_table()
    rows = [table.accepted, table.receipt, table.default, *table.rules.values()]
    for row in rows:
        assert row.category in codes["claim_status_cat"] and row.category != "A2"
        assert {row.code, row.also or row.code} <= codes["claim_status"]
        assert not row.entity or row.entity in entities
    assert table.accepted.category == "A1" and table.receipt.category == "A1"
    for code in all_rules():  # a rule rejects with its own row, or is said never to
        assert code in table.rules or code in table.never, code


def test_status_table_refuses_rows_without_a_source_or_a_meaning():
    import tomllib
    from importlib import resources

    from edi837.acks.statuses import StatusTableError, parse_table

    data = tomllib.loads(resources.files("edi837.acks").joinpath("status-codes.toml")
                         .read_text())
    del data["rules"]["NDC001"]["source"]
    with pytest.raises(StatusTableError, match="rules.NDC001: source is missing"):
        parse_table(data)
    data["rules"]["NDC001"] = {"category": "A6", "status": "999", "source": "made up"}
    with pytest.raises(StatusTableError, match="999 is not in"):
        parse_table(data)


def test_rules_command_prints_the_277ca_row(runner):
    done = runner.invoke(main, ["rules", "NDC004"])
    assert "277CA" in done.output and "A8:218, STC10 A8:454" in done.output
    assert "source: 507 A8" in done.output
    assert "never rejects a claim" in runner.invoke(main, ["rules", "EDI004"]).output
    assert "A3:481" in runner.invoke(main, ["rules", "EDI003"]).output  # a repeated ISA13
    assert "A3:684" in runner.invoke(main, ["rules", "IGS8"]).output


# -- 4. worker processes: no state shared but the counter ------------------------------------

def _acknowledge_in_a_worker(path: str, out_dir: str) -> tuple[str, int]:
    table = load_drug_table([])
    result = write(Path(path), table, out_dir)
    return str(result.output), result.accepted


def test_workers_write_each_files_277ca_once_with_their_own_numbers(edi_file, tmp_path):
    paths = [str(edi_file(CLEAN_J2350_CLAIM.replace("C1", f"W{n}"), name=f"w{n}.edi"))
             for n in range(4)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(pool.map(_acknowledge_in_a_worker, paths, [str(tmp_path / "o")] * 4))
    assert [Path(out).name for out, _ in done] == ["w0.277", "w1.277", "w2.277", "w3.277"]
    numbers = sorted(valid(Path(out))[0][13] for out, _ in done)
    assert numbers == ["000000001", "000000002", "000000003", "000000004"]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == \
        ["w0.277", "w1.277", "w2.277", "w3.277"]  # no temporary file left


def test_configuration_table_is_checked():
    from edi837.config import ConfigError, parse_config

    config = parse_config({"acknowledgments": {"name": "CH", "id": "CH01",
                                               "sender_id": "CH01"}})
    assert config.acknowledgments.qualifier == "46"
    for bad, message in [({"qualifier": "ZZ"}, "qualifier"), ({"name": "A*B"}, "name"),
                         ({"sender_id": "X" * 16}, "sender_id"), ({"colour": "red"}, "unknown")]:
        with pytest.raises(ConfigError, match=message):
            parse_config({"acknowledgments": bad})


def test_write_acknowledgments_writes_a_files_999_and_277ca_once(edi_file, table, tmp_path):
    """What the batch calls once a file's findings are final."""
    from edi837.acks.ack277 import write_acknowledgments

    path = edi_file(multi_set(2, broken=(2,)), wrap=False, name="m.edi")
    result = write_acknowledgments(path, findings(path, table), tmp_path)
    assert result.output == tmp_path / "m.277" and (result.sets, result.accepted) == (1, 1)
    assert "0002" in result.skipped[0] and "rejects it (R)" in result.skipped[0]
    assert set(claims_of(valid(result.output))) == {"C1"}
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix}
    with pytest.raises(OutputExists):  # checked before anything is written
        write_acknowledgments(path, findings(path, table), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix} == written


def test_readme_table_says_what_the_status_table_says():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("| rules | 277CA status"):]
    section = section[:section.index("\n\n")]
    table, said = status_table(), set()
    for row in section.splitlines()[2:]:
        rules, statuses = row.strip("|").split("|")
        for group, status in zip(rules.split(" / "), statuses.split(" / "), strict=True):
            words = status.split()
            for rule in group.split(","):
                rule = rule.strip()
                found = table.for_rule(rule)
                assert words[0] == found.composite(), rule
                assert (words[1:3] == ["with", found.second()]) == bool(found.also), rule
                said.add(rule)
    assert set(table.rules) <= said


# -- issue 23 item 12: a line's STC names each status once ------------------------------

def test_a_line_stc_never_repeats_a_status_in_stc10(edi_file, table, tmp_path):
    # PASS: one rule's status on the line, STC10 empty
    one = CLEAN_J2350_CLAIM.replace("LIN**N4*50242015001\n", "LIN**N4*5024201500\n")
    result = write(edi_file(one, name="one.edi"), table, tmp_path / "one")
    [line] = claims_of(valid(result.output))["C1"]["lines"]
    assert len(line["stc"]) == 1 and len(line["stc"][0]) <= 10  # no STC10
    # FAIL before the fix: JW and JZ on one line give MOD002 and MOD003, two rows of
    # the status table with the same A8:453; the line's STC said it twice (STC01, STC10)
    both = CLEAN_J2350_CLAIM.replace("SV1*HC:J2350:JZ*", "SV1*HC:J2350:JW:JZ*")
    held = {f.rule for f in findings(edi_file(both), table) if f.severity == "error"}
    assert {"MOD002", "MOD003"} <= held
    assert status_table().for_rule("MOD002").composite() == \
        status_table().for_rule("MOD003").composite() == "A8:453"
    result = write(edi_file(both, name="both.edi"), table, tmp_path / "both")
    [line] = claims_of(valid(result.output))["C1"]["lines"]
    for stc in line["stc"]:
        sent = [stc[1]] + [value for value in stc[10:12] if value]
        assert len(sent) == len(set(sent)), stc
    assert [s[1] for s in line["stc"]] == ["A8:453"]


def test_stc12_keeps_the_message_readable_where_it_had_a_colon(tmp_path):
    """A colon is the 277CA's component separator: a finding's 'X: Y' comes back as
    'X; Y', not 'X Y' (which read as one run-on phrase)."""
    from edi837.acks.x214 import COMPONENT, _prose, clean, serialise

    text = "NDC004 line 1 NDC 50242055401 is Ocrevus Zunovo, not J2350: bill J2351"
    written = serialise([["STC", "A8" + COMPONENT + "218", clean(_prose(text), 264)]])
    assert "not J2350; bill J2351" in written
    assert written.count(":") == 1  # only the composite's own separator
