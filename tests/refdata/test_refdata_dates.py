"""`edi837 refdata import` learns the dates of codes and products (issue 23 item 2): the
FDA NDC Directory (package and product files, alone or in their ZIP) and CMS's HCPCS file;
DOS002 and NDC009 then judge by them before the drug table's dates."""
import datetime as dt

import pytest
import refdata_files as files
from click.testing import CliRunner

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.refdata import RefDataError, import_files, open_reference
from edi837.x12.fragment import wrap_claims


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def kinds(store):
    return sorted((r.kind, r.rows) for r in open_reference(store).records)


# -- the importers -------------------------------------------------------------------------------

def test_fda_package_and_product_files_are_recognised(tmp_path, store):
    outcomes = import_files([files.write(tmp_path, "package.txt", files.fda_package()),
                             files.write(tmp_path, "product.txt", files.fda_product())], store)
    assert [(o.kind, o.rows) for o in outcomes] == [("fda-ndc-package", 3),
                                                    ("fda-ndc-product", 2)]
    assert all(o.effective_from == dt.date.today() for o in outcomes)
    reference = open_reference(store)
    zunovo = reference.ndc_dates("50242055401")
    assert (zunovo.start, zunovo.end, zunovo.file.kind) == (dt.date(2024, 9, 13), None,
                                                             "fda-ndc-package")
    ended = reference.ndc_dates("99999000101")
    assert ended.end == dt.date(2025, 12, 31)
    # a package the package file does not list: its product's dates (4-3 product NDC padded)
    product = reference.ndc_dates("08888007701")
    assert (product.start, product.end, product.note) == (dt.date(2021, 6, 1),
                                                          dt.date(2023, 6, 30),
                                                          "Synthetic Product")
    assert reference.ndc_dates("12345678901") is None


def test_fda_directory_zip_and_reimport_changes_nothing(tmp_path, store):
    archive = files.zipped(tmp_path, "ndctext.zip", {"product.txt": files.fda_product(),
                                                      "package.txt": files.fda_package()})
    first = import_files([archive], store)
    assert sorted(o.kind for o in first) == ["fda-ndc-package", "fda-ndc-product"]
    again = import_files([archive], store)
    assert {o.result for o in again} == {"unchanged"}
    assert kinds(store) == [("fda-ndc-package", 3), ("fda-ndc-product", 2)]


def test_hcpcs_file_dates_from_its_name(tmp_path, store):
    path = files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", files.hcpcs_file())
    outcome, = import_files([path], store)
    assert (outcome.kind, outcome.rows, outcome.effective_from) == ("hcpcs", 3,
                                                                    dt.date(2026, 1, 1))
    reference = open_reference(store)
    j2351 = reference.hcpcs_dates("J2351")  # the continuation row adds nothing
    assert (j2351.start, j2351.end, j2351.note) == (dt.date(2025, 4, 1), None,
                                                    "Inj ocrelizumab 1mg hya-ocsq")
    assert reference.hcpcs_dates("C9494").end == dt.date(2017, 12, 31)
    assert reference.hcpcs_dates("J9999") is None


def test_hcpcs_file_tolerates_drifting_columns_and_dates(tmp_path, store):
    text = files.hcpcs_file(rows=[["J2350", "0010", "3", "x", "Inj ocrelizumab", "1/1/2018",
                                   "1/1/2018", "", "N"]], delimiter="\t").replace(
        "ADD DT", "Add Date").replace("TERM DT", "Termination Date").replace("HCPC\t", "HCPCS\t")
    import_files([files.write(tmp_path, "hcpcs-2026-q2.txt", text)], store,
                 effective=dt.date(2026, 4, 1))
    assert open_reference(store).hcpcs_dates("J2350").start == dt.date(2018, 1, 1)


@pytest.mark.parametrize("name, text, problem", [
    ("package.txt", files.fda_package(rows=[["x", "50242-554", "50242-554-01", "d", "2024-13-45",
                                              "", "N", "N"]]), "line 2: marketing dates"),
    ("package.txt", files.fda_package(rows=[["x", "50242-554", "5024255401", "d", "20240913",
                                              "", "N", "N"]]), "is not a hyphenated package NDC"),
    ("HCPC2026_JAN.csv", files.hcpcs_file(rows=[["J2350", "1", "3", "x", "y", "2018/01/01", "",
                                                 "", ""]]), "are not dates"),
])
def test_unreadable_rows_import_nothing_and_name_the_line(tmp_path, store, name, text, problem):
    with pytest.raises(RefDataError) as raised:
        import_files([files.write(tmp_path, name, text)], store)
    assert str(raised.value).startswith(str(tmp_path / name)) and problem in str(raised.value)
    assert not (store / "refdata.sqlite3").exists()


