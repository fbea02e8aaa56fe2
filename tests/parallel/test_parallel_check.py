"""`check --jobs N`: files cut into pieces give the report of one job, byte for byte.

Most tests cut at every place the driver may cut (a piece size of one byte),
so each CLM and HL boundary of a file is a piece's edge once, and check the
pieces in this process (the worker's own function, no pool) to keep them fast;
one test runs the real command with worker processes.
"""
import io
import re
from concurrent.futures import Future
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main
from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.generator import generate
from edi837.parallel import check as parallel_check
from edi837.parallel import shards, work
from edi837.parallel.check import ParallelCheck
from edi837.parallel.keys import install
from edi837.parallel.work import CheckSettings
from edi837.reports import load_writers

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.edi"))
MALFORMED = sorted(p for p in (ROOT / "tests/data/malformed").iterdir() if p.suffix != ".md")
FORMATS = ("json", "text", "csv", "xml", "annotated", "html")


class SerialUnits:
    """The executor members, each unit checked when submitted, in this process."""

    slots = 2

    def __init__(self, settings: CheckSettings, remote: bool = False) -> None:
        self.settings = settings
        self.remote = remote  # as a cluster: workers read and cut the large files
        self.units = []
        self.judged = []  # each shard's files that had its patients

    def submit(self, unit):
        self.units.append(unit)
        future = Future()
        future.set_result(work.check_unit(self.settings, unit))
        return future

    def judge(self, run_id, files, index):
        """A shard of the run's own history (edi837.parallel.shards), judged here."""
        self.judged.append([file[0] for file in files if any(file[4])])
        future = Future()
        future.set_result(shards.judge_shard(self.settings, run_id, files))
        return future

    def wait(self, futures):
        return None

    def result(self, future):
        return future.result()


def _table():
    return load_drug_table([])


def without_times(text: str) -> str:
    """A report without the run's timestamps (the only thing allowed to differ)."""
    text = re.sub(r'"run": \{[^}]*\}', '"run": {}', text)
    text = re.sub(r'(started|finished|seconds)="[^"]*"', r'\1=""', text)
    text = re.sub(r"\(\d+(\.\d+)? s\)", "(S s)", text)
    text = re.sub(r'"seconds">[^<]*<', '"seconds"><', text)
    return re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\+00:00|Z| UTC)?", "TIME", text)


def reports(report) -> dict[str, str]:
    writers = load_writers()
    report.started = report.finished = 1.8e9  # the run's times are not compared
    texts = {}
    for fmt in FORMATS:
        out = io.StringIO()
        writers[fmt](report, out)
        texts[fmt] = without_times(out.getvalue())
    return texts


def one_job(paths, config=None):
    engine = Engine(_table(), config or Config())
    try:
        return reports(engine.run(paths))
    finally:
        engine.close()


def in_pieces(paths, config=None, piece_size=1, tmp_path=None, remote=False):
    """The report with files cut everywhere; also how many units each file became
    (``remote``: cut by a worker's scan, as on a cluster, not by the driver)."""
    engine = Engine(_table(), config or Config())
    stage = engine.history
    executor = SerialUnits(CheckSettings((), engine.config, install(stage.keys.key),
                                         stage.persistent), remote)
    try:
        report = ParallelCheck(engine, executor, piece_size=piece_size).run(
            [str(p) for p in paths])
        units = {}
        for unit in executor.units:
            if not unit.scan:
                units[unit.path] = units.get(unit.path, 0) + 1
        return reports(report), units
    finally:
        engine.close()


def assert_same(paths, tmp_path, config=None, *, split=True, remote=False):
    whole = one_job(paths, config)
    pieces, units = in_pieces(paths, config, tmp_path=tmp_path, remote=remote)
    for fmt in FORMATS:
        assert pieces[fmt] == whole[fmt], fmt
    if split:
        assert max(units.values()) > 2, units  # it was cut, more than once


def generated(tmp_path, name="gen.edi", **options) -> Path:
    out = io.StringIO(newline="")
    options.setdefault("claims", 60)
    generate(out, options.pop("kind", "837P"), seed=options.pop("seed", 3),
             defect_rate=options.pop("defect_rate", 0.3), **options)
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode("latin-1"))
    return path


