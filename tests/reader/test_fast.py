"""The fast path (edi837.reader.fast) tells exactly what the full reader tells: the same
drug claims with every field, the same findings, the same counts, on every
generated mix, every defect, both kinds, LF/CRLF/no line break, odd
delimiters, several interchanges, hostile inputs, and at any chunk size (small
chunks cut sets, HL loops and claims anywhere)."""
import io
import random

import pytest
from conftest import SAMPLES
from fast_support import (
    DRUG,
    TABLE,
    VISIT,
    assert_same,
    billing,
    claim,
    envelope,
    generated,
    hierarchy_file,
    outcome,
    patient,
    subscriber,
    with_delimiters,
)
from test_robustness import mutations

from edi837.reader import fast
from edi837.reader.claims import ClaimReader
from edi837.x12.fragment import header_segments
from edi837.x12.reader import Batch, Block, SegmentReader

MALFORMED = SAMPLES.parent / "tests" / "data" / "malformed"
CHUNKS = (None, 61, 997, 4096)


# -- the segment reader: blocks are the batches, unsplit ------------------------------
def segments_of(chunks):
    found = []
    for chunk in chunks:
        batch = chunk.batch() if chunk.__class__ is Block else chunk
        found += [(batch.first_index + k, batch.offset(k), text)
                  for k, text in enumerate(batch.texts)]
    return found


def read_both_ways(data: bytes):
    ways = []
    for blocks in (False, True):
        reader = SegmentReader("x", io.BytesIO(data))
        try:
            found = segments_of(reader.blocks() if blocks else reader.batches())
        except Exception as exc:  # the same error, at the same place, either way
            found = (type(exc).__name__, str(exc))
        ways.append((found, reader.source, reader.segment_count))
    return ways


def corpus() -> list[tuple[str, bytes]]:
    inputs = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*.edi"))]
    inputs += [(p.name, p.read_bytes()) for p in sorted(MALFORMED.iterdir())
               if p.suffix in (".edi", ".txt")]
    inputs += [("lf", generated(claims=60)), ("crlf", generated(claims=60, newline="\r\n")),
               ("none", generated(claims=60, newline="")),
               ("newline terminator", generated(claims=60, newline="", terminator="\n"))]
    clean = generated(claims=30, seed=2)
    inputs += [
        ("blank line", clean.replace(b"~\nCLM", b"~\n\nCLM", 3)),
        ("spaces", clean.replace(b"~\nHL", b"~  \nHL", 2)),
        ("lone CR", clean.replace(b"~\nLX", b"~\rLX", 2)),
        ("empty segments", clean.replace(b"~\nDTP", b"~\n~\nDTP", 2)),
        ("NUL padding", clean + b"\x00" * 300),
        ("BOM", b"\xef\xbb\xbf" + clean),
        ("two interchanges", clean + with_delimiters(generated(claims=20, seed=3), "|", "\\")),
        ("text after", clean + b"THIS IS A MAIL FOOTER\n"),
        ("no final terminator", clean.rstrip(b"~\n")),
        ("no final break", clean.rstrip(b"\n")),
        ("a break split by the chunks", generated(claims=40, newline="\r\n")),
    ]
    return inputs


@pytest.mark.parametrize("chunk", [7, 61, 200, 997, 1 << 20])
def test_blocks_hold_the_segments_batches_hold(monkeypatch, chunk):
    from edi837.x12 import reader as reader_module

    monkeypatch.setattr(reader_module, "CHUNK_SIZE", chunk)
    for name, data in corpus():
        (batches, source, count), (blocks, block_source, block_count) = read_both_ways(data)
        assert blocks == batches, name
        assert block_source == source, name  # the same EDI006 notes
        assert block_count == count, name


def test_clean_chunks_come_unsplit():
    chunks = list(SegmentReader("x", io.BytesIO(generated(claims=300))).blocks())
    assert all(chunk.__class__ is Block for chunk in chunks)
    spaced = generated(claims=300).replace(b"~\nHL", b"~ \nHL")
    assert all(c.__class__ is Batch for c in SegmentReader("x", io.BytesIO(spaced)).blocks())


# -- the claim reader: fast and full ----------------------------------------------------
@pytest.mark.parametrize("name", [p.name for p in sorted(SAMPLES.glob("*.edi"))]
                         + [p.name for p in sorted(MALFORMED.glob("*.edi"))])
