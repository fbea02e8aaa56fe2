"""A file's 277CA claim acknowledgment: which claims the clearinghouse accepted, and why not.

:func:`write_277ca` takes an 837 file and its findings (in file order, as
`check` returns them, or the re-check of what `fix` wrote) and writes
``<stem>.277`` beside the file's other outputs.  Accepted and held are decided
by :mod:`edi837.fix.route`, the decision `fix --split` makes, never again
here: a claim the route holds is rejected (A3/A6/A7/A8 per its findings'
rules, :mod:`.statuses`), every other claim is acknowledged with A1:20.
Claim details (patient, subscriber id, dates, lines) come from the claim model
of the input as it was sent, which is what the submitter's system matches
the acknowledgment against.

One 277CA transaction set answers one 837 transaction set the 999 accepted
(:class:`~.ack999.Acceptance`); a set the 999 rejects gets none.  Each input
interchange becomes one interchange of its own with a control number from the
shared counter (:mod:`.control`), sender and receiver those of the 837
swapped unless configured.  The output is written atomically and only when
some set is acknowledged; the function keeps no state between calls, so
worker processes may call it side by side.
"""
from __future__ import annotations

import datetime as dt
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Collection

from ..config import Acknowledgments
from ..files import atomic_output
from ..findings import ERROR, Finding
from ..fix.route import ClaimWalk, SplitError, element
from ..model import INSTITUTIONAL, Claim, ServiceLine, parse_date, parse_decimal
from ..reader.claims import ClaimReader
from ..x12.control import ControlNumberError, ControlNumbers
from ..x12.reader import X12SyntaxError, display
from . import x214
from .ack999 import Acceptance, AckReadError
from .statuses import StatusTable, status_table

# The sender and receiver edi837 names when the configuration names none (frozen:
# one shared default is safe).
DEFAULT_IDENTITY = Acknowledgments()

SUFFIX = ".277"
# Errors after which a file's findings do not describe its claims: no 277CA.
NOT_ACKNOWLEDGED = {"EDI001": "the file is not X12", "EDI002": "an envelope is not closed",
                    "EDI008": "edi837 failed while reading the file"}


class Ack277Error(Exception):
    """No 277CA can be written for the file; the message names it and says why."""


class OutputExists(Ack277Error):
    pass


@dataclass(slots=True)
class Ack277Result:
    path: str
    output: Path | None = None  # None: nothing to acknowledge (see skipped)
    interchanges: int = 0
    sets: int = 0
    accepted: int = 0
    rejected_claims: list[str] = field(default_factory=list)  # CLM01s, file order
    skipped: list[str] = field(default_factory=list)  # sets given no 277CA, and why
    # of those, the sets the 999 does not mention: it is not this file's (exit status 2)
    unmatched: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejected_claims)


def ack_path(path: str | Path, out_dir: str | Path) -> Path:
    """Where the 277CA of ``path`` goes: ``out_dir/<stem>.277``."""
    return Path(out_dir) / (Path(path).stem + SUFFIX)


class _Walk(ClaimWalk):
    """The route's walk, keeping the envelope and billing provider of the claim just routed."""

    context = None

    def claim_routed(self, routed, envelope, hierarchy, segments) -> None:
        self.context = (envelope.isa, envelope.gs, envelope.header, hierarchy["20"].key)


def not_accepted_claims(path: str | Path, acceptance: Acceptance) -> set[int]:
    """The CLM segment indices of ``path``'s claims in transaction sets ``acceptance``
    does not accept, its sets asked in file order as :func:`write_277ca` asks them: the
    claims the submitter is told to send again, which no history may keep as
    forwarded.  Empty when the claims cannot be routed (then no 277CA is written)."""
    walk = _Walk(path, ())
    held: set[int] = set()
    header, why = None, None
    try:
        for routed in walk.claims():
            isa, gs, this, _ = walk.context
            if this is not header:
                header = this
                why = acceptance.verdict(element(isa, 13).strip(), element(gs, 6).strip(),
                                         element(this[0], 2).strip())
            if why is not None and routed.segment_index is not None:
                held.add(routed.segment_index)
    except (SplitError, X12SyntaxError):
        return set()
    return held


