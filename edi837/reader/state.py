"""What the claim reader knows at one segment of a file: the open envelopes, the loop
it is in, the claim and line being read, and what a claim takes from the HL loops
above it (billing provider, subscriber, payer, patient).  One object, so the segment
handlers (segments.py, claims.py) share it instead of a generator's locals."""
from __future__ import annotations

from ..findings import Finding
from ..model import Claim, DrugIdentification, Person, Provider, ServiceLine
from .loops import HEADER, SegmentIds


class ReadState:
    __slots__ = (
        # envelopes: the fields of the open ISA, GS, ST (None when closed)
        "isa", "gs", "st", "groups_in_isa", "sets_in_gs", "st_start",
        "reading",  # inside a transaction set read as 837 claims
        "stray",  # [first index, segment id, count, outside what] of segments outside a set
        "component", "ids", "hl_checked", "claim_providers", "line_providers",
        # the loop and the claim being read
        "loop", "claim", "line", "drug",
        "orphan",  # the open "claim" holds lines outside any claim (no CLM read)
        "held",  # findings on the open claim's lines (drug claims keep them)
        "glued",  # the message of a CLM with the next segment glued on, for its handler
        "suspect",  # the CLM being read may hold a code in lower case or padded
        # what a claim takes from the HL loops above it
        "billing", "subscriber_id", "payer_name", "payer_id", "filing", "responsibility",
        "relationship", "subscriber", "patient",
        "person",  # the NM1 a DMG belongs to
        "in_patient", "level_findings",
        "under_subscriber",  # an HL 22 since the set's or the billing provider's start
    )

    def __init__(self) -> None:
        self.isa: list[str] | None = None
        self.gs: list[str] | None = None
        self.st: list[str] | None = None
        self.groups_in_isa = self.sets_in_gs = self.st_start = 0
        self.reading = False
        self.stray: list | None = None
        self.component = ":"
        self.ids = SegmentIds("*")  # which segments have an X12 id
        self.hl_checked = False  # the batch's HLs were checked by the fast path
        self.claim_providers: dict[str, tuple[str, str]] = {}
        self.line_providers: dict[str, tuple[str, str]] = {}
        self.claim: Claim | None = None
        self.line: ServiceLine | None = None
        self.drug: DrugIdentification | None = None
        self.orphan = False
        self.held: list[Finding] = []
        self.glued: str | None = None
        self.suspect = False
        self.new_set()

    def new_set(self) -> None:
        """A transaction set opens: nothing above a claim is known yet."""
        self.loop = HEADER
        self.billing: Provider | None = None
        self.new_subscriber()
        self.person: Person | None = None
        self.in_patient = False
        self.level_findings: dict[str, tuple] = {"20": (), "22": (), "23": ()}
        self.under_subscriber = False

    def new_subscriber(self) -> None:
        """An HL 22: the subscriber loop's fields start empty."""
        self.subscriber_id = self.payer_name = self.payer_id = self.filing = ""
        self.responsibility = self.relationship = ""
        self.subscriber: Person | None = None
        self.patient: Person | None = None
