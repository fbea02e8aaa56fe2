"""Operator trial 7b, item 5: `batch --help` says what a Dask worker needs (the inbox's
files, by path or URL), not that OUTDIR must be at the same path on every worker: the
workers never see it (README "Running on a cluster")."""
from click.testing import CliRunner

from edi837.cli import main


def test_batch_help_says_workers_never_see_outdir():
    text = " ".join(CliRunner().invoke(main, ["batch", "--help"]).output.split())
    assert "OUTDIR must be at the same paths" not in text
    assert "they never see OUTDIR" in text and "inbox URL" in text


def test_check_help_says_workers_reach_inputs_by_path_or_url():
    text = " ".join(CliRunner().invoke(main, ["check", "--help"]).output.split())
    assert "Workers need only reach the inputs" in text and "or a URL" in text
