"""The rules judge by imported CMS reference data, by kind of claim and date of service:
NDC004/NDC007 by the crosswalks, UNT004 by the MUE files, DX002 by the ICD-10-CM code
files, the ASP payment limit beside each line's charge, the files named in every report
(issue #16 items 3 and 4)."""
import datetime as dt
import json

import pytest
import refdata_files as files
from click.testing import CliRunner
from conftest import SAMPLES
from jsonschema import Draft202012Validator

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.reader.shapes import ClaimShapes
from edi837.refdata import import_files
from edi837.rules.mue import mue_for, mue_message

OPPS_ROWS = [row for row in files.CROSSWALK_ROWS if row[3] != "99999-0001-01"]
OUTPATIENT_MUE = [["J2350", "1200", "3 Date of Service Edit: Clinical", "Clinical"]]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Crosswalks and pricing from 2026-04-01, MUEs from 2026-01-01, ICD-10-CM FY2025 and
    FY2026: a crosswalk-only NDC 99999000101 under J2350 (ASP only), MUE J2350 600 MAI 3
    and J2351 920 MAI 1 for 837P, J2350 1200 for 837I."""
    directory = tmp_path_factory.mktemp("cms")
    store = directory / "store"
    import_files([
        files.zipped(directory, "asp-2026-q2.zip", {
            "ASP_crosswalk.csv": files.crosswalk(),
            "OPPS_crosswalk.csv": files.crosswalk(title="April 2026 OPPS NDC-HCPCS Crosswalk",
                                                  rows=OPPS_ROWS),
            "ASP_pricing.csv": files.pricing()}),
        files.write(directory, "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", files.mue()),
        files.write(directory, "MCR_MUE_OutpatientHospitalServices_Eff_01-01-2026.csv",
                    files.mue("Outpatient Hospital Services", rows=OUTPATIENT_MUE))], store)
    import_files([files.write(directory, "icd10cm_order_2026.txt", files.icd10_order())], store,
                 effective=dt.date(2025, 10, 1), force=True)  # a few codes, on purpose
    import_files([files.write(directory, "icd10cm_order_2025.txt",
                              files.icd10_order(files.ICD_FY2025))], store,
                 effective=dt.date(2024, 10, 1), force=True)
    return store


@pytest.fixture(scope="module")
def table(store):
    return load_drug_table(refdata=store)


@pytest.fixture
def engine(table):  # one run per test: the history of one test is not the next's
    return Engine(table)


def line(hcpcs="J2350", units=600, ndc="50242015001", quantity="20", unit="ML", day="20260515",
         modifier="JZ", number=1):
    ctp = f"CTP****{quantity}*{unit}\n" if quantity else ""
    return (f"LX*{number}\nSV1*HC:{hcpcs}:{modifier}*{units * 15}*UN*{units}***1\n"
            f"DTP*472*D8*{day}\nLIN**N4*{ndc}\n{ctp}")


def claim(*lines, dx="G35A"):
    return f"CLM*C1*9000***11:B:1*Y*A*Y*Y\nHI*ABK:{dx}\n" + "".join(lines)


def institutional(*lines, dx="G35A", day="20260515"):
    body = "".join(f"LX*{n}\nSV2*0636*HC:J2350:JZ*9000*UN*{units}\nDTP*472*D8*{day}\n"
                   f"LIN**N4*{ndc}\nCTP****{units // 30}*ML\n"
                   for n, (units, ndc) in enumerate(lines, start=1))
    return (f"CLM*I1*9000***13:A:1**A*Y*Y\nDTP*434*RD8*{day}-{day}\nHI*ABK:{dx}\n" + body)


@pytest.fixture
def check(engine, edi_file):
    def run(fragment, kind="837P", rule=None, *, with_engine=None):
        result = (with_engine or engine).check_file(edi_file(fragment, kind=kind))
        return [f for f in result.findings if rule is None or f.rule == rule]
    return run


# -- NDC004 / NDC007 by the crosswalk ------------------------------------------------------

def test_an_ndc_only_the_crosswalk_lists_is_accepted_from_its_effective_date(check):
    fragment = line(ndc="99999000101", quantity="1", unit="UN")
    assert check(claim(fragment), rule="NDC004") == []
    before = check(claim(fragment.replace("20260515", "20260331")), rule="NDC004")
    assert [(f.severity, f.message) for f in before] == [
        ("warning", "NDC 99999000101 is not listed for J2350 (listed: 50242015001): check the "
                    "NDC on the package; the drug table and the crosswalk are not complete "
                    "lists of NDCs")]


def test_an_ndc_the_crosswalk_lists_under_another_code_is_named(check):
    found, = check(claim(line("J2351", 920, ndc="99999000101", quantity="1", unit="UN")),
                   rule="NDC004")
    assert found.message == ("NDC 99999000101 is Ocrelizumab (test), billed under J2350 per "
                             "ASP_crosswalk.csv (effective 2026-04-01), not J2351: bill J2350 "
                             "or correct the NDC")


def test_absence_from_the_crosswalk_is_never_an_error_by_itself(check):
    # J1815 lists no NDCs in the table: an NDC nobody claims passes, one the crosswalk
    # lists under J2350 does not.
    assert check(claim(line("J1815", 10, ndc="11111222233", modifier="")), rule="NDC004") == []
    found, = check(claim(line("J1815", 10, ndc="99999000101", modifier="")), rule="NDC004")
    assert "billed under J2350 per ASP_crosswalk.csv" in found.message


@pytest.fixture(scope="module")
def fda_table(tmp_path_factory):
    """The FDA NDC Directory's package and product files (Ocrevus 50242-150-01 and Zunovo
    50242-554-01 among them), nothing else."""
    directory = tmp_path_factory.mktemp("fda")
    store = directory / "store"
    import_files([files.write(directory, "package.txt", files.fda_package()),
                  files.write(directory, "product.txt", files.fda_product())], store)
    return load_drug_table(refdata=store)


@pytest.mark.parametrize("ndc, product", [("50242015002", "50242-0150"),  # by its packages
                                          ("50242055402", "50242-0554")])  # by the product file
def test_a_package_the_fda_directory_does_not_list_for_its_product_is_an_error(
        check, fda_table, ndc, product):
    found, = check(claim(line(ndc=ndc)), rule="NDC004", with_engine=Engine(fda_table))
    assert found.severity == "error"
    assert found.message == (f"NDC {ndc} is not listed for J2350 (listed: 50242015001); "
                             f"package.txt lists product {product} but not package 02")


def test_an_ndc_of_a_product_the_fda_directory_does_not_know_is_a_warning(check, fda_table):
    found, = check(claim(line(ndc="12345678901")), rule="NDC004", with_engine=Engine(fda_table))
    assert found.severity == "warning"
    assert check(claim(line()), rule="NDC004", with_engine=Engine(fda_table)) == []


def test_837i_lines_are_judged_by_the_opps_crosswalk(check):
    assert check(claim(line(ndc="99999000101", quantity="1", unit="UN")), rule="NDC004") == []
    found, = check(institutional((600, "99999000101")), kind="837I", rule="NDC004")
    assert "not listed for J2350" in found.message


def test_ndc_quantity_of_a_crosswalk_only_ndc_uses_its_billing_units(check):
    assert check(claim(line(ndc="99999000101", quantity="1", unit="UN")), rule="NDC007") == []
    found, = check(claim(line(ndc="99999000101", quantity="2", unit="UN")), rule="NDC007")
    assert "(expected 1 UN)" in found.message
    # its package size has no unit: ML is not judged without the table's package
    assert check(claim(line(ndc="99999000101", quantity="7", unit="ML")), rule="NDC007") == []


def test_the_table_wins_where_a_user_says_so(check, store, tmp_path):
    extra = tmp_path / "mine.toml"
    shipped = load_drug_table()
    extra.write_text(_override("J2350", "ndcs"))
    table = load_drug_table([extra], refdata=store)
    assert shipped.drug("J2350").ndcs == table.drug("J2350").ndcs
    found = check(claim(line(ndc="99999000101", quantity="1", unit="UN")), rule="NDC004",
                  with_engine=Engine(table))
    assert [f.message for f in found] == [
        "NDC 99999000101 is not listed for J2350 (listed: 50242015001): check the NDC on the "
        "package; the drug table and the crosswalk are not complete lists of NDCs"]


def _override(hcpcs, what):
    """An extra drug table repeating the shipped entry of ``hcpcs`` with overrides_reference."""
    from importlib import resources

    text = resources.files("edi837.drugs").joinpath("table.toml").read_text()
    section = text[text.index(f"[drugs.{hcpcs}]\n"):]
    section = section[:section.index("\n# ====")]
    entry = section.replace(f"[drugs.{hcpcs}]\n",
                            f"[drugs.{hcpcs}]\noverrides_reference = [\"{what}\"]\n", 1)
    return f"version = \"mine.1\"\nupdated = 2026-11-29\n{entry}\n"


# -- UNT004 by the MUE files ----------------------------------------------------------------

def test_mai_3_sums_the_claims_lines_for_the_date(check):
    found, = check(claim(line(units=600), line(units=300, quantity="10", number=2)),
                   rule="UNT004")
    assert found.line_number == 2 and found.severity == "error"
    assert found.message == (
        "J2350 on 2026-05-15: 900 units on this claim's lines for the date, above the CMS MUE "
        "of 600 units (MAI 3: per date of service, clinical) in "
        "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv (effective 2026-01-01)")
    assert check(claim(line(units=600)), rule="UNT004") == []


def test_mai_1_judges_each_line(check):
    zunovo = dict(hcpcs="J2351", ndc="50242055401", quantity="23")
    found, = check(claim(line(units=940, **zunovo)), rule="UNT004")
    assert "940 units on this line" in found.message and "(MAI 1: per claim line)" in found.message
    assert check(claim(line(units=500, **zunovo), line(units=500, number=2, **zunovo)),
                 rule="UNT004") == []


def test_837i_is_judged_by_the_outpatient_hospital_file(check):
    assert check(institutional((600, "50242015001"), (600, "50242015001")), kind="837I",
                 rule="UNT004") == []
    found, = check(institutional((600, "50242015001"), (900, "50242015001")), kind="837I",
                   rule="UNT004")
    assert "above the CMS MUE of 1200 units" in found.message
    assert "OutpatientHospitalServices" in found.message


def test_no_mue_before_the_files_effective_date_or_without_reference_data(check, edi_file):
    fragment = claim(line(units=600, day="20251231"), line(units=300, quantity="10",
                                                         day="20251231", number=2))
    assert check(fragment, rule="UNT004") == []
    plain = Engine(load_drug_table())
    assert check(fragment.replace("20251231", "20260515"), rule="UNT004", with_engine=plain) == []


def test_mue_for_gives_the_history_stage_the_mue_in_force(store):
    table = load_drug_table(refdata=store)
    mue = mue_for(table, "J2350", "837P", dt.date(2026, 1, 1))
    assert (mue.value, mue.mai, mue.per_day, mue.rationale) == (600, 3, True,
                                                                "Prescribing Information")
    assert mue.file.short_name == "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv"
    assert mue_for(table.reference, "J2350", "837I", dt.date(2026, 1, 1)).value == 1200
    assert mue_for(table, "J2350", "837P", dt.date(2025, 12, 31)) is None
    assert mue_for(load_drug_table(), "J2350", "837P", dt.date(2026, 1, 1)) is None
    assert mue_message(mue, 1200, dt.date(2026, 2, 1), "billed across claims").startswith(
        "J2350 on 2026-02-01: 1200 units billed across claims, above the CMS MUE of 600 units")


# -- DX001 / DX002 by the ICD-10-CM code files ----------------------------------------------

def test_a_header_code_is_not_valid_by_the_code_file_in_force(check):
    found, = check(claim(line(day="20260115"), dx="G35"), rule="DX002")
    assert ("(a header code, not billable, in the ICD-10-CM code file icd10cm_order_2026.txt, "
            "effective 2025-10-01)") in found.message
    assert check(claim(line(day="20260115"), dx="G35A"), rule="DX002") == []
    assert check(claim(line(day="20250601"), dx="G35"), rule="DX002") == []  # FY2025: billable


def test_a_code_missing_from_the_code_file_is_not_valid(check):
    found, = check(claim(line(day="20260115"), dx="G35B1"), rule="DX002")
    assert "not in the ICD-10-CM code file icd10cm_order_2026.txt" in found.message
    assert check(claim(line(day="20260115"), dx="G35B1"), rule="DX001") == []


def test_prefix_codes_are_checked_for_billability_too(check):
    tocilizumab = dict(hcpcs="J3262", units=400, ndc="50242013701", quantity="20")
    found, = check(claim(line(day="20260115", **tocilizumab), dx="M05"), rule="DX002")
    assert found.value == "M05"
    assert check(claim(line(day="20260115", **tocilizumab), dx="M0579"), rule="DX002") == []


def test_diagnosis_dates_of_the_table_decide_where_a_user_says_so(check, store, tmp_path):
    extra = tmp_path / "mine.toml"
    extra.write_text(_override("J2350", "diagnoses"))
    engine = Engine(load_drug_table([extra], refdata=store))
    assert check(claim(line(day="20260115"), dx="G35B1"), rule="DX002", with_engine=engine) == []


# -- the payment limit beside the charge, and the files in every report --------------------

def test_findings_on_a_line_carry_its_asp_payment_limit(check):
    found = check(claim(line(units=600, quantity="30")), rule="NDC007")[0]
    assert found.payment_limit == "35760.00" and found.as_dict()["payment_limit"] == "35760.00"
    earlier = check(claim(line(units=600, quantity="30", day="20260331")), rule="NDC007")[0]
    assert earlier.payment_limit is None  # no pricing file in force yet


def test_json_report_names_the_files_used(store, edi_file):
    path = edi_file(claim(line(units=600, quantity="30")))
    result = CliRunner().invoke(main, ["check", str(path), "--format", "json",
                                       "--refdata", str(store)])
    assert result.exit_code == 0, result.output  # NDC007 is a warning
    document = json.loads(result.stdout)
    schema = json.loads((SAMPLES.parent / "schemas" / "report.schema.json").read_text())
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        document)
    imported = document["reference_data"]["imported_files"]
    assert {f["kind"] for f in imported} == {"asp-crosswalk", "opps-crosswalk", "asp-pricing",
                                             "mue-practitioner", "mue-outpatient", "icd10cm"}
    icd = [f for f in imported if f["kind"] == "icd10cm"]
    assert [(f["effective_from"], f["effective_to"]) for f in icd] == [
        ("2024-10-01", "2025-09-30"), ("2025-10-01", None)]
    assert all(len(f["sha256"]) == 64 and f["name"] for f in imported)
    ndc007, = [f for f in document["files"][0]["findings"] if f["rule"] == "NDC007"]
    assert ndc007["payment_limit"] == "35760.00"


def test_check_with_a_folder_without_reference_data_exits_2(tmp_path, edi_file, monkeypatch):
    path = edi_file(claim(line()))
    result = CliRunner().invoke(main, ["check", str(path), "--refdata", str(tmp_path / "none")])
    assert result.exit_code == 2 and "no reference data imported here" in result.output
    monkeypatch.setenv("EDI837_REFDATA", str(tmp_path / "typo"))
    assert CliRunner().invoke(main, ["check", str(path)]).exit_code == 2


def test_check_uses_the_default_folder_when_it_holds_reference_data(store, edi_file,
                                                                    monkeypatch):
    monkeypatch.setenv("EDI837_REFDATA", str(store))
    fragment = claim(line(units=600), line(units=300, quantity="10", number=2))
    result = CliRunner().invoke(main, ["check", str(edi_file(fragment))])
    assert result.exit_code == 1 and "UNT004 error" in result.output


def test_drugs_shows_where_each_fact_comes_from(store):
    result = CliRunner().invoke(main, ["drugs", "J2350", "--refdata", str(store),
                                       "--date", "2026-05-01"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "(from the drug table: sources in brackets)" in text
    assert ("837P NDC 99999000101 Ocrelizumab (test) (Synthetic Labs): 600 billing units per "
            "item, 600 per package; not in the table  [ASP_crosswalk.csv, effective 2026-04-01]"
            ) in text
    assert "837P MUE: 600 units, MAI 3 (per date of service, clinical)  [MCR_MUE_Pract" in text
    assert "ASP payment limit: $59.600 per billing unit (1 MG)  [ASP_pricing.csv" in text
    assert "ICD-10-CM: G35 header, G35A billable" in text


# -- claim shapes know the dates reference facts change on ------------------------------------

def test_shapes_know_every_date_an_imported_file_takes_effect(store):
    shapes = ClaimShapes(load_drug_table(refdata=store))
    assert shapes._period("20260331") != shapes._period("20260401")  # crosswalk, pricing
    assert shapes._period("20251231") != shapes._period("20260101")  # MUE
    assert shapes._period("20240930") != shapes._period("20241001")  # ICD-10-CM FY2025
    plain = ClaimShapes(load_drug_table())
    assert plain._period("20260331") == plain._period("20260401")


def test_same_shape_across_an_effective_date_gives_each_claim_its_findings(store, edi_file):
    claims = "".join(claim(line(ndc="99999000101", quantity="1", unit="UN", day=day))
                     .replace("CLM*C1", f"CLM*C{n}")
                     for n, day in enumerate(["20260515", "20260315", "20260516"]))
    path = edi_file(claims)
    results = [Engine(load_drug_table(refdata=store), shapes=shapes).check_file(path)
               for shapes in (True, False)]
    with_shapes, without = ([(f.claim_id, f.rule, f.message) for f in r.findings]
                            for r in results)
    assert with_shapes == without
    assert [c for c, rule, _ in with_shapes if rule == "NDC004"] == ["C1"]


def test_every_format_names_the_files_used_and_shows_the_payment_limit(store, edi_file):
    import csv
    import io

    from lxml import etree

    from edi837.reports import load_writers

    report = Engine(load_drug_table(refdata=store)).run(
        [edi_file(claim(line(units=600, quantity="30")))])
    writers = load_writers()
    rendered = {}
    for name in ("text", "annotated", "csv", "xml", "html"):
        out = io.StringIO()
        writers[name](report, out)
        rendered[name] = out.getvalue()
    for name, text in rendered.items():
        assert "asp-2026-q2" in text or "ASP_crosswalk" in text, name  # an imported file
        assert "history" in text, name
    row = next(r for r in csv.DictReader(io.StringIO(rendered["csv"])) if r["rule"] == "NDC007")
    assert row["payment_limit"] == "35760.00" and "CMS files" in row["reference_data"]
    root = etree.fromstring(rendered["xml"].encode())
    assert root.find("referenceData/importedFile") is not None
    assert root.xpath("//finding[@rule='NDC007']/@paymentLimit") == ["35760.00"]
    assert "ASP payment limit $35,760.00" in rendered["annotated"]
