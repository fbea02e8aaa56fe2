"""`edi837 refdata import` and `status`: CMS files recognised by content, in each documented
layout and as they drift between quarters; unrecognised and corrupt files refused; the store
versioned, atomic and idempotent (issue #16 items 1, 2, 4 and 6)."""
import datetime as dt
import sqlite3

import pytest
import refdata_files as files
from click.testing import CliRunner

from edi837.cli import main
from edi837.refdata import (
    RefDataError,
    default_directory,
    import_files,
    open_reference,
    reference_for,
    store_path,
)

APRIL = dt.date(2026, 4, 1)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def imported(store):
    """(kind, effective_from, status, rows) of every file the store holds."""
    return [(r.kind, r.effective_from, r.status, r.rows) for r in open_reference(store).records]


def cli(*args):
    return CliRunner().invoke(main, ["refdata", *map(str, args)])


# -- recognised by content, in the documented layouts and their drift -----------------------

CROSSWALK_VARIANTS = {
    "documented": lambda d: files.write(d, "crosswalk.csv", files.crosswalk()),
    "extra preamble": lambda d: files.write(d, "crosswalk.csv", files.crosswalk(
        preamble=("April 2026 ASP NDC-HCPCS Crosswalk",) + ("a note",) * 20)),
    "renamed year column": lambda d: files.write(d, "crosswalk.csv", files.crosswalk().replace(
        "_2026_CODE", "2027 HCPCS Code").replace("BILLUNITSPKG", "Billable Units Per Package")),
    "reordered columns": lambda d: files.write(d, "crosswalk.csv", files.crosswalk(
        order=[3, 9, 0, 1, 2, 4, 5, 6, 7, 8])),
    "tab-separated": lambda d: files.write(d, "crosswalk.txt", files.crosswalk(delimiter="\t")),
    "inside a ZIP": lambda d: files.zipped(d, "asp-2026-q2.zip", {
        "ASP NDC-HCPCS crosswalk.csv": files.crosswalk(), "notes.pdf": b"%PDF-1.4"}),
    "no title, date in the name": lambda d: files.write(
        d, "April 2026 ASP NDC-HCPCS Crosswalk.csv", files.crosswalk(title=None)),
}


@pytest.mark.parametrize("variant", CROSSWALK_VARIANTS)
def test_crosswalk_is_recognised_in_every_layout(tmp_path, store, variant):
    path = CROSSWALK_VARIANTS[variant](tmp_path)
    outcomes = import_files([path], store)
    assert [o.kind for o in outcomes if o.result == "imported"] == ["asp-crosswalk"]
    assert imported(store) == [("asp-crosswalk", APRIL, "final", 4)]
    entry = open_reference(store).crosswalk("J2350", "837P", APRIL)["50242015001"]
    assert (entry.units_per_item, entry.billing_units_per_package, entry.labeler) == (300, 300,
                                                                                     "Genentech")


def test_crosswalk_skips_alternate_ids_and_counts_them(tmp_path, store):
    outcome, = import_files([files.write(tmp_path, "x.csv", files.crosswalk())], store)
    assert (outcome.rows, outcome.skipped) == (4, 1)
    assert open_reference(store).crosswalk("J9999", "837P", APRIL) == {}


def test_opps_crosswalk_is_told_from_the_asp_one_by_its_title(tmp_path, store):
    import_files([files.write(tmp_path, "a.csv", files.crosswalk()),
                  files.write(tmp_path, "b.csv", files.crosswalk(
                      title="April 2026 OPPS NDC-HCPCS Crosswalk"))], store)
    assert sorted(kind for kind, *_ in imported(store)) == ["asp-crosswalk", "opps-crosswalk"]


