"""Wrap a claim fragment (loop 2300 onwards) in a complete 837 interchange.

Rule documentation shows small PASS and FAIL fragments (a CLM, its HI, a few
service lines); the tests and `edi837 rules --example` turn them into files
with this, so every example in the docs is read by the real reader.  The
wrapper supplies synthetic envelopes, submitter/receiver, billing provider,
subscriber and payer, and computes SE01 so the result is a valid transaction.
"""
from __future__ import annotations

from ..model import INSTITUTIONAL, PROFESSIONAL

ISA = ("ISA*00*          *00*          *ZZ*EDI837SUBMIT   *ZZ*EDI837RECEIVE  "
       "*261101*1200*^*00501*{control}*0*T*:~")
VERSION = {PROFESSIONAL: "005010X222A1", INSTITUTIONAL: "005010X223A2"}
# In a documented fragment, the line between two files checked one after the
# other with the same history (the HIS rules need an earlier claim).
NEXT_NIGHT = "--- next night ---"


def nights(fragment: str) -> list[str]:
    """A fragment's files, in the order they are checked."""
    return [part for part in fragment.split(NEXT_NIGHT)]


def fragment_segments(fragment: str) -> list[str]:
    """Split a fragment written one segment per line (with or without ~)."""
    segments = []
    for part in fragment.replace("\n", "~").split("~"):
        part = part.strip()
        if part:
            segments.append(part)
    return segments


def header_segments(kind: str, payer_id: str = "PAYER01", filing: str = "MB",
                    transaction: str = "0001", billing: str | None = None,
                    subscriber: bool = True) -> list[str]:
    """ST through the subscriber/payer loops (2000B with the subscriber as patient).

    ``billing``: the 2010AA NM1*85 to use instead of the synthetic organisation;
    ``subscriber`` False: the fragment brings its own 2000B/2000C loops (HL*2 on)."""
    segments = [
        f"ST*837*{transaction}*{VERSION[kind]}",
        "BHT*0019*00*BATCH0001*20261101*1200*CH",
        "NM1*41*2*EDI837 TEST SUBMITTER*****46*SUB0001",
        "PER*IC*TEST DESK*TE*5555550100",
        "NM1*40*2*EDI837 TEST RECEIVER*****46*REC0001",
        "HL*1**20*1",
    ]
    if billing:
        segments += [billing]
    elif kind == PROFESSIONAL:
        segments += ["NM1*85*2*SYNTHETIC INFUSION CLINIC*****XX*1234567893"]
    else:
        segments += ["NM1*85*2*SYNTHETIC HOSPITAL*****XX*1234567893"]
    segments += [
        "N3*100 EXAMPLE ST",
        "N4*SPRINGFIELD*IL*627010000",
        "REF*EI*990000001",
    ]
    if not subscriber:
        return segments
    segments += [
        "HL*2*1*22*0",
        f"SBR*P*18*******{filing}",
        "NM1*IL*1*DOE*JANE****MI*SYN000000001",
        "N3*1 TEST LANE",
        "N4*SPRINGFIELD*IL*627010000",
        "DMG*D8*19800101*F",
        f"NM1*PR*2*SYNTHETIC PAYER*****PI*{payer_id}",
    ]
    return segments


def wrap_claims(fragment: str, kind: str = PROFESSIONAL, *, control: str = "000000001",
                payer_id: str = "PAYER01", filing: str = "MB", billing: str | None = None,
                subscriber: bool = True) -> str:
    """A complete interchange holding the claim fragment, one segment per line."""
    body = header_segments(kind, payer_id, filing, billing=billing, subscriber=subscriber) + \
        fragment_segments(fragment)
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [ISA.format(control=control)[:-1],
                f"GS*HC*EDI837SUBMIT*EDI837RECEIVE*20261101*1200*1*X*{VERSION[kind]}"]
    segments += body
    segments += ["GE*1*1", f"IEA*1*{control}"]
    return "~\n".join(segments) + "~\n"
