"""Patient history: the edits that need more than one claim.

* :mod:`.identity` - the patient as a keyed hash (HMAC-SHA-256), and the key.
* :mod:`.store` - the SQLite store of forwarded drug lines.
* :mod:`.records` - what the history needs of a claim, sent from where it was checked.
* :mod:`.context` - one claim in its patient's history, as the history rules see it.
* :mod:`.upkeep` - pruning, taking a file out, stats.
* :mod:`.stage` - the stage that judges claims in input order (rules in
  edi837.rules.history, edi837.rules.history_doses and the daily sums of
  edi837.rules.units).
* :mod:`.pending` - a claim waiting for its window, and the stage's ways past its
  record (a lone line's INSERT values, a lone first dose's findings from a template).
"""
from .identity import HistoryKeyError, PatientKeys, default_key_path, fingerprint, load_key
from .records import ClaimRecord, LineRecord, claim_record
from .stage import HistoryStage, new_run_id
from .store import DEFAULT_DAYS, HistoryStore, HistoryStoreError

__all__ = ["ClaimRecord", "DEFAULT_DAYS", "HistoryKeyError", "HistoryStage", "HistoryStore",
           "HistoryStoreError", "LineRecord", "PatientKeys", "claim_record", "default_key_path",
           "fingerprint", "load_key", "new_run_id"]
