"""Shared fixtures: build 837 files from small fragments."""
from pathlib import Path

import pytest

from edi837.claims import ClaimReader
from edi837.x12.fragment import wrap_claims

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def edi_file(tmp_path):
    """Write text (or a claim fragment wrapped in envelopes) to a file."""
    counter = iter(range(1, 10_000))

    def make(text: str, *, kind: str = "837P", wrap: bool = True, name: str | None = None,
             **wrap_options) -> Path:
        path = tmp_path / (name or f"input{next(counter)}.edi")
        content = wrap_claims(text, kind, **wrap_options) if wrap else text
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return make


@pytest.fixture
def read(edi_file):
    """Read a fragment: (claims, reader)."""
    def run(text: str, **options):
        reader = ClaimReader(edi_file(text, **options))
        return list(reader.claims()), reader

    return run
