"""Reader gaps a new user found (trial item 6): a date range that ends before it
starts, and units below one, each get one clear finding, on both reading paths."""
import pytest
from conftest import CLEAN_J2350_CLAIM

from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

TABLE = load_drug_table()


def findings(tmp_path, fragment, fast=True, **wrap):
    path = tmp_path / f"claim-{len(list(tmp_path.iterdir()))}.edi"
    path.write_text(wrap_claims(fragment, **wrap))
    return list(Engine(TABLE, fast=fast).check_file(path).findings)


def index_of(fragment: str, prefix: str) -> int:
    """The file index (1-based) of the first segment of the wrapped fragment with prefix."""
    segments = [s.strip() for s in wrap_claims(fragment).split("~") if s.strip()]
    return next(k for k, s in enumerate(segments, 1) if s.startswith(prefix))


@pytest.mark.parametrize("fast", [True, False])
def test_a_date_range_that_ends_before_it_starts_is_an_edi007_at_its_dtp(tmp_path, fast):
    fail = CLEAN_J2350_CLAIM.replace("DTP*472*D8*20260115", "DTP*472*RD8*20260310-20260301", 1)
    [found] = [f for f in findings(tmp_path, fail, fast) if f.rule in ("EDI007", "DOS001")]
    assert (found.rule, found.severity, found.segment, found.segment_index) == \
        ("EDI007", "error", "DTP", index_of(fail, "DTP*472"))
    assert "20260310-20260301 ends before it starts" in found.message
    passing = CLEAN_J2350_CLAIM.replace("DTP*472*D8*20260115", "DTP*472*RD8*20260115-20260115", 1)
    assert not [f for f in findings(tmp_path, passing, fast) if f.rule in ("EDI007", "DOS001")]


def test_a_date_range_that_ends_on_no_date_is_an_edi007(tmp_path):
    fail = CLEAN_J2350_CLAIM.replace("DTP*472*D8*20260115", "DTP*472*RD8*20260115-20261301", 1)
    [found] = [f for f in findings(tmp_path, fail) if f.rule in ("EDI007", "DOS001")]
    assert found.rule == "EDI007" and "'20261301', not a CCYYMMDD date" in found.message


@pytest.mark.parametrize("units, ctp", [("-600", "20"), ("0", "20"), ("-20", "20")])
def test_units_below_one_give_one_clear_finding(tmp_path, units, ctp):
    """SV104 -20 set off 'expected -20 ML' (NDC007), 'not a labeled dose' (UNT001) and
    container arithmetic (MOD005) on a negative count: UNT003 alone says it."""
    fail = CLEAN_J2350_CLAIM.replace("UN*600***1", f"UN*{units}***1") \
        .replace("CTP****20*ML", f"CTP****{ctp}*ML")
    found = [f for f in findings(tmp_path, fail) if f.severity in ("error", "warning")]
    assert [(f.rule, f.severity) for f in found] == [("UNT003", "error")]
    assert f"SV104 units {units} are not a positive whole number" in found[0].message
    assert not [f for f in findings(tmp_path, CLEAN_J2350_CLAIM)
                if f.severity in ("error", "warning")]
