"""The night's totals (issue 24 item 17): with --split, the claims and charges the
summary says are held are those the split holds (held.edi, the 277CA): counted
after the safe fixes; a quarantined file's partial findings are in no total."""
import json
import re
from decimal import Decimal

import pytest
from batch_support import HOUR, drop, has_fix, options

from edi837.batch import run_batch
from edi837.generator import generate


def generated(seed: int, claims: int = 40) -> bytes:
    import io

    out = io.StringIO(newline="")
    generate(out, "837P", claims=claims, seed=seed, defect_rate=0.6)
    return out.getvalue().encode("latin-1")


def run_summary(opts) -> dict:
    [run] = [p for p in opts.out.iterdir() if p.is_dir() and p.name[:1].isdigit()]
    return json.loads((run / "summary.json").read_text()), run


def held_in(edi: bytes) -> tuple[int, Decimal]:
    """Claims and CLM02 charges of a held.edi (an independent count)."""
    text = edi.decode("latin-1")
    element = text[3]
    charges = [Decimal(m.group(1)) for m in
               re.finditer(rf"(?:^|[~\n])\s*CLM\{element}[^{element}]*\{element}([^{element}~]*)",
                           text)]
    return len(charges), sum(charges, Decimal(0))


@pytest.mark.skipif(not has_fix, reason="edi837.fix is not installed")
def test_split_totals_are_what_the_split_holds(tmp_path):
    opts = options(tmp_path, split=True, ack277=False)
    for seed in (1, 2):
        drop(opts.inbox, f"night{seed}.edi", generated(seed), age=HOUR)
    run_batch(opts)
    doc, run = run_summary(opts)
    claims, charges = 0, Decimal(0)
    for held in run.rglob("*.held.edi"):
        count, money = held_in(held.read_bytes())
        claims, charges = claims + count, charges + money
    assert claims > 0  # some errors have no safe fix
    fixed_rules = sum(f["rules"].get("NDC002", 0) for f in doc["files"])
    assert fixed_rules > 0  # and some claims were held only for what the fix corrects
    assert doc["totals"]["claims_held"] == claims
    assert Decimal(str(doc["totals"]["charges_held"])) == charges
    assert sum(f["claims_held"] for f in doc["files"]) == claims
    assert sum(p["claims_held"] for p in doc["by_payer"]) == claims
    # the work queue holds what the split holds: a claim the safe fixes corrected was
    # forwarded (accepted.edi), so no biller works it
    queued = [json.loads(line) for facts in run.rglob("queue.jsonl")
              for line in facts.read_text().splitlines() if line.strip()]
    assert sum(1 for claim in queued if claim["held"]) == claims


def test_a_quarantined_files_partial_findings_are_in_no_total(tmp_path):
    opts = options(tmp_path)
    whole = generated(3)
    drop(opts.inbox, "a-whole.edi", whole, age=HOUR)
    cut = generated(4)
    drop(opts.inbox, "b-cut.edi", cut[:len(cut) * 2 // 3], age=HOUR)
    assert run_batch(opts) == 2
    doc, _ = run_summary(opts)
    files = {f["name"]: f for f in doc["files"]}
    assert files["b-cut.edi"]["outcome"] == "quarantined"
    assert files["b-cut.edi"]["claims_held"] > 0  # its own row still says what it found
    alone = files["a-whole.edi"]
    totals = doc["totals"]
    assert totals["claims_held"] == alone["claims_held"]
    assert totals["charges_held"] == alone["charges_held"]
    assert totals["errors"] == alone["errors"] and totals["claims"] == alone["claims"]
    assert sum(p["claims_held"] for p in doc["by_payer"]) == alone["claims_held"]
    assert sum(p["errors"] for p in doc["by_payer"]) == sum(
        r["errors"] for r in doc["by_rule"]) == alone["errors"]
