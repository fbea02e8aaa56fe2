"""HIS: the patient history, across claims, files and nights: the same claim again
(HIS001 duplicates, HIS004 voids).  The dose schedule and first doses (HIS002,
HIS003, DOC001's history part) are in edi837.rules.history_doses.

These rules run in the history stage (edi837.history.stage): one claim at a
time, in input order, against the drug lines of the same patient already in
the history (earlier claims of this run and, with a store, of earlier runs).
A patient is the payer, the subscriber's member id, the patient's birth date
and first name, kept only as a keyed hash.  Only claims with no error finding
enter the history: a held claim's corrected resend is no duplicate.

Fragments below that hold ``--- next night ---`` are two files checked one
after the other with the same history; the findings shown are the second's.
"""
from __future__ import annotations

from ..findings import ERROR, INFO
from ..history.context import shown_date
from ..history.earlier import line_position
from ..history.identity import is_medicare_ffs
from ..history.records import REPLACEMENT, VOID
from . import HISTORY, rule

REPEAT_MODIFIERS = frozenset(["76", "77"])  # repeat procedure by the same / another physician


@rule("HIS001", ERROR, scope=HISTORY, stage_order=20, feeds=True)
def duplicate_line(ctx):
    """Duplicate drug line: already billed on another claim.

    What it does: flags a drug line whose patient, payer, payer
    responsibility (SBR01), date of service, HCPCS, modifiers, units, NDC and
    billing provider NPI are the same as a line of another claim already in
    the history (earlier in this run or in an earlier run), unless that claim
    was replaced or voided since.  Replacements (CLM05-3 = 7) and voids (8)
    are never flagged, nor lines with a repeat-procedure modifier (76, 77).
    A secondary or tertiary claim for the same service (another SBR01) is not
    a duplicate of the primary.  Medicare fee-for-service (SBR09 MA or MB):
    the patient is the MBI alone, so a hospital's 837I (Part A MAC) and a
    physician's 837P (Part B MAC) meet in one history, and the same drug,
    date and units (both administered, or both JW) billed by another
    provider or to the other MAC is flagged too, naming the other claim's
    billing NPI and payer, and its file and night as above.
    Why: payers deny the second of two identical lines (exact-duplicate
    edits); the usual cause is the same infusion sent twice, in two files or
    two nights.  The MBI identifies a Medicare beneficiary across the Part A
    and Part B MACs, and a hospital's 837I and a physician's 837P billing the
    same drug for the same date is the drug billed twice (billing-rules.md
    §9.7).  Flagged lines are never summed into daily totals.
    PASS:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
        --- next night ---
        CLM*C1*9400***11:B:7*Y*A*Y*Y
        REF*F8*PAYERICN0001
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
    FAIL:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
        --- next night ---
        CLM*C7*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
    Fix safety: none (which copy to drop, or whether it was a second
    service, is in the record).
    """
    record = ctx.record
    if record.frequency in (REPLACEMENT, VOID) or not ctx.visible:
        return
    medicare = is_medicare_ffs(record.filing_indicator, record.payer_id)
    for position, line in enumerate(record.lines):
        if REPEAT_MODIFIERS.intersection(line.modifiers):
            continue
        modifiers = sorted(line.modifiers)
        for row in ctx.visible:
            if (row.hcpcs == line.hcpcs and row.date == line.date and row.units == line.units
                    and row.ndc == line.ndc and sorted(row.modifiers) == modifiers
                    and row.npi == record.billing_npi and row.payer == record.payer_id
                    and row.responsibility == record.responsibility):
                ctx.duplicates.add(position)
                ctx.finding(f"{line.hcpcs} {line.units_text} units on {shown_date(line.date)} "
                            f"already billed on claim {row.claim_id}{_origin(ctx, row)} (same "
                            "patient, payer, modifiers, NDC and billing provider)", line=line,
                            value=row.claim_id)
                break
        else:
            if medicare:
                _billed_by_another_provider(ctx, position, line)


