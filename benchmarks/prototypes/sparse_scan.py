"""Prototype (run by hand, not imported by edi837): the fastest CPython scan found of
what a sparse `check` must find on a clean sparse file (issue 25, brief sparse6).

    python benchmarks/prototypes/sparse_scan.py FILE [--fold] [--times]

What it finds, over bytes read in 1 MiB chunks (no decoding but of what it hands on):

* every segment's id and separators well formed: one walking regular expression per
  chunk (edi837.x12.blocks._walk, on bytes); with ``--fold`` the walk also stops at
  every segment that may make a drug claim or is an envelope (the events search
  folded into the walk), else the events are a second search (edi837.reader.fast);
* segment indices: ``bytes.count`` of the terminator, only up to where something is
  handed on, and once for the rest of the chunk;
* CLM counts: ``bytes.count`` of the separator + ``CLM*``;
* every HL's order, in bulk: the HL segments' fields (one ``findall``, one group)
  joined into one compact string, checked by one regular expression with
  backreferences (a 22's parent is the latest 20, a 23's the latest 22) and the
  ids' sequence compared with ``map(str, range(...))``; where either fails, the exact
  per-HL walk (edi837.reader.loops.Hierarchy.check);
* the drug claims handed on: each with its HL loop up to its first CLM and the
  latest HL 20 / 22 loops above it, decoded and split into segments and elements
  (what the claim reader would be handed), with the index of the first segment.

It prints the CPU time of the scan (process time, best of 5) and what it found; the
whole process is timed from outside (``/usr/bin/time``). Clean sparse files only:
on anything else (white space, envelopes other than ISA GS ST..SE GE IEA) it stops
with a message, as the real fast path would fall back to reading segment by segment.
"""
from __future__ import annotations

import re
import sys
import time

from edi837.drug_codes import drug_code_patterns
from edi837.reader.loops import Hierarchy

CHUNK = 1 << 20
PHASES: dict[str, int] = {}


def patterns(element: bytes, terminator: bytes, component: bytes, separator: bytes,
             drug_codes) -> dict:
    e, t, c, s = (re.escape(x) for x in (element, terminator, component, separator))
    codes = "|".join(drug_code_patterns().prefixes(
        re.escape((element + component + terminator).decode("latin-1")))
        + sorted(re.escape(code) for code in drug_codes if code)).encode("latin-1")
    procedure = b"[^%s%s%s]*+%s[ \\t]*(?i:%s)" % (e, c, t, c, codes)
    drug_sv = b"SV[12][^%s%s]*+%s(?:%s|[^%s%s]*+%s%s)" % (e, t, e, procedure, e, t, e,
                                                          procedure)
    envelope = b"ISA|IEA|GS%s|GE%s|ST%s|SE%s" % (e, e, e, e)
    segment = b"[A-Z][A-Z0-9][A-Z0-9]?+(?:%s[^%s]*+)?+%s" % (e, t, s)
    return {
        "walk": re.compile(b"(?:(?!IEA%s)%s)*+" % (e, segment)),
        # the walk, stopping before an envelope or a segment that may make a drug claim
        "fold": re.compile(b"(?:(?!%s|LIN|%s)%s)*+" % (envelope, drug_sv, segment)),
        "events": re.compile(b"%s(?=[GILS])(?:(%s)|LIN|%s)" % (s, envelope, drug_sv)),
        "hl": re.compile(b"%sHL%s([^%s]*)" % (s, e, t)),
        "clm": separator + b"CLM" + element,
        "hl_at": separator + b"HL" + element,
        # the compact HLs (HL01*HL02*HL03[*HL04] a line): a 22's parent is the latest
        # 20, a 23's the latest 22
        "order": re.compile(
            b"(?:(\\d++)\\*\\*20(?:\\*[^\\n]*+)?+\\n"
            b"(?:(\\d++)\\*\\1\\*22(?:\\*[^\\n]*+)?+\\n"
            b"(?:\\d++\\*\\2\\*23(?:\\*[^\\n]*+)?+\\n)*+)*+)*+"),
        "ids": re.compile(b"\\*[^\\n]*+"),
    }


