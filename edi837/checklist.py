"""DOC000: a claim's documentation notes as one checklist finding.

The DOC rules (DOC001-DOC004) annotate what a biller should have on file; an
infusion centre's file would carry three or four of them per claim.  By
default they are reported as ONE info finding per claim, DOC000, on its CLM
segment: "documentation checklist: DOC001 ...; DOC003 ...; DOC004 ...".  A DOC
code the user names on its own (``--select DOC003``, or a configuration whose
``select`` or ``severity`` names the code, top-level or in a payer profile)
is reported on its own instead, as before.

How: a rule context marks each DOC finding it makes for the checklist
(``finding.extra["checklist"]`` holds DOC000's configured severity, see
:func:`checklist_codes`); when a file's
findings are all in (``FileResult.settle_status``) :func:`fold` replaces the
marked findings of each claim with one DOC000, merging with a DOC000 folded
earlier for the same claim (a worker folds its claims' notes; the driver's
history stage may add DOC001's first-dose note to them later).  The fold
streams in file order and holds one claim's notes at a time.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from .findings import ERROR, INFO, WARNING, Finding

CHECKLIST = "DOC000"
ITEMS = ("DOC001", "DOC002", "DOC003", "DOC004")
MARK = "checklist"  # finding.extra key: marked for the checklist / the DOC000's items
_ITEMS = frozenset(ITEMS)
_RANK = {INFO: 0, WARNING: 1, ERROR: 2}
_SEVERITY = {rank: severity for severity, rank in _RANK.items()}
_TEXTS: dict[tuple, tuple[str, str]] = {}  # a checklist's items -> its message and value
_TEXTS_KEPT = 4096


def checklist_codes(config, profile=None) -> dict[str, str]:
    """The DOC codes folded into DOC000 for claims of ``profile`` (each with the
    severity the configuration gives DOC000, info by default): all of them,
    except those the configuration names on their own (an exact code in
    ``select`` or ``severity``, at the top level or in the profile)."""
    named = set(config.select) | set(config.severity)
    if profile is not None:
        named |= set(profile.select) | set(profile.severity)
    severity = config.severity_of(CHECKLIST, INFO, profile)
    return {code: severity for code in ITEMS if code not in named}


def marked(finding: Finding) -> bool:
    """A DOC note (or a DOC000 already folded) waiting to join its claim's checklist."""
    rule = finding.rule
    return (rule in _ITEMS or rule == CHECKLIST) and MARK in finding.extra


def fold(findings: Iterable[Finding]) -> Iterator[Finding]:
    """``findings`` (in file order) with each claim's marked DOC notes replaced by one
    DOC000 finding.  The DOC000 comes after the claim's other findings: a
    :class:`~edi837.store.FindingStore` puts it back in file order."""
    pending: dict[tuple, list[Finding]] = {}  # (path, CLM index) -> the claim's notes
    for finding in findings:
        if pending:
            yield from _ended(pending, finding)
        if marked(finding):
            pending.setdefault((finding.path, finding.claim_first), []).append(finding)
            continue
        yield finding
    for notes in pending.values():
        yield checklist(notes)


def _ended(pending: dict, finding: Finding) -> Iterator[Finding]:
    """The checklists of the claims that end before ``finding``."""
    index = finding.segment_index or 0
    for key in [k for k, notes in pending.items()
                if k[0] != finding.path or (notes[0].claim_last or 0) < index]:
        yield checklist(pending.pop(key))


def items_of(finding: Finding) -> list[tuple]:
    """A note's checklist items: (code, LX, message, severity) each."""
    if finding.rule == CHECKLIST:
        return list(finding.extra[MARK])
    return [(finding.rule, finding.line_number, finding.message, finding.severity)]


def checklist(notes: list[Finding]) -> Finding:
    """One DOC000 for a claim's notes (notes and earlier DOC000s alike)."""
    items: list = []
    for note in notes:
        if note.rule == CHECKLIST:
            items.extend(note.extra[MARK])
        else:
            items.append((note.rule, note.line_number, note.message, note.severity))
    if len(items) > 1:
        try:
            items = list(dict.fromkeys(items))  # each item once, where it first came
        except TypeError:  # an item that is a list (not hashable)
            items = [item for n, item in enumerate(items) if item not in items[:n]]
        items.sort(key=_item_order)
    first = notes[0] if len(notes) == 1 else min(notes, key=_note_order)
    # the most severe of the notes and of what the configuration says of DOC000
    # (a note's mark is that severity; a DOC000 folded before, its own)
    rank = max([_RANK[item[3]] for item in items], default=-1)
    for note in notes:
        said = note.severity if note.rule == CHECKLIST else note.extra[MARK]
        if said in _RANK and _RANK[said] > rank:
            rank = _RANK[said]
    severity = _SEVERITY[rank] if rank >= 0 else INFO
    claim = first.claim_first is not None
    key: tuple | None
    try:  # claims of a file have the same few checklists: their texts are made once
        key = tuple(items)
        texts = _TEXTS.get(key)
    except TypeError:  # an item that is a list
        key = texts = None
    if texts is None:
        texts = ("documentation checklist: " + _text(items),
                 ",".join(dict.fromkeys(i[0] for i in items)))
        if key is not None:
            if len(_TEXTS) >= _TEXTS_KEPT:
                _TEXTS.clear()
            _TEXTS[key] = texts
    return Finding(
        CHECKLIST, severity, texts[0], first.path,
        first.claim_first if claim else first.segment_index,
        "CLM" if claim else first.segment, "2300" if claim else first.loop,
        first.claim_id, None, first.hcpcs, texts[1],
        first.interchange, first.group, first.transaction, first.payer_id, None,
        first.payer_name, first.service_date, first.billing_npi, first.claim_charge, None,
        None, {MARK: items}, first.claim_first, first.claim_last, first.policy)


def _item_order(item) -> tuple:
    return (item[0], item[1] or 0)


def _note_order(note: Finding) -> int:
    return note.segment_index or 0


def _text(items: list[tuple]) -> str:
    """"DOC001 ...; DOC004 (LX 1, 3) ...": one entry per code and message, naming the
    lines it is on."""
    entries: dict[tuple[str, str], list] = {}
    for code, line, message, _ in items:
        entries.setdefault((code, message), [])
        if line is not None:
            entries[(code, message)].append(str(line))
    return "; ".join(f"{code}{' (LX ' + ', '.join(lines) + ')' if lines else ''} {message}"
                     for (code, message), lines in entries.items())
