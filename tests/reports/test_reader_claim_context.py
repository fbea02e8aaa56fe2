"""A reader finding on a claim carries the claim's context in every format (trial 7,
items 2 and 3).

2. An EDI007 on CLM05-1 ('131', UB-04 style) is made when the CLM is read, before
   the claim's subscriber, payer and lines: its payer, billing NPI, date of service,
   HCPCS and policy were empty (the HTML said "payer unknown", the payer tables put
   its charge under "(no payer id)") and its value was CLM02.  Now as any claim
   finding's, and the value is the element judged.
3. An error on a subscriber loop (SBR09 'ma') holds the claims under it: it is tied
   to the first of them (claim id and context, in the HTML work list), and the others
   it holds are counted apart as in the text summary (JSON claims_held_above, XML
   claimsHeldAbove, the HTML figures)."""
from __future__ import annotations

import csv
import json

from claim_support import institutional
from click.testing import CliRunner
from lxml import etree

from edi837.cli import main
from edi837.x12.fragment import wrap_claims

CONTEXT = {"claim_id": "I1", "payer_id": "99911", "payer_name": "SYNTHETIC PAYER",
           "billing_npi": "1234567893", "date_of_service": "2026-01-15", "hcpcs": "J2350",
           "policy": "medicare-ffs", "claim_charge": "9500"}


def two_claims() -> str:
    """I1 and I2 (another date: no duplicate) under one subscriber."""
    return institutional() + "\n" + institutional().replace("CLM*I1*", "CLM*I2*") \
        .replace("20260115", "20260716")


def reports(tmp_path, text: str) -> dict:
    path = tmp_path / "in.edi"
    path.write_text(text)
    out = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "csv", "xml", "html", "txt")}
    args = ["check", str(path)] + [arg for p in out.values() for arg in ("-o", str(p))]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 1, done.output
    return {fmt: p.read_text() for fmt, p in out.items()}


def edi007(found: dict) -> tuple[dict, dict, etree._Element]:
    finding = next(f for f in json.loads(found["json"])["files"][0]["findings"]
                   if f["rule"] == "EDI007")
    row = next(r for r in csv.DictReader(found["csv"].splitlines()) if r["rule"] == "EDI007")
    xml = etree.fromstring(found["xml"].encode())
    element = next(e for e in xml.iter("finding") if e.get("rule") == "EDI007")
    return finding, row, element


def test_a_bill_type_written_ub04_style_carries_its_claims_context(tmp_path):
    claim = institutional().replace("CLM*I1*9500***13:A:1", "CLM*I1*9500***131:A:1")
    found = reports(tmp_path, wrap_claims(claim, "837I", payer_id="99911", filing="MA"))
    finding, row, element = edi007(found)
    assert {key: finding[key] for key in CONTEXT} == CONTEXT
    assert finding["value"] == "131" and finding["segment"] == "CLM"
    assert (row["payer_id"], row["billing_npi"], row["value"]) == ("99911", "1234567893", "131")
    assert element.get("payerId") == "99911" and element.get("dateOfService") == "2026-01-15"
    assert element.findtext("value") == "131"
    by_payer = json.loads(found["json"])["summary"]["by_payer"]
    assert [(p["payer_id"], p["claims_held"]) for p in by_payer] == [("99911", 1)]
    assert "payer unknown" not in found["html"] and "(no payer id)" not in found["txt"]


def test_a_good_bill_type_has_no_finding(tmp_path):
    path = tmp_path / "in.edi"
    path.write_text(wrap_claims(institutional(), "837I", payer_id="99911", filing="MA"))
    done = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert done.exit_code == 0, done.output
    assert not [f for f in json.loads(done.output)["files"][0]["findings"]
                if f["rule"] == "EDI007"]


def test_a_subscriber_loops_error_is_its_first_claims_and_holds_the_next(tmp_path):
    claims = two_claims()
    found = reports(tmp_path, wrap_claims(claims, "837I", payer_id="99911", filing="ma"))
    finding, row, element = edi007(found)
    assert {key: finding[key] for key in CONTEXT} == CONTEXT
    assert (finding["segment"], finding["loop"], finding["value"]) == ("SBR", "2000B", "ma")
    assert row["claim_id"] == "I1" and element.get("claimId") == "I1"
    summary = json.loads(found["json"])["summary"]
    assert (summary["claims_held"], summary["charges_held"]) == (1, 9500)
    assert (summary["claims_held_above"], summary["charges_held_above"]) == (1, 9500)
    xml_summary = etree.fromstring(found["xml"].encode()).find("summary")
    assert (xml_summary.get("claimsHeld"), xml_summary.get("claimsHeldAbove")) == ("1", "1")
    assert ("charges held: $9,500.00 on 1 claim with errors (CLM02, each claim once); and 1 "
            "claim, $9,500.00, held by an error") in found["txt"]
    html = found["html"]
    assert '"I1","99911"' in html  # the work list's row of the claim
    assert 'data-figure="claims-held-above">1 claim<' in html


def test_an_upper_case_subscriber_holds_nothing(tmp_path):
    claims = two_claims()
    path = tmp_path / "in.edi"
    path.write_text(wrap_claims(claims, "837I", payer_id="99911", filing="MA"))
    done = CliRunner().invoke(main, ["check", str(path), "--format", "json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)["summary"]
    assert (summary["claims_held"], summary["claims_held_above"]) == (0, 0)
