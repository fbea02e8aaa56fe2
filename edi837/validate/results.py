"""From pyx12's errors to findings, and its 999s to one 999 per file."""
from __future__ import annotations

from typing import Collection

from ..findings import ERROR, Finding
from ..model import is_digits
from ..results import FileResult
from .acceptance import Acceptance
from .prepare import _Prepared
from .reading import read_claims
from .ta1 import interchange_codes, interchange_fault, with_ta1s
from .units import CRASH_RULE, _Error, _Range, _Unit, _UnitResult

# -- results ----------------------------------------------------------------------
_LEVEL_RULE = {"H": "IGH", "S": "IGS", "E": "IGE"}
TRAILER_MISSING = "3"  # AK905 (716): functional group trailer missing
# IK5 (718 code 1, transaction set not supported): a set edi837 does not read as an 837
NOT_SUPPORTED = "IK5*R*1~"


def _finding(prep: _Prepared, error: _Error) -> Finding:
    message = error.message
    if error.element and error.element.split("-")[0] not in message:
        message = f"{error.element}: {message}"
    if error.bad_value and error.bad_value not in message:
        message += f" (value {error.bad_value!r})"
    isa13, gs06, st02 = prep.context(error.index)
    # the claim holding the segment, else the first under the HL loop holding it (a
    # subscriber's SBR: the claims it holds, as check ties its findings)
    claim_id, claim_first, claim_last = prep.claim_at(error.index) or \
        prep.claim_under(error.index) or (None, None, None)
    return Finding(
        f"{_LEVEL_RULE[error.level]}{error.code}", ERROR, message, prep.path,
        segment_index=error.index, segment=error.segment, loop=error.loop,
        claim_id=claim_id, value=error.element or error.bad_value,
        interchange=isa13, group=gs06, transaction=st02,
        claim_first=claim_first, claim_last=claim_last,
        extra={"pyx12_code": error.code, "bad_value": error.bad_value})


def _finish(prep: _Prepared, results: list[_UnitResult], reader_findings: bool
            ) -> tuple[FileResult, str | None]:
    """Turn the units' results into the file's findings and its 999."""
    result = FileResult(prep.path, transactions=prep.transactions, claims=prep.claims,
                        size=prep.size, sha256=prep.sha256)
    findings = result.findings
    if reader_findings:
        findings.extend(prep.findings)
    for unit_result in results:  # (a stray outside the groups: the interchange's fault)
        findings.extend(_finding(prep, interchange_fault(prep, error))
                        for error in unit_result.errors)
    findings.extend(_crash_findings(prep, results))
    unreadable, skipped = prep.unreadable, frozenset[int]()
    if prep.units:  # the file was read: what check's reader says of it and its claims
        read, skipped = _claims_read(prep, findings, reader_findings)
        unreadable = read or unreadable
    findings.sort(key=Finding.sort_key)
    if unreadable:
        result.status = "unreadable"
    result.settle_status()
    ack = None
    if results and prep.units[0].skeleton and not results[0].crash:
        ack = _assemble_999(results, prep.units, _skipped_sets(prep, skipped))
        if ack is None and any(line.startswith("ST*999") for line in results[0].ack):
            # pyx12's 999 writer raised half way (it logs and goes on): no 999
            result.findings.append(Finding(
                CRASH_RULE, ERROR, f"pyx12 could not write the 999 of {prep.path}: it stopped "
                "before the interchange's end", prep.path))
            result.settle_status()
    if ack is not None:  # an interchange's fault is its TA1's (edi837.validate.ta1)
        ack = with_ta1s(ack, prep.interchanges, interchange_codes(findings))
        result.rejected_sets = _rejected_sets(prep, ack)
    return result, ack


def _rejected_sets(prep: _Prepared, ack: str) -> list[tuple[str, str, str, int]]:
    """(ISA13, GS06, ST02, claims) of each transaction set the file's 999 does not
    accept, in file order: its IK5, or its group's AK9, rejects it, or the 999 does not
    mention it, as `ack` reads a 999 (edi837.validate.acceptance).  Sets that share a
    GS06 and ST02 (two interchanges) take the 999's verdicts in the order given."""
    verdicts = Acceptance.from_segments(
        (line.rstrip("~").split("*") for line in ack.splitlines()), "the 999")
    return [(isa13, gs06, st02, claims) for isa13, gs06, st02, claims in prep.sets
            if verdicts.verdict(isa13, gs06, st02) is not None]


def _claims_read(prep: _Prepared, findings: list[Finding], reader_findings: bool
                 ) -> tuple[bool, frozenset[int]]:
    """Fill the findings' claim facts from check's reader; whether that reader could
    not read the file (its errors join the findings with ``reader_findings``, unless a
    segment reader error is a finding already), and the ST segment indices of the
    transaction sets it skips (EDI005: not 837s of a version edi837 reads)."""
    verdict = read_claims(prep.path, {f.claim_first for f in findings
                                      if f.claim_first is not None})
    for finding in findings:
        claim = verdict.facts.get(finding.claim_first)
        if claim is not None:
            claim.fill(finding)
    if not verdict.errors or prep.unreadable:
        return False, verdict.skipped_sets
    if reader_findings:
        findings.extend(verdict.errors)
    return verdict.unreadable, verdict.skipped_sets


