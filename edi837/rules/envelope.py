"""EDI: reading the file.  Checked by the reader (edi837.reader.claims) while it reads;
registered here so `edi837 rules` documents them like every other rule."""
from ..findings import ERROR, INFO, WARNING
from . import READER, rule


@rule("EDI001", ERROR, scope=READER)
def not_x12():
    """The file is not an X12 interchange.

    What it does: flags a file with no ISA segment after an optional byte-order
    mark and white space, or whose ISA is shorter than its fixed 106 characters,
    or whose delimiters cannot work: a component separator (ISA16) that is a
    letter, a digit, or the element separator or segment terminator, or a
    repetition separator (ISA11) equal to the segment terminator (the ISA
    itself would be cut at element 11).
    Why: nothing in it can be read as claims; it is reported as unreadable and
    the rest of the batch goes on.
    Example: a PDF or a CSV dropped into the claims folder.
    Fix safety: none.
    """


@rule("EDI002", ERROR, scope=READER)
def not_closed():
    """An interchange, group or transaction set is not closed.

    What it does: flags a missing SE, GE or IEA: a truncated file, or a
    transfer cut short; and segments outside any interchange or transaction
    set (claims before their ST, after an SE): nobody reads those, so the
    file is unreadable as sent.  Text after the last complete interchange is
    a warning: every claim before it was read.
    Why: a receiver rejects the whole interchange; claims after the cut are lost.
    Example: a file that ends in the middle of a claim.
    Fix safety: none (what is missing cannot be known).
    """


@rule("EDI003", ERROR, scope=READER, fix="safe")
def control_numbers():
    """Trailer control numbers do not match their headers.

    What it does: compares IEA02 with ISA13, GE02 with GS06 and SE02 with ST02.
    Why: a mismatch makes the receiver reject the interchange, group or set (TA1/999).
    Example: `ST*837*0001` closed by `SE*40*0002`.
    Use instead: `SE*40*0001`.
    Fix safety: safe: the trailer takes the header's number.
    """


@rule("EDI004", ERROR, scope=READER, fix="safe")
def counts():
    """Trailer counts do not match what they count.

    What it does: checks SE01 (segments from ST to SE, both included), GE01
    (transaction sets in the group) and IEA01 (groups in the interchange).
    Why: a wrong count makes the receiver reject the set or interchange.
    Example: `SE*41*0001` on a set of 40 segments.
    Fix safety: safe: the count is recomputed.
    """


@rule("EDI005", ERROR, scope=READER, also=WARNING)
def not_837():
    """A transaction set is not a 5010 837P/837I, or uses a version variant.

    What it does: a set that is not an 837 (an 835, a 270) is skipped with an
    error; an 837 whose version id is a variant (005010X222, X222A2 -> X222A1;
    X223A1, X223A3 -> X223A2) is read as the nearest 5010 guide with a warning;
    so are a group whose GS01 is not HC and a GS08 that differs from ST03.
    Why: real files carry these ids; reading them beats failing the whole file,
    but a person should know the guide was assumed.
    Fix safety: none.
    """


@rule("EDI006", INFO, scope=READER)
def normalised():
    """The input was normalised so it could be read.

    What it does: notes a UTF-8 byte-order mark, UTF-16 encoding, spaces,
    tabs, lone carriage returns or blank lines between segments, and NUL or
    Ctrl-Z padding.  One line break (LF or CR LF) after each terminator is
    how most senders write X12 and is not noted.
    Why: some receivers (and pyx12) reject such files; the note explains why a
    file that reads here may be refused elsewhere.
    Fix safety: none (`fix` copies the file as sent, but leaves out padding
    running more than 64 KiB past a terminator and its line break, and logs it).
    """


@rule("EDI007", ERROR, scope=READER)
def malformed():
    """A segment the rules need is malformed.

    What it does: flags an SV1 without a procedure code composite (an SV2
    without one is a revenue-code-only line, which the 837I guide allows: SV202
    is situational; one whose SV202 has no code is flagged), non-numeric units
    or charge, a line's DTP*472 date range (RD8) that ends before it starts or
    on no CCYYMMDD date, HL segments out of order (HL01 not
    sequential, a parent that does not exist or is of the wrong level), and a
    drug line's LIN/CTP (2410) placed after its 2420/2430 loops, where the
    guide does not read it (edi837 still reads the NDC, so the other rules
    can judge it).  Also what would hide a claim or line: a segment whose id
    is not an X12 segment id (lower case, junk glued before it, a separator
    turned into a letter: 'CLMX...' is not a CLM), service lines outside any
    claim (the CLM lost in the segment before them), an SV1/SV2 with no LX
    before it or a second one in one LX loop (read as a line), an SV1/SV2
    after its line's LIN/CTP, a claim with no subscriber HL above it, a CLM02
    charge that is not an X12 number, and a segment of a claim with more
    elements than the guide allows (the next segment glued on when its
    terminator was lost: the two are read as one).
    The message names the likely cause, such as an ISA16 equal to ISA11, so
    composites cannot be split.  Service lines, lines outside a claim and the
    claim's own problems (no subscriber, CLM02) are reported on drug claims
    (and drug lines) only (a drug line: a J-code or other code of policies.toml
    [[drug_lines]], a code of the drug table, or a LIN), as only those are
    checked; HL order and segment ids are checked for every segment
    of an 837 transaction set (the first ten bad ids of a set are reported).
    Both readers report the same (`--no-fast` reads every claim in full, the
    default passes over claims with no drug line).  `extract` exits 1 when a
    segment could not be read; `fix --split` refuses such a file.
    Why: the line or claim cannot be checked, and a payer will reject it.
    Fix safety: none.
    """


@rule("EDI008", ERROR, scope=READER)
def internal_error():
    """edi837 itself failed while reading the file.

    What it does: if reading or checking a file raises an unexpected error
    (a bug), the file is reported as unreadable with this finding, naming the
    last claim read, and the run goes on with the next file (exit status 2).
    Why: one file must never stop a nightly batch, and a scheduler must see
    that something went wrong rather than a traceback or a silent exit.
    Fix safety: none (report the file's problem to the edi837 maintainers).
    """


@rule("EDI009", ERROR, scope=READER, fix="safe")
def trailing_separators():
    """A segment ends in empty elements.

    What it does: flags a segment of an 837 transaction set whose last
    character before the terminator is the element separator
    (`SBR*P*18*******~`): the empty elements after the last value were sent
    with their separators.
    Why: X12 syntax suppresses the separators of empty elements at the end of a
    segment; pyx12 reports it (SEG1) and the 999 rejects the whole transaction
    set, every claim in it.  Said where the segment is: a claim's (held with
    the claim), an HL loop's (with the first drug claim under it: it holds
    every claim under the loop), a set header's.
    Example: `SBR*P*18*******~` (no SBR09 sent).
    Use instead: `SBR*P*18~`.
    Fix safety: safe: `fix` drops the trailing separators; no value changes.
    """
