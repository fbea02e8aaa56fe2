"""HTML report: the morning work list, one self-contained page.

At the top the run's figures: files, claims, findings, and the charges held
(CLM02 of the claims with an error finding) by payer, with the rules holding
each payer's claims, and by rule (each linking to the work list filtered on
it, with the rule's one-line explanation); info-only rules are collapsed.
Then the work list: one row per claim with an error or warning (file, claim,
payer, date of service, drugs, charge, rules, worst severity), errors first,
sortable, filtered by payer, rule, severity, file and claim id, the state kept
in the URL (``report.html#payer=99901&rule=NDC002``); a claim's segments and
findings open on demand.  Findings outside any claim (envelopes) follow as a
plain table.

The page is built to open quickly at nightly scale (edi837.reports.
html_worklist: rows and claim details as JSON the script renders a page at a
time, both capped, with the page saying what it left out).  Self-contained
and safe to open: no network, fonts, external scripts or styles; every
EDI-derived string is escaped (HTML text, or JSON with ``<`` escaped in data
blocks, set with ``textContent`` by the script), and a Content-Security-Policy
allows only this file's own script and style (by hash).
"""
from __future__ import annotations

import html
from typing import TextIO

from ..findings import SEVERITIES, Finding
from ..results import Report
from . import DEFAULT_OPTIONS, ReportOptions, writer
from . import html_worklist as worklist  # its caps are read when a page is written
from .common import NOT_READ, UNKNOWN_PAYER, fix_hint, iso_time, reference_note, run_seconds, text
from .figures import Figures, dollars, figures, plural
from .html_assets import CSP, SCRIPT, STYLE
from .html_worklist import FIELDS, DetailWriter, Quota, data_block, listed_by_worst, write_rows
from .text import status_word
from .views import ClaimView, SegmentView, file_changed, file_views

PAGE_SIZE = 100  # work list rows in the DOM at a time
OUTSIDE_LIMIT = 1_000  # findings' segments outside claims shown as a table
TOP_RULES = 3  # rules named per payer
FOR_THE_REST = ("the CSV and JSON reports list every finding, and the annotated report "
                "(-o claims.annotated.txt) every claim's segments")


def h(value: object) -> str:
    """Escape for HTML text and attribute values (EDI text made readable first)."""
    return html.escape(text(value), quote=True)


def _rule_summaries(codes) -> dict[str, str]:
    from ..rules import find_rule

    found = {code: find_rule(code) for code in codes}
    return {code: text(rule.summary) if rule else "" for code, rule in found.items()}


# -- figures ---------------------------------------------------------------------------
def _summary(out: TextIO, report: Report, numbers: Figures) -> None:
    s = numbers.summary
    cells = [("files", "Files", s["files"]), ("files-ok", "Files OK", numbers.files_ok),
             ("claims", "Claims", s["claims"]), ("drug-lines", "Drug lines", s["drug_lines"]),
             ("claims-with-findings", "Claims with findings", numbers.claims_with_findings),
             ("errors", "Errors", s["errors"]), ("warnings", "Warnings", s["warnings"]),
             ("infos", "Infos", s["infos"]), ("claims-held", "Claims held", numbers.held.claims),
             ("charges-held", "Charges held", dollars(numbers.held.charges))]
    out.write('<section id="summary"><h2>Summary</h2><table class="figures"><tr>')
    out.write("".join(f'<th class="n">{label}</th>' for _, label, _ in cells))
    out.write("</tr><tr>")
    out.write("".join(f'<td class="n" data-figure="{key}">'
                      f'{value if isinstance(value, str) else format(value, ",")}</td>'
                      for key, _, value in cells))
    unknown = (f" {plural(numbers.held_without_charge, 'held claim')} had no usable CLM02 and "
               "count $0." if numbers.held_without_charge else "")
    above = numbers.held_outside  # as the text summary and the JSON's claims_held_above
    above_note = (f' And <span data-figure="claims-held-above">'
                  f'{plural(above.claims, "claim")}</span>, <span data-figure='
                  f'"charges-held-above">{dollars(above.charges)}</span>, held by an error on '
                  'the interchange, group, set or HL loop above them (none has an error of its '
                  'own: the split and the 277CA hold them).' if above.claims else "")
    out.write('</tr></table><p class="note">Charges held: the claim charge (CLM02) of every '
              'claim with at least one error finding, each claim counted once; the payers and '
              f'the files add up to it.{unknown}{above_note} A file whose findings are all info '
              'notes is OK.</p>\n')
    _payers(out, numbers)
    _rules(out, numbers)
    _inputs(out, report, numbers)
    out.write("</section>\n")