class Scan:
    def __init__(self, path: str, drug_codes, fold: bool) -> None:
        self.path, self.drug_codes, self.fold = path, drug_codes, fold
        self.segments = self.claims = self.hls = self.fallbacks = 0
        self.handed = 0  # pieces handed on (each dropped at once, as a reader would)
        self.last: tuple = ()  # the last piece: (first index, [[elements]...])
        self.hierarchy = Hierarchy()
        self.context: list[bytes] = []  # the latest 20 (and 22) compact HLs of the set
        self.set_hls: list[bytes] = []  # the set's compact HLs checked in bulk
        self.carried: dict[bytes, list] = {}  # HL01 -> the loop, split (earlier chunks)

    def run(self) -> None:
        with open(self.path, "rb") as handle:
            head = handle.read(106)
            element, terminator, component = head[3:4], head[105:106], head[104:105]
            handle.seek(0)
            data = handle.read(CHUNK)
            separator = terminator + b"\n" if data.startswith(b"\n", 106) else terminator
            self.sep = separator
            self.p = patterns(element, terminator, component, separator, self.drug_codes)
            rest = b""
            while True:
                final = not data
                text = separator + rest + data
                # cut before the last HL: its loop may go on in the next chunk
                cut = -1 if final else text.rfind(separator + b"HL" + element)
                cut = (text.rfind(separator) if cut < 0 else cut) + len(separator)
                self.chunk(text[:cut])
                rest = text[cut:]
                if final:
                    break
                data = handle.read(CHUNK)
            if rest:
                raise SystemExit(f"{self.path}: text after the last segment")

    def chunk(self, text: bytes) -> None:
        p, sep = self.p, self.sep
        end = len(text) - len(sep)
        clock = time.process_time_ns
        t0 = clock()
        # the walk (text starts with a separator: walk from the first segment)
        if self.fold:
            events = []
            at = len(sep)
            walk = p["fold"]
            while True:
                at = walk.match(text, at, len(text)).end()
                if at >= len(text):
                    break
                events.append(at - len(sep))
                stop = text.find(sep, at) + len(sep)
                if stop < len(sep) or text.startswith(b"IEA" + b"*", at) and stop != len(text):
                    raise SystemExit(f"{self.path}: not a clean file")
                at = stop
        else:
            if p["walk"].match(text, len(sep)).end() != len(text):
                if not text.startswith(b"IEA*", p["walk"].match(text, len(sep)).end()):
                    raise SystemExit(f"{self.path}: not a clean file")
            t1 = clock()
            PHASES["walk"] += t1 - t0
            t0 = t1
            events = [m.start() for m in p["events"].finditer(text, 0, end)]
        t1 = clock()
        PHASES["events" if not self.fold else "walk+events"] += t1 - t0
        self.base, self.cursor = self.segments, (0, self.segments)
        self.seen: set = set()  # the loops above drug claims handed on (positions)
        self.loop_at: dict = {}  # HL01 -> its loop (start, stop) in this chunk
        self.segments += text.count(self.sep[:1]) - 1  # the one before each segment
        PHASES["count terminators"] += clock() - t1
        # stretches between envelopes
        position = 0
        drug: list[int] = []
        for at in events:
            seg = text[at + len(sep):at + len(sep) + 3]
            if seg[:2] in (b"IS", b"IE", b"GS", b"GE", b"ST", b"SE"):
                self.body(text, position, at, drug)
                drug = []
                if seg == b"ST*":
                    self.loop_at = {}
                    self.hierarchy = Hierarchy()
                    self.context = []
                    self.set_hls = []
                    self.carried = {}
                position = text.find(sep, at + len(sep))
                self.hand(text, at, position)  # the envelope handed on
            else:
                drug.append(at)
        self.body(text, position, end, drug)
        # the latest 20 and 22 loops, for drug claims in the next chunks
        carried = {}
        for line in self.context:
            hl_id = line.split(b"*", 1)[0]
            loop = self.find_loop(text, 0, end, hl_id)
            if loop is not None:
                carried[hl_id] = self.split(text, *loop)
        self.carried.update(carried)

    def index(self, position: int, text: bytes) -> int:
        at, index = self.cursor
        t = self.sep[:1]
        index += text.count(t, at, position) if position >= at else \
            -text.count(t, position, at)
        self.cursor = position, index
        return index

    def hand(self, text: bytes, start: int, stop: int) -> None:
        self.handed += 1
        self.last = (self.index(start, text), self.split(text, start, stop))

    def find_loop(self, text: bytes, start: int, stop: int, hl_id: bytes):
        at = text.rfind(self.sep + b"HL*" + hl_id + b"*", start, stop)
        if at < 0:
            return None
        first_clm = text.find(self.p["clm"], at, stop)
        next_hl = text.find(self.p["hl_at"], at + 1, stop)
        ends = [x for x in (first_clm, next_hl, stop) if x >= 0]
        return at, min(ends)

    def split(self, text: bytes, start: int, stop: int) -> list:
        sep = self.sep
        return [s.split("*") for s in
                text[start + len(sep):stop].decode("latin-1").split(sep.decode("latin-1"))]

    def body(self, text: bytes, start: int, stop: int, drug: list[int]) -> None:
        p = self.p
        clock = time.process_time_ns
        t0 = clock()
        self.claims += text.count(p["clm"], start, stop)
        t1 = clock()
        hls = p["hl"].findall(text, start, stop)
        t2 = clock()
        if hls:
            self.hls += len(hls)
            self.order(hls)
        t3 = clock()
        PHASES["count CLMs"] += t1 - t0
        PHASES["HL fields (findall)"] += t2 - t1
        PHASES["HL order in bulk"] += t3 - t2
        # the drug claims: the claim, its loop up to its first CLM, the loops above
        for at in drug:
            clm = text.rfind(p["clm"], start, at)
            unit = text.rfind(p["hl_at"], start, at)
            if clm < 0 or unit > clm:
                raise SystemExit(f"{self.path}: a drug line outside a claim")
            after = text.find(p["clm"], at, stop)
            next_hl = text.find(p["hl_at"], at, stop)
            claim_end = min(x for x in (after, next_hl, stop) if x >= 0)
            fields = text[unit + len(self.sep):text.find(b"~", unit + len(self.sep))]
            _, hl_id, parent, level = (fields.split(b"*") + [b"", b""])[:4]
            pieces = []
            while parent:  # the loops above, nearest first
                if parent in self.loop_at:  # found or not, searched once a chunk
                    loop = self.loop_at[parent]
                else:
                    loop = self.loop_at[parent] = self.find_loop(text, start, unit, parent)
                if loop is None:
                    if parent in self.carried:
                        pieces.append(("carried", parent))
                    break
                if loop[0] in self.seen:
                    break
                pieces.append(loop)
                fields = text[loop[0] + len(self.sep):text.find(b"~", loop[0] + len(self.sep))]
                parent = (fields.split(b"*") + [b""])[2]
            for piece in reversed(pieces):  # each loop once: the reader keeps it
                if piece[0] in self.seen:
                    continue
                self.seen.add(piece[0])
                if piece[0] == "carried":
                    self.handed += 1
                    self.last = (None, self.carried.pop(piece[1]))
                else:
                    self.hand(text, *piece)
            first_clm = text.find(p["clm"], unit, clm + len(p["clm"]))
            self.hand(text, unit, first_clm)
            self.hand(text, clm, claim_end)
        PHASES["drug claims found and handed on"] += clock() - t3

    def order(self, hls: list[bytes]) -> None:
        hierarchy = self.hierarchy
        first = hierarchy.expected
        compact = b"\n".join(hls) + b"\n"
        context = b"".join(self.context)
        ok = self.p["order"].fullmatch(context + compact) is not None
        if ok:
            ids = self.p["ids"].sub(b"", compact)
            ok = ids == ("\n".join(map(str, range(first, first + len(hls)))) + "\n").encode()
        if ok:
            hierarchy.expected = first + len(hls)
            self.set_hls.append(compact)
            # keep the latest 20 and the latest 22 (after it) for the next chunk
            context = compact.rsplit(b"\n", 1)[0]
            last20 = context.rfind(b"**20")
            line20 = context.rfind(b"\n", 0, last20) + 1
            last22 = context.rfind(b"*22", max(line20, 0))
            if last20 >= 0:
                lines = [context[line20:context.find(b"\n", last20) + 1 or None]]
            else:
                lines = self.context[:1]
            if last22 >= 0:
                line22 = context.rfind(b"\n", 0, last22) + 1
                lines.append(context[line22:context.find(b"\n", last22) + 1 or None])
            elif last20 < 0:
                lines = self.context
            self.context = [line if line.endswith(b"\n") else line + b"\n" for line in lines]
            return
        # the exact per-HL walk, knowing the levels of every HL of the set before
        for earlier in self.set_hls:
            for line in earlier.split(b"\n")[:-1]:
                fields = (line.decode("latin-1").split("*") + ["", ""])[:3]
                hierarchy.levels[fields[0]] = fields[2]
        self.set_hls = [compact]
        self.fallbacks += 1
        for hl in hls:  # the exact per-HL walk
            fields = (hl.decode("latin-1").split("*") + ["", ""])[:3]
            if hierarchy.check(*fields) is not None:
                raise SystemExit(f"{self.path}: HL order: {fields}")


def main(argv: list[str]) -> None:
    from edi837.arguments import drug_table

    path = argv[0]
    fold = "--fold" in argv
    codes = drug_table(()).drugs
    best = None
    phases: dict[str, float] = {}
    for _ in range(5 if "--times" in argv else 1):
        PHASES.clear()
        PHASES.update(dict.fromkeys(("walk", "events", "walk+events", "count terminators",
                                     "count CLMs", "HL fields (findall)", "HL order in bulk",
                                     "drug claims found and handed on"), 0))
        start = time.process_time()
        scan = Scan(path, codes, fold)
        scan.run()
        took = time.process_time() - start
        best = took if best is None else min(best, took)
        for name, ns in PHASES.items():
            phases[name] = min(phases.get(name, 1e9), ns / 1e6)
    print(f"{path}: {scan.segments} segments, {scan.claims} claims, {scan.hls} HLs "
          f"({scan.fallbacks} stretches walked HL by HL), {scan.handed} pieces handed "
          f"on; scan {best:.3f} s CPU")
    for name, ms in phases.items():
        if ms:
            print(f"  {name}: {ms:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
