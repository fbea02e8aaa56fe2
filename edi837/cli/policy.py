"""`edi837 policy`: the shipped payer policies, or the one a claim would be judged by.

Thin: the work is in :mod:`edi837.policy`.
"""
from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click

from .support import EXIT_TROUBLE, complain, load_config_or_exit, load_table_or_exit

_PLACE = re.compile(r"[0-9]{2}")
_FILING = re.compile(r"[0-9A-Z]{1,2}")


def _usage(message: str) -> None:
    complain(message)
    sys.exit(EXIT_TROUBLE)


@click.command("policy")
@click.option("--payer", "payer_id", default="", metavar="ID",
              help="Payer id (2010BB NM109) of the claim.")
@click.option("--filing", default="", metavar="CODE",
              help="SBR09 claim filing indicator (MB, MA, 16, MC, CI, BL, HM, 12 ...).")
@click.option("--bill-type", metavar="TOB",
              help="837I type of bill, e.g. 131 (CLM05-1 13 + frequency 1); "
                   "makes the claim an 837I.")
@click.option("--pos", metavar="CODE", help="837P place of service (CLM05-1), e.g. 11.")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The line's date of service (YYYY-MM-DD); default: today.")
@click.option("--hcpcs", default="J2350", show_default=True,
              help="The drug line's HCPCS, for the NDC requirement.")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Configuration file whose [[profiles]] layer on top (default ./edi837.toml).")
def policy(payer_id: str, filing: str, bill_type: str | None, pos: str | None, day,
           hcpcs: str, config_path: Path | None) -> None:
    """List the shipped payer policies, or, given --payer/--filing/--bill-type/--pos/--date,
    print the policy a claim would be judged by and every requirement with its source.

    Precedence: a matching [[profiles]] of edi837.toml > the shipped payer-id list >
    the payer class of the SBR09 filing indicator > the "other" policy."""
    from ..bill_types import bill_type_facility
    from ..policy import shipped_policies
    from ..policy.book import PolicyResolver
    from ..policy.model import setting_of

    book = shipped_policies()
    if not any((payer_id, filing, bill_type, pos, day)):
        _list(book)
        return
    if bill_type is not None and pos is not None:
        _usage("--bill-type (837I) and --pos (837P) exclude each other")
    filing = filing.strip().upper()
    if filing and not _FILING.fullmatch(filing):
        _usage(f"--filing {filing!r}: not an SBR09 code (one or two letters or digits, e.g. MB)")
    if filing:  # a typo (C1 for CI) would explain the "other" policy as if it were right
        from ..config import ConfigError, check_filing_indicators

        try:
            check_filing_indicators([filing], "--filing")
        except ConfigError as exc:
            _usage(str(exc))
    if bill_type is not None:
        facility = bill_type_facility(bill_type)  # "131", "0131" -> 13, as `check` reads
        if facility is None or not facility.isdigit():  # CLM05-1 (edi837.policy.model)
            _usage(f"--bill-type {bill_type!r}: not a type of bill (three digits such as 131, "
                   "or 0131)")
        setting = setting_of("837I", facility)
    elif pos is not None:
        if not _PLACE.fullmatch(pos.strip()):
            _usage(f"--pos {pos!r}: not a place of service (two digits such as 11)")
        setting = setting_of("837P", pos.strip())
    else:
        setting = "837P"
    hcpcs = hcpcs.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][0-9]{4}", hcpcs):
        _usage(f"--hcpcs {hcpcs!r}: not a HCPCS code (a letter and four digits)")
    config = load_config_or_exit(config_path, None, None)
    table = load_table_or_exit((), None)
    resolver = PolicyResolver(config, table, book)
    claim_policy = resolver.resolve(filing, payer_id.strip(), setting)
    when = day.date() if day else dt.date.today()
    click.echo(f"payer policies {book.version} ({book.updated}); edi837.toml: "
               f"{config.source or 'none'}")
    for line in claim_policy.explain(when, hcpcs, table.drug(hcpcs) is not None):
        click.echo(line)
    click.echo("  § N: section N of billing-rules.md, the maintainers' reference notes; the "
               "document named beside it is the public source")


def _list(book) -> None:
    click.echo(f"payer policies {book.version} ({book.updated})")
    click.echo("payer classes by SBR09 claim filing indicator:")
    for code, entry in sorted(book.filing_indicators.items()):
        click.echo(f"  {code:<3} {entry.payer_class}")
    click.echo("  other codes or none: other")
    click.echo(f"payer-id list: {len(book.payer_ids)} entries"
               + ("" if book.payer_ids else " (none shipped: add payer ids in edi837.toml "
                  "[[profiles]] with payer_class)"))
    for payer, entry in sorted(book.payer_ids.items()):
        click.echo(f"  {payer}: {entry.payer_class}  [{entry.source} [{entry.confidence}]]")
    click.echo(f"JW/JZ never in scope: {book.out_of_scope.describe()}")
    for name, body in book.policies.items():
        click.echo(f"{name}: {body.title}")
        for label, requirements in (("jw_jz", body.jw_jz[1:]), ("ndc", body.ndc),
                                    ("jw_denied", body.jw_denied)):
            for requirement in requirements:
                click.echo(f"  {label}: {requirement.describe()}")
    click.echo("`edi837 policy --payer ID --filing MB --bill-type 131 --date 2026-03-01` "
               "explains the policy one claim is judged by, with every requirement's source")
