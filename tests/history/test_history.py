"""Patient history (issue #12): edits across claims, files and nights.

Each scenario builds small 837P files (subscribers, dependants, claims) and
checks them one after the other, as nights of a clearinghouse, against one
history: this run's own, or a store that outlives the run.
"""
import hashlib
import os
import re
import secrets
import stat

import pytest
from batch_support import new_key
from click.testing import CliRunner

from edi837.cli import main
from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.history import HistoryStore, HistoryStoreError, load_key
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()
# DOC001 named on its own (a severity entry): reported as itself, not in DOC000
DOC001_ALONE = Config(severity={"DOC001": "info"})
HISTORY_CODES = ("HIS", "UNT001", "UNT002", "DOC001")


def subscriber(hl, member="SYN000000001", born="19800101", first="JANE", payer="PAYER01",
               responsibility="P", dependants=()):
    """A 2000B loop (and 2000C loops for ``dependants``: (first name, born))."""
    segments = [f"HL*{hl}*1*22*{1 if dependants else 0}",
                f"SBR*{responsibility}*{'' if dependants else '18'}*******MB",
                f"NM1*IL*1*DOE*{first}****MI*{member}", "N3*1 TEST LANE",
                "N4*SPRINGFIELD*IL*627010000", f"DMG*D8*{born}*F",
                f"NM1*PR*2*SYNTHETIC PAYER*****PI*{payer}"]
    return segments


def dependant(hl, parent, first, born):
    return [f"HL*{hl}*{parent}*23*0", "PAT*19", f"NM1*QC*1*DOE*{first}",
            "N3*1 TEST LANE", "N4*SPRINGFIELD*IL*627010000", f"DMG*D8*{born}*M"]


def claim(claim_id, date, units=600, modifiers="JZ", frequency="1", ndc="50242015001",
          reference="", extra_line=""):
    quantity = {300: "10", 600: "20", 150: "5", 450: "15"}.get(units, "20")
    charge = units * 15
    segments = [f"CLM*{claim_id}*{charge + 400}***11:B:{frequency}*Y*A*Y*Y"]
    if reference:
        segments.append(f"REF*F8*{reference}")
    segments += ["HI*ABK:G35A",
                 "NM1*82*1*RENDER*RAY****XX*1234567893",
                 "NM1*77*2*SUITE*****XX*1234567893", "N3*1 MAIN ST",
                 "N4*SPRINGFIELD*IL*627010000",
                 "LX*1",
                 f"SV1*HC:J2350{':' + modifiers if modifiers else ''}*{charge}*UN*{units}***1",
                 f"DTP*472*D8*{date}", f"LIN**N4*{ndc}", f"CTP****{quantity}*ML",
                 "NM1*DK*1*ORDER*OLA****XX*1234567893",
                 "LX*2", "SV1*HC:96365*400*UN*1***1", f"DTP*472*D8*{date}"]
    if extra_line:
        segments += extra_line.splitlines()
    return segments


def night(tmp_path, name, *loops):
    """An 837P file of the given loops (subscriber HLs and claims)."""
    body = "\n".join(segment for loop in loops for segment in loop)
    path = tmp_path / name
    path.write_text(wrap_claims(body, subscriber=False,
                                control=f"{abs(hash(name)) % 10 ** 9:09d}"))
    return path


def ours(result, codes=HISTORY_CODES):
    return [(f.rule, f.claim_id) for f in result.findings if f.rule.startswith(codes)]


@pytest.fixture
def store(tmp_path):
    opened = HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))
    yield opened
    opened.close()


def run(store, *paths, config=None):
    """One run over ``paths`` with ``store`` (None: the run's own history)."""
    engine = Engine(TABLE, config or DOC001_ALONE, history=store)
    try:
        return [engine.check_file(path) for path in paths]
    finally:
        engine.close()


# -- duplicates ------------------------------------------------------------------------------
def test_duplicate_in_the_same_file_is_flagged_and_not_summed(tmp_path):
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"),
                 claim("C2", "20260115"))
    [result] = run(None, path)
    assert ours(result) == [("HIS001", "C2")]
    finding = next(f for f in result.findings if f.rule == "HIS001")
    assert "already billed on claim C1" in finding.message
    assert finding.severity == "error" and finding.segment == "SV1"


