"""`check --jobs N` on a sparse file: pieces cut at transaction sets (edi837.parallel.sets),
each read with the fast path after the ISA and GS in force, the envelope findings judged
by the driver from the pieces' envelope segments.  The reports are one job's, byte for
byte, on every shape: a set boundary at every piece boundary (a piece size of one byte
cuts before every ST), several interchanges and groups, envelope errors; and what the
pieces cannot judge (a file cut short, segments outside a set, white space between
segments) is checked whole."""
import re

import pytest
from click.testing import CliRunner
from test_parallel_check import (
    FORMATS,
    MALFORMED,
    SAMPLES,
    SerialUnits,
    _table,
    generated,
    one_job,
    reports,
    without_times,
)

from edi837.cli import main
from edi837.config import Config
from edi837.engine import Engine
from edi837.parallel import check as parallel_check
from edi837.parallel import sets
from edi837.parallel.check import ParallelCheck
from edi837.parallel.keys import install
from edi837.parallel.sets import SetPiece
from edi837.parallel.work import CheckSettings


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch):
    """Pieces of any size (a piece of 1 byte: a cut before every ST but the first)."""
    monkeypatch.setattr(sets, "MIN_PIECE", 1)


def run(paths, *, piece_size=1, shards=None, sparse=True, monkeypatch=None):
    """The reports of --jobs (units checked here) and the units handed out."""
    if sparse:  # as the density sample says of a nightly mix
        monkeypatch.setattr(parallel_check, "mostly_passed_over", lambda *args: True)
    engine = Engine(_table(), Config())
    stage = engine.history
    executor = SerialUnits(CheckSettings((), engine.config, install(stage.keys.key),
                                         stage.persistent))
    try:
        report = ParallelCheck(engine, executor, piece_size=piece_size,
                               shards=shards).run([str(p) for p in paths])
        return reports(report), executor.units
    finally:
        engine.close()


def assert_same(paths, monkeypatch, *, cut=True, shards=None):
    """The reports of one job; ``cut``: the pieces were used (not the file whole)."""
    whole = one_job(paths)
    texts, units = run(paths, shards=shards, monkeypatch=monkeypatch)
    for fmt in FORMATS:
        assert texts[fmt] == whole[fmt], fmt
    pieces = [unit.piece for unit in units if isinstance(unit.piece, SetPiece)]
    if cut:
        assert len(pieces) > 2 and units[-1].piece is not None, units
    else:  # the last unit is the file checked whole
        assert units[-1].piece is None
    return units


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    return generated(tmp_path_factory.mktemp("sets"), "sparse.edi", claims=900,
                     drug_share=0.05, defect_rate=0.5, claims_per_st=60)


def _sets(path) -> int:
    return len(re.findall(rb"(?:^|~\n)ST\*", path.read_bytes()))


@pytest.mark.parametrize("shards", [None, 0], ids=["sharded history", "driver's history"])
def test_a_cut_before_every_set(sparse, monkeypatch, shards):
    units = assert_same([sparse], monkeypatch, shards=shards)
    # each set its own piece: every set boundary is a piece boundary
    assert [unit.piece.number for unit in units] == list(range(_sets(sparse)))
    assert [unit.piece.context for unit in units][:2] == \
        [(), tuple(sparse.read_text("latin-1").split("~\n")[:2])]


@pytest.mark.parametrize("separator", [b"~", b"~\r\n"], ids=["no line breaks", "CR LF"])
def test_line_breaks(sparse, tmp_path, monkeypatch, separator):
    other = tmp_path / "other.edi"
    other.write_bytes(sparse.read_bytes().replace(b"~\n", separator))
    assert_same([other], monkeypatch)


def test_pieces_of_a_few_sets(sparse, monkeypatch):
    whole = one_job([sparse])
    texts, units = run([sparse], piece_size=len(sparse.read_bytes()) // 5,
                       monkeypatch=monkeypatch)
    assert texts == whole
    assert 3 <= len(units) < _sets(sparse)


def test_one_set_only_is_checked_whole(tmp_path, monkeypatch):
    one = generated(tmp_path, "one.edi", claims=200, drug_share=0.05)
    assert _sets(one) == 1
    texts, units = run([one], monkeypatch=monkeypatch)
    assert texts == one_job([one]) and [unit.piece for unit in units] == [None]


def _groups(data: bytes, every: int, wrong: int | None = None) -> bytes:
    """The file's sets in groups of ``every`` (GE01 of group ``wrong`` off by one)."""
    lines = data.split(b"~\n")
    gs = lines[1].split(b"*")
    control, count, group, out = int(gs[6]), 0, 0, []
    for line in lines:
        if line.startswith(b"GE*"):
            line = b"GE*%d*%d" % (count, control)
        elif line.startswith(b"ST*") and count == every:
            out.append(b"GE*%d*%d" % (count + (group == wrong), control))
            control, group, count = control + 1, group + 1, 0
            gs[6] = b"%d" % control
            out.append(b"*".join(gs))
        elif line.startswith(b"IEA*"):
            line = re.sub(rb"IEA\*\d+", b"IEA*%d" % (group + 1), line)
        count += line.startswith(b"ST*")
        out.append(line)
    return b"~\n".join(out)