def test_cli_imports_and_lists_the_new_kinds(tmp_path, store):
    done = CliRunner().invoke(main, ["refdata", "import", "--refdata", str(store),
                                     str(files.write(tmp_path, "package.txt",
                                                     files.fda_package()))])
    assert done.exit_code == 0, done.output
    assert "FDA NDC Directory package file" in done.output
    status = CliRunner().invoke(main, ["refdata", "status", "--refdata", str(store)])
    assert status.exit_code == 0 and "FDA NDC Directory package file" in status.output


# -- the rules judge by them -----------------------------------------------------------------

def line(hcpcs, units, ndc, ctp, date):
    return (f"CLM*C1*9000***11:B:1*Y*A*Y*Y\nHI*ABK:G35\nLX*1\nSV1*HC:{hcpcs}:JZ*9000*UN*{units}***1"
            f"\nDTP*472*D8*{date}\nLIN**N4*{ndc}\nCTP****{ctp}")


def dated_findings(tmp_path, table, fragment):
    path = tmp_path / "claim.edi"
    path.write_text(wrap_claims(fragment))
    return [f for f in Engine(table).check_file(path).findings if f.rule in ("DOS002", "NDC009")]


@pytest.fixture
def table(tmp_path, store):
    import_files([files.write(tmp_path, "package.txt", files.fda_package()),
                  files.write(tmp_path, "HCPC2026_JAN_ANWEB.csv", files.hcpcs_file())], store)
    return load_drug_table(refdata=store)


def test_imported_hcpcs_dates_judge_a_code_the_table_leaves_open(tmp_path, table):
    found, = dated_findings(tmp_path, table, line("J2351", 920, "50242055401", "23*ML",
                                                  "20250115"))
    assert found.rule == "DOS002"
    assert found.message == ("J2351 is not a valid HCPCS code on 2025-01-15: valid from "
                             "2025-04-01 (HCPC2026_JAN_ANWEB.csv, imported)")
    assert dated_findings(tmp_path, table, line("J2351", 920, "50242055401", "23*ML",
                                                "20250401")) == []


def test_a_terminated_code_and_an_ended_ndc(tmp_path, table):
    found = dated_findings(tmp_path, table, line("C9494", 600, "99999000101", "1*UN",
                                                 "20260105"))
    assert sorted(f.rule for f in found) == ["DOS002", "NDC009"]
    ndc009 = next(f for f in found if f.rule == "NDC009")
    assert ndc009.message == ("NDC 99999000101 is not marketed on 2026-01-05: marketed through "
                              "2025-12-31 (package.txt, imported)")


def test_imported_dates_come_before_the_tables(tmp_path, store):
    rows = [["50242-554_x", "50242-554", "50242-554-01", "d", "20241001", "", "N", "N"]]
    import_files([files.write(tmp_path, "package.txt", files.fda_package(rows))], store)
    table = load_drug_table(refdata=store)
    found, = dated_findings(tmp_path, table, line("J2351", 920, "50242055401", "23*ML",
                                                  "20240920"))
    assert "marketed from 2024-10-01 (package.txt, imported)" in found.message


def test_a_drug_table_entry_may_keep_its_own_dates(tmp_path, store):
    """overrides_reference = ["dates"]: the table's dates decide, whatever is imported."""
    from importlib import resources

    rows = [["50242-554_x", "50242-554", "50242-554-01", "d", "20241001", "", "N", "N"]]
    import_files([files.write(tmp_path, "package.txt", files.fda_package(rows)),
                  files.write(tmp_path, "HCPC2026_JAN.csv", files.hcpcs_file())], store)
    shipped = resources.files("edi837.drugs").joinpath("table.toml").read_text()
    # the shipped J2351 entry (up to the next drug's banner), told to keep its own dates
    entry = shipped[shipped.index("[drugs.J2351]"):shipped.index("# ====", shipped.index(
        "[drugs.J2351]"))].replace("[drugs.J2351]\n", '[drugs.J2351]\noverrides_reference = '
                                   '["dates"]\n', 1)
    own = files.write(tmp_path, "own.toml", 'version = "1"\nupdated = 2026-12-07\n\n' + entry)
    table = load_drug_table([own], refdata=store)
    assert table.code_dates("J2351").file is None  # the table's (open) dates, not 2025-04-01
    assert table.ndc_dates("50242055401").start == dt.date(2024, 9, 13)
    assert dated_findings(tmp_path, table, line("J2351", 920, "50242055401", "23*ML",
                                                "20240920")) == []
    # without the override, the imported files decide
    imported = load_drug_table(refdata=store)
    assert imported.code_dates("J2351").start == dt.date(2025, 4, 1)
    assert imported.ndc_dates("50242055401").start == dt.date(2024, 10, 1)
