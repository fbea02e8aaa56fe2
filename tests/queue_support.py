"""Nights of synthetic claims for the work-queue tests: each claim its own patient
(its own 2000B loop), so claims of one night do not judge each other."""
from pathlib import Path

from batch_support import CLEAN, drop, options

from edi837.batch import driver, run_batch
from edi837.x12.fragment import wrap_claims

NDC_DEFECT = ("50242015001", "50242-150-01")  # NDC002, an error: the claim is held


def claim(claim_id: str, member: str, day: str, *, held: bool = False, frequency: str = "1",
          charge: str = "9400", payer: str = "PAYER01", original: str = "",
          no_ms: bool = False, warned: bool = False) -> str:
    """One patient's 2000B loop and one J2350 claim of 600 mg on ``day`` (CCYYMMDD)."""
    body = CLEAN.replace("CLM*C1*9400***11:B:1*", f"CLM*{claim_id}*{charge}***11:B:{frequency}*")
    body = body.replace("20260115", day)
    if held:
        body = body.replace(*NDC_DEFECT)
    if no_ms:  # an asthma code: no diagnosis supports J2350 (DX001, an error)
        body = body.replace("HI*ABK:G35A", "HI*ABK:J45909")
    if warned:  # an office visit instead of the infusion: ADM001, a warning only
        body = body.replace("SV1*HC:96365*", "SV1*HC:99213*")
    if original:
        body = body.replace("HI*ABK:G35A", f"REF*F8*{original}\nHI*ABK:G35A")
    return "\n".join([
        "HL*{hl}*1*22*0", "SBR*P*18*******MB", f"NM1*IL*1*DOE*JANE****MI*SYN{member}",
        "N3*1 TEST LANE", "N4*SPRINGFIELD*IL*627010000", "DMG*D8*19800101*F",
        f"NM1*PR*2*SYNTHETIC PAYER {payer}*****PI*{payer}"]) + body


def night(claims: list[str], control: str) -> bytes:
    fragment = "\n".join(c.replace("{hl}", str(n + 2)) for n, c in enumerate(claims))
    return wrap_claims(fragment, control=control, subscriber=False).encode()


def drop_night(inbox, name: str, claims: list[str], control: str):
    return drop(inbox, name, night(claims, control))


def rows(doc) -> list[list[str]]:
    """The rows of the work-queue page's table, as the browser left them."""
    return [[td.text_content() for td in tr.xpath("td")]
            for tr in doc.xpath('//tbody[@id="queue-body"]/tr')]


def three_nights(tmp: Path) -> Path:
    """Two batch nights in ``tmp`` (held, corrected and new claims of two payers);
    the last run's queue.html."""
    days = iter(range(5, 9))
    saved = driver._new_run_id
    driver._new_run_id = lambda: f"202601{next(days):02d}T021500.000000Z"
    try:
        opts = options(tmp)
        drop_night(opts.inbox, "monday.edi", [
            claim("P1", "001", "20251201", held=True, charge="100", payer="PAYER01"),
            claim("P2", "002", "20251201", charge="200", payer="PAYER01", no_ms=True),
            claim("Q1", "003", "20251201", held=True, charge="400", payer="PAYER02"),
            claim("Q2", "004", "20251201", charge="800", payer="PAYER02", no_ms=True)],
            "000000001")
        run_batch(opts)
        drop_night(opts.inbox, "tuesday.edi", [
            claim("P1", "001", "20251201", charge="100", payer="PAYER01"),  # corrected
            claim("Q3", "005", "20251202", charge="1600", payer="PAYER02", no_ms=True)],
            "000000002")
        run_batch(opts)
    finally:
        driver._new_run_id = saved
    run = sorted(p for p in opts.out.iterdir() if p.name.startswith("2026"))[-1]
    return run / "queue.html"