# -- the samples and the malformed files ------------------------------------------------------
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_each_sample_in_pieces_gives_the_whole_files_reports(path, tmp_path):
    assert_same([path], tmp_path, split=len(path.read_bytes()) > 3000)


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_each_malformed_file_in_pieces_gives_the_whole_files_reports(path, tmp_path):
    assert_same([path], tmp_path, split=False)


@pytest.mark.parametrize("remote", [False, True], ids=["driver-cuts", "worker-cuts"])
def test_samples_and_malformed_files_as_one_run(tmp_path, remote):
    """The history across files, in the order given, is the same."""
    assert_same(SAMPLES + MALFORMED + SAMPLES[:2], tmp_path, remote=remote)


# -- generated files of every shape ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["837P", "837I"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", ""])
def test_generated_both_kinds_every_line_break(kind, newline, tmp_path):
    assert_same([generated(tmp_path, kind=kind, newline=newline, claims_per_st=25)], tmp_path)


def test_one_huge_transaction_set_still_splits(tmp_path):
    path = generated(tmp_path, claims=120, claims_per_st=10_000)
    assert path.read_bytes().count(b"\nST*") == 1
    assert_same([path], tmp_path)


def test_several_interchanges_and_odd_delimiters(tmp_path):
    first = generated(tmp_path, "a.edi", seed=1, claims_per_st=20).read_bytes()
    second = generated(tmp_path, "b.edi", seed=2, kind="837I", terminator="!",
                       newline="").read_bytes()
    # another element separator and component separator in the second interchange
    second = second.replace(b"*", b"|").replace(b":", b">")
    path = tmp_path / "several.edi"
    path.write_bytes(first + second + first)
    assert_same([path], tmp_path)


