"""What the PostgreSQL tests share (issue 26): a schema of their own on the real server
named by EDI837_TEST_PG (.ci/start-postgres starts one; in CI a test that cannot reach
it fails), and plain queries on it."""
import os
import uuid
from urllib.parse import quote

import pytest

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 (pip install 'edi837[postgres]')")
SERVER = os.environ.get("EDI837_TEST_PG", "")


def new_schema() -> str:
    """A URL whose search_path is a fresh schema (created here; see drop_schema)."""
    if not SERVER:
        pytest.skip("no PostgreSQL server: set EDI837_TEST_PG (.ci/start-postgres starts one)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(SERVER, autocommit=True, connect_timeout=10) as db:
            db.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"cannot reach the PostgreSQL server at EDI837_TEST_PG: {exc}")
    mark = "&" if "?" in SERVER else "?"
    return f"{SERVER}{mark}options={quote(f'-csearch_path={schema}')}"


def drop_schema(url: str) -> None:
    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(SERVER, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


def query(url, statement, parameters=()):
    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(statement, parameters or None)
        return cursor.fetchall() if cursor.description is not None else None


def live_lines(url) -> int:
    return query(url, "SELECT COUNT(*) FROM history_lines WHERE removed_by IS NULL")[0][0]