def test_duplicate_in_a_later_run_is_flagged(tmp_path, store):
    monday = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115"))
    tuesday = night(tmp_path, "tuesday.edi", subscriber(2), claim("C1", "20260115"))
    # a first 600 mg dose seen: a maintenance dose, so no first-dose DOC001 (issue 23)
    assert sorted(ours(run(store, monday)[0])) == [("HIS003", "C1")]
    assert ours(run(store, tuesday)[0]) == [("HIS001", "C1")]
    # the duplicate was held (an error), so it is not in the history twice; only
    # drug lines are kept (not the 96365 administration line)
    assert store.stats()["lines_by_hcpcs"] == {"J2350": 1}


def test_a_held_claims_corrected_resend_is_no_duplicate(tmp_path):
    bad = claim("C1", "20260115", ndc="50242-150-01")  # NDC002: held
    path = night(tmp_path, "a.edi", subscriber(2), bad, claim("C1", "20260115"))
    [result] = run(None, path)
    assert ("HIS001", "C1") not in ours(result)


def test_secondary_payer_and_repeat_modifier_are_no_duplicates(tmp_path):
    first = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    secondary = night(tmp_path, "b.edi", subscriber(2, responsibility="S"),
                      claim("C2", "20260116", modifiers="JZ"),
                      claim("C3", "20260116", modifiers="JZ:76"))
    first_result, second = run(None, first, secondary)
    assert "HIS001" not in [rule for rule, _ in ours(second)]


def test_identical_claims_never_skip_the_history_for_their_shape(tmp_path):
    # the shape cache remembers the first claim as clean; the next two are duplicates
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"),
                 claim("C2", "20260115"), claim("C3", "20260115"))
    [result] = run(None, path)
    assert ours(result, ("HIS001",)) == [("HIS001", "C2"), ("HIS001", "C3")]


# -- replacements and voids --------------------------------------------------------------------
def test_replacement_replaces_the_original_lines(tmp_path, store):
    run(store, night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115", units=300,
                                                               modifiers="JZ")))
    replaced = night(tmp_path, "b.edi", subscriber(2),
                     claim("C1", "20260115", units=600, frequency="7", reference="ICN1"))
    assert "HIS001" not in [rule for rule, _ in ours(run(store, replaced)[0])]
    # the 300 is gone: another 300 that day makes 900 with the replacement, not 1,200
    extra = night(tmp_path, "c.edi", subscriber(2), claim("C9", "20260115", units=300))
    [result] = run(store, extra)
    unt002 = next(f for f in result.findings if f.rule == "UNT002")
    assert unt002.message.startswith("J2350 on 2026-01-15: 900 units administered "
                                     "(600 of them on claim C1)")


def test_void_removes_and_a_rebill_is_no_duplicate(tmp_path, store):
    run(store, night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115")))
    void = night(tmp_path, "b.edi", subscriber(2),
                 claim("C1", "20260115", frequency="8", reference="ICN1"))
    assert ours(run(store, void)[0]) == []
    assert store.stats()["lines"] == 0
    rebill = night(tmp_path, "c.edi", subscriber(2), claim("C1", "20260115"))
    assert ("HIS001", "C1") not in ours(run(store, rebill)[0])


def test_void_of_a_claim_the_history_does_not_hold_is_noted(tmp_path, store):
    void = night(tmp_path, "a.edi", subscriber(2),
                 claim("C5", "20260115", frequency="8", reference="ICN5"))
    [result] = run(store, void)
    found = [f for f in result.findings if f.rule == "HIS004"]
    assert len(found) == 1 and found[0].severity == "info" and found[0].value == "ICN5"


# -- daily totals across claims ----------------------------------------------------------------
def test_split_dose_on_one_claim_is_one_dose(tmp_path):
    split = claim("C1", "20260115", units=300, modifiers="",
                  extra_line="LX*3\nSV1*HC:J2350*4500*UN*300***1\nDTP*472*D8*20260115\n"
                             "LIN**N4*50242015001\nCTP****10*ML")
    [result] = run(None, night(tmp_path, "a.edi", subscriber(2), split))
    assert [rule for rule, _ in ours(result)] == []


def test_600_and_300_on_two_claims_the_same_day_is_over_the_maximum(tmp_path):
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"),
                 claim("C2", "20260115", units=300))
    [result] = run(None, path)
    assert ("UNT002", "C2") in ours(result) and ("UNT001", "C2") in ours(result)
    finding = next(f for f in result.findings if f.rule == "UNT002")
    assert finding.message == ("J2350 on 2026-01-15: 900 units administered (600 of them on "
                               "claim C1), above the maximum of 600 units per day")


