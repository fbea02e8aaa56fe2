"""Which transaction sets of an 837 a 999 accepted, from the 999's segments.

The 999 names each set it acknowledges by group control number (AK102) and
transaction set control number (AK202), with IK501 = A (accepted), E (accepted
with errors) or R/M/W/X (rejected), and each group's verdict in AK901 (A, E, P
partially accepted, or R/M/W/X).  A set is accepted when its IK5 and its group's
AK9 both accept it; a TA1 with TA104 R rejects the whole interchange it names.  A
set the 999 does not mention is not accepted: nothing said it was.

Read here, below both of its readers: `ack` and `batch` (edi837.acks.ack999, a 999
file) and `validate`'s summary (the 999 it writes, edi837.validate.results).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Self

from .ack_values import ack_value

SET_ACCEPTED = ("A", "E")
GROUP_ACCEPTED = ("A", "E", "P")


@dataclass(slots=True, frozen=True)
class SetVerdict:
    group: str  # GS06 of the 837, from AK102
    transaction: str  # ST02 of the 837, from AK202
    code: str  # IK501 (or AK901 when the group rejected what IK5 accepted)
    syntax: str = ""  # IK502: why the set is rejected (X12 code list 718), when given

    @property
    def accepted(self) -> bool:
        return self.code in SET_ACCEPTED


class Acceptance:
    """The 999's verdict on each transaction set of one 837 file.

    :meth:`verdict` is asked once per set, in file order; sets that share a
    group and set control number (two interchanges reusing GS06) are matched
    to the 999's acknowledgments in the order both list them.
    """

    def __init__(self, verdicts: list[SetVerdict], rejected_interchanges: set[str],
                 source: str) -> None:
        self.source = source
        self._rejected_interchanges = rejected_interchanges
        self._pending: dict[tuple[str, str], deque[SetVerdict]] = {}
        for verdict in verdicts:
            self._pending.setdefault((verdict.group, verdict.transaction),
                                     deque()).append(verdict)

    def _queue(self, group: str, transaction: str) -> deque[SetVerdict] | None:
        """The acknowledgments of a set: by its GS06 and ST02 as sent, else as AK102
        and AK202 can hold them (edi837's 999s clean what is not: ``ack_value``)."""
        queue = self._pending.get((group, transaction))
        if not queue:
            queue = self._pending.get((ack_value("AK102", group) or "0",
                                       ack_value("AK202", transaction) or "0000"))
        return queue

    def acknowledges(self, interchange: str, group: str, transaction: str) -> bool:
        """Whether the 999 says anything of the set (before :meth:`verdict` takes its
        answer): one it does not mention is not a rejection, the 999 is another
        file's (or was cut), as if there were none."""
        return interchange in self._rejected_interchanges or \
            bool(self._queue(group, transaction))

    def verdict(self, interchange: str, group: str, transaction: str) -> str | None:
        """None when the 999 accepted the set, else why it is not accepted."""
        rejected = self.rejection(interchange, group, transaction)
        return None if rejected is None else rejected[0]

    def rejection(self, interchange: str, group: str, transaction: str
                  ) -> tuple[str, str] | None:
        """As :meth:`verdict` (and in its place: each set is asked once), with the
        999's code: (why, IK501*IK502 as the 999 gives them, or "" without an IK5)."""
        if interchange in self._rejected_interchanges:
            return f"the 999's TA1 rejects interchange {interchange}", ""
        queue = self._queue(group, transaction)
        if not queue:
            return f"{self.source} does not acknowledge it", ""
        found = queue.popleft()
        if not found.accepted:
            code = "*".join(filter(None, (found.code, found.syntax)))
            return f"{self.source} rejects it ({found.code})", code
        return None

    @classmethod
    def from_segments(cls, segments: Iterable[list[str]], source: str) -> Self:
        """The verdicts of a 999's segments (each split into its elements)."""
        verdicts: list[SetVerdict] = []
        rejected: set[str] = set()
        group_sets: list[tuple[str, str, str]] = []  # the group's (AK202, IK501, IK502)
        group = transaction = None
        for fields in segments:
            tag = fields[0]
            value = fields[1].strip() if len(fields) > 1 else ""
            if tag == "TA1" and len(fields) > 4 and fields[4].strip() == "R":
                rejected.add(value)
            elif tag == "AK1":
                group, group_sets = (fields[2].strip() if len(fields) > 2 else ""), []
            elif tag == "AK2":
                transaction = fields[2].strip() if len(fields) > 2 else ""
            elif tag == "IK5" and transaction is not None:
                group_sets.append((transaction, value,
                                   fields[2].strip() if len(fields) > 2 else ""))
                transaction = None
            elif tag == "AK9" and group is not None:
                for st02, code, syntax in group_sets:
                    # a group the 999 rejects rejects every set in it
                    verdicts.append(SetVerdict(group, st02, code if value in
                                               GROUP_ACCEPTED else value or "R", syntax))
                group = None
        return cls(verdicts, rejected, source)

    @property
    def empty(self) -> bool:
        """Whether the 999 acknowledges no set and rejects no interchange."""
        return not self._pending and not self._rejected_interchanges