def test_samples_and_malformed_files(monkeypatch, name):
    path = SAMPLES / name if (SAMPLES / name).exists() else MALFORMED / name
    assert_same(path.read_bytes(), monkeypatch, chunks=CHUNKS)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["837P", "837I"])
@pytest.mark.parametrize("mix", [None, 0.02, 0.3])
@pytest.mark.parametrize("newline", ["\n", "\r\n", ""])
def test_generated_mixes_with_every_defect(monkeypatch, kind, mix, newline):
    data = generated(kind, claims=400, seed=7, defect_rate=1.0, drug_share=mix,
                     newline=newline)
    full = assert_same(data, monkeypatch, chunks=(None, 997, 5000))
    assert full["claims"] == 400 and full["drug claims"]


@pytest.mark.parametrize("element,component,terminator", [
    ("|", "^", "~"),  # ISA16 equal to ISA11: composites cannot be split (EDI007)
    ("|", "\\", "$"), ("+", ".", "'"), ("!", "(", "]"), ("*", "+", "?"), ("^", "|", "\n"),
])
def test_delimiters_that_are_regular_expression_characters(monkeypatch, element, component,
                                                           terminator):
    data = generated(claims=80, seed=4, drug_share=0.3, newline="",
                     terminator=terminator if terminator != "~" else "~")
    data = data.replace(b"*", element.encode()).replace(b":", component.encode())
    assert_same(data, monkeypatch, chunks=(None, 333))


def test_several_interchanges_with_their_own_delimiters(monkeypatch):
    data = (generated(claims=50, seed=5, drug_share=0.2)
            + b"\r\n" + with_delimiters(generated(claims=50, seed=6, newline="\r\n"), "|", "^")
            + with_delimiters(generated(claims=50, seed=8, newline=""), "!", "\\"))
    full = assert_same(data, monkeypatch, chunks=CHUNKS)
    assert full["interchanges"] == 3


def test_a_table_code_that_is_no_j_code_makes_a_drug_claim(monkeypatch):
    """--drug-table additions: the search takes every code of the table."""
    data = envelope(header_segments("837P") + claim("A", VISIT)
                    + claim("B", "SV1*HC:Q0138*1*UN*1") + claim("C", "SV1*HC:99215:25*1*UN*1")
                    ).encode()
    full = assert_same(data, monkeypatch, codes=TABLE + ("Q0138", "99215"))
    assert len(full["drug claims"]) == 2
    assert len(assert_same(data, monkeypatch)["drug claims"]) == 0


def test_codes_of_the_drug_line_patterns_make_drug_claims(monkeypatch):
    """policies.toml [[drug_lines]]: C9399 and biosimilar Q-codes are drug lines for both
    readers, with no drug table code; Q5001 (a hospice site) and C9600 are not."""
    data = envelope(header_segments("837P") + claim("A", VISIT)
                    + claim("B", "SV1*HC:C9399*1*UN*1") + claim("C", "SV1*HC:Q5133*1*UN*1")
                    + claim("D", "SV1*HC:Q5001*1*UN*1") + claim("E", "SV1*HC:C9600*1*UN*1")
                    + claim("F", "SV1*1*HC:Q5134*UN*1") + claim("G", VISIT)).encode()
    full = assert_same(data, monkeypatch, codes=(), chunks=CHUNKS)
    assert [c.split("claim_id=")[1][:3] for c in full["drug claims"]] == ["'B'", "'C'"]