@pytest.mark.parametrize("remote", [False, True], ids=["driver-cuts", "worker-cuts"])
def test_truncated_file(tmp_path, remote):
    data = generated(tmp_path, claims_per_st=15).read_bytes()
    path = tmp_path / "cut.edi"
    path.write_bytes(data[:len(data) * 2 // 3])
    assert_same([path], tmp_path, remote=remote)


def test_stray_segments_and_text_after_the_last_interchange(tmp_path):
    data = generated(tmp_path, claims_per_st=15).read_bytes()
    data = data.replace(b"SE*", b"NTE*ADD*STRAY~\nSE*", 1)
    at = data.index(b"\nST*", data.index(b"\nSE*")) + 1
    data = data[:at] + b"REF*EA*STRAY1~\nREF*EA*STRAY2~\n" + data[at:]  # between SE and ST
    path = tmp_path / "stray.edi"
    path.write_bytes(data + b"\n-- sent from my clearinghouse --\n")
    assert_same([path], tmp_path)


def test_hl_out_of_order_and_wrong_counts(tmp_path):
    data = generated(tmp_path, claims_per_st=30).read_bytes()
    hls = [m.start() for m in re.finditer(rb"\nHL\*", data)]
    for at in (hls[5], hls[17], hls[40]):  # a wrong HL01, then everything after it is off
        end = data.index(b"*", at + 4)
        data = data[:at + 4] + b"9" + data[end:]
    data = data.replace(b"\nSE*", b"\nSE*1", 1).replace(b"\nGE*", b"\nGE*7", 1)
    path = tmp_path / "hl.edi"
    path.write_bytes(data)
    assert_same([path], tmp_path)


def test_padding_blank_lines_and_a_byte_order_mark(tmp_path):
    data = generated(tmp_path, claims_per_st=20).read_bytes()
    data = b"\xef\xbb\xbf" + data.replace(b"~\nCLM", b"~~\n\n  CLM", 7)
    path = tmp_path / "odd.edi"
    path.write_bytes(data)
    assert_same([path], tmp_path)


def test_configuration_select_and_severity(tmp_path):
    path = generated(tmp_path, claims_per_st=20)
    config = Config().with_selection(("EDI", "NDC", "HIS", "UNT"), ("EDI006",))
    assert_same([path, path], tmp_path, config)


# -- when a piece cannot be used ---------------------------------------------------------------
def test_a_piece_that_does_not_hold_what_was_counted_makes_the_file_checked_whole(
        tmp_path, monkeypatch):
    path = generated(tmp_path, claims_per_st=20)
    real = work.check_unit

    def check_unit(settings, unit):
        if unit.piece is not None and unit.piece.number == 3:
            return {"mismatch": True}
        return real(settings, unit)

    monkeypatch.setattr(work, "check_unit", check_unit)
    whole = one_job([path])
    pieces, units = in_pieces([path], tmp_path=tmp_path)
    assert pieces == whole
    assert units[str(path)] > 4  # the pieces, then the file whole


def test_edi837_failing_on_a_claim_gives_the_same_edi008_report(tmp_path, monkeypatch):
    path = generated(tmp_path, claims_per_st=20)
    real = Engine.check_claim

    def check_claim(self, claim, findings, **options):
        if claim.claim_id.endswith("0000031"):
            raise RuntimeError("a rule's bug")
        return real(self, claim, findings, **options)

    monkeypatch.setattr(Engine, "check_claim", check_claim)
    whole = one_job([path])
    assert "EDI008" in whole["text"]
    pieces, _ = in_pieces([path], tmp_path=tmp_path)
    assert pieces == whole


def test_a_file_changed_after_the_driver_read_it_is_checked_whole(tmp_path, monkeypatch):
    path = generated(tmp_path, claims_per_st=20)
    scan = ParallelCheck._scan

    def scan_then_touch(self, file):
        scan(self, file)
        import os

        os.utime(path, ns=(1, 1))  # a new version, as far as the pieces can tell

    monkeypatch.setattr(ParallelCheck, "_scan", scan_then_touch)
    whole = one_job([path])
    pieces, units = in_pieces([path], tmp_path=tmp_path)
    assert pieces == whole


def test_a_file_changed_after_a_workers_scan_is_checked_whole(tmp_path, monkeypatch):
    """On a cluster a worker cuts the file; it changes before its pieces are read."""
    path = generated(tmp_path, claims_per_st=20)
    real = work.scan_unit

    def scan_then_touch(settings, unit):
        facts = real(settings, unit)
        import os

        os.utime(path, ns=(1, 1))  # a new version, as far as the pieces can tell
        return facts

    monkeypatch.setattr(work, "scan_unit", scan_then_touch)
    whole = one_job([path])
    pieces, units = in_pieces([path], tmp_path=tmp_path, remote=True)
    assert pieces == whole
    assert units[str(path)] > 2  # pieces were sent, then the file whole


def test_a_worker_that_cannot_read_an_input_is_a_cluster_problem(tmp_path, monkeypatch):
    """On a cluster: ClusterError naming the file and the worker (never checked as
    changed or unreadable); with local workers the driver checks it as one job would."""
    from edi837.parallel.cluster import ClusterError

    path = generated(tmp_path, claims_per_st=20)
    real = work.open_input

    def elsewhere(location):
        if location == str(path):
            raise FileNotFoundError(2, "No such file or directory", location)
        return real(location)

    monkeypatch.setattr(work, "open_input", elsewhere)
    engine = Engine(_table(), Config())
    stage = engine.history
    settings = CheckSettings((), engine.config, install(stage.keys.key), stage.persistent)
    try:
        with pytest.raises(ClusterError) as caught:
            ParallelCheck(engine, SerialUnits(settings, remote=True)).run([str(path)])
        assert str(path) in str(caught.value) and "No such file" in str(caught.value)
        assert "worker process" in str(caught.value)  # the worker, named
        local = ParallelCheck(engine, SerialUnits(settings), piece_size=1).run([str(path)])
    finally:
        engine.close()
    assert reports(local) == one_job([path])


def test_small_files_are_not_split(tmp_path):
    path = generated(tmp_path, claims_per_st=20)
    engine = Engine(_table(), Config())
    executor = SerialUnits(CheckSettings((), engine.config, install(engine.history.keys.key),
                                         False))
    ParallelCheck(engine, executor).run([str(path)])
    engine.close()
    assert [u.piece for u in executor.units] == [None]


# -- the command -------------------------------------------------------------------------------
def test_check_jobs_2_writes_the_reports_of_jobs_1(tmp_path, monkeypatch):
    """Worker processes, pieces of a few kilobytes, every report format."""
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    paths = [generated(tmp_path, "a.edi", claims=150, claims_per_st=40),
             SAMPLES[0], generated(tmp_path, "b.edi", kind="837I", claims=100, seed=9)]
    texts = {}
    for jobs in (1, 2):
        outputs = [str(tmp_path / f"j{jobs}.{ext}") for ext in
                   ("json", "txt", "csv", "xml", "annotated.txt", "html")]
        args = ["check", *map(str, paths), "--jobs", str(jobs)]
        for output in outputs:
            args += ["-o", output]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        texts[jobs] = [without_times(Path(o).read_text()) for o in outputs]
    assert texts[1] == texts[2]


def test_check_jobs_2_with_a_lasting_history(tmp_path, monkeypatch):
    """Claims judged against earlier runs (HIS rules) the same way, and the store
    holds the same lines afterwards."""
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    first = generated(tmp_path, "first.edi", claims=120, seed=4)
    second = generated(tmp_path, "second.edi", claims=120, seed=4, defect_rate=0.5)
    outputs = {}
    for jobs in (1, 2):
        store = tmp_path / f"history{jobs}.sqlite3"
        for night, path in enumerate((first, second)):
            report = tmp_path / f"r{jobs}-{night}.json"
            result = CliRunner().invoke(main, ["check", str(path), "--jobs", str(jobs),
                                               "--history", str(store), "-o", str(report)])
            assert result.exit_code in (0, 1), result.output
        # the report names its store (reference data): the stores differ by name only
        outputs[jobs] = without_times(report.read_text()).replace(str(store), "STORE")
    assert outputs[1] == outputs[2]
    assert "HIS001" in outputs[1]  # the second night resends claims of the first


@pytest.mark.parametrize("args, message", [
    (["--dask", "tcp://10.0.0.5:8786"], "unencrypted"),
    (["--dask", "tcp://192.168.1.20:8786"], "--insecure"),
    (["--insecure"], "only to --dask"),
    (["--jobs", "2", "--dask", "local"], "choose one"),
    (["--dask", "udp://host:1"], "tls://HOST:PORT"),
    (["--dask", "local:zero"], "local:N"),
])
def test_parallel_options_typed_wrong_exit_2_with_a_message(args, message):
    result = CliRunner().invoke(main, ["check", str(SAMPLES[0]), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_dask_missing_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    result = CliRunner().invoke(main, ["check", str(SAMPLES[0]), "--dask", "local"])
    assert result.exit_code == 2
    assert "pip install 'edi837[dask]'" in result.output


@pytest.mark.parametrize("args, message", [
    (["--dask", "tcp://10.0.0.5:8786"], "unencrypted"),
    (["--jobs", "2", "--dask", "local"], "choose one"),
    (["--insecure"], "only to --dask"),
])
def test_batch_parallel_options_typed_wrong_exit_2(tmp_path, args, message):
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "inbox"), "--out",
                                       str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow  # the client tries for 20 seconds
def test_check_dask_scheduler_unreachable_exit_2(tmp_path):
    pytest.importorskip("distributed")
    result = CliRunner().invoke(main, ["check", str(SAMPLES[0]), "--dask",
                                       "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "cluster error: --dask" in result.output
    assert "cannot connect to the scheduler" in result.output


# -- every place a chunk of the driver's read may end ------------------------------------------
def _segment_ends(data: bytes) -> list[int]:
    """Offsets just past each segment terminator (and its line break)."""
    ends, at = [], data.find(b"~")
    while at >= 0:
        end = at + 1
        while data[end:end + 1] in (b"\r", b"\n"):
            end += 1
        ends.append(end)
        at = data.find(b"~", at + 1)
    return ends


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["837P", "837I"])
def test_a_read_chunk_ending_at_every_segment_boundary_or_inside_a_segment(
        kind, tmp_path, monkeypatch):
    """The driver reads the file in chunks: wherever one ends (after any segment, an
    SV1 or SV2 among them, or inside one), the pieces give the --jobs 1 reports (no
    EDI007 "outside any claim" made up at a chunk's end, no claim held for it)."""
    from edi837.x12 import reader as x12_reader

    path = generated(tmp_path, kind=kind, claims=3, claims_per_st=2, defect_rate=0.5)
    data = path.read_bytes()
    whole = one_job([path])
    ends = _segment_ends(data)
    places = sorted(set(ends) | {(a + b) // 2 for a, b in zip(ends, ends[1:], strict=False)})
    head = 4  # the reader reads four bytes first, then chunks of CHUNK_SIZE
    wrong, cuts = [], []
    for place in places:
        size = place - head
        if size < 120:  # the ISA and its delimiters come in the first chunk or two
            continue
        monkeypatch.setattr(x12_reader, "CHUNK_SIZE", size)
        pieces, units = in_pieces([path], tmp_path=tmp_path)
        cuts.append(units[str(path)])
        if pieces != whole:
            wrong.append(place)
    assert min(cuts) > 2, cuts  # the file was cut, whatever the chunks
    assert not wrong, f"chunks ending at {wrong} change the report"


def test_workers_in_another_folder_read_relative_inputs(tmp_path, monkeypatch):
    """A worker (a cluster's, say) runs in another folder: it is given absolute paths,
    and the report still names each file as given."""
    monkeypatch.chdir(tmp_path)
    path = generated(tmp_path, claims_per_st=20)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    whole = one_job(["gen.edi"])

    class Elsewhere(SerialUnits):
        def submit(self, unit):
            monkeypatch.chdir(elsewhere)
            try:
                return super().submit(unit)
            finally:
                monkeypatch.chdir(tmp_path)

    engine = Engine(_table(), Config())
    stage = engine.history
    executor = Elsewhere(CheckSettings((), engine.config, install(stage.keys.key),
                                       stage.persistent))
    try:
        report = ParallelCheck(engine, executor, piece_size=1).run(["gen.edi"])
    finally:
        engine.close()
    assert len(executor.units) > 2 and all(Path(u.path).is_absolute() for u in executor.units)
    assert reports(report) == whole
    assert path.exists() and "gen.edi:" in whole["text"]


@pytest.mark.slow
def test_each_hostile_corpus_file_in_pieces_gives_the_whole_files_reports(tmp_path):
    """The hostile corpus cut before every CLM and HL: a terminator inside the ISA (a
    space), a bad segment id or lines outside any claim in a piece's context (reported
    once, by the piece whose own segments hold them), and the rest."""
    import hostile_corpus

    wrong = []
    for path in hostile_corpus.build(tmp_path / "corpus", large=False):
        if path.stat().st_size > 200_000:
            continue
        whole = one_job([path])
        pieces, _ = in_pieces([path], tmp_path=tmp_path)
        if pieces != whole:
            wrong.append(path.name)
    assert wrong == []


def _submitters_per_set(path: Path) -> Path:
    """Each transaction set of ``path`` from a submitter of its own (1000A NM109 S<n>)."""
    text = path.read_bytes().decode("latin-1")
    parts = text.split("NM1*41*2*SYNTHETIC CLAIMS SUBMITTER*****46*EDI837SYN")
    assert len(parts) > 2
    text = parts[0] + "".join(f"NM1*41*2*SUBMITTER {n}*****46*S{n}" + part
                              for n, part in enumerate(parts[1:], 1))
    path.write_bytes(text.encode("latin-1"))
    return path


def test_the_submitter_of_each_set_reaches_the_html_rows_in_pieces_and_whole(tmp_path):
    """The HTML work list names each claim's submitter (1000A) the same with --jobs 2
    as with one job: the pieces carry the driver's map of sets to submitters."""
    path = _submitters_per_set(generated(tmp_path, claims=120, claims_per_st=20))
    whole = one_job([path])
    pieces, units = in_pieces([path], tmp_path=tmp_path)
    assert units[str(path)] > 2 and pieces["html"] == whole["html"]
    rows = re.search(r'id="worklist-rows">(.*?)</script>', whole["html"]).group(1)
    assert {f'"S{n}"]' for n in range(1, 7)} <= set(re.findall(r'"S\d+"\]', rows))


def test_check_jobs_2_gives_the_same_html_rows_and_submitters(tmp_path, monkeypatch):
    path = _submitters_per_set(generated(tmp_path, claims=400, claims_per_st=50))
    monkeypatch.setattr(parallel_check, "PIECE_SIZE", 20_000)  # cut in pieces
    pages = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.html"
        result = CliRunner().invoke(main, ["check", "--jobs", jobs, "-o", str(out),
                                           str(path)])
        assert result.exit_code in (0, 1), result.output
        pages.append(re.search(r'id="worklist-rows">(.*?)</script>',
                               out.read_text(encoding="utf-8")).group(1))
    assert pages[0] == pages[1] and '"S8"]' in pages[0]
