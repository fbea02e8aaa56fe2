"""The floor: the least work any X12 reader written in Python has to do.

Reads FILE in 1 MiB chunks, decodes them as latin-1, splits them on the
segment terminator and splits every segment on the element separator, and does
nothing else. ``benchmarks/run.py`` times this script as a whole process and
compares every edi837 command against it.

    python benchmarks/floor.py FILE
"""
import sys

CHUNK = 1 << 20  # 1 MiB


def split_file(path):
    """Split the file into segments and elements; return the segment count."""
    segments = 0
    with open(path, "rb") as handle:
        isa = handle.read(106).decode("latin-1")  # ISA is fixed-width: 106 characters
        element_sep, terminator = isa[3], isa[105]
        handle.seek(0)
        rest = ""
        while chunk := handle.read(CHUNK):
            pieces = (rest + chunk.decode("latin-1")).split(terminator)
            rest = pieces.pop()  # an incomplete segment waits for the next chunk
            for segment in pieces:
                segment.split(element_sep)
            segments += len(pieces)
        if rest.strip():
            rest.split(element_sep)
            segments += 1
    return segments


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {split_file(name)} segments")