def test_several_groups_each_piece_read_in_its_own(sparse, tmp_path, monkeypatch):
    grouped = tmp_path / "groups.edi"
    grouped.write_bytes(_groups(sparse.read_bytes(), 4))
    # the GS in force found before each piece: each piece read once
    units = assert_same([grouped], monkeypatch)
    numbers = [unit.piece.number for unit in units]
    assert numbers == list(range(_sets(grouped)))
    assert len({unit.piece.context for unit in units}) > 3
    # not found (guessed the file's first): a piece read with another group's GS than
    # the one in force there is read again
    monkeypatch.setattr(sets, "CONTEXT_WINDOW", 0)
    units = assert_same([grouped], monkeypatch)
    numbers = [unit.piece.number for unit in units]
    assert len(numbers) > len(set(numbers))
    again = [unit.piece for unit in units if numbers.count(unit.piece.number) > 1]
    assert len({piece.context for piece in again}) > 1


def test_several_interchanges(sparse, tmp_path, monkeypatch):
    other = generated(tmp_path, "other.edi", kind="837I", claims=300, drug_share=0.05,
                      claims_per_st=50, seed=9)
    both = tmp_path / "both.edi"
    both.write_bytes(sparse.read_bytes() + other.read_bytes())
    assert_same([both], monkeypatch)
    # the same interchange twice: ISA13 repeated (EDI003), every claim a duplicate (HIS001)
    twice = tmp_path / "twice.edi"
    twice.write_bytes(sparse.read_bytes() * 2)
    assert_same([twice], monkeypatch)
    assert '"EDI003"' in one_job([twice])["json"]


def test_envelope_errors(sparse, tmp_path, monkeypatch):
    data = _groups(sparse.read_bytes(), 5, wrong=1)  # a GE01 off by one
    ses = [m.start() for m in re.finditer(rb"~\nSE\*", data)]
    # an SE01 wrong (in the middle), an SE02 that is not its ST02
    data = data[:ses[3]] + b"~\nSE*9" + data[ses[3] + 5:]
    data = re.sub(rb"(~\nSE\*\d+\*)0007~", rb"\g<1>0070~", data)
    # a set that is not an 837, a version no guide reads
    sts = [m.start() for m in re.finditer(rb"~\nST\*837\*", data)]
    data = data[:sts[6]] + b"~\nST*999*" + data[sts[6] + 9:]
    data = data[:sts[9]] + data[sts[9]:sts[9] + 40].replace(b"005010X222A1", b"004010X098A1") \
        + data[sts[9] + 40:]
    bad = tmp_path / "bad.edi"
    bad.write_bytes(re.sub(rb"IEA\*\d+\*", b"IEA*7*", data))
    assert_same([bad], monkeypatch)
    found = one_job([bad])["json"]
    for wanted in ('"segment": "GE"', '"segment": "SE"', '"segment": "IEA"', '"EDI005"'):
        assert wanted in found, wanted


def test_hl_out_of_order_in_every_set(sparse, tmp_path, monkeypatch):
    data = re.sub(rb"(~\nST\*837\*[^~]*(?:~\n[^H][^~]*)*~\nHL\*1\*\*20\*1(?:~\n[^H][^~]*)*)"
                  rb"~\nHL\*2\*", rb"\1~\nHL*5*", sparse.read_bytes())
    odd = tmp_path / "hl.edi"
    odd.write_bytes(data)
    assert_same([odd], monkeypatch)
    assert "HL out of order" in one_job([odd])["json"]


@pytest.mark.parametrize("change", ["cut short", "text after", "stray", "white space",
                                    "padding"])
def test_what_a_piece_cannot_judge_is_checked_whole(sparse, tmp_path, monkeypatch, change):
    data = sparse.read_bytes()
    middle = data.index(b"~\nST*", len(data) // 2)
    data = {"cut short": data[:middle + 300],
            "text after": data + b"thanks\n",
            "stray": data[:middle] + b"~\nREF*XX*1" + data[middle:],
            "white space": data[:middle] + b"~ \n" + data[middle + 2:],
            "padding": data[:middle] + b"~~\n" + data[middle + 2:]}[change]
    odd = tmp_path / "odd.edi"
    odd.write_bytes(data)
    assert_same([odd], monkeypatch, cut=False)


def test_trailing_line_breaks_are_ordinary(sparse, tmp_path, monkeypatch):
    odd = tmp_path / "odd.edi"
    odd.write_bytes(sparse.read_bytes() + b"\n\n")
    assert_same([odd], monkeypatch)


@pytest.mark.parametrize("path", SAMPLES + MALFORMED, ids=lambda p: p.name)
def test_samples_and_malformed_files_as_if_sparse(path, monkeypatch):
    """Every hostile file through this path: cut, or (whatever it holds that a piece
    cannot judge) checked whole, the reports one job's either way."""
    texts, _ = run([path], monkeypatch=monkeypatch)
    assert texts == one_job([path])


def test_check_jobs_2_cuts_a_sparse_file_at_sets(sparse, tmp_path, monkeypatch):
    """Worker processes: the pieces are read by them, the report is one job's."""
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    monkeypatch.setattr(parallel_check, "mostly_passed_over", lambda *args: True)
    monkeypatch.setattr(parallel_check, "worth_splitting", lambda *args: True)
    cuts = []
    cut_at_sets = parallel_check.cut_at_sets
    monkeypatch.setattr(parallel_check, "cut_at_sets",
                        lambda *args: cuts.append(cut_at_sets(*args)) or cuts[-1])
    texts = []
    for jobs in (1, 2):
        output = tmp_path / f"j{jobs}.json"
        result = CliRunner().invoke(main, ["check", str(sparse), "--jobs", str(jobs),
                                           "-o", str(output)])
        assert result.exit_code == 1, result.output
        texts.append(without_times(output.read_text()))
    assert texts[0] == texts[1]
    assert len(cuts) == 1 and len(cuts[0].counts) > 2
