"""XML report, built with lxml and described by ``schemas/report.xsd``.

The same content as the JSON report (tool, reference data, run, summary,
files with their findings and fix edits) plus the batch figures (by rule,
dollars at risk by rule and by payer).  EDI-derived text goes through
``common.text``, so control characters never make the document ill-formed.
"""
from __future__ import annotations

from typing import TextIO

from lxml import etree

from ..engine import Report
from ..findings import Finding
from . import writer
from .common import figures, fix_hint, iso_time, money, ndc_of, run_seconds, severity_counts, text

SCHEMA_VERSION = "1"


def _attributes(element: etree._Element, **values) -> etree._Element:
    """Set the attributes whose value is not None/empty (the XSD makes them optional)."""
    for name, value in values.items():
        if value is not None and value != "":
            element.set(name, str(value))
    return element


def _finding(parent: etree._Element, f: Finding) -> None:
    element = _attributes(
        etree.SubElement(parent, "finding"), rule=f.rule, severity=f.severity,
        segment=text(f.segment), segmentIndex=f.segment_index, loop=text(f.loop),
        claimId=text(f.claim_id), lineNumber=f.line_number, hcpcs=text(f.hcpcs),
        ndc=text(ndc_of(f)), units=text(f.extra.get("units")), charge=text(f.charge),
        interchangeControlNumber=text(f.interchange), groupControlNumber=text(f.group),
        transactionControlNumber=text(f.transaction), payerId=text(f.payer_id))
    etree.SubElement(element, "message").text = text(f.message)
    if f.value is not None:
        etree.SubElement(element, "value").text = text(f.value)
    etree.SubElement(element, "fixHint").text = fix_hint(f)
    if f.fix is not None:
        fix = etree.SubElement(element, "fix", description=text(f.fix.description))
        for edit in f.fix.edits:
            etree.SubElement(fix, "edit", segmentIndex=str(edit.segment_index),
                             element=edit.reference, before=text(edit.before),
                             after=text(edit.after))


def _head(report: Report, numbers) -> list[etree._Element]:
    """Everything before <files>: tool, reference data, run, summary, figures."""
    summary = numbers.summary
    root = etree.Element("report")
    etree.SubElement(root, "tool", name="edi837", version=report.tool_version)
    etree.SubElement(root, "referenceData", drugTable=report.drug_table_version)
    _attributes(etree.SubElement(root, "run"), started=iso_time(report.started),
                finished=iso_time(report.finished or report.started),
                seconds=run_seconds(report), config=report.config_source)
    etree.SubElement(
        root, "summary", files=str(summary["files"]), claims=str(summary["claims"]),
        drugLines=str(summary["drug_lines"]), errors=str(summary["errors"]),
        warnings=str(summary["warnings"]), infos=str(summary["infos"]),
        findings=str(numbers.findings), claimsWithFindings=str(numbers.claims_with_findings),
        dollarsAtRisk=money(numbers.at_risk), linesAtRisk=str(numbers.at_risk_lines))
    rules = etree.SubElement(root, "rules")
    for rule in numbers.rules:
        etree.SubElement(rules, "rule", code=rule.rule, errors=str(rule.errors),
                         warnings=str(rule.warnings), infos=str(rule.infos),
                         dollarsAtRisk=money(rule.at_risk), linesAtRisk=str(rule.lines))
    payers = etree.SubElement(root, "payers")
    for payer in numbers.payers:
        etree.SubElement(payers, "payer", id=text(payer.payer),
                         dollarsAtRisk=money(payer.at_risk), linesAtRisk=str(payer.lines))
    return list(root)


def _start_tag(element: etree._Element) -> str:
    """<file ...> for an element written open, its children streamed after it."""
    empty = etree.tostring(element, encoding="unicode")
    return empty[:-2] + ">"


@writer("xml", ".xml")
def write_xml(report: Report, out: TextIO) -> None:
    """Streamed: the figures first (one pass over the findings), then each
    finding as it is read, so a file's findings are never one tree in memory."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<report schemaVersion="{SCHEMA_VERSION}">\n')
    for element in _head(report, figures(report)):
        out.write("  " + etree.tostring(element, encoding="unicode", pretty_print=True)
                  .replace("\n<", "\n  <"))
    out.write("  <files>\n")
    for result in report.files:
        counts = severity_counts(result.findings)
        element = _attributes(
            etree.Element("file"), path=text(result.path), status=result.status,
            sha256=result.sha256, size=result.size, transactions=result.transactions,
            claims=result.claims, drugLines=result.drug_lines, errors=counts["error"],
            warnings=counts["warning"], infos=counts["info"])
        out.write("    " + _start_tag(element) + "\n")
        for finding in result.findings:
            holder = etree.Element("file")
            _finding(holder, finding)
            out.write("      " + etree.tostring(holder[0], encoding="unicode") + "\n")
        out.write("    </file>\n")
    out.write("  </files>\n</report>\n")
