"""Shared fixtures: build 837 files from small fragments."""
import os
from pathlib import Path

import pytest

from edi837.reader.claims import ClaimReader
from edi837.x12.fragment import wrap_claims

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# A clean J2350 claim (600 mg JZ with its NDC, MS diagnosis, infusion line,
# rendering, facility and ordering providers); tests change one thing in it.
CLEAN_J2350_CLAIM = """
CLM*C1*9400***11:B:1*Y*A*Y*Y
HI*ABK:G35A
NM1*82*1*RENDER*RAY****XX*1234567893
NM1*77*2*SYNTHETIC INFUSION SUITE*****XX*1234567893
N3*1 MAIN ST
N4*SPRINGFIELD*IL*627010000
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242015001
CTP****20*ML
NM1*DK*1*ORDER*OLA****XX*1234567893
LX*2
SV1*HC:96365*400*UN*1***1
DTP*472*D8*20260115
"""

# One line, J2350 600 units, NDC hyphenated (NDC002, safe fix) and lowercase
# CTP unit (NDC006): two error findings on one line of a claim charged 9000.
TWO_ERRORS_ON_ONE_LINE = """
CLM*C1*9000***11:B:1*Y*A*Y*Y
HI*ABK:G35A
LX*1
SV1*HC:J2350:JZ*9000*UN*600***1
DTP*472*D8*20260115
LIN**N4*50242-150-01
CTP****20*ml
"""


@pytest.fixture(autouse=True)
def no_user_reference_data(tmp_path_factory, monkeypatch):
    """No test reads or writes the real per-user reference data folder: the default
    folder (XDG_DATA_HOME/edi837/refdata) is an empty temporary one."""
    monkeypatch.delenv("EDI837_REFDATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


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


@pytest.fixture(autouse=True, scope="session")
def private_data_home(tmp_path_factory):
    """Keys, counters and reference data the tests make go to a folder of the
    test run's, never to the real ~/.local/share/edi837."""
    import os

    home = tmp_path_factory.mktemp("data-home")
    saved = {name: os.environ.get(name) for name in ("XDG_DATA_HOME",)}
    os.environ["XDG_DATA_HOME"] = str(home)
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """The parsed shipped data files (edi837.datacache) go to a folder of the test run's,
    never to the real ~/.cache/edi837; one for the session, so most runs find them."""
    import os

    saved = os.environ.get("EDI837_CACHE_DIR")
    os.environ["EDI837_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        os.environ.pop("EDI837_CACHE_DIR", None)
    else:
        os.environ["EDI837_CACHE_DIR"] = saved


@pytest.fixture(scope="session")
def large_837(tmp_path_factory):
    """A generated 100 MB 837P (about 150,000 claims; ~10 s), for the slow tests of
    what must hold at nightly scale (report size, load time, memory)."""
    from edi837.generator import generate

    path = tmp_path_factory.mktemp("large") / "large-837p.edi"
    with open(path, "w", encoding="latin-1", newline="") as out:
        generate(out, "837P", size=100 << 20, seed=0)
    return path


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server on localhost for the session: its endpoint URL, with the
    environment set to use it (tests/s3_support.py)."""
    from s3_support import running_s3_server

    yield from running_s3_server(tmp_path_factory)


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real Dask scheduler with two workers in folders of their own for the session
    (EDI837_TEST_DASK's, as CI starts it, else one of the tests' own): its address
    (tests/dask_support.py)."""
    from dask_support import session_cluster

    yield from session_cluster(tmp_path_factory)


@pytest.fixture
def bucket(s3_server):
    """A new empty bucket on that server: (its name, an s3fs filesystem)."""
    from s3_support import new_bucket

    return new_bucket()


# CI (CI=true, as .ci/run runs) starts every real part a test needs (Chromium, Dask
# workers...): a test that skips there would hide a part that did not start, so a skip
# is reported as a failure, with its reason.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("CI", "").lower() in ("1", "true", "yes")
            and not hasattr(report, "wasxfail")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every part a test needs must start: {reason}"
