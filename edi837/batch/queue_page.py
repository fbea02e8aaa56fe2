"""The morning page of the work queue: the ``queue`` section of a batch run's
``summary.json`` and its page ``queue.html`` beside ``summary.html``.

The page lists every open claim (those held tonight marked new) as JSON that
its script renders a hundred rows at a time: filters by payer, billing
provider, submitter, rule, age, file and claim id that combine, a dollar total
for whatever is shown, sort by any column (numbers largest first on the first
click), and the state in the URL (``queue.html#payer=PAYER01&rule=NDC002``).
Above it, the open queue by age, payer, provider, submitter and rule, each row
a link that adds its filter to the ones set; below, the claims resolved by
this run and by what.  Beside the held claims the list carries this run's
claims with warnings and no error (``edi837.batch.queue_tonight``), so it is the
run's whole work list, with a severity filter; their dollars are never counted
as held: each view shows its held dollars (error claims only) and, apart, the
charges of its warning-only claims.  No name, member id or birth date is on it: the queue
holds none.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from ..queue.store import night_of
from ..queue.view import Filters, bucket, contract, entries, groups, totals
from ..reports.page_text import csp_hash, escaped, money_text
from .queue_tonight import warned_claims

QUEUE_HTML = "queue.html"
GROUP_ROWS = 200  # rows per group table on the page (the JSON has them all)
RESOLVED_ROWS = 2000


def _float(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def summary_section(db, run_id: str, directory: Path | None = None) -> dict:
    """The queue as the run leaves it, aged to the run's night: totals, groups, the
    open claims (``queue list --format json`` fields and more), and what this run
    opened and resolved; with the run's folder (``directory``), also the run's
    claims with warnings only (``warned``, not held)."""
    as_of = date.fromisoformat(night_of(run_id))
    found = entries(db, Filters(), as_of=as_of)
    resolved = list(entries(db, Filters(all=True, resolved_by_run=run_id), as_of=as_of))
    total = totals(found)
    grouped = {kind: [{**row, "charges": _float(row["charges"])} for row in rows]
               for kind, rows in groups(found).items()}
    claims = []
    for e in found:
        claims.append({**contract(e, with_status=False), "payer_name": e["payer_name"] or "",
                       "submitter": e["submitter"] or "",
                       "submitter_name": e["submitter_name"] or "",
                       "first_night": e["first_night"], "first_file": e["first_file"],
                       "last_file": e["last_file"], "age": bucket(e["age_days"]),
                       "new": e["first_run"] == run_id, "tonight": e["last_run"] == run_id,
                       "severity": "error"})
    warned, warned_count, warned_charges = ([], 0, Decimal(0)) if directory is None else \
        warned_claims(db, run_id, directory)
    return {
        "as_of": as_of.isoformat(),
        "open": {"claims": total["claims"], "charges": _float(total["charges"])},
        "opened_by_this_run": sum(c["new"] for c in claims),
        "resubmitted_in_this_run": sum(1 for e in found if e["last_run"] == run_id
                                       and e["first_run"] != run_id),
        "resolved_by_this_run": [{**contract(e, with_status=True),
                                  "resolution": e["resolution"],
                                  "resolved_file": e["resolved_file"]} for e in resolved],
        "by_age": grouped["age"], "by_payer": grouped["payer"],
        "by_provider": grouped["provider"], "by_submitter": grouped["submitter"],
        "by_rule": grouped["rule"],
        "claims": claims,
        # this run's claims with warnings and no error: listed, not held
        "warned_tonight": {"claims": warned_count, "charges": _float(warned_charges),
                           "listed": len(warned)},
        "warned": warned,
    }


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1em 1.5em;color:#1b1b1b;max-width:1900px}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.3em 0 1em}
th,td{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top;
overflow-wrap:break-word}th{background:#f3f3f3;white-space:nowrap}
#queue th{cursor:pointer}#queue th[data-dir=down]:after{content:" \\25BC"}
#queue th[data-dir=up]:after{content:" \\25B2"}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.groups{display:flex;flex-wrap:wrap;gap:1.5em}.groups table{min-width:16em}
.filters label{margin-right:1em}tr.new td:first-child{font-weight:600}
#q-shown{font-weight:600}.note{color:#555;font-size:.9em}code{font-size:12px}
"""

