"""The 277CA (005010X214) segments for one acknowledged 837 transaction set.

Loops and codes as pyx12's map ``277.5010.X214.xml`` has them::

    ST*277 / BHT*0085*08*<trace>*<date>*<time>*TH
    2000A HL*1**20*1       information source: the clearinghouse
      2100A NM1*AY*2*<name>*****<46|FI|PI|XV>*<id>
      2200A TRN*1*<trace>  DTP*050 received  DTP*009 processed
    2000B HL*2*1*21*1      information receiver: the submitter (837 1000A)
      2100B NM1*41*<1|2>*<name>*<first>****46*<id>
      2200B TRN*2*<837 BHT03>  STC*A1:19:AY*<date>*WQ*<total>  QTY*90/AA  AMT*YU/YY
    2000C HL*n*2*19*1      one per 837 billing provider (2000A)
      2100C NM1*85*<1|2>*<name>*<first>****XX*<NPI>
      2200C TRN*1*0  STC*A1:19:AY**WQ*<total>  QTY*QA/QC  AMT*YU/YY
    2000D HL*m*n*PT        one per claim
      2100D NM1*QC*1*<patient last>*<first>****MI*<subscriber id>
      2200D TRN*2*<CLM01>  STC ... (one per reason; A1:20 when accepted)
            REF*D9*<clearinghouse trace>  [REF*BLT*<bill type>]  DTP*472
      2220D SVC / STC / [REF*FJ] / [DTP*472]   for each line a finding rejects
    SE

Values come from the 837 as read (``edi837.model``) and from configuration;
every one is cleaned of anything but printable ASCII first, and its punctuation
is held as private-use placeholders until :func:`serialise` writes the segments
in the interchange's delimiters: then a placeholder becomes its character again,
or a space where that character is one of the delimiters, so no data can break
the structure.  The delimiters are the answered 837 interchange's own when they
are usable (printable punctuation: :func:`delimiters_for`): no simple element
of it can hold its element separator or terminator, so a CLM01 ``A*~:`` sent
with ``|`` and ``!`` is echoed as it was; else ``* ^ : ~``.  A component or
repetition separator inside a value is written as a space; ``ack277`` gives no
277CA for a set whose claim id would hold the element separator or terminator
(:func:`fits`).
"""
from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from decimal import Decimal

from .statuses import Status

ELEMENT, REPETITION, COMPONENT, TERMINATOR = "*", "^", ":", "~"
VERSION = "005010X214"
SVC_QUALIFIERS = ("AD", "ER", "HC", "HP", "IV", "NU", "WK")  # X214 SVC01-1
STC12_LENGTH = 264
REJECT, ACCEPT = "U", "WQ"  # STC03 action codes


class CannotAcknowledge(Exception):
    """A value the 277CA requires is missing from the 837 (the 999 rejects such a set)."""


# Punctuation in a value is held as a private-use character until serialise().
_HIDE = {ord(c): chr(0xE000 + ord(c)) for c in string.punctuation}
_SHOW = {ord(hidden): c for c, hidden in zip(string.punctuation, map(chr, (
    0xE000 + ord(c) for c in string.punctuation)), strict=True)}
STANDARD = (ELEMENT, REPETITION, COMPONENT, TERMINATOR)
# Characters the writer's own values use (numbers, dates, codes): never a delimiter.
_NOT_DELIMITERS = frozenset(string.ascii_letters + string.digits + " .-+")


def clean(value: str, limit: int | None = None) -> str:
    """Printable ASCII, spaces collapsed, punctuation held (see serialise)."""
    text = "".join(c if " " <= c <= "~" else " " for c in value or "")
    text = " ".join(text.split())
    text = text[:limit].rstrip() if limit else text
    return text.translate(_HIDE)


def _prose(text: str) -> str:
    """A finding's message for STC12: its ': ' (a colon is the 277CA's component
    separator, which a value cannot hold) written '; ', so 'not J2350: bill J2351'
    reads 'not J2350; bill J2351' rather than 'not J2350 bill J2351'."""
    return text.replace(": ", "; ")


