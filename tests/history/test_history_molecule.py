"""A drug-billing specialist's trial (trial8a items 5-7): the history rules per
molecule and label, and the cross-MAC duplicate's origin.

Item 5: vedolizumab (J3380), 300 mg at weeks 0, 2 and 6, then every 8 weeks: a
maintenance dose much earlier than 8 weeks is HIS002 (the induction steps and the
flag are the drug table's data).  Item 6: J2350 and J2351 are one molecule,
ocrelizumab: the interval between two doses is the same whichever code billed each.
Item 7: HIS001 across MACs names the original's file and night, as the
same-provider duplicate does.

Each case is a PASS and a FAIL fragment, checked as nights against one store.
"""
import hashlib
import re

from test_history_label import claim_text, codes, hospital, night, run, store

__all__ = ["store"]  # the fixture, shared with test_history_label


# -- item 7: the cross-MAC duplicate names the original's file and night -------------------
def test_the_cross_mac_duplicate_names_the_originals_file_and_night(tmp_path, store):
    first = hospital(tmp_path, "hospital.edi", claim_text("837I", "H1", "20260115"))
    run(store, first)
    # PASS: the physician's next maintenance dose, six months later, is no duplicate
    [later] = run(store, night(tmp_path, "later.edi", "837P",
                               claim_text("837P", "P2", "20260716")))
    assert ("HIS001", "P2") not in codes(later)
    # FAIL: the same dose billed to the Part B MAC
    [found] = run(store, night(tmp_path, "clinic.edi", "837P",
                               claim_text("837P", "P1", "20260115")))
    [his001] = [f for f in found if f.rule == "HIS001"]
    sha = hashlib.sha256(first.read_bytes()).hexdigest()[:12]
    assert re.search(f"already billed on claim H1 in file with SHA-256 {sha} of "
                     r"\d{4}-\d\d-\d\d by billing provider 2222222220 to payer PARTA01: "
                     "the same Medicare beneficiary", his001.message), his001.message
    assert his001.value == "H1"  # the claim, as the same-provider duplicate's value


def test_in_one_run_the_cross_mac_duplicate_names_the_earlier_file(tmp_path):
    """check of both files in one run (no store): the earlier file by its path and
    segment, as the same-provider duplicate says it."""
    first = hospital(tmp_path, "hospital.edi", claim_text("837I", "H1", "20260115"))
    second = night(tmp_path, "clinic.edi", "837P", claim_text("837P", "P1", "20260115"))
    [_, found] = run(None, first, second)
    [his001] = [f for f in found if f.rule == "HIS001"]
    assert f"already billed on claim H1 in {first}" in his001.message, his001.message
