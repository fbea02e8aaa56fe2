"""CheckResult.findings as a pipeline uses it: a sequence with a length that can be
iterated again, read again from each file's store (never held whole when spilled)."""
from __future__ import annotations

import pytest
from conftest import CLEAN_J2350_CLAIM, TWO_ERRORS_ON_ONE_LINE

import edi837
from edi837 import store


def test_findings_has_a_length_and_can_be_iterated_again(edi_file):
    paths = [edi_file(TWO_ERRORS_ON_ONE_LINE), edi_file(CLEAN_J2350_CLAIM),
             edi_file(TWO_ERRORS_ON_ONE_LINE)]
    result = edi837.check(paths)
    findings = result.findings
    first, second = list(findings), list(findings)
    assert first and first == second  # a second loop is not empty
    assert len(findings) == len(first) == sum(len(f.findings) for f in result.files)
    assert len(result.findings) == len(first)  # the property read again: the same
    assert findings[0] == first[0] and findings[-1] == first[-1]
    assert findings[1:3] == first[1:3]
    assert first[-1].path == str(paths[2])  # file by file, in file order
    assert first[0] in findings and findings.index(first[-1]) == len(first) - 1
    with pytest.raises(IndexError):
        findings[len(first)]


def test_no_finding_is_an_empty_sequence(edi_file):
    result = edi837.check(edi_file(CLEAN_J2350_CLAIM), ignore="DOC")
    assert len(result.findings) == 0 and list(result.findings) == []
    with pytest.raises(IndexError):
        result.findings[0]


def test_a_spilled_store_is_read_again_not_held(edi_file, monkeypatch):
    monkeypatch.setattr(store, "SPILL_LIMIT", 5)
    claims = "".join(TWO_ERRORS_ON_ONE_LINE.replace("CLM*C1", f"CLM*C{n}")
                     for n in range(1, 21))
    result = edi837.check(edi_file(claims))
    assert result.files[0].findings.spilled
    findings = result.findings
    first, second = list(findings), list(findings)
    assert len(findings) == len(first) >= 40 and first == second
    # each iteration reads the spill file again: new objects; the result keeps only
    # the store's unspilled buffer (at most its limit), not every finding
    held = sum(a is b for a, b in zip(first, second, strict=True))
    assert held <= store.SPILL_LIMIT < len(first)
    assert findings[len(first) - 1] == first[-1]