def _payers(out: TextIO, numbers: Figures) -> None:
    out.write('<h3>Charges held by payer</h3><table id="by-payer" class="figures"><thead><tr>'
              '<th>Payer id</th><th>Payer name (first seen)</th>'
              '<th class="n">Claims with findings</th><th class="n">Claims held</th>'
              '<th class="n">Charges held</th><th>Largest rules (charges held)</th></tr></thead>'
              '<tbody>')
    for payer in numbers.payers:
        pid = text(payer.payer_id)
        link = f'#payer={_q(pid)}'
        rules = ", ".join(f'<a href="{link}&amp;rule={_q(code)}">{h(code)}</a> '
                          f'{dollars(held.charges)}'
                          for code, held in payer.top_rules()[:TOP_RULES])
        out.write(f'<tr data-payer="{h(pid)}"><td><a href="{link}">'
                  f'{h(pid or UNKNOWN_PAYER)}</a></td><td>{h(payer.name)}</td>'
                  f'<td class="n" data-figure="claims">{payer.claims:,}</td>'
                  f'<td class="n" data-figure="claims-held">{payer.held.claims:,}</td>'
                  f'<td class="n" data-figure="charges-held">{dollars(payer.held.charges)}</td>'
                  f'<td>{rules}</td></tr>')
    if not numbers.payers:
        out.write('<tr><td colspan="6">No claim has findings.</td></tr>')
    out.write('</tbody></table><p class="note">Payers are grouped by payer id (2010BB NM109); '
              'the name is free text, the first one seen is shown.</p>\n')


def _rule_row(out: TextIO, rule, summary: str) -> None:
    out.write(f'<tr data-rule="{h(rule.rule)}"><td><a href="#rule={_q(rule.rule)}"><code>'
              f'{h(rule.rule)}</code></a></td><td>{h(summary)}</td>'
              f'<td class="n" data-figure="errors">{rule.errors:,}</td>'
              f'<td class="n" data-figure="warnings">{rule.warnings:,}</td>'
              f'<td class="n" data-figure="infos">{rule.infos:,}</td>'
              f'<td class="n" data-figure="claims">{rule.claims:,}</td>'
              f'<td class="n" data-figure="claims-held">{rule.held.claims:,}</td>'
              f'<td class="n" data-figure="charges-held">{dollars(rule.held.charges)}</td></tr>')


RULE_HEAD = ('<thead><tr><th>Rule</th><th>What it flags</th><th class="n">Errors</th>'
             '<th class="n">Warnings</th><th class="n">Infos</th><th class="n">Claims</th>'
             '<th class="n">Claims held</th><th class="n">Charges held</th></tr></thead>')


def _rules(out: TextIO, numbers: Figures) -> None:
    summaries = _rule_summaries(r.rule for r in numbers.rules)
    loud = [r for r in numbers.rules if r.errors or r.warnings]
    quiet = [r for r in numbers.rules if not (r.errors or r.warnings)]
    out.write(f'<h3>Findings by rule</h3><table id="by-rule" class="figures">{RULE_HEAD}<tbody>')
    for rule in loud:
        _rule_row(out, rule, summaries[rule.rule])
    if not loud:
        out.write('<tr><td colspan="8">No errors or warnings.</td></tr>')
    out.write('</tbody></table><p class="note">A claim held by two rules counts under both, '
              'so the rules overlap and their charges add up to more than the total.</p>\n')
    if quiet:
        notes = sum(r.findings for r in quiet)
        out.write(f'<details id="info-rules"><summary>Info notes: {plural(notes, "note")} '
                  f'from {plural(len(quiet), "rule")} (annotations, nothing to correct)'
                  f'</summary><table id="by-rule-info" class="figures">{RULE_HEAD}<tbody>')
        for rule in quiet:
            _rule_row(out, rule, summaries[rule.rule])
        out.write("</tbody></table></details>\n")