SCRIPT = r"""
var started = performance.now();
var data = JSON.parse(document.getElementById("queue-data").textContent);
var COLS = [["claim_id","s"],["payer_id","s"],["payer_name","s"],["billing_npi","s"],
  ["submitter","s"],["charge","n"],["rules","s"],["first_night","s"],["age_days","n"],
  ["resubmissions","n"],["first_file","s"],["new","s"],["severity","s"]];
var FILTERS = ["payer","rule","npi","submitter","age","file","claim","tonight","severity"];
var PAGE = 100;
function money(x) {
  return "$" + x.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
}
function count(n) { return n.toLocaleString("en-US"); }
function state() {
  var s = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (part) {
    if (!part) return;
    var i = part.indexOf("=");
    s[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
  });
  return s;
}
function go(s) {
  var parts = [];
  Object.keys(s).forEach(function (k) {
    if (s[k] !== undefined && s[k] !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(s[k]));
  });
  location.hash = parts.join("&");
  render();  /* now, not only when the hashchange event comes */
}
function keep(c, s) {
  return (!s.payer || c.payer_id === s.payer) && (!s.npi || c.billing_npi === s.npi) &&
    (!s.submitter || c.submitter === s.submitter) && (!s.age || c.age === s.age) &&
    (!s.file || c.first_file === s.file || c.last_file === s.file) &&
    (!s.claim || c.claim_id.indexOf(s.claim) >= 0) && (!s.tonight || c.tonight) &&
    (!s.rule || c.rules.indexOf(s.rule) >= 0) && (!s.severity || c.severity === s.severity);
}
function cell(tr, text, numeric) {
  var td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "n";
  tr.appendChild(td);
}
function render() {
  var s = state(), rows = data.claims.filter(function (c) { return keep(c, s); });
  var sort = s.sort || "age_days", dir = s.dir || "down", col = null;
  COLS.forEach(function (c) { if (c[0] === sort) col = c; });
  if (col) {
    rows.sort(function (a, b) {
      var x = a[sort], y = b[sort], o;
      if (col[1] === "n") o = x - y;
      else o = String(x).localeCompare(String(y));
      if (dir === "down") o = -o;
      return o || b.charge - a.charge || a.claim_id.localeCompare(b.claim_id);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("#queue th"), function (th) {
    th.dataset.dir = th.dataset.key === sort ? dir : "";
  });
  var total = 0, warned = 0, warnedCount = 0;  /* held: error claims only */
  rows.forEach(function (c) {
    if (c.severity === "warning") { warned += c.charge; warnedCount += 1; }
    else total += c.charge;
  });
  var pages = Math.max(1, Math.ceil(rows.length / PAGE));
  var page = Math.min(Math.max(1, parseInt(s.page || "1", 10) || 1), pages);
  var body = document.getElementById("queue-body");
  while (body.firstChild) body.removeChild(body.firstChild);
  rows.slice((page - 1) * PAGE, page * PAGE).forEach(function (c) {
    var tr = document.createElement("tr");
    tr.className = "row" + (c["new"] ? " new" : "");
    tr.dataset.claim = c.claim_id;
    cell(tr, c.claim_id); cell(tr, c.payer_id); cell(tr, c.payer_name);
    cell(tr, c.billing_npi); cell(tr, c.submitter + (c.submitter_name ? " " + c.submitter_name : ""));
    cell(tr, money(c.charge), true); cell(tr, c.rules.join(", ")); cell(tr, c.first_night);
    cell(tr, count(c.age_days), true); cell(tr, count(c.resubmissions), true);
    cell(tr, c.first_file + (c.last_file !== c.first_file ? " \u2192 " + c.last_file : ""));
    cell(tr, c["new"] ? "new" : "");
    cell(tr, c.severity === "warning" ? "warning (not held)" : "error (held)");
    body.appendChild(tr);
  });
  var first = rows.length ? (page - 1) * PAGE + 1 : 0;
  document.getElementById("q-shown").textContent = count(first) + "\u2013" +
    count(Math.min(page * PAGE, rows.length)) + " of " + count(rows.length) + " claims \u00b7 " +
    money(total) + " held" + (warnedCount ? " + " + money(warned) + " on " + count(warnedCount) +
    " with warnings only, not held" : "") + " (open queue: " + count(data.open.claims) +
    " claims \u00b7 " + money(data.open.charges) + ")";
  document.getElementById("q-total").textContent = money(total);
  document.getElementById("q-total").dataset.value = total.toFixed(2);
  document.getElementById("q-warned").textContent = money(warned);
  document.getElementById("q-warned").dataset.value = warned.toFixed(2);
  document.getElementById("q-warned-count").textContent = String(warnedCount);
  document.getElementById("q-count").textContent = String(rows.length);
  document.getElementById("q-page").textContent = "page " + page + " of " + pages;
  FILTERS.forEach(function (f) {
    var el = document.getElementById("f-" + f);
    if (el) el.value = s[f] || "";
  });
}
Array.prototype.forEach.call(document.querySelectorAll("#queue th"), function (th) {
  th.addEventListener("click", function () {
    var s = state(), key = th.dataset.key;
    if ((s.sort || "age_days") === key) s.dir = (s.dir || "down") === "down" ? "up" : "down";
    else s.dir = th.dataset.type === "n" ? "down" : "up";
    s.sort = key; s.page = ""; go(s);
  });
});
FILTERS.forEach(function (f) {
  var el = document.getElementById("f-" + f);
  if (el) el.addEventListener("change", function () {
    var s = state(); s[f] = el.value; s.page = ""; go(s);
  });
});
Array.prototype.forEach.call(document.querySelectorAll("a[data-filter]"), function (a) {
  a.addEventListener("click", function (event) {
    event.preventDefault();
    var s = state(); s[a.dataset.filter] = a.dataset.value; s.page = ""; go(s);
  });
});
["prev", "next"].forEach(function (d) {
  document.getElementById("q-" + d).addEventListener("click", function () {
    var s = state(); s.page = String((parseInt(s.page || "1", 10) || 1) + (d === "next" ? 1 : -1));
    go(s);
  });
});
window.addEventListener("hashchange", render);
render();
document.body.dataset.readyMs = String(Math.round(performance.now()));
document.body.dataset.ready = "yes";
"""

