"""--select and --ignore filter what is said; they do not change what the history
rules build on (an integration engineer's trial, round 8): a claim that duplicates
another got only HIS001, but with HIS001 not selected its line was summed into the
day's units and UNT002 held the claim for 1,200 units, a finding the full run never
gives.  HIS001 (the duplicate lines no sum counts) and HIS003 (the first doses DOC001
notes) run unheard when not selected (edi837.rules: ``feeds``)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_history import claim, night, subscriber

from edi837.cli import main


def findings(*args: str) -> list[tuple[str, str, str]]:
    done = CliRunner().invoke(main, ["check", *args, "--format", "json"])
    assert done.exit_code in (0, 1), done.output
    return sorted((f["rule"], f["claim_id"], f["message"])
                  for entry in json.loads(done.stdout)["files"] for f in entry["findings"])


def duplicate_night(tmp_path):
    # C2 is C1 sent again: the same patient, day, drug, units, NDC and provider
    return night(tmp_path, "dup.edi", subscriber(2), claim("C1", "20260115"),
                 claim("C2", "20260115"))


def test_the_full_run_says_only_the_duplicate(tmp_path):
    said = findings(str(duplicate_night(tmp_path)))
    assert [(rule, claim_id) for rule, claim_id, _ in said if claim_id == "C2"] == \
        [("HIS001", "C2")]
    assert not [f for f in said if f[0] == "UNT002"]


@pytest.mark.parametrize("narrow", [["--select", "UNT"], ["--select", "UNT002"],
                                    ["--ignore", "HIS001"], ["--ignore", "HIS"]])
def test_not_selecting_his001_does_not_sum_the_duplicate(tmp_path, narrow):
    path = str(duplicate_night(tmp_path))
    full = findings(path)
    narrowed = findings(path, *narrow)
    assert not [f for f in narrowed if f[0] in ("UNT001", "UNT002")]
    shown = {rule for rule, _, _ in narrowed}
    assert "HIS001" not in shown
    # what is said is the full run's findings of the rules selected, nothing more
    assert set(narrowed) <= set(full)


def test_his003_unselected_still_tells_doc001_the_first_dose(tmp_path):
    path = str(night(tmp_path, "first.edi", subscriber(2), claim("C1", "20260115", units=300)))
    store = str(tmp_path / "history.sqlite3")
    full = [f for f in findings(path, "--history", store, "--select", "DOC001,HIS003")
            if f[0] == "DOC001"]
    assert full, "the first dose's DOC001 note (the test's premise)"
    narrowed = findings(path, "--history", str(tmp_path / "other.sqlite3"),
                        "--select", "DOC001")
    assert [f for f in narrowed if f[0] == "DOC001"] == full
    assert not [f for f in narrowed if f[0] == "HIS003"]