def test_the_zips_awp_and_prep_crosswalks_are_skipped(tmp_path, store):
    path = files.zipped(tmp_path, "q2.zip", {
        "asp.csv": files.crosswalk(),
        "awp.csv": files.crosswalk(title="April 2026 AWP NDC-HCPCS Crosswalk"),
        "prep.csv": files.crosswalk(title="April 2026 PrEP NDC-HCPCS Crosswalk")})
    outcomes = import_files([path], store)
    assert [o.result for o in outcomes] == ["imported", "skipped", "skipped"]
    assert "AWP crosswalk: not used by edi837" in outcomes[1].describe()


def test_pricing_file_in_its_layout(tmp_path, store):
    outcome, = import_files([files.write(tmp_path, "p.csv", files.pricing())], store)
    assert (outcome.kind, outcome.effective_from, outcome.rows) == ("asp-pricing", APRIL, 2)
    limit = open_reference(store).payment_limit("J2350", dt.date(2026, 6, 30))
    assert str(limit.per_unit) == "59.600" and limit.for_units(600) == 35760


@pytest.mark.parametrize("setting,kind", [("Practitioner Services", "mue-practitioner"),
                                          ("Outpatient Hospital Services", "mue-outpatient")])
def test_mue_files_by_setting(tmp_path, store, setting, kind):
    path = files.write(tmp_path, "MCR_MUE_Eff_10-01-2026.csv", files.mue(setting, delimiter="\t"))
    outcome, = import_files([path], store)
    assert (outcome.kind, outcome.effective_from) == (kind, dt.date(2026, 10, 1))
    claim_kind = "837P" if kind == "mue-practitioner" else "837I"
    mue = open_reference(store).mue("J2350", claim_kind, dt.date(2026, 10, 1))
    assert (mue.value, mue.mai, mue.per_day) == (600, 3, True)
    assert open_reference(store).mue("J2351", claim_kind, dt.date(2026, 10, 1)).mai == 1


def test_the_dme_mue_file_is_recognised_and_refused(tmp_path, store):
    path = files.write(tmp_path, "MCR_MUE_DME_Eff_01-01-2026.csv",
                       files.mue("DME Supplier Services"))
    with pytest.raises(RefDataError, match="is the DME supplier MUE file, which edi837 does not"):
        import_files([path], store)


def test_icd10cm_order_file_needs_effective(tmp_path, store):
    path = files.write(tmp_path, "icd10cm_order_2026.txt", files.icd10_order())
    with pytest.raises(RefDataError, match="does not carry its year: give --effective"):
        import_files([path], store)
    with pytest.raises(RefDataError, match=r"only \d+ billable codes .* --force"):
        import_files([path], store, effective=dt.date(2025, 10, 1))  # 12 codes: not a release
    import_files([path], store, effective=dt.date(2025, 10, 1), force=True)
    reference = open_reference(store)
    assert reference.icd10("G35", dt.date(2026, 1, 15)).billable is False
    assert reference.icd10("G35A", dt.date(2026, 1, 15)).billable is True
    assert reference.icd10("G35A", dt.date(2025, 9, 30)) is None  # before the file: no answer


def test_effective_option_overrides_the_title(tmp_path, store):
    outcome, = import_files([files.write(tmp_path, "x.csv", files.crosswalk())], store,
                            effective=dt.date(2026, 7, 1))
    assert outcome.effective_from == dt.date(2026, 7, 1)


# -- refused, and nothing changes -------------------------------------------------------------

