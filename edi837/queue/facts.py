"""What one checked file tells the work queue: its claims, held or not.

A batch worker writes ``queue.jsonl`` beside a file's reports (one JSON object
a line, see :func:`claim_facts`); the driver feeds it to the queue store when
the file is done (``edi837.batch.queue_sync``), so a run killed before that point
is caught up by the next start from the same file.

What it keeps of a claim: CLM01, payer id and name, billing NPI, the
submitter (1000A NM109 and NM103), CLM02, CLM05-3, the rules of its error
findings and of its warnings, and the patient and services only as keyed hashes (the patient
history's HMAC, under the history's key): never a name, member id or birth
date.  A claim with warnings and no error is written too (``listed``: the
run's own work list on the morning page shows it; the queue, which holds
only held claims, passes over it).  Without a lasting history the patient is left out (a run's own key
would not match the next run's), and a held claim is then matched by CLM01,
payer and billing NPI alone.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, Iterator

from ..findings import ERROR, WARNING
from ..model import envelope_key

QUEUE_FILE = "queue.jsonl"  # beside a file's reports in OUTDIR/<run-id>/files/<name>/


def service_key(patient: str, payer_id: str, billing_npi: str, date: str, hcpcs: str) -> str:
    """One drug service of a patient (keyed patient hash, payer, NPI, date, HCPCS):
    what a corrected resend under another claim id has in common with the original."""
    text = "\x1f".join((patient, payer_id, billing_npi, date, hcpcs))
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def claim_facts(records: Iterable, findings: Iterable, *, submitters: dict | None = None,
                persistent: bool) -> Iterator[dict]:
    """One dict per claim of a checked file: the drug claims of its history records
    (``edi837.history.records.ClaimRecord``), held when an error finding sits on
    them, and any other claim an error finding holds.  ``submitters``: the file's
    submitter (1000A NM109, NM103) of each transaction set, as the reader found them
    (``FileResult.submitters``): a file may carry sets of several submitters."""
    submitters = submitters or {}

    def submitter(where) -> tuple[str, str]:
        found = submitters.get(envelope_key(where.interchange, where.group,
                                            where.transaction))
        return (found[0], found[1]) if found else ("", "")

    errors: dict[int | tuple, list] = {}
    warned: dict[int | tuple, list] = {}  # a claim's warnings (the run's own work list)
    for finding in findings:
        if finding.severity not in (ERROR, WARNING) or finding.claim_id is None:
            continue
        key = finding.claim_first if finding.claim_first is not None else \
            ("id", finding.claim_id, finding.payer_id or "", finding.billing_npi or "")
        (errors if finding.severity == ERROR else warned).setdefault(key, []).append(finding)
    seen = set()
    for record in records:
        held = errors.get(record.first_index, [])
        seen.add(record.first_index)
        patient = record.patient.hex() if persistent else ""
        services = sorted({service_key(patient, record.payer_id, record.billing_npi,
                                       line.date, line.hcpcs) for line in record.lines}) \
            if persistent else []
        yield _facts(record.claim_id, record.payer_id, record.payer_name, record.billing_npi,
                     record.charge, record.frequency, patient, services, held,
                     *submitter(record), warned.get(record.first_index, ()))
    for key, held in errors.items():
        if key in seen:
            continue
        seen.add(key)
        first = held[0]
        yield _facts(first.claim_id, first.payer_id or "", first.payer_name or "",
                     first.billing_npi or "", first.claim_charge or "", "", "", [], held,
                     *submitter(first), warned.get(key, ()))
    for key, warnings in warned.items():
        if key in seen:
            continue
        first = warnings[0]
        charge = next((f.claim_charge for f in warnings if f.claim_charge), "")
        yield {**_facts(first.claim_id, first.payer_id or "", first.payer_name or "",
                        first.billing_npi or "", charge, "", "", [], [], *submitter(first),
                        warnings), "listed": True}


def _facts(claim_id, payer_id, payer_name, npi, charge, frequency, patient, services,
           held, submitter_id, submitter_name, warnings=()) -> dict:
    return {"claim_id": claim_id, "payer_id": payer_id, "payer_name": payer_name,
            "billing_npi": npi, "charge": charge, "frequency": frequency,
            "patient": patient, "services": services, "held": bool(held),
            "rules": sorted({f.rule for f in held}),
            "warnings": sorted({f.rule for f in warnings}),
            "submitter": submitter_id, "submitter_name": submitter_name}


def write_facts(claims: Iterable[dict], path: Path) -> int:
    """The claims as JSON lines, put in place whole (``files.atomic_output``)."""
    from ..files import atomic_output

    count = 0
    with atomic_output(path) as out:
        for claim in claims:
            out.write(json.dumps(claim, separators=(",", ":")) + "\n")
            count += 1
    return count


def read_facts(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)
