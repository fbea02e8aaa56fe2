"""`file://` URLs are local paths read through fsspec (README "Files by URL"): a folder
URL is searched as the folder is, `-o file://...` writes the report there, and the
findings are the ones the plain paths give (the audit of 7 December: claimed in the
README, never tested)."""
import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi837.cli import main

pytest.importorskip("fsspec", reason="fsspec (pip install 'edi837[s3]')")
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def run(*args: str) -> None:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code in (0, 1), done.output


def findings(report: Path) -> list[tuple]:
    return sorted((Path(entry["path"]).name, f["rule"], f["severity"], f.get("claim_id"),
                   f["segment_index"], f["message"])
                  for entry in json.loads(report.read_text())["files"]
                  for f in entry["findings"])


def test_check_of_a_folder_url_writes_a_url_and_finds_what_the_path_finds(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("837p-j2350-defects.edi", "837i-j2350-defects.edi"):
        shutil.copy(SAMPLES / name, folder / name)
    run("check", str(folder), "--format", "json", "-o", str(tmp_path / "by-path.json"))
    run("check", folder.as_uri() + "/", "--format", "json",
        "-o", (tmp_path / "by-url.json").as_uri())
    by_path, by_url = findings(tmp_path / "by-path.json"), findings(tmp_path / "by-url.json")
    assert by_url == by_path and len({f[0] for f in by_url}) == 2
    # a file:// URL is a local path: the report names the file by its path
    assert json.loads((tmp_path / "by-url.json").read_text())["files"][0]["path"] == \
        str(folder / "837i-j2350-defects.edi")


def test_extract_of_a_file_url_gives_the_paths_rows(tmp_path):
    source = SAMPLES / "837p-mixed-drugs.edi"
    run("extract", str(source), "-o", str(tmp_path / "by-path.csv"))
    run("extract", source.as_uri(), "-o", (tmp_path / "by-url.csv").as_uri())

    def rows(path: Path) -> list[dict]:
        with path.open(newline="") as handle:
            return [{k: v for k, v in row.items() if k not in ("file", "path")}
                    for row in csv.DictReader(handle)]

    assert rows(tmp_path / "by-url.csv") == rows(tmp_path / "by-path.csv")
    assert len(rows(tmp_path / "by-path.csv")) > 1
