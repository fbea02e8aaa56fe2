"""`extract`'s exit status against `check`'s on a malformed value (README, "A bad file
never stops a run"): a segment extract could not read makes its status 1, but a
segment read whole with a malformed value (units not a number: EDI007 in `check`) is
`check`'s to judge: extract writes the row as sent and exits 0, check exits 1."""
import csv
import io

from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

from edi837.cli import main
from edi837.x12.fragment import wrap_claims


def test_a_non_numeric_unit_is_checks_to_judge_not_extracts(tmp_path):
    assert "*UN*600***1" in CLEAN_J2350_CLAIM
    path = tmp_path / "unit.edi"
    path.write_text(wrap_claims(CLEAN_J2350_CLAIM.replace("*UN*600***1", "*UN*6O0***1")))
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(path)])
    assert checked.exit_code == 1
    assert "EDI007 error malformed SV1: units '6O0' are not a number" in checked.output
    extracted = runner.invoke(main, ["extract", str(path), "--format", "csv"])
    assert extracted.exit_code == 0, extracted.output
    (row,) = [r for r in csv.DictReader(io.StringIO(extracted.stdout)) if r["hcpcs"] == "J2350"]
    assert row["units"] == "6O0"
    # PASS: the same file with a number there: both 0
    path.write_text(wrap_claims(CLEAN_J2350_CLAIM))
    assert runner.invoke(main, ["check", str(path)]).exit_code == 0
    assert runner.invoke(main, ["extract", str(path)]).exit_code == 0
