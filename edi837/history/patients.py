"""The filter of patients a history store may hold lines of (edi837.history.store)."""
from __future__ import annotations


class PatientFilter:
    """Which patients the store may hold lines of (a Bloom filter): a night's new
    members, most of them, need no query.  Fixed size, so memory stays flat
    whatever the store's size; a false "may hold" costs one query, never a
    wrong answer.  Patient keys are HMAC outputs, uniformly random already, so
    their own bytes are the probe positions."""

    __slots__ = ("_bits", "_mask")

    def __init__(self, expected: int = 0) -> None:
        size = 1 << 21  # bits: 256 KiB, under 1% false positives at 100,000 patients
        while size < expected * 16 and size < 1 << 26:
            size <<= 1
        self._bits = bytearray(size >> 3)
        self._mask = size - 1

    def _probes(self, patient: bytes):
        mask = self._mask
        return (int.from_bytes(patient[0:4], "little") & mask,
                int.from_bytes(patient[4:8], "little") & mask,
                int.from_bytes(patient[8:12], "little") & mask)

    def add(self, patient: bytes) -> None:
        self.add_all((patient,))

    def add_all(self, patients) -> None:
        """:meth:`add` for each of ``patients`` (a window's new lines)."""
        bits, mask, number = self._bits, self._mask, int.from_bytes
        # (the three probes of _probes, written out: this runs once a drug line)
        for patient in patients:
            probe = number(patient[0:4], "little") & mask
            bits[probe >> 3] |= 1 << (probe & 7)
            probe = number(patient[4:8], "little") & mask
            bits[probe >> 3] |= 1 << (probe & 7)
            probe = number(patient[8:12], "little") & mask
            bits[probe >> 3] |= 1 << (probe & 7)

    def __contains__(self, patient: bytes) -> bool:
        bits, mask, number = self._bits, self._mask, int.from_bytes
        probe = number(patient[0:4], "little") & mask
        if not bits[probe >> 3] & (1 << (probe & 7)):
            return False
        probe = number(patient[4:8], "little") & mask
        if not bits[probe >> 3] & (1 << (probe & 7)):
            return False
        probe = number(patient[8:12], "little") & mask
        return bool(bits[probe >> 3] & (1 << (probe & 7)))
