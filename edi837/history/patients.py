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
        bits = self._bits
        for probe in self._probes(patient):
            bits[probe >> 3] |= 1 << (probe & 7)

    def __contains__(self, patient: bytes) -> bool:
        bits = self._bits
        for probe in self._probes(patient):
            if not bits[probe >> 3] & (1 << (probe & 7)):
                return False
        return True
