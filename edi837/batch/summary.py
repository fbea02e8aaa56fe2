"""The run summary: ``summary.json`` for machines, ``summary.html`` for people.

Each run ends with one summary listing every file taken and its outcome,
the files left waiting and why, and the run's problems.
"""
from __future__ import annotations

import json
import logging
import os
import urllib.parse
from collections import Counter
from pathlib import Path

from .. import __version__
from ..files import atomic_output
from ..reports.figures import Figures, money
from . import durable
from .ledger import DONE, DUPLICATE, FINDINGS, OK, QUARANTINED, Ledger
from .names import as_text, shown
from .options import BatchOptions
from .queue_page import QUEUE_HTML, write_queue_html
from .queue_page import summary_section as queue_section
from .summary_html import write_summary_html

SUMMARY_JSON = "summary.json"
# a quarantined file's partial counts, given apart from the night's totals
PARTIAL = ("claims", "drug_lines", "errors", "warnings", "infos")
SUMMARY_HTML = "summary.html"

log = logging.getLogger("edi837.batch")


def summary_document(ledger: Ledger, run_id: str, *, drug_table: str, config_source: str | None,
                     options: BatchOptions, state: str, exit_status: int,
                     waiting: list[dict] = (), skipped: list[dict] = (),
                     problems: list[str] = (), directory: Path | None = None,
                     notices: list[str] = ()) -> dict:
    """The run as JSON: names that are not UTF-8 are given with ``\\xNN`` escapes.
    ``directory``: the run's folder, where its files' ``queue.jsonl`` are (for the
    run's claims with warnings only, on the morning page)."""
    run = ledger.run(run_id)
    rows = ledger.inputs_of(run_id)
    files = []
    for row in rows:
        original = ledger.row(row["duplicate_of"]) if row["duplicate_of"] else None
        outputs = json.loads(row["outputs"] or "[]")
        files.append({
            "name": as_text(row["name"]), "sha256": row["sha256"], "size": row["size"],
            "outcome": row["outcome"], "state": row["state"],
            "claims": row["claims"], "drug_lines": row["drug_lines"],
            "errors": row["errors"], "warnings": row["warnings"], "infos": row["infos"],
            "rules": json.loads(row["rules"]) if row["rules"] else {},
            "reports": [as_text(r) for r in outputs],
            # the same as relative URLs, the names' bytes percent-encoded: for links
            "urls": [urllib.parse.quote(os.fsencode(r)) for r in outputs],
            # where it went: a row not done was not moved there (yet: see its problem)
            "moved_to": as_text(row["destination"])
            if row["destination"] and row["state"] == DONE else None,
            "reason": row["reason"], "problem": row["problem"],
            "duplicate_of": ({"name": as_text(original["name"]), "run": original["run_id"]}
                             if original else None),
            "figures": json.loads(row["figures"]) if row.get("figures") else None,
        })
    outcomes = Counter(f["outcome"] for f in files)
    # the night's totals: files read whole (a quarantined file's partial findings are
    # in its own row, counted apart under quarantined_findings: named, not lost)
    checked = [f for f in files if f["outcome"] not in (DUPLICATE, QUARANTINED)]
    quarantined = [f for f in files if f["outcome"] == QUARANTINED]
    total = Figures.merged(Figures.from_dict(f["figures"]) for f in checked if f["figures"])
    for f in files:  # a file's own: what it holds (its rules and payers are in the totals)
        if f["figures"]:
            f["claims_held"] = f["figures"]["claims_held"]
            f["charges_held"] = f["figures"]["charges_held"]
    from ..profile_match import unmatched_payer_ids  # as check's notices

    notices = list(notices) + unmatched_payer_ids(options.config.profiles, (
        payer_id for f in checked for payer_id in (f["figures"] or {}).get("payer_ids", ())))
    return {
        "tool": {"name": "edi837", "version": __version__},
        "reference_data": {"drug_table": drug_table},
        "run": {"id": run_id, "state": state, "started": run["started"], "finished": durable.now(),
                "exit_status": exit_status, "config": config_source},
        "options": {"inbox": as_text(str(options.inbox)), "formats": list(options.formats),
                    "fix": options.fix or options.split, "split": options.split,
                    "validate": options.validate, "settle": options.settle,
                    "marker": options.marker, "reprocess": options.reprocess,
                    "max_size": options.max_size},
        "totals": {
            "files": len(files), "ok": outcomes[OK], "findings": outcomes[FINDINGS],
            "quarantined": outcomes[QUARANTINED], "duplicates": outcomes[DUPLICATE],
            "waiting": len(waiting), "skipped": len(skipped),
            "claims": sum(f["claims"] or 0 for f in checked),
            "drug_lines": sum(f["drug_lines"] or 0 for f in checked),
            "errors": sum(f["errors"] or 0 for f in checked),
            "warnings": sum(f["warnings"] or 0 for f in checked),
            "infos": sum(f["infos"] or 0 for f in checked),
            "claims_held": total.held.claims,
            "charges_held": float(money(total.held.charges)),
            # what the counts above leave out: the files' rows add up to both together
            "quarantined_findings": {"files": len(quarantined), **{
                count: sum(f[count] or 0 for f in quarantined) for count in PARTIAL}},
        },
        # charges held by payer and by rule, over every file (a claim held by two
        # rules counts under both: the rules add up to more than the total)
        "by_payer": [p.as_dict() for p in total.payers],
        "by_rule": [r.as_dict() for r in total.rules],
        "files": files,
        "waiting": [{**w, "name": as_text(w["name"])} for w in waiting],
        "skipped": [{**w, "name": as_text(w["name"])} for w in skipped],
        "problems": list(problems),
        # a payer profile whose payer ids no claim of the run carries (its rules applied
        # to none: a typo?), as `check` says them
        "notices": notices,
        # the work queue after this run: open claims aged, grouped, and what it resolved
        "queue": queue_section(ledger.db, run_id, directory),
    }


