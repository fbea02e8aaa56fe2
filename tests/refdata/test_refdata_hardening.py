"""Issue 24 items 10-13: reference data and configuration files from hostile hands.
Ranges are the importer's (a bad value is refused at import, naming file, line and
column, exit 2); names are stored escaped; ZIP members are streamed with caps; TOML
nested deeply is an error, not a RecursionError."""
from __future__ import annotations

import datetime as dt

import pytest
import refdata_files as files
from click.testing import CliRunner

from edi837.cli import main
from edi837.refdata import import_files, open_reference


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def cli(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def refused(result, *expected):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    for text in expected:
        assert text in result.output, result.output


# -- item 10: ranges belong in the importer -------------------------------------------
def _pricing(limit: str) -> str:
    return files.pricing(rows=[["J2350", "Inj ocrelizumab 1mg", "1 MG", limit, "", "", ""]])


def _mue(value: str) -> str:
    return files.mue(rows=[["J2350", value, "3 Date of Service Edit: Clinical", "PI"]])


@pytest.mark.parametrize("limit", ["1E+26", "100000000.01", "59.6000001", "Infinity"])
def test_an_absurd_payment_limit_is_refused_at_import(tmp_path, store, limit):
    path = files.write(tmp_path, "pricing.csv", _pricing(limit))
    result = cli("refdata", "import", path, "--refdata", store)
    refused(result, f"edi837: {path}", "line 5: payment limit", "nothing was imported")
    assert not store.exists()


def test_a_plausible_payment_limit_is_imported(tmp_path, store):
    path = files.write(tmp_path, "pricing.csv", _pricing("2125000.000"))
    assert cli("refdata", "import", path, "--refdata", store).exit_code == 0


@pytest.mark.parametrize("value", ["12345678901234567890", "10000000"])
def test_an_absurd_mue_value_is_refused_at_import(tmp_path, store, value):
    path = files.write(tmp_path, "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", _mue(value))
    result = cli("refdata", "import", path, "--refdata", store)
    refused(result, f"edi837: {path}", "line 3: MUE value", "is outside")


def test_an_absurd_crosswalk_number_is_refused_at_import(tmp_path, store):
    text = files.crosswalk().replace("300,300", "300,1E+40")
    path = files.write(tmp_path, "crosswalk.csv", text)
    refused(cli("refdata", "import", path, "--refdata", store), "billing units per package",
            "is outside")


@pytest.mark.parametrize("effective", ["9999-12-31", "1899-01-01"])
def test_an_icd10cm_file_with_an_absurd_effective_date_is_refused(tmp_path, store, effective):
    path = files.write(tmp_path, "order.txt", files.icd10_order())
    result = cli("refdata", "import", path, "--refdata", store, "--effective", effective,
                 "--force")  # a small file: --force, so that the date is what is refused
    refused(result, f"edi837: {path}", f"takes effect {effective}, outside")


def test_an_absurd_date_in_a_file_name_is_refused(tmp_path, store):
    path = files.write(tmp_path, "MCR_MUE_PractitionerServices_Eff_01-01-9999.csv",
                       _mue("600"))
    refused(cli("refdata", "import", path, "--refdata", store), "takes effect 9999-01-01")


def test_an_effective_date_a_year_ahead_is_imported(tmp_path, store):
    ahead = dt.date.today().replace(day=1) + dt.timedelta(days=365)
    path = files.write(tmp_path, "order.txt", files.icd10_order())
    assert import_files([path], store, effective=ahead, force=True)[0].result == "imported"


# -- item 13: TOML nested too deeply ----------------------------------------------------
DEEP = {"arrays": "a = " + "[" * 5000 + "]" * 5000 + "\n",
        "inline tables": "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n",
        "past the limit": "a = " + "[" * 40 + "]" * 40 + "\n"}


@pytest.mark.parametrize("option", ["--config", "--drug-table"])
@pytest.mark.parametrize("case", sorted(DEEP))
def test_deeply_nested_toml_is_a_clear_error(tmp_path, option, case):
    from conftest import SAMPLES
    path = files.write(tmp_path, "deep.toml", DEEP[case])
    result = cli("check", option, path, SAMPLES / "837p-j2350-clean.edi")
    refused(result, f"{path}", "invalid TOML")
    assert "too deeply to read" in result.output or "levels deep, more than the 32 allowed" \
        in result.output
    assert "RecursionError" not in result.output


def test_a_config_that_is_not_utf8_is_a_clear_error(tmp_path):
    from conftest import SAMPLES
    path = files.write(tmp_path, "latin.toml", "[severity]\n# caf\xe9\n".encode("latin-1"))
    refused(cli("check", "--config", path, SAMPLES / "837p-j2350-clean.edi"), "not UTF-8")


# -- item 11: names with control characters ----------------------------------------------
HOSTILE_NAME = "pricing\x1b[31m\x07\u202e.csv"


def test_a_file_name_with_control_characters_is_stored_escaped(tmp_path, store):
    from conftest import SAMPLES
    from lxml import etree
    path = files.write(tmp_path, HOSTILE_NAME, files.pricing())
    result = cli("refdata", "import", path, "--refdata", store)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b[31m\\x07\\u202e.csv" in result.output
    [record] = open_reference(store).records
    assert record.name.endswith("pricing\\x1b[31m\\x07\\u202e.csv")
    status = cli("refdata", "status", "--refdata", store)
    assert status.exit_code == 0 and "\x1b" not in status.output and "\x07" not in status.output
    assert "\\x1b[31m" in status.output
    report = cli("check", "--refdata", store, "--format", "xml", SAMPLES / "837p-j2350-clean.edi")
    assert report.exit_code in (0, 1), report.output
    xml = report.output[report.output.index("<?xml"):report.output.rindex(">") + 1] \
        if "<?xml" in report.output else report.output[report.output.index("<report"):
                                                       report.output.rindex(">") + 1]
    document = etree.fromstring(xml.encode())
    schema = etree.XMLSchema(etree.parse(str(SAMPLES.parent / "schemas" / "report.xsd")))
    assert schema.validate(document), schema.error_log
    [imported] = document.iter("importedFile")
    assert imported.get("name").endswith("\\x1b[31m\\x07\\u202e.csv")


def test_a_store_written_with_a_raw_name_is_shown_escaped(tmp_path, store):
    import sqlite3
    path = files.write(tmp_path, "pricing.csv", files.pricing())
    import_files([path], store)
    with sqlite3.connect(store / "refdata.sqlite3") as connection:  # as an older edi837 kept it
        connection.execute("UPDATE files SET name = ?", ("raw\x1b]0;x\x07.csv",))
    status = cli("refdata", "status", "--refdata", store)
    assert "\x1b" not in status.output and "raw\\x1b]0;x\\x07.csv" in status.output


def test_a_zip_member_name_with_control_characters_is_escaped(tmp_path, store):
    path = files.zipped(tmp_path, "q2.zip", {"bad\x1b[2J\r\nname.csv": files.pricing()})
    [outcome] = import_files([path], store)
    assert outcome.name.endswith("q2.zip!bad\\x1b[2J\\x0d\\x0aname.csv")
    assert open_reference(store).records[0].name == outcome.name


# -- item 12: ZIP members streamed, with caps --------------------------------------------
def _bomb(tmp_path, rows: int = 2_000_000):
    """A ZIP of a pricing file whose header is followed by ``rows`` identical bad rows:
    about 60 MB that deflate to a few hundred KB."""
    import zipfile
    head = files.pricing(rows=[])
    bad = "J2350,Inj,1 MG,not-a-price,,,\r\n" * 1000
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("pricing.csv", "w", force_zip64=True) as member:
            member.write(head.encode())
            for _ in range(rows // 1000):
                member.write(bad.encode())
    return path


def test_a_zip_bomb_member_is_refused_by_its_ratio(tmp_path, store):
    path = _bomb(tmp_path)
    assert path.stat().st_size < 1_000_000
    refused(cli("refdata", "import", path, "--refdata", store), "bomb.zip!pricing.csv",
            "inflates more than 100 times", "--max-ratio")


def test_a_member_over_the_size_cap_is_refused(tmp_path, store):
    path = _bomb(tmp_path, rows=100_000)
    refused(cli("refdata", "import", path, "--refdata", store, "--max-ratio", "100000",
                "--max-member-size", "1M"), "bomb.zip!pricing.csv", "more than 1,048,576 bytes")


@pytest.mark.slow
def test_a_large_member_is_streamed_in_bounded_memory(tmp_path, store):
    """A 150 KB ZIP inflating to 60 MB (allowed by --max-ratio): read through twice, in
    chunks; the peak RSS of the command, measured from a small parent process (a child
    of pytest itself would inherit pytest's peak)."""
    import subprocess
    import sys
    import textwrap
    path = _bomb(tmp_path)
    args = ["refdata", "import", str(path), "--refdata", str(store), "--max-ratio", "100000"]
    script = textwrap.dedent(f"""
        import resource, subprocess, sys
        p = subprocess.run([sys.executable, "-m", "edi837", *{args!r}],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        print(p.stderr)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    code, rss_kib = out.split("\n", 1)[0].split()
    assert code == "2" and "line 13: payment limit 'not-a-price'" in out, out
    assert int(rss_kib) < 100 * 1024, f"peak RSS {int(rss_kib) // 1024} MiB"


def test_a_payment_limit_out_of_range_in_an_older_store_prices_nothing(tmp_path, store,
                                                                      edi_file):
    import sqlite3

    from test_refdata_rules import claim, line

    from edi837.drugs import load_drug_table
    from edi837.engine import Engine
    import_files([files.write(tmp_path, "pricing.csv", files.pricing())], store)
    with sqlite3.connect(store / "refdata.sqlite3") as connection:  # as edi837 once imported
        connection.execute("UPDATE pricing SET payment_limit = '1E+26'")
    result = Engine(load_drug_table(refdata=store)).check_file(
        edi_file(claim(line(units=600, quantity="30"))))
    assert not any(f.rule == "EDI008" for f in result.findings), result.findings
    assert result.status != "unreadable"
    assert all(f.payment_limit is None for f in result.findings)


def test_a_source_built_from_bytes_reads_like_a_file(tmp_path):
    """The Source of refdata.sources takes bytes too (importers that read their own
    containers), and decodes the same way: UTF-8 with a BOM, else Windows-1252."""
    from edi837.refdata.sources import Source, decode
    text = decode(Source("x.csv", "\ufeffa,b\r\nc,d\r\n".encode("utf-8"), ("x.csv",)))
    assert (text.encoding, text.head, list(text.lines())) == \
        ("utf-8-sig", "a,b\r\nc,d\r\n", ["a,b", "c,d"])
    legacy = decode(Source("y.csv", b"caf\xe9,1\n", ("y.csv",)))
    assert legacy.encoding == "cp1252" and list(legacy.lines()) == ["caf\xe9,1"]