def test_twins_under_one_subscriber_are_two_patients(tmp_path):
    loops = [subscriber(2, dependants=True), dependant(3, 2, "ALEX", "20100101"),
             claim("C1", "20260115"), dependant(4, 2, "SAM", "20100101"),
             claim("C2", "20260115")]
    [result] = run(None, night(tmp_path, "a.edi", *loops))
    assert ours(result) == []


# -- the dose schedule -------------------------------------------------------------------------
@pytest.mark.parametrize("first, second, units, flagged", [
    ("20251001", "20251015", 300, False),  # induction pair, 14 days
    ("20251001", "20251031", 300, True),   # second induction dose 30 days later
    ("20251101", "20260502", 600, False),  # maintenance, 182 days
    ("20251124", "20260302", 600, True),   # maintenance 98 days after the last
])
def test_schedule(tmp_path, store, first, second, units, flagged):
    run(store, night(tmp_path, "a.edi", subscriber(2), claim("C1", first, units=units)))
    [result] = run(store, night(tmp_path, "b.edi", subscriber(2),
                                claim("C2", second, units=units)))
    his002 = [f for f in result.findings if f.rule == "HIS002"]
    assert bool(his002) == flagged
    if flagged and units == 600:
        assert his002[0].message == (
            "J2350: 600 units on 2026-03-02, 98 days after J2350 600 units on claim C1 on "
            "2025-11-24; the label's interval is 6 months; Ocrevus label before the 5/2026 "
            "revision of its section 2.3 (Dosage and Administration: delayed or missed "
            "doses): \"Doses of OCREVUS must be separated by at least 5 months\" "
            "(150 days)")


def test_a_late_claim_is_judged_against_the_dose_after_it(tmp_path, store):
    run(store, night(tmp_path, "a.edi", subscriber(2), claim("C2", "20260302")))
    [result] = run(store, night(tmp_path, "b.edi", subscriber(2), claim("C1", "20251124")))
    [finding] = [f for f in result.findings if f.rule == "HIS002"]
    assert finding.claim_id == "C1"
    assert "a claim for an earlier date), 98 days before J2350 600 units on claim C2 on " \
           "2026-03-02" in finding.message


def test_a_payer_profile_overrides_the_schedule_window(tmp_path, store):
    from edi837.config import parse_config

    config = parse_config({"profiles": [{"name": "strict", "payer_ids": ["PAYER01"],
                                         "schedules": {"J2350": {"maintenance_min_days": 90}}}]})
    run(store, night(tmp_path, "a.edi", subscriber(2), claim("C1", "20251124")), config=config)
    [result] = run(store, night(tmp_path, "b.edi", subscriber(2), claim("C2", "20260302")),
                   config=config)
    assert [f for f in result.findings if f.rule == "HIS002"] == []


# -- first dose seen ---------------------------------------------------------------------------
def test_first_dose_and_its_documentation_only_with_a_store(tmp_path, store):
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20251001", units=300))
    # a run alone cannot tell a first dose: DOC001 on the dose size, no HIS003
    assert ours(run(None, path)[0]) == [("DOC001", "C1")]
    [result] = run(store, path)
    assert sorted(ours(result)) == [("DOC001", "C1"), ("HIS003", "C1")]
    doc = next(f for f in result.findings if f.rule == "DOC001")
    assert "first J2350 dose seen for this member" in doc.message
    # the second induction dose is no first dose: no DOC001 on its size
    later = night(tmp_path, "b.edi", subscriber(2), claim("C2", "20251015", units=300))
    assert [rule for rule, _ in ours(run(store, later)[0])] == []


