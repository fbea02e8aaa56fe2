"""The run summary: ``summary.json`` for machines, ``summary.html`` for people.

Each run ends with one summary listing every file taken and its outcome,
the files left waiting and why, and the run's problems.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import os
import urllib.parse
from collections import Counter
from pathlib import Path

from .. import __version__
from ..files import atomic_output
from . import durable
from .ledger import DONE, DUPLICATE, FINDINGS, OK, QUARANTINED, Ledger
from .names import as_text, shown
from .options import BatchOptions

SUMMARY_JSON = "summary.json"
SUMMARY_HTML = "summary.html"

log = logging.getLogger("edi837.batch")


def summary_document(ledger: Ledger, run_id: str, *, drug_table: str, config_source: str | None,
                     options: BatchOptions, state: str, exit_status: int,
                     waiting: list[dict] = (), skipped: list[dict] = (),
                     problems: list[str] = ()) -> dict:
    """The run as JSON: names that are not UTF-8 are given with ``\\xNN`` escapes."""
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
            "moved_to": as_text(row["destination"]) if row["destination"] else None,
            "reason": row["reason"], "problem": row["problem"],
            "duplicate_of": ({"name": as_text(original["name"]), "run": original["run_id"]}
                             if original else None),
        })
    outcomes = Counter(f["outcome"] for f in files)
    checked = [f for f in files if f["outcome"] != DUPLICATE]
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
        },
        "files": files,
        "waiting": [{**w, "name": as_text(w["name"])} for w in waiting],
        "skipped": [{**w, "name": as_text(w["name"])} for w in skipped],
        "problems": list(problems),
    }


SUMMARY_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
table{border-collapse:collapse;margin:.3em 0 1em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1e8449}.findings{color:#9c640c}.quarantined{color:#922b21;font-weight:600}
.duplicate{color:#555}pre{white-space:pre-wrap;margin:0;font-size:12px}
code{font-family:ui-monospace,monospace;font-size:12px}
"""


def _h(value: object) -> str:
    """Escape for HTML text and attributes; control characters made visible."""
    text = "" if value is None else str(value)
    text = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text)
    return html.escape(text, quote=True)


def write_summary_html(doc: dict, out) -> None:
    """The run summary as one self-contained page: no script, no external resource."""
    style_hash = base64.b64encode(hashlib.sha256(SUMMARY_STYLE.encode()).digest()).decode()
    run, totals = doc["run"], doc["totals"]
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
              f'style-src \'sha256-{style_hash}\'">'
              f'<title>edi837 batch {_h(run["id"])}: {totals["files"]} files, '
              f'{totals["quarantined"]} quarantined</title>'
              f'<style>{SUMMARY_STYLE}</style></head>\n<body>\n')
    out.write(f'<h1>edi837 batch run <code>{_h(run["id"])}</code></h1>'
              f'<p>state <b data-figure="state">{_h(run["state"])}</b> · exit status '
              f'<b data-figure="exit-status">{_h(run["exit_status"])}</b> · started '
              f'{_h(run["started"])} · finished {_h(run["finished"])} · edi837 '
              f'{_h(doc["tool"]["version"])} · drug table '
              f'{_h(doc["reference_data"]["drug_table"])}'
              + (f' · config {_h(run["config"])}' if run["config"] else "")
              + f' · inbox <code>{_h(doc["options"]["inbox"])}</code></p>\n')
    labels = [("files", "Files"), ("ok", "OK"), ("findings", "With findings"),
              ("quarantined", "Quarantined"), ("duplicates", "Duplicates"),
              ("waiting", "Waiting"), ("skipped", "Skipped"), ("claims", "Claims"),
              ("drug_lines", "Drug lines"), ("errors", "Errors"), ("warnings", "Warnings"),
              ("infos", "Infos")]
    out.write("<table id=\"totals\"><tr>" + "".join(f"<th>{label}</th>" for _, label in labels)
              + "</tr><tr>" + "".join(f'<td class="n" data-figure="{key}">{totals[key]}</td>'
                                      for key, _ in labels) + "</tr></table>\n")
    out.write('<h2>Files</h2><table id="files"><thead><tr><th>File</th><th>Outcome</th>'
              '<th>Claims</th><th>Drug lines</th><th>Errors</th><th>Warnings</th><th>Infos</th>'
              '<th>Rules</th><th>Reports</th><th>Moved to</th><th>Why</th></tr></thead><tbody>')
    for f in doc["files"]:
        rules = ", ".join(f"{code} {n}" for code, n in f["rules"].items())
        links = " ".join(f'<a href="{_h(url)}">{_h(r.rsplit("/", 1)[-1])}</a>'
                         for r, url in zip(f["reports"], f["urls"]))
        why = f["reason"] or f["problem"] or ""
        if f["duplicate_of"]:
            why = f'same content as {f["duplicate_of"]["name"]} (run {f["duplicate_of"]["run"]})'
        numbers = "".join(f'<td class="n">{_h(f[key]) if f[key] is not None else ""}</td>'
                          for key in ("claims", "drug_lines", "errors", "warnings", "infos"))
        out.write(f'<tr data-outcome="{_h(f["outcome"])}"><td><code>{_h(f["name"])}</code><br>'
                  f'<small>sha256 {_h(f["sha256"])}</small></td>'
                  f'<td class="{_h(f["outcome"])}">{_h(f["outcome"])}'
                  + (" (move pending)" if f["state"] != DONE else "") + f'</td>{numbers}'
                  f'<td>{_h(rules)}</td><td>{links}</td><td><code>{_h(f["moved_to"])}</code>'
                  f'</td><td><pre>{_h(why)}</pre></td></tr>\n')
    if not doc["files"]:
        out.write('<tr><td colspan="11">No file was taken in this run.</td></tr>')
    out.write("</tbody></table>\n")
    if doc["waiting"]:
        out.write('<h2>Waiting (left for a later run)</h2><ul id="waiting">'
                  + "".join(f'<li><code>{_h(w["name"])}</code>: {_h(w["why"])}</li>'
                            for w in doc["waiting"]) + "</ul>\n")
    if doc["skipped"]:
        out.write('<h2>Skipped (not read: remove or replace them)</h2><ul id="skipped">'
                  + "".join(f'<li><code>{_h(w["name"])}</code>: {_h(w["why"])}</li>'
                            for w in doc["skipped"]) + "</ul>\n")
    if doc["problems"]:
        out.write('<h2>Problems</h2><ul id="problems">'
                  + "".join(f"<li>{_h(p)}</li>" for p in doc["problems"]) + "</ul>\n")
    out.write("</body></html>\n")


