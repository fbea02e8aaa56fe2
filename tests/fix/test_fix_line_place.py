"""MOD001's fix (add JZ) follows the line's own place of service (837P SV105): JZ is
added only where the line's payer policy, and the user's profile of the line's
setting, make the missing modifier an error; never on a line whose own place says
JW/JZ is not required, whatever the claim's place (CLM05-1)."""
from __future__ import annotations

import pytest
from conftest import CLEAN_J2350_CLAIM
from pyx12check import pyx12_verdict

from edi837.config import Config, parse_config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.fix import fix_file
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table([])
# a commercial payer's office claims: MOD001 an error by the user's profile
OFFICE = parse_config({"profiles": [{"name": "office", "payer_ids": ["PAYER01"],
                                     "settings": ["837P:11"],
                                     "severity": {"MOD001": "error"}}]})


def without_jz(claim_place: str, line_place: str) -> str:
    """The clean J2350 claim without its JZ, at ``claim_place`` (CLM05-1), its J2350
    line at ``line_place`` (SV105)."""
    fragment = CLEAN_J2350_CLAIM.replace("*11:B:1*", f"*{claim_place}:B:1*")
    old = "SV1*HC:J2350:JZ*9000*UN*600***1"
    assert old in fragment
    return fragment.replace(old, f"SV1*HC:J2350*9000*UN*600*{line_place}**1")


def fixed(tmp_path, fragment: str, filing: str, config: Config) -> tuple[list, bytes]:
    """(the MOD001 findings' severities, the J2350 SV1 segment of fix's output)."""
    source = tmp_path / "claims.edi"
    source.write_text(wrap_claims(fragment, "837P", filing=filing))
    result = fix_file(source, tmp_path / "out", table=TABLE, config=config)
    assert result.output is not None
    output = open(result.output, "rb").read()
    assert pyx12_verdict(result.output) == (True, "")
    [line] = [s.strip() for s in output.split(b"~") if s.strip().startswith(b"SV1*HC:J2350")]
    found = Engine(TABLE, config).check_file(source).findings
    return [f.severity for f in found if f.rule == "MOD001"], line


@pytest.mark.parametrize("claim_place, line_place, severities, line", [
    # Medicare FFS: an inpatient line (SV105 21) of an office claim needs no JW/JZ
    ("11", "21", [], b"SV1*HC:J2350*9000*UN*600*21**1"),
    # an office line of an inpatient-place claim does: an error, and JZ is added
    ("21", "11", ["error"], b"SV1*HC:J2350:JZ*9000*UN*600*11**1"),
])
def test_medicare_jz_is_added_by_the_lines_place(tmp_path, claim_place, line_place,
                                                 severities, line):
    assert fixed(tmp_path, without_jz(claim_place, line_place), "MB", Config()) == \
        (severities, line)


@pytest.mark.parametrize("claim_place, line_place, severities, line", [
    # the office profile's error is not the POS 22 line's: a warning, no JZ added
    ("11", "22", ["warning"], b"SV1*HC:J2350*9000*UN*600*22**1"),
    # an office line of a POS 22 claim takes the office profile's error, and JZ
    ("22", "11", ["error"], b"SV1*HC:J2350:JZ*9000*UN*600*11**1"),
])
def test_a_profiles_error_adds_jz_only_on_lines_given_in_its_setting(
        tmp_path, claim_place, line_place, severities, line):
    assert fixed(tmp_path, without_jz(claim_place, line_place), "CI", OFFICE) == \
        (severities, line)
