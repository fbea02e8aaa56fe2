"""The HTML report's style and script, and the Content-Security-Policy that
allows exactly these two (by hash) and nothing else.

The script renders the work list from JSON data blocks the page carries
(``<script type="application/json">``, never executed): one row per claim,
sorted and filtered in memory, one page of rows in the DOM at a time, and a
claim's segments only when it is opened.  That keeps a report of a 100 MB
input quick to open: the browser parses a few megabytes of JSON instead of
laying out millions of pixels of tables.  The state (filters, sort, page, open
claim) lives in the URL fragment, so a view can be bookmarked or shared; every
string from the EDI is set with ``textContent``, never parsed as HTML.
"""
from __future__ import annotations

from .page_text import csp_hash

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.4em 0 .4em}
h3{font-size:1.05em;margin:1em 0 .3em}h4{margin:.6em 0 .2em}
.meta{color:#555;margin:0}
table{border-collapse:collapse;margin:.3em 0 1em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.figures th{background:#f3f3f3;font-weight:600}
code,.edi{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
.edi{white-space:pre-wrap;word-break:break-all}
.controls{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 0;
 z-index:1;display:flex;gap:.8em;flex-wrap:wrap;align-items:center}
.controls select{max-width:22em}
#worklist table{width:100%}
#worklist th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer}
#worklist th[aria-sort=ascending] button::after{content:" \\25B2"}
#worklist th[aria-sort=descending] button::after{content:" \\25BC"}
#worklist thead th{background:#f3f3f3}
#worklist tr.row:hover td{background:#f7f9fc}
button.open{font:inherit;background:none;border:0;padding:0;color:#0b57d0;cursor:pointer;
 text-decoration:underline;text-align:left}
.rule-pill{display:inline-block;margin:0 .25em .1em 0}
.sev{font-weight:600;text-transform:uppercase;font-size:.8em}
.sev.error{color:#922b21}.sev.warning{color:#9c640c}.sev.info{color:#1f618d}
.pager{display:flex;gap:.6em;align-items:center;margin:.4em 0}
tr.detail>td{background:#fafafa;padding:.6em}
table.segments{width:100%;margin:.3em 0}
.segments td.idx{color:#777;width:4em;text-align:right}
.segments td.edi{width:45%}
.segments tr.flagged td.edi{background:#fff4d6}
.segments tr.line-head th{background:#eef2f7}
.finding{margin:.1em 0 .3em;padding:.15em .4em;border-left:4px solid #999}
.finding.error{border-color:#c0392b;background:#fdecea}
.finding.warning{border-color:#d68910;background:#fef5e7}
.finding.info{border-color:#2e86c1;background:#eaf2f8}
.hint{color:#444;font-size:.9em}
details.notes>summary{cursor:pointer;color:#1f618d;font-size:.9em}
.badge{display:inline-block;border-radius:3px;padding:0 .4em;font-size:.85em;margin-left:.3em}
.badge.error{background:#fdecea;color:#922b21}.badge.warning{background:#fef5e7;color:#9c640c}
.badge.info{background:#eaf2f8;color:#1f618d}
.checklist li.flagged{color:#9c640c}.checklist li.clear{color:#1e8449}
.note{color:#555}
.warn{color:#922b21;font-weight:600}
[hidden]{display:none!important}
@media print{.controls,.pager{display:none}body{margin:0;font-size:11px}
 a{color:inherit;text-decoration:none}}
"""

SCRIPT = """
(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }
  function data(id) { var el = byId(id); return el ? JSON.parse(el.textContent) : null; }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  var meta = data("worklist-meta");
  var rows = data("worklist-rows") || [];
  if (!meta) { return; }
  var F = {};
  meta.fields.forEach(function (name, i) { F[name] = i; });
  var SEV = ["error", "warning", "info"];
  var FILTERS = ["severity", "payer", "submitter", "rule", "file", "claim"];
  var controls = {};
  FILTERS.forEach(function (name) { controls[name] = byId("f-" + name); });
  var tbody = byId("worklist-body");
  var state = {};
  var dollars = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD"});
  var count = new Intl.NumberFormat("en-US");
  rows.forEach(function (row, i) {
    row.push(i);  /* file order, the last tie-breaker */
    row.rules = row[F.rules] ? row[F.rules].split(" ") : [];
  });
  var ORDER = meta.fields.length;

  function option(select, value, label) {
    var node = el("option", "", label);
    node.value = value;
    select.appendChild(node);
  }
  function payerLabel(id) {
    var name = meta.payers[id];
    return (name ? name + " " : "") + "(" + (id || "no payer id") + ")";
  }
  meta.payerOrder.forEach(function (id) { option(controls.payer, id, payerLabel(id)); });
  function submitterLabel(id) {
    if (!id) { return ""; }
    var name = (meta.submitters || {})[id];
    return (name ? name + " " : "") + "(" + id + ")";
  }
  Object.keys(meta.submitters || {}).forEach(function (id) {
    option(controls.submitter, id, submitterLabel(id));
  });
  meta.ruleOrder.forEach(function (code) {
    option(controls.rule, code, code + ": " + (meta.rules[code] || ""));
  });
  meta.files.forEach(function (path, i) { option(controls.file, String(i + 1), path); });

  function read() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    FILTERS.forEach(function (name) { controls[name].value = params.get(name) || ""; });
    state.sort = params.get("sort") || "severity";
    state.dir = params.get("dir") === "desc" ? "desc" : "asc";
    state.page = Math.max(1, parseInt(params.get("page"), 10) || 1);
    state.open = params.get("open") || "";
  }
  function remember() {
    var params = new URLSearchParams();
    FILTERS.forEach(function (name) {
      var value = controls[name].value.trim();
      if (value) { params.set(name, value); }
    });
    if (state.sort !== "severity" || state.dir !== "asc") {
      params.set("sort", state.sort);
      params.set("dir", state.dir);
    }
    if (state.page > 1) { params.set("page", String(state.page)); }
    if (state.open) { params.set("open", state.open); }
    try { history.replaceState(null, "", "#" + params.toString()); } catch (e) { }
  }

  function matcher() {
    var s = controls.severity.value, p = controls.payer.value, r = controls.rule.value;
    var u = controls.submitter.value;
    var f = controls.file.value, c = controls.claim.value.trim().toLowerCase();
    var worst = SEV.indexOf(s);
    return function (row) {
      return (!s || row[F.worst] === worst) && (!p || row[F.payer] === p) &&
             (!u || row[F.submitter] === u) &&
             (!r || row.rules.indexOf(r) >= 0) && (!f || String(row[F.file]) === f) &&
             (!c || row[F.claim].toLowerCase().indexOf(c) >= 0);
    };
  }
  function key(row, column) {
    if (column === "payer") { return payerLabel(row[F.payer]).toLowerCase(); }
    if (column === "submitter") { return submitterLabel(row[F.submitter]).toLowerCase(); }
    if (column === "file") { return meta.files[row[F.file] - 1]; }
    if (column === "rules") { return row[F.rules]; }
    return row[F[column]];
  }
  function comparator() {
    var column = state.sort, sign = state.dir === "desc" ? -1 : 1;
    return function (a, b) {
      var x = key(a, column), y = key(b, column);
      if (x !== y) {
        if (x === null || x === "") { return 1; }  /* unknowns last either way */
        if (y === null || y === "") { return -1; }
        return (x < y ? -1 : 1) * sign;
      }
      if (a[F.worst] !== b[F.worst]) { return a[F.worst] - b[F.worst]; }
      if (a[F.charge] !== b[F.charge]) { return (b[F.charge] || 0) - (a[F.charge] || 0); }
      return a[ORDER] - b[ORDER];
    };
  }

  function pill(code) {
    var link = el("a", "rule-pill", code);
    link.href = "#rule=" + encodeURIComponent(code);
    link.title = meta.rules[code] || "";
    link.addEventListener("click", function (event) {  /* adds to the filters in force */
      event.preventDefault();
      controls.rule.value = code;
      state.page = 1;
      remember();
      render();
      show();
    });
    return link;
  }
  function rowElement(row) {
    var tr = el("tr", "row");
    tr.setAttribute("data-key", row[F.key]);
    tr.setAttribute("data-file", row[F.file]);
    tr.setAttribute("data-payer", row[F.payer]);
    tr.setAttribute("data-submitter", row[F.submitter]);
    tr.setAttribute("data-rules", row[F.rules]);
    tr.setAttribute("data-severity", SEV[row[F.worst]]);
    var path = meta.files[row[F.file] - 1];
    var file = el("td", "", path.split("/").pop());
    file.title = path;
    tr.appendChild(file);
    var claim = el("td");
    var open = el("button", "open", row[F.claim] || "(no claim id)");
    open.type = "button";
    open.setAttribute("aria-expanded", String(state.open === row[F.key]));
    open.addEventListener("click", function () {
      state.open = state.open === row[F.key] ? "" : row[F.key];
      remember();
      render();
    });
    claim.appendChild(open);
    tr.appendChild(claim);
    tr.appendChild(el("td", "", payerLabel(row[F.payer])));
    tr.appendChild(el("td", "", row[F.npi]));
    tr.appendChild(el("td", "", submitterLabel(row[F.submitter])));
    tr.appendChild(el("td", "", row[F.dos]));
    tr.appendChild(el("td", "", row[F.drugs]));
    var charge = row[F.charge];
    tr.appendChild(el("td", "n", charge === null ? "unknown" : dollars.format(charge)));
    var rules = el("td");
    row.rules.forEach(function (code) { rules.appendChild(pill(code)); });
    if (row[F.infos]) {
      rules.appendChild(el("span", "note", "+" + row[F.infos] + " info"));
    }
    tr.appendChild(rules);
    var severity = el("td");
    severity.appendChild(el("span", "sev " + SEV[row[F.worst]], SEV[row[F.worst]]));
    var counts = [];
    if (row[F.errors]) { counts.push(row[F.errors] + " E"); }
    if (row[F.warnings]) { counts.push(row[F.warnings] + " W"); }
    severity.appendChild(el("span", "note", " " + counts.join(" ")));
    tr.appendChild(severity);
    return tr;
  }

  function findingElement(f) {
    /* [rule, severity, line, message, hint] */
    var box = el("div", "finding " + f[1]);
    box.setAttribute("data-rule", f[0]);
    box.setAttribute("data-severity", f[1]);
    box.appendChild(el("b", "", f[0]));
    box.appendChild(document.createTextNode(" "));
    box.appendChild(el("span", "sev " + f[1], f[1]));
    box.appendChild(document.createTextNode((f[2] !== null ? " line " + f[2] : "") + ": " + f[3]));
    box.appendChild(el("div", "hint", "fix: " + f[4]));
    if (f[5]) { box.appendChild(el("div", "hint asp", "ASP payment limit: " + f[5])); }
    return box;
  }
  function findingsCell(findings) {
    var td = el("td", "notes"), quiet = [];
    findings.forEach(function (f) {
      if (meta.collapsed.indexOf(f[1]) >= 0) { quiet.push(f); }
      else { td.appendChild(findingElement(f)); }
    });
    if (quiet.length) {
      var more = el("details", "notes");
      more.appendChild(el("summary", "", quiet.length + " " + quiet[0][1] +
                          (quiet.length > 1 ? " notes" : " note")));
      quiet.forEach(function (f) { more.appendChild(findingElement(f)); });
      td.appendChild(more);
    }
    return td;
  }
  function segmentRow(segment) {
    /* [index, text or null, findings] */
    var tr = el("tr", segment[2].length ? "flagged" : "");
    tr.appendChild(el("td", "idx", segment[0] || "-"));
    var text = el("td", "edi");
    if (segment[1] === null) { text.appendChild(el("span", "note", meta.notRead)); }
    else { text.appendChild(el("code", "", segment[1])); }
    tr.appendChild(text);
    tr.appendChild(findingsCell(segment[2]));
    return tr;
  }
  function detailElement(row) {
    var box = el("div", "claim-detail");
    box.setAttribute("data-key", row[F.key]);
    var claim = data("claim-" + row[F.key]);
    if (!claim) {
      box.appendChild(el("p", "note", meta.missing.replace("{claim}", row[F.claim])
        .replace("{file}", meta.files[row[F.file] - 1])
        .replace("{index}", row[F.key].split("-")[1])));
      return box;
    }
    box.appendChild(el("p", "meta", claim.meta));
    if (claim.changed) { box.appendChild(el("p", "warn", meta.changed)); }
    var table = el("table", "segments");
    claim.lines.forEach(function (line) {
      /* [LX number or null, HCPCS, segments, line charge] */
      var body = el("tbody", line[0] === null ? "claim-head" : "line");
      var head = el("tr", "line-head");
      head.appendChild(el("th", "", line[0] === null ? "Claim level (loop 2300)" :
                          "Line " + line[0] + (line[1] ? " · " + line[1] : "") +
                          (line[3] ? " · charge " + line[3] : "")));
      head.firstChild.colSpan = 3;
      body.appendChild(head);
      line[2].forEach(function (segment) { body.appendChild(segmentRow(segment)); });
      table.appendChild(body);
    });
    box.appendChild(table);
    if (claim.checklist) {
      var list = el("div", "checklist");
      list.appendChild(el("h4", "", claim.checklist.title));
      var ul = el("ul");
      claim.checklist.items.forEach(function (item) {
        /* [code, text, flagged] */
        var li = el("li", item[2] ? "flagged" : "clear");
        li.setAttribute("data-rule", item[0]);
        li.appendChild(el("b", "", item[0]));
        li.appendChild(document.createTextNode((item[2] ? " needs attention: " : " ok: ") +
                                               item[1]));
        ul.appendChild(li);
      });
      list.appendChild(ul);
      box.appendChild(list);
    }
    return box;
  }

  function detailRow(row) {
    var tr = el("tr", "detail"), cell = el("td");
    cell.colSpan = 10;  /* every column of the work list */
    cell.appendChild(detailElement(row));
    tr.appendChild(cell);
    return tr;
  }

  function pager(pages) {
    var nav = byId("worklist-pager");
    nav.textContent = "";
    function go(label, page, enabled) {
      var button = el("button", "", label);
      button.type = "button";
      button.disabled = !enabled;
      button.addEventListener("click", function () { state.page = page; remember(); render(); });
      nav.appendChild(button);
    }
    go("first", 1, state.page > 1);
    go("previous", state.page - 1, state.page > 1);
    nav.appendChild(el("span", "", "page " + state.page + " of " + pages));
    go("next", state.page + 1, state.page < pages);
    go("last", pages, state.page < pages);
  }

  function render() {
    var shown = rows.filter(matcher());
    shown.sort(comparator());
    var size = meta.pageSize, pages = Math.max(1, Math.ceil(shown.length / size));
    state.page = Math.min(state.page, pages);
    var first = (state.page - 1) * size, page = shown.slice(first, first + size);
    var fragment = document.createDocumentFragment(), opened = false;
    page.forEach(function (row) {
      fragment.appendChild(rowElement(row));
      if (row[F.key] === state.open) {
        fragment.appendChild(detailRow(row));
        opened = true;
      }
    });
    if (state.open && !opened) {  /* opened from a link, not on this page: show it first */
      var row = rows.filter(function (r) { return r[F.key] === state.open; })[0];
      if (row) { fragment.insertBefore(detailRow(row), fragment.firstChild); }
    }
    tbody.textContent = "";
    tbody.appendChild(fragment);
    byId("worklist-empty").hidden = shown.length > 0;
    byId("f-shown").textContent =
      (shown.length ? (first + 1) + "-" + (first + page.length) + " of " : "") +
      count.format(shown.length) + " claims" +
      (shown.length !== rows.length ? " (of " + count.format(rows.length) + ")" : "");
    var total = 0, unknown = 0;
    shown.forEach(function (row) {
      if (row[F.charge] === null) { unknown += 1; } else { total += row[F.charge]; }
    });
    byId("f-total").textContent = "\u00b7 " + dollars.format(total) + " charged" +
      (unknown ? " (" + count.format(unknown) + " without a charge)" : "");
    byId("f-total").setAttribute("data-value", total.toFixed(2));
    byId("f-rule-help").textContent = controls.rule.value ?
      controls.rule.value + ": " + (meta.rules[controls.rule.value] || "") : "";
    document.querySelectorAll("#worklist thead th[data-sort]").forEach(function (th) {
      var column = th.getAttribute("data-sort");
      th.setAttribute("aria-sort", column === state.sort ?
                      (state.dir === "asc" ? "ascending" : "descending") : "none");
    });
    pager(pages);
  }

  document.querySelectorAll("#worklist thead th[data-sort]").forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var column = th.getAttribute("data-sort");
      /* numbers largest first on the first click, text A-Z; a second click turns it */
      var first = column === "charge" ? "desc" : "asc";
      state.dir = state.sort === column ? (state.dir === "asc" ? "desc" : "asc") : first;
      state.sort = column;
      state.page = 1;
      remember();
      render();
    });
  });
  FILTERS.forEach(function (name) {
    controls[name].addEventListener("input", function () { state.page = 1; remember(); render(); });
  });
  byId("f-clear").addEventListener("click", function () {
    FILTERS.forEach(function (name) { controls[name].value = ""; });
    state.page = 1;
    remember();
    render();
  });
  var embedded = data("worklist-details");
  if (embedded) {  /* what the page carries, known only once it was written */
    var note = byId("detail-note");
    if (embedded.skipped) {
      note.className = "warn";
      note.textContent = "This page carries the segments of " + count.format(embedded.claims) +
        " of the " + count.format(embedded.claims + embedded.skipped) + " listed claims (errors " +
        "first, then in file order); for the other " + count.format(embedded.skipped) + ", " +
        meta.forTheRest + ".";
    } else {
      note.textContent = "Every listed claim opens with its segments and findings.";
    }
  }
  function show() {  /* a summary link or a shared link: the work list is below the fold */
    byId("worklist").scrollIntoView();
  }
  window.addEventListener("hashchange", function () { read(); render(); show(); });
  read();
  render();
  if (location.hash.length > 1) { show(); }
  document.body.setAttribute("data-ready", "yes");
  document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
"""


CSP = (f"default-src 'none'; style-src {csp_hash(STYLE)}; script-src {csp_hash(SCRIPT)}; "
       "img-src 'none'; form-action 'none'; base-uri 'none'")
