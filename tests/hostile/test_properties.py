"""Issue #13, property-based: generated 837 files, damaged in every way a
transfer, an editor or a careless sender damages them, never break edi837.

Hypothesis mutates small generated files (byte flips, deleted, doubled and
swapped segments, other delimiters, truncation, padding, other line breaks,
hostile tokens) and runs the commands through the command line, as a user
would.  For every input: no traceback, exit status 0, 1 or 2, JSON output
that parses and matches schemas/report.schema.json, a corrected file that
edi837 reads back with the claims check read, accepted + held claims = the
input's claims (or the split refused with exit 2), extract's rows = check's
drug lines (tests/hostile_run.py states each).  And padding, however long,
costs bounded memory.

The runs are derandomized (the same examples in CI every time, no example
database) and bounded: the module takes about a minute on a 2-core machine.
"""
from __future__ import annotations

import io
import json
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import hostile_run  # noqa: E402

from edi837.generator import generate  # noqa: E402


def _generated(kind: str, claims: int, seed: int) -> bytes:
    out = io.StringIO(newline="")
    generate(out, kind, claims=claims, seed=seed, defect_rate=0.5, claims_per_st=3)
    return out.getvalue().encode("latin-1")


BASES = {"837P": _generated("837P", 6, 11), "837I": _generated("837I", 4, 12)}
TOKENS = [b"~", b"*", b":", b"^", b"\r\n", b"\r", b"\x00", b"\x1a", b"\xff\xfe", b"\xef\xbb\xbf",
          b"ISA", b"IEA*1*000000001~", b"SE*", b"GE*1*1~", b"ST*837*9999*005010X222A1~",
          b"HL*9*9*22*0~", b"HL*2*1*23*0~", b"CLM*HOSTILE*1e309***11:B:1*Y*A*Y*Y~",
          b"LX*1~", b"SV1*HC:J2350:JW:JZ*6E2*UN*+600***1~", b"LIN**N4*5024201500~",
          b"CTP****-1*ML~", b"\xe2\x80\xae", b"=HYPERLINK(1)", b"<script>", b"]]>",
          b"ISA*00*SHORT~"]
PROPERTY = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _segments(data: bytes) -> list[bytes]:
    return data.split(b"~\n")


def _join(segments: list[bytes]) -> bytes:
    return b"~\n".join(segments)


@st.composite
def mutation(draw, size: int, segments: int):
    """One edit: (kind, arguments), applied in order by `mutate`."""
    kind = draw(st.sampled_from(["flip", "delete", "duplicate", "swap", "delimiter", "truncate",
                                 "pad", "insert", "delete-bytes"]))
    position = draw(st.integers(0, max(size - 1, 0)))
    if kind == "flip":
        return kind, position, draw(st.integers(0, 255))
    if kind in ("delete", "duplicate"):
        return kind, draw(st.integers(0, segments - 1))
    if kind == "swap":
        return kind, draw(st.integers(0, segments - 1)), draw(st.integers(0, segments - 1))
    if kind == "delimiter":
        old = draw(st.sampled_from([b"*", b":", b"~", b"^"]))
        new = draw(st.sampled_from([b"|", b"!", b"~", b"*", b":", b"\n", b"A", b" ", b"^"]))
        return kind, old, new, draw(st.booleans())  # everywhere, or all but the ISA
    if kind == "truncate":
        return kind, position
    if kind == "pad":
        filler = draw(st.sampled_from([b"\x00", b"\n", b"\r\n", b" ", b"\x1a", b"~"]))
        return kind, draw(st.sampled_from(["end", "segment"])), filler, \
            draw(st.integers(1, 4096)), draw(st.integers(0, segments - 1))
    if kind == "insert":
        return kind, position, draw(st.sampled_from(TOKENS))
    return kind, position, draw(st.integers(1, 60))


def mutate(data: bytes, edits) -> bytes:
    for edit in edits:
        kind, *args = edit
        if kind == "flip":
            position, value = args
            if position < len(data):
                data = data[:position] + bytes([value]) + data[position + 1:]
        elif kind in ("delete", "duplicate", "swap"):
            segments = _segments(data)
            i = args[0] % len(segments)
            if kind == "delete":
                del segments[i]
            elif kind == "duplicate":
                segments.insert(i, segments[i])
            else:
                j = args[1] % len(segments)
                segments[i], segments[j] = segments[j], segments[i]
            data = _join(segments)
        elif kind == "delimiter":
            old, new, everywhere = args
            if everywhere:
                data = data.replace(old, new)
            else:  # the ISA says one thing, the segments do another
                head, sep, rest = data.partition(b"\n")
                data = head + sep + rest.replace(old, new)
        elif kind == "truncate":
            data = data[:args[0]]
        elif kind == "pad":
            where, filler, length, segment = args
            if where == "end":
                data += filler * length
            else:
                segments = _segments(data)
                i = segment % len(segments)
                segments[i] += b"~" + filler * length
                data = _join(segments)
        elif kind == "insert":
            position, token = args
            data = data[:position] + token + data[position:]
        else:
            position, length = args
            data = data[:position] + data[position + length:]
    return data


@st.composite
def damaged_file(draw, max_edits: int = 4):
    kind = draw(st.sampled_from(sorted(BASES)))
    data = BASES[kind]
    edits = draw(st.lists(mutation(len(data), len(_segments(data))), min_size=1,
                          max_size=max_edits))
    return mutate(data, edits)


LINE_BREAKS = {"none": b"~", "lf": b"~\n", "crlf": b"~\r\n", "cr": b"~\r", "blank": b"~\n\n",
               "indent": b"~\n   ", "tab": b"~\t"}


