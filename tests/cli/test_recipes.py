"""The three recipes of README's "Contributing" section, each done here end to end:
a new drug (a user drug table), a new rule (the rule registry), a new report format
(the writer registry).  Each is registered for the test and taken away after it, so
the rest of the suite sees edi837 as shipped."""
from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import edi837
from edi837 import formats, reports
from edi837.cli import main
from edi837.entry import describe
from edi837.findings import WARNING
from edi837.rules import REGISTRY, RuleDefinitionError, all_rules, rule, shape_fields
from edi837.x12.fragment import wrap_claims

# -- recipe 1: a new drug, by a drug table of your own ------------------------------------
# A synthetic drug (J9999 "testumab"); every fact carries its source and confidence.
LOCAL_DRUGS = """\
version = "local.1"
updated = 2026-12-01

[drugs.J9999]
descriptor = "Injection, testumab, 10 mg"
amount_per_unit = 10
unit_of_measure = "mg"
route = "IV"
single_dose = true
diagnoses = []
source = "the testumab label (synthetic)"
confidence = "B"

[drugs.J9999.dosing]
labeled_doses = [10]  # billing units: 100 mg
max_units_per_day = 10
source = "the testumab label (synthetic)"
confidence = "B"

[drugs.J9999.administration]
codes = ["96365"]
source = "the testumab label (synthetic)"
confidence = "B"

# a [drugs.J9999.schedule] (dosing interval) would also need tolerance_source
[[drugs.J9999.ndcs]]
ndc = "99999000101"
package = "100 mg/10 mL single-dose vial"
amount = 100
volume_ml = 10
billable = true
source = "the testumab label (synthetic)"
confidence = "B"
"""

TESTUMAB_CLAIM = """
CLM*T1*5000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J9999:JZ*5000*UN*10***1
DTP*472*D8*20260115
LIN**N4*{ndc}
CTP****10*ML
LX*2
SV1*HC:96365*400*UN*1***1
DTP*472*D8*20260115
"""


def test_recipe_new_drug_by_a_user_drug_table(tmp_path):
    table = tmp_path / "local-drugs.toml"
    table.write_text(LOCAL_DRUGS)
    right = tmp_path / "right-ndc.edi"
    right.write_text(wrap_claims(TESTUMAB_CLAIM.format(ndc="99999000101")))
    wrong = tmp_path / "wrong-ndc.edi"
    wrong.write_text(wrap_claims(TESTUMAB_CLAIM.format(ndc="50242015001")))  # Ocrevus's

    def rules_of(path, *tables):
        result = edi837.check([path], drug_tables=tables)
        assert result.report.files[0].drug_lines == 1
        return {f.rule for f in result.findings if f.severity != "info"}

    # the table's NDC is the drug's: no NDC finding; another drug's NDC is an error
    assert not {r for r in rules_of(right, table) if r.startswith("NDC")}
    assert "NDC004" in rules_of(wrong, table)
    # without the table J9999 is a not-otherwise-classified code, and the NDC Ocrevus's,
    # whose own code J2350 is valid on the date: NDC004 names it (trial 8 item 2)
    found = edi837.check([wrong]).findings
    assert [f.message for f in found if f.rule == "NDC004"] == [
        "NDC 50242015001 is Ocrevus, billed under J2350 (valid on 2026-01-15: from "
        "2018-01-01): bill J2350, not J9999 (J9999 is a not-otherwise-classified code, for a "
        "drug with no code of its own: drug table [policy.unclassified_codes])"]
    # the command line takes the same table, and `drugs` shows its facts and source
    runner = CliRunner()
    shown = runner.invoke(main, ["drugs", "J9999", "--drug-table", str(table)])
    assert shown.exit_code == 0, shown.output
    assert "testumab" in shown.output and "99999000101" in shown.output
    checked = runner.invoke(main, ["check", str(wrong), "--drug-table", str(table),
                                   "--format", "json"])
    assert checked.exit_code == 1
    assert "NDC004" in {f["rule"] for f in json.loads(checked.output)["files"][0]["findings"]}


# -- recipe 2: a new rule, by the rule registry --------------------------------------------
def units_over_999(ctx):
    """Drug line bills more than 999 units (an example rule of the recipe).

    What it does: warns when a drug line's units (SV104) are above 999.
    Why: an example only: no payer rule says so (a real rule names its source).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*1200***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****40*ML
    Fix safety: none (the units are the biller's to correct).
    """
    units = ctx.line.units_value
    if units is not None and units > 999:
        ctx.finding(f"{ctx.line.procedure} line bills {ctx.line.units} units, more than 999",
                    value=ctx.line.units)


