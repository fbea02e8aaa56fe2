"""Where an earlier claim of this run is, for a message (HIS001 "already billed on
claim C1 in folder/a.edi at segment 20"): the history keeps no file names nor
positions (only what judging needs), so the earlier file is read again, once,
when a finding first names it.  Only its drug lines' claim ids, codes, dates and
segment positions are kept, of one file at a time (a file sent twice makes every
claim of the second a duplicate of the first: one read, not one per claim)."""
from __future__ import annotations

_last: list = [None, {}]  # (path, size, mtime) of the file read last, and its positions


def line_position(path: str, claim_id: str, hcpcs: str, date: str, drugs) -> int | None:
    """The segment index of the first drug line of ``hcpcs`` on ``date`` of claim
    ``claim_id`` in the file ``path`` (as given), or None when the file cannot be
    read again or holds no such line (changed since)."""
    try:
        positions = _positions(path, drugs)
    except Exception:  # moved, changed, unreadable, a URL: the message names the file alone
        return None
    return positions.get((claim_id, hcpcs, date), positions.get((claim_id, hcpcs, None)))


def _positions(path: str, drugs) -> dict[tuple[str, str, str | None], int]:
    import os

    from ..extract import rows
    from ..reader.claims import ClaimReader

    status = os.stat(path)
    key = (path, status.st_size, status.st_mtime_ns)
    if _last[0] == key:
        return _last[1]
    found: dict[tuple[str, str, str | None], int] = {}
    for row in rows(ClaimReader(path, drug_codes=drugs).claims(), drugs.__contains__):
        index = row["segment_index"]
        if index is None:
            continue
        for place in ((row["claim_id"], row["hcpcs"], row["date_of_service"]),
                      (row["claim_id"], row["hcpcs"], None)):
            found.setdefault(place, index)
    _last[:] = [key, found]
    return found
