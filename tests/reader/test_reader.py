"""The segment reader: delimiters, terminators, encodings, chunking, positions."""
import codecs
import io

import pytest

from edi837.x12 import reader as reader_module
from edi837.x12.reader import Delimiters, SegmentReader, X12SyntaxError, display, read_segments

ISA = ("ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       "
       "*261101*1200*^*00501*000000001*0*T*:~")


def interchange(element="*", component=":", terminator="~", suffix="", control="000000001"):
    isa = ISA.replace("*", element).replace(":~", component + terminator)
    isa = isa.replace("000000001", control)
    segments = ["GS*HC*A*B*20261101*1200*1*X*005010X222A1", "ST*837*0001*005010X222A1",
                "SE*2*0001", "GE*1*1", f"IEA*1*{control}"]
    body = "".join(s.replace("*", element) + terminator + suffix for s in segments)
    return isa + suffix + body


def ids(data: bytes):
    return [fields[0] for fields, _, _ in read_segments(data)]


def test_isa_gives_all_four_delimiters():
    delims = Delimiters.from_isa(ISA)
    assert delims == Delimiters(element="*", repetition="^", component=":", segment="~")


@pytest.mark.parametrize("element,component,terminator,suffix", [
    ("*", ":", "~", ""),
    ("*", ":", "~", "\n"),
    ("*", ":", "~", "\r\n"),
    ("|", "^", "\n", ""),  # newline as the terminator
    ("*", ">", "\r", "\n"),  # CR terminator followed by LF
    ("\x1d", "\x1f", "\x1c", ""),  # control-character delimiters
    ("*", ":", "'", "  \n   "),  # spaces and newlines between segments
])
def test_any_terminator_with_or_without_line_breaks(element, component, terminator, suffix):
    data = interchange(element, component, terminator, suffix).encode("latin-1")
    segments = read_segments(data)
    assert [f[0] for f, _, _ in segments] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert segments[1][0][8] == "005010X222A1"
    # offsets point at the segment's first byte, indexes count from 1
    for fields, _index, offset in segments:
        assert data[offset:offset + len(fields[0])] == fields[0].encode()
    assert [i for _, i, _ in segments] == [1, 2, 3, 4, 5, 6]


def test_several_interchanges_with_different_delimiters():
    first = interchange(suffix="\r\n")
    second = interchange("|", "^", "\n", control="000000002")
    data = (first + second).encode()
    segments = read_segments(data)
    assert [f[0] for f, _, _ in segments] == ["ISA", "GS", "ST", "SE", "GE", "IEA"] * 2
    assert segments[11][0] == ["IEA", "1", "000000002"]
    assert data[segments[6][2]:].startswith(b"ISA|")


def test_utf8_bom_is_skipped_and_reported_and_offsets_stay_byte_offsets():
    data = codecs.BOM_UTF8 + interchange(suffix="\n").encode()
    reader = SegmentReader("x.edi", __import__("io").BytesIO(data))
    segments = list(reader)
    assert segments[0][2] == 3
    assert reader.source.bom
    # one line break after each terminator is ordinary: read, not reported
    assert reader.source.normalisations() == ["UTF-8 byte-order mark"]
    assert reader.source.line_breaks


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_decoded_and_reported(encoding):
    data = interchange(suffix="\r\n").encode(encoding)
    reader = SegmentReader("x.edi", __import__("io").BytesIO(data))
    assert [f[0] for f, _, _ in reader] == ["ISA", "GS", "ST", "SE", "GE", "IEA"]
    assert reader.source.utf16


def test_segments_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(reader_module, "CHUNK_SIZE", 7)
    data = (interchange(suffix="\n") + interchange("|", "^", "\n", control="000000002")).encode()
    small = read_segments(data)
    monkeypatch.setattr(reader_module, "CHUNK_SIZE", 1 << 20)
    assert small == read_segments(data)
    assert len(small) == 12


@pytest.mark.parametrize("chunk", [7, 61, 200, 1 << 20])
def test_offsets_are_exact_whatever_the_line_breaks_and_chunking(monkeypatch, chunk):
    """Regular "~\n" / "~\r\n" breaks are split on whole; an odd break (a blank
    line, a missing break) falls back to stripping.  Either way, at any chunk
    size, each segment's offset points at exactly its text in the file."""
    parts = [interchange(suffix="\n", control="000000001"),
             interchange(suffix="\r\n", control="000000002"),
             interchange(control="000000003"),
             interchange(suffix="\n", control="000000004").replace("ST*", "\nST*"),
             interchange("|", "^", "\n", control="000000005")]
    data = "".join(parts).encode()
    monkeypatch.setattr(reader_module, "CHUNK_SIZE", chunk)
    segments = read_segments(data)
    assert [i for _, i, _ in segments] == list(range(1, 31))
    for fields, _, offset in segments:
        text = ("|" if b"|" in data[offset:offset + 4] else "*").join(fields)
        assert data[offset:offset + len(text)] == text.encode()
    assert [f[0] for f, _, _ in segments] == ["ISA", "GS", "ST", "SE", "GE", "IEA"] * 5
    gaps = {batch._gap for batch in SegmentReader("x", io.BytesIO(data)).batches()}
    assert gaps == ({1} if chunk == 1 << 20 else {1, 2, 3})  # one chunk: odd breaks in it


@pytest.mark.parametrize("data,message", [
    (b"hello world, this is not EDI", "no ISA"),
    (b"ISA*00*short~", "fewer than 16 elements"),
    (b"", None),
])
def test_not_x12(data, message):
    if message is None:
        assert read_segments(data) == []
        return
    with pytest.raises(X12SyntaxError, match=message):
        read_segments(data)


def test_isa_shorter_than_106_characters_is_rejected():
    short = ISA.replace("SUBMITTER      ", "SUBMITTER")
    with pytest.raises(X12SyntaxError, match="shorter than 106"):
        read_segments((short + "GS*HC~").encode())


def test_display_restores_utf8_text_read_as_latin1():
    assert display("JOS\u00c3\u0089") == "JOS\u00c9"
    assert display("PLAIN") == "PLAIN"
    assert display("caf\u00e9") == "caf\u00e9"  # real latin-1 stays as it is
