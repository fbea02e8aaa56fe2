"""HIS001 names where the earlier claim of the run is (a new user's trial, round 4): a
file copied twice into a folder, `check folder/`, said "already billed on claim C1
earlier in this run" without the file.  The message names the earlier file as given
and the earlier line's segment, and nothing of the patient (the history stores no
names or ids)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_history import claim, night, subscriber

from edi837.cli import main

MEMBER, LAST, FIRST, BORN = "SYN000000042", "DOE", "JANE", "19800101"


def his001(*args: str) -> list[dict]:
    done = CliRunner().invoke(main, ["check", *args, "--format", "json"])
    assert done.exit_code == 1, done.output
    return [f for entry in json.loads(done.stdout)["files"] for f in entry["findings"]
            if f["rule"] == "HIS001"]


def claims(tmp_path, name: str, *ids: str):
    loops = [subscriber(2, member=MEMBER, born=BORN, first=FIRST)]
    loops += [claim(claim_id, f"2026011{n}") for n, claim_id in enumerate(ids, start=5)]
    return night(tmp_path, name, *loops)


def sv1_index(path, claim_id: str) -> int:
    lines = path.read_text().replace("~", "").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"CLM*{claim_id}*"))
    return next(i for i, line in enumerate(lines[start:], start=start)
                if line.startswith("SV1*HC:J2350")) + 1


@pytest.mark.parametrize("jobs", [[], ["--jobs", "2"]])
def test_a_file_copied_twice_names_the_first_file_and_segment(tmp_path, jobs):
    folder = tmp_path / "folder"
    folder.mkdir()
    first = claims(folder, "a.edi", "C1", "C2")
    (folder / "b.edi").write_bytes(first.read_bytes())
    found = his001(str(folder), *jobs)
    assert [f["claim_id"] for f in found] == ["C1", "C2"]
    for finding in found:
        where = sv1_index(first, finding["claim_id"])
        assert f"already billed on claim {finding['claim_id']} in {folder / 'a.edi'} at " \
               f"segment {where} earlier in this run (same" in finding["message"]
        for identifier in (MEMBER, LAST, FIRST, BORN):
            assert identifier not in finding["message"]


def test_the_path_is_the_one_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    claims(tmp_path, "a.edi", "C1")
    claims(tmp_path, "b.edi", "C1")
    [finding] = his001("a.edi", "b.edi")
    assert "claim C1 in a.edi at segment " in finding["message"]


def test_a_duplicate_in_the_same_file_names_no_file(tmp_path):
    path = night(tmp_path, "one.edi", subscriber(2, member=MEMBER), claim("C1", "20260115"),
                 claim("C1", "20260115"))
    [finding] = his001(str(path))
    assert "already billed on claim C1 earlier in this run (same" in finding["message"]


def test_an_earlier_file_gone_is_named_without_a_segment(tmp_path, monkeypatch):
    """The position is read from the earlier file again: gone, the file alone is named."""
    from edi837.history import earlier

    monkeypatch.setattr(earlier, "_positions", lambda path, drugs: 1 / 0)
    first, second = claims(tmp_path, "a.edi", "C1"), claims(tmp_path, "b.edi", "C1")
    [finding] = his001(str(first), str(second))
    assert f"claim C1 in {first} earlier in this run (same" in finding["message"]