ADVERSARIAL = {
    # a J in places that are not a procedure code: not drug claims
    "J in places that are no procedure": claim(
        "A", VISIT, "SV1*HC:99213:J1*1*UN*1\nREF*6R*J2350", extra="NM1*82*1*J2350*JO****XX*1"),
    "J diagnosis": ["CLM*B*100***11:B:1*Y*A*Y*Y", "HI*ABK:J069", "LX*1", VISIT],
    # drug lines the search must see
    "LIN after the 2430 loop": claim("C", VISIT + "\nSVD*PAYER*9*HC:99213**1\nLIN**N4*50242015001"),
    "LIN with no LX": ["CLM*D*100***11:B:1*Y*A*Y*Y", "LIN**N4*50242015001", "LX*1", VISIT],
    "J code in the second element": claim("E", "SV1*1*HC:J2350*UN*600"),
    "J code, no qualifier": claim("F", "SV1*:J9999*10*UN*1"),
    "lower case": claim("G", "SV1*HC:j2350*10*UN*1"),
    "three-letter look-alikes": claim("H", "SV1X*HC:J2350*1*UN*1\nCLMX*1\nLINE*1", VISIT),
    "malformed drug line": claim("I", "SV1*HC:J2350*5O0*UN*3OO***1"),
    "malformed visit line": claim("J", "SV1*HC*5O0*UN*1"),
    "malformed visit in a drug claim": claim("K", "SV1*HC*5O0*UN*1", DRUG),
    "an SV1 before any LX": ["CLM*L*100***11:B:1*Y*A*Y*Y", "SV1*HC:J2350*1*UN*1", "LX*1", VISIT],
}


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_adversarial_claims(monkeypatch, case):
    body = header_segments("837P") + claim("before", VISIT) + ADVERSARIAL[case] \
        + claim("after", VISIT)
    assert_same(envelope(body).encode(), monkeypatch, chunks=(None, 61))


def test_a_drug_only_in_an_837i_sv2(monkeypatch):
    lines = ["CLM*I1*100***13:A:1**A*Y*Y", "HI*ABK:G35A", "LX*1",
             "SV2*0636*HC:J2350*9000*UN*600", "DTP*472*D8*20260115",
             "LX*2", "SV2*0510*HC:99213*100*UN*1"]
    data = envelope(header_segments("837I") + lines + claim("visit", "SV2*0510*HC:99213*1*UN*1"),
                    kind="837I").encode()
    assert len(assert_same(data, monkeypatch, chunks=(None, 61))["drug claims"]) == 1


HIERARCHIES = {
    "claims under a billing provider": billing(1) + claim("A", DRUG) + subscriber(2, 1)
    + claim("B", VISIT) + billing(3) + claim("C", DRUG),
    "patient under an older subscriber": billing(1) + subscriber(2, 1, children=True)
    + subscriber(3, 1) + claim("A", VISIT) + patient(4, 2) + claim("B", DRUG),
    "billing provider between subscriber and patient": billing(1)
    + subscriber(2, 1, children=True) + billing(3) + patient(4, 2) + claim("A", DRUG),
    "HL out of order": billing(1) + subscriber(2, 1) + claim("A", VISIT) + subscriber(4, 1)
    + claim("B", DRUG) + subscriber(5, 1) + claim("C", DRUG),
    "wrong parent level": billing(1) + subscriber(2, 1, children=True) + patient(3, 1)
    + claim("A", DRUG) + subscriber(4, 3) + claim("B", VISIT),
    "HL level 21": billing(1) + ["HL*2*1*21*0"] + claim("A", DRUG),
    "HL with two elements": billing(1) + ["HL*2*1"] + claim("A", DRUG),
    "repeated HL01": billing(1) + subscriber(2, 1) + claim("A", VISIT) + subscriber(2, 1)
    + claim("B", DRUG) + subscriber(3, 1) + claim("C", DRUG),
    "claim before the first HL": claim("A", DRUG) + billing(1) + subscriber(2, 1)
    + claim("B", DRUG),
}


