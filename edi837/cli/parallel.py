"""The parallel options of `check` (--jobs, --dask, --insecure, --work-dir): thin."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .support import EXIT_TROUBLE, complain


def parallel_options(function):
    options = [
        click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Check files, and pieces of large files, in this many worker "
                          "processes; the report is the same as with one."),
        click.option("--dask", "dask_address", metavar="ADDRESS",
                     help="Check on a Dask cluster: tls://HOST:PORT, tcp://HOST:PORT (this "
                          "machine only, unless --insecure), local or local:N. Workers "
                          "need only reach the inputs (the same path on every host, or a "
                          "URL); findings come back in their results."),
        click.option("--insecure", is_flag=True,
                     help="Allow --dask tcp:// to a scheduler on another machine (findings "
                          "travel unencrypted)."),
        click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path),
                     hidden=True,  # accepted for old scripts: workers write no files now
                     help="No longer used: workers hand their findings back in their "
                          "results, writing no handover files."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def check_parallel_options(jobs: int, dask: str | None, insecure: bool) -> None:
    """Refuse what cannot or must not run, before any work: exit 2."""
    if dask is None:
        if insecure:
            complain("--insecure applies only to --dask tcp://")
            sys.exit(EXIT_TROUBLE)
        return
    if jobs != 1:
        complain("--jobs and --dask: choose one (a cluster's workers are its own)")
        sys.exit(EXIT_TROUBLE)
    from ..parallel.cluster import ClusterError, check_address, require_dask

    try:
        check_address(dask, insecure)
        require_dask()
    except ClusterError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)


def run_parallel(engine, inputs, **options):
    """The report of `check --jobs/--dask`; a cluster or worker problem: exit 2."""
    from ..parallel.check import check_files
    from ..parallel.cluster import ClusterError
    from ..workers import WorkerLost

    try:
        return check_files(engine, [str(p) for p in inputs], **options)
    except (ClusterError, WorkerLost) as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        complain(f"cannot read{where}: {exc.strerror or exc}")
        sys.exit(EXIT_TROUBLE)
