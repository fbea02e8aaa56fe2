"""The history stage judges a claim by the payer profile `check`'s rules use: by
payer id, filing indicator and setting (CLM05-1: place of service, type of
bill), not by payer and filing indicator alone.  A profile for the office
(837P:11) changed HIS001 for the same payer's outpatient-hospital claims too."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main
from edi837.x12.fragment import wrap_claims

OFFICE_PROFILE = """
[[profiles]]
name = "office"
payer_ids = ["PAYER01"]
settings = ["837P:11"]
severity = { HIS001 = "warning" }
"""


def duplicates(place: str) -> str:
    """Claims C1 and C2: the same J2350 dose for the same patient and day (HIS001 on
    C2), billed at place of service ``place``."""
    one = CLEAN_J2350_CLAIM.replace("*11:B:1*", f"*{place}:B:1*")
    return wrap_claims(one + one.replace("CLM*C1*", "CLM*C2*"), "837P", payer_id="PAYER01")


def severities(tmp_path, place: str) -> dict[str, list[str]]:
    config = tmp_path / "edi837.toml"
    config.write_text(OFFICE_PROFILE)
    claims = tmp_path / f"pos{place}.edi"
    claims.write_text(duplicates(place))
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "--format", "json", "-q"])
    assert done.exit_code in (0, 1), done.output
    found: dict[str, list[str]] = {}
    for finding in json.loads(done.output)["files"][0]["findings"]:
        found.setdefault(finding["rule"], []).append(finding["severity"])
    return found


@pytest.mark.parametrize("place, severity", [("11", "warning"), ("22", "error")])
def test_the_history_stage_takes_the_profile_of_the_claims_setting(tmp_path, place,
                                                                   severity):
    found = severities(tmp_path, place)
    assert found["HIS001"] == [severity]  # C2 repeats C1
