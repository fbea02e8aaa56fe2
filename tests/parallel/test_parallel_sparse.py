"""`check --jobs N` and the fast path: a large file whose claims the fast path mostly
passes over is not cut at claims (that costs more than checking it): it is cut at
transaction sets (test_parallel_sets.py), or checked whole by one worker when its
pieces would be too small, as here; a dense one is still cut at claims; the reports
are one job's either way."""
import pytest
from click.testing import CliRunner
from test_parallel_check import SerialUnits, _table, generated, one_job, reports, without_times

from edi837.cli import main
from edi837.config import Config
from edi837.engine import Engine
from edi837.parallel import check as parallel_check
from edi837.parallel import density
from edi837.parallel.check import ParallelCheck
from edi837.parallel.keys import install
from edi837.parallel.work import CheckSettings


def run(path, *, remote=False, piece_size=20_000):
    """The report of --jobs over ``path`` (units checked here) and its units."""
    engine = Engine(_table(), Config())
    stage = engine.history
    executor = SerialUnits(CheckSettings((), engine.config, install(stage.keys.key),
                                         stage.persistent), remote)
    try:
        report = ParallelCheck(engine, executor, piece_size=piece_size).run([str(path)])
        return reports(report), executor.units
    finally:
        engine.close()


@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    return generated(tmp_path_factory.mktemp("sparse"), "sparse.edi", claims=1500,
                     drug_share=0.03, defect_rate=0.5, claims_per_st=300)


@pytest.mark.parametrize("remote", [False, True], ids=["driver", "worker scan"])
def test_a_sparse_file_is_checked_whole_with_the_fast_path(sparse, remote):
    texts, units = run(sparse, remote=remote)
    # one unit: the whole file (on a cluster the worker asked to cut it checks it)
    assert [(unit.piece, bool(unit.scan)) for unit in units] == [(None, remote)]
    assert texts == one_job([sparse])


@pytest.mark.parametrize("remote", [False, True], ids=["driver", "worker scan"])
def test_without_the_fast_path_a_sparse_file_is_still_cut(sparse, remote, monkeypatch):
    monkeypatch.setenv("EDI837_FAST", "0")  # as --no-fast: the workers' engines too
    texts, units = run(sparse, remote=remote)
    units = [unit for unit in units if not unit.scan]
    assert len(units) > 2 and all(unit.piece is not None for unit in units)
    assert texts == one_job([sparse])


def test_a_dense_file_is_still_cut(tmp_path):
    dense = generated(tmp_path, "dense.edi", claims=400, claims_per_st=100)
    assert not density.mostly_passed_over(str(dense), _table().drugs)
    texts, units = run(dense)
    assert len(units) > 2
    assert texts == one_job([dense])


def test_what_the_sample_tells(sparse, tmp_path, monkeypatch):
    codes = _table().drugs
    assert density.mostly_passed_over(str(sparse), codes)
    # CR LF line breaks and no line breaks: the same judgement
    data = sparse.read_bytes()
    for name, separator in (("crlf.edi", b"~\r\n"), ("flat.edi", b"~")):
        other = tmp_path / name
        other.write_bytes(data.replace(b"~\n", separator))
        assert density.mostly_passed_over(str(other), codes), name
    # a drug code of the table on every claim's line: dense
    dense = tmp_path / "table.edi"
    dense.write_bytes(data.replace(b"HC:99213", b"HC:J2350").replace(b"HC:99214", b"HC:J2350"))
    assert not density.mostly_passed_over(str(dense), codes)
    # too few claims in the sample to tell, or no ISA first: cut as before
    monkeypatch.setattr(density, "MIN_CLAIMS", 10_000)
    assert not density.mostly_passed_over(str(sparse), codes)
    monkeypatch.undo()
    junk = tmp_path / "junk.edi"
    junk.write_bytes(b"\xef\xbb\xbf" + data)
    assert not density.mostly_passed_over(str(junk), codes)
    assert not density.mostly_passed_over(str(tmp_path / "missing.edi"), codes)


def test_check_jobs_2_on_a_sparse_file_writes_the_report_of_jobs_1(sparse, tmp_path, monkeypatch):
    """Worker processes: the whole file goes to one of them, nothing is cut."""
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    cut = []
    monkeypatch.setattr(parallel_check, "read_and_cut",
                        lambda *args: cut.append(args) or None)  # never reached
    texts = []
    for jobs in (1, 2):
        output = tmp_path / f"j{jobs}.json"
        result = CliRunner().invoke(main, ["check", str(sparse), "--jobs", str(jobs),
                                           "-o", str(output)])
        assert result.exit_code == 1, result.output
        texts.append(without_times(output.read_text()))
    assert texts[0] == texts[1] and not cut