def readable(value: str) -> str:
    """A cleaned value as text for a message."""
    return clean(value).translate(_SHOW)


def delimiters_for(element: str, repetition: str, component: str,
                   terminator: str) -> tuple[str, str, str, str]:
    """The 277CA's delimiters answering an 837 interchange with these: the same,
    when they are four distinct printable punctuation characters; else ``* ^ : ~``."""
    chosen = (element, repetition, component, terminator)
    if len(set(chosen)) == 4 and all(len(c) == 1 and "!" <= c <= "~" and c not in
                                     _NOT_DELIMITERS for c in chosen):
        return chosen
    return STANDARD


def fits(value: str, delimiters: tuple[str, str, str, str]) -> bool:
    """Whether ``value`` holds neither the element separator nor the terminator of
    ``delimiters`` (a value from an 837 interchange written in its own ones never
    does; its component or repetition separator inside a simple element, as in a
    CLM01 ``C:2``, is written as a space) and is not made of delimiters only."""
    return delimiters[0] not in value and delimiters[3] not in value and \
        bool(value.strip("".join(delimiters) + " "))


def amount(value: Decimal) -> str:
    """A decimal as X12 type R: no exponent, no trailing zeros after the point."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass(slots=True)
class LineAck:
    """A service line a finding rejects (2220D)."""

    number: str  # LX01, for the messages
    qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    revenue_code: str
    charge: str
    units: str
    dates: tuple[str, str]  # (start, end) CCYYMMDD; ("", "") when unknown
    control_number: str  # REF*6R
    statuses: list[Status] = field(default_factory=list)


@dataclass(slots=True)
class ClaimAck:
    """One claim as its 277CA 2000D says it (built by ``ack277`` from the model)."""

    claim_id: str
    charge: str  # CLM02, X12 R, "0" when it was not a number
    charge_value: Decimal
    patient_last: str
    patient_first: str
    member_id: str  # 2010BA NM109: a dependant has none of its own in 5010
    dates: tuple[str, str]
    bill_type: str  # 837I CLM05-1 + CLM05-3; "" for 837P
    provider_key: int  # segment index of the billing provider's HL
    provider: tuple[str, str, str, str]  # NM102, NM103, NM104, NPI
    reasons: list[tuple[Status, str]] = field(default_factory=list)  # (status, STC12)
    lines: list[LineAck] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.reasons


@dataclass(slots=True)
class SetAck:
    """One 837 transaction set the 999 accepted, and its claims in file order."""

    reference: str  # BHT03
    submitter: tuple[str, str, str, str]  # 1000A NM102, NM103, NM104, NM109
    source: tuple[str, str, str]  # 2100A name, id qualifier, id
    received: dt.date
    claims: list[ClaimAck] = field(default_factory=list)


def _date_segment(tag_qualifier: str, dates: tuple[str, str]) -> list[str]:
    start, end = dates
    if end and end != start:
        return ["DTP", tag_qualifier, "RD8", f"{start}-{end}"]
    return ["DTP", tag_qualifier, "D8", start]


def _counts(claims: list[ClaimAck], qualifiers: tuple[str, str]) -> list[list[str]]:
    """QTY accepted/rejected and AMT YU/YY, each only when its count is not zero."""
    accepted = [c for c in claims if c.accepted]
    rejected = [c for c in claims if not c.accepted]
    segments = []
    for qualifier, group in zip(qualifiers, (accepted, rejected), strict=True):
        if group:
            segments.append(["QTY", qualifier, str(len(group))])
    for qualifier, group in (("YU", accepted), ("YY", rejected)):
        if group:
            segments.append(["AMT", qualifier, amount(sum((c.charge_value for c in group),
                                                          Decimal(0)))])
    return segments


def _total(claims: list[ClaimAck]) -> str:
    return amount(sum((c.charge_value for c in claims), Decimal(0)))


def _name(parts: tuple[str, str, str, str], entity: str, qualifier: str) -> list[str]:
    """NM1 for a provider or submitter: (NM102, NM103, NM104, id)."""
    kind, last, first, identifier = parts
    person = kind == "1"
    if not clean(last) or not clean(identifier):
        raise CannotAcknowledge(f"NM1*{entity} has no name or identifier")
    return ["NM1", entity, "1" if person else "2", clean(last, 60),
            clean(first, 35) if person else "", "", "", "", qualifier, clean(identifier, 80)]


def transaction(ack: SetAck, *, st02: str, trace: str, now: dt.datetime, receipt: Status,
                accepted: Status, first_trace: int) -> list[list[str]]:
    """The segments of one 277CA transaction set, ST to SE (SE01 counted here).

    ``trace`` is the clearinghouse's trace number of this set (BHT03, 2200A
    TRN02); claim trace numbers (REF*D9) are ``first_trace`` onwards."""
    today = now.strftime("%Y%m%d")
    segments = [["ST", "277", st02, VERSION],
                ["BHT", "0085", "08", trace, today, now.strftime("%H%M"), "TH"],
                ["HL", "1", "", "20", "1"],
                ["NM1", "AY", "2", clean(ack.source[0], 60), "", "", "", "",
                 ack.source[1], clean(ack.source[2], 80)],
                ["TRN", "1", trace],
                ["DTP", "050", "D8", ack.received.strftime("%Y%m%d")],
                ["DTP", "009", "D8", today],
                ["HL", "2", "1", "21", "1"],
                _name(ack.submitter, "41", "46"),
                ["TRN", "2", clean(ack.reference, 50) or "0"],
                ["STC", receipt.composite(COMPONENT), today, ACCEPT, _total(ack.claims)],
                *_counts(ack.claims, ("90", "AA"))]
    hl = 2
    trace_number = first_trace
    for key in dict.fromkeys(c.provider_key for c in ack.claims):
        group = [c for c in ack.claims if c.provider_key == key]
        hl += 1
        provider_hl = hl
        segments += [["HL", str(provider_hl), "2", "19", "1"],
                     _name(group[0].provider, "85", "XX"),
                     ["TRN", "1", "0"],  # the guide's value when the source assigns none
                     ["STC", receipt.composite(COMPONENT), "", ACCEPT, _total(group)],
                     *_counts(group, ("QA", "QC"))]
        for claim in group:
            hl += 1
            segments += [["HL", str(hl), str(provider_hl), "PT"],
                         _patient(claim),
                         *_claim_status(claim, today, accepted, f"{trace_number:015d}")]
            trace_number += 1
    segments.append(["SE", str(len(segments) + 1), st02])
    return [_trim(segment) for segment in segments]


def _patient(claim: ClaimAck) -> list[str]:
    if not clean(claim.patient_last) or not clean(claim.member_id):
        raise CannotAcknowledge(f"claim {readable(claim.claim_id)} has no patient name or "
                                "subscriber id")
    return ["NM1", "QC", "1", clean(claim.patient_last, 60), clean(claim.patient_first, 35),
            "", "", "", "MI", clean(claim.member_id, 80)]


def _claim_status(claim: ClaimAck, today: str, accepted: Status,
                  trace: str) -> list[list[str]]:
    segments = [["TRN", "2", clean(claim.claim_id, 50) or "0"]]
    if claim.accepted:
        segments.append(["STC", accepted.composite(COMPONENT), today, ACCEPT, claim.charge])
    seen = set()
    for status, text in claim.reasons:
        stc = ["STC", status.composite(COMPONENT), today, REJECT, claim.charge,
               "", "", "", "", "", status.second(COMPONENT), "", clean(_prose(text), STC12_LENGTH)]
        if tuple(stc) not in seen:  # the same reason twice says nothing more
            seen.add(tuple(stc))
            segments.append(stc)
    segments.append(["REF", "D9", trace])
    if claim.bill_type:
        segments.append(["REF", "BLT", clean(claim.bill_type, 50)])
    segments.append(_date_segment("472", claim.dates))
    for line in claim.lines:
        segments += _line_status(line, today)
    return segments


def _line_status(line: LineAck, today: str) -> list[list[str]]:
    """2220D loops for one line: up to three statuses each (STC01, STC10, STC11)."""
    if line.procedure:
        qualifier = line.qualifier if line.qualifier in SVC_QUALIFIERS else "HC"
        procedure = [qualifier, clean(line.procedure, 48),
                     *(clean(m, 2) for m in line.modifiers[:4])]
        revenue = clean(line.revenue_code, 48)
    elif line.revenue_code:
        procedure, revenue = ["NU", clean(line.revenue_code, 48)], ""
    else:
        return []  # nothing to name the line by; the claim-level STCs say why
    # distinct as sent: two rules' rows (MOD002 and MOD003, UNT002 and UNT004) may
    # say the same category:status:entity, which STC10 must not repeat
    distinct = list(dict.fromkeys(s.composite(COMPONENT) for s in line.statuses))
    segments = []
    for first in range(0, len(distinct), 3):
        statuses = distinct[first:first + 3]
        statuses += [""] * (3 - len(statuses))
        segments += [["SVC", COMPONENT.join(procedure), line.charge, "", revenue, "", "",
                      line.units],
                     ["STC", statuses[0], today, REJECT, "", "", "", "", "", "",
                      statuses[1], statuses[2]]]
        if clean(line.control_number):
            segments.append(["REF", "FJ", clean(line.control_number, 50)])
        if line.dates[0]:
            segments.append(_date_segment("472", line.dates))
    return segments


def _trim(segment: list[str]) -> list[str]:
    """Drop empty trailing elements (X12 does not send them)."""
    end = len(segment)
    while end > 1 and segment[end - 1] == "":
        end -= 1
    return segment[:end]


def serialise(segments: list[list[str]],
              delimiters: tuple[str, str, str, str] = STANDARD) -> str:
    """The segments in ``delimiters`` (element, repetition, component, terminator):
    the structure's ``^ :`` become those, a value's punctuation itself, or a space
    where it is one of them (spaces then collapsed and trimmed, as X12 wants no
    leading or trailing ones)."""
    table = dict(zip(map(ord, STANDARD), delimiters, strict=True))
    table.update({ord(hidden): (" " if c in delimiters else c)
                  for hidden, c in ((chr(k), v) for k, v in _SHOW.items())})
    clashes = tuple(_HIDE[ord(c)] for c in delimiters if ord(c) in _HIDE)
    element, terminator = delimiters[0], delimiters[3]
    out = []
    for segment in segments:
        values = []
        for value in segment:
            text = value.translate(table)
            if any(hidden in value for hidden in clashes):
                text = " ".join(text.split())
            values.append(text)
        out.append(element.join(values) + terminator + "\n")
    return "".join(out)


def interchange_header(sender: tuple[str, str], receiver: tuple[str, str], gs_sender: str,
                       gs_receiver: str, usage: str, number: int, now: dt.datetime,
                       delimiters: tuple[str, str, str, str] = STANDARD) -> str:
    """ISA and GS (functional group HN) of one 277CA interchange; ``sender`` and
    ``receiver`` are (qualifier, id)."""
    isa = ["ISA", "00", " " * 10, "00", " " * 10, sender[0], _fixed(sender[1], delimiters),
           receiver[0], _fixed(receiver[1], delimiters), now.strftime("%y%m%d"),
           now.strftime("%H%M"), REPETITION, "00501", f"{number:09d}", "0",
           usage if usage in ("P", "T") else "P", COMPONENT]
    gs = ["GS", "HN", clean(gs_sender, 15), clean(gs_receiver, 15), now.strftime("%Y%m%d"),
          now.strftime("%H%M"), str(number), "X", VERSION]
    return serialise([isa, gs], delimiters)


def _fixed(value: str, delimiters: tuple[str, str, str, str], width: int = 15) -> str:
    """A fixed-width ISA value: its punctuation shown, the delimiters as spaces, padded."""
    text = "".join(c if c not in delimiters else " " for c in clean(value, width)
                   .translate(_SHOW))
    return text.strip().ljust(width)


def interchange_trailer(sets: int, number: int,
                        delimiters: tuple[str, str, str, str] = STANDARD) -> str:
    return serialise([["GE", str(sets), str(number)], ["IEA", "1", f"{number:09d}"]],
                     delimiters)
