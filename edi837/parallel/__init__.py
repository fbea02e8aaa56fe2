"""Parallel checking: `check --jobs N` and `--dask`, one large file cut into pieces.

* :mod:`.scan` - the driver's one read of a large file: envelope findings,
  hash, and where to cut it (before a CLM or HL, with the loops above it).
* :mod:`.pieces` - a piece (context spans, its range, a closer) and the reader
  that reads it with the file's segment indices.
* :mod:`.work` - what a worker does: check a file or piece, hand findings and
  claim records over in files (:mod:`.handover`).
* :mod:`.check` - the driver: units in input order, the patient history
  judged here, one report identical to one job's.
* :mod:`.executors` - local worker processes; :mod:`.cluster` - Dask.
"""
