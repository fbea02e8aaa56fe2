"""`edi837 fix` and long padding (issue #13): NULs, Ctrl-Z, blank lines or doubled
terminators between segments are passed over by the reader in bounded memory,
and so by the writer: a run longer than PADDING_KEPT is left out of the
corrected file and logged as an EDI006 change, never read into a string;
shorter filler is copied as sent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_fix
from pyx12check import pyx12_verdict
from test_fix import CLEAN, UNFIXABLE, write

from edi837.fix import FixPlan
from edi837.x12 import raw
from edi837.x12.fragment import wrap_claims
from edi837.x12.raw import PADDING_KEPT, RawSegmentReader
from edi837.x12.writer import rewrite

table, fix = test_fix.table, test_fix.fix  # the fixtures of test_fix.py, shared

FIRST = wrap_claims(CLEAN + UNFIXABLE)  # C2's NDC004 has no safe fix: held
# C1 sent again in a second interchange: held as a duplicate (HIS001)
SECOND = wrap_claims(CLEAN.replace("CLM*C1*", "CLM*C3*"), control="000000002")
LONG = 1 << 20  # past PADDING_KEPT, and past the reader's 1 MiB chunk
IEA = FIRST.count("~")  # the segment number of the first IEA


def claims_in(path: Path) -> int:
    return path.read_bytes().count(b"CLM*") if path.exists() else 0


def assert_valid(*paths: Path) -> None:
    for path in paths:
        ok, errors = pyx12_verdict(path)
        assert ok, f"{path.name}: {errors}"


@pytest.mark.parametrize("filler, kinds", [
    ("\x00", "NUL"), ("\n", "line breaks"), ("\x1a\x00", "NUL, Ctrl-Z"), ("~", "terminators"),
])
def test_long_padding_between_interchanges_is_left_out_and_logged(tmp_path, fix, filler, kinds):
    source = write(tmp_path / "padded.edi", FIRST + filler * (LONG // len(filler)) + SECOND)
    out = tmp_path / "out"
    result = fix(source, out, split=True)
    assert result.problems == [] and result.exit_status == 1  # C2's NDC004 remains
    # what is left is the two interchanges as sent: the IEA keeps its "~\n"
    assert Path(result.output).read_text("ascii") == FIRST + SECOND
    [padding] = [c for c in result.changes if c.rule == "EDI006"]
    assert (padding.segment_index, padding.element, padding.after) == (IEA, "after IEA", "")
    assert padding.before == f"{LONG // len(filler) * len(filler)} characters of padding " \
                             f"({kinds})"
    log = json.loads((out / "padded.edi.changes.json").read_text())
    assert [c["rule"] for c in log["changes"]] == ["EDI006"]
    assert f"segment {IEA}  EDI006  after IEA  '{padding.before}' -> (empty)" in \
        (out / "padded.edi.changes.txt").read_text()
    # every claim kept, and every file written valid by the guide
    assert result.split.accepted == 1 and [c.claim_id for c in result.split.held] == ["C2", "C3"]
    assert claims_in(out / "padded.accepted.edi") + claims_in(out / "padded.held.edi") == 3
    assert_valid(Path(result.output), out / "padded.accepted.edi", out / "padded.held.edi")


def test_long_blank_lines_after_the_last_iea_are_left_out(tmp_path, fix):
    source = write(tmp_path / "tail.edi", FIRST + "\r\n" * LONG)
    result = fix(source, tmp_path / "out", split=True)
    assert result.problems == []
    assert Path(result.output).read_text("ascii") == FIRST  # ends "IEA*...~\n"
    [padding] = [c for c in result.changes if c.rule == "EDI006"]
    assert padding.before == f"{2 * LONG} characters of padding (line breaks)"
    assert_valid(Path(result.output))


def test_long_blank_lines_between_two_segments_are_left_out(tmp_path, fix):
    """Inside a transaction set: the segment keeps its terminator and one line break."""
    text = FIRST.replace("CLM*C2", "\n" * LONG + "CLM*C2")
    clm = FIRST.split("~\n").index(next(s for s in FIRST.split("~\n") if s.startswith("CLM*C2")))
    source = write(tmp_path / "gap.edi", text)
    result = fix(source, tmp_path / "out", split=True)
    assert result.problems == []
    assert Path(result.output).read_text("ascii") == FIRST
    [padding] = [c for c in result.changes if c.rule == "EDI006"]
    before = FIRST.split("~\n")[clm - 1].split("*")[0]
    assert (padding.segment_index, padding.element) == (clm, f"after {before}")
    assert result.split.accepted == 1 and len(result.split.held) == 1


def test_long_padding_before_the_first_isa_is_left_out_and_so_is_a_bom(tmp_path, fix):
    source = write(tmp_path / "head.edi", b"\xef\xbb\xbf" + b"\x00" * LONG + FIRST.encode())
    result = fix(source, tmp_path / "out")
    assert result.problems == []
    assert Path(result.output).read_bytes() == FIRST.encode()  # single-byte X12, no BOM
    [padding] = [c for c in result.changes if c.rule == "EDI006"]
    assert (padding.segment_index, padding.element) == (1, "before ISA")
    assert padding.before == f"{LONG} characters of padding (NUL)"


def test_short_padding_is_copied_as_sent(tmp_path, fix):
    for name, filler in (("nul", "\x00" * PADDING_KEPT), ("lines", "\n" * 300)):
        data = (FIRST + filler + SECOND + filler).encode()
        result = fix(write(tmp_path / f"{name}.edi", data), tmp_path / "out")
        assert result.problems == [] and Path(result.output).read_bytes() == data
        assert not [c for c in result.changes if c.rule == "EDI006"]


def test_padding_is_kept_up_to_the_bound_and_cut_past_it(tmp_path):
    """PADDING_KEPT characters after the terminator and its line break are copied;
    one more and the run is left out, the terminator and line break kept."""
    for extra, cut in ((0, False), (1, True)):
        padding = "\x00" * (PADDING_KEPT + extra)
        source = write(tmp_path / f"gap{extra}.edi", FIRST + padding + SECOND)
        iea = [s for s in RawSegmentReader(source) if s.text.startswith("IEA")][0]
        assert (iea.padding is not None) is cut
        assert iea.trailer == ("~\n" if cut else "~\n" + padding)
        if cut:
            assert (iea.padding.index, iea.padding.after, iea.padding.characters) == \
                (IEA, "IEA", PADDING_KEPT + 1)


def test_padding_is_passed_over_without_being_made_into_a_string(tmp_path, monkeypatch):
    """The writer reads the gap a block at a time: no text it hands out or keeps is
    longer than a segment with its terminator and line break."""
    source = write(tmp_path / "padded.edi", FIRST + "\x00" * (8 * LONG) + SECOND)
    taken = []
    original = raw.SourceText.take

    def take(self, end):
        text = original(self, end)
        taken.append(len(text))
        return text

    monkeypatch.setattr(raw.SourceText, "take", take)
    segments = list(RawSegmentReader(source))
    assert len(segments) == FIRST.count("~") + SECOND.count("~")
    assert max(taken) < 200
    assert max(len(s.trailer) for s in segments) == 2


def test_the_dry_run_diff_shows_the_padding_removed(tmp_path, fix):
    source = write(tmp_path / "padded.edi", FIRST + "\x00" * LONG + SECOND)
    result = fix(source, tmp_path / "out", dry_run=True, split=True)
    lines = result.diff.splitlines()
    at = lines.index(f"@@ after segment {IEA} @@")
    assert lines[at + 1] == f"-{'':>6} {LONG} characters of padding (NUL)"
    assert len(result.diff) < 1000 and result.split.accepted == 1
    assert not (tmp_path / "out").exists()


def test_utf16_padding_is_left_out_and_the_rest_is_single_byte_text(tmp_path, fix):
    data = (FIRST + "\n" * LONG + SECOND).encode("utf-16")
    result = fix(write(tmp_path / "wide.edi", data), tmp_path / "out", split=True)
    assert result.problems == []
    assert Path(result.output).read_bytes() == (FIRST + SECOND).encode("ascii")
    assert [c.before for c in result.changes if c.rule == "EDI006"] == \
        [f"{LONG} characters of padding (line breaks)"]


def test_long_text_after_the_last_iea_is_kept_only_in_part(tmp_path):
    """A footer followed by megabytes of NULs: only its start is kept to be shown;
    a claim segment anywhere in it is still seen, so it is not dropped unseen."""
    footer = "Sent from the practice management system\r\n"
    for tail, claims in (("", False), ("CLM*C9*9400***11:B:1*Y*A*Y*Y~", True)):
        source = write(tmp_path / "footer.edi", FIRST + footer + "\x00" * LONG + tail)
        summary = rewrite(source, None, FixPlan([]).transform)
        assert summary.dropped.startswith(footer) and len(summary.dropped) == PADDING_KEPT
        assert summary.dropped_length == len(footer) + LONG + len(tail)
        assert summary.dropped_claims is claims