def test_without_a_store_doc001_stays_on_the_dose_size(tmp_path):
    [result] = run(None, night(tmp_path, "a.edi", subscriber(2),
                               claim("C1", "20251001", units=300)))
    doc = [f for f in result.findings if f.rule == "DOC001"]
    assert len(doc) == 1 and "likely an initial dose" in doc[0].message


# -- files, runs and the store ----------------------------------------------------------------
def test_an_unreadable_file_forwards_nothing_to_the_history(tmp_path, store):
    good = night(tmp_path, "good.edi", subscriber(2), claim("C1", "20260115"))
    cut = tmp_path / "cut.edi"
    text = good.read_text()
    cut.write_text(text[:text.index("SE*")])
    truncated, again = run(store, cut, good)
    assert truncated.status == "unreadable"
    assert ("HIS001", "C1") not in ours(again)


def test_the_store_holds_no_member_id_name_or_birth_date(tmp_path, store):
    path = night(tmp_path, "a.edi", subscriber(2, member="MEMBERXYZ123", first="QUENTINA",
                                                 born="19771231"), claim("C1", "20260115"))
    run(store, path)
    store.close()
    data = (tmp_path / "history.sqlite3").read_bytes()
    for secret in (b"MEMBERXYZ123", b"QUENTINA", b"19771231", b"DOE"):
        assert secret not in data, secret


def test_a_store_refuses_another_key(tmp_path, store):
    store.close()
    with pytest.raises(HistoryStoreError, match="another key"):
        HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))


def test_prune_and_forget_file(tmp_path, store):
    old = night(tmp_path, "old.edi", subscriber(2), claim("C1", "20251001"))
    new = night(tmp_path, "new.edi", subscriber(2), claim("C2", "20261115"))
    results = run(store, old, new)
    assert store.stats()["lines"] == 2
    import datetime as dt

    assert store.prune(400, today=dt.date(2026, 11, 29)) == 1  # older than 2025-10-25
    assert store.forget_file(results[1].sha256) == 1
    assert store.stats()["lines"] == 0


# -- the command line ----------------------------------------------------------------------
def test_check_with_history_across_two_runs(tmp_path):
    runner = CliRunner()
    from edi837.history.identity import default_key_path

    store, key = tmp_path / "h.sqlite3", default_key_path()  # (XDG_DATA_HOME: the test's)
    monday = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115"))
    tuesday = night(tmp_path, "tuesday.edi", subscriber(2), claim("C7", "20260115"))
    first = runner.invoke(main, ["check", str(monday), "--history", str(store)])
    assert first.exit_code == 0, first.output
    assert "created history key" in first.stderr  # the default key only is made
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    second = runner.invoke(main, ["check", str(tuesday), "--history", str(store),
                                  "--history-key", str(key)])
    assert second.exit_code == 1 and "HIS001" in second.stdout
    stats = runner.invoke(main, ["history", "stats", str(store), "--history-key", str(key)])
    lines = stats.output.splitlines()
    assert lines[0].startswith(f"{store}: 1 drug line of 1 patient, dates of service ")
    assert re.search(r"dates of service \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d$", lines[0])
    assert lines[1].startswith("  from 2 files in 2 runs; last added ")  # the held one too
    assert lines[2:] == ["  J2350: 1 line"]
    monday_sha = hashlib.sha256(monday.read_bytes()).hexdigest()
    assert monday_sha[:12] in second.stdout  # HIS001 names the earlier file so
    from edi837.history import HistoryStore

    opened = HistoryStore.open(store, load_key(key))  # two files: "" starts both
    try:
        assert len(opened.files_starting("")) == 2
        assert opened.files_starting(monday_sha[:12]) == [monday_sha]
    finally:
        opened.close()
    short = runner.invoke(main, ["history", "forget-file", str(store), "--history-key",
                                 str(key), monday_sha[:11]])
    assert short.exit_code == 2 and "first 12 or more" in short.stderr
    forget = runner.invoke(main, ["history", "forget-file", str(store), "--history-key",
                                  str(key), monday_sha[:12]])  # as the finding shows it
    assert forget.output == f"{store}: 1 line of file {monday_sha} deleted\n"
    pruned = runner.invoke(main, ["history", "prune", str(store), "--history-key", str(key),
                                  "--history-days", "1"])
    assert pruned.output == f"{store}: 0 lines older than 1 day deleted\n"


