"""`--marker done` (the dot left out) made every file wait for NAMEdone forever, exit
status 0 every night (trial 8c, item 2).  A marker without a leading dot is a
WARNING, and so is a waiting file whose NAME.done sits beside it; a file waiting
for its marker over a day is reported as skipped, exit status 2, run after run,
until the marker comes.  The right marker takes the file (the PASS case)."""
from __future__ import annotations

import logging

from batch_support import DEFECT, drop, edi, options, summaries

from edi837.batch import inbox, run_batch


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def dropped(tmp_path, marker: str):
    opts = options(tmp_path, marker=marker)
    drop(opts.inbox, "a.edi", edi(DEFECT, "000000001"))
    (opts.inbox / "a.edi.done").write_text("")
    return opts


def test_the_right_marker_takes_the_file(tmp_path, caplog):
    opts = dropped(tmp_path, ".done")
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        assert run_batch(opts) == 1
    assert not [w for w in warnings(caplog) if "--marker" in w or "not settled" in w]


def test_a_marker_without_its_dot_is_a_warning(tmp_path, caplog):
    opts = dropped(tmp_path, "done")
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        assert run_batch(opts) == 0  # waiting, not for a day yet
    said = warnings(caplog)
    assert any("--marker done does not start with a dot" in w and "--marker .done" in w
               for w in said), said
    assert any("a.edi: not settled (no marker a.edidone yet, but a.edi.done is there: "
               "--marker .done?)" in w for w in said), said
    assert (opts.inbox / "a.edi").exists()


def test_a_file_waiting_over_a_day_for_its_marker_is_status_2(tmp_path, caplog, monkeypatch):
    opts = dropped(tmp_path, "done")
    monkeypatch.setattr(inbox, "MARKER_OVERDUE", 0.0)  # (a day: the file came in "long ago")
    with caplog.at_level(logging.INFO, logger="edi837.batch"):
        assert run_batch(opts) == 2
    [summary] = summaries(opts.out)
    [skipped] = summary["skipped"]
    assert skipped["name"] == "a.edi"
    assert "waiting for it over a day" in skipped["why"]
    assert summary["run"]["exit_status"] == 2
    assert (opts.inbox / "a.edi").exists()  # left where it is
    # once the marker it waits for comes, it is taken
    (opts.inbox / "a.edidone").write_text("")
    assert run_batch(opts) == 1
