"""A history key named with --history-key (history_key=) must exist: a mistyped path is
refused, never made (with its folders); only the default key is made on first use,
and when its folder cannot be made the message says what to do."""
import subprocess

import pytest
from batch_support import CLEAN, batch_argv, drop, edi, subprocess_env, unprivileged
from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

import edi837
from edi837.cli import main


def test_check_refuses_a_key_file_that_does_not_exist(edi_file, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM)
    typo = tmp_path / "etc" / "edi837" / "histroy.key"
    result = CliRunner().invoke(main, ["check", str(path), "--history",
                                       str(tmp_path / "h.sqlite3"), "--history-key", str(typo)])
    assert result.exit_code == 2
    assert f"no such key file {typo}" in result.stderr and "to make a new key" in result.stderr
    assert not typo.exists() and not (tmp_path / "etc").exists()
    assert "Traceback" not in result.output


def test_batch_refuses_a_key_file_that_does_not_exist(tmp_path):
    drop(tmp_path / "inbox", "a.edi", edi(CLEAN))
    typo = tmp_path / "keys" / "histroy.key"
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "inbox"), "--out",
                                       str(tmp_path / "out"), "--history-key", str(typo)])
    assert result.exit_code == 2, result.output
    assert "no such key file" in result.stderr
    assert not (tmp_path / "keys").exists()
    assert (tmp_path / "inbox" / "a.edi").exists()


def test_the_api_refuses_a_key_file_that_does_not_exist(edi_file, tmp_path):
    path = edi_file(CLEAN_J2350_CLAIM)
    typo = tmp_path / "nowhere" / "h.key"
    with pytest.raises(Exception, match="no such key file"):
        edi837.check(path, history=tmp_path / "h.sqlite", history_key=typo)
    assert not typo.parent.exists()


def test_the_default_key_in_a_folder_that_cannot_be_made_says_what_to_do(tmp_path):
    """A read-only home (or systemd's ProtectSystem=strict): no PermissionError."""
    home = tmp_path / "home"
    home.mkdir()
    drop(tmp_path / "inbox", "a.edi", edi(CLEAN))
    home.chmod(0o555)
    try:
        result = subprocess.run(
            unprivileged([*batch_argv(), str(tmp_path / "inbox"), "--out",
                          str(tmp_path / "out"), "--settle", "0"]),
            capture_output=True, text=True, timeout=120,
            env={**subprocess_env(), "XDG_DATA_HOME": str(home / ".local" / "share")})
    finally:
        home.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert "cannot create the default history key" in result.stderr
    assert "--history-key" in result.stderr
    assert "Traceback" not in result.stderr and "PermissionError" not in result.stderr
