"""How the DX rules write diagnoses in their messages: as the file has them (G35A),
with the ICD-10-CM display form beside them ([G35.A]), and what the HI segment holds
when no diagnosis was read from it."""
from __future__ import annotations

from ..drugs.model import normalise_diagnosis
from ..reader.loops import DIAGNOSIS_QUALIFIERS


def _dotted(code: str) -> str:
    """ICD-10-CM display form: G35A -> G35.A (codes are stored without the dot)."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _as_written(code: str) -> str:
    """A code as the file has it, with its ICD-10-CM display form after it where that
    differs: G35A [G35.A]; G35.A as it is."""
    dotted = _dotted(normalise_diagnosis(code))
    return code if dotted == code or "." in code else f"{code} [{dotted}]"


def _none_read(claim) -> str:
    """Why a claim has no diagnoses: no HI segment, or HI qualifiers the guide does not
    allow for diagnoses, quoted as written (abk:G35A)."""
    if claim.hi_index is None:
        return "none (no HI segment)"
    unread = _unread(claim)
    if not unread:
        return "none (the HI segment has no diagnosis qualifier, such as ABK or ABF)"
    return f"none read: {unread}"


def _unread(claim) -> str:
    """The HI composites whose qualifier is a diagnosis qualifier in another case
    (abk:G35A), as written, and why no payer reads them; "" when there are none."""
    unread = [(qualifier, code) for qualifier, code in claim.hi_unread
              if qualifier.upper() in DIAGNOSIS_QUALIFIERS]
    if not unread:
        return ""
    written = ", ".join(f"{qualifier}:{code}" for qualifier, code in unread)
    return (f"HI {written} has a qualifier the guide does not allow as written (ABK, ABF, "
            f"BK, BF, ... in upper case), so no payer reads its code")


def _codes(ctx) -> list[str]:
    return [dx.code for dx in ctx.claim.diagnoses]


def _groups(drug) -> str:
    """The drug's supporting diagnosis groups, for messages ("multiple sclerosis")."""
    labels = dict.fromkeys(entry.group for entry in drug.diagnoses if not entry.review)
    return ", ".join(labels) or "none listed"


def _replacements(drug, code: str, day) -> str:
    """Codes of the drug's ICD-10-CM category valid on ``day``: G35 -> G35.A-G35.D; the
    codes under a category when it has some: G35B -> G35.B0-G35.B2."""
    valid = {entry.code for entry in drug.diagnoses
             if not entry.prefix and entry.code[:3] == code[:3] and entry.code != code
             and drug.valid_on(entry, entry.code, day)}
    found = sorted(c for c in valid if c.startswith(code)) or sorted(valid)
    if not found:
        return ""
    # shown dotted, as ICD-10-CM prints them, and as the HI segment must carry them:
    # a biller told "use G35.B0" and writing it so would get DX002 for the point
    written = (f" (written {', '.join(found)} in HI)"
               if any(_dotted(c) != c for c in found) else "")
    if len(found) > 2:
        return f"; use {_dotted(found[0])}-{_dotted(found[-1])}{written}"
    return f"; use {' or '.join(map(_dotted, found))}{written}"


def _why_not_valid(drug, match, day) -> str:
    """"valid through 2025-09-30", or what the ICD-10-CM file in force says of the code."""
    code_file = drug.code_file(day)
    if code_file is not None:
        listed = drug.reference.icd10(match.code, day)
        where = f"{code_file.short_name}, effective {code_file.effective_from}"
        return (f"a header code, not billable, in the ICD-10-CM code file {where}" if listed
                else f"not in the ICD-10-CM code file {where}")
    entry = match.entry
    if entry.header:
        return "a category, not a billable code"
    if entry.valid_to is not None and day > entry.valid_to:
        return f"valid through {entry.valid_to.isoformat()}"
    if entry.valid_from is not None:
        return f"valid from {entry.valid_from.isoformat()}"
    return "not valid on that date"
