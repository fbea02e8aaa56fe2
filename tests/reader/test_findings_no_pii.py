"""Findings built from a segment's raw text carry no name, member id or birth date:
a report outside the claim (json, csv, html, text) never holds them."""
import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main

NAME, STREET, BIRTH = "KETTERING", "ZEBEDEE", "19770707"

# inside the claim: a segment whose id is not an X12 id (N#1: a typo of NM1), an NM1
# and a DTP with more elements than the guide has (the next segment glued on: an
# NM1 or N3 and DMG of the patient)
PLANTED = CLEAN_J2350_CLAIM.replace(
    "NM1*82*1*RENDER*RAY****XX*1234567893",
    f"NM1*82*1*RENDER*RAY****XX*1234567893***{NAME}*{STREET}*{BIRTH}\n"
    f"N#1*IL*1*{NAME}*T").replace(
    "DTP*472*D8*20260115\nLIN", f"DTP*472*D8*20260115*N3*{STREET} LANE*DMG*D8*{BIRTH}\nLIN")


@pytest.mark.parametrize("fmt", ["json", "csv", "html", "text"])
def test_no_name_street_or_birth_date_in_any_report(edi_file, tmp_path, fmt):
    path = edi_file(PLANTED)
    assert NAME in path.read_text()
    out = tmp_path / f"report.{'txt' if fmt == 'text' else fmt}"
    result = CliRunner().invoke(main, ["check", str(path), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 1, result.output
    report = out.read_text()
    if fmt == "html":  # the page shows each held claim's own segments: the claim itself
        for segment in path.read_text().replace("\n", "").split("~"):
            report = report.replace(f'"{segment}~"', "")
    assert "EDI007" in report
    for planted in (NAME, STREET, BIRTH):
        assert planted not in report, planted
        assert planted not in result.output, planted
