"""The work queue: held claims across files and nights, until each is resolved
(``store``), fed by the batch (``facts``; the batch's edi837.batch.queue_sync), read
by ``edi837 queue`` and the batch summary and its queue page (``view``; the page is
edi837.batch.queue_page: it reads the batch's ledger, so it lives in the batch)."""
