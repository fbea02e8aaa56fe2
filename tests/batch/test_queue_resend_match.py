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


def _ledger(*taken) -> sqlite3.Connection:
    """A ledger's runs and inputs (enough of them for the queue), runs ended, and the
    queue's tables; ``taken``: (run id, sha256) of the inputs, in the order taken."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, state TEXT)")
    db.execute("CREATE TABLE inputs (id INTEGER PRIMARY KEY, run_id TEXT, sha256 TEXT, "
               "state TEXT DEFAULT 'done', outcome TEXT DEFAULT 'findings')")
    ensure_schema(db)
    _take(db, *taken)
    return db


def _take(db, *taken) -> None:
    for run_id, sha256 in taken:
        db.execute("INSERT OR IGNORE INTO runs VALUES (?, 'finished')", (run_id,))
        db.execute("INSERT INTO inputs (run_id, sha256) VALUES (?, ?)", (run_id, sha256))


@pytest.mark.parametrize("order", ["hold first", "resend first"])
def test_two_hosts_on_one_ledger_judge_by_the_order_files_were_taken(order):
    """Host B took the resend (input 1) before host A took the hold (input 2): synced
    in either order, the hold stays open, as when the runs ran one after the other."""
    db = _ledger(("RB", "b"), ("RA", "a"))
    steps = {"hold": ([_facts("A1", held=True)], "RA", "a", 2),
             "resend": ([_facts("B1", held=False)], "RB", "b", 1)}
    for name in (["hold", "resend"] if order == "hold first" else ["resend", "hold"]):
        claims, run_id, sha256, input_id = steps[name]
        apply_file(db, claims, run_id=run_id, file=name, sha256=sha256, input_id=input_id)
    assert db.execute("SELECT claim_id, status FROM queue_claims").fetchall() == \
        [("A1", "open")]
    # a later file (input 3) does resolve it; one that covers only part of its
    # services does not
    _take(db, ("RC", "c"), ("RD", "d"))
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
        db = _ledger(("RJ", "j"), ("RK", "k"), ("RL", "l"))
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


@pytest.mark.parametrize("frequency, how", [("8", "void"), ("1", "clean"),
                                            ("7", "replacement"), ("resend", "resend")])
def test_a_file_taken_after_the_hold_but_synced_first_still_resolves_it(frequency, how):
    """Host K took the hold (input 1) and its run is still open; host J took the file that
    resolves it (input 2) and synced first: K's hold, synced at last, is resolved by it,
    as when the files run one after the other; a file taken before the hold is not."""
    db = _ledger(("RK", "k"), ("RJ", "j"), ("RL", "l"))
    db.execute("UPDATE runs SET state = 'running' WHERE run_id = 'RK'")
    db.execute("UPDATE inputs SET state = 'processing', outcome = NULL WHERE id = 1")
    fact = _facts("B1" if frequency == "resend" else "A1", held=False,
                  frequency="1" if frequency == "resend" else frequency)
    apply_file(db, [fact], run_id="RJ", file="j", sha256="j", input_id=2)
    db.execute("INSERT INTO queue_inputs VALUES (2, 'RJ', 1)")
    assert db.execute("SELECT COUNT(*) FROM queue_later").fetchone() == (1,)
    db.execute("UPDATE inputs SET state = 'done', outcome = 'findings' WHERE id = 1")
    db.execute("UPDATE runs SET state = 'finished' WHERE run_id = 'RK'")
    apply_file(db, [_facts("A1", held=True)], run_id="RK", file="k", sha256="k", input_id=1)
    assert db.execute("SELECT status, resolution, resolved_file FROM queue_claims"
                      ).fetchall() == [("voided" if how == "void" else "resolved", how, "j")]
    assert db.execute("SELECT COUNT(*) FROM queue_later").fetchone() == (0,)  # not needed
    # held again by a file taken after that one: open, and nothing earlier resolves it
    apply_file(db, [_facts("A1", held=True)], run_id="RL", file="l", sha256="l", input_id=3)
    assert db.execute("SELECT status FROM queue_claims ORDER BY id").fetchall()[-1] == \
        ("open",)
