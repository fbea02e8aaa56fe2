"""Parallel checking: `check --jobs N` and `--dask`, one large file cut into pieces.

* :mod:`.scan` - the one read of a large file (by the driver with --jobs, by a
  worker on a cluster): envelope findings, hash, and where to cut it (before
  a CLM or HL, with the loops above it).
* :mod:`.pieces` - a piece (context spans, its range, a closer) and the reader
  that reads it with the file's segment indices.
* :mod:`.density` - whether the fast path makes cutting a file at claims not
  worth it (a sparse file is cut at transaction sets instead).
* :mod:`.sets` - a sparse file cut at transaction sets: the driver hashes and
  counts its raw bytes, each piece is read with the fast path after the ISA and
  GS in force, the driver judges the envelopes from the pieces' envelope segments.
* :mod:`.work` - what a worker does: check a file or piece (or scan a large
  file), hand findings and claim records back as bytes in its result
  (:mod:`edi837.history.handover`).
* :mod:`.check` - the driver: units in input order, a lasting patient history
  judged here, one report identical to one job's.
* :mod:`.shards` - the run's own history judged by patient shard on workers,
  merged into each file's findings.
* :mod:`.executors` - local worker processes; :mod:`.cluster` - Dask;
  :mod:`.batch_pieces` - a batch job's large file as pieces.
* :mod:`.faults` - a cluster's failures told from a file's (ClusterLost, exit
  2; a task that kills its workers re-checked in :mod:`.isolated`);
  :mod:`.keys` and :mod:`.key_plugin` - the history key, once per worker
  process, never in a task.

Nothing here imports :mod:`edi837.batch` (which imports this package); what
both use of worker pools is in :mod:`edi837.workers`.
"""
