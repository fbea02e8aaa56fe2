"""Claim fragments for the claim-context rules (DX, ADM, REV, DOS, DOC): a J2350
line in a professional or institutional claim, and an engine and checker over
them.  Shared by the test modules of those rules (test_rules_claim_context,
test_rules_label, test_trial_newuser); each defines its own `engine` and `check`
fixtures from these."""
from pathlib import Path

from edi837.config import Config
from edi837.drugs import load_drug_table
from edi837.engine import Engine
from edi837.x12.fragment import wrap_claims

CLAIM_RULES = {"DX001", "DX002", "DX003", "DX004", "DX005", "ADM001", "ADM002", "REV001", "DOS001",
               "DOC001", "DOC002", "DOC003", "DOC004"}

J2350_LINE = """\
LX*1
SV1*HC:J2350:JZ*9000*UN*600***{pointers}
DTP*472*D8*{date}
LIN**N4*50242015001
CTP****20*ML"""

# Rendering, facility and ordering providers, so the DOC rules stay quiet
# unless a test leaves them out.
PROVIDERS_P = "NM1*82*1*SMITH*JANE****XX*1234567893\nNM1*77*2*SUITE*****XX*1234567893"
ORDERING_P = "NM1*DK*1*JONES*ALEX****XX*1234567893"
ADMIN_P = "LX*9\nSV1*HC:96413*500*UN*1***1\nDTP*472*D8*{date}"


# the DOC rules named on their own (a severity entry each), so each is reported by
# itself rather than in the claim's DOC000 checklist (tests/reports/test_checklist.py)
DOC_ALONE = Config(severity={code: "info" for code in ("DOC001", "DOC002", "DOC003",
                                                       "DOC004")})


def claim_engine() -> Engine:
    """An engine for one test (the history of one test is not the next test's)."""
    return Engine(load_drug_table(), DOC_ALONE)


def claim_checker(engine: Engine, tmp_path: Path):
    """A function that runs a claim fragment through ``engine`` and returns the
    findings of the claim-context rules (or of ``rules``)."""
    def run(fragment: str, kind: str = "837P", rules=CLAIM_RULES, **wrap):
        path = tmp_path / "claim.edi"
        path.write_text(wrap_claims(fragment, kind, **wrap))
        result = engine.check_file(path)
        assert result.drug_lines >= 1
        return [f for f in result.findings if f.rule in rules]
    return run


def professional(hi="HI*ABK:G35A", date="20260115", pointers="1", extra_lines="",
                 providers=PROVIDERS_P, admin=True, ordering=True):
    parts = ["CLM*C1*9500***11:B:1*Y*A*Y*Y", hi]
    if providers:
        parts.append(providers)
    parts.append(J2350_LINE.format(pointers=pointers, date=date))
    if ordering:
        parts.append(ORDERING_P)
    if admin:
        parts.append(ADMIN_P.format(date=date))
    if extra_lines:
        parts.append(extra_lines)
    return "\n".join(parts)


def institutional(revenue="0636", line_date="DTP*472*D8*20260115",
                  statement="DTP*434*RD8*20260115-20260115", providers=""):
    parts = ["CLM*I1*9500***13:A:1**A*Y*Y"]
    if statement:
        parts.append(statement)
    parts.append("HI*ABK:G35A")
    if providers:
        parts.append(providers)
    parts += ["LX*1", f"SV2*{revenue}*HC:J2350:JZ*9000*UN*600"]
    if line_date:
        parts.append(line_date)
    parts += ["LIN**N4*50242015001", "CTP****20*ML",
              "LX*2", "SV2*0260*HC:96413*500*UN*1", "DTP*472*D8*20260115"]
    return "\n".join(parts)


def codes(findings):
    return sorted(f.rule for f in findings)
