"""IG: implementation-guide validation by pyx12 (`validate`, `check --validate`).

Registered for their documentation; the findings come from edi837.validate.
IGH, IGS and IGE are families: the number after them is pyx12's error code
(for IGS and IGE, the 999 IK3 / IK4 code), so `edi837 rules IGS8` shows the
IGS entry.
"""
from ..findings import ERROR
from . import READER, rule


@rule("IGH", ERROR, scope=READER)
def envelope_error():
    """Envelope error reported by pyx12 (ISA, GS, ST level); IGH<n>, n = pyx12's code.

    What it does: runs pyx12's 5010 implementation-guide validation and reports
    its interchange, group and transaction-set errors at the ISA/IEA, GS/GE or
    ST/SE segment pyx12 names.
    Why: the receiver's TA1/999 rejects the whole interchange, group or set.
    Fix safety: none (EDI003/EDI004 cover the trailer numbers edi837 can fix).
    """


@rule("IGS", ERROR, scope=READER)
def segment_error():
    """Segment error reported by pyx12; IGS<n>, n = the 999 IK3 code.

    What it does: reports unrecognised segments (1), segments out of order (2),
    missing mandatory segments (3), loops that repeat too often (4, 5) and the
    like, with the loop id and claim where pyx12 found them.  pyx12's own
    codes for HL and LX numbering appear as IGSHL1, IGSHL2 and IGSLX.
    Why: a 999 with an IK3 error rejects the transaction set, and so every
    claim in it.
    Fix safety: none.
    """


@rule("IGE", ERROR, scope=READER)
def element_error():
    """Element error reported by pyx12; IGE<n>, n = the 999 IK4 code.

    What it does: reports missing mandatory elements (1), invalid code values
    (7), bad lengths (4, 5) and formats (6, 8), naming the element (NM109,
    CTP05-1) and the value.
    Why: a 999 with an IK4 error rejects the transaction set.
    Fix safety: none.
    """


@rule("IG001", ERROR, scope=READER)
def not_validated():
    """pyx12 could not validate the file.

    What it does: reports, once per file, that pyx12 raised an error or could
    not read the input even after edi837 normalised it (BOM, UTF-16,
    version variants), naming the file.  The run goes on with the next file.
    Why: the file's guide conformance is unknown; its billing findings still stand.
    Fix safety: none.
    """
