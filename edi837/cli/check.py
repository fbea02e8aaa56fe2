"""`edi837 check`: the billing rules over the drug lines, and the reports."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..entry import started
from .ack import Acknowledger, ack277_option
from .history import (
    NEW_STORE,
    begin_history_run,
    commit_history_or_exit,
    history_options,
    open_history_or_exit,
)
from .parallel import check_parallel_options, parallel_options, run_parallel
from .support import (
    EXIT_TROUBLE,
    Location,
    complain,
    input_files,
    load_config_or_exit,
    load_table_or_exit,
    local_inputs_only,
    no_fast_option,
    notice_unmatched_profiles,
    quiet_option,
    refuse_outputs_in_input_folders,
    refuse_outputs_over_inputs,
    report_options,
    report_reader_errors,
    report_targets,
    write_reports,
)

# Inputs (bytes) up to which a --jobs/--dask run with a lasting history leaves hashing to
# the workers (their results are held until every hash is in); past it the driver hashes
# them first, so its memory does not grow with the run.
WORKERS_HASH_UP_TO = 64 << 20


@click.command()
@click.argument("paths", nargs=-1, required=True, type=Location())
@report_options
@click.option("--validate", "ig_validate", is_flag=True,
              help="Also validate against the 5010 implementation guide with pyx12 "
                   "(IGH/IGS/IGE findings; slow, about 0.2 MB/s).")
@history_options
@ack277_option
@parallel_options
@no_fast_option
@quiet_option
def check(paths: tuple[Path, ...], fmt: str, outputs: tuple[str, ...], select: str | None,
          ignore: str | None, min_severity: str | None, drug_tables: tuple[Path, ...],
          config_path: str | None, refdata: Path | None, ig_validate: bool,
          history_path: str | None, history_key: str | None, history_days: int | None,
          ack277_dir: Path | None, jobs: int, dask_address: str | None, insecure: bool,
          work_dir: Path | None, quiet: bool) -> None:
    """Check the drug lines of the 837 files and folders PATHS against the billing rules.

    The files are one run: claims are judged against each other in the order
    given (folders sorted), and with --history against earlier runs too.
    With --jobs N or --dask, files and pieces of large files are checked in
    parallel; the report is the same as with one job.

    Exit status: 0 no error finding, 1 error findings, 2 a file could not be
    read or the command was misused.
    """
    from ..engine import Engine
    from ..history import HistoryStoreError
    from ..progress import Progress, total_size, wanted

    check_parallel_options(jobs, dask_address, insecure)
    table = load_table_or_exit(drug_tables, refdata)
    config = load_config_or_exit(config_path, select, ignore, table)
    inputs = input_files(paths)
    refuse_outputs_over_inputs(outputs, inputs)
    refuse_outputs_in_input_folders(outputs, paths)
    local_inputs_only(inputs, ack277_dir is not None and "--ack277")
    report_targets(fmt, outputs)  # an -o whose extension names no format: exit 2 now
    store = open_history_or_exit(history_path, history_key, history_days)
    if store is not None:  # closed however the command ends: uncommitted, rolled back
        click.get_current_context().call_on_close(store.close)
    engine = Engine(table, config, history=store)
    started()  # the tables and the engine live for the run (edi837.entry.started)
    acks, acknowledged = None, []
    if ack277_dir is not None:  # the 999s first: a set one rejects is sent again, so the
        # history keeps none of its claims
        acks = Acknowledger(ack277_dir, config.acknowledgments)
        acknowledged = acks.start(inputs)
        engine.not_forwarded = {str(p): acks.run.rejected_by_999(p) for p in acknowledged}
    # bytes read, drawn by this process (workers of --jobs/--dask read elsewhere: no bar)
    one_job = jobs == 1 and dask_address is None
    size = total_size(inputs)
    engine.progress = Progress(size, "edi837 check", enabled=one_job and wanted(quiet))
    # --jobs/--dask with a lasting history: the workers' hashes take the inputs' earlier
    # lines out, but every file's result waits for all of them; past WORKERS_HASH_UP_TO
    # bytes of input that would grow the driver's memory with the run: hashed here first
    workers_hash = store is not None and not one_job and size <= WORKERS_HASH_UP_TO
    pruned = 0
    try:
        if store is not None:  # the run holds the store: committed whole, or not at all
            # (committed once the reports are out, below), its prune with it
            pruned = begin_history_run(store, history_days)
        if store is not None and not workers_hash:
            # files checked before come out of the history before any is judged again
            # (--jobs/--dask on a small run: by the hashes the workers make,
            # edi837.parallel.check)
            engine.take_out_rechecked(inputs)
        if one_job:
            report = engine.run(inputs)
        else:
            report = run_parallel(engine, inputs, jobs=jobs, dask=dask_address,
                                  insecure=insecure, work_dir=work_dir,
                                  drug_tables=drug_tables, take_out=workers_hash)
    except HistoryStoreError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    finally:
        engine.progress.close()
        engine.close()
    del engine  # the engine's caches go before the reports
    report.held_outside_of = _held_outside  # the summary names what they hold
    notice_unmatched_profiles(report, config)
    if store is not None and store.created:  # said on stderr when opened; kept in the report
        report.notices.append(NEW_STORE.format(path=history_path))
    if ig_validate:
        from ..validate import add_validation

        add_validation(report, config)
    write_reports(report, fmt, outputs, min_severity, announce=True)
    for result in report.files:
        if result.status == "unreadable":
            report_reader_errors(result)
    status = report.exit_status()
    if acks is not None:  # claims with error findings rejected, the rest accepted
        from ..validate import ack_path

        readable = {Path(r.path): r for r in report.files if r.status != "unreadable"}
        for path in acknowledged:
            if path in readable:
                acks.acknowledge(path, readable[path].findings)
            else:  # an unreadable file is acknowledged by neither
                ack_path(path, ack277_dir).unlink(missing_ok=True)
        status = max(status, acks.status)
    # a run killed before this point has not happened (nor has its prune)
    commit_history_or_exit(store, pruned=pruned, days=history_days,
                           read_any=any(r.status != "unreadable" for r in report.files))
    sys.exit(status)


def _held_outside(result) -> list[str]:
    """edi837.fix.forwarded.held_outside_charges, imported when a file needs it."""
    from ..fix.forwarded import held_outside_charges

    return held_outside_charges(result)
