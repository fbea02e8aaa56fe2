"""Checking the same files again with a lasting history gives the first check's findings.

A new user ran `check --history H mA.edi mB.edi` twice: mA's claim R1 (600 units, no
JZ: held) is judged first, and the second time it was judged against R1B, the claim
of mB stored by the first run, which mB's own re-check takes out only when mB is
reached: UNT002 and UNT001 appeared on R1.  The files of a run that the history holds
already now come out before any is judged."""
import json

import pytest
from batch_support import new_key
from click.testing import CliRunner
from test_history import claim, night, subscriber

from edi837.cli import main


def findings(tmp_path, store, *paths, jobs=1):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["check", *map(str, paths), "--history", str(store),
                                       "--history-key", str(new_key(tmp_path / "key")), "--jobs",
                                       str(jobs), "--format", "json", "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(out.read_text())
    return sorted((f["rule"], f["claim_id"], f["message"]) for file in report["files"]
                  for f in file["findings"])


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_identical_rerun_gives_the_first_runs_findings(tmp_path, jobs):
    first_file = night(tmp_path, "mA.edi", subscriber(2),
                       claim("R1", "20260113", modifiers=""))  # no JZ: MOD001, held
    second_file = night(tmp_path, "mB.edi", subscriber(2), claim("R1B", "20260113"))
    store = tmp_path / "history.sqlite3"
    once = findings(tmp_path, store, first_file, second_file, jobs=jobs)
    assert [f for f in once if f[0] == "UNT002"] == []
    again = findings(tmp_path, store, first_file, second_file, jobs=jobs)
    assert again == once


def test_a_file_of_an_earlier_run_not_checked_again_still_counts(tmp_path):
    """Only the run's own files come out: mB stored yesterday, mA alone today is judged
    against it (the same line again: a duplicate)."""
    first_file = night(tmp_path, "mA.edi", subscriber(2), claim("R1", "20260113"))
    second_file = night(tmp_path, "mB.edi", subscriber(2), claim("R1B", "20260113"))
    store = tmp_path / "history.sqlite3"
    findings(tmp_path, store, second_file)
    today = findings(tmp_path, store, first_file)
    assert [(rule, claim_id) for rule, claim_id, _ in today if rule == "HIS001"] == \
        [("HIS001", "R1")]


def test_an_identical_rerun_on_postgresql_gives_the_first_runs_findings(tmp_path):
    from pg_support import drop_schema, new_schema

    url = new_schema()
    try:
        first_file = night(tmp_path, "mA.edi", subscriber(2),
                           claim("R1", "20260113", modifiers=""))
        second_file = night(tmp_path, "mB.edi", subscriber(2), claim("R1B", "20260113"))
        once = findings(tmp_path, url, first_file, second_file)
        assert findings(tmp_path, url, first_file, second_file) == once
    finally:
        drop_schema(url)