def _inputs(out: TextIO, report: Report, numbers: Figures) -> None:
    out.write('<h3>Input files</h3><table id="inputs" class="figures"><thead><tr>'
              '<th>File</th><th>Status</th><th>SHA-256</th><th class="n">Bytes</th>'
              '<th class="n">Claims</th><th class="n">Drug lines</th><th class="n">Errors</th>'
              '<th class="n">Warnings</th><th class="n">Infos</th><th class="n">Claims held</th>'
              '<th class="n">Charges held</th></tr></thead><tbody>')
    for number, (result, file) in enumerate(zip(report.files, numbers.files, strict=True), 1):
        counts = file.counts
        out.write(f'<tr data-file="{number}"><td><a href="#file={number}">{h(result.path)}</a>'
                  f'</td><td data-figure="status">{h(status_word(result.status))}</td>'
                  f'<td><code data-sha256="{h(result.sha256)}">{h(result.sha256)}</code></td>'
                  f'<td class="n">{result.size:,}</td><td class="n">{result.claims:,}</td>'
                  f'<td class="n">{result.drug_lines:,}</td>'
                  f'<td class="n">{counts["error"]:,}</td><td class="n">{counts["warning"]:,}'
                  f'</td><td class="n">{counts["info"]:,}</td>'
                  f'<td class="n">{file.held.claims:,}</td>'
                  f'<td class="n">{dollars(file.held.charges)}</td></tr>')
    out.write("</tbody></table>\n")


def _q(value: str) -> str:
    """A value in a URL fragment parameter (the script reads it with URLSearchParams)."""
    from urllib.parse import quote

    return html.escape(quote(value, safe=""), quote=True)


# -- the work list ---------------------------------------------------------------------
WORKLIST_COLUMNS = (("file", "File"), ("claim", "Claim"), ("payer", "Payer"),
                    ("npi", "Billing NPI"), ("submitter", "Submitter"), ("dos", "Date of service"),
                    ("drugs", "Drugs"),
                    ("charge", "Charge (CLM02)"), ("rules", "Rules"), ("severity", "Severity"))


def _worklist(out: TextIO, report: Report, numbers: Figures, options: ReportOptions) -> None:
    listed = listed_by_worst(numbers, options)
    total = sum(listed.values())
    rows = sum(Quota(listed, worklist.ROW_LIMIT).allowed.values())
    shown_severities = [s for s in SEVERITIES if options.listed(s)]
    out.write('<section id="worklist"><h2>Work list</h2>')
    out.write(f'<p class="note">One row per claim whose worst finding is '
              f'{" or ".join(shown_severities)} ({plural(total, "claim")}), errors first; '
              'click a claim to open its segments and findings.')
    below = sum(n for s, n in numbers.claims_by_worst.items() if s and not options.listed(s))
    if below:
        out.write(f' {plural(below, "claim")} with only '
                  f'{" or ".join(s for s in SEVERITIES if not options.listed(s))} findings '
                  f'{"is" if below == 1 else "are"} not listed (--min-severity info lists '
                  f'them; {FOR_THE_REST}).')
    out.write("</p>")
    if rows < total:
        out.write(f'<p class="warn" id="rows-capped">This page lists {rows:,} of these '
                  f'{total:,} claims (errors first, then in file order); {FOR_THE_REST}.</p>')
    out.write(f'<p class="note" id="detail-note">This page carries the segments of at most '
              f'{worklist.DETAIL_LIMIT:,} claims ({worklist.DETAIL_CHARS // 1_000_000} million '
              f'characters), errors first; for a claim beyond that, {FOR_THE_REST}.</p>')
    for result in report.files:
        if file_changed(result):
            out.write(f'<p class="warn">The file changed since it was checked: the segments '
                      f'shown for {h(result.path)} may not match.</p>')
    _controls(out)
    out.write('<table id="worklist-table"><thead><tr>')
    for key, label in WORKLIST_COLUMNS:
        out.write(f'<th data-sort="{key}" aria-sort="none"><button type="button">{label}'
                  '</button></th>')
    out.write('</tr></thead><tbody id="worklist-body"></tbody></table>'
              '<p id="worklist-empty" class="note" hidden>No claim matches these filters.</p>'
              '<nav class="pager" id="worklist-pager" aria-label="Pages"></nav>'
              '<noscript><p class="warn">The work list needs JavaScript; the figures above '
              f'do not. Without it, {FOR_THE_REST}.</p></noscript></section>\n')


