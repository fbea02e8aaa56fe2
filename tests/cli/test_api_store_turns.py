"""Two runs of the Python API on one history store (trial 8b, item 1): a library prints
nothing of its own, and never waits for a lock its own thread holds.

A run in another thread (or process) waits its turn, saying so on the "edi837" logger
only; a run in the thread whose unfinished iter_findings holds the store would wait
for itself forever: it is refused (OptionsError) at once."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

import pytest
from batch_support import subprocess_env
from conftest import CLEAN_J2350_CLAIM
from store_support import key_file

import edi837


def test_a_second_run_in_the_thread_holding_the_store_is_refused_not_hung(edi_file,
                                                                          tmp_path):
    claims = edi_file(CLEAN_J2350_CLAIM)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    held = edi837.iter_findings([claims], history=store, history_key=key)
    next(held)  # the run holds the store from its first finding
    started = time.monotonic()
    with pytest.raises(edi837.OptionsError, match="this thread's own run already holds"):
        edi837.check([claims], history=store, history_key=key)
    with pytest.raises(edi837.OptionsError, match="close"):
        list(edi837.iter_findings([claims], history=store, history_key=key))
    assert time.monotonic() - started < 30
    held.close()  # once closed, the thread's next run takes the store
    assert edi837.check([claims], history=store, history_key=key).exit_status == 0


@pytest.mark.slow
def test_a_run_in_another_thread_waits_its_turn_with_a_log_record(edi_file, tmp_path,
                                                                  caplog):
    claims = edi_file(CLEAN_J2350_CLAIM)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    held = edi837.iter_findings([claims], history=store, history_key=key)
    next(held)
    done: dict = {}

    def second() -> None:
        done["result"] = edi837.check([claims], history=store, history_key=key)

    with caplog.at_level(logging.WARNING, logger="edi837"):
        thread = threading.Thread(target=second)
        thread.start()
        # (SQLite's busy timeout, 2 s, passes twice before the run says it waits)
        thread.join(5.0)
        assert thread.is_alive()  # waiting for the first run, not refused
        held.close()
        thread.join(60)
    assert done["result"].exit_status == 0
    said = [r.getMessage() for r in caplog.records if r.name.startswith("edi837")]
    assert any("another edi837 is writing it; waiting" in m for m in said), said


TWO_THREADS = """
import sys, threading, time
import edi837
claims, store, key = sys.argv[1:4]
held = edi837.iter_findings([claims], history=store, history_key=key)
next(held)
thread = threading.Thread(target=lambda: edi837.check([claims], history=store,
                                                      history_key=key))
thread.start()
time.sleep(5.0)  # past SQLite's busy timeout (2 s) twice: the second run says it waits
held.close()
thread.join(60)
print("done", thread.is_alive())
"""


@pytest.mark.slow
def test_a_program_without_logging_set_up_gets_nothing_on_stderr(edi_file, tmp_path):
    claims = edi_file(CLEAN_J2350_CLAIM)
    store, key = tmp_path / "h.sqlite", key_file(tmp_path)
    done = subprocess.run([sys.executable, "-c", TWO_THREADS, str(claims), str(store),
                           str(key)], capture_output=True, text=True, timeout=120,
                          env=subprocess_env())
    assert done.stdout.strip() == "done False", done.stderr
    assert done.stderr == ""  # not logging's last resort ("... waiting for it to finish")