def test_history_options_typed_wrong_never_pass_quietly(tmp_path):
    runner = CliRunner()
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    result = runner.invoke(main, ["check", str(path), "--history-key", str(tmp_path / "k")])
    assert result.exit_code == 2 and "need --history" in result.stderr
    store, key = tmp_path / "h.sqlite3", new_key(tmp_path / "h.key")
    runner.invoke(main, ["check", str(path), "--history", str(store), "--history-key", str(key)])
    other = new_key(tmp_path / "other.key")
    result = runner.invoke(main, ["check", str(path), "--history", str(store),
                                  "--history-key", str(other)])
    assert result.exit_code == 2 and "another key" in result.stderr
    result = runner.invoke(main, ["history", "forget-file", str(store), "--history-key",
                                  str(key), "ab" * 32])
    assert result.exit_code == 2 and "holds no line of file" in result.stderr


def test_a_key_readable_by_others_is_refused(tmp_path):
    key = tmp_path / "loose.key"
    key.write_text(secrets.token_hex(32))
    key.chmod(0o644)
    from edi837.history import HistoryKeyError

    with pytest.raises(HistoryKeyError, match="readable by other users"):
        load_key(key)


# -- UNT004 (MAI 2/3) across claims ------------------------------------------------------------
def _mue_table(tmp_path):
    from refdata_files import mue_reference

    from edi837.refdata import open_reference

    return load_drug_table(refdata=open_reference(mue_reference(tmp_path / "refdata")))


def test_mue_per_day_sums_the_providers_claims_of_the_date(tmp_path):
    table = _mue_table(tmp_path)  # J2350: MUE 600, MAI 3 (an example value)
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"),
                 claim("C2", "20260115", units=300))
    engine = Engine(table)
    [found] = [f for f in engine.check_file(path).findings if f.rule == "UNT004"]
    assert found.claim_id == "C2" and "across claims (C1 earlier)" in found.message
    assert found.value == "900"


def test_mue_across_claims_is_a_payer_profile_setting(tmp_path):
    from edi837.config import parse_config

    config = parse_config({"defaults": {"mue_across_claims": False}})
    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"),
                 claim("C2", "20260115", units=300))
    findings = Engine(_mue_table(tmp_path), config).check_file(path).findings
    assert [f for f in findings if f.rule == "UNT004"] == []


def test_a_file_checked_again_replaces_what_it_added(tmp_path, store):
    monday = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115"))
    run(store, monday)
    [again] = run(store, monday)  # the operator re-runs the night: not a resend
    assert "HIS001" not in [rule for rule, _ in ours(again)]
    assert store.stats()["lines"] == 1 and store.stats()["files"] == 1


def test_a_copy_of_a_file_in_the_same_run_is_a_resend(tmp_path, store):
    """Two files with the same bytes in one run are sent twice, with a lasting
    history as without one: the second is judged against the first."""
    monday = night(tmp_path, "monday.edi", subscriber(2), claim("C1", "20260115"))
    copy = tmp_path / "monday-copy.edi"
    copy.write_bytes(monday.read_bytes())
    alone = run(None, monday, copy)
    lasting = run(store, monday, copy)
    assert ours(alone[1]) == ours(lasting[1]) == [("HIS001", "C1")]
    [again] = run(store, monday)  # a later run checking it again: not a resend
    assert "HIS001" not in [rule for rule, _ in ours(again)]


