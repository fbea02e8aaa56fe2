"""`queue list --payer 9990` (the ledger's payers are 99901, ...) printed "0 claims,
$0.00 open", exit 0, with no word that no claim ever had that payer (trial 8c,
item 7).  A note on stderr names the value and the ones the queue has; the list
stays what it is (exit status 0: nothing found is no misuse).  A payer that has
claims, none open, gets no note (the PASS case)."""
from __future__ import annotations

from batch_support import options
from click.testing import CliRunner
from queue_support import claim, drop_night

from edi837.batch import run_batch
from edi837.cli import main


def ledger(tmp_path):
    opts = options(tmp_path)
    drop_night(opts.inbox, "a.edi", [
        claim("P1", "001", "20251201", held=True, payer="99901"),
        claim("P2", "002", "20251201", payer="99906")], "000000001")
    run_batch(opts)
    return opts.out


def listed(out, *args: str):
    return CliRunner().invoke(main, ["queue", "list", "--out", str(out), *args])


def test_a_payer_no_claim_has_is_noted(tmp_path):
    done = listed(ledger(tmp_path), "--payer", "9990")
    assert done.exit_code == 0, done.output
    assert "0 claims, $0.00 open" in done.stdout
    assert ("edi837: note: no claim in the queue (open or closed) has payer id 9990; it "
            "has 99901") in done.stderr


def test_an_npi_no_claim_has_is_noted(tmp_path):
    done = listed(ledger(tmp_path), "--npi", "123456789", "--format", "json")
    assert done.exit_code == 0 and done.stdout == ""
    assert "no claim in the queue (open or closed) has billing NPI 123456789" in done.stderr


def test_a_known_payer_with_nothing_open_says_nothing(tmp_path):
    out = ledger(tmp_path)
    done = listed(out, "--payer", "99901", "--rule", "DX001")
    assert done.exit_code == 0 and "0 claims" in done.stdout
    assert "note:" not in done.stderr
    assert "P1" in listed(out, "--payer", "99901").stdout
