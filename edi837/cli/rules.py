"""`edi837 rules`: the rule list, or one rule's documentation."""
from __future__ import annotations

import sys

import click

from .support import EXIT_TROUBLE, complain


@click.command()
@click.argument("code", required=False)
def rules(code: str | None) -> None:
    """List the rules, or print one rule's documentation."""
    from ..rules import all_rules, find_rule

    registry = all_rules()
    if code is None:
        for rule in registry.values():
            fix = " [fix]" if rule.fix == "safe" else ""
            click.echo(f"{rule.code:<6}  {rule.severities:<15}  {rule.summary}{fix}")
        return
    rule = find_rule(code)
    if rule is None:
        complain(f"no rule {code!r}; `edi837 rules` lists them")
        sys.exit(EXIT_TROUBLE)
    click.echo(f"{rule.code} ({rule.severities}, fix: {rule.fix})\n")
    click.echo(rule.doc)
    from ..acks.statuses import status_table

    described = status_table().describe(rule.code)
    if "error" not in rule.severities and not rule.by_policy:  # holds no claim as shipped
        described = described.replace(
            "a claim this rule holds is rejected with",
            f"this rule holds no claim (a {rule.severity}); were a configuration's [severity] "
            "to make it an error, a claim it holds would be rejected with")
    click.echo("\n" + described)
