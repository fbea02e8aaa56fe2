"""Every kind of file the importers write is one the JSON report's schema and `refdata
import --kind` know (a new user's trial, round 4: a report failed its schema once an HCPCS
file or the FDA NDC Directory was imported).  Derived from the importers' registry
(edi837.refdata.KINDS): a new importer's kind cannot be forgotten."""
import json
from pathlib import Path

import refdata_files as files
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM
from jsonschema import Draft202012Validator

from edi837.cli import main
from edi837.refdata import KINDS

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json"


def schema() -> dict:
    return json.loads(SCHEMA.read_text())


def kinds_of_the_schema() -> set[str]:
    files_schema = schema()["properties"]["reference_data"]["properties"]["imported_files"]
    return set(files_schema["items"]["properties"]["kind"]["enum"])


def test_the_schema_lists_every_kind_the_importers_write():
    assert kinds_of_the_schema() == set(KINDS)


def test_refdata_import_kind_offers_every_kind():
    from edi837.cli.refdata import refdata

    [option] = [p for p in refdata.commands["import"].params if p.name == "kind"]
    assert set(option.type.choices) == set(KINDS)


def test_a_report_after_importing_every_kind_is_valid(tmp_path, edi_file):
    """A store holding one file of each kind the importers know: `check --format json`
    names them all, and the report passes its schema."""
    store, runner = tmp_path / "store", CliRunner()
    sources = [
        files.write(tmp_path, "asp.csv", files.crosswalk()),
        files.write(tmp_path, "opps.csv", files.crosswalk(
            title="April 2026 OPPS NDC-HCPCS Crosswalk")),
        files.write(tmp_path, "pricing.csv", files.pricing()),
        files.write(tmp_path, "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", files.mue()),
        files.write(tmp_path, "MCR_MUE_OutpatientHospitalServices_Eff_01-01-2026.csv",
                    files.mue("Outpatient Hospital Services")),
        files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", files.hcpcs_file()),
        files.write(tmp_path, "package.txt", files.fda_package()),
        files.write(tmp_path, "product.txt", files.fda_product())]
    for source in sources:
        done = runner.invoke(main, ["refdata", "import", "--refdata", str(store), str(source)])
        assert done.exit_code == 0, done.output
    icd = files.write(tmp_path, "icd10cm_order_2026.txt", files.icd10_order())
    done = runner.invoke(main, ["refdata", "import", "--refdata", str(store), str(icd),
                                "--effective", "2025-10-01", "--force", "--kind", "icd10cm"])
    assert done.exit_code == 0, done.output
    checked = runner.invoke(main, ["check", str(edi_file(CLEAN_J2350_CLAIM)), "--format",
                                   "json", "--refdata", str(store)])
    assert checked.exit_code in (0, 1), checked.output
    report = json.loads(checked.stdout)
    assert {f["kind"] for f in report["reference_data"]["imported_files"]} == set(KINDS)
    Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER) \
        .validate(report)


def test_kind_names_a_file_of_another_kind_refused(tmp_path):
    """--kind hcpcs (newly offered) refuses what is not an HCPCS file; accepts one."""
    runner = CliRunner()
    store = tmp_path / "store"
    mue = files.write(tmp_path, "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", files.mue())
    refused = runner.invoke(main, ["refdata", "import", "--refdata", str(store), str(mue),
                                   "--kind", "hcpcs"])
    assert refused.exit_code == 2 and "not CMS HCPCS file" in refused.output
    hcpcs = files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", files.hcpcs_file())
    taken = runner.invoke(main, ["refdata", "import", "--refdata", str(store), str(hcpcs),
                                 "--kind", "hcpcs"])
    assert taken.exit_code == 0, taken.output