def _origin(ctx, row) -> str:
    """' in file monday.edi of 2026-01-05' (the file's SHA-256 when the store does
    not know its name); for a line of this run's files when the store knows no
    names (check), ' in folder/a.edi at segment 51 earlier in this run' (another
    file: its path as given and the earlier line's segment), else ' earlier in
    this run'."""
    found = ctx.stage.store.origin(row.id)
    if found is not None and found["name"]:
        return f" in file {found['name']} of {found['night']}"
    if found is None or found["run_id"] == ctx.stage.run_id:
        path = found and getattr(ctx.stage, "run_files", {}).get(found.get("file"))
        if not path:  # this file (or one the stage did not see): no name here
            return " earlier in this run"
        position = line_position(path, row.claim_id, row.hcpcs, row.date, ctx.table.drugs)
        where = f" at segment {position}" if position is not None else ""
        return f" in {path}{where} earlier in this run"
    return f" in file with SHA-256 {found['sha256'][:12]} of {found['night']}"


def _billed_by_another_provider(ctx, position: int, line) -> None:
    """Medicare FFS: the beneficiary's history holds both MACs' claims (the patient
    is the MBI alone), so the same drug, date and units billed by another
    provider or under the other MAC (a hospital's 837I to Part A, a physician's
    837P to Part B) is the drug billed twice (billing-rules.md §9.7).  The message
    names the original's file and night as the same-provider duplicate's does."""
    record = ctx.record
    for row in ctx.visible:
        if (row.hcpcs == line.hcpcs and row.date == line.date and row.units == line.units
                and row.discarded == line.discarded
                and row.responsibility == record.responsibility
                and (row.npi != record.billing_npi or row.payer != record.payer_id)):
            ctx.duplicates.add(position)
            ctx.finding(f"{line.hcpcs} {line.units_text} units on {shown_date(line.date)} "
                        f"already billed on claim {row.claim_id}{_origin(ctx, row)} by "
                        f"billing provider "
                        f"{row.npi or '(none)'} to payer {row.payer or '(none)'}: the same "
                        "Medicare beneficiary (MBI) and drug, billed twice across providers "
                        "or MACs (Part A 837I and Part B 837P)", line=line,
                        value=row.claim_id)
            return


@rule("HIS004", INFO, scope=HISTORY, stage_order=10)
def void_of_nothing(ctx):
    """Void of a claim the history does not hold.

    What it does: notes a void (CLM05-3 = 8) when the history holds no
    earlier claim with the same claim id (CLM01), payer, billing provider NPI
    and patient: nothing is removed.  A replacement (7) that matches nothing
    is recorded as a new claim, without a note.
    Why: the original may predate the history (a new store, or pruned), have
    been held, or the provider may have changed CLM01; the REF*F8 the void
    carries is the payer's claim number, which a clearinghouse cannot match
    without the payer's data.
    PASS:
        CLM*C1*9400***11:B:1*Y*A*Y*Y
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
        --- next night ---
        CLM*C1*9400***11:B:8*Y*A*Y*Y
        REF*F8*PAYERICN0001
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
    FAIL:
        CLM*C9*9400***11:B:8*Y*A*Y*Y
        REF*F8*PAYERICN0009
        HI*ABK:G35A
        LX*1
        SV1*HC:J2350:JZ*9000*UN*600***1
        DTP*472*D8*20260115
        LIN**N4*50242015001
        CTP****20*ML
        LX*2
        SV1*HC:96365*400*UN*1***1
        DTP*472*D8*20260115
    Fix safety: none (an annotation).
    """
    record = ctx.record
    if record.frequency == VOID and not ctx.original:
        ctx.finding(f"void of claim {record.claim_id}, which the history does not hold "
                    "(never forwarded, held, pruned, or sent under another claim id): "
                    "nothing removed", value=record.original_reference or None)
