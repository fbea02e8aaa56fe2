"""Acknowledgment plumbing: what every acknowledgment edi837 writes shares.

An acknowledgment (the 999 that `edi837 validate --ack` writes, a 277CA
later) is an interchange of its own, sent back to the submitter.  Its
interchange and group control numbers (ISA13/IEA02, GS06/GE02) must not
repeat: a receiver's translator rejects or drops an interchange whose
ISA13 it has seen before from the same sender.  pyx12 builds ISA13 from the
clock, to the minute, so every 999 written in one minute had the same one.

* :mod:`.control` - :class:`ControlNumbers`, a counter kept in a small file
  that any number of processes share safely, and :func:`stamp`, which puts a
  number into an acknowledgment's envelope.
"""
from .control import (STATE_ENV, ControlNumberError, ControlNumbers, default_counter_path,
                      stamp)

__all__ = ["STATE_ENV", "ControlNumberError", "ControlNumbers", "default_counter_path",
           "stamp"]
