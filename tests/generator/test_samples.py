"""The sample files and the generator hold to the implementation guide.

pyx12 is the independent judge of X12 validity here.  Counts are taken with
plain string operations so that these tests do not depend on edi837's own
reader (which they help to test).
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pyx12check import pyx12_verdict

from edi837.generator import DEFECT_RULES, DEFECTS, generate

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
# The malformed inputs (EDI001-EDI007) are test data, not samples: `edi837
# check samples/` is the README's demo and must read every file it finds.
TEST_DATA = Path(__file__).resolve().parents[1] / "data"


def sample_path(name: str) -> Path:
    return (TEST_DATA if name.startswith("malformed/") else SAMPLES) / name

# Samples pyx12 does not accept, and why.  Every other sample must pass,
# malformed/not-837.edi included: it is a valid 835, just not a claim.
PYX12_REJECTS = {
    "837p-j2350-defects-ig-invalid.edi":
        "CTP05-1 'ml'/'MG' and a missing DTP*472 break the guide on purpose",
    "837p-multi-interchange-crlf-bom.edi":
        "pyx12 cannot decode a UTF-8 BOM (tested without it below)",
    "malformed/not-x12.txt": "EDI001: not X12 at all",
    "malformed/truncated.edi": "EDI002: SE, GE and IEA are missing",
    "malformed/bad-control-numbers.edi": "EDI003: SE02 and IEA02 do not match",
    "malformed/bad-counts.edi": "EDI004: SE01 is wrong",
    "malformed/version-variant-x222a2.edi": "EDI005: pyx12 has no map for 005010X222A2",
    "malformed/utf16.edi": "EDI006: pyx12 reads ASCII only",
    "malformed/bad-service-line.edi": "EDI007: SV104 is not a number",
}


def sample_names() -> list[str]:
    # Only the sample files: other tools may leave reports (x12valid's .997) beside them.
    found = [path.relative_to(root).as_posix()
             for root, folder in ((SAMPLES, SAMPLES), (TEST_DATA, TEST_DATA / "malformed"))
             for path in folder.rglob("*")
             if path.is_file() and path.suffix in (".edi", ".txt")]
    return sorted(found)


@pytest.mark.parametrize("name", sample_names())
def test_pyx12_accepts_every_sample_except_the_intentionally_broken(name):
    ok, messages = pyx12_verdict(sample_path(name))
    if name in PYX12_REJECTS:
        assert not ok, f"{name} should fail pyx12: {PYX12_REJECTS[name]}"
    else:
        assert ok, f"pyx12 rejects {name}:\n{messages}"


def test_ig_invalid_defects_fail_pyx12_only_where_intended():
    ok, messages = pyx12_verdict(SAMPLES / "837p-j2350-defects-ig-invalid.edi")
    assert not ok
    errors = messages.splitlines()
    assert len(errors) == 3, messages
    assert "(ml) is not a valid code" in errors[0]
    assert "(MG) is not a valid code" in errors[1]
    assert '"Date - Service Date" (DTP) missing' in errors[2]


def test_each_interchange_of_the_bom_file_is_valid_without_the_bom(tmp_path):
    raw = (SAMPLES / "837p-multi-interchange-crlf-bom.edi").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("ascii")
    assert text.count("~\r\n") == text.count("~") and "\n" not in text.replace("\r\n", "")
    # pyx12 takes the delimiters of the first ISA for the whole file, so the
    # second interchange (element '|', component '>') is checked on its own.
    interchanges = ["ISA" + part for part in text.split("ISA")[1:]]
    assert len(interchanges) == 2
    assert interchanges[1][3] == "|" and interchanges[1][104] == ">"
    for number, interchange in enumerate(interchanges, 1):
        path = tmp_path / f"interchange{number}.edi"
        path.write_bytes(interchange.encode("ascii"))
        ok, messages = pyx12_verdict(path)
        assert ok, f"interchange {number}:\n{messages}"


def test_utf16_sample_is_a_clean_837p_underneath(tmp_path):
    raw = sample_path("malformed/utf16.edi").read_bytes()
    assert raw.startswith(b"\xff\xfeI\x00S\x00A\x00")  # little-endian byte-order mark, then ISA
    path = tmp_path / "ascii.edi"
    path.write_text(raw.decode("utf-16"), encoding="ascii")
    ok, messages = pyx12_verdict(path)
    assert ok, messages


def sample_text(name: str) -> str:
    raw = sample_path(name).read_bytes()
    if raw.startswith(b"\xff\xfe"):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


ISA_WIDTHS = [3, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]  # ISA, then ISA01..ISA16


@pytest.mark.parametrize("name", [n for n in sample_names() if n.endswith(".edi")])
def test_every_isa_is_fixed_width(name):
    text = sample_text(name)
    starts = [match.start() for match in re.finditer(r"(?:^|[~\n])ISA", text)]
    assert starts, name
    for start in starts:
        isa = text[text.index("ISA", start):][:106]
        widths = [len(element) for element in isa[:105].split(isa[3])]
        assert widths == ISA_WIDTHS, f"{name}: ISA is not fixed width"
        assert isa[105] == "~", f"{name}: no terminator at ISA position 106"


def test_readme_names_every_sample():
    for name in sample_names():
        readme = sample_path(name).parent / "README.md"
        if name.startswith("malformed/"):
            readme = TEST_DATA / "malformed" / "README.md"
        assert f"`{name}`" in readme.read_text(encoding="utf-8"), \
            f"{readme} does not describe {name}"


def defect_table_claims(file_name: str) -> set[str]:
    """CLM01 values in the README's 'Intended findings in `file`' table."""
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"## Intended findings in `{file_name}`")[1].split("\n## ")[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


@pytest.mark.parametrize("name", ["837p-j2350-defects.edi", "837p-j2350-defects-ig-invalid.edi",
                                  "837i-j2350-defects.edi"])
def test_defect_tables_list_exactly_the_claims_in_the_file(name):
    text = (SAMPLES / name).read_text(encoding="ascii")
    claims_in_file = {segment.split("*")[1] for segment in segments(text)
                      if segment.startswith("CLM*")}
    assert defect_table_claims(name) == claims_in_file


# --------------------------------------------------------------------------
# The generator.
# --------------------------------------------------------------------------

def generated(kind: str, **options) -> tuple[str, dict]:
    out = io.StringIO(newline="")
    stats = generate(out, kind, **options)
    return out.getvalue(), stats


def segments(text: str, terminator: str = "~") -> list[str]:
    return [segment.strip("\r\n") for segment in text.split(terminator) if segment.strip("\r\n")]


def drug_line_count(all_segments: list[str]) -> int:
    """Service lines (LX to the next LX, CLM, HL or SE) that are drug lines."""
    lines, current = [], None
    for segment in all_segments:
        tag = segment.split("*", 1)[0]
        if tag in ("LX", "CLM", "HL", "SE"):
            if current is not None:
                lines.append(current)
            current = [] if tag == "LX" else None
        elif current is not None:
            current.append(segment)
    return sum(is_drug_line(line) for line in lines)


def is_drug_line(line: list[str]) -> bool:
    """The rule catalog's drug line: a J-code, or any line with a 2410 LIN."""
    service = line[0].split("*")
    procedure = service[1] if service[0] == "SV1" else service[2]
    return procedure.split(":")[1].startswith("J") or any(s.startswith("LIN*") for s in line)


@pytest.mark.parametrize("kind", ["837P", "837I"])
@pytest.mark.parametrize("seed", [1, 2])
def test_pyx12_accepts_generated_files(tmp_path, kind, seed):
    path = tmp_path / f"{kind}-{seed}.edi"
    with open(path, "w", encoding="ascii", newline="") as out:
        stats = generate(out, kind, claims=300, seed=seed, defect_rate=0.2, claims_per_st=120)
    assert stats["defects"], "defect_rate 0.2 should give defects"
    ok, messages = pyx12_verdict(path)
    assert ok, messages[:4000]


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_every_defect_kind_appears_and_stays_valid(tmp_path, kind):
    path = tmp_path / f"{kind}-defects.edi"
    with open(path, "w", encoding="ascii", newline="") as out:
        stats = generate(out, kind, claims=400, seed=7, defect_rate=1.0)
    assert set(stats["defects"]) == {defect.name for defect in DEFECTS[kind]}
    ok, messages = pyx12_verdict(path)
    assert ok, messages[:4000]


def test_every_defect_names_catalog_rules():
    # The catalog lives in the shared folder beside the repository when present.
    catalog = Path(__file__).resolve().parents[3] / "shared" / "reference" / "rule-catalog.md"
    known = set(re.findall(r"^\| ([A-Z]{2,3}\d{3}) \|", catalog.read_text(encoding="utf-8"),
                           re.MULTILINE)) if catalog.exists() else set()
    for name, rules in DEFECT_RULES.items():
        assert rules, name
        for rule in rules:
            assert re.fullmatch(r"[A-Z]{2,3}\d{3}", rule), (name, rule)
            assert not known or rule in known, (name, rule)


def test_defects_show_in_the_file():
    text, stats = generated("837P", claims=400, seed=3, defect_rate=1.0)
    defects = stats["defects"]
    assert text.count("LIN**N4*50242055401~") == defects["zunovo_ndc"]
    # Counted on SV1 only: a 2430 SVD repeats the line's modifiers.
    assert len(re.findall(r"SV1\*HC:J\d{4}:JW:JZ\*", text)) == defects["jw_and_jz"]
    assert len(re.findall(r"LIN\*\*N4\*\d{5}-\d{3}-\d{2}~", text)) >= defects["hyphenated_ndc"] > 0
    institutional, stats = generated("837I", claims=200, seed=3, defect_rate=1.0)
    assert institutional.count("SV2*0250*HC:J") >= stats["defects"]["general_pharmacy_revenue"] > 0


def test_no_defects_at_rate_zero():
    text, stats = generated("837P", claims=300, seed=5, defect_rate=0.0)
    assert stats["defects"] == {}
    assert "50242055401" not in text and ":JW:JZ" not in text
    assert "HI*ABK:R262" not in text


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_same_seed_same_bytes_other_seed_other_bytes(kind):
    first, _ = generated(kind, claims=60, seed=11)
    again, _ = generated(kind, claims=60, seed=11)
    other, _ = generated(kind, claims=60, seed=12)
    assert first == again
    assert first != other


@pytest.mark.parametrize("kind", ["837P", "837I"])
@pytest.mark.parametrize("target", [20_000, 250_000])
def test_size_target_is_roughly_honoured(kind, target):
    text, stats = generated(kind, size=target, seed=4)
    assert stats["bytes"] == len(text.encode("ascii"))
    assert 0.9 * target <= stats["bytes"] <= 1.1 * target


@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_stats_match_the_file(kind):
    text, stats = generated(kind, claims=257, seed=9, defect_rate=0.3, claims_per_st=40)
    all_segments = segments(text)
    ids = [segment.split("*")[0] for segment in all_segments]
    assert stats["claims"] == ids.count("CLM") == 257
    assert stats["transactions"] == ids.count("ST") == ids.count("SE")
    assert stats["service_lines"] == ids.count("LX") \
        == ids.count("SV1" if kind == "837P" else "SV2")
    assert stats["drug_lines"] == drug_line_count(all_segments)
    assert stats["segments"] == len(all_segments)
    assert stats["bytes"] == len(text)
    assert sum(stats["defects"].values()) <= stats["claims"]


def test_envelope_counts_and_control_numbers():
    text, stats = generated("837P", claims=130, seed=2, claims_per_st=25)
    all_segments = segments(text)
    isa, gs, ge, iea = all_segments[0], all_segments[1], all_segments[-2], all_segments[-1]
    assert len(isa) + 1 == 106
    assert iea.split("*") == ["IEA", "1", isa.split("*")[13]]
    assert ge.split("*") == ["GE", str(stats["transactions"]), gs.split("*")[6]]
    claims_per_transaction = []
    for transaction in text.split("~\nST*")[1:]:
        body = segments("ST*" + transaction.split("~\nGE*")[0])
        st, se = body[0].split("*"), body[-1].split("*")
        assert se == ["SE", str(len(body)), st[2]]
        claims_per_transaction.append(sum(segment.startswith("CLM*") for segment in body))
        hl_numbers = [int(segment.split("*")[1]) for segment in body if segment.startswith("HL*")]
        assert hl_numbers == list(range(1, len(hl_numbers) + 1))
    assert max(claims_per_transaction) <= 25
    assert sum(claims_per_transaction) == 130


def test_patients_and_dependants_are_both_present():
    text, _ = generated("837P", claims=200, seed=1)
    hl_levels = [segment.split("*")[3] for segment in segments(text) if segment.startswith("HL*")]
    assert "23" in hl_levels  # 2000C patient loops
    subscribers_with_claims = re.findall(r"HL\*\d+\*\d+\*22\*0~\n", text)
    assert subscribers_with_claims  # subscriber is the patient
    assert "SVD*" in text and "PWK*" in text and "NM1*DN*" in text and "NM1*DK*" in text


def test_content_mix_is_mostly_ocrelizumab():
    text, stats = generated("837P", claims=1000, seed=6, defect_rate=0.0)
    ocrelizumab_claims = sum("HC:J2350" in claim for claim in text.split("~\nCLM*")[1:])
    assert 0.68 <= ocrelizumab_claims / stats["claims"] <= 0.82
    for code in ("J3262", "J3380", "J2357", "J2323", "99213", "96365", "96413"):
        assert f"HC:{code}" in text, code


@pytest.mark.parametrize("newline", ["", "\r\n"])
def test_other_line_endings_stay_valid(tmp_path, newline):
    path = tmp_path / "endings.edi"
    with open(path, "w", encoding="ascii", newline="") as out:
        stats = generate(out, "837I", claims=30, seed=2, newline=newline)
    raw = path.read_bytes()
    assert len(raw) == stats["bytes"]
    assert raw.count(b"~" + newline.encode()) == stats["segments"]
    ok, messages = pyx12_verdict(path)
    assert ok, messages


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        generate(io.StringIO(), "837X", claims=1)
    with pytest.raises(ValueError):
        generate(io.StringIO(), "837P")
    with pytest.raises(ValueError):
        generate(io.StringIO(), "837P", claims=1, size=100)
    with pytest.raises(ValueError):
        generate(io.StringIO(), "837P", claims=1, terminator="*")


def test_command_line_writes_a_file(tmp_path):
    path = tmp_path / "cli.edi"
    result = subprocess.run(
        [sys.executable, "-m", "edi837.generator", "--kind", "837P", "--claims", "12",
         "--seed", "1", "-o", str(path)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="ascii").count("CLM*") == 12
    assert "claims 12" in result.stderr