def _controls(out: TextIO) -> None:
    out.write('<nav class="controls" id="filters" aria-label="Filters">'
              '<label>Severity <select id="f-severity"><option value="">all</option>'
              '<option value="error">worst: error</option>'
              '<option value="warning">worst: warning</option>'
              '<option value="info">worst: info</option></select></label>'
              '<label>Payer <select id="f-payer"><option value="">all</option></select></label>'
              '<label>Submitter <select id="f-submitter"><option value="">all</option>'
              '</select></label>'
              '<label>Rule <select id="f-rule"><option value="">all</option></select></label>'
              '<label>File <select id="f-file"><option value="">all</option></select></label>'
              '<label>Claim id <input id="f-claim" type="search" placeholder="CLM01 contains">'
              '</label><button type="button" id="f-clear">clear filters</button>'
              '<span id="f-shown" class="note"></span> <span id="f-total" class="note">'
              '</span><span id="f-rule-help" class="note">'
              '</span></nav>\n')


def _meta(report: Report, numbers: Figures, options: ReportOptions) -> dict:
    listed_rules = [r.rule for r in numbers.rules
                    if any(options.listed(s) and r.counts[s] for s in SEVERITIES)]
    return {
        "fields": list(FIELDS), "pageSize": PAGE_SIZE,
        "files": [text(result.path) for result in report.files],
        "payers": {text(p.payer_id): text(p.name) for p in numbers.payers},
        "payerOrder": [text(p.payer_id) for p in numbers.payers],
        "submitters": _submitters(report),
        "rules": _rule_summaries(r.rule for r in numbers.rules),
        "ruleOrder": listed_rules,
        "collapsed": [s for s in SEVERITIES if s == "info" or not options.listed(s)],
        "notRead": NOT_READ, "forTheRest": FOR_THE_REST,
        "changed": "The file changed since it was checked: these segments may not match.",
        "missing": "This page does not carry the segments of claim {claim} (see the note above "
                   "the filters): find it in {file}, CLM at segment {index}; " + FOR_THE_REST + ".",
    }


def _submitters(report: Report) -> dict[str, str]:
    """Every submitter id of the files (1000A NM109) with its first name seen (NM103)."""
    found: dict[str, str] = {}
    for result in report.files:
        for ident, name in result.submitters.values():
            found.setdefault(text(ident), text(name))
    return dict(sorted(found.items()))


# -- findings outside claims -----------------------------------------------------------
def _finding(f: Finding) -> str:
    where = f" line {f.line_number}" if f.line_number is not None else ""
    return (f'<div class="finding {f.severity}" data-severity="{f.severity}" '
            f'data-rule="{h(f.rule)}"><b>{h(f.rule)}</b> <span class="sev {f.severity}">'
            f'{f.severity}</span>{h(where)}: {h(f.message)}'
            f'<div class="hint">fix: {h(fix_hint(f))}</div></div>')


