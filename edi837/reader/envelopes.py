"""Envelope checks of the claim reader: GS01, ST01/ST03 and GS08 (EDI005), trailer
counts and control numbers (EDI003, EDI004; an ISA13 repeated in the file, EDI003),
groups and interchanges left open (EDI002).  A mixin of `edi837.reader.claims.ClaimReader`,
which calls them as it reads the envelopes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..findings import ERROR, WARNING, Edit, Finding, Fix
from ..model import Envelope
from .loops import GUIDES, VARIANTS


class EnvelopeChecks:
    """Needs the reader's ``_finding``, ``path``, ``_isa13``, ``_isa13_seen`` (empty at the
    start of the file), ``_gs06``, ``_isa_fields`` and
    counters (``interchanges``, ``transactions``, ``claim_sets``, ``unreadable``)."""

    # the reader's (ClaimReader.__init__ sets them)
    path: str
    unreadable: bool
    interchanges: int
    transactions: int
    claim_sets: int
    _isa13: str | None
    _isa13_seen: dict[str, int]  # each ISA13 of the file -> its ISA's segment index
    _gs06: str | None
    _isa_fields: list[str]

    if TYPE_CHECKING:  # ReaderFindings._finding, the reader's other mixin
        def _finding(self, rule: str, severity: str, message: str, *,
                     segment_index: int | None, segment: str | None, value: str | None = None,
                     fix: Fix | None = None) -> Finding: ...

    def _group_opens(self, fields: list[str], index: int, in_interchange: bool,
                     group_open: bool) -> None:
        """A GS: inside an interchange, of health care claims (GS01 HC), and the group
        before it closed (GE)."""
        if not in_interchange:
            self._finding("EDI002", ERROR, "GS outside an interchange",
                          segment_index=index, segment="GS")
        if fields[1] != "HC":
            self._finding("EDI005", WARNING, f"GS01 functional identifier is "
                          f"{fields[1] or '(empty)'}, not HC (health care claim)",
                          segment_index=index, segment="GS", value=fields[1])
        if group_open:
            self._finding("EDI002", ERROR, f"group {self._gs06} is not closed (no GE)",
                          segment_index=index, segment="GS")

    def _interchange_opens(self, control: str, index: int, left_open: bool) -> None:
        """An ISA: the interchange before it closed (IEA), and its control number (ISA13)
        its own in the file: the same number twice is one interchange sent twice, or
        two a receiver cannot tell apart (a duplicate is rejected, TA1 note 025), EDI003
        on the second.  No fix: which number is meant is the sender's."""
        if left_open:
            self._interchange_left_open(index)
        first = self._isa13_seen.setdefault(control, index)
        if first != index:
            self._finding("EDI003", ERROR, f"interchange control number ISA13 "
                          f"{control.strip() or '(empty)'} is also the one of the "
                          f"interchange at segment {first}: each interchange of a file "
                          "needs its own (the same interchange sent twice?)",
                          segment_index=index, segment="ISA", value=control)

    def _interchange_left_open(self, index: int) -> None:
        self._finding("EDI002", ERROR, f"interchange {self._isa13} is not closed (no IEA "
                      "before the next ISA)", segment_index=index, segment="ISA")

    def _trailer_alone(self, index: int, tag: str, header: str) -> None:
        """An SE, GE or IEA with no ST, GS or ISA open."""
        self._finding("EDI002", ERROR, f"{tag} without {header}", segment_index=index,
                      segment=tag)

    def _file_ends(self, end: int | None, group_open: bool, interchange_open: bool) -> None:
        """The end of the file (``end``: its last segment's index): a group or an
        interchange still open is truncated; no interchange at all, or no 837 among
        the transaction sets, makes the file unreadable."""
        if group_open:
            self._finding("EDI002", ERROR, f"file ends inside group {self._gs06} (no GE): "
                          "truncated?", segment_index=end, segment="GE")
        if interchange_open:
            self._finding("EDI002", ERROR, f"file ends inside interchange {self._isa13} "
                          "(no IEA): truncated?", segment_index=end, segment="IEA")
        if self.interchanges == 0 and end is None:
            self.unreadable = True
            self._finding("EDI001", ERROR, "empty file: no ISA segment", segment_index=None,
                          segment=None)
        elif self.transactions and not self.claim_sets:
            self.unreadable = True  # X12, but nothing in it is an 837 we can read (EDI005)

    def _open_transaction(self, st: list[str], gs: list[str] | None,
                          index: int) -> Envelope | None:
        """Check ST01/ST03; return the envelope, or None to skip the set."""
        code = st[1]
        version = st[3] or (gs[8] if gs else "")
        if code == "837" and gs is not None and st[3] and gs[8] and gs[8] != st[3]:
            self._finding("EDI005", WARNING, f"GS08 version {gs[8]} differs from ST03 "
                          f"{st[3]}; read as ST03", segment_index=index, segment="ST",
                          value=gs[8])
        if code != "837":
            self._finding("EDI005", ERROR, f"transaction set {code or '(none)'} is not an 837 "
                          "claim; skipped", segment_index=index, segment="ST", value=code)
            return None
        kind = GUIDES.get(version)
        if kind is None:
            variant = VARIANTS.get(version)
            if variant is None:
                self._finding("EDI005", ERROR, f"837 version {version or '(none)'} is not "
                              "5010 professional (005010X222A1) or institutional "
                              "(005010X223A2); skipped", segment_index=index, segment="ST",
                              value=version)
                # its claims are read by no command: the file must not pass as checked
                # (a set that is not an 837 holds no claim; fix lists it as not carried)
                self.unreadable = True
                return None
            guide, kind = variant
            self._finding("EDI005", WARNING, f"version {version} read as {guide}",
                          segment_index=index, segment="ST", value=version)
        isa = self._isa_fields
        return Envelope(path=self.path, interchange=self._isa13 or "", group=self._gs06 or "",
                        transaction=st[2], version=version, kind=kind,
                        sender=gs[2] if gs else "",
                        receiver=gs[3] if gs else "",
                        isa_sender_qualifier=isa[5].strip(), isa_sender=isa[6].strip(),
                        isa_receiver_qualifier=isa[7].strip(), isa_receiver=isa[8].strip())

    def _check_trailer(self, fields: list[str], index: int, tag: str, count_pos: int,
                       expected_count: int, what: str, control_pos: int, expected_control: str,
                       header: str) -> None:
        count = fields[count_pos]
        if count.strip() != str(expected_count):
            edit = Edit(index, tag, count_pos, None, count, str(expected_count))
            self._finding("EDI004", ERROR, f"{tag}{count_pos:02d} says {count or '(empty)'} "
                          f"{what}, there are {expected_count}"
                          + _set_lost(tag, count, expected_count), segment_index=index,
                          segment=tag, value=count,
                          fix=Fix(f"set {tag}{count_pos:02d} to {expected_count}", (edit,)))
        control = fields[control_pos]
        if control != expected_control:
            fix = None
            if expected_control:  # the trailer takes the header's number; none to take: no fix
                fix = Fix(f"set {tag}{control_pos:02d} to {expected_control}",
                          (Edit(index, tag, control_pos, None, control, expected_control),))
            self._finding("EDI003", ERROR, f"{tag}{control_pos:02d} control number "
                          f"{control or '(empty)'} does not match {header} "
                          f"{expected_control or '(empty)'}",
                          segment_index=index, segment=tag, value=control, fix=fix)


def _set_lost(tag: str, count: str, expected: int) -> str:
    """What a wrong SE01 means for the set's claims (edi837.history.broken)."""
    if tag != "SE":
        return ""
    said = count.strip()
    lost = int(said) - expected if said.isdigit() and int(said) > expected else 0
    gone = (f"; {lost} segment{'s' if lost != 1 else ''} fewer than sent: lost or run "
            "together (bytes that are no segment?), so the set's claims may not all have "
            "been read") if lost else ""
    return (f"{gone}; a 999 rejects the set: none of the file's claims enters the patient "
            "history")