def test_reports_name_the_history_they_judged_by(tmp_path):
    import json

    path = night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))
    store, key = tmp_path / "h.sqlite3", new_key(tmp_path / "h.key")
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json", "--history",
                                       str(store), "--history-key", str(key)])
    history = json.loads(result.stdout)["reference_data"]["history"]
    assert history["store"] == str(store) and history["lasting"]
    assert len(history["key_fingerprint"]) == 16
    alone = json.loads(CliRunner().invoke(main, ["check", str(path), "--format", "json"]).stdout)
    assert alone["reference_data"]["history"]["lasting"] is False


def test_check_says_when_opening_the_history_pruned_lines(tmp_path):
    # G35A valid, 400+ days ago
    old = night(tmp_path, "old.edi", subscriber(2), claim("C1", "20251010"))
    store, key = str(tmp_path / "h.sqlite3"), str(new_key(tmp_path / "h.key"))
    argv = ["check", str(old), "--history", store, "--history-key", key]
    first = CliRunner().invoke(main, argv + ["--history-days", "0"])
    assert "pruned" not in first.stderr  # 0 keeps every line
    second = CliRunner().invoke(main, argv)  # the line is past the 400 days
    assert "history: 1 line(s) with a date of service more than 400 days ago pruned" \
        in second.stderr


def test_fix_split_and_ack_judge_each_file_against_the_files_before_it(tmp_path):
    """A claim sent again in a later file of the same run is a duplicate for `fix
    --split` and `ack` as for `check` (each file was judged alone before)."""
    runner = CliRunner()
    folder = tmp_path / "in"
    folder.mkdir()
    night(folder, "a-monday.edi", subscriber(2), claim("C1", "20260115"))
    night(folder, "b-tuesday.edi", subscriber(2), claim("C7", "20260115"))
    checked = runner.invoke(main, ["check", str(folder)])
    assert checked.exit_code == 1 and "HIS001" in checked.stdout  # what check finds
    out = tmp_path / "fixed"
    fixed = runner.invoke(main, ["fix", str(folder), "--out-dir", str(out), "--split"])
    assert fixed.exit_code == 1, fixed.output
    assert "CLM*C7" in (out / "b-tuesday.held.edi").read_text()  # held: a duplicate
    assert "CLM*C1" in (out / "a-monday.accepted.edi").read_text()
    assert not (out / "a-monday.held.edi").exists() or \
        "CLM*C1" not in (out / "a-monday.held.edi").read_text()
    acks = tmp_path / "acks"
    acked = runner.invoke(main, ["ack", str(folder), "--out-dir", str(acks)])
    assert acked.exit_code in (0, 1), acked.output
    monday, tuesday = (acks / "a-monday.277").read_text(), (acks / "b-tuesday.277").read_text()
    assert "STC*A1:20" in monday and "HIS001" not in monday
    assert "STC*A1:20" not in tuesday.split("TRN*2*C7")[1] and "HIS001" in tuesday


def test_forgetting_a_file_whose_claims_were_all_held_says_why_nothing_is_there(tmp_path):
    runner = CliRunner()
    store, key = tmp_path / "h.sqlite3", new_key(tmp_path / "h.key")
    held = night(tmp_path, "held.edi", subscriber(2), claim("C1", "20260115",
                                                            ndc="50242-150-01"))
    checked = runner.invoke(main, ["check", str(held), "--history", str(store),
                                   "--history-key", str(key)])
    assert checked.exit_code == 1 and "NDC002" in checked.stdout
    later = night(tmp_path, "later.edi", subscriber(2, member="SYN000000002"),
                  claim("C2", "20260116"))  # its run's prune drops the file with no line
    assert runner.invoke(main, ["check", str(later), "--history", str(store),
                                "--history-key", str(key)]).exit_code == 0
    sha = hashlib.sha256(held.read_bytes()).hexdigest()
    result = runner.invoke(main, ["history", "forget-file", str(store), "--history-key",
                                  str(key), sha])
    assert result.exit_code == 2
    assert f"holds no line of file {sha}" in result.stderr
    assert "all held" in result.stderr
