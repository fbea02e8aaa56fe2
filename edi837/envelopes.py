"""Envelope checks of the claim reader: ST01/ST03 and GS08 (EDI005), trailer
counts and control numbers (EDI003, EDI004).  A mixin of
`edi837.claims.ClaimReader`, which calls them as it reads the envelopes."""
from __future__ import annotations

from .findings import ERROR, WARNING, Edit, Fix
from .loops import GUIDES, VARIANTS
from .model import Envelope


class EnvelopeChecks:
    """Needs the reader's ``_finding``, ``path``, ``_isa13``, ``_gs06`` and ``_isa_fields``."""

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
                          f"{what}, there are {expected_count}", segment_index=index,
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