def readme_rule_decorator() -> str:
    """The `@rule(...)` line of README's "A new rule" example, as written there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    recipe = readme[readme.index("**A new rule.**"):]
    block = re.search(r"```python\n(.*?)```", recipe, re.S)
    assert block is not None
    decorator = ast.parse(block.group(1)).body[0].decorator_list[0]
    return ast.unparse(decorator)


def registered_as_the_readme_says(check, decorator: str | None = None) -> None:
    # what `@rule(...)` above a function in a module of edi837/rules/ does when loaded
    eval(decorator or readme_rule_decorator(), {"rule": rule, "WARNING": WARNING})(check)


@pytest.fixture
def example_rule():
    assert readme_rule_decorator().startswith("rule('UNT099'")
    assert "UNT099" not in all_rules()  # the README's example takes a free code
    registered_as_the_readme_says(units_over_999)
    yield all_rules()["UNT099"]
    del REGISTRY["UNT099"]


def test_a_rule_code_taken_already_is_the_contributors_mistake_named_so(tmp_path):
    shipped = all_rules()["UNT005"]  # (loaded: as the registry is when a module is read)
    taken = readme_rule_decorator().replace("UNT099", "UNT005")
    with pytest.raises(RuleDefinitionError) as refused:
        registered_as_the_readme_says(units_over_999, taken)
    said = str(refused.value)
    assert said.startswith(f"rule UNT005 of {__name__}.units_over_999: the code UNT005 is "
                           "taken already (by edi837.rules.")
    assert "free code" in said
    assert all_rules()["UNT005"] is shipped  # the shipped rule stays
    line = describe(refused.value)  # what every command says, exit status 2
    assert line.startswith("a rule cannot be registered: rule UNT005 of ")
    assert "bug in edi837" not in line


def test_recipe_new_rule_by_the_registry(example_rule, tmp_path):
    assert example_rule.family == "UNT" and example_rule.scope == "line"
    assert list(all_rules()).index("UNT099") == list(all_rules()).index("UNT005") + 1
    assert "line.units" in shape_fields()  # the claim shapes take what it reads
    found = {}
    for verdict, [(kind, fragment)] in example_rule.examples().items():
        path = tmp_path / f"{verdict}.edi"
        path.write_text(wrap_claims(fragment, kind))
        found[verdict] = [f for f in edi837.check([path]).findings if f.rule == "UNT099"]
    assert found["PASS"] == []
    assert [(f.severity, f.value, f.line_number) for f in found["FAIL"]] == \
        [("warning", "1200", 1)]
    runner = CliRunner()
    documented = runner.invoke(main, ["rules", "UNT099"])
    assert documented.exit_code == 0 and "more than 999 units" in documented.output
    selected = runner.invoke(main, ["check", str(tmp_path / "FAIL.edi"), "--select", "UNT099"])
    assert selected.exit_code == 0  # a warning holds nothing
    assert "UNT099" in selected.output and "MOD" not in selected.output


def test_the_example_rule_is_gone_after_its_test():
    assert "UNT099" not in all_rules()


# -- recipe 3: a new report format, by the writer registry ---------------------------------
def write_tsv(report, out, options=None):
    """One line per finding, tab-separated: a format a plug-in adds."""
    out.write("rule\tseverity\tclaim_id\tmessage\n")
    for finding in report.findings:
        out.write(f"{finding.rule}\t{finding.severity}\t{finding.claim_id or ''}\t"
                  f"{finding.message}\n")


@pytest.fixture
def tsv_format():
    # a format shipped with edi837 is one line in edi837/formats.py and @writer("tsv")
    # over its write function in edi837/reports/; a plug-in's gives its extensions
    reports.writer("tsv", ".tsv")(write_tsv)
    yield
    del reports.WRITERS["tsv"]
    formats.FORMATS.pop("tsv")
    formats.EXTENSIONS.pop(".tsv")


def test_recipe_new_report_format_by_the_writer_registry(tsv_format, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    claim = folder / "claims.edi"
    claim.write_text(wrap_claims(textwrap.dedent("""
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        """)))  # no JW/JZ modifier: MOD001
    out = folder / "findings.tsv"
    done = CliRunner().invoke(main, ["check", str(folder), "-o", str(out)])
    assert done.exit_code == 1, done.output
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert rows[0] == ["rule", "severity", "claim_id", "message"]
    assert ["MOD001", "error", "C1"] in [row[:3] for row in rows[1:]]
    # the report now in the folder is known as one: checking the folder again reads
    # the claim file alone, never the report as a claim file
    again = edi837.check([folder])
    assert [f.path for f in again.report.files] == [str(claim)]
    assert reports.format_for("x.TSV") == "tsv" and "tsv" in reports.load_writers()
    helped = CliRunner().invoke(main, ["check", "--help"]).output
    assert "tsv" in helped and all(name in helped for name in formats.FORMATS)


def test_the_example_format_is_gone_after_its_test():
    assert "tsv" not in reports.WRITERS and ".tsv" not in formats.report_extensions()
    assert "tsv" not in CliRunner().invoke(main, ["check", "--help"]).output
