"""A 277CA for a file of two interchanges with different delimiters.

X12 lets each interchange name its own delimiters, but pyx12 (and many
translators) read a file in its first ISA's: a 277CA whose second interchange
switched to the 837's second set was garbage to them.  The 277CA file is
written in one set, its first interchange's; every 277CA here is read by
pyx12 as the independent validator.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_corpus import interchange, with_delimiters
from pyx12check import pyx12_verdict

from edi837.cli import main

STANDARD = ("*", "^", ":", "~")


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("EDI837_STATE", str(tmp_path / "state"))


def two_interchanges(first: tuple[str, ...], second: tuple[str, ...],
                     second_claim: str = "HC-SECOND") -> bytes:
    """The base interchange (ISA13 101) in ``first``'s delimiters, then one (ISA13 102,
    its claims renamed) in ``second``'s."""
    one = with_delimiters(*first)
    two_segments = [s.replace("CLM*HC-", f"CLM*{second_claim}-")
                    for s in interchange(control="000000102", group="2")]
    return one + with_delimiters(*second, segments=two_segments)


def acknowledge(tmp_path: Path, data: bytes):
    path = tmp_path / "mixed.edi"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["ack", str(path), "--out-dir", str(tmp_path / "acks")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result, tmp_path / "acks" / "mixed.277"


def split(path: Path) -> list[list[str]]:
    """The 277CA's segments, read in its first ISA's delimiters (as pyx12 does)."""
    data = path.read_text(encoding="latin-1")
    element, terminator = data[3], data[105]
    return [s.strip("\n").split(element) for s in data.split(terminator) if s.strip()]


@pytest.mark.parametrize("second", [
    ("|", "^", ":", "~"),  # another element separator
    ("*", "^", ">", "~"),  # another component separator
    ("*", "^", ":", "!"),  # another terminator
    ("|", "{", ">", "!"),  # all of them
])
def test_the_277ca_of_two_interchanges_in_other_delimiters_is_one_pyx12_reads(tmp_path,
                                                                            second):
    result, ack = acknowledge(tmp_path, two_interchanges(STANDARD, second))
    assert result.exit_code == 1, result.output  # HC-HELD and its twin are rejected
    ok, errors = pyx12_verdict(ack)
    assert ok, errors
    found = split(ack)
    isas = [s for s in found if s[0] == "ISA"]
    assert len(isas) == 2 and all(s[11] == "^" and s[16] == ":" for s in isas)
    assert [s[13] for s in isas] != [isas[0][13]] * 2  # each its own control number
    claims = [s[2] for s in found if s[0] == "TRN" and s[1] == "2" and "-" in s[2]]
    assert claims == ["HC-CLEAN", "HC-FIXABLE", "HC-HELD",
                      "HC-SECOND-CLEAN", "HC-SECOND-FIXABLE", "HC-SECOND-HELD"]
    stc = [s[1] for s in found if s[0] == "STC"]
    assert stc and all(":" in code and ">" not in code for code in stc)


def test_the_first_interchanges_own_delimiters_are_the_files(tmp_path):
    result, ack = acknowledge(tmp_path, two_interchanges(("|", "{", ">", "!"), STANDARD))
    ok, errors = pyx12_verdict(ack)
    assert ok, errors
    data = ack.read_text(encoding="latin-1")
    assert data[3] == "|" and data[105] == "!" and data.count("ISA|") == 2
    assert "*" not in data and "~" not in data  # the second interchange's are not used
    assert all(s[16] == ">" for s in split(ack) if s[0] == "ISA")


def test_a_claim_id_holding_the_files_element_separator_loses_only_its_set(tmp_path):
    # 'A*B' is a fine CLM01 in a '|' interchange, but the 277CA file is in '*'
    data = two_interchanges(STANDARD, ("|", "^", ">", "~")).replace(
        b"CLM|HC-SECOND-CLEAN|", b"CLM|A*B-CLEAN|")
    assert b"CLM|A*B-CLEAN|" in data
    result, ack = acknowledge(tmp_path, data)
    ok, errors = pyx12_verdict(ack)
    assert ok, errors
    found = split(ack)
    assert len([s for s in found if s[0] == "ISA"]) == 1
    assert [s[2] for s in found if s[0] == "TRN" and s[1] == "2" and "-" in s[2]] == \
        ["HC-CLEAN", "HC-FIXABLE", "HC-HELD"]  # the second interchange: no 277CA
    assert "'A*B-CLEAN'" in result.output and "TRN02" in result.output
    assert "interchange 000000102" in result.output


def test_the_999_accepts_a_value_holding_the_first_interchanges_delimiter(tmp_path):
    # validation reads the file in its first ISA's delimiters: 'A*B' of a '|'
    # interchange was split there, and the 999 rejected a good set
    from edi837.validate import validate_file, write_999

    path = tmp_path / "star.edi"
    path.write_bytes(two_interchanges(STANDARD, ("|", "^", ">", "~")).replace(
        b"CLM|HC-SECOND-CLEAN|", b"CLM|A*B-CLEAN|"))
    assert [f.rule for f in validate_file(path) if f.rule.startswith("IG")] == []
    ack = write_999(path, tmp_path / "acks")
    assert ack is not None and pyx12_verdict(ack)[0]
    assert [s[1] for s in split(ack) if s[0] == "IK5"] == ["A", "A"]
