"""Whether the claim's payer requires the NDC on a line (NDC001's severity), and the
placeholder NDCs that only look like one (NDC004): a placeholder is judged as no NDC."""
from __future__ import annotations

from ..findings import ERROR, WARNING
from ..policy import shipped_policies
from .groups import is_discarded


def required_severity(ctx) -> tuple[str, str]:
    """(severity, note) a line without an NDC takes under the claim's payer policy:
    "error", "warning" or "none".  On a JW line a shipped policy's error is a warning
    (policies.toml [ndc_on_jw_lines]), with a note saying why."""
    line = ctx.line
    requirement = ctx.policy.ndc(line.procedure, ctx.drug is not None, ctx.date)
    severity, note = requirement.severity, ""
    if severity == ERROR and requirement.origin == "shipped" and is_discarded(line):
        cap = shipped_policies().jw_line_ndc
        if cap is not None:  # that payers want the NDC on the JW line too is unconfirmed
            severity = cap.severity
            note = (": whether the payer requires it on the JW line as well as on the "
                    "administered line is unconfirmed; the same NDC on both is safe")
    return severity, note


def placeholder(ctx, drug_id, ndc: str) -> bool:
    """Report ``ndc`` when the drug table's policy names it a placeholder (labeler 00000,
    all nines): an error where the payer requires the NDC, else a warning.  True when
    it was one."""
    placeholders = ctx.table.policy.ndc_placeholders
    why = placeholders.why(ndc) if placeholders is not None else None
    if why is None:
        return False
    severity, _ = required_severity(ctx)
    if severity == ERROR:
        needed = "the claim's payer requires the NDC of the package the drug was drawn from"
    else:
        severity = WARNING
        needed = "give the NDC of the package the drug was drawn from, or none"
    ctx.finding(f"NDC {drug_id.ndc} is a placeholder ({why}), not a package's NDC: "
                f"{needed}", severity=severity, segment_index=drug_id.lin_index,
                segment="LIN", loop="2410", value=drug_id.ndc)
    return True


def advice(table, code: str, day) -> str:
    """What NDC004 tells the biller when the NDC is another code's: bill that code, but
    only when its dates (an imported CMS HCPCS file, else the drug table's code_dates)
    hold on the date of service (Q5133 from 2024-04-01: not on a 2024-01-15 claim)."""
    dates = table.code_dates(code)
    if dates is None or day is None or dates.holds(day):
        return f"bill {code} or correct the NDC"
    since = f"from {dates.start}" if dates.start is not None and day < dates.start else \
        f"only to {dates.end}"
    return f"correct the NDC ({code} is valid {since}, not on {day})"