def _segment_row(segment: SegmentView) -> str:
    flagged = ' class="flagged"' if segment.findings else ""
    shown = (f"<code>{h(segment.text)}</code>" if segment.text is not None
             else f'<span class="note">{NOT_READ}</span>')
    notes = "".join(_finding(f) for f in segment.findings)
    index = segment.index or "–"  # 0: a finding about no segment (unreadable file)
    return (f'<tr{flagged}><td class="idx">{index}</td><td class="edi">{shown}</td>'
            f'<td class="notes">{notes}</td></tr>')


class _Outside:
    """The findings outside any claim, as a table per file, written as the files
    are re-read (the section opens at the first one), capped."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.shown, self.left_out, self.opened = out, 0, 0, False

    def file(self, number: int, path: str, segments: list[SegmentView]) -> None:
        if not segments:
            return
        if not self.opened:
            self.out.write('<section id="outside"><h2>Findings outside any claim '
                           '(envelopes, file)</h2>\n')
            self.opened = True
        self.out.write(f'<div class="file-level" data-file="{number}"><h3>{h(path)}</h3>'
                       '<table class="segments">')
        for segment in segments:
            if self.shown >= OUTSIDE_LIMIT:
                self.left_out += 1
                continue
            self.shown += 1
            self.out.write(_segment_row(segment))
        self.out.write("</table></div>\n")

    def close(self) -> None:
        if self.left_out:
            self.out.write(f'<p class="warn">{plural(self.left_out, "more segment")} with '
                           f'findings outside claims not shown; {FOR_THE_REST}.</p>')
        if self.opened:
            self.out.write("</section>\n")


# -- the page --------------------------------------------------------------------------
@writer("html")
def write_html(report: Report, out: TextIO, options: ReportOptions | None = None) -> None:
    options = options or DEFAULT_OPTIONS
    numbers = figures(report)
    s = numbers.summary
    out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
              f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              '<meta name="referrer" content="no-referrer">'
              f'<title>edi837 report: {dollars(numbers.held.charges)} held, '
              f'{plural(s["errors"], "error")}, {plural(s["warnings"], "warning")} in '
              f'{plural(s["files"], "file")}</title>'
              f"<style>{STYLE}</style></head>\n<body>\n")
    out.write(f'<header><h1>edi837 check report</h1><p class="meta">tool edi837 '
              f'<span data-figure="tool-version">{h(report.tool_version)}</span> · drug table '
              f'<span data-figure="drug-table">{h(report.drug_table_version)}</span> · run '
              f'<time data-figure="started">{iso_time(report.started)}</time> to '
              f'<time data-figure="finished">{iso_time(report.finished or report.started)}'
              f'</time> (<span data-figure="seconds">{run_seconds(report)}</span> s)'
              + (f" · config {h(report.config_source)}" if report.config_source else "")
              + (f" · {h(reference_note(report))}" if reference_note(report) else "")
              + "</p>" + "".join(f'<p class="notice">notice: {h(notice)}</p>'
                                 for notice in report.notices) + "</header>\n")
    _summary(out, report, numbers)
    _worklist(out, report, numbers, options)
    data_block(out, "worklist-meta", _meta(report, numbers, options))
    write_rows(out, report, numbers, options)
    details = DetailWriter(out, numbers, options)
    outside = _Outside(out)
    for number, view in enumerate(file_views(report), 1):
        segments = [SegmentView(0, None, [f]) for f in view.unlocated]
        for item in view.items():
            if isinstance(item, ClaimView):
                details.claim(number, item, view.changed, view.result.submitters)
            elif len(segments) <= OUTSIDE_LIMIT:  # the rest is only counted
                segments.append(item)
            else:
                outside.left_out += 1
        outside.file(number, view.result.path, segments)
    outside.close()
    data_block(out, "worklist-details", {"claims": details.claims, "skipped": details.skipped})
    out.write(f"<script>{SCRIPT}</script>\n</body></html>\n")
