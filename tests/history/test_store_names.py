"""Operator trial 7b, item 1: a store named by something that is neither a file name nor
a postgresql:// URL (libpq's key=value connection string, a postgresql: URL with one
slash, a URL of another scheme) is refused, exit 2, its password never shown, and no
SQLite file is made under that name."""
import os

import pytest
from click.testing import CliRunner
from test_history import claim, night, subscriber

import edi837
from edi837.cli import main
from edi837.pgdb import masked, not_a_store

SECRET = "S3cretPW77"
LIBPQ = f"host=127.0.0.1 port=5 user=edi837 password={SECRET} dbname=postgres"
NOT_STORES = [LIBPQ, f"postgresql:/edi837:{SECRET}@127.0.0.1:5/postgres",
              "s3://bucket/history.sqlite3"]


@pytest.fixture
def claims(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return night(tmp_path, "a.edi", subscriber(2), claim("C1", "20260115"))


def made(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if "xdg" not in p.parts and p.name != "a.edi")


@pytest.mark.parametrize("target", NOT_STORES)
@pytest.mark.parametrize("command", ["check", "batch", "stats"])
def test_a_connection_string_is_refused_never_a_file_and_its_password_never_shown(
        tmp_path, claims, command, target):
    argv = {"check": ["check", "--history", target, str(claims)],
            "batch": ["batch", "inbox", "--out", "out", "--history", target, "-q"],
            "stats": ["history", "stats", target]}[command]
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output
    assert "postgresql://" in result.output or "key=value" in result.output
    assert made(tmp_path) == ["inbox"]  # no SQLite file, no OUTDIR, no report


def test_a_ledger_that_is_a_connection_string_is_refused_without_its_password(tmp_path,
                                                                              claims):
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(main, ["batch", "inbox", "--out", "out", "--ledger", LIBPQ])
    assert result.exit_code == 2
    assert SECRET not in result.output and "password=***" in result.output
    assert "postgresql://edi837@127.0.0.1:5/postgres" in result.output  # the URL to give


def test_the_api_refuses_it_too(tmp_path, claims):
    with pytest.raises(edi837.OptionsError) as refused:
        edi837.check([claims], history=LIBPQ)
    assert SECRET not in str(refused.value) and "key=value" in str(refused.value)
    assert made(tmp_path) == []


def test_a_file_name_is_still_a_sqlite_store(tmp_path, claims):
    """PASS: plain names, even with "=" or ":" in them, are files."""
    for name in ("night=1.sqlite3", "h:1.sqlite3", "night:2026.sqlite3"):
        assert not_a_store(name) is None
        result = CliRunner().invoke(main, ["check", "--history", name, str(claims)])
        assert result.exit_code == 0, result.output
        assert os.path.getsize(tmp_path / name) > 0
    assert not_a_store("postgresql://edi837@db/claims") is None
    assert "two slashes" in not_a_store("postgresql:edi837@db/claims")


def test_passwords_are_masked_in_every_form():
    assert masked(LIBPQ) == LIBPQ.replace(SECRET, "***")
    assert SECRET not in masked(f"host=db password='{SECRET} x' user=u")
    assert SECRET not in masked(f"postgresql:/u:{SECRET}@db/claims")
    assert SECRET not in masked(f"postgresql://u:{SECRET}@db/claims")
    assert masked("postgresql://u@db/claims") == "postgresql://u@db/claims"