COLUMNS = (("claim_id", "Claim", "s"), ("payer_id", "Payer", "s"), ("payer_name", "Payer name", "s"),
           ("billing_npi", "Billing provider NPI", "s"), ("submitter", "Submitter", "s"),
           ("charge", "Charge", "n"), ("rules", "Rules", "s"),
           ("first_night", "Came in", "s"), ("age_days", "Age (days)", "n"),
           ("resubmissions", "Sent again", "n"), ("first_file", "File", "s"), ("new", "New", "s"),
           ("severity", "Severity", "s"))


_h = escaped
_money = money_text


def write_queue_html(section: dict, run_id: str, out) -> None:
    """The page (see the module docstring), self-contained, script allowed by hash."""
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
              f"style-src {csp_hash(STYLE)}; script-src {csp_hash(SCRIPT)}\">"
              f'<title>edi837 work queue {_h(section["as_of"])}: '
              f'{section["open"]["claims"]:,} open, {_money(section["open"]["charges"])}'
              f'</title><style>{STYLE}</style></head>\n<body>\n')
    out.write(f'<h1>Work queue after run <code>{_h(run_id)}</code></h1>'
              f'<p><a href="summary.html">the run\'s summary</a> · aged to {_h(section["as_of"])}'
              f' · open <b data-figure="open-claims">{section["open"]["claims"]:,}</b> claims, '
              f'<b data-figure="open-charges">{_money(section["open"]["charges"])}</b> · new '
              f'tonight <b data-figure="opened">{section["opened_by_this_run"]:,}</b> · sent '
              f'again and still held <b>{section["resubmitted_in_this_run"]:,}</b> · resolved '
              f'tonight <b data-figure="resolved">{len(section["resolved_by_this_run"]):,}</b>'
              '</p>\n<div class="groups">')
    for kind, title, key in (("by_age", "By age", "age"), ("by_payer", "By payer", "payer"),
                             ("by_provider", "By billing provider", "npi"),
                             ("by_submitter", "By submitter", "submitter"),
                             ("by_rule", "By rule", "rule")):
        rows = section[kind]
        out.write(f'<table id="{key}-groups"><thead><tr><th>{title}</th><th class="n">Claims'
                  '</th><th class="n">Dollars</th></tr></thead><tbody>')
        for row in rows[:GROUP_ROWS]:
            label = row["key"] + (f' {row["name"]}' if row.get("name") else "")
            out.write(f'<tr><td><a data-filter="{key}" data-value="{_h(row["key"])}" '
                      f'href="#{key}={_h(_quote(row["key"]))}">{_h(label or "(none)")}</a></td>'
                      f'<td class="n">{row["claims"]:,}</td>'
                      f'<td class="n" data-value="{row["charges"]:.2f}">'
                      f'{_money(row["charges"])}</td></tr>')
        if len(rows) > GROUP_ROWS:
            out.write(f'<tr><td colspan="3" class="note">{len(rows) - GROUP_ROWS:,} more: use '
                      'the filters below</td></tr>')
        out.write("</tbody></table>")
    warned = section.get("warned_tonight") or {"claims": 0, "charges": 0.0, "listed": 0}
    out.write("</div>\n<h2>Open claims and tonight's warnings</h2>"
              '<p class="note" id="held-note">Held dollars count the claims with an error '
              'finding only (the open queue). The run\'s claims whose worst finding is a '
              'warning are listed too (severity "warning"), not held: their charges are shown '
              f'apart ({warned["claims"]:,} tonight, {_money(warned["charges"])})'
              + (f'; this page lists the first {warned["listed"]:,} of them, summary.json '
                 'and each file\'s report list all' if warned["listed"] < warned["claims"]
                 else "") + '.</p><p class="filters">')
    options = {"payer": [r["key"] for r in section["by_payer"]],
               "rule": [r["key"] for r in section["by_rule"]],
               "npi": [r["key"] for r in section["by_provider"]],
               "submitter": [r["key"] for r in section["by_submitter"]],
               "age": [r["key"] for r in section["by_age"]]}
    for key, label in (("payer", "Payer"), ("rule", "Rule"), ("npi", "Billing NPI"),
                       ("submitter", "Submitter"), ("age", "Age")):
        out.write(f'<label>{label} <select id="f-{key}"><option value="">all</option>'
                  + "".join(f'<option value="{_h(v)}">{_h(v or "(none)")}</option>'
                            for v in options[key]) + "</select></label>")
    out.write('<label>Severity <select id="f-severity"><option value="">all</option>'
              '<option value="error">error (held)</option>'
              '<option value="warning">warning only (not held)</option></select></label>'
              '<label>Tonight\'s run <select id="f-tonight"><option value="">all</option>'
              '<option value="1">only</option></select></label>'
              '<label>Claim id <input id="f-claim" size="12"></label></p>'
              '<p><span id="q-shown"></span> · held <span id="q-total"></span> · warnings '
              'only, not held <span id="q-warned"></span>'
              '<span id="q-count" hidden></span><span id="q-warned-count" hidden></span> · <button id="q-prev">previous</button> '
              '<span id="q-page"></span> <button id="q-next">next</button></p>'
              '<table id="queue"><thead><tr>'
              + "".join(f'<th data-key="{k}" data-type="{t}"'
                        + (' class="n"' if t == "n" else "") + f'>{label}</th>'
                        for k, label, t in COLUMNS)
              + '</tr></thead><tbody id="queue-body"></tbody></table>'
              '<noscript><p>The open claims need JavaScript; `edi837 queue list` prints '
              'them.</p></noscript>\n')
    resolved = section["resolved_by_this_run"]
    out.write(f'<h2>Resolved by this run ({len(resolved):,})</h2><table id="resolved"><thead>'
              '<tr><th>Claim</th><th>Payer</th><th>Billing NPI</th><th class="n">Charge</th>'
              '<th>Rules</th><th>How</th><th>File</th><th>First run</th></tr></thead><tbody>')
    for e in resolved[:RESOLVED_ROWS]:
        out.write(f'<tr data-claim="{_h(e["claim_id"])}"><td>{_h(e["claim_id"])}</td>'
                  f'<td>{_h(e["payer_id"])}</td><td>{_h(e["billing_npi"])}</td>'
                  f'<td class="n">{_money(e["charge"])}</td><td>{_h(", ".join(e["rules"]))}'
                  f'</td><td>{_h(e["status"])}: {_h(e["resolution"])}</td>'
                  f'<td>{_h(e["resolved_file"])}</td><td>{_h(e["first_run"])}</td></tr>')
    if len(resolved) > RESOLVED_ROWS:
        out.write(f'<tr><td colspan="8" class="note">{len(resolved) - RESOLVED_ROWS:,} more in '
                  'summary.json and `edi837 queue list --all`</td></tr>')
    out.write("</tbody></table>\n")
    data = json.dumps({"open": section["open"],
                       "claims": section["claims"] + section.get("warned", [])},
                      separators=(",", ":")).replace("<", "\\u003c").replace("&", "\\u0026")
    out.write(f'<script type="application/json" id="queue-data">{data}</script>\n'
              f"<script>{SCRIPT}</script></body></html>\n")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
