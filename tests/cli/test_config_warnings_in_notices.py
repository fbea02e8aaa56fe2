"""A configuration's warning (a profile that never applies: an earlier one takes its
payer id) reaches the run's notices as the unused-payer-id notice does (trial 8b,
item 3): the Python API's ``report.notices``, the JSON report's ``run.notices`` from
the API's write() and from ``check -o``, the XML and HTML reports' notices."""
from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import CLEAN_J2350_CLAIM

import edi837
from edi837.cli import main

TWO_PROFILES_ONE_PAYER = """\
[[profiles]]
name = "a"
payer_ids = ["99901"]
jw_jz = false

[[profiles]]
name = "b"
payer_ids = ["99901"]
jw_jz = true
"""


def setup(edi_file, tmp_path):
    config = tmp_path / "prof.toml"
    config.write_text(TWO_PROFILES_ONE_PAYER)
    return edi_file(CLEAN_J2350_CLAIM), config


def never_applies(notices) -> list[str]:
    return [n for n in notices if "profiles[1] 'b' never applies" in n]


def test_the_api_report_has_the_warning_among_its_notices(edi_file, tmp_path):
    claims, config = setup(edi_file, tmp_path)
    result = edi837.check([claims], config=config)
    assert len(never_applies(result.report.notices)) == 1
    assert never_applies(result.report.notices) == never_applies(result.report.notices[:1])
    assert any("matched no drug claim" in n for n in result.report.notices)  # as before
    written = tmp_path / "api.json"
    result.write(written)
    assert len(never_applies(json.loads(written.read_text())["run"]["notices"])) == 1
    for fmt in ("xml", "html"):  # the formats with a place for the run's notices
        assert "never applies" in result.render(fmt), fmt


def test_the_command_writes_it_into_every_report_and_says_it_once(edi_file, tmp_path):
    claims, config = setup(edi_file, tmp_path)
    report = tmp_path / "r.json"
    done = CliRunner().invoke(main, ["check", str(claims), "--config", str(config),
                                     "-o", str(report)])
    assert done.exit_code == 0, done.output
    assert len(never_applies(json.loads(report.read_text())["run"]["notices"])) == 1
    assert done.output.count("never applies") == 1  # on stderr as a warning, once
