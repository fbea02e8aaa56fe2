"""`edi837 refdata`: import CMS's quarterly reference files, and show what is loaded.

Thin: the work is in :mod:`edi837.refdata`.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from .batch import ByteSize
from .support import EXIT_OK, EXIT_TROUBLE, complain, refdata_option


def _date(value) -> dt.date | None:
    return value.date() if value is not None else None


@click.group()
def refdata() -> None:
    """Import CMS reference files (NDC-HCPCS crosswalks, ASP pricing, MUE, ICD-10-CM) and
    show what is loaded.  `check` judges NDCs, daily maximums and diagnosis codes by them."""


@refdata.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@refdata_option
@click.option("--effective", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Date the files take effect (YYYY-MM-DD), instead of what their title rows "
                   "or names say; needed for the ICD-10-CM order file (2025-10-01 for FY2026).")
@click.option("--kind", type=click.Choice(["asp-crosswalk", "opps-crosswalk", "asp-pricing",
                                           "mue-practitioner", "mue-outpatient", "icd10cm",
                                           "hcpcs", "fda-ndc-package", "fda-ndc-product"]),
              help="What the files are, when their content leaves it open (an OPPS crosswalk "
                   "whose title does not say OPPS); a file of another kind is refused.")
@click.option("--force", is_flag=True,
              help="Import an ICD-10-CM order file far smaller than a release (under 10,000 "
                   "billable codes), which is refused otherwise.")
@click.option("--max-member-size", type=ByteSize(), default="2G", show_default=True,
              help="Refuse a ZIP member larger than this uncompressed (5000, 500M, 2G).")
@click.option("--max-ratio", type=click.FloatRange(min=1), default=100, show_default=True,
              help="Refuse a ZIP member that inflates more than this many times its "
                   "compressed size (a ZIP bomb; CMS's CSVs deflate 5 to 10 times).")
def import_command(files: tuple[Path, ...], refdata: Path | None, effective, kind: str | None,
                   force: bool, max_member_size: int, max_ratio: float) -> None:
    """Import CMS reference FILES (CSV or tab text, or ZIPs of them), recognised by content.

    All or nothing: a file that is not recognised, or cannot be read, is named
    and nothing of the command is imported (exit status 2).  Importing the
    same file again changes nothing.
    """
    from ..progress import Progress, total_size, wanted
    from ..refdata import RefDataError, default_directory, import_files, store_path
    from ..refdata.sources import Caps

    directory = refdata or default_directory()[0]
    progress = Progress(total_size(files), "edi837 refdata import", enabled=wanted(False))
    try:
        with progress.ticking():  # a release's files: some seconds each
            outcomes = import_files(files, directory, effective=_date(effective), kind=kind,
                                    force=force, caps=Caps(max_member_size, max_ratio))
    except RefDataError as exc:
        complain(str(exc))
        complain(f"nothing was imported into {store_path(directory)}")
        sys.exit(EXIT_TROUBLE)
    for outcome in outcomes:
        click.echo(outcome.describe())
    click.echo(f"reference data in {store_path(directory)}")
    sys.exit(EXIT_OK)


@refdata.command()
@refdata_option
def status(refdata: Path | None) -> None:
    """List the imported files: what each holds, from when to when it is in force, and
    which were superseded."""
    from ..refdata import KINDS, RefDataError, default_directory, open_reference, store_path
    from ..safetext import shown

    directory, chosen = (refdata, True) if refdata else default_directory()
    if not chosen and not store_path(directory).is_file():
        click.echo(f"no reference data imported in {directory} (edi837 refdata import FILE...)")
        return
    try:
        reference = open_reference(directory)
    except RefDataError as exc:
        complain(str(exc))
        sys.exit(EXIT_TROUBLE)
    click.echo(f"reference data in {store_path(directory)}")
    in_force = {f.id: f for f in reference.files}
    for kind in sorted({record.kind for record in reference.records}):
        click.echo(f"{KINDS.get(kind, kind)}:")
        for record in (r for r in reference.records if r.kind == kind):
            current = in_force.get(record.id)
            period = (f"{current.effective_from} to {current.effective_to or '(in force)'}"
                      if current else f"{record.effective_from} superseded")
            click.echo(f"  {period:<28} {record.status:<11} {record.rows:>7} rows  "
                       f"{shown(record.name)}  sha256 {record.sha256[:16]}  imported "
                       f"{record.imported_at}")


def _span(window) -> str:
    return f"{window.start or '...'} to {window.end or '...'}"


def describe_reference(table, drug, day: dt.date) -> str:
    """The facts imported CMS files give about ``drug`` on ``day``, each naming its file
    (for `edi837 drugs HCPCS`); empty without reference data."""
    from ..refdata import KINDS
    from ..refdata.reference import CROSSWALK_FOR

    reference = table.reference
    if reference is None:
        return ""
    lines = [f"  from imported CMS files, for {day} (--date):"]

    def origin(file) -> str:
        return f"[{file.short_name}, effective {file.effective_from}]"

    for kind, crosswalk in CROSSWALK_FOR.items():
        entries = drug.crosswalk(kind, day)
        if not entries and reference.file_for(crosswalk, day):
            lines.append(f"  {kind}: the {KINDS[crosswalk]} lists no NDC under {drug.hcpcs}")
        for ndc, entry in entries.items():
            also = "also in the table" if drug.ndc(ndc) else "not in the table"
            lines.append(f"  {kind} NDC {ndc} {entry.drug_name or ''} ({entry.labeler or '?'}): "
                         f"{entry.units_per_item or '?'} billing units per item, "
                         f"{entry.billing_units_per_package or '?'} per package; {also}  "
                         f"{origin(entry.file)}")
        mue = reference.mue(drug.hcpcs, kind, day)
        if mue is not None:
            lines.append(f"  {kind} MUE: {mue.value} units, MAI {mue.mai} ({mue.meaning})  "
                         f"{origin(mue.file)}")
    limit = reference.payment_limit(drug.hcpcs, day)
    if limit is not None:
        lines.append(f"  ASP payment limit: ${limit.per_unit} per billing unit "
                     f"({limit.dosage or 'dosage not given'})  {origin(limit.file)}")
    code_file = drug.code_file(day)
    if code_file is not None:
        codes = dict.fromkeys(entry.code for entry in drug.diagnoses if not entry.prefix)
        shown = []
        for code in codes:
            found = reference.icd10(code, day)
            state = "not listed" if found is None else "billable" if found.billable else "header"
            shown.append(f"{code} {state}")
        lines.append(f"  ICD-10-CM: {', '.join(shown) or 'no exact codes in the table'}  "
                     f"{origin(code_file)}")
    # DOS002 and NDC009 judge by these (the newest file answers for every date)
    ignored = " (not used: the drug table overrides the imported dates)" \
        if "dates" in getattr(drug, "overrides_reference", ()) else ""
    window = reference.hcpcs_dates(drug.hcpcs)
    if window is not None:
        lines.append(f"  code valid: {_span(window)}  {origin(window.file)}{ignored}")
    for package in drug.ndcs:
        window = reference.ndc_dates(package.ndc)
        if window is not None:
            lines.append(f"  NDC {package.ndc} marketed: {_span(window)}  "
                         f"{origin(window.file)}{ignored}")
    if len(lines) == 1:
        lines.append("  none for this code and date")
    return "\n".join(lines)