def _crash_findings(prep: _Prepared, results: list[_UnitResult]) -> list[Finding]:
    """One finding for the work units pyx12 crashed on, if any."""
    crashes = [r for r in results if r.crash]
    if not crashes:
        return []
    first = crashes[0]
    near = f" near segment {first.crash_index}" if first.crash_index else ""
    more = f" ({len(crashes)} of {len(results)} work units)" if len(crashes) > 1 else ""
    return [Finding(CRASH_RULE, ERROR, f"pyx12 could not validate {prep.path}{near}{more}: "
                    f"{first.crash}", prep.path, value=first.crash)]


def _skipped_sets(prep: _Prepared, skipped: Collection[int]) -> set[tuple[int, str]]:
    """The (work unit, ST02) of each transaction set whose ST is at a segment index in
    ``skipped`` (a unit holds sets of one group: their ST02s name them in its 999)."""
    found = set()
    for number, unit in enumerate(prep.units):
        for part in unit.parts:
            if isinstance(part, _Range) and part.first_index in skipped:
                found.add((number, prep.context(part.first_index)[2] or ""))
    return found


def _set_blocks(results: list[_UnitResult], units: list[_Unit],
                skipped: Collection[tuple[int, str]] = ()) -> list[list[str] | None]:
    """Each transaction set's AK2..IK5 from the unit that validated it, in file order
    (None for the sets of a unit pyx12 crashed on).  A set `check`'s reader skips
    ((unit, ST02) in ``skipped``) is not supported: IK5 R, code 1."""
    blocks: list[list[str] | None] = []
    for number, (unit, unit_result) in enumerate(zip(units[1:], results[1:], strict=False),
                                                 start=1):
        if not unit_result.ack:  # pyx12 crashed on the unit
            blocks.extend([None] * unit.sets)
            continue
        rejected = False
        for line in unit_result.ack:
            if line.startswith("AK2"):
                blocks.append([])
                fields = line.rstrip("~").split("*")
                rejected = (number, fields[2] if len(fields) > 2 else "") in skipped
                if rejected:
                    blocks[-1] += [line, NOT_SUPPORTED]
            if not rejected:
                blocks[-1].append(line)
    return blocks


def _assemble_999(results: list[_UnitResult], units: list[_Unit],
                  skipped: Collection[tuple[int, str]] = ()) -> str | None:
    """The file's 999: the skeleton's, with each transaction set's AK2..IK5
    taken from the unit that validated it (a set in ``skipped`` rejected), and
    AK9 and SE01 recounted."""
    skeleton = results[0]
    blocks = _set_blocks(results, units, skipped)
    if not any(line.startswith("ST*999") for line in skeleton.ack):
        return None  # no 5010 group to acknowledge (pyx12 writes 997s for 4010)
    if not skeleton.ack[-1].startswith("IEA") or \
            any(real is not None and not real[-1].startswith("IK5") for real in blocks):
        return None  # pyx12's writer stopped half way: a cut-off 999 is none
    out: list[str] = []
    pending = iter(blocks)
    i = 0
    lines = skeleton.ack
    while i < len(lines):
        line = lines[i]
        if line.startswith("AK2"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("AK2", "AK9")):
                j += 1
            real = next(pending, None)
            # A unit pyx12 crashed on: the set cannot be accepted.
            out.extend(real if real else [line, "IK5*R*5~"])
            i = j
            continue
        if line.startswith("AK9"):
            out.append(_recount_ak9(line, out))
        elif line.startswith("SE*"):
            start = max(k for k, seg in enumerate(out) if seg.startswith("ST*"))
            out.append(f"SE*{len(out) - start + 1}*{line.split('*')[2]}")
        else:
            out.append(line)
        i += 1
    return "\n".join(out) + "\n"


def _recount_ak9(line: str, out: list[str]) -> str:
    """The group's AK9 for the AK2s written: AK903 (data element 123, number of received
    transaction sets) counts them, and AK904 (2, accepted) their accepting IK5s.  AK902
    (97, number of transaction sets included) is the group's GE01 as pyx12 read it; with
    no GE (AK905 3, functional group trailer missing: a truncated file) there is no GE01,
    and pyx12's 0 would deny the AK2s present, so it is the sets received."""
    fields = line.rstrip("~").split("*")
    fields += [""] * (5 - len(fields))
    start = max(k for k, seg in enumerate(out) if seg.startswith("ST*"))
    ik5 = [seg.rstrip("~").split("*")[1] for seg in out[start:] if seg.startswith("IK5")]
    accepted = sum(code in ("A", "E") for code in ik5)
    received = sum(seg.startswith("AK2") for seg in out[start:])
    group_errors = [code for code in fields[5:] if code]
    if TRAILER_MISSING in group_errors or not is_digits(fields[2]):
        fields[2] = str(received)
    fields[3] = str(received)
    if group_errors or accepted == 0 and received:
        code = "R"
    elif accepted < received:
        code = "P"
    else:
        code = "A"
    fields[1], fields[4] = code, str(accepted)
    return "*".join(fields) + "~"


