"""The `edi837` program's entry point: the click commands, with a last line of defence.

Exit status 1 means "claims have error findings", and nightly jobs alert on 2 only
(README: Exit status).  Python ends an uncaught exception with status 1, so a broken
install or a bug would pass for a night of ordinary findings.  Everything the commands
do not handle themselves is caught here, before anything else is imported, and ends
the run with one line on stderr and status 2; the traceback follows only with
``--debug`` or ``EDI837_DEBUG=1``.
"""
from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

EXIT_TROUBLE = 2
DEBUG_ENV = "EDI837_DEBUG"
PACKAGE_DIR = Path(__file__).resolve().parent
_starting = False  # the program's start-up is running with the cyclic collector off
GC_THRESHOLD = (10_000, 10, 10)  # the collector's thresholds once start-up is done


def debugging(args: list[str]) -> bool:
    """``--debug`` among the options before the command, or EDI837_DEBUG=1."""
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        return True
    for arg in args:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False  # the command's own arguments start here
    return False


def describe(exc: BaseException) -> str:
    """The one line that stands for an exception nothing else handled."""
    from . import DataFileError

    if isinstance(exc, DataFileError):
        return f"broken install: {exc}; reinstall edi837"
    missing = getattr(exc, "filename", None)
    if isinstance(exc, OSError) and missing:
        try:
            inside = Path(missing).resolve().is_relative_to(PACKAGE_DIR)
        except (OSError, ValueError, TypeError):
            inside = False
        if inside:
            return (f"broken install: cannot read {missing} ({exc.strerror or exc}); "
                    "reinstall edi837")
    gone = getattr(sys.modules.get("edi837.pgdb"), "StoreGone", None)
    if gone is not None and isinstance(exc, gone):  # a PostgreSQL store's server went away
        return str(exc)  # (mid-run: its message says what was lost and what to do)
    wrong_rule = getattr(sys.modules.get("edi837.rules"), "RuleDefinitionError", None)
    if wrong_rule is not None and isinstance(exc, wrong_rule):  # a contributor's new rule
        return f"a rule cannot be registered: {exc}"
    if isinstance(exc, (ImportError, SyntaxError)):
        return (f"broken install: {type(exc).__name__}: {exc}; reinstall edi837")
    text = str(exc).replace("\n", " ").replace("\r", " ")
    return f"internal error {type(exc).__name__}: {text} (a bug in edi837, please report it)"


def started() -> None:
    """The command's start-up is done (edi837.cli's group says so, or a command that loads
    more first: check, once its tables and engine are made).  What start-up made lives
    for the run: it is frozen out of the cyclic collector's sight, which is turned on.

    The youngest generation is then collected every 10,000 allocations rather than 700:
    a dense file's claims, lines and findings are made by the hundred thousand and live
    a claim or a shape cache's time, so the default collects them over and over while
    they are alive (GC_THRESHOLD; benchmarks/results/dense.md, round 4)."""
    global _starting
    if _starting:
        _starting = False
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLD)
        gc.enable()


def main(args: list[str] | None = None) -> None:
    """Run the command line; never end with an uncaught exception's status.

    Run as the program (``args`` None: the arguments are sys.argv's), start-up runs with
    the cyclic collector off until :func:`started`: importing the modules and loading
    the tables makes some 100,000 objects that live for the run, and the collector,
    run over them again and again while they are made, was 6% of a small check's
    instructions (issue 25, README "Speed and memory")."""
    global _starting
    if args is None:
        args = sys.argv[1:]
        _starting = gc.isenabled()
        gc.disable()
        from . import codecache

        codecache.install()  # the dataclasses' methods compiled once, kept between runs
    else:
        args = list(args)
    try:
        from .cli import main as commands

        commands.main(args=args, prog_name="edi837")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("edi837: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)  # the reader of the output stopped (| head), as click does
    except BaseException as exc:  # the last line of defence
        if debugging(args):
            import traceback

            traceback.print_exc()
        try:
            print(f"edi837: {describe(exc)}", file=sys.stderr)
        except Exception:  # stderr itself is gone: the status still says it
            pass
        sys.exit(EXIT_TROUBLE)
    finally:
        if _starting:  # ended before its start-up was done (--help, a misuse): as it was
            _starting = False
            gc.enable()
