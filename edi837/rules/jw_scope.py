"""MOD006: JW or JZ where the modifiers do not apply.

JW and JZ report the amount discarded from single-dose containers, where the
claim's payer policy puts the requirement in scope.  On a drug the table marks
as multi-dose, or on a bill whose setting keeps the requirement out of scope
for every payer (inpatient, RHC, FQHC: edi837/policy/policies.toml), they say
something the payer does not ask: a person should look (billing-rules.md §6
JWZ-06).
"""
from __future__ import annotations

from ..findings import WARNING
from ..policy.model import NONE
from . import rule
from .groups import DISCARDED, NOTHING_DISCARDED


@rule("MOD006", WARNING, generic=True,
      reads=("line.procedure", "line.modifiers", "line.date", "line.place_of_service"))
def jw_jz_on_multi_dose_drug(ctx):
    """JW or JZ on a drug the table marks as not single-dose, or where they do not apply.

    What it does: flags JW or JZ on a line whose drug the drug table marks as
    supplied in multi-dose containers, dated on or after the policy date
    (2023-07-01), for payers whose policy puts JW/JZ in scope.  Also JW or JZ on
    any drug line (of the table or not) of an institutional bill whose type of
    bill keeps the JW/JZ requirement out of scope for every payer (11x hospital
    inpatient, 71x rural health clinic, 77x FQHC: the settings and this warning
    are data, edi837/policy/policies.toml [jw_jz_scope] and
    [jw_jz_out_of_scope]; on an 837P the line's place of service, SV105
    where it has one, else CLM05-1: 21, inpatient hospital), unless a payer
    profile puts that setting in scope.
    Why: JW and JZ apply only to single-dose containers and single-use
    packages; waste from multi-dose containers is not paid and JW on them is
    incorrect (NGS "Discarded Drugs/Wastage and JW, JZ Modifier"; First Coast
    "JW and JZ modifier"; billing-rules.md §1.3).  The requirement "does not
    extend to rural health clinics, FQHCs, or hospital inpatient... IPPS" (CMS
    JW/JZ FAQ as quoted by DecisionHealth and ITechMd): JW or JZ there says
    something the payer does not ask, or the type of bill is wrong
    (billing-rules.md §6 JWZ-06, §9.1).
    PASS:
        CLM*C1*9000***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
    FAIL:
        CLM*C1*40***11:B:1*Y*A*Y*Y
        HI*ABK:E119
        LX*1
        SV1*HC:J1815:JW*40*UN*4***1
        DTP*472*D8*20260115
    PASS (837I):
        CLM*I1*9000***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*40***13:A:1**A*Y*Y
        DTP*434*RD8*20260115-20260115
        HI*ABK:E119
        LX*1
        SV2*0636*HC:J1815:JZ*40*UN*4
        DTP*472*D8*20260115
    PASS (837I):
        CLM*I1*9000***11:1:1**A*Y*Y
        DTP*434*RD8*20260114-20260116
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350*9000*UN*600
        DTP*472*D8*20260115
    FAIL (837I):
        CLM*I1*9000***11:1:1**A*Y*Y
        DTP*434*RD8*20260114-20260116
        HI*ABK:G35A
        LX*1
        SV2*0636*HC:J2350:JZ*9000*UN*600
        DTP*472*D8*20260115
    Fix safety: none (removing the modifier changes what the claim says was discarded).
    """
    line = ctx.line
    used = [m for m in (DISCARDED, NOTHING_DISCARDED) if line.has_modifier(m)]
    if not used:
        return
    misplaced = ctx.policy.jw_jz_misplaced(ctx.date)
    modifiers = ":".join((line.procedure, *line.modifiers))
    if misplaced.severity != NONE:
        ctx.finding(f"{line.procedure} with {' and '.join(used)} on "
                    f"{_setting_name(ctx.policy.setting)}: the JW/JZ requirement does not "
                    f"extend to {_setting_names(misplaced.settings)}: check the "
                    f"{'type of bill' if ctx.claim.kind == '837I' else 'place of service'}, "
                    f"or remove the modifier",
                    severity=misplaced.severity, value=modifiers)
        return
    if ctx.drug is None or ctx.drug.single_dose or not ctx.policy.jw_jz_in_scope(ctx.date):
        return  # not a drug the table says is multi-dose
    ctx.finding(f"{line.procedure} is not supplied in single-dose containers (drug table): "
                f"{' and '.join(used)} {'apply' if len(used) > 1 else 'applies'} only to "
                f"single-dose containers", value=modifiers)


def _setting_name(setting: str) -> str:
    """ "837I:11" -> "type of bill 11x" (an 837I's CLM05-1); an 837P's place of service."""
    kind, _, code = setting.partition(":")
    if not code:
        return kind
    return f"type of bill {code}x" if kind == "837I" else f"place of service {code}"


def _setting_names(settings) -> str:
    """("837I:11", "837I:71") -> "types of bill 11x, 71x" (as the data names them)."""
    bills = [s.partition(":")[2] + "x" for s in settings if s.startswith("837I:")]
    others = [_setting_name(s) for s in settings if not s.startswith("837I:")]
    named = ([f"type{'s' if len(bills) > 1 else ''} of bill {', '.join(bills)}"]
             if bills else []) + others
    return ", ".join(named)
