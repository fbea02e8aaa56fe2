"""``summary.html``: a batch run for the person who works it in the morning.

One self-contained page that fits a 1,366 px window: the run's totals, the
charges held by payer (with the rules holding most of each payer's) and by
rule (with its one-line explanation), then every file with its outcome, its
charges held, its reports and, for a quarantined or skipped file, why - in
full, not cut off.  The tables sort when a column heading is clicked, and the
sort is kept in the URL (``summary.html#sort=files:9:down``) so a view can be
sent (a small inline script, allowed by the page's own content security
policy; without script the page reads the same, in the run's order).
"""
from __future__ import annotations

from ..reports.page_text import csp_hash, escaped, money_text
from .ledger import DONE

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1em 1.5em;color:#1b1b1b;max-width:1900px}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
th,td{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f3f3f3;white-space:nowrap}th[data-sort]{cursor:pointer}
th[data-sort]:after{content:" \\2195";color:#888}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#1e8449}.findings{color:#9c640c}.quarantined{color:#922b21;font-weight:600}
.duplicate{color:#555}pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:12px}
code{font-family:ui-monospace,monospace;font-size:12px}small{color:#555}
.totals td,.totals th{width:auto}.note{color:#555;font-size:.9em}
#files td pre:not(:empty){min-width:20em}
"""

SCRIPT = """
function sortBy(table, column, down) {
  var th = table.tHead.rows[0].cells[column];
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var numeric = th.dataset.sort === "n";
  th.dataset.dir = down ? "down" : "up";
  rows.sort(function (a, b) {
    var x = a.cells[column].dataset.value || a.cells[column].textContent;
    var y = b.cells[column].dataset.value || b.cells[column].textContent;
    var order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
    return down ? -order : order;
  });
  rows.forEach(function (row) { body.appendChild(row); });
  location.replace("#sort=" + table.id + ":" + column + ":" + (down ? "down" : "up"));
}
document.querySelectorAll("table.sortable").forEach(function (table) {
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
    if (th.dataset.sort) {
      th.addEventListener("click", function () {
        sortBy(table, column, th.dataset.dir !== "down");
      });
    }
  });
});
var wanted = /^#sort=([a-z]+):([0-9]+):(down|up)$/.exec(location.hash);
if (wanted && document.getElementById(wanted[1])) {
  sortBy(document.getElementById(wanted[1]), parseInt(wanted[2], 10), wanted[3] === "down");
}
document.body.dataset.width = document.documentElement.scrollWidth;
document.body.dataset.ready = "yes";
"""


def _h(value: object) -> str:
    return escaped(value, keep_breaks=True)


def _count(value) -> str:
    """1,234 (people read counts with separators); empty when unknown."""
    return f"{value:,}" if isinstance(value, int) else _h(value)


def write_summary_html(doc: dict, out) -> None:
    run, totals = doc["run"], doc["totals"]
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
              f"style-src {csp_hash(STYLE)}; script-src {csp_hash(SCRIPT)}\">"
              f'<title>edi837 batch {_h(run["id"])}: {money_text(totals.get("charges_held"))} '
              f'held, {totals["quarantined"]} quarantined</title>'
              f'<style>{STYLE}</style></head>\n<body>\n')
    out.write(f'<h1>edi837 batch run <code>{_h(run["id"])}</code></h1>'
              f'<p>state <b data-figure="state">{_h(run["state"])}</b> · exit status '
              f'<b data-figure="exit-status">{_h(run["exit_status"])}</b> · started '
              f'{_h(run["started"])} · finished {_h(run["finished"])} · edi837 '
              f'{_h(doc["tool"]["version"])} · drug table '
              f'{_h(doc["reference_data"]["drug_table"])}'
              + (f' · config {_h(run["config"])}' if run["config"] else "")
              + f' · inbox <code>{_h(doc["options"]["inbox"])}</code></p>\n')
    _totals(out, totals)
    _queue(out, doc.get("queue"))
    _payers(out, doc.get("by_payer") or [])
    _rules(out, doc.get("by_rule") or [])
    _files(out, doc["files"])
    for key, title in (("waiting", "Waiting (left for a later run)"),
                       ("skipped", "Skipped (not read: remove or replace them)")):
        if doc[key]:
            out.write(f'<h2>{title}</h2><ul id="{key}">'
                      + "".join(f'<li><code>{_h(w["name"])}</code>: {_h(w["why"])}</li>'
                                for w in doc[key]) + "</ul>\n")
    if doc.get("notices"):
        out.write('<h2>Notices</h2><ul id="notices">'
                  + "".join(f"<li>{_h(n)}</li>" for n in doc["notices"]) + "</ul>\n")
    if doc["problems"]:
        out.write('<h2>Problems</h2><ul id="problems">'
                  + "".join(f"<li>{_h(p)}</li>" for p in doc["problems"]) + "</ul>\n")
    out.write(f"<script>{SCRIPT}</script></body></html>\n")


def _totals(out, totals: dict) -> None:
    labels = [("files", "Files"), ("ok", "OK"), ("findings", "With findings"),
              ("quarantined", "Quarantined"), ("duplicates", "Duplicates"),
              ("waiting", "Waiting"), ("skipped", "Skipped"), ("claims", "Claims"),
              ("drug_lines", "Drug lines"), ("errors", "Errors"), ("warnings", "Warnings"),
              ("infos", "Infos"), ("claims_held", "Claims held"),
              ("charges_held", "Charges held")]
    cells = []
    for key, _ in labels:
        value = totals.get(key)
        shown = money_text(value) if key == "charges_held" else _count(value)
        cells.append(f'<td class="n" data-figure="{key}">{_h(shown)}</td>')
    out.write('<table id="totals" class="totals"><tr>'
              + "".join(f'<th class="n">{label}</th>' for _, label in labels)
              + "</tr><tr>" + "".join(cells) + "</tr></table>\n")
    apart = totals.get("quarantined_findings") or {}
    if any(apart.get(count) for count in ("errors", "warnings", "infos")):
        # named, so the files' rows add up: theirs are partial (read up to the break)
        out.write('<p class="note" id="totals-note">Totals are of the files read whole; '
                  f'the {_count(apart["files"])} quarantined file(s) add '
                  f'{_count(apart["errors"])} errors, {_count(apart["warnings"])} warnings '
                  f'and {_count(apart["infos"])} infos (partial: in their own rows '
                  'below, not in the totals nor the charges held).</p>\n')


def _payers(out, payers: list[dict]) -> None:
    held = [p for p in payers if p["claims_held"]]
    if not held:
        return
    out.write('<h2>Charges held by payer</h2><table id="payers" class="sortable"><thead><tr>'
              '<th data-sort="s">Payer id</th><th data-sort="s">Name</th>'
              '<th class="n" data-sort="n">Claims held</th>'
              '<th class="n" data-sort="n">Charges held</th>'
              '<th>Rules holding most of its charges</th></tr></thead><tbody>')
    for payer in held:
        rules = ", ".join(f'{r["rule"]} {money_text(r["charges_held"])}'
                          for r in payer["rules"][:4])
        out.write(f'<tr><td>{_queue_link("payer", payer["payer_id"])}</td>'
                  f'<td>{_h(payer["payer_name"])}</td>'
                  f'<td class="n">{_count(payer["claims_held"])}</td>'
                  f'<td class="n" data-value="{payer["charges_held"]}">'
                  f'{money_text(payer["charges_held"])}</td><td>{_h(rules)}</td></tr>\n')
    out.write("</tbody></table>\n")


def _rules(out, rules: list[dict]) -> None:
    if not rules:
        return
    from ..rules import all_rules

    registry = all_rules()
    out.write('<h2>By rule</h2><p class="note">A claim held by two rules counts under both: '
              'the rules add up to more than the total held.</p>'
              '<table id="rules" class="sortable"><thead><tr><th data-sort="s">Rule</th>'
              '<th>What it flags</th><th class="n" data-sort="n">Errors</th>'
              '<th class="n" data-sort="n">Warnings</th><th class="n" data-sort="n">Infos</th>'
              '<th class="n" data-sort="n">Claims held</th>'
              '<th class="n" data-sort="n">Charges held</th></tr></thead><tbody>')
    for rule in rules:
        found = registry.get(rule["rule"]) or registry.get(rule["rule"][:3])
        # a rule that held no claim and warned of none has no row on the queue page
        name = (_queue_link("rule", rule["rule"]) if rule["claims_held"] or rule["warnings"]
                else f'<code>{_h(rule["rule"])}</code>')
        out.write(f'<tr><td>{name}</td>'
                  f'<td>{_h(found.summary if found else "")}</td>'
                  f'<td class="n">{_count(rule["errors"])}</td>'
                  f'<td class="n">{_count(rule["warnings"])}</td>'
                  f'<td class="n">{_count(rule["infos"])}</td>'
                  f'<td class="n">{_count(rule["claims_held"])}</td>'
                  f'<td class="n" data-value="{rule["charges_held"]}">'
                  f'{money_text(rule["charges_held"])}</td></tr>\n')
    out.write("</tbody></table>\n")


def _files(out, files: list[dict]) -> None:
    out.write('<h2>Files</h2><table id="files" class="sortable"><thead><tr>'
              '<th data-sort="s">File</th><th data-sort="s">Outcome</th>'
              + "".join(f'<th class="n" data-sort="n">{label}</th>' for label in (
                  "Claims", "Drug lines", "Errors", "Warnings", "Infos", "Claims held",
                  "Charges held"))
              + '<th>Rules</th><th>Reports</th><th>Why</th></tr></thead><tbody>')
    for f in files:
        rules = ", ".join(f"{code} {n}" for code, n in f["rules"].items())
        links = " ".join(f'<a href="{_h(url)}">{_h(r.rsplit("/", 1)[-1])}</a>'
                         for r, url in zip(f["reports"], f["urls"], strict=True))
        why = f["reason"] or f["problem"] or ""
        if f["duplicate_of"]:
            why = f'same content as {f["duplicate_of"]["name"]} (run {f["duplicate_of"]["run"]})'
        numbers = "".join(f'<td class="n" data-value="{_h(f.get(key) or 0)}">'
                          f'{_count(f.get(key))}</td>' for key in (
                              "claims", "drug_lines", "errors", "warnings", "infos",
                              "claims_held"))
        charges = f.get("charges_held")
        out.write(f'<tr data-outcome="{_h(f["outcome"])}"><td><code>{_h(f["name"])}</code>'
                  f'<br><small>moved to {_h(f["moved_to"])}</small></td>'
                  f'<td class="{_h(f["outcome"])}">{_h(f["outcome"])}'
                  + (" (move pending)" if f["state"] != DONE else "") + f'</td>{numbers}'
                  f'<td class="n" data-value="{charges or 0}">{money_text(charges)}</td>'
                  f'<td>{_h(rules)}</td><td>{links}</td><td><pre>{_h(why)}</pre></td></tr>\n')
    if not files:
        out.write('<tr><td colspan="12">No file was taken in this run.</td></tr>')
    out.write("</tbody></table>\n")


def _queue_link(kind: str, key: str) -> str:
    """A payer id or rule code linking to this run's held claims of it in the queue page."""
    import urllib.parse

    return (f'<a href="queue.html#{kind}={_h(urllib.parse.quote(key, safe=""))}&amp;tonight=1">'
            f'<code>{_h(key)}</code></a>')


def _queue(out, queue: dict | None) -> None:
    """The work queue after this run (edi837.batch.queue_page): open claims and dollars by
    age, what this run opened and resolved, a link to the page that works them."""
    if not queue:
        return
    warned = queue.get("warned_tonight") or {}
    ages = " · ".join(f'<a href="queue.html#age={_h(a["key"])}">{_h(a["key"])}</a> '
                      f'{a["claims"]:,} ({money_text(a["charges"])})' for a in queue["by_age"])
    out.write(f'<h2>Work queue</h2><p id="queue-figures"><a href="queue.html">open claims</a>: '
              f'<b data-figure="queue-open">{queue["open"]["claims"]:,}</b>, '
              f'<b data-figure="queue-open-charges">{money_text(queue["open"]["charges"])}</b> '
              f'(aged to {_h(queue["as_of"])}: {ages or "none"}) · new tonight '
              f'{queue["opened_by_this_run"]:,} · resolved tonight '
              f'<b data-figure="queue-resolved">{len(queue["resolved_by_this_run"]):,}</b>'
              + (f' · <a href="queue.html#severity=warning&amp;tonight=1">with warnings only'
                 f'</a> (not held) <b data-figure="queue-warned">{warned["claims"]:,}</b>, '
                 f'{money_text(warned["charges"])}' if warned.get("claims") else "")
              + '</p>\n')
