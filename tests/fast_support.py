"""Inputs and comparisons for the fast-path tests: both readers on the same bytes."""
import io
import random

from edi837.extract import is_drug_line
from edi837.generator import generate
from edi837.reader.claims import ClaimReader
from edi837.x12 import reader as reader_module
from edi837.x12.fragment import header_segments, wrap_claims

TABLE = ("J2350", "J2351", "J2323", "J2357", "J3262", "J3380")


def generated(kind="837P", claims=300, seed=1, *, defect_rate=0.3, drug_share=None,
              newline="\n", terminator="~", claims_per_st=40) -> bytes:
    out = io.StringIO(newline="")
    generate(out, kind, claims=claims, seed=seed, defect_rate=defect_rate,
             drug_share=drug_share, newline=newline, terminator=terminator,
             claims_per_st=claims_per_st)
    return out.getvalue().encode("latin-1")


def with_delimiters(data: bytes, element: str, component: str) -> bytes:
    """The generator's '*' and ':' as other characters (it writes neither in values)."""
    return data.replace(b"*", element.encode("latin-1")).replace(b":", component.encode("latin-1"))


def outcome(data: bytes, *, fast: bool, codes=TABLE, chunk: int | None = None,
            monkeypatch=None) -> dict:
    """Everything a reader tells its caller: each drug claim with every field, every
    finding with every field, and the counts."""
    if chunk is not None:
        monkeypatch.setattr(reader_module, "CHUNK_SIZE", chunk)
    reader = ClaimReader("input.edi", io.BytesIO(data), drug_codes=codes, fast=fast)
    yielded = list(reader.claims())
    drug = [repr(claim) for claim in yielded
            if any(is_drug_line(line, codes.__contains__) for line in claim.lines)]
    return {"drug claims": drug, "findings": [repr(f) for f in reader.findings],
            "claims": reader.claim_count, "transactions": reader.transactions,
            "sets": reader.claim_sets, "interchanges": reader.interchanges,
            "incomplete": reader.incomplete_claims, "unreadable": reader.unreadable,
            "segments": reader.segments.segment_count, "yielded": len(yielded)}


def assert_same(data: bytes, monkeypatch, *, codes=TABLE, chunks=(None,)) -> dict:
    """The fast path tells what the full reader tells (claims it passed over are
    counted, not yielded), at every chunk size given."""
    full = outcome(data, fast=False, codes=codes)
    for chunk in chunks:
        fast = outcome(data, fast=True, codes=codes, chunk=chunk, monkeypatch=monkeypatch)
        assert fast["yielded"] <= full["yielded"]
        for key in full:
            if key != "yielded":
                assert fast[key] == full[key], f"{key} differ (chunk {chunk})"
        if chunk is not None:
            monkeypatch.setattr(reader_module, "CHUNK_SIZE", 1 << 20)
    return full


def envelope(body: list[str], kind="837P", control="000000001", se_count=None) -> str:
    """ISA, GS, the set (ST from ``body``) with a right SE01, GE, IEA."""
    version = "005010X222A1" if kind == "837P" else "005010X223A2"
    count = len(body) + 1 if se_count is None else se_count
    return "~\n".join([
        "ISA*00*          *00*          *ZZ*EDI837SUBMIT   *ZZ*EDI837RECEIVE  "
        f"*261101*1200*^*00501*{control}*0*T*:",
        f"GS*HC*EDI837SUBMIT*EDI837RECEIVE*20261101*1200*1*X*{version}",
        *body, f"SE*{count}*0001", "GE*1*1", f"IEA*1*{control}"]) + "~\n"


def claim(claim_id: str, *lines: str, extra: str = "") -> list[str]:
    """A claim (CLM, HI) with service lines, each "SV1..." string as one LX loop."""
    segments = [f"CLM*{claim_id}*100***11:B:1*Y*A*Y*Y", "HI*ABK:G35A"]
    if extra:
        segments += extra.split("\n")
    for number, line in enumerate(lines, 1):
        segments += [f"LX*{number}"] + line.split("\n")
    return segments


VISIT = "SV1*HC:99213*100*UN*1***1\nDTP*472*D8*20260115"
DRUG = "SV1*HC:J2350:JZ*9000*UN*600***1\nDTP*472*D8*20260115\nLIN**N4*50242015001\nCTP****20*ML"


def subscriber(number: int, parent: int, *, children: bool = False, name: str = "DOE") -> list[str]:
    return [f"HL*{number}*{parent}*22*{1 if children else 0}", "SBR*P*18*******MB",
            f"NM1*IL*1*{name}*JANE****MI*SYN{number:09d}", "DMG*D8*19800101*F",
            "NM1*PR*2*SYNTHETIC PAYER*****PI*PAYER01"]


def patient(number: int, parent: int, name: str = "KID") -> list[str]:
    return [f"HL*{number}*{parent}*23*0", "PAT*19", f"NM1*QC*1*{name}*ANN",
            "DMG*D8*20100101*M"]


def billing(number: int) -> list[str]:
    return [f"HL*{number}**20*1", f"NM1*85*2*CLINIC {number}*****XX*1234567893"]


def hierarchy_file(rng: random.Random, units: int, drug_share: float) -> str:
    """Billing providers, subscribers and dependants in random order, claims under
    subscribers and patients, a few of them drug claims."""
    header = header_segments("837P")[:5]  # ST .. NM1*40
    body = list(header)
    number = 1
    level20 = level22 = None
    for unit in range(units):
        choice = rng.random()
        if level20 is None or choice < 0.08:
            body += billing(number)
            level20 = number
        elif level22 is None or choice < 0.6:
            children = rng.random() < 0.3
            body += subscriber(number, level20, children=children, name=f"S{unit}")
            level22 = number
            if not children:
                body += _claims(rng, unit, drug_share)
        else:
            body += patient(number, level22, name=f"P{unit}")
            body += _claims(rng, unit, drug_share)
        number += 1
    return envelope(body)


def _claims(rng, unit, drug_share):
    segments = []
    for k in range(rng.choice((1, 1, 2, 3))):
        lines = [DRUG if rng.random() < drug_share else VISIT for _ in range(rng.choice((1, 2)))]
        segments += claim(f"C{unit}-{k}", *lines)
    return segments


__all__ = ["TABLE", "assert_same", "claim", "envelope", "generated", "hierarchy_file",
           "outcome", "with_delimiters", "wrap_claims", "billing", "subscriber", "patient",
           "VISIT", "DRUG"]
