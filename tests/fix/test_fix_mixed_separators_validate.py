"""README "Corrected EDI" (trial 8b, item 10): the split outputs of a file whose two
interchanges use different separators keep each interchange's own; pyx12 read whole
(x12valid's way) fails at the second interchange, a limit of pyx12's, while
`edi837 validate` reads each interchange with its own separators and says OK."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import SAMPLES
from pyx12check import pyx12_verdict

from edi837.cli import main

MIXED = SAMPLES / "837p-multi-interchange-crlf-bom.edi"


@pytest.mark.slow
def test_validate_reads_each_interchange_of_a_split_output_with_its_own_separators(
        tmp_path):
    assert {m.group(1) for m in re.finditer(rb"ISA(.)", MIXED.read_bytes())} == {b"*", b"|"}
    runner = CliRunner()
    fixed = runner.invoke(main, ["fix", str(MIXED), "--out-dir", str(tmp_path), "--split"])
    assert fixed.exit_code in (0, 1), fixed.output
    accepted = tmp_path / f"{MIXED.stem}.accepted.edi"
    data = accepted.read_bytes()
    assert data.count(b"ISA*") == 1 and data.count(b"ISA|") == 1  # each its own
    ok, errors = pyx12_verdict(accepted)  # as x12valid: the first ISA's separators
    assert not ok and "IEA|" in errors, errors
    validated = runner.invoke(main, ["validate", str(accepted)])
    assert validated.exit_code == 0, validated.output
    assert f"OK: {accepted}" in validated.output
