"""The work queue: held claims across files and nights, until each is resolved
(``store``), fed by the batch (``facts``, ``sync``), read by ``edi837 queue``
and the batch summary (``view``)."""
