"""check's summary says which claims an error outside any claim holds: a repeated ISA13
(EDI003 on the ISA) holds its interchange's claims, an HL loop's coded value as written
(EDI007 on an SBR, tied to the first claim under it) the others under it, as the split
and the 277CA hold them; they were
counted as "1 error outside any claim" beside "no claim held".  A trailer's count (EDI004
on the SE: rebuilt) holds nothing and stays so."""
import re
from pathlib import Path

from claim_support import professional
from click.testing import CliRunner

from edi837.cli import main
from edi837.x12.fragment import wrap_claims

SAMPLE = (Path(__file__).parents[2] / "samples" / "837p-j2350-clean.edi").read_text()


def summary(tmp_path, text: str) -> tuple[int, str]:
    path = tmp_path / "in.edi"
    path.write_text(text)
    done = CliRunner().invoke(main, ["check", str(path)])
    held = [line for line in done.output.splitlines()
            if line.startswith(("charges held", "no claim held"))]
    assert len(held) == 1, done.output
    return done.exit_code, held[0]


def test_a_repeated_isa13_says_it_holds_the_interchanges_claim(tmp_path):
    first = wrap_claims(professional(), control="000000007")
    second = wrap_claims(professional().replace("CLM*C1*", "CLM*C2*"), control="000000007") \
        .replace("SYN000000001", "SYN000000002")  # another patient: no duplicate claim
    status, line = summary(tmp_path, first + second)
    assert status == 1
    assert line == ("charges held: 1 claim, $9,500.00, held by an error on the interchange, "
                    "group, set or HL loop above them (none has an error of its own)")


def test_a_subscribers_filing_indicator_in_lower_case_holds_its_claims(tmp_path):
    """The SBR's finding is its first claim's (trial 7: a held claim is in every format,
    with its context); the second claim under it is held from above."""
    status, line = summary(tmp_path, SAMPLE.replace("SBR*P*18*******MB~",
                                                    "SBR*P*18*******mb~", 1))
    assert status == 1 and line == (
        "charges held: $16,240.00 on 1 claim with errors (CLM02, each claim once); and 1 "
        "claim, $16,240.00, held by an error on the interchange, group, set or HL loop above "
        "them")


def test_with_claims_of_their_own_held_too(tmp_path):
    text = SAMPLE.replace("SBR*P*18*******MB~", "SBR*P*18*******mb~", 1) \
        .replace("CLM*CLEAN-P4-A*", "CLM*CLEAN-P4-A*", 1)
    text = text.replace("LIN**N4*50242015001", "LIN**N4*5024201500", 1)  # NDC002: its own
    status, line = summary(tmp_path, text)
    assert status == 1
    assert re.fullmatch(r"charges held: \$[\d,.]+ on 1 claim with errors \(CLM02, each claim "
                        r"once\); and \d claims?, \$[\d,.]+, held by an error on the "
                        r"interchange, group, set or HL loop above them", line), line


def test_a_trailers_count_holds_nothing(tmp_path):
    count = re.search(r"SE\*(\d+)\*0001", SAMPLE)
    status, line = summary(tmp_path, SAMPLE.replace(
        count.group(0), f"SE*{int(count.group(1)) + 1}*0001"))
    assert status == 1 and line == "no claim held: 1 error outside any claim"


def test_a_clean_file_holds_nothing(tmp_path):
    status, line = summary(tmp_path, SAMPLE)
    assert status == 0 and line == "no claim held: no error finding"
