"""The hostile corpus of issue #13: small synthetic 837 files that broke, or
could break, a reader, a fixer or a report.

Every file is built here from a few lines of text, deterministically, so the
corpus can be read (this module says what each file is and why) and rebuilt.
The small ones are committed under ``tests/data/hostile/``; the few large ones
(padding and segments past the reader's chunk and segment limits) are built
only when the tests run.  ``tests/data/hostile/expected.json`` holds what each
command does with each file; ``tests/hostile/test_hostile_corpus.py`` compares.

    python tests/hostile_corpus.py            # rewrite the committed files
    python tests/hostile_corpus.py --manifest # and the expected outcomes

Nothing here imports edi837: the corpus must not change when the product does.
All names, ids and numbers are made up.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "hostile"
MANIFEST = CORPUS / "expected.json"
LARGE = 64 * 1024  # files above this are built at test time, not committed

X222 = "005010X222A1"
X223 = "005010X223A2"


# -- the base file: one interchange, three claims ------------------------------------------
def isa(control: str = "000000101", element: str = "*", repetition: str = "^",
        component: str = ":") -> str:
    """A 106-character ISA (without its terminator), written with '*' and ':'."""
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "HOSTILESUBMIT  ", "ZZ",
              "HOSTILERECEIVE ", "261101", "1200", repetition, "00501", control, "0", "T",
              component]
    return element.join(fields)


def billing(kind: str = "837P") -> list[str]:
    name = "SYNTHETIC INFUSION CLINIC" if kind == "837P" else "SYNTHETIC HOSPITAL"
    return ["HL*1**20*1", f"NM1*85*2*{name}*****XX*1234567893", "N3*100 EXAMPLE ST",
            "N4*SPRINGFIELD*IL*627010000", "REF*EI*990000001"]


def subscriber(hl: int, member: str = "SYN000000001", last: str = "DOE", first: str = "JANE",
               born: str = "19800101", children: int = 0, filing: str = "MB") -> list[str]:
    return [f"HL*{hl}*1*22*{children}", f"SBR*P*{'18' if not children else ''}*******{filing}",
            f"NM1*IL*1*{last}*{first}****MI*{member}", "N3*1 TEST LANE",
            "N4*SPRINGFIELD*IL*627010000", f"DMG*D8*{born}*F",
            "NM1*PR*2*SYNTHETIC PAYER*****PI*PAYER01"]


def patient(hl: int, parent: int, last: str = "DOE", first: str = "SAM",
            born: str = "20150101") -> list[str]:
    return [f"HL*{hl}*{parent}*23*0", "PAT*19", f"NM1*QC*1*{last}*{first}",
            "N3*1 TEST LANE", "N4*SPRINGFIELD*IL*627010000", f"DMG*D8*{born}*M"]


def j2350_claim(claim_id: str, *, units: str = "600", charge: str = "9000",
                ndc: str | None = "50242015001", quantity: str = "20", unit: str = "ML",
                modifier: str = "JZ", date: str = "20260115", frequency: str = "1",
                extra: tuple[str, ...] = ()) -> list[str]:
    """A J2350 (ocrelizumab) claim with its infusion line; clean as given."""
    total = str(int(charge) + 400) if charge.isdigit() else charge
    segments = [f"CLM*{claim_id}*{total}***11:B:{frequency}*Y*A*Y*Y", *extra, "HI*ABK:G35A",
                "NM1*82*1*RENDER*RAY****XX*1234567893",
                "NM1*77*2*SYNTHETIC INFUSION SUITE*****XX*1234567893",
                "N3*1 MAIN ST", "N4*SPRINGFIELD*IL*627010000",
                "LX*1", f"SV1*HC:J2350{':' + modifier if modifier else ''}*{charge}*UN*{units}***1",
                f"DTP*472*D8*{date}"]
    if ndc is not None:
        segments += [f"LIN**N4*{ndc}", f"CTP****{quantity}*{unit}"]
    segments += ["NM1*DK*1*ORDER*OLA****XX*1234567893",
                 "LX*2", "SV1*HC:96365*400*UN*1***1", f"DTP*472*D8*{date}"]
    return segments


def institutional_claim(claim_id: str, units: str = "600") -> list[str]:
    return [f"CLM*{claim_id}*9400***13:A:1**A*Y*Y", "DTP*434*RD8*20260115-20260115",
            "CL1*1*1*01", "HI*ABK:G35A", "NM1*71*1*ATTENDING*AL****XX*1234567893",
            "LX*1", f"SV2*0636*HC:J2350:JZ*9000*UN*{units}", "DTP*472*D8*20260115",
            "LIN**N4*50242015001", "CTP****20*ML",
            "LX*2", "SV2*0260*HC:96365*400*UN*1", "DTP*472*D8*20260115"]


def base_body(kind: str = "837P") -> list[str]:
    """Billing provider and three subscribers, one claim each: clean, fixable
    (NDC with dashes: NDC002, a safe fix) and held (no NDC: NDC001, an error for its
    payer, a Medicaid plan: SBR09 MC)."""
    if kind == "837I":
        return billing(kind) + subscriber(2) + institutional_claim("HI-CLEAN") + \
            subscriber(3, "SYN000000002", "ROE", "RITA") + institutional_claim("HI-SECOND")
    return (billing() + subscriber(2) + j2350_claim("HC-CLEAN")
            + subscriber(3, "SYN000000002", "ROE", "RITA") + j2350_claim("HC-FIXABLE",
                                                                          ndc="50242-150-01")
            + subscriber(4, "SYN000000003", "POE", "PAT", filing="MC")
            + j2350_claim("HC-HELD", ndc=None))


def transaction(body: list[str], kind: str = "837P", control: str = "0001",
                version: str | None = None) -> list[str]:
    version = version or (X222 if kind == "837P" else X223)
    head = [f"ST*837*{control}*{version}", "BHT*0019*00*BATCH0001*20261101*1200*CH",
            "NM1*41*2*HOSTILE TEST SUBMITTER*****46*SUB0001", "PER*IC*TEST DESK*TE*5555550100",
            "NM1*40*2*HOSTILE TEST RECEIVER*****46*REC0001"]
    segments = head + body
    return segments + [f"SE*{len(segments) + 1}*{control}"]


def interchange(transactions: list[list[str]] | None = None, *, kind: str = "837P",
                control: str = "000000101", group: str = "1") -> list[str]:
    """ISA through IEA; the ISA is written with '*', '^' and ':'."""
    if transactions is None:
        transactions = [transaction(base_body(kind), kind)]
    version = X222 if kind == "837P" else X223
    segments = [isa(control),
                f"GS*HC*HOSTILESUBMIT*HOSTILERECEIVE*20261101*1200*{group}*X*{version}"]
    for t in transactions:
        segments += t
    return segments + [f"GE*{len(transactions)}*{group}", f"IEA*1*{control}"]


def text(segments: list[str], terminator: str = "~", newline: str = "\n") -> str:
    return "".join(s + terminator + newline for s in segments)


def data(segments: list[str], **options) -> bytes:
    return text(segments, **options).encode("latin-1")


def recount(segments: list[str]) -> list[str]:
    """SE01 set to the segments from ST to SE, so an edit is not also a count error."""
    out, start = [], None
    for s in segments:
        if s.startswith("ST*"):
            start = len(out)
        if s.startswith("SE*") and start is not None:
            fields = s.split("*")
            s = "*".join(["SE", str(len(out) - start + 1)] + fields[2:])
            start = None
        out.append(s)
    return out


def edited(segments: list[str]) -> bytes:
    """The segments with SE01 recounted, as bytes."""
    return data(recount(segments))


BASE = interchange()
BASE_TEXT = text(BASE)
BASE_BYTES = BASE_TEXT.encode("ascii")
BASE_I = interchange(kind="837I")


def index_of(segments: list[str], prefix: str, nth: int = 0) -> int:
    return [i for i, s in enumerate(segments) if s.startswith(prefix)][nth]


def replaced(old: str, new: str, count: int = 1, segments: list[str] = BASE) -> bytes:
    """The base file with one piece of text replaced (must occur)."""
    source = text(segments)
    assert old in source, old
    return source.replace(old, new, count).encode("latin-1")


def cut_after(prefix: str, nth: int = 0, *, keep: int | None = None) -> bytes:
    """The base file up to and including the segment starting with ``prefix``
    (its first ``keep`` characters only, when given)."""
    i = index_of(BASE, prefix, nth)
    head = text(BASE[:i])
    last = BASE[i] if keep is None else BASE[i][:keep]
    return (head + (last + "~\n" if keep is None else last)).encode("ascii")


def with_delimiters(element: str, repetition: str, component: str, terminator: str,
                    newline: str = "\n", segments: list[str] = BASE) -> bytes:
    """The base file written with other delimiters (the ISA says which)."""
    out = []
    for s in segments:
        if s.startswith("ISA*"):
            fields = s.split("*")
            fields[11], fields[16] = repetition, component
            out.append(element.join(fields))
        else:
            out.append(s.replace("*", "\x00E").replace(":", "\x00C")
                       .replace("\x00E", element).replace("\x00C", component))
    return "".join(s + terminator + newline for s in out).encode("latin-1")


def swapped(segments: list[str], a: int, b: int) -> list[str]:
    moved = list(segments)
    moved[a], moved[b] = moved[b], moved[a]
    return moved


def moved_claim_before_st() -> bytes:
    st, clm = index_of(BASE, "ST*"), index_of(BASE, "CLM*")
    end = index_of(BASE, "HL*", 2)
    block = BASE[clm:end]
    rest = BASE[:clm] + BASE[end:]
    return data(rest[:st] + block + rest[st:])


def one_transaction_file(body: list[str], kind: str = "837P") -> bytes:
    return data(interchange([transaction(body, kind)], kind=kind))


def claims_file(*claims: list[str]) -> bytes:
    """Billing provider, then one subscriber per claim."""
    body = billing()
    for n, claim in enumerate(claims):
        body += subscriber(n + 2, f"SYN00000010{n}", "DOE", f"PAT{n}") + claim
    return one_transaction_file(body)


def line_value(segment_prefix: str, old: str, new: str) -> bytes:
    """Change one element value in the first segment starting with the prefix."""
    i = index_of(BASE, segment_prefix)
    seg = BASE[i]
    assert old in seg, (seg, old)
    return data(BASE[:i] + [seg.replace(old, new, 1)] + BASE[i + 1:])


def second_interchange(control: str = "000000102") -> list[str]:
    return interchange([transaction(billing() + subscriber(2, "SYN000000009", "NEXT", "NED")
                                    + j2350_claim("HC-SECOND-ISA"))], control=control, group="2")


def many_transactions(n: int) -> bytes:
    ts = [transaction(billing() + subscriber(2, f"SYN{k:09d}") + j2350_claim(f"HC-T{k}"),
                      control=f"{k + 1:04d}") for k in range(n)]
    return data(interchange(ts))


# -- the cases ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    what: str
    build: Callable[[], bytes]
    validate: bool = True  # run `edi837 validate` (pyx12) on it too

    @property
    def file_name(self) -> str:
        return self.name if "." in self.name else self.name + ".edi"


def case(name: str, what: str, build: Callable[[], bytes], **options) -> Case:
    return Case(name, what, build, **options)


NUL_PAD = 4096


CASES: list[Case] = [
    # the base files themselves: what every other case is measured against
    case("base-837p", "the base 837P: one clean, one fixable (NDC002) and one held (NDC001) claim",
         lambda: BASE_BYTES),
    case("base-837i", "the base 837I: two clean institutional claims", lambda: data(BASE_I)),

    # truncation at every level
    case("empty", "an empty file", lambda: b""),
    case("trunc-in-isa", "cut inside the ISA (50 characters)", lambda: BASE_BYTES[:50]),
    case("trunc-isa-no-terminator", "the 106-character ISA, no terminator, nothing else",
         lambda: BASE_BYTES[:106]),
    case("trunc-after-isa", "the ISA and nothing else", lambda: cut_after("ISA*")),
    case("trunc-after-gs", "ISA and GS only", lambda: cut_after("GS*")),
    case("trunc-after-st", "cut after ST", lambda: cut_after("ST*")),
    case("trunc-after-billing-hl", "cut after the billing provider's HL",
         lambda: cut_after("HL*1")),
    case("trunc-after-clm", "cut after the first CLM", lambda: cut_after("CLM*")),
    case("trunc-mid-sv1", "cut inside the first SV1's composite",
         lambda: cut_after("SV1*", keep=11)),
    case("trunc-mid-lin", "cut inside the second claim's LIN (half an NDC)",
         lambda: cut_after("LIN*", 1, keep=12)),
    case("trunc-before-se", "cut before SE: all claims read, the transaction not closed",
         lambda: cut_after("DTP*472", 5)),
    case("trunc-before-ge", "cut after SE", lambda: cut_after("SE*")),
    case("trunc-before-iea", "cut after GE", lambda: cut_after("GE*")),
    case("trunc-mid-iea", "cut inside the IEA", lambda: BASE_BYTES[:BASE_BYTES.rindex(b"IEA") + 6]),
    case("trunc-iea-no-terminator", "the IEA without its terminator",
         lambda: BASE_BYTES.rstrip(b"~\n")),

    # delimiters
    case("delim-isa11-is-terminator", "ISA11 (repetition) is the segment terminator '~'",
         lambda: replaced("*^*00501*", "*~*00501*")),
    case("delim-isa16-is-isa11", "ISA16 (component) equal to ISA11 '^': composites ambiguous",
         lambda: with_delimiters("*", "^", "^", "~")),
    case("delim-isa16-is-element", "ISA16 equal to the element separator",
         lambda: replaced("*T*:~", "*T**~")),
    case("delim-isa16-is-terminator", "ISA16 equal to the segment terminator",
         lambda: replaced("*T*:~", "*T*~~")),
    case("delim-alnum-element", "the element separator is a letter ('X')",
         lambda: with_delimiters("X", "^", ":", "~")),
    case("delim-alnum-terminator", "the segment terminator is a letter ('Q')",
         lambda: with_delimiters("*", "^", ":", "Q", newline="")),
    case("delim-newline-terminator", "the segment terminator is a line feed",
         lambda: with_delimiters("*", "^", ":", "\n", newline="")),
    case("delim-cr-terminator", "the segment terminator is a carriage return",
         lambda: with_delimiters("*", "^", ":", "\r", newline="")),
    case("delim-unusual-valid", "valid but unusual delimiters: '|' '!' '<' and \"'\"",
         lambda: with_delimiters("|", "!", "<", "'")),
    case("delim-space-terminator", "a space as segment terminator",
         lambda: with_delimiters("*", "^", ":", " ", newline="")),
    case("delim-terminator-is-element", "the terminator after ISA16 is the element separator",
         lambda: replaced("*T*:~", "*T*:*")),
    case("delim-repetition-alnum", "ISA11 is 'U' (the 4010 standards id), not a separator",
         lambda: replaced("*^*00501*", "*U*00501*")),

    # line breaks
    case("breaks-none", "no line breaks at all", lambda: text(BASE, newline="").encode()),
    case("breaks-crlf", "CR LF after every terminator",
         lambda: text(BASE, newline="\r\n").encode()),
    case("breaks-cr-only", "a lone CR after every terminator",
         lambda: text(BASE, newline="\r").encode()),
    case("breaks-mixed", "LF, CR LF, CR and blank lines mixed",
         lambda: "".join(s + "~" + ["\n", "\r\n", "\r", "\n\n"][i % 4]
                         for i, s in enumerate(BASE)).encode()),
    case("breaks-indented", "segments indented with spaces and tabs",
         lambda: "".join(("  " if i % 2 else "\t") + s + "~\n" for i, s in enumerate(BASE))
         .encode()),

    # encodings and characters
    case("enc-utf8-bom", "a UTF-8 byte-order mark", lambda: b"\xef\xbb\xbf" + BASE_BYTES),
    case("enc-double-bom", "two UTF-8 byte-order marks", lambda: b"\xef\xbb\xbf" * 2 + BASE_BYTES),
    case("enc-utf16le-bom", "UTF-16 LE with a BOM", lambda: BASE_TEXT.encode("utf-16")),
    case("enc-utf16be-bom", "UTF-16 BE with a BOM",
         lambda: b"\xfe\xff" + BASE_TEXT.encode("utf-16-be")),
    case("enc-utf16le-no-bom", "UTF-16 LE without a BOM", lambda: BASE_TEXT.encode("utf-16-le")),
    case("enc-utf16-odd-length", "UTF-16 LE cut to an odd number of bytes",
         lambda: BASE_TEXT.encode("utf-16")[:-1]),
    case("enc-latin1-name", "a latin-1 name (M\\xdcLLER) in the subscriber's NM1",
         lambda: replaced("NM1*IL*1*DOE*JANE", "NM1*IL*1*M\u00dcLLER*J\u00d6RG")),
    case("enc-utf8-name", "a UTF-8 name (M\u00dcLLER, \u5c71\u7530) in the subscriber's NM1",
         lambda: BASE_TEXT.replace("NM1*IL*1*DOE*JANE", "NM1*IL*1*M\u00dcLLER*\u5c71\u7530",
                                   1).encode("utf-8")),
    case("enc-invalid-utf8", "bytes that are no UTF-8 (\\xff\\xfe\\xc3) in a name",
         lambda: BASE_BYTES.replace(b"DOE*JANE", b"D\xffOE*J\xfe\xc3", 1)),

    # segments outside their envelope
    case("stray-before-isa", "a text line before the ISA",
         lambda: b"From: sender@example.invalid\n" + BASE_BYTES),
    case("stray-segment-before-isa", "an X12 segment before the ISA",
         lambda: b"REF*EI*990000001~\n" + BASE_BYTES),
    case("stray-between-gs-and-st", "a NM1 between GS and ST",
         lambda: data(BASE[:2] + ["NM1*41*2*STRAY*****46*X"] + BASE[2:])),
    case("stray-between-se-and-ge", "a REF between SE and GE",
         lambda: data(BASE[:-2] + ["REF*EI*990000001"] + BASE[-2:])),
    case("stray-between-ge-and-iea", "a REF between GE and IEA",
         lambda: data(BASE[:-1] + ["REF*EI*990000001"] + BASE[-1:])),
    case("stray-claims-before-st", "the first claim moved before its ST",
         moved_claim_before_st),
    case("stray-clm-between-ge-and-iea", "a whole claim between GE and IEA",
         lambda: data(BASE[:-1] + j2350_claim("HC-STRAY") + BASE[-1:])),
    case("stray-st-without-gs", "ST directly after ISA (no GS/GE)",
         lambda: data([BASE[0]] + BASE[2:-2] + BASE[-1:])),
    case("stray-nested-st", "a second ST before the first SE",
         lambda: data(BASE[:index_of(BASE, "HL*3")] + ["ST*837*0002*" + X222]
                      + BASE[index_of(BASE, "HL*3"):])),
    case("stray-se-missing", "no SE before GE", lambda: data(BASE[:-3] + BASE[-2:])),
    case("stray-two-isa-no-iea", "a second ISA before the first IEA",
         lambda: data(BASE[:-1] + second_interchange())),
    case("stray-ta1", "a TA1 between ISA and GS", lambda: data(BASE[:1] + [
        "TA1*000000101*261101*1200*A*000"] + BASE[1:])),

    # text after the last IEA
    case("after-iea-junk", "a mail footer after the IEA",
         lambda: BASE_BYTES + b"--\nSent from my claims system\n"),
    case("after-iea-broken-isa", "a short, broken ISA after the IEA",
         lambda: BASE_BYTES + b"ISA*00*  *00*~\n"),
    case("after-iea-clm", "a CLM segment after the IEA",
         lambda: BASE_BYTES + b"CLM*HC-AFTER*9400***11:B:1*Y*A*Y*Y~\n"),
    case("after-iea-second-good", "a second complete interchange",
         lambda: BASE_BYTES + data(second_interchange())),
    case("after-iea-second-other-delims", "a second interchange with '|' and '>' delimiters",
         lambda: BASE_BYTES + with_delimiters("|", "^", ">", "~",
                                              segments=second_interchange())),
    case("after-iea-second-truncated", "a second interchange cut after its first claim",
         lambda: BASE_BYTES + text(second_interchange()[:30]).encode()),
    case("after-iea-binary", "binary bytes after the IEA", lambda: BASE_BYTES + bytes(range(256))),

    # padding
    case("pad-nul-after", f"{NUL_PAD} NUL bytes after the IEA",
         lambda: BASE_BYTES + b"\0" * NUL_PAD),
    case("pad-ctrl-z-after", "a DOS end-of-file (Ctrl-Z) after the IEA",
         lambda: BASE_BYTES + b"\x1a"),
    case("pad-newlines-after", "a thousand blank lines after the IEA",
         lambda: BASE_BYTES + b"\n" * 1000),
    case("pad-nul-between", "NUL padding between two interchanges",
         lambda: BASE_BYTES + b"\0" * 512 + data(second_interchange())),
    case("pad-nul-in-segment", "NULs inside a segment (in CLM01)",
         lambda: replaced("CLM*HC-CLEAN", "CLM*HC-\0\0CLEAN")),
    case("pad-doubled-terminators", "every terminator doubled ('~~')",
         lambda: text(BASE, terminator="~~").encode()),
    case("pad-nul-large",
         "3 MiB of NULs after the IEA (past the 1 MiB chunk and 2 MiB segment limit)",
         lambda: BASE_BYTES + b"\0" * (3 << 20), validate=False),
    case("pad-newlines-large", "3 MiB of line feeds between two segments",
         lambda: text(BASE[:10]).encode() + b"\n" * (3 << 20) + text(BASE[10:]).encode(),
         validate=False),

    case("junk-between-interchanges", "a stray '--' line between two good interchanges",
         lambda: BASE_BYTES + b"--\n" + data(second_interchange())),
    case("junk-glued-to-clm", "a stray token glued before the first CLM ('<b>' and a line break)",
         lambda: replaced("CLM*HC-CLEAN", "<b>\nCLM*HC-CLEAN")),

    case("lost-terminator-before-clm", "the terminator before the first CLM lost: the CLM is "
         "text in the payer's NM1, its lines follow with no claim",
         lambda: replaced("PAYER01~\nCLM*HC-CLEAN", "PAYER01\nCLM*HC-CLEAN")),

    # a short ISA inside a file
    case("short-isa-inside", "a good interchange, an ISA 40 characters long, then a good one",
         lambda: BASE_BYTES + b"ISA*00*SHORT*00*SHORT~\nIEA*1*000000000~\n"
         + data(second_interchange())),

    # hierarchy
    case("hl-out-of-order", "the third subscriber's HL before the second's",
         lambda: data([*BASE[:index_of(BASE, "HL*3")],
                       *BASE[index_of(BASE, "HL*4"):index_of(BASE, "SE*")],
                       *BASE[index_of(BASE, "HL*3"):index_of(BASE, "HL*4")],
                       *BASE[index_of(BASE, "SE*"):]])),
    case("hl-unknown-parent", "a subscriber whose HL02 names no HL",
         lambda: replaced("HL*3*1*22*0", "HL*3*9*22*0")),
    case("hl-duplicate-id", "two HLs with id 2", lambda: replaced("HL*3*1*22*0", "HL*2*1*22*0")),
    case("hl-missing", "a claim with no subscriber HL before it",
         lambda: one_transaction_file(billing() + j2350_claim("HC-NO-SUBSCRIBER"))),
    case("hl-self-parent", "an HL that is its own parent",
         lambda: replaced("HL*3*1*22*0", "HL*3*3*22*0")),
    case("hl-dependants", "2000C: two children of one subscriber, a claim each",
         lambda: one_transaction_file(billing() + subscriber(2, children=1)
                                      + patient(3, 2, first="SAM") + j2350_claim("HC-CHILD-1")
                                      + patient(4, 2, first="SUE", born="20170303")
                                      + j2350_claim("HC-CHILD-2"))),
    case("hl-twins", "twins: two 2000C patients, same birth date and surname, same drug and day",
         lambda: one_transaction_file(billing() + subscriber(2, children=1)
                                      + patient(3, 2, first="ANN", born="20120606")
                                      + j2350_claim("HC-TWIN-A")
                                      + patient(4, 2, first="AMY", born="20120606")
                                      + j2350_claim("HC-TWIN-B"))),
    case("hl-dependant-without-subscriber", "a 2000C patient whose parent is the billing HL",
         lambda: one_transaction_file(billing() + patient(2, 1) + j2350_claim("HC-ORPHAN"))),

    # the drug loop out of place
    case("lin-before-sv1", "LIN/CTP before the SV1 they belong to",
         lambda: data(swapped(swapped(BASE, index_of(BASE, "SV1*"), index_of(BASE, "LIN*")),
                              index_of(BASE, "DTP*472"), index_of(BASE, "CTP*")))),
    case("lin-in-claim", "LIN/CTP in the claim (2300), before any LX",
         lambda: edited(BASE[:index_of(BASE, "HI*")] + ["LIN**N4*50242015001", "CTP****20*ML"]
                      + BASE[index_of(BASE, "HI*"):])),
    case("ctp-without-lin", "CTP with no LIN", lambda: edited(
        BASE[:index_of(BASE, "LIN*")] + BASE[index_of(BASE, "LIN*") + 1:])),
    case("lin-twice", "two LIN/CTP pairs on one line", lambda: edited(
        BASE[:index_of(BASE, "CTP*") + 1] + ["LIN**N4*50242015001", "CTP****20*ML"]
        + BASE[index_of(BASE, "CTP*") + 1:])),
    case("lin-after-svd", "LIN/CTP after the line's adjudication (SVD, 2430)", lambda: edited(
        BASE[:index_of(BASE, "LIN*")] + ["SVD*PAYER01*9000*HC:J2350:JZ**600"]
        + BASE[index_of(BASE, "LIN*"):])),
    case("lin-empty-ndc", "LIN**N4 with no NDC",
         lambda: replaced("LIN**N4*50242015001", "LIN**N4*")),

    # odd numbers
    case("num-units-6e2", "SV104 units 6E2", lambda: line_value("SV1*HC:J2350", "*600*", "*6E2*")),
    case("num-units-plus", "SV104 units +600",
         lambda: line_value("SV1*HC:J2350", "*600*", "*+600*")),
    case("num-units-decimal", "SV104 units 600.0",
         lambda: line_value("SV1*HC:J2350", "*600*", "*600.0*")),
    case("num-units-1e309", "SV104 units 1e309 (infinite as a float)",
         lambda: line_value("SV1*HC:J2350", "*600*", "*1e309*")),
    case("num-units-nan", "SV104 units NaN", lambda: line_value("SV1*HC:J2350", "*600*", "*NaN*")),
    case("num-units-negative", "SV104 units -600",
         lambda: line_value("SV1*HC:J2350", "*600*", "*-600*")),
    case("num-units-zero", "SV104 units 0", lambda: line_value("SV1*HC:J2350", "*600*", "*0*")),
    case("num-units-400-digits", "SV104 units with 400 digits",
         lambda: line_value("SV1*HC:J2350", "*600*", "*" + "9" * 400 + "*")),
    case("num-units-letter-o", "SV104 units 6OO (letters O)",
         lambda: line_value("SV1*HC:J2350", "*600*", "*6OO*")),
    case("num-units-fullwidth", "SV104 units in full-width digits (UTF-8)",
         lambda: BASE_TEXT.replace("UN*600*", "UN*\uff16\uff10\uff10*", 1).encode("utf-8")),
    case("num-units-spaces", "SV104 units ' 600 '",
         lambda: line_value("SV1*HC:J2350", "*600*", "* 600 *")),
    case("num-charge-1e309", "SV102 charge 1e309 and CLM02 inf",
         lambda: data([s.replace("CLM*HC-CLEAN*9400", "CLM*HC-CLEAN*inf")
                       .replace("SV1*HC:J2350:JZ*9000", "SV1*HC:J2350:JZ*1e309")
                       for s in BASE])),
    case("num-charge-26-digits", "the held claim's SV102 charge has 26 digits",
         lambda: data(BASE[:index_of(BASE, "SV1*HC:J2350", 2)]
                      + [BASE[index_of(BASE, "SV1*HC:J2350", 2)].replace("*9000*",
                                                                         "*" + "9" * 26 + "*")]
                      + BASE[index_of(BASE, "SV1*HC:J2350", 2) + 1:])),
    case("num-quantity-negative", "CTP04 NDC quantity -20",
         lambda: line_value("CTP*", "*20*", "*-20*")),
    case("num-quantity-exponent", "CTP04 NDC quantity 2E1",
         lambda: line_value("CTP*", "*20*", "*2E1*")),
    case("num-se-count-huge", "SE01 with 30 digits", lambda: data(
        [("SE*" + "9" * 30 + "*0001") if s.startswith("SE*") else s for s in BASE])),
    case("num-lx-odd", "LX numbers 0, -1 and 10^20", lambda: replaced(
        "LX*2", "LX*0", 1, segments=[s.replace("LX*1", "LX*" + "1" + "0" * 20) for s in BASE])),
    case("num-date-invalid", "service dates 20261340 and 00000000", lambda: data(
        [s.replace("20260115", "20261340" if i % 2 else "00000000") for i, s in enumerate(BASE)])),

    # sizes: element counts, empty elements, long segments
    case("size-10k-elements", "an NM1 with 10,000 elements",
         lambda: replaced("NM1*82*1*RENDER*RAY", "NM1*82*1*RENDER*RAY" + "*X" * 10_000)),
    case("size-sv1-many-components", "an SV1 composite with 2,000 modifiers",
         lambda: replaced("SV1*HC:J2350:JZ", "SV1*HC:J2350:JZ" + ":JW" * 2000)),
    case("size-hi-1000-codes", "an HI with 1,000 diagnosis codes",
         lambda: replaced("HI*ABK:G35A", "HI*ABK:G35A" + "*ABF:Z79899" * 1000)),
    case("size-empty-elements", "SV1, LIN and CTP with every element empty",
         lambda: data(["SV1" + "*" * 8 if s.startswith("SV1*HC:J2350") else
                       "LIN**" if s.startswith("LIN*") else "CTP*****" if s.startswith("CTP*")
                       else s for s in BASE])),
    case("size-empty-segment-id", "segments with an empty id ('*X*Y')",
         lambda: edited(BASE[:5] + ["*X*Y", "*"] + BASE[5:])),
    case("size-long-claim-id", "a 5,000-character CLM01",
         lambda: replaced("CLM*HC-CLEAN", "CLM*HC-" + "L" * 5000)),
    case("size-long-segment", "a 100,000-character REF in the claim",
         lambda: edited(BASE[:index_of(BASE, "HI*")] + ["REF*D9*" + "R" * 100_000]
                      + BASE[index_of(BASE, "HI*"):]), validate=False),
    case("size-segment-over-limit", "a 3 MiB segment (past the 2 MiB segment limit)",
         lambda: edited(BASE[:index_of(BASE, "HI*")] + ["REF*D9*" + "R" * (3 << 20)]
                      + BASE[index_of(BASE, "HI*"):]), validate=False),
    case("size-no-terminators", "an ISA with '~', then segments separated by line feeds only",
         lambda: (text(BASE[:1]) + "\n".join(BASE[1:]) + "\n").encode()),
    case("size-200-transactions", "200 transaction sets of one claim each",
         lambda: many_transactions(200), validate=False),
    case("size-run-on-ids", "the element separator after CLM and after an SV1 turned into a "
         "letter ('CLMXHC-FIXABLE*9400', 'SV1XHC:J2350')",
         lambda: replaced("SV1*HC:J2350", "SV1XHC:J2350", 1,
                          segments=[s.replace("CLM*HC-FIXABLE", "CLMXHC-FIXABLE") for s in BASE])),
    case("size-lowercase-ids", "segment ids in lower case",
         lambda: data([s if s.startswith(("ISA", "IEA", "GS", "GE", "ST", "SE")) else
                       s[:3].lower() + s[3:] for s in BASE])),

    # characters people and spreadsheets see
    case("chars-control-in-id", "an ANSI escape and a bell in CLM01 of the held claim",
         lambda: replaced("CLM*HC-HELD", "CLM*HC-\x1b[31mRED\x07")),
    case("chars-bidi-in-id",
         "U+202E (right-to-left override) in the held claim's CLM01 and a name",
         lambda: BASE_TEXT.replace("CLM*HC-HELD", "CLM*HC-\u202eDLEH", 1)
         .replace("DOE*JANE", "DOE*\u202eENAJ", 1).encode("utf-8")),
    case("chars-formula-csv", "claim ids and a name that a spreadsheet would run as formulas",
         lambda: BASE_TEXT.replace("HC-CLEAN", "=HYPERLINK(\"http://x.invalid\")", 1)
         .replace("HC-FIXABLE", "+1+cmd|' /C calc'!A0", 1).replace("HC-HELD", "@SUM(A1)", 1)
         .replace("DOE*JANE", "-2+3*\t=1", 1).encode()),
    case("chars-markup", "HTML and XML markup in ids and names",
         lambda: BASE_TEXT.replace("HC-HELD", "<script>alert(1)</script>", 1)
         .replace("HC-FIXABLE", "]]>&amp;&#0;", 1).replace("DOE*JANE", "<b>DOE</b>*J&J", 1)
         .encode()),
    case("chars-line-breaks-in-id", "a vertical tab and a form feed in the held claim's CLM01",
         lambda: replaced("CLM*HC-HELD", "CLM*HC-\x0bHE\x0cLD")),

    # duplicates, replacements, voids
    case("dup-claim-in-file", "the same claim twice in one transaction",
         lambda: one_transaction_file(
        base_body() + subscriber(5) + j2350_claim("HC-CLEAN"))),
    case("dup-claim-across-interchanges", "the same claim in two interchanges", lambda: data(
        BASE + interchange([transaction(billing() + subscriber(2) + j2350_claim("HC-CLEAN"))],
                           control="000000102", group="2"))),
    case("claim-replacement", "a replacement claim (CLM05-3 7) with its original's REF*F8",
         lambda: claims_file(j2350_claim("HC-REPLACES", frequency="7",
                                         extra=("REF*F8*ORIGINAL0001",)))),
    case("claim-void", "a void (CLM05-3 8) of a claim",
         lambda: claims_file(j2350_claim("HC-VOID", frequency="8",
                                         extra=("REF*F8*ORIGINAL0001",)))),
    case("claim-original-and-replacement", "an original and its replacement in one file",
         lambda: claims_file(j2350_claim("HC-ORIG"),
                             j2350_claim("HC-ORIG", frequency="7",
                                         extra=("REF*F8*ORIGINAL0001",)))),

    # envelopes and transaction kinds
    case("env-835-and-837", "an 835 transaction set beside the 837 in one group", lambda: data(
        [BASE[0], BASE[1], "ST*835*0009*005010X221A1", "BPR*I*0*C*NON************20261101",
         "TRN*1*1*1999999999", "SE*4*0009"] + BASE[2:-2] + ["GE*2*1", BASE[-1]])),
    case("env-4010-transaction", "a second transaction set with a 4010 version id (004010X098A1)",
         lambda: data(interchange([transaction(base_body()),
                                   transaction(billing() + subscriber(2) + j2350_claim("HC-4010"),
                                               control="0002", version="004010X098A1")]))),
    case("env-no-claims", "a transaction with no claim", lambda: one_transaction_file(billing())),
    case("env-clm-without-lines", "a claim with no LX/SV1", lambda: claims_file(
        ["CLM*HC-NOLINES*9400***11:B:1*Y*A*Y*Y", "HI*ABK:G35A"])),
    case("env-sv1-without-lx", "an SV1 with no LX before it",
         lambda: edited([s for s in BASE if s != "LX*1"])),
    case("env-control-letters", "ISA13 and GS06 of letters, ST02 empty", lambda: data(
        [s.replace("000000101", "ABCDEFGHI").replace("*X*0051", "*X*0051")
         .replace("GS*HC*HOSTILESUBMIT*HOSTILERECEIVE*20261101*1200*1*",
                  "GS*HC*HOSTILESUBMIT*HOSTILERECEIVE*20261101*1200*ONE*")
         .replace("GE*1*1", "GE*1*ONE").replace("ST*837*0001", "ST*837*")
         .replace("*0001", "*") for s in BASE])),
    case("env-isa-repeated", "the ISA five times, nothing else",
         lambda: (text([isa()] * 5)).encode()),
    case("env-837i-truncated", "an 837I cut in its second claim's SV2",
         lambda: text(BASE_I[:index_of(BASE_I, "SV2*", 2) + 1]).encode()),
    case("env-837i-odd-units", "an 837I SV2 with units 6E2 and an empty revenue code",
         lambda: text([s.replace("SV2*0636*HC:J2350:JZ*9000*UN*600", "SV2**HC:J2350:JZ*9000*UN*6E2")
                       for s in BASE_I]).encode()),
    case("env-837p-in-837i-group", "an 837P transaction inside a group that says 837I",
         lambda: data([BASE[0], BASE[1].replace(X222, X223)] + BASE[2:])),
]


def by_name() -> dict[str, Case]:
    return {c.file_name: c for c in CASES}


def build(folder: Path, *, large: bool = True) -> list[Path]:
    """Write every case (the large ones only when ``large``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in CASES:
        content = c.build()
        if len(content) > LARGE and not large:
            continue
        path = folder / c.file_name
        path.write_bytes(content)
        written.append(path)
    return written


def committed() -> dict[str, bytes]:
    """The small cases: what is committed under tests/data/hostile/."""
    out = {}
    for c in CASES:
        content = c.build()
        if len(content) <= LARGE:
            out[c.file_name] = content
    return out


if __name__ == "__main__":
    for old in CORPUS.glob("*.edi"):
        old.unlink()
    written = build(CORPUS, large=False)
    print(f"wrote {len(written)} files to {CORPUS}")
    if "--manifest" in sys.argv[1:]:
        sys.path.insert(0, str(HERE))
        from test_hostile_corpus import rewrite_manifest

        rewrite_manifest()
