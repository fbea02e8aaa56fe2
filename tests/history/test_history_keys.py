"""The patient key is HMAC-SHA-256 (RFC 2104) of the identity fields under the store's
key, its first 16 bytes: stores written by earlier versions hold such keys, so the
pads hashed once (edi837.history.identity.PatientKeys) must give the very same bytes
as the standard library's one-shot HMAC, for keys of every length a key file may hold."""
import hmac

import pytest

from edi837.history.identity import PatientKeys

SEPARATOR = "\x1f"


@pytest.mark.parametrize("size", [16, 32, 63, 64, 65, 100])
def test_a_patient_key_is_the_standard_hmac_sha256_of_its_fields(size):
    key = bytes(range(7, 7 + size))
    keys = PatientKeys(key)
    fields = (" payer9 ", "m123 ", "19800101", " Ann ")
    text = SEPARATOR.join(("PAYER9", "M123", "19800101", "ANN"))
    assert keys(*fields) == hmac.digest(key, text.encode("latin-1"), "sha256")[:16]
    # a name outside latin-1 is hashed as the store always hashed it ("?" for the rest)
    assert keys("P", "M", "19800101", "Zoë Ł") == hmac.digest(
        key, SEPARATOR.join(("P", "M", "19800101", "ZOË Ł")).encode("latin-1", "replace"),
        "sha256")[:16]
    medicare = "MEDICARE-FFS" + SEPARATOR * 2 + "1EG4TE5MK73"
    assert keys.medicare(" 1eg4te5mk73") == hmac.digest(key, medicare.encode("latin-1"),
                                                        "sha256")[:16]


def test_two_keys_two_patients_one_key_one_patient():
    first, second = PatientKeys(b"a" * 32), PatientKeys(b"b" * 32)
    fields = ("P", "M1", "19800101", "ANN")
    assert first(*fields) == PatientKeys(b"a" * 32)(*fields)  # the pads are not shared state
    assert first(*fields) != second(*fields)
    assert first(*fields) != first("P", "M1", "19800101", "ANNE")
    assert len(first(*fields)) == 16
