"""`edi837 drugs`: the drug table, or one drug's facts with their sources."""
from __future__ import annotations

import datetime
import sys
from pathlib import Path

import click

from .support import EXIT_TROUBLE, complain, load_table_or_exit, refdata_option


@click.command()
@click.argument("hcpcs", required=False)
@click.option("--drug-table", "drug_tables", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra drug table (TOML) adding to or overriding the shipped one.")
@refdata_option
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Date of service for imported reference facts [today].")
def drugs(hcpcs: str | None, drug_tables: tuple[Path, ...], refdata: Path | None, day) -> None:
    """List the drug table, or print one drug's facts with their sources: the table's,
    then those of the imported CMS files in force on --date."""
    table = load_table_or_exit(drug_tables, refdata)
    if hcpcs is None:
        click.echo(f"drug table {table.version}")
        for drug in table.drugs.values():
            click.echo(f"{drug.hcpcs}  {drug.descriptor}  ({drug.route}, "
                       f"{'single-dose' if drug.single_dose else 'multi-dose'})")
        return
    drug = table.drug(hcpcs.upper())
    if drug is None:
        complain(f"{hcpcs} is not in drug table {table.version}")
        sys.exit(EXIT_TROUBLE)
    click.echo(describe_drug(drug))
    from .refdata import describe_reference
    imported = describe_reference(table, drug, day.date() if day else datetime.date.today())
    if imported:
        click.echo(imported)


def describe_drug(drug) -> str:
    lines = [f"{drug.hcpcs}: {drug.descriptor}  (from the drug table: sources in brackets)",
             f"  1 unit = {drug.amount_per_unit} {drug.unit_of_measure}; route {drug.route}; "
             f"{'single-dose' if drug.single_dose else 'not single-dose'}  [{drug.provenance}]",
             f"  labeled doses (units): {', '.join(map(str, drug.labeled_doses)) or 'weight-based'}"
             f"; maximum per day: {drug.max_units_per_day or 'n/a'}  [{drug.dosing.provenance}]",
             f"  administration: {', '.join(drug.administration_codes) or 'none listed'}"
             f"  [{drug.administration.provenance}]"]
    if drug.revenue:
        lines.append(f"  837I revenue code: {drug.revenue.code}  [{drug.revenue.provenance}]")
    if drug.code_dates is not None:
        dates = drug.code_dates
        lines.append(f"  code valid: {dates.start or 'unknown'} to {dates.end or '...'}  "
                     f"[{dates.source}]")
    for package in drug.ndcs:
        billable = "billable" if package.billable else "NOT billable"
        marketed = (f", marketed {package.marketing_start or '...'} to "
                    f"{package.marketing_end or '...'}"
                    if package.marketing_start or package.marketing_end else "")
        lines.append(f"  NDC {package.ndc}: {package.package} ({billable}{marketed})  "
                     f"[{package.provenance}]")
    if drug.ndc_units is not None:
        lines.append(f"  NDC units (CTP05-1): {', '.join(drug.ndc_units.units)}  "
                     f"[{drug.ndc_units.provenance}]")
    for code in drug.diagnoses:
        valid = f"{code.valid_from or '...'} to {code.valid_to or '...'}"
        review = " (review)" if code.review else ""
        lines.append(f"  dx {code.code}{'*' if code.prefix else ''} {code.group}{review}, "
                     f"valid {valid}")
    for related in drug.related:
        lines.append(f"  related: {related.hcpcs or '?'} {related.name}")
    schedule = drug.schedule
    if schedule is not None:
        induction = ""
        if schedule.induction_dose:
            low, high = schedule.induction_window_days or (None, None)
            doses = (f"{schedule.induction_dose} then {schedule.induction_second_dose} units"
                     if schedule.induction_second_dose else
                     f"{schedule.induction_dose} units twice")
            induction = (f"induction {doses}, "
                         f"{schedule.induction_interval_days} days apart (allowed {low}-{high}); ")
        elif schedule.induction_steps:  # J3380: weeks 0, 2 and 6, the size of maintenance
            induction = "induction on day 0, " + ", ".join(
                f"{step.day} (allowed {step.window_days[0]}-{step.window_days[1]})"
                for step in schedule.induction_steps) + "; "
        lines.append(f"  schedule: {induction}then {schedule.maintenance_dose or 'a dose'} units "
                     f"every {schedule.maintenance_interval_days} days (flagged under "
                     f"{schedule.maintenance_min_days})  [{schedule.provenance}; windows: "
                     f"{schedule.tolerance_source}]")
    if any("§" in line for line in lines):
        lines.append("  § N: section N of billing-rules.md, the maintainers' reference notes (not "
                     "published with edi837); a document named beside it is the public source")
    return "\n".join(lines)