@st.composite
def restyled_file(draw):
    """Another line-break style, sometimes a BOM or UTF-16, sometimes padding after."""
    kind = draw(st.sampled_from(sorted(BASES)))
    data = BASES[kind].replace(b"~\n", LINE_BREAKS[draw(st.sampled_from(sorted(LINE_BREAKS)))])
    encoding = draw(st.sampled_from(["plain", "bom", "utf-16", "utf-16-le"]))
    if encoding == "bom":
        data = b"\xef\xbb\xbf" + data
    elif encoding != "plain":
        data = data.decode("latin-1").encode(encoding)
    tail = draw(st.sampled_from([b"", b"\x00" * 300, b"\n" * 300, b"\x1a", b"\r\n \t"]))
    return kind, data + tail


@lru_cache(maxsize=None)
def _base_outcome(kind: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.edi"
        path.write_bytes(BASES[kind])
        found, problems = hostile_run.outcome(path, ("check",))
    assert problems == [] and found["check"]["claims"] == {"837P": 6, "837I": 4}[kind]
    return found["check"]


def _check(data: bytes, commands=("check", "extract", "fix")) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.edi"
        path.write_bytes(data)
        # one check writes every report format, the JSON one included
        found, problems = hostile_run.outcome(path, commands, work=Path(folder), one_check=True)
        assert hostile_run.unknown_problems(found, problems, data) == [], f"{problems}\n{found}"


@settings(PROPERTY, max_examples=300)
@given(damaged_file())
def test_damaged_files_keep_every_invariant(data):
    _check(data)


@settings(PROPERTY, max_examples=60)
@given(restyled_file())
def test_any_line_break_style_encoding_and_padding_reads_the_same_claims(restyled):
    kind, data = restyled
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "restyled.edi"
        path.write_bytes(data)
        found, problems = hostile_run.outcome(path, ("check", "extract", "fix"),
                                              work=Path(folder))
        assert problems == []
        assert found["check"]["exit"] in (0, 1)  # the same file, readable
        original = _base_outcome(kind)
        assert (found["check"]["claims"], found["check"]["drug_lines"]) == \
            (original["claims"], original["drug_lines"])


@settings(PROPERTY, max_examples=40)
@given(damaged_file(max_edits=2))
def test_validate_on_damaged_files_keeps_every_invariant(data):
    _check(data, commands=("check", "validate"))


# -- memory: padding costs one chunk, whatever its length ------------------------------------
PADDING_MIB = 24  # past the reader's 1 MiB chunk and 2 MiB segment limit; kept whole, it
LIMIT_MIB = 64    # would take the ~40 MiB a check needs anyway over the limit


@pytest.mark.slow
@pytest.mark.parametrize("command, filler, where", [
    pytest.param("check", b"\x00", "between", id="check-nul-between"),
    pytest.param("extract", b"\n", "between", id="extract-newlines-between"),
    pytest.param("fix", b"\x00", "between", id="fix-split-nul-between"),
    pytest.param("fix", b"\n", "after", id="fix-split-newlines-after"),
])
def test_peak_memory_on_long_padding_stays_bounded(tmp_path, command, filler, where):
    """24 MiB of NULs or blank lines between two interchanges or after the
    last: read past in bounded memory (the peak RSS of a child process) and
    no claim lost."""
    base = BASES["837P"]
    path = tmp_path / "padded.edi"
    with open(path, "wb") as out:
        out.write(base)
        for _ in range(PADDING_MIB):
            out.write(filler * (1 << 20))
        if where == "between":
            out.write(base)
    claims = 12 if where == "between" else 6
    if command == "fix":
        run = hostile_run.run_child(["fix", "--split", "--out-dir", str(tmp_path / "out"),
                                     str(path)], timeout=300)
    else:
        run = hostile_run.run_child([command, "--format", "json" if command == "check"
                                     else "jsonl", str(path)], timeout=300)
    assert run.traceback == "" and run.exit in (0, 1), run.stderr[-2000:]
    if command == "check":
        assert json.loads(run.stdout)["summary"]["claims"] == claims
    if command == "fix":
        out = tmp_path / "out"
        held = out / "padded.held.edi"
        assert hostile_run.count_claims(out / "padded.accepted.edi") + \
            (hostile_run.count_claims(held) if held.exists() else 0) == claims
    assert run.max_rss_kib < LIMIT_MIB * 1024, f"{command}: {run.max_rss_kib // 1024} MiB"


@pytest.mark.slow
def test_peak_memory_of_fix_does_not_grow_with_info_findings(tmp_path):
    """Every claim a first dose (300 units: a DOC001 info each): fix --split
    streams its findings like check does, in bounded memory."""
    import hostile_corpus as corpus

    body = corpus.billing()
    for k in range(15_000):
        body += corpus.subscriber(k + 2, f"SYN{k:09d}", "DOE", f"P{k}") + corpus.j2350_claim(
            f"HC-{k}", units="300", charge="4500", quantity="10")
    path = tmp_path / "first-doses.edi"
    path.write_bytes(corpus.data(corpus.interchange([corpus.transaction(body)])))
    run = hostile_run.run_child(["fix", "--split", "--out-dir", str(tmp_path / "out"),
                                 str(path)], timeout=300)
    assert run.traceback == "" and run.exit == 0, run.stderr[-2000:]
    assert hostile_run.count_claims(tmp_path / "out" / "first-doses.accepted.edi") == 15_000
    assert run.max_rss_kib < LIMIT_MIB * 1024, f"fix: {run.max_rss_kib // 1024} MiB"
