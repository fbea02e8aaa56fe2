"""A year of nightly files, checked night by night with one history (issue #12,
"Done when"): every planted duplicate, out-of-schedule dose and over-maximum day
is found, and none of the replacements, voids, split doses and on-schedule
doses is flagged.  The corpus comes from `edi837 generate --nights`."""
import json
import secrets

import pytest
from batch_support import options
from click.testing import CliRunner
from pyx12check import pyx12_verdict

from edi837.batch import run_batch
from edi837.cli import main
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.history import HistoryStore


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("year")
    result = CliRunner().invoke(main, ["generate", "--nights", "365", "--seed", "12",
                                       "--out-dir", str(folder)])
    assert result.exit_code == 0, result.output
    return folder, json.loads((folder / "manifest.json").read_text())


def expected_and_found(manifest, found: dict) -> list[str]:
    """Mismatches between the manifest and the flagged rules found per (file, claim)."""
    rules = set(manifest["flagged_rules"])
    wrong = []
    for claim in manifest["claims"]:
        got = found.get((claim["file"], claim["claim_id"]), set()) & rules
        if got != set(claim["expect"]):
            wrong.append(f"{claim['file']} {claim['claim_id']} ({claim['event']}): expected "
                         f"{claim['expect']}, found {sorted(got)}")
    return wrong


def test_the_corpus_plants_every_kind_of_event(year):
    _, manifest = year
    events = {claim["event"] for claim in manifest["claims"]}
    assert events >= {"duplicate-next-night", "duplicate-same-night", "late-induction",
                      "early-maintenance", "over-maximum", "split-dose", "replacement",
                      "void", "void-rebill", "late-claim", "on-schedule"}
    assert sum(bool(claim["expect"]) for claim in manifest["claims"]) >= 30
    assert len(manifest["files"]) > 100


def test_night_by_night_with_one_store_finds_exactly_what_was_planted(year, tmp_path):
    folder, manifest = year
    table = load_drug_table()
    store = HistoryStore.open(tmp_path / "history.sqlite3", secrets.token_bytes(32))
    found: dict = {}
    for name in manifest["files"]:  # one run a night, as a clearinghouse does
        engine = Engine(table, history=store)
        for finding in engine.check_file(folder / name).findings:
            found.setdefault((name, finding.claim_id), set()).add(finding.rule)
    store.close()
    assert expected_and_found(manifest, found) == []


def test_batch_judges_the_year_the_same_with_two_jobs(year, tmp_path):
    folder, manifest = year
    opts = options(tmp_path, settle=0.0, jobs=2)
    for name in manifest["files"]:  # taken in name order: night order
        (opts.inbox / name).write_bytes((folder / name).read_bytes())
    run_batch(opts)
    found: dict = {}
    for run in (opts.out).iterdir():
        for report in run.glob("files/*/report.json"):
            document = json.loads(report.read_text())
            for finding in document["files"][0]["findings"]:
                name = report.parent.name
                found.setdefault((name, finding["claim_id"]), set()).add(finding["rule"])
    assert expected_and_found(manifest, found) == []


def test_nightly_files_are_valid_837(year):
    folder, manifest = year
    for name in manifest["files"][:3]:
        ok, output = pyx12_verdict(folder / name)
        assert ok, output


def test_generate_drug_share_makes_a_nightly_mix(tmp_path):
    import io

    from edi837.generator import generate

    dense, sparse = io.StringIO(), io.StringIO()
    dense_stats = generate(dense, claims=2000, seed=3)
    sparse_stats = generate(sparse, claims=2000, seed=3, drug_share=0.02)
    assert dense_stats["drug_lines"] > 1000
    assert 10 <= sparse_stats["drug_lines"] <= 120  # about 2% of 2,000 claims