REFUSED = {
    "a spreadsheet": (b"name,amount\nsomething,1\n", "not a file edi837 recognises: expected"),
    "binary": (b"\x00\x01\x02PK" * 100, "is binary, not a text table"),
    "empty": (b"", "not a file edi837 recognises"),
    "corrupt rows": (files.crosswalk().replace("300,300", "300,3x0").encode(),
                     "line 10: billing units per package '3x0' is not a number"),
    "truncated": (files.crosswalk().encode()[:-130],
                  "line 13: the row ends before the last column"),
    "no date anywhere": (files.pricing(title=None).encode(), "give --effective DATE"),
    "header only": (files.crosswalk(rows=[]).encode(), "with no rows to import"),
    "corrupt ZIP": (b"PK\x03\x04" + b"\xff" * 200, "not a readable ZIP"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_unrecognised_or_corrupt_file_is_refused_naming_it(tmp_path, store, case):
    content, message = REFUSED[case]
    path = files.write(tmp_path, "download.csv", content)
    result = cli("import", path, "--refdata", store)
    assert result.exit_code == 2
    assert f"edi837: {path}" in result.output and message in result.output
    assert "Traceback" not in result.output and "nothing was imported" in result.output
    assert not store.exists()  # a failed first import leaves nothing behind


def test_a_failed_first_import_into_the_default_folder_creates_no_folder(tmp_path):
    result = cli("import", files.write(tmp_path, "x.csv", "not,a,table\n"))
    assert result.exit_code == 2
    assert not default_directory()[0].parent.exists()  # XDG_DATA_HOME/edi837


def test_zip_with_nothing_recognisable_is_refused(tmp_path, store):
    path = files.zipped(tmp_path, "q2.zip", {"readme.pdf": b"%PDF", "notes.txt": "hello\n"})
    with pytest.raises(RefDataError, match=r"q2.zip: holds no file edi837 recognises \(found: "
                                           r"readme.pdf, notes.txt\); expected an NDC-HCPCS"):
        import_files([path], store)


def test_zip_members_that_are_no_cms_table_are_listed_as_skipped(tmp_path, store):
    path = files.zipped(tmp_path, "q2.zip", {"pricing.csv": files.pricing(),
                                             "NOC pricing.csv": "Generic Name,Dosage\nx,1\n"})
    result = cli("import", path, "--refdata", store)
    assert result.exit_code == 0
    assert "q2.zip!NOC pricing.csv: skipped: not recognised (not a file edi837" in result.output
    assert [kind for kind, *_ in imported(store)] == ["asp-pricing"]


def test_a_bad_file_changes_nothing_that_was_there(tmp_path, store):
    import_files([files.write(tmp_path, "p.csv", files.pricing())], store)
    before = store_path(store).read_bytes()
    good = files.write(tmp_path, "x.csv", files.crosswalk())
    bad = files.write(tmp_path, "y.csv", "HCPCS Code,Payment Limit\nJ2350,lots\n")
    result = cli("import", good, bad, "--refdata", store, "--effective", "2026-04-01")
    assert result.exit_code == 2 and "y.csv: rows that cannot be read" in result.output
    assert store_path(store).read_bytes() == before
    assert [kind for kind, *_ in imported(store)] == ["asp-pricing"]


def test_importing_the_same_file_twice_changes_nothing(tmp_path, store):
    path = files.write(tmp_path, "x.csv", files.crosswalk())
    import_files([path], store)
    records = open_reference(store).records
    result = cli("import", path, "--refdata", store)
    assert result.exit_code == 0 and "already imported, nothing changed" in result.output
    assert open_reference(store).records == records


def test_each_file_keeps_its_name_hash_period_and_import_time(tmp_path, store):
    path = files.write(tmp_path, "x.csv", files.crosswalk())
    import_files([path], store)
    record, = open_reference(store).records
    import hashlib
    assert record.name == str(path)
    assert record.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.effective_from == APRIL and dt.datetime.fromisoformat(record.imported_at)


def test_final_supersedes_preliminary_and_later_quarters_close_earlier_ones(tmp_path, store):
    import_files([files.write(tmp_path, "prelim.csv", files.crosswalk(
        title="April 2026 ASP NDC-HCPCS Crosswalk - preliminary file"))], store)
    final = files.write(tmp_path, "final.csv", files.crosswalk(rows=files.CROSSWALK_ROWS[:1]))
    import_files([final], store)
    import_files([files.write(tmp_path, "july.csv", files.crosswalk(
        title="July 2026 ASP NDC-HCPCS Crosswalk"))], store)
    reference = open_reference(store)
    april, july = reference.files
    assert (april.name.endswith("final.csv"), april.effective_to) == (True, dt.date(2026, 6, 30))
    assert july.effective_from == dt.date(2026, 7, 1) and july.effective_to is None
    assert "99999000101" not in reference.crosswalk("J2350", "837P", dt.date(2026, 5, 1))
    assert "99999000101" in reference.crosswalk("J2350", "837P", dt.date(2026, 7, 1))
    assert reference.crosswalk("J2350", "837P", dt.date(2026, 3, 31)) == {}


def test_kind_option_settles_an_open_question_and_refuses_another_kind(tmp_path, store):
    path = files.write(tmp_path, "crosswalk.csv", files.crosswalk(title="April 2026 crosswalk"))
    import_files([path], store, kind="opps-crosswalk")
    assert [kind for kind, *_ in imported(store)] == ["opps-crosswalk"]
    with pytest.raises(RefDataError, match=r"is ASP pricing file, not MUE practitioner"):
        import_files([files.write(tmp_path, "p.csv", files.pricing())], store,
                     kind="mue-practitioner")


# -- where the store is, and status ---------------------------------------------------------

def test_default_folder_is_the_environment_or_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_directory() == (tmp_path / "data" / "edi837" / "refdata", False)
    assert reference_for(None) is None  # not chosen, and nothing imported there: no reference
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_directory()[0] == tmp_path / "home" / ".local" / "share" / "edi837" / "refdata"
    monkeypatch.setenv("EDI837_REFDATA", str(tmp_path / "chosen"))
    assert default_directory() == (tmp_path / "chosen", True)
    with pytest.raises(RefDataError, match="no reference data imported here"):
        reference_for(None)  # chosen, so it must hold reference data


def test_import_without_refdata_goes_to_the_default_folder(tmp_path):
    result = cli("import", files.write(tmp_path, "p.csv", files.pricing()))
    assert result.exit_code == 0, result.output
    directory, _ = default_directory()
    assert store_path(directory).is_file() and reference_for(None) is not None


def test_status_lists_files_periods_and_superseded(tmp_path, store):
    cli("import", files.write(tmp_path, "prelim.csv", files.crosswalk(
        title="April 2026 ASP NDC-HCPCS Crosswalk preliminary")), "--refdata", store)
    cli("import", files.write(tmp_path, "final.csv", files.crosswalk()), "--refdata", store)
    result = cli("status", "--refdata", store)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "ASP NDC-HCPCS crosswalk (837P):" in lines
    assert any("2026-04-01 superseded" in text and "prelim.csv" in text for text in lines)
    assert any("2026-04-01 to (in force)" in text and "final.csv" in text for text in lines)


def test_status_of_a_folder_without_a_store_exits_2(tmp_path):
    result = cli("status", "--refdata", tmp_path / "nothing")
    assert result.exit_code == 2 and "no reference data imported here" in result.output


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    sqlite3.connect(tmp_path / "refdata.sqlite3").execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(RefDataError, match="is not an edi837 reference store"):
        open_reference(tmp_path)
    result = cli("import", files.write(tmp_path, "p.csv", files.pricing()), "--refdata", tmp_path)
    assert result.exit_code == 2 and "not an edi837 reference store" in result.output


def test_a_snapshot_sees_the_same_files_whatever_is_imported_since(tmp_path, store):
    import_files([files.write(tmp_path, "p.csv", files.pricing())], store)
    snapshot = open_reference(store).snapshot
    import_files([files.write(tmp_path, "x.csv", files.crosswalk())], store)
    assert [r.kind for r in open_reference(store, snapshot).records] == ["asp-pricing"]
    assert len(open_reference(store).records) == 2


def test_readers_never_write(tmp_path, store):
    import_files([files.write(tmp_path, "p.csv", files.pricing())], store)
    reference = open_reference(store)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reference._db().execute("DELETE FROM files")