def write_acknowledgments(path: str | Path, findings: Collection[Finding],
                          out_dir: str | Path, *, identity: Acknowledgments = DEFAULT_IDENTITY,
                          control_numbers: ControlNumbers | None = None, force: bool = False,
                          read_999: str | Path | None = None) -> Ack277Result:
    """A file's 999 and 277CA, for a caller that has the file's final findings (the
    batch, a worker process): ``out_dir/<stem>.999`` validated now with pyx12
    (slow), or the 999 ``read_999`` names; then :func:`write_277ca` from its
    verdict.  Raises OutputExists before writing anything when either output
    exists and ``force`` is not given, Ack277Error when there is no 999."""
    from ..validate import ack_path as path_999
    from ..validate import write_999

    numbers = control_numbers or ControlNumbers(identity.control_numbers)
    targets = [ack_path(path, out_dir)] + ([] if read_999 else [path_999(path, out_dir)])
    existing = next((t for t in targets if t.exists()), None)
    if existing is not None and not force:
        raise OutputExists(f"{existing} exists (use --force to overwrite)")
    if read_999 is None:
        try:
            read_999 = write_999(path, out_dir, control_numbers=numbers)
        except ControlNumberError as exc:
            raise Ack277Error(f"{path}: no 999 or 277CA: {exc}") from None
        if read_999 is None:
            raise Ack277Error(f"{path}: no 277CA: no 999 (pyx12 could not acknowledge it)")
    elif not Path(read_999).is_file():
        raise Ack277Error(f"{path}: no 277CA: no 999 ({read_999} does not exist)")
    try:
        acceptance = Acceptance.from_999(read_999)
    except AckReadError as exc:
        raise Ack277Error(f"{path}: no 277CA: {exc}") from None
    return write_277ca(path, findings, out_dir, acceptance=acceptance, identity=identity,
                       control_numbers=numbers, force=force)


def write_277ca(path: str | Path, findings: Collection[Finding], out_dir: str | Path, *,
                acceptance: Acceptance, identity: Acknowledgments = DEFAULT_IDENTITY,
                control_numbers: ControlNumbers | None = None, force: bool = False,
                now: dt.datetime | None = None) -> Ack277Result:
    """Write ``out_dir/<stem>.277`` for the 837 file ``path``.

    ``findings``: the file's findings in file order, a collection that can be
    read twice (a list, a FindingStore).  ``acceptance``: the 999's verdict on
    its transaction sets.  An existing output is replaced only with ``force``
    (then also removed when nothing is acknowledged now).  Raises OutputExists,
    or Ack277Error when the file cannot be acknowledged (unreadable, claims
    that cannot be routed, the counter broken); nothing is written then.
    """
    target = ack_path(path, out_dir)
    if target.exists() and not force:
        raise OutputExists(f"{target} exists (use --force to overwrite)")
    for finding in findings:
        why = NOT_ACKNOWLEDGED.get(finding.rule) if finding.severity == ERROR else None
        if why:
            where = f":{finding.segment_index}" if finding.segment_index else ""
            raise Ack277Error(f"{path}{where}: no 277CA: {why} ({finding.rule})")
    writer = _Writer(Path(path), target, acceptance, identity,
                     control_numbers or ControlNumbers(identity.control_numbers),
                     now or dt.datetime.now(), status_table())
    try:
        with ExitStack() as stack:
            writer.run(findings, stack)
    except (SplitError, X12SyntaxError) as exc:
        raise Ack277Error(f"{path}: no 277CA: its claims cannot be routed: "
                          f"{getattr(exc, 'message', exc)}") from None
    except ControlNumberError as exc:
        raise Ack277Error(f"{path}: no 277CA: {exc}") from None
    result = writer.result
    if result.output is None and force:
        target.unlink(missing_ok=True)  # a stale one would contradict this run
    return result


@dataclass(slots=True)
class _OpenSet:
    """The 837 transaction set whose claims are being gathered."""

    isa: object  # RawSegments of its envelopes and header (ST first)
    gs: object
    header: list
    claims: list[x214.ClaimAck] = field(default_factory=list)
    unreadable: str | None = None  # why edi837 cannot acknowledge it, though the 999 may


