"""The history stage judges a drug line by the payer profile of the line's own setting:
an 837P line's place of service (SV105) overrides CLM05-1 for its line, as in `check`'s
line rules.  A profile for 837P:22 changes the history rules (which run, how severe,
the schedule) on a POS 22 line of an office claim, and not on an office line of a
POS 22 claim; the record a worker hands the driver carries the line's setting."""
from __future__ import annotations

import secrets

import pytest
from test_history import TABLE, claim, night, run, subscriber

from edi837.config import parse_config
from edi837.engine import Engine
from edi837.history import HistoryStore
from edi837.history.handover import RecordSink, record_of, record_tuple, records_of_bytes

HOSPITAL = {"name": "hospital-outpatient", "payer_ids": ["PAYER01"], "settings": ["837P:22"]}


def placed(segments: list[str], claim_place: str, line_place: str = "") -> list[str]:
    """test_history.claim's segments at place of service ``claim_place`` (CLM05-1), its
    J2350 line at ``line_place`` (SV105; "": none, the claim's)."""
    out = []
    for segment in segments:
        if segment.startswith("CLM*"):
            segment = segment.replace("***11:B:", f"***{claim_place}:B:")
        elif segment.startswith("SV1*HC:J2350"):
            assert segment.endswith("***1")
            segment = segment[:-len("***1")] + f"*{line_place}**1"
        out.append(segment)
    return out


@pytest.fixture
def store(tmp_path):
    opened = HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def lasting(request, tmp_path):
    """A lasting store of either kind (PostgreSQL: EDI837_TEST_PG, pg_support)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("store")
        return
    from pg_support import drop_schema, new_schema

    url = new_schema()
    opened = HistoryStore.open(url, secrets.token_bytes(32))
    try:
        yield opened
    finally:
        opened.close()
        drop_schema(url)


def two_nights(tmp_path, store, config, first: list[str], second: list[str]) -> list:
    """The findings of the second night's file (claim C2), the first night's (C1) in
    ``store``."""
    run(store, night(tmp_path, "monday.edi", subscriber(2), first), config=config)
    [result] = run(store, night(tmp_path, "tuesday.edi", subscriber(2), second),
                   config=config)
    return result.findings


def of(found, code: str) -> list[tuple]:
    return [(f.claim_id, f.line_number, f.severity, f.policy) for f in found if f.rule == code]


# a duplicate the next night: HIS001, a warning at POS 22 under the profile (an error
# elsewhere); jw_jz names the profile in the policy (the lines carry JZ: no MOD001)
DUPLICATE = {**HOSPITAL, "severity": {"HIS001": "warning"}, "jw_jz": True}
PROFILE_POLICY = "medicare-ffs+profile:hospital-outpatient"


@pytest.mark.parametrize("claim_place, line_place, expected", [
    ("11", "22", ("warning", PROFILE_POLICY)),  # the line at POS 22: the profile's
    ("22", "", ("warning", PROFILE_POLICY)),  # the claim at POS 22 (as before)
    ("22", "11", ("error", "medicare-ffs")),  # an office line of a POS 22 claim
    ("11", "", ("error", "medicare-ffs")),
])
def test_a_duplicates_severity_and_policy_follow_the_lines_setting(tmp_path, lasting,
                                                                   claim_place, line_place,
                                                                   expected):
    config = parse_config({"profiles": [DUPLICATE]})
    found = two_nights(tmp_path, lasting, config, claim("C1", "20260115"),
                       placed(claim("C2", "20260115"), claim_place, line_place))
    assert of(found, "HIS001") == [("C2", 1, *expected)]


@pytest.mark.parametrize("claim_place, line_place, flagged", [
    ("11", "22", False), ("11", "", True), ("22", "11", True), ("22", "", False)])
def test_a_profile_ignoring_a_history_rule_does_so_for_lines_given_there(
        tmp_path, store, claim_place, line_place, flagged):
    """HIS002: a maintenance dose 98 days after the last (J2350: at least 5 months)."""
    config = parse_config({"profiles": [{**HOSPITAL, "ignore": ["HIS002"]}]})
    found = two_nights(tmp_path, store, config, claim("C1", "20251124"),
                       placed(claim("C2", "20260302"), claim_place, line_place))
    assert [code for code, *_ in of(found, "HIS002")] == (["C2"] if flagged else [])


@pytest.mark.parametrize("claim_place, line_place, flagged", [
    ("11", "22", False), ("22", "11", True)])
def test_a_profiles_schedule_follows_the_line(tmp_path, store, claim_place, line_place,
                                              flagged):
    config = parse_config({"profiles": [{
        **HOSPITAL, "schedules": {"J2350": {"maintenance_min_days": 90}}}]})
    found = two_nights(tmp_path, store, config, claim("C1", "20251124"),
                       placed(claim("C2", "20260302"), claim_place, line_place))
    assert bool(of(found, "HIS002")) is flagged


def test_records_judged_by_a_driver_find_what_the_checking_process_finds(tmp_path):
    """A worker's records (RecordSink, judged by the driver's stage) carry each line's
    setting: the driver judges the POS 22 line by its profile too."""
    config = parse_config({"profiles": [DUPLICATE]})
    key = secrets.token_bytes(32)
    path = night(tmp_path, "night.edi", subscriber(2), claim("C1", "20260115"),
                 placed(claim("C2", "20260115"), "11", "22"),
                 placed(claim("C3", "20260115", units=300), "22", "11"))
    sink = RecordSink(None, key, persistent=False)
    result = Engine(TABLE, config).check_file(path, history=sink)
    records = list(records_of_bytes(sink.data))
    assert [[line.setting for line in record.lines] for record in records] == \
        [[""], ["837P:22"], ["837P:11"]]
    engine = Engine(TABLE, config)
    driver = of(engine.history.apply_file(records, result.sha256), "HIS001")
    engine.close()
    [here] = run(None, path, config=config)
    assert driver == of(here.findings, "HIS001") == [("C2", 1, "warning", PROFILE_POLICY)]


def test_a_record_handed_over_without_line_settings_still_reads():
    """Records of a version before line settings (eleven line fields): every line the
    claim's setting."""
    sink_record = next(records_of_bytes(_one_record()))
    claim_fields, lines = record_tuple(sink_record)
    old = record_of((claim_fields, [line[:-1] for line in lines]))
    assert [line.setting for line in old.lines] == [""]
    assert old.lines[0].hcpcs == "J2350"


def _one_record() -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = night(Path(folder), "one.edi", subscriber(2), claim("C1", "20260115"))
        sink = RecordSink(None, secrets.token_bytes(32), persistent=False)
        Engine(TABLE).check_file(path, history=sink)
        return sink.data
