"""HTML report: one self-contained page a person works the findings from.

At the top the batch summary (files, claims, drug lines; findings by rule and
severity; dollars at risk by rule and by payer; the input files with their
SHA-256), then per file -> claim -> line the claim's segments with the
findings next to the segment they concern, and a J2350 documentation
checklist (DOC rules) per claim.

Self-contained and safe to open: no network, fonts, external scripts or
styles.  Every EDI-derived string is HTML-escaped, and a Content-Security-
Policy allows only this file's own script and style (by hash), so even a
missed escape could not run injected script.  The small inline script filters
by severity and rule and searches claim ids; the filter lives in the URL
fragment (``report.html#severity=error&rule=NDC002&claim=C1``), so a filtered
view can be bookmarked or shared.  Without JavaScript everything is shown.
"""
from __future__ import annotations

import base64
import hashlib
import html
from typing import TextIO

from ..engine import Report
from ..findings import Finding
from . import writer
from .common import (NOT_READ, ClaimView, FileView, SegmentView, figures, file_views, fix_hint,
                     iso_time, money, run_seconds, severity_counts, text)

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.4em 0 .4em}
h3{font-size:1.05em;margin:.2em 0}h4{margin:.6em 0 .2em}
.meta{color:#555;margin:0}
table{border-collapse:collapse;margin:.3em 0 1em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.figures th{background:#f3f3f3;font-weight:600}
code,.edi{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
.edi{white-space:pre-wrap;word-break:break-all}
.controls{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 0;
 z-index:1;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
.claim{border:1px solid #bbb;border-radius:4px;padding:.5em .8em;margin:.8em 0;break-inside:avoid}
.claim table.segments{width:100%}
.segments td.idx{color:#777;width:4em;text-align:right}
.segments tr.flagged td.edi{background:#fff4d6}
.segments tr.line-head th{background:#eef2f7}
.finding{margin:.1em 0 .3em;padding:.15em .4em;border-left:4px solid #999}
.finding.error{border-color:#c0392b;background:#fdecea}
.finding.warning{border-color:#d68910;background:#fef5e7}
.finding.info{border-color:#2e86c1;background:#eaf2f8}
.sev{font-weight:600;text-transform:uppercase;font-size:.8em}
.hint{color:#444;font-size:.9em}
.badge{display:inline-block;border-radius:3px;padding:0 .4em;font-size:.85em;margin-left:.3em}
.badge.error{background:#fdecea;color:#922b21}.badge.warning{background:#fef5e7;color:#9c640c}
.badge.info{background:#eaf2f8;color:#1f618d}
.checklist li.flagged{color:#9c640c}.checklist li.clear{color:#1e8449}
.note{color:#555}
.warn{color:#922b21;font-weight:600}
[hidden]{display:none!important}
@media print{.controls{display:none}body{margin:0;font-size:11px}
 .claim{border-color:#888}a{color:inherit;text-decoration:none}}
"""

SCRIPT = """
(function () {
  "use strict";
  var severity = document.getElementById("f-severity");
  var rule = document.getElementById("f-rule");
  var claim = document.getElementById("f-claim");
  var shown = document.getElementById("f-shown");
  var findings = document.querySelectorAll(".finding");
  function read() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    severity.value = params.get("severity") || "";
    rule.value = params.get("rule") || "";
    claim.value = params.get("claim") || "";
  }
  function apply(remember) {
    var s = severity.value, r = rule.value, c = claim.value.trim().toLowerCase(), n = 0;
    findings.forEach(function (f) {
      var box = f.closest(".claim");
      var id = box ? box.getAttribute("data-claim").toLowerCase() : null;
      var ok = (!s || f.getAttribute("data-severity") === s) &&
               (!r || f.getAttribute("data-rule") === r) &&
               (!c || (id !== null && id.indexOf(c) >= 0));
      f.hidden = !ok;
      if (ok) { n += 1; }
    });
    document.querySelectorAll(".claim, .file-level tr.flagged").forEach(function (box) {
      box.hidden = !box.querySelector(".finding:not([hidden])");
    });
    shown.textContent = n + " of " + findings.length + " findings shown";
    if (remember) {
      var params = new URLSearchParams();
      if (s) { params.set("severity", s); }
      if (r) { params.set("rule", r); }
      if (c) { params.set("claim", claim.value.trim()); }
      try { history.replaceState(null, "", "#" + params.toString()); } catch (e) { }
    }
  }
  [severity, rule, claim].forEach(function (control) {
    control.addEventListener("input", function () { apply(true); });
  });
  window.addEventListener("hashchange", function () { read(); apply(false); });
  read();
  apply(false);
  document.body.setAttribute("data-filters-applied", "yes");
})();
"""


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CSP = (f"default-src 'none'; style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)}; "
       "img-src 'none'; form-action 'none'; base-uri 'none'")


def h(value: object) -> str:
    """Escape for HTML text and attribute values (EDI text made readable first)."""
    return html.escape(text(value), quote=True)


def _badges(findings: list[Finding]) -> str:
    counts = severity_counts(findings)
    return "".join(f'<span class="badge {sev}">{counts[sev]} {sev}</span>'
                   for sev in ("error", "warning", "info") if counts[sev])


def _finding(f: Finding) -> str:
    where = f" line {f.line_number}" if f.line_number is not None else ""
    return (f'<div class="finding {f.severity}" data-severity="{f.severity}" '
            f'data-rule="{h(f.rule)}"><b>{h(f.rule)}</b> <span class="sev">{f.severity}</span>'
            f'{h(where)}: {h(f.message)}<div class="hint">fix: {h(fix_hint(f))}</div></div>')


def _segment_row(segment: SegmentView) -> str:
    flagged = ' class="flagged"' if segment.findings else ""
    shown = (f"<code>{h(segment.text)}</code>" if segment.text is not None
             else f'<span class="note">{NOT_READ}</span>')
    notes = "".join(_finding(f) for f in segment.findings)
    index = segment.index or "–"  # 0: a finding about no segment (unreadable file)
    return (f'<tr{flagged}><td class="idx">{index}</td><td class="edi">{shown}</td>'
            f'<td class="notes">{notes}</td></tr>')


def _claim(out: TextIO, claim: ClaimView, anchor: str) -> None:
    isa, gs, st = claim.control_numbers
    out.write(f'<article class="claim" id="{anchor}" data-claim="{h(claim.claim_id)}">'
              f'<h3>Claim {h(claim.claim_id)}{_badges(claim.findings)}</h3>'
              f'<p class="meta">ISA13 {h(isa)} · GS06 {h(gs)} · ST02 {h(st)} · payer '
              f'{h(claim.payer_id) or "unknown"} · segments {claim.first_index}–'
              f'{claim.last_index}</p><table class="segments">')
    for line in claim.lines:
        if line.number is None:
            out.write('<tbody class="claim-head"><tr class="line-head"><th colspan="3">Claim '
                      'level (loop 2300)</th></tr>')
        else:
            hcpcs = f" · {h(line.hcpcs)}" if line.hcpcs else ""
            out.write(f'<tbody class="line" data-line="{h(line.number)}"><tr class="line-head">'
                      f'<th colspan="3">Line {h(line.number)}{hcpcs}'
                      f'{_badges(line.findings)}</th></tr>')
        out.write("".join(_segment_row(segment) for segment in line.segments))
        out.write("</tbody>")
    if claim.unplaced:
        out.write('<tbody class="unplaced">')
        for finding in claim.unplaced:
            out.write(_segment_row(SegmentView(finding.segment_index or 0, None, [finding])))
        out.write("</tbody>")
    out.write("</table>")
    checklist = claim.documentation_checklist()
    if checklist is not None:
        out.write('<div class="checklist"><h4>J2350 documentation checklist</h4><ul>')
        for code, summary, found in checklist:
            state, detail = (("flagged", "; ".join(h(f.message) for f in found)) if found
                             else ("clear", "nothing flagged on this claim"))
            out.write(f'<li class="{state}" data-rule="{h(code)}"><b>{h(code)}</b> '
                      f'{h(summary.rstrip("."))} — <b>{state}</b>: {detail}</li>')
        if not checklist:
            out.write('<li class="note">no DOC rules are loaded</li>')
        out.write("</ul></div>")
    out.write("</article>\n")


def _file(out: TextIO, view: FileView, number: int) -> None:
    result = view.result
    out.write(f'<section class="file" id="file-{number}" data-path="{h(result.path)}">'
              f'<h2>{h(result.path)}{_badges(result.findings)}</h2>'
              f'<p class="meta">status {h(result.status)} · sha256 <code>'
              f'{h(result.sha256) or "(not read)"}</code> · {result.claims} claims, '
              f'{result.drug_lines} drug lines · {view.claims_with_findings} claims with '
              f'findings shown, {result.claims - view.claims_with_findings} claims without '
              f'findings not shown</p>')
    if view.changed:
        out.write('<p class="warn">The file changed since it was checked: the segments '
                  'below may not match.</p>')
    file_level = []
    claims = 0
    for item in view.items():
        if isinstance(item, ClaimView):
            if file_level:
                _file_level(out, file_level)
                file_level = []
            claims += 1
            _claim(out, item, f"claim-{number}-{claims}")
        else:
            file_level.append(item)
    located = [SegmentView(0, None, [f]) for f in view.unlocated]
    if file_level or located:
        _file_level(out, located + file_level)
    out.write("</section>\n")


def _file_level(out: TextIO, segments: list[SegmentView]) -> None:
    out.write('<div class="file-level"><h4>Outside any claim (envelopes, file)</h4>'
              '<table class="segments">')
    out.write("".join(_segment_row(segment) for segment in segments))
    out.write("</table></div>\n")


def _summary(out: TextIO, report: Report, numbers) -> None:
    from ..rules import all_rules

    registry = all_rules()
    summary = numbers.summary
    cells = [("files", "Files", summary["files"]), ("claims", "Claims", summary["claims"]),
             ("drug-lines", "Drug lines", summary["drug_lines"]),
             ("claims-with-findings", "Claims with findings", numbers.claims_with_findings),
             ("errors", "Errors", summary["errors"]), ("warnings", "Warnings",
                                                        summary["warnings"]),
             ("infos", "Infos", summary["infos"]),
             ("at-risk", "Dollars at risk", money(numbers.at_risk)),
             ("lines-at-risk", "Lines with errors", numbers.at_risk_lines)]
    out.write('<section id="summary"><h2>Summary</h2><table class="figures"><tr>')
    out.write("".join(f'<th class="n">{label}</th>' for _, label, _ in cells))
    out.write("</tr><tr>")
    out.write("".join(f'<td class="n" data-figure="{key}">{value}</td>'
                      for key, _, value in cells))
    out.write('</tr></table><p class="note">Dollars at risk: the line charges (SV102/SV203) of '
              'service lines with at least one error finding, each line counted once.</p>')

    out.write('<h3>Findings by rule</h3><table id="by-rule" class="figures"><thead><tr>'
              '<th>Rule</th><th>What it flags</th><th class="n">Errors</th>'
              '<th class="n">Warnings</th><th class="n">Infos</th>'
              '<th class="n">Lines with errors</th><th class="n">Dollars at risk</th>'
              '</tr></thead><tbody>')
    for rule in numbers.rules:
        known = registry.get(rule.rule)
        out.write(f'<tr data-rule="{h(rule.rule)}"><td><code>{h(rule.rule)}</code></td>'
                  f'<td>{h(known.summary if known else "")}</td>'
                  f'<td class="n" data-figure="errors">{rule.errors}</td>'
                  f'<td class="n" data-figure="warnings">{rule.warnings}</td>'
                  f'<td class="n" data-figure="infos">{rule.infos}</td>'
                  f'<td class="n" data-figure="lines-at-risk">{rule.lines}</td>'
                  f'<td class="n" data-figure="at-risk">{money(rule.at_risk)}</td></tr>')
    if not numbers.rules:
        out.write('<tr><td colspan="7">No findings.</td></tr>')
    out.write("</tbody></table>")

    out.write('<h3>Dollars at risk by payer</h3><table id="by-payer" class="figures"><thead>'
              '<tr><th>Payer id</th><th class="n">Lines with errors</th>'
              '<th class="n">Dollars at risk</th></tr></thead><tbody>')
    for payer in numbers.payers:
        out.write(f'<tr data-payer="{h(payer.payer)}"><td>{h(payer.payer)}</td>'
                  f'<td class="n" data-figure="lines-at-risk">{payer.lines}</td>'
                  f'<td class="n" data-figure="at-risk">{money(payer.at_risk)}</td></tr>')
    if not numbers.payers:
        out.write('<tr><td colspan="3">No line has an error finding.</td></tr>')
    out.write("</tbody></table>")

    out.write('<h3>Input files</h3><table id="inputs" class="figures"><thead><tr>'
              '<th>File</th><th>Status</th><th>SHA-256</th><th class="n">Bytes</th>'
              '<th class="n">Claims</th><th class="n">Drug lines</th><th class="n">Errors</th>'
              '<th class="n">Warnings</th><th class="n">Infos</th></tr></thead><tbody>')
    for number, result in enumerate(report.files, 1):
        counts = severity_counts(result.findings)
        out.write(f'<tr><td><a href="#file-{number}">{h(result.path)}</a></td>'
                  f'<td>{h(result.status)}</td><td><code data-sha256="{h(result.sha256)}">'
                  f'{h(result.sha256)}</code></td><td class="n">{result.size}</td>'
                  f'<td class="n">{result.claims}</td><td class="n">{result.drug_lines}</td>'
                  f'<td class="n">{counts["error"]}</td><td class="n">{counts["warning"]}</td>'
                  f'<td class="n">{counts["info"]}</td></tr>')
    out.write("</tbody></table></section>\n")


def _controls(out: TextIO, numbers) -> None:
    rules = "".join(f'<option value="{h(r.rule)}">{h(r.rule)}</option>' for r in numbers.rules)
    out.write('<nav class="controls" id="filters" aria-label="Filters">'
              '<label>Severity <select id="f-severity"><option value="">all</option>'
              '<option value="error">error</option><option value="warning">warning</option>'
              '<option value="info">info</option></select></label>'
              f'<label>Rule <select id="f-rule"><option value="">all</option>{rules}'
              '</select></label><label>Claim id <input id="f-claim" type="search" '
              'placeholder="CLM01 contains"></label><span id="f-shown" class="note">'
              f'{numbers.findings} findings</span></nav>\n')


@writer("html", ".html", ".htm")
def write_html(report: Report, out: TextIO) -> None:
    numbers = figures(report)
    summary = numbers.summary
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              '<meta name="referrer" content="no-referrer">'
              f'<title>edi837 report: {summary["errors"]} errors, {summary["warnings"]} '
              f'warnings in {summary["files"]} files</title>'
              f"<style>{STYLE}</style></head>\n<body>\n")
    out.write(f'<header><h1>edi837 check report</h1><p class="meta">tool edi837 '
              f'<span data-figure="tool-version">{h(report.tool_version)}</span> · drug table '
              f'<span data-figure="drug-table">{h(report.drug_table_version)}</span> · run '
              f'<time data-figure="started">{iso_time(report.started)}</time> to '
              f'<time data-figure="finished">{iso_time(report.finished or report.started)}'
              f'</time> (<span data-figure="seconds">{run_seconds(report)}</span> s)'
              + (f" · config {h(report.config_source)}" if report.config_source else "")
              + "</p></header>\n")
    _summary(out, report, numbers)
    _controls(out, numbers)
    out.write('<noscript><p class="note">The filters need JavaScript; '
              'every finding is shown.</p></noscript>\n<main id="details">\n')
    for number, view in enumerate(file_views(report), 1):
        _file(out, view, number)
    out.write(f"</main>\n<script>{SCRIPT}</script>\n</body></html>\n")
