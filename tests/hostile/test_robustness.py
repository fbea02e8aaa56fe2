"""Damaged input never ends in a traceback: each mutation of a sample is
either read or reported, and the engine always returns a result."""
import random

import pytest
from conftest import SAMPLES

from edi837.drugs import load_drug_table
from edi837.engine import Engine


def mutations(data: bytes, seed: int, count: int):
    rng = random.Random(seed)
    junk = [b"~", b"*", b":", b"^", b"\r\n", b"\x00", b"\xff", b"ISA", b"SE*", b"HL*9*9*22*0~",
            b"LX*\xb2~", b"SV1*HC:J2350:JW:JZ*1E3*UN*-1***99~", b"\x1a"]
    for _ in range(count):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(mutated))
            action = rng.random()
            if action < 0.4:
                del mutated[position:position + rng.randint(1, 40)]
            elif action < 0.8:
                mutated[position:position] = rng.choice(junk)
            else:
                del mutated[position:]  # truncated
        yield bytes(mutated)


@pytest.mark.parametrize("sample", ["837p-j2350-defects.edi", "837i-j2350-defects.edi",
                                    "837p-multi-interchange-crlf-bom.edi"])
def test_mutated_samples_never_raise(tmp_path, sample):
    engine = Engine(load_drug_table())
    data = (SAMPLES / sample).read_bytes()
    for number, mutated in enumerate(mutations(data, seed=len(sample), count=60)):
        path = tmp_path / f"m{number}.edi"
        path.write_bytes(mutated)
        result = engine.check_file(path)  # must not raise
        assert result.status in ("ok", "findings", "unreadable")
        assert not [f for f in result.findings if f.rule == "EDI008"], \
            f"internal error on mutation {number}: {[f.message for f in result.findings]}"


def test_fix_on_mutated_samples_never_raises(tmp_path):
    from edi837.config import Config
    from edi837.fix import fix_file

    table = load_drug_table()
    data = (SAMPLES / "837p-j2350-defects.edi").read_bytes()
    for number, mutated in enumerate(mutations(data, seed=7, count=25)):
        path = tmp_path / f"m{number}.edi"
        path.write_bytes(mutated)
        result = fix_file(path, tmp_path / f"out{number}", table=table, config=Config(),
                          split=True)
        assert result.exit_status in (0, 1, 2)
        assert path.read_bytes() == mutated  # the input is never modified
