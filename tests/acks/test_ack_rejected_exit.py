"""A night whose only fault is a transaction set the 999 rejects (pyx12: a mandatory
segment missing) is not a clean night: `batch --ack277` exits 1, as `ack` and `check
--ack277` do, and says which file; the same file with the segment exits 0."""
import json
import re
from pathlib import Path

import pytest
from batch_support import drop, ledger, options

from edi837.batch import run_batch
from edi837.batch.summary import describe
from edi837.cli import main

SAMPLE = (Path(__file__).parents[2] / "samples" / "837p-j2350-clean.edi").read_text()


def without_billing_address(text: str) -> str:
    """The 2010AA N3 left out (SE01 counted again): valid to edi837's rules, not to the
    guide, so the 999 rejects the set."""
    cut = text.replace("N3*400 LAKEVIEW DR~", "", 1)
    assert cut != text
    count = re.search(r"SE\*(\d+)\*0001", cut)
    return cut.replace(count.group(0), f"SE*{int(count.group(1)) - 1}*0001")


REJECTED = without_billing_address(SAMPLE)


def status_of(argv) -> int:
    try:
        main(argv, standalone_mode=False)
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.mark.slow
@pytest.mark.parametrize("text, status", [(SAMPLE, 0), (REJECTED, 1)])
def test_batch_exits_1_when_a_999_rejects_a_set(tmp_path, text, status):
    opts = options(tmp_path, ack277=True)
    drop(opts.inbox, "night.edi", text.encode())
    assert run_batch(opts) == status
    row = next(r for r in ledger(opts.out) if r["name"] == "night.edi")
    assert row["errors"] == 0  # no finding of edi837's: the 999's verdict alone
    figures = json.loads(row["figures"])
    assert figures.get("sets_rejected") == (1 if status else None)
    assert row["outcome"] == ("findings" if status else "ok")
    ack = (opts.out / row["run_id"] / "files" / "night.edi" / "night.999").read_text()
    assert ("AK9*R" in ack) == bool(status)
    assert ("1 transaction set(s) with no 277CA" in describe(row)) == bool(status)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["check", "--ack277"], ["ack", "--out-dir"]])
def test_ack_and_check_ack277_exit_1_too(tmp_path, command):
    path = tmp_path / "night.edi"
    for text, status in ((SAMPLE, 0), (REJECTED, 1)):
        path.write_text(text)
        out = tmp_path / f"acks{status}"
        assert status_of([command[0], str(path), command[1], str(out)]) == status
        assert not (out / "night.277").exists() if status else (out / "night.277").exists()
