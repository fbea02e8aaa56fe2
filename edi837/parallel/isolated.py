"""A task checked again in a process of its own on the driver's host (issue 26).

When a task kills its Dask workers (KilledWorker), the file may be at fault (it
makes edi837 crash or need more memory than a worker has) or the cluster may
be (workers killed, out of memory because of other work, lost machines).  The
driver runs the same task once more here, in a child process with the
address-space limit of a worker (``memory_limit``): if the child dies too, the
file is at fault; if it gives a result, the cluster was.

The child is ``python -m edi837.parallel.isolated`` (``COMMAND``): a new
interpreter, not a fork of the driver (whose Dask threads hold locks).  It
reads a pickle ``(memory_limit, keys, function, args)`` on stdin, installs the
history keys (from the driver, over this pipe: never the network) and writes a
pickle ``("ok", result)`` or ``("raised", exception)`` on stdout.
"""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys

COMMAND = [sys.executable, "-m", "edi837.parallel.isolated"]


class ChildDied(Exception):
    """The child process died (killed, out of memory, a crash): the file's fault."""


def run(function, args: tuple, *, memory_limit: int | None) -> object:
    """``function(*args)`` in a child process: its result, the exception it raised, or
    ChildDied."""
    from . import keys

    payload = pickle.dumps((memory_limit, keys.installed(), function, args))
    done = subprocess.run(COMMAND, input=payload, capture_output=True)
    if done.returncode == 0:
        try:
            outcome, value = pickle.loads(done.stdout)
        except Exception:  # noqa: BLE001 - a child that died while writing
            outcome, value = None, None
        if outcome == "ok":
            return value
        if outcome == "raised":
            raise value
    code = done.returncode
    how = (f"killed by signal {signal.Signals(-code).name}" if code < 0
           else "out of memory" if code == OUT_OF_MEMORY else f"exit status {code}")
    raise ChildDied(how)


OUT_OF_MEMORY = 3


def _limit(memory_limit: int | None) -> None:
    try:
        import resource
    except ImportError:  # not on this system (Windows): no limit
        return
    if not memory_limit:
        return

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or memory_limit < hard:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, hard))


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the task prints goes to stderr, not into the result
    memory_limit, keys_given, function, args = pickle.load(sys.stdin.buffer)
    from . import keys

    keys.install_all(keys_given)
    _limit(memory_limit)
    try:
        outcome = ("ok", function(*args))
    except MemoryError:
        os._exit(OUT_OF_MEMORY)
    except Exception as exc:  # noqa: BLE001 - the driver raises it as a task's exception
        outcome = ("raised", exc)
    pickle.dump(outcome, out)
    out.close()


if __name__ == "__main__":
    main()