class _Writer:
    """One pass over a file: pair each routed claim with its model claim, gather a
    transaction set's claims, and write each acknowledged set as it closes."""

    def __init__(self, path: Path, target: Path, acceptance: Acceptance,
                 identity: Acknowledgments, numbers: ControlNumbers, now: dt.datetime,
                 table: StatusTable) -> None:
        self.path, self.target = path, target
        self.acceptance, self.identity, self.numbers = acceptance, identity, numbers
        self.now, self.table = now, table
        self.result = Ack277Result(str(path))
        self.received = min(dt.date.fromtimestamp(os.stat(path).st_mtime), now.date())
        self._out = None
        self._set: _OpenSet | None = None
        self._isa = None  # the input ISA of the open output interchange
        self._number = self._sets = self._traces = 0
        self._delimiters = x214.STANDARD
        # the delimiters of the whole 277CA file: its first interchange's (see _write_set)
        self._file_delimiters: tuple[str, str, str, str] | None = None

    def run(self, findings, stack: ExitStack) -> None:
        self._stack = stack
        models = ClaimReader(self.path).claims()
        model = next(models, None)
        walk = _Walk(self.path, findings)
        for routed in walk.claims():
            isa, gs, header, provider_key = walk.context
            if self._set is None or self._set.header is not header:
                self._close_set()
                self._set = _OpenSet(isa, gs, header)
            while model is not None and model.clm_index < routed.segment_index:
                model = next(models, None)
            if model is None or model.clm_index != routed.segment_index:
                self._set.unreadable = f"edi837 cannot read claim {display(routed.claim_id)} " \
                                       f"at segment {routed.segment_index}"
                continue
            try:
                self._set.claims.append(self._claim(routed, model, provider_key))
            except x214.CannotAcknowledge as exc:
                self._set.unreadable = str(exc)
        self._close_set()
        self._close_interchange()

    # -- claims --------------------------------------------------------------------
    def _claim(self, routed, claim: Claim, provider_key: int) -> x214.ClaimAck:
        charge = parse_decimal(claim.charge)
        billing = claim.billing_provider
        person = claim.patient_person
        ack = x214.ClaimAck(
            claim_id=claim.claim_id,
            charge=claim.charge if charge is not None and len(claim.charge) <= 18 else "0",
            charge_value=charge if charge is not None and len(claim.charge) <= 18 else Decimal(0),
            patient_last=person.last_name if person else "",
            patient_first=person.first_name if person else "",
            member_id=(claim.subscriber.member_id if claim.subscriber else "")
            or claim.subscriber_id,
            dates=_claim_dates(claim), bill_type=_bill_type(claim), provider_key=provider_key,
            provider=(billing.entity_type, billing.name, billing.first_name, billing.npi)
            if billing else ("", "", "", ""))
        lines: dict[int, x214.LineAck] = {}
        for finding in routed.reasons:
            status = self.table.for_rule(finding.rule)
            line = _line_of(claim, finding.segment_index)
            message = display(finding.message)
            if line is None:
                ack.reasons.append((status, f"{finding.rule} {message}"))
                continue
            ack.reasons.append((status, f"{finding.rule} line {line.number}: {message}"))
            if line.lx_index not in lines:
                lines[line.lx_index] = _line_ack(line)
            lines[line.lx_index].statuses.append(status)
        ack.lines = list(lines.values())
        return ack

    # -- transaction sets and interchanges -------------------------------------------
    def _close_set(self) -> None:
        if self._set is None:
            return
        done, self._set = self._set, None
        st, isa, gs = done.header[0], done.isa, done.gs
        name = f"transaction set {display(element(st, 2))} (group {display(element(gs, 6))}, " \
               f"interchange {display(element(isa, 13))})"
        key = element(isa, 13).strip(), element(gs, 6).strip(), element(st, 2).strip()
        unmatched = not self.acceptance.acknowledges(*key)
        why = self.acceptance.verdict(*key) or done.unreadable
        if why is None:
            try:
                self._write_set(isa, gs, _set_ack(done.header, self.identity, self.received,
                                                  done.claims))
                return
            except x214.CannotAcknowledge as exc:
                why = f"{exc} (the set starts at segment {st.index})"
        self.result.skipped.append(f"{name}: no 277CA: {why}")
        if unmatched:
            self.result.unmatched.append(self.result.skipped[-1])

    def _write_set(self, isa, gs, ack: x214.SetAck) -> None:
        if self._isa is not isa:
            self._close_interchange()
        given = isa.delimiters
        # One set for the file: the first acknowledged interchange's.  X12 lets each
        # interchange name its own, but pyx12 and many translators read a file in its
        # first ISA's delimiters, and a second interchange in others is garbage to them.
        delimiters = self._file_delimiters or x214.delimiters_for(
            given.element, given.repetition, given.component, given.segment)
        for claim in ack.claims:  # TRN02 is the CLM01 sent, or nothing (x214.delimiters_for)
            if not x214.fits(claim.claim_id, delimiters):
                raise x214.CannotAcknowledge(
                    f"claim id '{display(claim.claim_id)}' holds the 277CA's element separator "
                    f"or terminator ({delimiters[0]} {delimiters[3]}): it cannot be echoed "
                    "in TRN02")
        number = self._number or self.numbers.next()
        segments = x214.transaction(
            ack, st02=f"{self._sets + 1:04d}", trace=f"{number:09d}{self._sets + 1:04d}",
            now=self.now, receipt=self.table.receipt, accepted=self.table.accepted,
            first_trace=number * 1_000_000 + self._traces + 1)
        if self._isa is not isa:  # the first acknowledged set of this interchange
            if self._out is None:
                self._out = self._stack.enter_context(atomic_output(self.target, newline=""))
                self.result.output = self.target
            self._out.write(x214.interchange_header(*self._parties(isa, gs), number, self.now,
                                                    delimiters))
            self._isa, self._number, self._delimiters = isa, number, delimiters
            self._file_delimiters = delimiters
            self.result.interchanges += 1
        self._out.write(x214.serialise(segments, delimiters))
        self._sets += 1
        self._traces += len(ack.claims)
        self.result.sets += 1
        for claim in ack.claims:
            if claim.accepted:
                self.result.accepted += 1
            else:
                self.result.rejected_claims.append(claim.claim_id)

    def _close_interchange(self) -> None:
        if self._isa is not None:
            self._out.write(x214.interchange_trailer(self._sets, self._number,
                                                     self._delimiters))
        self._isa = None
        self._number = self._sets = self._traces = 0

    def _parties(self, isa, gs) -> tuple:
        """Sender and receiver: the 837's swapped, unless configured; and ISA15."""
        identity = self.identity
        sender = (identity.sender_qualifier, identity.sender_id) if identity.sender_id else \
            (element(isa, 7).strip(), element(isa, 8).strip())
        receiver = (identity.receiver_qualifier, identity.receiver_id) \
            if identity.receiver_id else (element(isa, 5).strip(), element(isa, 6).strip())
        return (sender, receiver, identity.sender_id or element(gs, 3),
                identity.receiver_id or element(gs, 2), element(isa, 15).strip())


