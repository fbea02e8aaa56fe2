"""X12 reading and writing: segments, delimiters, envelopes."""
from .reader import Delimiters, SegmentReader, Source, X12SyntaxError, read_segments

__all__ = ["Delimiters", "SegmentReader", "Source", "X12SyntaxError", "read_segments"]
