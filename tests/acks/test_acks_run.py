"""edi837.acks.run: one run's 999s and 277CAs as a library (no printing, no exit);
the commands' messages and exit statuses are tested in test_ack277.py.

Every 277CA written here is read by pyx12 (test_ack277.valid)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ack277 import SAMPLES, rejected, valid

from edi837.acks.run import ACCEPTED, REJECTED, TROUBLE, Acknowledger, AckRunError
from edi837.config import Config
from edi837.drugs import load_drug_table


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    """The control-number counter of these tests: never the user's own."""
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def run(out_dir: Path, **options) -> tuple[Acknowledger, list[str]]:
    said: list[str] = []
    return Acknowledger(out_dir, Config().acknowledgments, on_problem=said.append,
                        **options), said


def test_a_run_writes_999_and_277ca_and_says_nothing_itself(tmp_path, capsys):
    sample = SAMPLES / "837p-j2350-defects.edi"
    acks, said = run(tmp_path / "acks")
    assert acks.start([sample]) == [sample]
    result = acks.acknowledge_as_split(sample, load_drug_table([]), Config())
    assert result is not None and result.output == tmp_path / "acks" / "837p-j2350-defects.277"
    assert (tmp_path / "acks" / "837p-j2350-defects.999").exists()
    assert acks.status == REJECTED and said == []
    assert capsys.readouterr() == ("", "")  # the command prints; the library does not
    assert rejected(valid(result.output)) == set(result.rejected_claims) != set()


def test_the_rejected_claims_are_those_fix_split_holds(tmp_path):
    from edi837.fix import fix_file

    sample = SAMPLES / "837i-j2350-defects.edi"
    table = load_drug_table([])
    held = fix_file(sample, tmp_path / "fix", table=table, config=Config(), split=True)
    acks, _ = run(tmp_path / "acks")
    acks.start([sample])
    result = acks.acknowledge_as_split(sample, table, Config())
    held_ids = {c["claim_id"] for c in json.loads(
        (tmp_path / "fix" / "837i-j2350-defects.held.json").read_text())["held"]}
    assert held.split is not None and held_ids == set(result.rejected_claims) != set()


def test_an_unusable_folder_stops_the_run_with_an_exception_not_an_exit(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    acks, said = run(blocker / "acks")
    with pytest.raises(AckRunError, match="acknowledgments: "):
        acks.start([SAMPLES / "837p-j2350-clean.edi"])
    assert said == [] and not (blocker / "acks").exists()


def test_an_existing_acknowledgment_is_a_problem_of_that_file_only(tmp_path):
    clean, mixed = SAMPLES / "837p-j2350-clean.edi", SAMPLES / "837p-mixed-drugs.edi"
    (tmp_path / "acks").mkdir()
    (tmp_path / "acks" / "837p-j2350-clean.277").write_text("old")
    acks, said = run(tmp_path / "acks")
    assert acks.start([clean, mixed]) == [mixed]
    assert acks.status == TROUBLE
    assert said == [f"{clean}: no acknowledgments: {tmp_path / 'acks' / '837p-j2350-clean.277'}"
                    " exists (use --force to overwrite)"]
    forced, said = run(tmp_path / "acks", force=True)
    assert forced.start([clean]) == [clean] and forced.status == ACCEPTED and said == []