@pytest.mark.parametrize("case", sorted(HIERARCHIES))
def test_hierarchies(monkeypatch, case):
    body = header_segments("837P")[:5] + HIERARCHIES[case]
    filler = subscriber(90, 1) + claim("Z", VISIT)  # push the case across chunk boundaries
    data = envelope(body).encode()
    assert_same(data, monkeypatch, chunks=CHUNKS)
    assert_same(data.replace(b"SE*", ("~\n".join(filler) + "~\nSE*").encode(), 1), monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_random_hierarchies(monkeypatch, seed):
    """Billing providers, subscribers and dependants in random order: what a drug
    claim takes from the loops above it (the latest of each level) is the same."""
    data = hierarchy_file(random.Random(seed), units=400, drug_share=0.1).encode()
    assert_same(data, monkeypatch, chunks=(None, 500, 3001))


def test_the_same_hierarchies_as_a_first_or_a_later_set(monkeypatch):
    """What a set leaves the reader in (loops above a claim are not all reset by ST)
    carries over to a claim in the next set's header, on both paths."""
    first = hierarchy_file(random.Random(1), units=60, drug_share=0.1)
    second = envelope(header_segments("837P")[:5] + claim("orphan", DRUG) + billing(1)
                      + subscriber(2, 1) + claim("B", DRUG), control="000000002")
    assert_same((first + second).encode(), monkeypatch, chunks=(None, 700))


ENVELOPES = {
    "set without SE": lambda d: d.replace(b"SE*", b"XX*", 1),
    "set cut by GE": lambda d: d.replace(b"SE*", b"GE*", 1),
    "file ends inside a claim": lambda d: d[: len(d) * 2 // 3],
    "stray segments between sets": lambda d: d.replace(b"~\nST*837*0002", b"~\nCLM*X~\nLX*1"
                                                       b"~\nST*837*0002", 1),
    "a non-837 set": lambda d: d.replace(b"ST*837*0002", b"ST*835*0002", 1),
    "a version variant": lambda d: d.replace(b"005010X222A1", b"005010X222A2"),
    "wrong SE count": lambda d: d.replace(b"~\nSE*", b"~\nSE*9", 2),
}


@pytest.mark.parametrize("case", sorted(ENVELOPES))
def test_envelopes(monkeypatch, case):
    data = ENVELOPES[case](generated(claims=120, seed=9, drug_share=0.2, claims_per_st=30))
    assert_same(data, monkeypatch, chunks=CHUNKS)


def test_an_hl_loop_bigger_than_what_is_carried(monkeypatch):
    monkeypatch.setattr(fast, "MAX_CARRY", 300)
    body = header_segments("837P") + [s for k in range(60) for s in claim(f"C{k}", VISIT)] \
        + claim("D", DRUG) + [s for k in range(40) for s in claim(f"E{k}", VISIT)]
    assert_same(envelope(body).encode(), monkeypatch, chunks=(None, 250, 997))


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["837p-j2350-defects.edi", "837i-j2350-defects.edi",
                                    "837p-multi-interchange-crlf-bom.edi",
                                    "837p-mixed-drugs.edi"])
def test_mutated_samples(monkeypatch, sample):
    data = (SAMPLES / sample).read_bytes()
    for mutated in mutations(data, seed=len(sample) + 1, count=80):
        assert_same(mutated, monkeypatch, chunks=(None, 97))


@pytest.mark.slow
def test_mutated_generated_files(monkeypatch):
    data = generated(claims=60, seed=11, drug_share=0.2, claims_per_st=10)
    for mutated in mutations(data, seed=3, count=60):
        assert_same(mutated, monkeypatch, chunks=(None, 499))


# -- what the fast path saves -------------------------------------------------------------
def test_claims_with_no_drug_line_are_counted_not_read():
    data = generated(claims=1000, seed=12, drug_share=0.02)
    fast_result = outcome(data, fast=True)
    full = outcome(data, fast=False)
    assert full["yielded"] == full["claims"] == fast_result["claims"] == 1000
    assert fast_result["yielded"] < 100  # drug claims, and little else


def test_hl_order_is_still_checked_on_every_hl():
    """A wrong HL among claims passed over is found, with the claims after it."""
    data = generated(claims=600, seed=13, drug_share=0.02, claims_per_st=500)
    data = data.replace(b"~\nHL*30*", b"~\nHL*0*", 1)
    reader = ClaimReader("x", io.BytesIO(data), drug_codes=TABLE, fast=True)
    list(reader.claims())
    assert [f.message for f in reader.findings if f.rule == "EDI007"] == \
        ["HL out of order: HL01 is 0, expected 30"]


# -- HL order at once (Hierarchy.take) and one by one (Hierarchy.check) -------------------
def _state(hierarchy):
    return dict(hierarchy.levels), hierarchy.expected


def test_hls_are_taken_at_once_only_when_one_by_one_finds_nothing():
    from edi837.reader.loops import Hierarchy

    rng = random.Random(0)
    taken = refused = 0
    for _ in range(4000):
        before = Hierarchy()
        for hl in _random_hls(rng, rng.randint(0, 5), 1):  # an earlier part of the set
            before.check(*hl)
        hls = _random_hls(rng, rng.randint(1, 8), before.expected)
        at_once, one_by_one = Hierarchy(), Hierarchy()
        for copy in (at_once, one_by_one):
            copy.levels, copy.expected = _state(before)
        problems = [one_by_one.check(*hl) for hl in hls]
        if at_once.take(hls):
            taken += 1
            assert not any(problems), hls
            assert _state(at_once) == _state(one_by_one)
        else:
            refused += 1
            assert _state(at_once) == _state(before)  # nothing recorded
    assert taken > 200 and refused > 2000


def test_an_hl_checked_one_by_one_is_judged_as_hl_problem_judges_it():
    """Hierarchy.check's written-out test of the usual HL finds what hl_problem finds,
    and past the HL01s it keeps as text (10,000) too."""
    from edi837.reader.loops import Hierarchy, hl_problem

    rng = random.Random(1)
    found = 0
    for start in (1, 9_995):
        for _ in range(3000):
            hierarchy = Hierarchy()
            hierarchy.expected = start
            for hl in _random_hls(rng, rng.randint(1, 8), start):
                levels, expected = dict(hierarchy.levels), hierarchy.expected
                assert hierarchy.check(*hl) == hl_problem(*hl, levels, expected), hl
                found += hierarchy.levels != levels
    assert found > 10_000


def test_a_reader_that_judges_hls_itself_is_asked():
    """A subclass overriding _hl_problem (edi837.parallel's readers) gets every HL."""
    from edi837.parallel.pieces import PieceReader
    from edi837.parallel.scan import EnvelopeReader

    class Judge(ClaimReader):
        def _hl_problem(self, fields, index, levels, expected):
            return f"judged {fields[1]}"

    assert ClaimReader._hl_in_place
    assert not (Judge._hl_in_place or PieceReader._hl_in_place or EnvelopeReader._hl_in_place)
    data = generated(claims=3, seed=1)
    hls = [segment.split(b"*")[1].decode() for segment in data.replace(b"\n", b"").split(b"~")
           if segment.startswith(b"HL*")]
    reader = Judge("x", io.BytesIO(data), drug_codes=TABLE)
    list(reader.claims())
    assert len(hls) >= 4
    assert [f.message for f in reader.findings if f.segment == "HL"] == \
        [f"HL out of order: judged {n}" for n in hls]


def _random_hls(rng, count, start):
    hls, levels = [], {}
    for k in range(start, start + count):
        hl_id = str(k) if rng.random() < 0.95 else rng.choice(["0", str(k + 1), "", "01"])
        level = rng.choice(["20", "22", "22", "23", "23"]) if rng.random() < 0.97 \
            else rng.choice(["21", ""])
        wanted = {"20": None, "22": "20", "23": "22"}.get(level)
        earlier = [i for i, lv in levels.items() if lv == wanted]
        if level == "20" and rng.random() < 0.95:
            parent = ""
        elif earlier and rng.random() < 0.85:
            parent = rng.choice(earlier)
        else:  # none, a later HL, itself, or one of the wrong level
            parent = rng.choice(["", str(k + 1), str(k), str(max(start - 1, 1))])
        hls.append((hl_id, parent, level))
        levels[hl_id] = level
    return hls


def test_a_parent_that_comes_later_is_out_of_order(monkeypatch):
    body = header_segments("837P")[:5] + billing(1) + ["HL*2*3*22*0"] + claim("A", DRUG) \
        + ["HL*3**20*1"] + subscriber(4, 3) + claim("B", DRUG)
    full = assert_same(envelope(body).encode(), monkeypatch, chunks=(None, 61))
    assert any("parent 3" in f for f in full["findings"])


# -- the hostile corpus (issue #13) ---------------------------------------------------------
@pytest.mark.slow
def test_the_hostile_corpus(monkeypatch):
    """Every case of tests/hostile_corpus.py, the large ones too, at three chunk sizes."""
    import hostile_corpus

    for case in hostile_corpus.CASES:
        data = case.build()
        chunks = (None, 61, 997) if len(data) < 1 << 16 else (None,)
        try:
            assert_same(data, monkeypatch, chunks=chunks)
        except AssertionError as exc:
            raise AssertionError(f"{case.file_name}: {exc}") from exc
