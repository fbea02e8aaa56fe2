"""Corrected EDI as single-byte X12 text: no byte-order mark, never UTF-16.

The rewriter (:func:`edi837.x12.writer.rewrite`) and the split write text in
the input's encoding, byte-order mark included.  A corrected file is meant to
be forwarded, and receivers read X12 as single-byte text: pyx12's x12valid
fails on a UTF-8 BOM or UTF-16 with UnicodeDecodeError.  So ``fix`` writes
through :class:`SingleByteHandle`, which takes the bytes as the rewriter
encodes them and writes them as latin-1 text (one byte per character; X12's
character sets are within it): a leading UTF-8 BOM is left out, UTF-16 is
decoded and written one byte a character.  Everything else is the same bytes.
"""
from __future__ import annotations

import codecs
from typing import BinaryIO

from ..x12.raw import TextEncoding

UTF8_BOM = codecs.BOM_UTF8


class NotSingleByte(ValueError):
    """A character of the input has no single-byte form (UTF-16 input beyond latin-1)."""


class SingleByteHandle:
    """A binary handle over ``handle`` for text encoded as ``encoding`` says: what is
    written reaches ``handle`` as single-byte text without a byte-order mark."""

    def __init__(self, handle: BinaryIO, encoding: TextEncoding) -> None:
        self._handle = handle
        self._bom = encoding.bom  # written first, alone, by the text sink (UTF-16)
        self._decoder = None
        if encoding.codec != "latin-1":
            self._decoder = codecs.getincrementaldecoder(encoding.codec)()
        self._head = b""  # the first bytes, until it is known whether they are a BOM
        self._started = False
        self._characters = 0  # characters written (for the message of NotSingleByte)

    def write(self, data: bytes) -> int:
        size = len(data)
        if self._bom and data.startswith(self._bom):
            data, self._bom = data[len(self._bom):], b""
        if self._decoder is not None:
            data = self._single_byte(self._decoder.decode(data))
        self._emit(data)
        return size

    def close(self) -> None:
        """Write what is held back (the decoder's last bytes; a file shorter than a BOM)."""
        if self._decoder is not None:
            self._emit(self._single_byte(self._decoder.decode(b"", final=True)))
        if not self._started and self._head:
            self._handle.write(self._head)
        self._head, self._started = b"", True

    def _emit(self, data: bytes) -> None:
        if not self._started:
            self._head += data
            if len(self._head) < len(UTF8_BOM) and UTF8_BOM.startswith(self._head):
                return  # may still be a BOM
            data, self._head, self._started = self._head, b"", True
            if data.startswith(UTF8_BOM):
                data = data[len(UTF8_BOM):]
        if data:
            self._handle.write(data)

    def _single_byte(self, text: str) -> bytes:
        try:
            data = text.encode("latin-1")
        except UnicodeEncodeError as exc:
            character = text[exc.start]
            raise NotSingleByte(
                f"character U+{ord(character):04X} (character {self._characters + exc.start + 1}"
                f" of the text) has no single-byte form: the corrected file is X12 text of "
                f"one byte a character") from None
        self._characters += len(text)
        return data
