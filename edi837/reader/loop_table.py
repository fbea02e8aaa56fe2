"""The 5010 837 loops as data, and which handler of the claim reader reads which
segment in which loop.

``LOOPS`` lists, per guide, the loops the reader knows: the loop id, the segment that
opens it with the codes of its first element that tell it from its siblings (NM101
entity, HL03 level, SBR01, LQ01), the reader's loop state inside it, and for a
provider loop the Claim / ServiceLine attribute it fills.  Taken from pyx12's maps
(pyx12/map/837.5010.X222.A1.xml for 837P, 837Q3.I.5010.X223.A1.v2.xml for 837I, the
loop tree and each loop's first segment; tests/test_loop_table.py compares them);
loops the reader reads past (2010AB/AC pay-to, 2310D-F of an 837P, 2330x,
2420B/C/D/G/H of an 837P, 2440 ...) are listed only where their state matters.

``READS`` says, for each loop state, which handler (a method of
``edi837.reader.claims.ClaimReader``, see segments.py) reads which segment id; a
segment with no handler in the open loop is passed over.  A handler that opens a loop
(HL: 2000A/B/C by HL03, CLM: 2300, SBR: 2320, LX and SV1/SV2: 2400, LIN: 2410, NM1:
2420x, SVD/LQ: 2430/2440) sets the state its loop has here.
"""
from __future__ import annotations

from ..model import INSTITUTIONAL, PROFESSIONAL

# Loop states of the claim reader.
HEADER, BILLING, SUBSCRIBER, PATIENT, CLAIM, OTHER_PAYER, LINE, DRUG, LINE_PROVIDER, \
    LINE_OTHER = range(10)
STATES = ("HEADER", "BILLING", "SUBSCRIBER", "PATIENT", "CLAIM", "OTHER_PAYER", "LINE", "DRUG",
          "LINE_PROVIDER", "LINE_OTHER")

# (loop, opening segment, its first element's codes, state, attribute it fills or None)
_COMMON_TOP = (
    ("1000A", "NM1", ("41",), HEADER, None),  # submitter: the reports' submitter column
    ("1000B", "NM1", ("40",), HEADER, None),
    ("2000A", "HL", ("20",), BILLING, None),
    ("2010AA", "NM1", ("85",), BILLING, "billing_provider"),
    ("2000B", "HL", ("22",), SUBSCRIBER, None),
    ("2010BA", "NM1", ("IL",), SUBSCRIBER, "subscriber"),
    ("2010BB", "NM1", ("PR",), SUBSCRIBER, "payer"),
    ("2000C", "HL", ("23",), PATIENT, None),
    ("2010CA", "NM1", ("QC",), PATIENT, "patient"),
    ("2300", "CLM", (), CLAIM, None),
)
_OTHER_PAYER = ("2320", "SBR", ("A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"),
                OTHER_PAYER, None)
_LINES = (
    ("2400", "LX", (), LINE, None),
    ("2410", "LIN", (), DRUG, None),
)
_LINE_END = (
    ("2430", "SVD", (), LINE_OTHER, None),
)

LOOPS = {
    PROFESSIONAL: _COMMON_TOP + (
        ("2310A", "NM1", ("DN", "P3"), CLAIM, "referring"),
        ("2310B", "NM1", ("82",), CLAIM, "rendering"),
        ("2310C", "NM1", ("77",), CLAIM, "facility"),
        _OTHER_PAYER,
    ) + _LINES + (
        ("2420A", "NM1", ("82",), LINE_PROVIDER, "rendering"),
        ("2420E", "NM1", ("DK",), LINE_PROVIDER, "ordering"),
        ("2420F", "NM1", ("DN", "P3"), LINE_PROVIDER, "referring"),
    ) + _LINE_END + (
        ("2440", "LQ", ("AS", "UT"), LINE_OTHER, None),
    ),
    INSTITUTIONAL: _COMMON_TOP + (
        ("2310A", "NM1", ("71",), CLAIM, "attending"),
        ("2310D", "NM1", ("82",), CLAIM, "rendering"),
        ("2310E", "NM1", ("77",), CLAIM, "facility"),
        ("2310F", "NM1", ("DN",), CLAIM, "referring"),
        _OTHER_PAYER,
    ) + _LINES + (
        ("2420C", "NM1", ("82",), LINE_PROVIDER, "rendering"),
        ("2420D", "NM1", ("DN",), LINE_PROVIDER, "referring"),
    ) + _LINE_END,
}


def providers(kind: str, state: int) -> dict[str, tuple[str, str]]:
    """NM101 entity code -> (loop, attribute) of the provider loops read in ``state``
    (CLAIM: 2310x, LINE_PROVIDER: 2420x), in the guide's loop order."""
    return {entity: (loop, attribute)
            for loop, segment, entities, in_state, attribute in LOOPS[kind]
            if in_state == state and segment == "NM1" and attribute
            for entity in entities}


_LINE_LOOPS = (LINE, DRUG, LINE_PROVIDER, LINE_OTHER)
_EVERYWHERE = {"HL": "_on_hl", "CLM": "_on_clm", "LX": "_on_lx", "SV1": "_on_service",
               "SV2": "_on_service"}
# loop state -> {segment id: handler}: what the reader takes from each loop
READS: dict[int, dict[str, str]] = {
    HEADER: {"NM1": "_on_submitter", "BHT": "_on_bht"},
    BILLING: {"NM1": "_on_billing_provider"},
    SUBSCRIBER: {"NM1": "_on_subscriber_or_payer", "DMG": "_on_birth_date",
                 "SBR": "_on_subscriber_sbr"},
    PATIENT: {"NM1": "_on_patient", "DMG": "_on_birth_date"},
    CLAIM: {"NM1": "_on_claim_provider", "DTP": "_on_claim_date", "REF": "_on_claim_ref",
            "HI": "_on_diagnoses", "SBR": "_on_other_payer"},
    OTHER_PAYER: {},
    LINE: {"NM1": "_on_line_provider", "DTP": "_on_line_date", "REF": "_on_line_ref"},
    DRUG: {"NM1": "_on_line_provider", "CTP": "_on_drug_quantity", "REF": "_on_drug_ref"},
    LINE_PROVIDER: {"NM1": "_on_line_provider"},
    LINE_OTHER: {},
}
for _state, _reads in READS.items():
    _reads.update(_EVERYWHERE)
    if _state not in (CLAIM, DRUG):
        _reads["LIN"] = "_on_drug"  # 2410 (after 2420/2430: read, and reported late)
    if _state in _LINE_LOOPS:
        _reads["SVD"] = _reads["LQ"] = "_on_line_end"
