"""Rules that exist because of one payer's own policy (edi837.policy), not CMS's.

MOD008: some payers do not pay discarded amounts at all and deny JW lines (a
New Jersey Medicaid managed-care plan from 2021-05-01, billing-rules.md §8.3).
No shipped policy says so of a whole payer class: a payer profile does
(``jw_denied = true``, ``jw_denied_from``).
"""
from __future__ import annotations

from ..findings import ERROR
from . import rule
from .groups import DISCARDED


@rule("MOD008", ERROR, generic=True, by_policy=True,
      reads=("line.procedure", "line.modifiers", "line.date", "line.place_of_service"))
def jw_line_denied(ctx):
    """JW line to a payer that denies JW lines.

    What it does: flags a drug line with JW (discarded amount) on a claim whose
    payer policy says the payer denies JW lines on the line's date of service:
    a payer profile with `jw_denied = true` (and `jw_denied_from`).  No shipped
    policy denies JW for a whole payer class, so without such a profile the rule
    never fires.  Severity by policy: an error where the profile says so.
    Why: Medicaid plans differ, some opposite to Medicare: one New Jersey
    Medicaid managed-care plan denied JW lines from 2021-05-01 (billing-rules.md
    §8.3, trade press [B]).  Such a payer pays the administered units only; the
    JW line is denied, so it should not be billed to that payer.
    The fragments go to payer PAYER01 with this profile in edi837.toml:
    `[[profiles]] name = "nj-mco"  payer_ids = ["PAYER01"]  jw_denied = true`.
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350*6750*UN*450***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****15*ML
        LX*2
        SV1*HC:J2350:JW*2250*UN*150***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****5*ML
    Fix safety: none (whether to drop the line or bill the payer otherwise is the
    provider's decision).
    """
    if not ctx.line.has_modifier(DISCARDED):
        return
    requirement = ctx.policy.jw_denied(ctx.date)
    if requirement.severity == "none":
        return
    ctx.finding(f"{ctx.line.procedure} JW line: this payer denies JW lines (payer policy "
                f"{ctx.policy.name}); bill the administered units only",
                value=":".join((ctx.line.procedure, *ctx.line.modifiers)),
                severity=requirement.severity)
