"""A real S3-compatible server on localhost for the object-store tests (issue 26).

moto's standalone server (``moto[server]``, in the ``test`` extra) runs as its own
process on a free port for the whole session; the environment gets dummy
credentials and ``AWS_ENDPOINT_URL`` (read by botocore, so by s3fs, and by the
``edi837`` processes the tests start).  Not installed: the tests skip, which CI
turns into a failure (tests/conftest.py); installed but not starting: they fail.
"""
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """The server's endpoint URL, with the environment set to use it."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    pytest.importorskip("s3fs", reason="s3fs is not installed (edi837[s3])")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                   "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not _answers(port):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            pytest.fail(f"moto's S3 server did not start: {Path(log).read_text()[-2000:]}")
        time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    saved = {name: os.environ.get(name) for name in (*ENV, "AWS_ENDPOINT_URL")}
    os.environ.update(ENV, AWS_ENDPOINT_URL=endpoint)
    try:
        yield endpoint
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def bucket(s3_server):
    """A new empty bucket: (its name, an s3fs filesystem on the server)."""
    import s3fs

    name = f"edi837-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(name)
    return name, fs


def upload(fs, folder: Path, url_prefix: str) -> None:
    """Every file below ``folder`` to the same names under ``url_prefix``."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{url_prefix.rstrip('/')}/{path.relative_to(folder)}")
