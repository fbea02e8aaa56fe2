"""A report written into the folder being checked (`check inbox/ -o inbox/r.txt`)
was read as an 837 by the next run, which then failed on it.  Such an output is
refused (exit 2) before anything is read; outputs folder reading passes over
(.json, .html ...) are let be, and a file in the inbox that is not X12 is still
reported, never skipped for looking like a report."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from hostile_corpus import BASE_BYTES

from edi837.cli import main


@pytest.fixture
def inbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "claims.edi").write_bytes(BASE_BYTES)
    return folder


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.mark.parametrize("command", ["check", "validate"])
def test_a_text_report_inside_the_input_folder_is_refused(inbox, command):
    result = run(command, "inbox/", "-o", "inbox/r.txt", "-q")
    assert result.exit_code == 2, result.output
    assert "output inbox/r.txt is inside the input folder inbox: the next run would read " \
        "it as an 837 file" in result.output
    assert sorted(p.name for p in inbox.iterdir()) == ["claims.edi"]


def test_a_text_report_in_a_subfolder_of_the_input_folder_is_refused(inbox):
    (inbox / "reports").mkdir()
    result = run("check", str(inbox), "-o", str(inbox / "reports" / "r.txt"), "-q")
    assert result.exit_code == 2 and "is inside the input folder" in result.output


def test_extract_rows_inside_the_input_folder_are_refused(inbox):
    result = run("extract", "inbox", "-o", "inbox/rows.txt", "-q")
    assert result.exit_code == 2 and "is inside the input folder inbox" in result.output
    assert not (inbox / "rows.txt").exists()


def test_reports_folders_are_not_read_for_are_written_and_the_next_run_is_the_same(inbox):
    first = run("check", "inbox/", "-o", "inbox/r.json", "-o", "inbox/r.html", "-q")
    assert first.exit_code == 1, first.output  # the base file's NDC errors
    assert (inbox / "r.json").exists() and (inbox / "r.html").exists()
    again = run("check", "inbox/", "-q")
    assert again.exit_code == 1, again.output
    assert "1 file (0 OK)" in again.output and "r.json" not in again.output


@pytest.mark.parametrize("where", [".reports/r.txt", "../r.txt"])
def test_a_text_report_where_the_next_run_does_not_read_is_written(inbox, where):
    (inbox / ".reports").mkdir()
    result = run("check", "inbox/", "-o", f"inbox/{where}", "-q")
    assert result.exit_code == 1, result.output
    assert (inbox / where).exists()


def test_a_named_input_file_does_not_make_its_folder_an_input(inbox):
    result = run("check", "inbox/claims.edi", "-o", "inbox/r.txt", "-q")
    assert result.exit_code == 1, result.output
    assert (inbox / "r.txt").exists()


def test_a_file_in_the_inbox_that_is_not_x12_is_still_reported(inbox):
    (inbox / "notes.txt").write_text("call the clinic about the NDC\n")
    result = run("check", "inbox/", "-q")
    assert result.exit_code == 2, result.output
    assert "inbox/notes.txt:1: EDI001 error no ISA segment" in result.output


@pytest.mark.parametrize("option, name", [("--log-file", "batch.log"),
                                          ("--history", "history.sqlite3"),
                                          ("--history-key", "sub/history.key")])
def test_batch_refuses_its_own_files_inside_the_inbox(inbox, tmp_path, option, name):
    # the batch takes every file in the inbox: its own log would be quarantined (moved)
    result = run("batch", "inbox", "--out", str(tmp_path / "out"), "--settle", "0",
                 option, f"inbox/{name}", "-q")
    assert result.exit_code == 2, result.output
    assert f"{option} inbox/{name} is inside the inbox inbox: the batch would take it as " \
        "an input" in result.output
    assert sorted(p.name for p in inbox.iterdir()) == ["claims.edi"]
    assert not (tmp_path / "out").exists()


def test_batch_writes_its_log_beside_the_inbox(inbox, tmp_path):
    result = run("batch", "inbox", "--out", str(tmp_path / "out"), "--settle", "0",
                 "--log-file", "batch.log", "--no-history", "-q")
    assert result.exit_code == 1, result.output
    assert (tmp_path / "batch.log").exists() and not (inbox / "claims.edi").exists()


# -- fix --out-dir: corrected .edi files in the folder being checked ----------------------

@pytest.mark.parametrize("out_dir", ["inbox/fixed", "inbox", "inbox/a/b"])
def test_fix_out_dir_inside_the_input_folder_is_refused(inbox, out_dir):
    result = run("fix", "inbox/", "--out-dir", out_dir, "-q")
    assert result.exit_code == 2, result.output
    assert f"--out-dir {out_dir} is inside the input folder inbox: the next run would " \
        "read the corrected .edi files" in result.output
    assert "Traceback" not in result.output
    # nothing written: the inbox holds its claim file only
    assert sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*")) == ["claims.edi"]


def test_fix_out_dir_outside_or_hidden_in_the_input_folder_is_written(inbox, tmp_path):
    result = run("fix", "inbox/", "--out-dir", "fixed", "-q")
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "fixed" / "claims.edi").exists()
    # a hidden folder is not read by folder reading: let be
    result = run("fix", "inbox/", "--out-dir", "inbox/.fixed", "-q")
    assert result.exit_code in (0, 1), result.output
    assert (inbox / ".fixed" / "claims.edi").exists()
    # and the next check of the inbox reads the one claim file only
    from edi837.files import discover
    assert [p.name for p in discover([inbox])] == ["claims.edi"]


def test_fix_of_a_file_named_in_a_folder_is_not_refused(inbox):
    # a file named directly is no folder read: its out-dir beside it is the user's choice
    result = run("fix", "inbox/claims.edi", "--out-dir", "inbox/fixed", "-q")
    assert result.exit_code in (0, 1), result.output
