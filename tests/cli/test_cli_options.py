"""Options that could make a nightly run look clean, and what `check` says when it
writes files (issue #14, items 4, 5 and 7).

A --select/--ignore value or configuration entry that matches no rule is an
error (exit 2) naming the close matches; `check -o` prints the summary and the
paths it wrote; --min-severity decides what the text and HTML reports list;
`generate` does not overwrite without --force.
"""
import json

import pytest
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM
from lxml import html as lxml_html

from edi837.cli import main
from edi837.config import ConfigError, parse_config
from edi837.x12.fragment import wrap_claims

DEFECT = CLEAN_J2350_CLAIM.replace("50242015001", "50242-150-01")  # NDC002
NOTE_ONLY = CLEAN_J2350_CLAIM.replace("NM1*DK*1*ORDER*OLA****XX*1234567893\n", "")  # DOC004


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def defect(tmp_path):
    path = tmp_path / "defect.edi"
    path.write_text(wrap_claims(DEFECT + NOTE_ONLY.replace("CLM*C1*", "CLM*C2*")))
    return path


# -- item 4: no option typo makes a run look clean ----------------------------------------
@pytest.mark.parametrize("option, value, close", [
    ("--ignore", "EDI06", "EDI006"),  # the typo the issue saw: it ignored nothing
    ("--select", "FOO", None),  # selected nothing: every file looked clean
    ("--select", "NDC02", "NDC002"),
    ("--ignore", "NDC,MDO", "MOD"),
])
def test_a_rule_option_that_matches_no_rule_exits_2_naming_close_matches(
        runner, defect, option, value, close):
    result = runner.invoke(main, ["check", str(defect), option, value])
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr
    bad = value.split(",")[-1]
    assert f"{option}: '{bad}' matches no rule code or prefix" in message
    assert (f"did you mean {close}" in message) if close else "did you mean" not in message
    assert result.stdout == ""  # nothing checked, no report that could look clean


@pytest.mark.parametrize("value", ["NDC", "MOD001", "IG", "IGS", "IGS8", "IGE7", "DOC,EDI"])
def test_codes_prefixes_and_ig_families_are_accepted(runner, defect, value):
    result = runner.invoke(main, ["check", str(defect), "--ignore", value, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    json.loads(result.stdout)


@pytest.mark.parametrize("config, where", [
    ({"ignore": ["EDI06"]}, "ignore"),
    ({"select": ["NDC", "MODD"]}, "select"),
    ({"severity": {"DOC02": "warning"}}, "severity"),
    ({"severity": {"NDC": "warning"}}, "severity"),  # severities take whole codes
    ({"profiles": [{"payer_ids": ["P1"], "ignore": ["DX9"]}]}, "profiles[0].ignore"),
    ({"defaults": {"select": ["XYZ"]}}, "defaults.select"),
])
def test_a_configuration_entry_that_matches_no_rule_is_an_error(config, where):
    with pytest.raises(ConfigError, match=r"matches no rule code") as raised:
        parse_config(config, "edi837.toml")
    assert where in str(raised.value)


def test_a_configuration_typo_exits_2(runner, defect, tmp_path):
    config = tmp_path / "edi837.toml"
    config.write_text('ignore = ["DOC"]\n[severity]\nNDC02 = "warning"\n')
    result = runner.invoke(main, ["check", str(defect), "--config", str(config)])
    assert result.exit_code == 2
    assert "severity: 'NDC02' matches no rule code (did you mean NDC002" in result.stderr


def test_check_with_outputs_says_what_it_wrote(runner, defect, tmp_path):
    html, data = tmp_path / "report.html", tmp_path / "report.json"
    result = runner.invoke(main, ["check", str(defect), "-o", str(html), "-o", str(data)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("1 file (0 OK), 2 claims, 2 drug lines: 1 error, ")
    assert "charges held: $9,400.00 on 1 claim with errors" in lines[0]
    assert lines[1:] == [f"  wrote {html} (html)", f"  wrote {data} (json)"]


# -- item 5: --min-severity ---------------------------------------------------------------
def test_min_severity_lists_what_the_person_asked_for(runner, defect):
    default = runner.invoke(main, ["check", str(defect)]).output
    assert "NDC002 error" in default and "DOC000 info" not in default
    assert "below warning severity not listed (--min-severity info lists them)" in default
    everything = runner.invoke(main, ["check", str(defect), "--min-severity", "info"]).output
    assert "DOC000 info documentation checklist: DOC004" in everything
    assert "not listed" not in everything
    errors = runner.invoke(main, ["check", str(defect), "--min-severity", "error"]).output
    assert "NDC002 error" in errors and " warning " not in errors.split("\n\n")[0]
    assert runner.invoke(main, ["check", str(defect), "--min-severity", "loud"]).exit_code == 2


def test_min_severity_chooses_the_claims_the_html_lists(runner, defect):
    def rows(*options):
        result = runner.invoke(main, ["check", str(defect), "--format", "html", *options])
        doc = lxml_html.fromstring(result.stdout)
        meta = json.loads(doc.xpath('//script[@id="worklist-meta"]')[0].text)
        listed = json.loads(doc.xpath('//script[@id="worklist-rows"]')[0].text)
        claims = {dict(zip(meta["fields"], row, strict=True))["claim"] for row in listed}
        return claims, meta["collapsed"]

    assert rows() == ({"C1"}, ["info"])  # C2 has only an info note: not a claim to work
    assert rows("--min-severity", "info") == ({"C1", "C2"}, ["info"])
    assert rows("--min-severity", "error") == ({"C1"}, ["warning", "info"])


# -- item 7: generate does not overwrite silently -------------------------------------------
def test_generate_refuses_to_replace_a_file_without_force(runner, tmp_path):
    out = tmp_path / "claims.edi"
    out.write_text("mine")
    refused = runner.invoke(main, ["generate", "--claims", "2", "-o", str(out)])
    assert refused.exit_code == 2 and "exists; use --force" in refused.stderr
    assert out.read_text() == "mine"
    forced = runner.invoke(main, ["generate", "--claims", "2", "-o", str(out), "--force"])
    assert forced.exit_code == 0 and out.read_text().startswith("ISA*")
