"""A held claim is resolved as resent only by a claim that can be its corrected
resend: the same patient and services, a new claim (not the replacement or void of
another claim id), not held, and arriving after the hold in the ledger's order."""
import json
import sqlite3
from itertools import count

import pytest
from click.testing import CliRunner
from queue_support import claim, drop_night

from edi837.batch import driver, run_batch
from edi837.batch.options import BatchOptions
from edi837.cli import main
from edi837.queue.store import apply_file, ensure_schema


@pytest.fixture
def nights(monkeypatch):
    days = count(5)
    monkeypatch.setattr(driver, "_new_run_id",
                        lambda: f"202601{next(days):02d}T021500.000000Z")


def open_claims(out) -> list[str]:
    result = CliRunner().invoke(main, ["queue", "list", "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    return sorted(json.loads(line)["claim_id"] for line in result.output.splitlines())


def night(tmp_path, name, claims, control) -> None:
    opts = BatchOptions(inbox=tmp_path / "inbox", out=tmp_path / "out", settle=0.0,
                        formats=("json",))
    drop_night(opts.inbox, name, claims, control)
    run_batch(opts)


def test_the_replacement_of_another_claim_resolves_nothing(tmp_path, nights):
    # the same patient (member 001), date and drug: two claims of one day
    night(tmp_path, "a.edi", [claim("P050", "001", "20251201"),
                              claim("P052", "001", "20251201", charge="5000")], "000000001")
    night(tmp_path, "b.edi", [claim("P052", "001", "20251201", held=True)], "000000002")
    assert open_claims(tmp_path / "out") == ["P052"]
    night(tmp_path, "c.edi", [claim("P050", "001", "20251201", frequency="7",
                                    original="P050")], "000000003")
    assert open_claims(tmp_path / "out") == ["P052"]


def test_a_corrected_resend_under_a_new_claim_id_still_resolves(tmp_path, nights):
    night(tmp_path, "b.edi", [claim("P052", "001", "20251201", held=True)], "000000001")
    night(tmp_path, "d.edi", [claim("P052R", "001", "20251201")], "000000002")
    assert open_claims(tmp_path / "out") == []


def test_a_claim_after_the_hold_in_the_same_file_does_not_resolve_it(tmp_path, nights):
    night(tmp_path, "b.edi", [claim("P052", "001", "20251201", held=True),
                              claim("P050", "001", "20251201")], "000000001")
    assert open_claims(tmp_path / "out") == ["P052"]


def _facts(claim_id, *, held, services=("s1",), frequency="1") -> dict:
    return {"claim_id": claim_id, "payer_id": "PAYER01", "payer_name": "P",
            "billing_npi": "1234567893", "charge": "10", "frequency": frequency,
            "patient": "p1", "services": list(services), "held": held,
            "rules": ["NDC002"] if held else [], "warnings": [], "submitter": "",
            "submitter_name": ""}


@pytest.mark.parametrize("order", ["hold first", "resend first"])
def test_two_hosts_on_one_ledger_judge_by_the_order_files_were_taken(order):
    """Host B took the resend (input 1) before host A took the hold (input 2): synced
    in either order, the hold stays open, as when the runs ran one after the other."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE inputs (id INTEGER PRIMARY KEY, run_id TEXT, sha256 TEXT)")
    db.execute("INSERT INTO inputs VALUES (1, 'RB', 'b'), (2, 'RA', 'a')")
    ensure_schema(db)
    steps = {"hold": ([_facts("A1", held=True)], "RA", "a", 2),
             "resend": ([_facts("B1", held=False)], "RB", "b", 1)}
    for name in (["hold", "resend"] if order == "hold first" else ["resend", "hold"]):
        claims, run_id, sha256, input_id = steps[name]
        apply_file(db, claims, run_id=run_id, file=name, sha256=sha256, input_id=input_id)
    assert db.execute("SELECT claim_id, status FROM queue_claims").fetchall() == \
        [("A1", "open")]
    # a later file (input 3) does resolve it; one that covers only part of its
    # services does not
    db.execute("INSERT INTO inputs VALUES (3, 'RC', 'c'), (4, 'RD', 'd')")
    db.execute("UPDATE queue_services SET service = 's1'")
    db.execute("INSERT INTO queue_services (service, claim) SELECT 's2', id FROM queue_claims")
    apply_file(db, [_facts("C1", held=False)], run_id="RC", file="c", sha256="c", input_id=3)
    assert db.execute("SELECT status FROM queue_claims").fetchall() == [("open",)]
    apply_file(db, [_facts("D1", held=False, services=("s1", "s2"))], run_id="RD", file="d",
               sha256="d", input_id=4)
    assert db.execute("SELECT status, resolution FROM queue_claims").fetchall() == \
        [("resolved", "resend")]


def test_a_void_taken_before_the_hold_voids_nothing_whatever_the_order_of_sync():
    """Host J took the void (input 1), host K the held original (input 2); J's run ended
    last: the hold stays open, as when K's file came after J's; held again by the void
    (HIS004), it counts a resubmission and K's file stays its last hold."""
    for held_void in (False, True):
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute("CREATE TABLE inputs (id INTEGER PRIMARY KEY, run_id TEXT, sha256 TEXT)")
        db.execute("INSERT INTO inputs VALUES (1, 'RJ', 'j'), (2, 'RK', 'k'), (3, 'RL', 'l')")
        ensure_schema(db)
        apply_file(db, [_facts("A1", held=True)], run_id="RK", file="k", sha256="k",
                   input_id=2)
        apply_file(db, [_facts("A1", held=held_void, frequency="8")], run_id="RJ", file="j",
                   sha256="j", input_id=1)
        assert db.execute("SELECT status, last_file, resubmissions FROM queue_claims"
                          ).fetchall() == [("open", "k", int(held_void))]
        # a void taken after the hold does void it
        apply_file(db, [_facts("A1", held=False, frequency="8")], run_id="RL", file="l",
                   sha256="l", input_id=3)
        assert db.execute("SELECT status, resolution FROM queue_claims").fetchall() == \
            [("voided", "void")]
