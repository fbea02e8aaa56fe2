"""XML report, built with lxml and described by ``schemas/report.xsd``.

The same content as the JSON report (tool, reference data, run, summary,
files with their findings and fix edits) plus the run's figures: counts and
charges held (CLM02 of claims with an error) by rule, by payer (with its
rules) and by file.  ``dollarsAtRisk``/``linesAtRisk`` are the older per-line
view (charges of service lines with an error), kept for integrations that
read them.  EDI-derived text goes through ``common.text``, so control
characters never make the document ill-formed.
"""
from __future__ import annotations

from typing import TextIO

from lxml import etree

from ..findings import Finding, iso_date
from ..results import Report
from . import writer
from .common import UNKNOWN_PAYER, fix_hint, iso_time, ndc_of, run_seconds, text
from .figures import Figures, Held, figures, money

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
        transactionControlNumber=text(f.transaction), payerId=text(f.payer_id),
        payerName=text(f.payer_name), dateOfService=text(iso_date(f.service_date)),
        claimCharge=text(f.claim_charge), billingNpi=text(f.billing_npi),
        paymentLimit=text(f.payment_limit), policy=text(f.policy))
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


def _held(held: Held) -> dict:
    return {"claimsHeld": str(held.claims), "chargesHeld": money(held.charges)}


def _head(report: Report, numbers: Figures) -> list[etree._Element]:
    """Everything before <files>: tool, reference data, run, summary, figures."""
    summary = numbers.summary
    root = etree.Element("report")
    etree.SubElement(root, "tool", name="edi837", version=report.tool_version)
    reference = etree.SubElement(root, "referenceData", drugTable=report.drug_table_version)
    for imported in (report.reference_data or {}).get("imported_files") or []:
        _attributes(etree.SubElement(reference, "importedFile"), kind=imported.get("kind"),
                    name=imported.get("name"), sha256=imported.get("sha256"),
                    effectiveFrom=imported.get("effective_from"),
                    effectiveTo=imported.get("effective_to"))
    history = (report.reference_data or {}).get("history")
    if history:
        _attributes(etree.SubElement(reference, "history"), store=history.get("store"),
                    lasting=str(bool(history.get("lasting"))).lower(),
                    keyFingerprint=history.get("key_fingerprint"))
    run = _attributes(etree.SubElement(root, "run"), started=iso_time(report.started),
                      finished=iso_time(report.finished or report.started),
                      seconds=run_seconds(report), config=report.config_source)
    for notice in report.notices:  # a profile that matched no claim
        etree.SubElement(run, "notice").text = text(notice)
    etree.SubElement(
        root, "summary", files=str(summary["files"]), claims=str(summary["claims"]),
        drugLines=str(summary["drug_lines"]), errors=str(summary["errors"]),
        warnings=str(summary["warnings"]), infos=str(summary["infos"]),
        findings=str(numbers.findings), claimsWithFindings=str(numbers.claims_with_findings),
        dollarsAtRisk=money(numbers.at_risk), linesAtRisk=str(numbers.at_risk_lines),
        filesOk=str(numbers.files_ok), **_held(numbers.held),
        heldClaimsWithoutCharge=str(numbers.held_without_charge),
        claimsHeldAbove=str(numbers.held_outside.claims),
        chargesHeldAbove=money(numbers.held_outside.charges))
    rules = etree.SubElement(root, "rules")
    for rule in numbers.rules:
        etree.SubElement(rules, "rule", code=rule.rule, errors=str(rule.errors),
                         warnings=str(rule.warnings), infos=str(rule.infos),
                         dollarsAtRisk=money(rule.line_charges), linesAtRisk=str(rule.lines),
                         claims=str(rule.claims), **_held(rule.held))
    payers = etree.SubElement(root, "payers")
    for payer in numbers.payers:
        element = _attributes(
            etree.SubElement(payers, "payer", id=text(payer.payer_id) or UNKNOWN_PAYER),
            name=text(payer.name), errors=payer.counts["error"],
            warnings=payer.counts["warning"], infos=payer.counts["info"],
            claims=payer.claims, dollarsAtRisk=money(payer.line_charges),
            linesAtRisk=payer.lines, **_held(payer.held))
        for code, held in payer.top_rules():
            etree.SubElement(element, "rule", code=code, **_held(held))
    return list(root)


def _start_tag(element: etree._Element) -> str:
    """<file ...> for an element written open, its children streamed after it."""
    empty = etree.tostring(element, encoding="unicode")
    return empty[:-2] + ">"


@writer("xml")
def write_xml(report: Report, out: TextIO, options=None) -> None:
    """Streamed: the figures first (one pass over the findings), then each
    finding as it is read, so a file's findings are never one tree in memory."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<report schemaVersion="{SCHEMA_VERSION}">\n')
    numbers = figures(report)
    for element in _head(report, numbers):
        out.write("  " + etree.tostring(element, encoding="unicode", pretty_print=True)
                  .replace("\n<", "\n  <"))
    out.write("  <files>\n")
    for result, file in zip(report.files, numbers.files, strict=True):
        counts = file.counts
        element = _attributes(
            etree.Element("file"), path=text(result.path), status=result.status,
            sha256=result.sha256, size=result.size, transactions=result.transactions,
            claims=result.claims, drugLines=result.drug_lines, errors=counts["error"],
            warnings=counts["warning"], infos=counts["info"],
            claimsWithFindings=file.claims, **_held(file.held))
        out.write("    " + _start_tag(element) + "\n")
        for finding in result.findings:
            holder = etree.Element("file")
            _finding(holder, finding)
            out.write("      " + etree.tostring(holder[0], encoding="unicode") + "\n")
        out.write("    </file>\n")
    out.write("  </files>\n</report>\n")
