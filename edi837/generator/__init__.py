"""Synthetic 837P and 837I claim files: realistic, deterministic by seed, any size.

There is no shareable corpus of real claim files, so tests, demos and load runs
use files made here.  Every name, member id, NPI and control number is made up;
NPIs carry a valid Luhn check digit (prefix 80840) so NPI checks pass.

What a file holds (005010X222A1 for 837P, 005010X223A2 for 837I):

* one ISA/IEA interchange with one GS/GE group, split into ST/SE transaction
  sets of at most `claims_per_st` claims, each with one billing provider (2000A);
* subscribers who are the patient (2000B with claims) and dependants (2000B,
  then 2000C with the claims);
* about 75% J2350 ocrelizumab claims: a 600 mg maintenance dose, or the two
  300 mg initial doses 14 days apart for one patient, billed with JZ, NDC
  50242015001 and `CTP****10*ML` per 300 mg vial, plus the infusion lines
  (96365/96366 or 96413/96415) and an MS diagnosis valid on the date (G35 before
  2025-10-01, G35.A-G35.D from then on);
* other infused or injected drugs (J3262 tocilizumab with weight-based doses
  and a JW line for the discarded part of the last vial, J3380 vedolizumab,
  J2357 omalizumab, J2323 natalizumab) and office or clinic visits;
* now and then loops the drug rules do not need (2320/2330 other payer with
  2430 line adjudication, PWK attachments, prior authorisation, line control
  numbers), so a reader is exercised on them.

About `defect_rate` of the drug claims carry one billing defect, each a
realistic mistake that stays valid for the implementation guide (pyx12 accepts
the file): missing JZ, JW with JZ, a hyphenated, wrong or missing NDC, Ocrevus
Zunovo's NDC on J2350, a zero or inconsistent NDC quantity, 450 or 900 units,
bare G35 on or after 2025-10-01 (or G35.x before), no MS diagnosis, no or the
wrong administration line, an SV107 pointer past the last diagnosis (837P) and
revenue code 0250 (837I).  `DEFECT_RULES` maps each defect to the rule codes
of the rule catalog it should trigger; `generate()` returns how many claims
carry each defect, so a checker's findings can be compared with it.

Payers are drawn in realistic shares (Medicare fee-for-service 40%, commercial
and managed care 42%, Medicare Advantage 10%, Medicaid 8%), and 837I drug
claims get types of bill 13x (70%), 85x, 11x, 71x and 77x.  A defect whose
weight depends on the payer (no JW/JZ, no NDC: edi837.policy) is planted only
where that payer's policy flags it, and labelled by it: `defects_held` counts
the claims whose payer would deny the defect (an error), the rest are warnings.

The file is written segment by segment, one patient at a time, so memory stays
flat however large the output (a 500 MB file takes under a minute and about
20 MB of memory).  With `size=` the file ends at the patient boundary nearest
to the target.

Layout: ``facts`` (guides, drugs, payers, names), ``model`` (the claims,
made-up identities and X12 numbers), ``scenarios`` (clean claims), ``defects``
(the billing defects planted in them), ``x12`` (the writers), ``nights`` (a
year of nightly files for the patient history);
``generate`` and the command line here.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from typing import Iterator, TextIO

from .defects import DEFECT_RULES, DEFECTS
from .facts import COMPONENT, CREATED, ELEMENT, GUIDE_VERSION, REPETITION
from .model import Patient
from .scenarios import ClaimFactory
from .x12 import WRITERS, SegmentWriter, d8, isa_segment

__all__ = ["DEFECTS", "DEFECT_RULES", "generate", "main"]


# --------------------------------------------------------------------------
# The generator.
# --------------------------------------------------------------------------

DEFAULT_DEFECT_RATE = 0.05  # the share of drug claims with a defect, as `edi837 generate`


def generate(out: TextIO, kind: str = "837P", *, claims: int | None = None, size: int | None = None,
             seed: int = 0, defect_rate: float = DEFAULT_DEFECT_RATE, claims_per_st: int = 500,
             drug_share: float | None = None,
             terminator: str = "~", newline: str = "\n") -> dict:
    """Write one synthetic 837 interchange to `out`; return what was written.

    Give either `claims` (exact count) or `size` (approximate bytes: the file
    ends at the patient boundary nearest to it).  A transaction set holds at most
    `claims_per_st` claims; a patient's claims are not split between two.
    The same arguments always give the same bytes.

    Returns {"claims", "drug_lines", "service_lines", "transactions",
    "segments", "bytes", "defects": {defect name: claims}, "defects_held": {defect
    name: claims whose payer policy makes the defect an error}}.  `bytes` counts
    characters written, which equals bytes unless `out` translates newlines
    (open files with newline="").
    """
    check_arguments(kind, claims, size, defect_rate, claims_per_st, terminator, newline)
    rng = random.Random(seed)
    if drug_share is not None and not 0 < drug_share <= 1:
        raise ValueError("drug_share must be above 0 and at most 1")
    factory = ClaimFactory(rng, kind, defect_rate, drug_share)
    segments = SegmentWriter(out, terminator, newline)
    transactions = WRITERS[kind](segments, kind)
    stats = Counter()
    defects: Counter[str] = Counter()
    held: Counter[str] = Counter()

    interchange_number = rng.randrange(1, 10**9)
    group_number = rng.randrange(1, 10**6)
    segments.raw(isa_segment("EDI837SYN", "EXCLEAR01", interchange_number))
    segments.segment("GS", "HC", "EDI837SYN", "EXCLEAR01", d8(CREATED), "1200",
                     str(group_number), "X", GUIDE_VERSION[kind])
    total_segments = 2

    def wanted_more() -> bool:
        if stats["claims"] == 0:
            return True  # even a tiny size gets one claim: an empty group is not valid X12
        if claims is not None:
            return stats["claims"] < claims
        # Stop at the patient boundary nearest the target: go on while half an
        # average patient and the trailers (SE, GE, IEA: about 50 bytes) still fit.
        average_patient = segments.written / stats["patients"]
        return segments.written + average_patient / 2 + 50 < size

    def patients() -> Iterator[Patient]:
        """Patients until the count or size is reached, each cut to fit one transaction."""
        while wanted_more():
            patient = factory.patient()
            room = claims_per_st if claims is None else min(claims_per_st, claims - stats["claims"])
            del patient.claims[room:]
            yield patient

    upcoming = patients()
    patient = next(upcoming, None)
    while patient is not None:
        stats["transactions"] += 1
        control_number = f"{stats['transactions']:04d}"
        billing = rng.choice(factory.billing_providers)
        transactions.start(control_number, f"B{interchange_number:09d}{control_number}", billing)
        in_transaction = 0
        # A patient's claims stay together in one transaction.
        while patient is not None and in_transaction + len(patient.claims) <= claims_per_st:
            transactions.patient(patient)
            segments.flush()
            in_transaction += len(patient.claims)
            stats["patients"] += 1
            count_claims(patient, stats, defects, held)
            patient = next(upcoming, None)
        transactions.finish(control_number)
        total_segments += segments.segments_in_transaction
        segments.flush()

    segments.segment("GE", str(stats["transactions"]), str(group_number))
    segments.raw(f"IEA{ELEMENT}1{ELEMENT}{interchange_number:09d}")
    segments.flush()
    return {
        "claims": stats["claims"],
        "drug_lines": stats["drug_lines"],
        "service_lines": stats["service_lines"],
        "transactions": stats["transactions"],
        "segments": total_segments + 2,
        "bytes": segments.written,
        "defects": dict(sorted(defects.items())),
        "defects_held": dict(sorted(held.items())),
    }


def count_claims(patient: Patient, stats: Counter, defects: Counter,
                 held: Counter | None = None) -> None:
    for claim in patient.claims:
        stats["claims"] += 1
        stats["service_lines"] += len(claim.lines)
        stats["drug_lines"] += sum(1 for line in claim.lines if line.is_drug)
        if claim.defect:
            defects[claim.defect] += 1
            if held is not None and claim.defect_severity == "error":
                held[claim.defect] += 1


def check_arguments(kind: str, claims: int | None, size: int | None, defect_rate: float,
                    claims_per_st: int, terminator: str, newline: str) -> None:
    if kind not in GUIDE_VERSION:
        raise ValueError(f"kind must be one of {', '.join(GUIDE_VERSION)}, not {kind!r}")
    if (claims is None) == (size is None):
        raise ValueError("give either claims or size")
    if claims is not None and claims < 1:
        raise ValueError("claims must be at least 1")
    if size is not None and size < 1:
        raise ValueError("size must be positive")
    if not 0 <= defect_rate <= 1:
        raise ValueError("defect_rate must be between 0 and 1")
    if claims_per_st < 1:
        raise ValueError("claims_per_st must be at least 1")
    # The data holds letters, digits, spaces, '-' (date ranges, hyphenated NDCs) and '.' (amounts).
    if len(terminator) != 1 or terminator.isalnum() or \
            terminator in ELEMENT + COMPONENT + REPETITION + " -.":
        raise ValueError("terminator must be one character that is not a letter, digit, space, "
                         "'-', '.' or another delimiter")
    if newline not in ("", "\n", "\r\n") or (terminator == "\n" and newline):
        raise ValueError('newline must be "", "\\n" or "\\r\\n" (and "" when the terminator '
                         'is a newline)')


def parse_size(text: str) -> int:
    """'500MB', '20k', '1048576' -> bytes (K/M/G are powers of 1000, KiB/MiB/GiB of 1024)."""
    units = {"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "KB": 1000, "MB": 1000**2, "GB": 1000**3,
             "K": 1000, "M": 1000**2, "G": 1000**3, "B": 1}
    upper = text.strip().upper()
    for suffix, factor in units.items():
        if upper.endswith(suffix):
            return int(float(upper[: -len(suffix)]) * factor)
    return int(upper)


def main(argv: list[str] | None = None) -> int:
    """The same options as `edi837 generate` (which adds atomic writes and --force)."""
    parser = argparse.ArgumentParser(prog="python -m edi837.generator",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=sorted(GUIDE_VERSION), default="837P")
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--claims", type=int, help="exact number of claims")
    amount.add_argument("--size", type=parse_size, help="approximate file size, e.g. 500MB")
    amount.add_argument("--nights", type=int,
                        help="instead: a patient-history corpus, one file per night for this "
                             "many nights (at least 30), with manifest.json; needs --out-dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--defect-rate", type=float, default=None,
                        help=f"share of drug claims with one billing defect (default "
                             f"{DEFAULT_DEFECT_RATE}; visits carry none)")
    parser.add_argument("--drug-share", type=float, default=None,
                        help="share of episodes with a drug claim (a nightly mix: 0.02); "
                             "default the dense mix of about 80%%")
    parser.add_argument("--claims-per-st", type=int, default=500)
    parser.add_argument("--segment-newline", choices=("none", "lf", "crlf"), default="lf",
                        help="line break after each segment terminator (default lf)")
    parser.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    parser.add_argument("--out-dir", help="folder for the --nights files")
    args = parser.parse_args(argv)
    if args.nights is not None:
        return _nights(parser, args)
    if args.out_dir is not None:
        parser.error("--out-dir is for --nights N; for one file give -o FILE")
    newline = {"none": "", "lf": "\n", "crlf": "\r\n"}[args.segment_newline]
    defect_rate = DEFAULT_DEFECT_RATE if args.defect_rate is None else args.defect_rate
    options = dict(claims=args.claims, size=args.size, seed=args.seed, defect_rate=defect_rate,
                   claims_per_st=args.claims_per_st, newline=newline,
                   drug_share=args.drug_share)
    try:
        if args.output == "-":
            stats = generate(sys.stdout, args.kind, **options)
        else:
            with open(args.output, "w", encoding="ascii", newline="") as out:
                stats = generate(out, args.kind, **options)
    except ValueError as exc:
        parser.error(str(exc))
    summary = ", ".join(f"{key} {value}" for key, value in stats.items() if key != "defects")
    print(f"{args.kind}: {summary}; defects {stats['defects']}", file=sys.stderr)
    return 0


def _nights(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """--nights N --out-dir DIR: the patient-history corpus (edi837.generator.nights)."""
    from pathlib import Path

    from .nights import generate_nights

    given = [name for name, value in (("--defect-rate", args.defect_rate),
                                      ("--drug-share", args.drug_share))
             if value is not None]
    if args.output != "-":
        given.append("-o")
    if given:  # the corpus plants its own events in clean claims
        parser.error(f"--nights writes clean nightly files with planted events: "
                     f"{', '.join(given)} cannot be given with it")
    if args.out_dir is None:
        parser.error("--nights needs --out-dir DIR (the folder for the nightly files and "
                     "manifest.json)")
    try:
        manifest = generate_nights(Path(args.out_dir), nights=args.nights, seed=args.seed,
                                   kind=args.kind)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{args.out_dir}: {len(manifest['files'])} nightly files, {len(manifest['claims'])} "
          f"claims, {manifest['planted']} planted events", file=sys.stderr)
    return 0
