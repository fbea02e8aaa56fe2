"""The fast path in the commands: `check`, `extract`, `fix` and `batch` give what
`--no-fast` (the full reader) gives; the patient history gets the same claims;
progress shows only where someone watches."""
import io
import json

import pytest
from click.testing import CliRunner
from fast_support import generated

from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine, fast_path_wanted
from edi837.progress import DELAY, Progress, wanted


@pytest.fixture
def runner():
    return CliRunner()


def check_file(path, fast: bool, history=None):
    engine = Engine(load_drug_table(), fast=fast, history=history)
    try:
        result = engine.check_file(path)
    finally:
        engine.close()
    return result


def file_result(result) -> dict:
    return {"findings": [repr(f) for f in result.findings], "claims": result.claims,
            "drug_lines": result.drug_lines, "transactions": result.transactions,
            "status": result.status, "sha256": result.sha256, "size": result.size}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["837P", "837I"])
@pytest.mark.parametrize("mix", [None, 0.02])
def test_check_file_gives_the_same_result(tmp_path, kind, mix):
    path = tmp_path / "in.edi"
    path.write_bytes(generated(kind, claims=1500, seed=21, defect_rate=0.3, drug_share=mix,
                               claims_per_st=300))
    full = file_result(check_file(path, fast=False))
    assert file_result(check_file(path, fast=True)) == full
    assert full["claims"] == 1500


def test_the_history_gets_the_same_claims_in_the_same_order(tmp_path, monkeypatch):
    """The records the history stage is given, fast and full: drug claims only,
    with their patient fields, in input order."""
    from edi837.history import stage

    seen = {}
    original = stage.HistoryStage.add_claim
    for fast in (False, True):
        calls = seen[fast] = []

        patients = {}  # each run keys patients with a key of its own: compare who is who

        def add_claim(self, claim, lines, patient, held, known, calls=calls, patients=patients):
            who = patients.setdefault(patient, len(patients))
            calls.append((repr(claim), [repr(line) for line in lines], who, held))
            return original(self, claim, lines, patient, held, known)

        monkeypatch.setattr(stage.HistoryStage, "add_claim", add_claim)
        path = tmp_path / "in.edi"
        path.write_bytes(generated(claims=600, seed=22, drug_share=0.05, defect_rate=0.5))
        check_file(path, fast=fast)
    assert seen[True] == seen[False] and len(seen[True]) > 10


def _json(runner, args):
    result = runner.invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    del report["run"]  # times, and the run's own id
    report["reference_data"].get("history", {}).pop("run_id", None)
    return report


@pytest.mark.slow
def test_check_json_is_the_same_with_and_without_no_fast(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("EDI837_FAST", raising=False)
    path = tmp_path / "in.edi"
    path.write_bytes(generated(claims=800, seed=23, drug_share=0.1, defect_rate=0.5))
    fast = _json(runner, ["check", str(path), "--format", "json"])
    full = _json(runner, ["check", str(path), "--format", "json", "--no-fast"])
    assert fast == full
    assert fast_path_wanted()  # --no-fast lasted only as long as its command


def test_extract_rows_are_the_same(runner, tmp_path):
    path = tmp_path / "in.edi"
    path.write_bytes(generated(claims=500, seed=24, drug_share=0.1))
    fast = runner.invoke(main, ["extract", str(path)])
    full = runner.invoke(main, ["extract", str(path), "--no-fast"])
    assert fast.exit_code == full.exit_code == 0
    assert fast.output == full.output and fast.output.count("\n") > 20


@pytest.mark.slow
def test_fix_split_is_the_same(runner, tmp_path):
    path = tmp_path / "in.edi"
    path.write_bytes(generated(claims=400, seed=25, drug_share=0.2, defect_rate=0.6))
    outputs = {}
    for option in ([], ["--no-fast"]):
        out = tmp_path / ("full" if option else "fast")
        result = runner.invoke(main, ["fix", str(path), "--out-dir", str(out), "--split",
                                      *option])
        assert result.exit_code in (0, 1), result.output
        outputs[bool(option)] = {p.name: p.read_bytes().replace(bytes(out), b"OUT")
                                 for p in sorted(out.iterdir()) if not p.name.endswith(".json")}
    assert outputs[True] == outputs[False]


def test_the_environment_chooses_the_reader(monkeypatch):
    monkeypatch.setenv("EDI837_FAST", "0")
    assert not fast_path_wanted() and not Engine(load_drug_table()).fast
    monkeypatch.setenv("EDI837_FAST", "1")
    assert fast_path_wanted() and fast_path_wanted(False) is False


# -- progress -----------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_waits_then_shows_bytes_rate_and_time_left_then_erases_itself():
    screen, clock = Terminal(), Clock()
    progress = Progress(100 << 20, "edi837 check", stream=screen, clock=clock)
    progress.advance(10 << 20)
    assert screen.getvalue() == ""  # short runs print nothing
    clock.now += DELAY + 1
    progress.advance(20 << 20)
    shown = screen.getvalue()
    assert "edi837 check: 30 of 100 MB, 10.0 MB/s, 7 s left" in shown
    progress.close()
    assert screen.getvalue().endswith("\r" + " " * len(shown.strip("\r")) + "\r")


def test_progress_only_on_a_terminal_and_never_with_quiet():
    assert not wanted(False, io.StringIO())  # a cron log, a pipe
    assert wanted(False, Terminal())
    assert not wanted(True, Terminal())
    piped = io.StringIO()
    progress = Progress(10, "x", enabled=wanted(False, piped), stream=piped, clock=Clock())
    progress._clock.now += 60
    progress.advance(5)
    progress.close()
    assert piped.getvalue() == ""


def test_commands_take_quiet(runner, tmp_path):
    path = tmp_path / "in.edi"
    path.write_bytes(generated(claims=20, seed=26))
    for command in (["check"], ["extract"], ["fix", "--out-dir", str(tmp_path / "out")]):
        result = runner.invoke(main, [*command, str(path), "--quiet"])
        assert result.exit_code in (0, 1), result.output
