"""Claims the run does not forward stay out of its patient history.

1. `ack`: a transaction set its 999 rejects is sent again by the submitter (the 999
   says the whole set is rejected), so none of its claims is forwarded: a good resend
   of one of them in the next file of the run is no duplicate, and no day over the
   maximum (trial finding: "1200 units administered (600 of them on claim ...)").
2. An ISA13 repeated in one file (EDI003 on the second ISA): a receiver rejects the
   duplicate interchange, so its claims are held by `fix --split`, rejected by the
   277CA (exit status 1), and not kept as forwarded either.

Every EDI written here is read by pyx12 (999s, 277CAs, split files)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pyx12check import pyx12_verdict
from test_ack277 import claims_of, rejected, valid
from test_history import claim, night, subscriber

from edi837.acks.run import Acknowledger
from edi837.api import fix
from edi837.cli import main
from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.x12.fragment import wrap_claims


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def readable(path) -> str:
    ok, messages = pyx12_verdict(path)
    assert ok, messages
    return path.read_text()


def lower_case_sbr09(loop: list[str]) -> list[str]:
    """DMG03 'X', no gender code: edi837 reads nothing from it (the claim has no error),
    pyx12's 999 rejects the set (IK4 code 7, not a valid code).  (SBR09 'mb' was used
    here: edi837 holds it now, EDI007, as the code a payer cannot read.)"""
    return [s[:-1] + "X" if s.startswith("DMG") else s for s in loop]


def resend(tmp_path, first_rejected: bool):
    """monday.edi: C1, 600 units of J2350 on 2026-01-15, in a set the 999 rejects (or
    accepts); tuesday.edi: the same dose for the same member, sent again as C2."""
    loop = subscriber(2)
    first = night(tmp_path, "monday.edi", lower_case_sbr09(loop) if first_rejected else loop,
                  claim("C1", "20260115"))
    second = night(tmp_path, "tuesday.edi", subscriber(2), claim("C2", "20260115"))
    return first, second


@pytest.mark.parametrize("first_rejected", [True, False])
def test_ack_keeps_a_set_the_999_rejects_out_of_the_history(tmp_path, first_rejected):
    first, second = resend(tmp_path, first_rejected)
    table, config = load_drug_table([]), Config()
    acks = Acknowledger(tmp_path / "acks", config.acknowledgments)
    assert acks.start([first, second]) == [first, second]
    monday = acks.acknowledge_as_split(first, table, config)
    tuesday = acks.acknowledge_as_split(second, table, config)
    for name in ("monday.999", "tuesday.999"):
        readable(tmp_path / "acks" / name)
    answer = valid(tuesday.output)
    if first_rejected:  # C1 is to be sent again: C2 is the dose, accepted
        assert "IK5*R" in (tmp_path / "acks" / "monday.999").read_text()
        assert monday.output is None and "monday.999 rejects it (R)" in monday.skipped[0]
        assert rejected(answer) == set() and tuesday.accepted == 1
    else:  # C1 was accepted: C2 is the same dose billed again
        assert rejected(valid(monday.output)) == set()
        assert rejected(answer) == {"C2"}
        reasons = " ".join(s[12] for s in claims_of(answer)["C2"]["stc"] if len(s) > 12)
        assert "HIS001" in reasons


def test_the_ack_command_over_two_files_accepts_the_good_resend(tmp_path):
    first, second = resend(tmp_path, first_rejected=True)
    done = CliRunner().invoke(main, ["ack", str(first), str(second),
                                     "--out-dir", str(tmp_path / "acks")])
    assert done.exit_code == 1, done.output  # monday's set is rejected by its 999
    assert "monday.999 rejects it" in done.output
    assert "tuesday.edi: 277CA -> " in done.output and "1 claim(s) accepted, 0 rejected" \
        in done.output
    assert not (tmp_path / "acks" / "monday.277").exists()
    assert rejected(valid(tmp_path / "acks" / "tuesday.277")) == set()


def test_a_claim_the_277ca_rejects_is_not_forwarded_either(tmp_path):
    """C1 held (1200 units: over the day's maximum), then the right claim sent again."""
    first = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115", units=1200))
    second = night(tmp_path, "tuesday.edi", subscriber(2), claim("C2", "20260115"))
    table, config = load_drug_table([]), Config()
    acks = Acknowledger(tmp_path / "acks", config.acknowledgments)
    acks.start([first, second])
    assert rejected(valid(acks.acknowledge_as_split(first, table, config).output)) == {"C1"}
    assert rejected(valid(acks.acknowledge_as_split(second, table, config).output)) == set()


# -- 2. the same ISA13 twice in one file --------------------------------------------------

def twice(tmp_path, name="twice.edi"):
    """Two interchanges with ISA13 000000901: D1 (member SYN000000001), then D2 (the
    member SYN000000002), each 600 units of J2350 on 2026-01-15."""
    parts = []
    for number, claim_id in ((1, "D1"), (2, "D2")):
        loop = subscriber(2, member=f"SYN00000000{number}")
        body = "\n".join(loop + claim(claim_id, "20260115"))
        parts.append(wrap_claims(body, subscriber=False, control="000000901"))
    path = tmp_path / name
    path.write_text("".join(parts))
    return path


def test_fix_split_holds_the_claims_of_the_repeated_interchange(tmp_path):
    out = tmp_path / "out"
    [result] = fix([twice(tmp_path)], out, split=True).files
    assert result.exit_status == 1
    accepted = readable(out / "twice.accepted.edi")
    assert "CLM*D1" in accepted and "CLM*D2" not in accepted
    assert "CLM*D2" in readable(out / "twice.held.edi")
    [held] = json.loads((out / "twice.held.json").read_text())["held"]
    assert held["claim_id"] == "D2" and [r["rule"] for r in held["reasons"]] == ["EDI003"]


def test_a_wrong_trailer_control_number_still_holds_nothing(tmp_path):
    path = twice(tmp_path)
    # the first ISA13 its own (no repeat), and its IEA02 neither of the two: EDI003 on IEA
    text = path.read_text().replace("IEA*1*000000901", "IEA*1*000000902", 1)
    path.write_text(text.replace("*000000901*0*", "*000000903*0*", 1))
    [result] = fix([path], tmp_path / "out", split=True).files
    assert [(f.rule, f.segment) for f in result.remaining] == []  # IEA02 fixed
    assert result.split is not None and result.split.accepted == 2
    assert "IEA*1*000000903" in readable(tmp_path / "out" / "twice.accepted.edi")


def test_ack_rejects_the_repeated_interchange_and_forwards_none_of_it(tmp_path):
    """In one run: twice.edi, then D2's dose sent again (in a file of its own, right):
    D2 was never accepted, so the resend is no duplicate."""
    path = twice(tmp_path)
    again = night(tmp_path, "again.edi", subscriber(2, member="SYN000000002"),
                  claim("D2-RESEND", "20260115"))
    done = CliRunner().invoke(main, ["ack", str(path), str(again),
                                     "--out-dir", str(tmp_path / "acks")])
    assert done.exit_code == 1, done.output
    assert "twice.edi: 277CA -> " in done.output and "1 claim(s) accepted, 1 rejected" \
        in done.output
    readable(tmp_path / "acks" / "twice.999")
    answer = claims_of(valid(tmp_path / "acks" / "twice.277"))
    assert answer["D1"]["stc"][0][1] == "A1:20"
    assert answer["D2"]["stc"][0][1] == "A3:481" and "EDI003" in answer["D2"]["stc"][0][12]
    assert rejected(valid(tmp_path / "acks" / "again.277")) == set()


# -- batch --ack277: the 999 is read before the driver judges the file's claims ----------

@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("first_rejected", [True, False])
def test_batch_ack277_keeps_a_set_the_999_rejects_out_of_the_history(tmp_path, split,
                                                                     first_rejected):
    from batch_support import drop, ledger, options

    from edi837.batch import run_batch

    made = tmp_path / "made"
    made.mkdir()
    opts = options(tmp_path, ack277=True, split=split)
    for path in resend(made, first_rejected):
        drop(opts.inbox, path.name, path.read_bytes())
    # exit status 1 either way: a set the 999 rejects (monday's), or tuesday's findings
    # (a set the 999 rejects is no finding, but the night is not clean: as `ack` says)
    assert run_batch(opts) == 1
    rows = {r["name"]: r for r in ledger(opts.out)}

    def folder(name):
        return opts.out / rows[name]["run_id"] / "files" / name

    monday_999 = readable(folder("monday.edi") / "monday.999")
    answer = valid(folder("tuesday.edi") / "tuesday.277")
    readable(folder("tuesday.edi") / "tuesday.999")
    if first_rejected:
        assert "IK5*R" in monday_999 and not (folder("monday.edi") / "monday.277").exists()
        assert rejected(answer) == set()
    else:
        assert rejected(valid(folder("monday.edi") / "monday.277")) == set()
        assert rejected(answer) == {"C2"}


def test_batch_split_keeps_the_repeated_interchange_out_of_the_history(tmp_path):
    """batch --split holds D2 (its ISA13 repeats D1's), so D2's dose sent again in the
    next file is judged as the first: no duplicate, no day over the maximum."""
    from batch_support import drop, ledger, options

    from edi837.batch import run_batch

    made = tmp_path / "made"
    made.mkdir()
    opts = options(tmp_path, split=True)
    again = night(made, "again.edi", subscriber(2, member="SYN000000002"),
                  claim("D2-RESEND", "20260115"))
    drop(opts.inbox, "1-twice.edi", twice(made).read_bytes())
    drop(opts.inbox, "2-again.edi", again.read_bytes())
    run_batch(opts)
    rows = {r["name"]: r for r in ledger(opts.out)}

    def report(name):
        folder = opts.out / rows[name]["run_id"] / "files" / name
        return json.loads((folder / "report.json").read_text())["files"][0]["findings"]

    assert ("EDI003", "error") in {(f["rule"], f["severity"]) for f in report("1-twice.edi")}
    held = opts.out / rows["1-twice.edi"]["run_id"] / "files" / "1-twice.edi" / "fixed"
    assert "CLM*D2" in readable(held / "1-twice.held.edi")
    assert [f["rule"] for f in report("2-again.edi") if f["severity"] == "error"] == []


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("first_rejected", [True, False])
def test_check_ack277_keeps_a_set_the_999_rejects_out_of_the_history(tmp_path, jobs,
                                                                     first_rejected):
    first, second = resend(tmp_path, first_rejected)
    acks = tmp_path / "acks"
    done = CliRunner().invoke(main, ["check", str(first), str(second), "--ack277", str(acks),
                                     "--jobs", jobs, "-o", str(tmp_path / "r.json")])
    found = json.loads((tmp_path / "r.json").read_text())["files"]
    errors = {(f["rule"], f["claim_id"]) for file in found for f in file["findings"]
              if f["severity"] == "error"}
    readable(acks / "monday.999")
    answer = valid(acks / "tuesday.277")
    if first_rejected:
        assert done.exit_code == 1 and "monday.999 rejects it" in done.output
        assert errors == set() and rejected(answer) == set()
    else:
        assert done.exit_code == 1 and ("HIS001", "C2") in errors
        assert rejected(answer) == {"C2"}


def test_check_ack277_gives_an_unreadable_file_no_999(tmp_path):
    first, second = resend(tmp_path, first_rejected=False)
    second.write_text(second.read_text().split("GE*")[0])  # cut: EDI002, unreadable
    acks = tmp_path / "acks"
    done = CliRunner().invoke(main, ["check", str(first), str(second), "--ack277", str(acks)])
    assert done.exit_code == 2
    assert sorted(p.name for p in acks.iterdir()) == ["monday.277", "monday.999"]