def _set_ack(header: list, identity: Acknowledgments, received: dt.date,
             claims: list[x214.ClaimAck]) -> x214.SetAck:
    """The set's BHT03, submitter (1000A) and information source (config, else 1000B)."""
    reference, submitter, receiver = "", ("", "", "", ""), ("", "")
    for segment in header:
        tag = segment.tag
        if tag == "BHT":
            reference = element(segment, 3)
        elif tag == "NM1" and element(segment, 1) == "41":
            submitter = (element(segment, 2), element(segment, 3), element(segment, 4),
                         element(segment, 9))
        elif tag == "NM1" and element(segment, 1) == "40":
            receiver = (element(segment, 3), element(segment, 9))
    name = identity.name or receiver[0]
    source_id = identity.id or receiver[1]
    if not x214.clean(name) or not x214.clean(source_id):
        raise x214.CannotAcknowledge("no clearinghouse name and id: the 837 has no receiver "
                                     "(1000B) and [acknowledgments] sets none")
    if not claims:
        raise x214.CannotAcknowledge("no claims in it")
    return x214.SetAck(reference, submitter,
                       (name, identity.qualifier if identity.id else "46", source_id),
                       received, claims)


def _line_of(claim: Claim, index: int | None) -> ServiceLine | None:
    """The service line a finding's segment belongs to (LX to the line's last segment)."""
    if index is None:
        return None
    for line in claim.lines:
        if line.lx_index <= index <= (line.last_index or line.lx_index):
            return line
    return None


def _line_ack(line: ServiceLine) -> x214.LineAck:
    charge = line.charge if parse_decimal(line.charge) is not None else "0"
    units = line.units if parse_decimal(line.units) is not None else ""
    return x214.LineAck(line.number, line.qualifier, line.procedure, line.modifiers,
                        line.revenue_code, charge[:18], units[:15],
                        _dates(line.service_date, line.service_date_end), line.control_number)


def _dates(start: str, end: str = "") -> tuple[str, str]:
    """(start, end) when the start is a date (and the end, if any, one on or after it)."""
    if parse_date(start) is None:
        return "", ""
    return (start, end) if parse_date(end) is not None and end >= start else (start, "")


def _claim_dates(claim: Claim) -> tuple[str, str]:
    """The claim's service period: 837I statement dates (DTP*434) or 837P DTP*472, else
    from its first to its last line date."""
    for qualifier in ("434", "472"):
        start, _, end = claim.dates.get(qualifier, "").partition("-")
        if parse_date(start):
            return _dates(start, end)
    spans = [_dates(line.service_date, line.service_date_end) for line in claim.lines]
    spans = [(start, end or start) for start, end in spans if start]
    if not spans:
        raise x214.CannotAcknowledge(f"claim {x214.readable(claim.claim_id)} has no date of "
                                     "service")
    return _dates(min(s for s, _ in spans), max(e for _, e in spans))


def _bill_type(claim: Claim) -> str:
    if claim.kind == INSTITUTIONAL and claim.facility_code and claim.frequency:
        return claim.facility_code + claim.frequency
    return ""