def write_summary(ledger: Ledger, run_id: str, directory: Path, *, drug_table: str,
                  options: BatchOptions, state: str, exit_status: int,
                  waiting: list[dict] = (), skipped: list[dict] = (),
                  problems: list[str] = ()) -> None:
    """Both summaries of a run, each written atomically into its directory."""
    doc = summary_document(ledger, run_id, drug_table=drug_table,
                           config_source=options.config.source, options=options,
                           state=state, exit_status=exit_status, waiting=waiting,
                           skipped=skipped, problems=problems)
    durable.makedirs(directory)
    with atomic_output(directory / SUMMARY_JSON) as out:
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
    durable.checkpoint("summary-json-written")
    with atomic_output(directory / SUMMARY_HTML) as out:
        write_summary_html(doc, out)
    durable.fsync_dir(directory)
    durable.checkpoint("summary-html-written")


def describe(row) -> str:
    """One input's outcome and counts, for its log line."""
    rules = json.loads(row["rules"] or "{}")
    codes = ", ".join(f"{code} x{n}" for code, n in rules.items())
    return (f"{row['outcome']}: {row['claims']} claims, {row['drug_lines']} drug lines, "
            f"{row['errors']} errors, {row['warnings']} warnings, {row['infos']} infos"
            + (f" ({codes})" if codes else ""))


def log_run_end(ledger: Ledger, run_id: str, directory: Path, *, state: str, status: int,
                waiting: int, skipped: int) -> None:
    """The run's last log line: what cron mails and operators grep."""
    rows = ledger.inputs_of(run_id)
    outcomes = Counter(r["outcome"] for r in rows)
    severities = Counter()
    for r in rows:
        if r["outcome"] != DUPLICATE:
            severities.update(errors=r["errors"] or 0, warnings=r["warnings"] or 0)
    log.info("run %s %s: %d files: %d ok, %d with findings, %d quarantined, "
             "%d duplicates, %d waiting, %d skipped; %d errors, %d warnings; exit status %d; "
             "summary %s", run_id, state, len(rows), outcomes[OK], outcomes[FINDINGS],
             outcomes[QUARANTINED], outcomes[DUPLICATE], waiting, skipped,
             severities["errors"], severities["warnings"], status,
             shown(str(directory / SUMMARY_HTML)))
