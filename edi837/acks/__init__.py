"""Acknowledgments: the 999 and the 277CA claim acknowledgment, and what they share.

An acknowledgment (the 999 that `edi837 validate --ack` writes, the 277CA
that `edi837 ack` writes) is an interchange of its own, sent back to the submitter.  Its
interchange and group control numbers (ISA13/IEA02, GS06/GE02) must not
repeat: a receiver's translator rejects or drops an interchange whose
ISA13 it has seen before from the same sender.  pyx12 builds ISA13 from the
clock, to the minute, so every 999 written in one minute had the same one.

* :mod:`edi837.x12.control` - :class:`ControlNumbers`, a counter kept in a small file
  that any number of processes share safely, and :func:`stamp`, which puts a
  number into an acknowledgment's envelope.  It lives with the X12 envelope
  code, below edi837.validate (whose 999s it stamps) and this package.
* :mod:`.ack999` - :class:`~.ack999.Acceptance`: which 837 transaction sets a
  999 accepted (a 277CA answers only those).
* :mod:`.statuses` and ``status-codes.toml`` - the versioned table saying which
  claim status (STC category, status code, entity) a 277CA gives each rule.
* :mod:`.x214` - the 277CA (005010X214) segments of one transaction set.
* :mod:`.ack277` - :func:`~.ack277.write_277ca` (a file's 277CA from its
  findings and a 999's verdict) and :func:`~.ack277.write_acknowledgments`
  (its 999 and 277CA), for the commands, the batch and worker processes.
"""
from ..x12.control import (
    STATE_ENV,
    ControlNumberError,
    ControlNumbers,
    default_counter_path,
    stamp,
)

__all__ = ["STATE_ENV", "ControlNumberError", "ControlNumbers", "default_counter_path",
           "stamp"]