def write_summary(ledger: Ledger, run_id: str, directory: Path, *, drug_table: str,
                  options: BatchOptions, state: str, exit_status: int,
                  waiting: list[dict] = (), skipped: list[dict] = (),
                  problems: list[str] = (), notices: list[str] = ()) -> None:
    """Both summaries of a run, each written atomically into its directory."""
    doc = summary_document(ledger, run_id, drug_table=drug_table,
                           config_source=options.config.source, options=options,
                           state=state, exit_status=exit_status, waiting=waiting,
                           skipped=skipped, problems=problems, directory=directory,
                           notices=notices)
    for notice in doc["notices"]:
        log.warning("run %s: notice: %s", run_id, notice)
    durable.makedirs(directory)
    with atomic_output(directory / SUMMARY_JSON) as out:
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
    durable.checkpoint("summary-json-written")
    with atomic_output(directory / QUEUE_HTML) as out:
        write_queue_html(doc["queue"], run_id, out)
    with atomic_output(directory / SUMMARY_HTML) as out:
        write_summary_html(doc, out)
    durable.fsync_dir(directory)
    durable.checkpoint("summary-html-written")


def describe(row) -> str:
    """One input's outcome and counts, for its log line."""
    rules = json.loads(row["rules"] or "{}")
    codes = ", ".join(f"{code} x{n}" for code, n in rules.items())
    rejected = json.loads(row["figures"] or "{}").get("sets_rejected")
    return (f"{row['outcome']}: {row['claims']} claims, {row['drug_lines']} drug lines, "
            f"{row['errors']} errors, {row['warnings']} warnings, {row['infos']} infos"
            + (f" ({codes})" if codes else "")
            + (f"; {rejected} transaction set(s) with no 277CA (its 999 rejects them)"
               if rejected else ""))


def log_run_end(ledger: Ledger, run_id: str, directory: Path, *, state: str, status: int,
                waiting: int, skipped: int, problems: list[str] = ()) -> None:
    """The run's last log line: what cron mails and operators grep; a status 2 says
    why (its first problem, and how many more)."""
    rows = ledger.inputs_of(run_id)
    reasons = list(problems) + [f"{as_text(r['name'])}: {r['problem']}" for r in rows
                                if r["problem"] and not any(r["problem"] in p for p in problems)]
    why = (f" ({reasons[0]}" + (f"; and {len(reasons) - 1} more problems" if len(reasons) > 1
                                else "") + ")") if status == 2 and reasons else ""
    outcomes = Counter(r["outcome"] for r in rows)
    whole: Counter[str] = Counter()  # as summary.json's totals, quarantined_findings
    partial: Counter[str] = Counter()
    for r in rows:
        if r["outcome"] != DUPLICATE:
            (partial if r["outcome"] == QUARANTINED else whole).update(
                errors=r["errors"] or 0, warnings=r["warnings"] or 0)
    apart = (f" (and {partial['errors']} errors, {partial['warnings']} warnings in the "
             f"{outcomes[QUARANTINED]} quarantined, not in the totals)"
             if partial["errors"] or partial["warnings"] else "")
    log.info("run %s %s: %d files: %d ok, %d with findings, %d quarantined, "
             "%d duplicates, %d waiting, %d skipped; %d errors, %d warnings%s; "
             "exit status %d%s; summary %s", run_id, state, len(rows), outcomes[OK],
             outcomes[FINDINGS], outcomes[QUARANTINED], outcomes[DUPLICATE], waiting, skipped,
             whole["errors"], whole["warnings"], apart, status, why,
             shown(str(directory / SUMMARY_HTML)))
