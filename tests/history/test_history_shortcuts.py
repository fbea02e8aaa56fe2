"""The history stage's shortcuts give the findings of its full path (edi837.history.stage).

A claim of a patient the history has no line of skips the rules that cannot say
anything of it; with a lasting store only the first-dose rules (HIS003, DOC001's
part) run for it.  Store messages name the earlier file once looked up per file;
patient keys are kept per claim fields, bounded.  Each shortcut is compared here
with the full path on the same claims.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3

import pytest
from test_history import TABLE, claim, dependant, night, run, subscriber

from edi837.config import Config
from edi837.engine import Engine
from edi837.history import HistoryStore, PatientKeys, identity
from edi837.history.stage import HistoryStage
from edi837.reader.claims import ClaimReader

SEEN = ("HIS", "UNT", "DOC001")


def _found(results):
    return [[(f.rule, f.severity, f.claim_id, f.line_number, f.message)
             for f in result.findings if f.rule.startswith(SEEN)] for result in results]


def _night(tmp_path, name):
    """New patients with first doses, a non-labeled dose, a dose over the maximum, a
    discarded amount, two claims of one patient in the file, a drug the table lacks."""
    other = "J9999"
    return night(
        tmp_path, name,
        subscriber(2, member="M1"), claim("A1", "20251001", units=300),
        subscriber(3, member="M2"), claim("B1", "20251001", units=500),
        subscriber(4, member="M3"), claim("C1", "20251001", units=900),
        subscriber(5, member="M4"), claim("D1", "20251001", units=450,
                                          extra_line="LX*3\nSV1*HC:J2350:JW*2250*UN*150***1\n"
                                                     "DTP*472*D8*20251001"),
        subscriber(6, member="M5"), claim("E1", "20251001", units=300),
        claim("E2", "20251015", units=300),
        subscriber(7, member="M6"), claim("F1", "20251001", units=600,
                                          extra_line=f"LX*3\nSV1*HC:{other}*100*UN*1***1\n"
                                                     "DTP*472*D8*20251001"))


@pytest.mark.parametrize("config", [
    Config(severity={"DOC001": "info"}),
    Config(severity={"HIS003": "error"}),  # a first dose held: its line is not kept
    Config(ignore=("HIS003",)),
])
def test_the_shortcuts_find_what_the_full_plan_finds(tmp_path, monkeypatch, config):
    monday = _night(tmp_path, "monday.edi")
    tuesday = night(tmp_path, "tuesday.edi", subscriber(2, member="M1"),
                    claim("A2", "20251015", units=300), subscriber(9, member="M9"),
                    claim("Z1", "20251015", units=300))

    def nights(store):
        found = [_found(run(store, monday, config=config)),
                 _found(run(store, tuesday, config=config))]
        return found, (store.stats()["lines"] if store is not None else None)

    def both(store_path):
        quick = nights(HistoryStore.open(store_path / "quick.sqlite3", key))
        with monkeypatch.context() as patched:  # every claim through the whole plan
            patched.setattr(HistoryStage, "_alone_and_clean", lambda self, record: False)
            patched.setattr("edi837.history.stage.PendingClaim.quick_values",
                            lambda self, stage, plan: None)
            full = nights(HistoryStore.open(store_path / "full.sqlite3", key))
        return quick, full

    key = secrets.token_bytes(32)
    quick, full = both(tmp_path)
    assert quick == full
    findings = [rule for night_ in quick[0] for found in night_ for rule, *_ in found]
    if "HIS003" not in config.ignore:
        assert "HIS003" in findings  # the shortcut for first doses was taken
    alone_quick = _found(run(None, monday, tuesday, config=config))
    with monkeypatch.context() as patched:
        patched.setattr(HistoryStage, "_alone_and_clean", lambda self, record: False)
        patched.setattr("edi837.history.stage.PendingClaim.quick_values",
                        lambda self, stage, plan: None)
        alone_full = _found(run(None, monday, tuesday, config=config))
    assert alone_quick == alone_full
    assert any(rule == "UNT001" for found in alone_quick for rule, *_ in found)


def test_each_duplicate_names_the_file_it_repeats(tmp_path):
    """origin() is looked up once per earlier file while a file is judged: every
    duplicate still names its own file, in this file and the next."""
    store = HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))
    loops = (subscriber(2, member="M1"), claim("C1", "20260115"),
             subscriber(3, member="M2"), claim("C2", "20260115"))
    monday = night(tmp_path, "monday.edi", *loops)
    run(store, monday)
    tuesday = night(tmp_path, "tuesday.edi", *loops, subscriber(4, member="M7"),
                    claim("N1", "20260115"), subscriber(5, member="M7"),
                    claim("N2", "20260115"))
    wednesday = night(tmp_path, "wednesday.edi", *loops)
    results = run(store, tuesday, wednesday)
    sha = hashlib.sha256(monday.read_bytes()).hexdigest()[:12]
    for result, claims in zip(results, (["C1", "C2", "N2"], ["C1", "C2"]), strict=True):
        messages = {f.claim_id: f.message for f in result.findings if f.rule == "HIS001"}
        assert sorted(messages) == claims
        assert f"in file with SHA-256 {sha} of " in messages["C1"]
        assert f"in file with SHA-256 {sha} of " in messages["C2"]
    messages = {f.claim_id: f.message for f in results[0].findings if f.rule == "HIS001"}
    assert "already billed on claim N1 earlier in this run" in messages["N2"]
    store.close()


def test_medicare_answers_kept_are_the_answers_made_afresh(tmp_path, monkeypatch):
    """is_medicare_ffs() is asked once a claim for its patient key: its answers are
    kept per (SBR09, payer id), at most _CACHED of them."""
    from edi837.policy import payer_class

    monkeypatch.setattr(identity, "_CACHED", 2)
    monkeypatch.setattr(identity, "_ffs", {})
    asked = [("MB", "PAYER01"), ("CI", "PAYER01"), ("MA", ""), ("16", "X"), ("MB", "PAYER01"),
             ("CI", "PAYER01"), ("", "")]
    for filing, payer in asked * 2:
        assert identity.is_medicare_ffs(filing, payer) == \
            (payer_class(filing, payer) == identity.MEDICARE_FFS)
        assert len(identity._ffs) <= 2
    assert [identity.is_medicare_ffs(f, p) for f, p in asked[:4]] == [True, False, True, False]


def test_patient_keys(tmp_path):
    path = night(tmp_path, "a.edi",
                 subscriber(2, member="M1"), claim("A1", "20260115"),
                 subscriber(3, member="M2", payer="PAYER02"), claim("B1", "20260115"),
                 subscriber(4, member="M1"), claim("A2", "20260116"),
                 subscriber(5, member="M3", dependants=(("TOM", "20100101"),)),
                 dependant(6, 5, "TOM", "20100101"), claim("T1", "20260115"),
                 subscriber(7, member="M3", dependants=(("TIM", "20100101"),)),
                 dependant(8, 7, "TIM", "20100101"), claim("T2", "20260115"),
                 subscriber(9, member="M1"), claim("A3", "20260117"))
    keys = PatientKeys(secrets.token_bytes(32))
    found = [keys.of_claim(c) for c in ClaimReader(path).claims()]
    assert found[0] == found[2] == found[5] != found[1]  # M1 three times, M2 apart
    assert len({found[3], found[4]}) == 2  # two dependants under one member: two patients
    # Medicare FFS (SBR09 MB in these fragments): the MBI alone, whatever the payer id
    assert found[0] == keys.medicare("M1")


@pytest.mark.parametrize("lasting", [False, True])
def test_a_drivers_shortcut_for_records_finds_what_the_full_plan_finds(tmp_path, monkeypatch,
                                                                       lasting):
    """Records checked elsewhere (a worker's, judged by the driver) take
    ClaimRecord.quick_values: the same findings and lines as the whole plan."""
    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    from edi837.history.handover import RecordSink, records_of_bytes
    from edi837.history.records import ClaimRecord

    table = load_drug_table()
    config = Config(severity={"DOC001": "info"})
    key = secrets.token_bytes(32)
    paths = [_night(tmp_path, "monday.edi"),
             night(tmp_path, "tuesday.edi", subscriber(2, member="M1"),
                   claim("A2", "20251015", units=300), subscriber(3, member="M2"),
                   claim("B2", "20251001", units=500), subscriber(9, member="M9"),
                   claim("Z1", "20251015", units=300))]
    worked = []
    for path in paths:  # what a worker hands the driver
        sink = RecordSink(None, key, persistent=lasting)
        result = Engine(table, config).check_file(path, history=sink)
        worked.append((list(records_of_bytes(sink.data)), result.sha256))

    def judge(name):
        store = HistoryStore.open(tmp_path / name, key) if lasting else None
        engine = Engine(table, config, history=store)
        stage = engine.history
        found = [[(f.rule, f.severity, f.claim_id, f.line_number, f.message)
                  for f in stage.apply_file(records, sha256)] for records, sha256 in worked]
        lines = store.stats()["lines"] if store is not None else None
        engine.close()
        if store is not None:
            store.close()
        return found, lines

    quick = judge("quick.sqlite3")
    with monkeypatch.context() as patched:
        patched.setattr(HistoryStage, "_alone_and_clean", lambda self, record: False)
        patched.setattr(ClaimRecord, "quick_values", lambda self, stage, plan: None)
        full = judge("full.sqlite3")
    assert quick == full
    rules = {rule for night_ in quick[0] for rule, *_ in night_}
    assert "UNT001" in rules and ("HIS003" in rules) == lasting


def _every_field(results):
    """Each finding whole: its report fields, extras (in order), policy and claim span."""
    return [[(f.as_dict(), list(f.extra.items()), f.policy, f.claim_first, f.claim_last)
             for f in result.findings] for result in results]


@pytest.mark.parametrize("config", [
    None,  # the default: DOC001's notes go into DOC000's checklist (a mark on them)
    Config(severity={"DOC001": "info"}),
    Config(severity={"HIS003": "error"}),  # every first dose held: no line kept
    Config(severity={"HIS003": "warning"}, ignore=("DOC001",)),
])
def test_first_doses_said_again_from_a_template_are_the_rules_own(tmp_path, monkeypatch,
                                                                   config):
    """A lone first dose (one line, a patient the store has no line of) gets the
    findings the first-dose rules made for the first claim like it (pending.FirstDoses):
    field for field the findings and stored lines of the rules run on each claim."""
    from edi837.generator import generate
    from edi837.history.pending import FirstDoses

    generated = tmp_path / "dense.edi"
    with open(generated, "w", newline="") as out:
        generate(out, "837P", claims=600, seed=11)
    like = [subscriber(10 + i, member=f"L{i}", responsibility="S" if i == 3 else "P")
            + claim(f"L{i}", "20260115", units=300, modifiers="JW" if i == 4 else "JZ")
            for i in range(6)]  # the same key, a secondary payer's, a discarded amount
    fragment = night(tmp_path, "like.edi", *like, subscriber(30, member="H1"),
                     claim("H1", "20260115", units=300, ndc="BADNDC"))  # held (an error)
    key = secrets.token_bytes(32)

    def judged(name):
        store = HistoryStore.open(tmp_path / name, key)
        engine = Engine(TABLE, config or Config(), history=store)
        found = _every_field([engine.check_file(path) for path in (generated, fragment)])
        store.close()
        rows = sqlite3.connect(tmp_path / name).execute(
            "SELECT patient, service_date, hcpcs, units, modifiers, ndc, billing_npi, "
            "payer_id, responsibility, claim_id, frequency, original_reference, duplicate, "
            "file, removed_by FROM history_lines ORDER BY id").fetchall()
        return found, rows

    hits = []
    real_get = FirstDoses.get

    def get(self, key):
        said = real_get(self, key)
        if said is not None:
            hits.append(key)
        return said

    monkeypatch.setattr(FirstDoses, "get", get)
    templated = judged("templated.sqlite3")
    monkeypatch.setattr(FirstDoses, "get", lambda self, key: None)  # the rules every time
    assert templated == judged("ruled.sqlite3")
    assert len(hits) > 50  # the templates were used
    rules = {found[0]["rule"] for night_ in templated[0] for found in night_}
    assert "HIS003" in rules


def test_records_and_findings_made_by_position_have_each_field_in_its_place(tmp_path):
    """claim_record() and the stage's findings give their fields by position (keywords
    cost 2 us more a claim): each is where the keywords would put it."""
    from dataclasses import fields

    from edi837.findings import Finding
    from edi837.history.context import FINDING_FIELDS, HistoryContext
    from edi837.history.records import ClaimRecord, LineRecord, claim_record, units_of
    from edi837.policy.model import setting_of

    path = night(tmp_path, "a.edi", subscriber(2, member="M1"),
                 claim("A1", "20260115", units=300, reference="ICN1", frequency="7"))
    read = next(iter(ClaimReader(path, drug_codes=TABLE.drugs).claims()))
    lines = [line for line in read.lines if line.procedure in TABLE.drugs]
    record = claim_record(read, lines, b"P" * 16, True, TABLE.drugs.__contains__)
    env = read.envelope
    assert record == ClaimRecord(
        path=env.path, interchange=env.interchange, group=env.group,
        transaction=env.transaction, kind=env.kind, claim_id=read.claim_id,
        clm_index=read.clm_index, first_index=read.first_index, last_index=read.last_index,
        charge=read.charge, frequency=read.frequency,
        original_reference=read.original_reference, payer_id=read.payer_id,
        payer_name=read.payer_name, filing_indicator=read.filing_indicator,
        responsibility=read.payer_responsibility, billing_npi=read.billing_provider.npi,
        patient=b"P" * 16, held=True, setting=setting_of(env.kind, read.facility_code),
        lines=[LineRecord(number=1, segment_index=line.segment_index, segment_id="SV1",
                          hcpcs="J2350", modifiers=("JZ",), units=units_of("300"),
                          units_text="300", ndc="50242015001", date="20260115",
                          charge=line.charge, in_table=True) for line in lines])
    assert tuple(f.name for f in fields(Finding))[:len(FINDING_FIELDS)] == FINDING_FIELDS
    stage = HistoryStage(HistoryStore.ephemeral(), TABLE, Config(), rules=[])
    ctx = HistoryContext(stage, record, [])
    ctx.rule, ctx.severity = "HIS003", "info"
    line = record.lines[0]
    made = ctx.finding("said", line=line, value="v")
    assert made == Finding(
        rule="HIS003", severity="info", message="said", path=record.path,
        segment_index=line.segment_index, segment="SV1", loop="2400", claim_id="A1",
        line_number=1, hcpcs="J2350", value="v", interchange=record.interchange,
        group=record.group, transaction=record.transaction, payer_id="PAYER01",
        charge=line.charge, payer_name=record.payer_name, service_date="20260115",
        billing_npi=record.billing_npi, claim_charge=record.charge,
        claim_first=record.first_index, claim_last=record.last_index, extra=made.extra)
    stage.store.close()
