"""A line's finding names, in the reports' ``policy`` field, the payer policy that judged
it: the policy of the line's own place of service (837P SV105) where it is not the
claim's, for the line's own rules and for the history's (HIS001) alike."""
from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main
from edi837.x12.fragment import wrap_claims

PROFILE = """
[[profiles]]
name = "hospital-outpatient"
payer_ids = ["PAYER01"]
settings = ["837P:22"]
jw_jz = true
"""
HOSPITAL_POLICY = "commercial+profile:hospital-outpatient"


def report(tmp_path, line_place: str, form: str) -> str:
    """`check --format FORM` of an office claim C1 and its copy C2 (HIS001: the same
    dose again), C2's J2350 line at ``line_place`` (SV105; "": the claim's)."""
    second = CLEAN_J2350_CLAIM.replace("CLM*C1*", "CLM*C2*").replace(
        "UN*600***1", f"UN*600*{line_place}**1")
    claims = tmp_path / f"claims-{line_place or 'none'}.edi"
    claims.write_text(wrap_claims(CLEAN_J2350_CLAIM + second, "837P", filing="CI"))
    config = tmp_path / "edi837.toml"
    config.write_text(PROFILE)
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "--format", form, "-q"])
    assert done.exit_code == 1, done.output  # HIS001 is an error
    return done.output


def test_a_hospital_line_of_an_office_claim_names_the_hospital_policy(tmp_path):
    found = json.loads(report(tmp_path, "22", "json"))["files"][0]["findings"]
    assert sorted((f["rule"], f["claim_id"], f["line_number"], f["policy"]) for f in found) \
        == [("HIS001", "C2", 1, HOSPITAL_POLICY), ("POS001", "C2", 1, HOSPITAL_POLICY)]
    rows = list(csv.DictReader(io.StringIO(report(tmp_path, "22", "csv"))))
    assert {(row["rule"], row["policy"]) for row in rows} == {
        ("HIS001", HOSPITAL_POLICY), ("POS001", HOSPITAL_POLICY)}


def test_an_office_line_names_the_claims_policy(tmp_path):
    found = json.loads(report(tmp_path, "", "json"))["files"][0]["findings"]
    assert [(f["rule"], f["claim_id"], f["policy"]) for f in found] == \
        [("HIS001", "C2", "commercial")]
