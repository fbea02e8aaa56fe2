"""A transaction set a 999 rejects (its SE01 count wrong, or its structure broken:
garbage bytes in the middle of the file) never reached the payer: its claims stay
out of the patient history, so the clean resend is no duplicate of them (trial 8c,
item 6).  The clean file sent twice is (the PASS case)."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from test_history import claim, night, subscriber

from edi837.cli import main


def sent(tmp_path, name: str = "a.edi"):
    return night(tmp_path, name, subscriber(2), claim("C1", "20260115"),
                 subscriber(3, member="SYN000000002"), claim("C2", "20260116"),
                 subscriber(4, member="SYN000000003"), claim("C3", "20260117"))


def se_count_wrong(path):
    text = path.read_text()
    count = int(re.search(r"SE\*(\d+)\*", text).group(1))
    path.write_text(text.replace(f"SE*{count}*", f"SE*{count + 3}*"))
    return path


def garbled(path):
    """The third claim's HL, SBR and NM1 run together as bytes that are no segment (the
    first claim is read clean, the second is held for the garbage after it)."""
    data = path.read_bytes()
    start = data.index(b"HL*4*")
    end = data.index(b"N3*", start)
    path.write_bytes(data[:start] + b"\x00\xff" * ((end - start) // 2) + b"\n" + data[end:])
    return path


def findings(*args: str) -> list[dict]:
    done = CliRunner().invoke(main, ["check", *args, "--format", "json"])
    assert done.exit_code in (0, 1), done.output
    return [f for entry in json.loads(done.stdout)["files"] for f in entry["findings"]]


def his001(*args: str) -> list[str]:
    return [f["claim_id"] for f in findings(*args) if f["rule"] == "HIS001"]


def test_a_clean_set_sent_twice_is_a_duplicate(tmp_path):
    first, second = sent(tmp_path), sent(tmp_path, "b.edi")
    assert his001(str(first), str(second)) == ["C1", "C2", "C3"]


@pytest.mark.parametrize("breaking", [se_count_wrong, garbled])
def test_the_claims_of_a_rejected_set_are_no_history_in_the_run(tmp_path, breaking):
    first, second = breaking(sent(tmp_path)), sent(tmp_path, "b.edi")
    assert his001(str(first), str(second)) == []


@pytest.mark.parametrize("breaking", [se_count_wrong, garbled])
def test_nor_in_a_lasting_store(tmp_path, breaking):
    store = str(tmp_path / "h.sqlite3")
    first, second = breaking(sent(tmp_path)), sent(tmp_path, "b.edi")
    found = findings("--history", store, "--history-days", "0", str(first))
    assert any(f["rule"] in ("EDI004", "EDI007") for f in found)
    assert his001("--history", store, "--history-days", "0", str(second)) == []
    # and the clean file, once in the store, is a duplicate of its resend
    assert his001("--history", store, "--history-days", "0", str(sent(tmp_path, "c.edi"))) \
        == ["C1", "C2", "C3"]


def test_the_se_count_says_the_set_lost_segments_and_stays_out(tmp_path):
    first = se_count_wrong(sent(tmp_path))
    [edi004] = [f for f in findings(str(first)) if f["rule"] == "EDI004"]
    assert "3 segments fewer than sent" in edi004["message"]
    assert "none of the file's claims enters the patient history" in edi004["message"]


def test_jobs_keep_a_rejected_set_out_too(tmp_path):
    first, second = se_count_wrong(sent(tmp_path)), sent(tmp_path, "b.edi")
    assert his001("--jobs", "2", str(first), str(second)) == []


@pytest.mark.slow
@pytest.mark.parametrize("breaking, expected",
                         [(garbled, []), (lambda path: path, ["C1", "C2", "C3"])])
def test_batch_keeps_a_rejected_set_out_of_its_history(tmp_path, breaking, expected):
    from batch_support import HOUR, drop, options

    from edi837.batch import run_batch

    opts = options(tmp_path)
    drop(opts.inbox, "first.edi", breaking(sent(tmp_path)).read_bytes(), age=HOUR)
    run_batch(opts)
    drop(opts.inbox, "resend.edi", sent(tmp_path, "b.edi").read_bytes(), age=HOUR)
    run_batch(opts)
    [report] = opts.out.glob("*/files/resend.edi/report.json")
    assert [f["claim_id"] for e in json.loads(report.read_text())["files"]
            for f in e["findings"] if f["rule"] == "HIS001"] == expected
