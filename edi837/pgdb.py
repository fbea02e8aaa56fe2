"""edi837's stores on PostgreSQL (``--history`` and ``--ledger postgresql://...``): a
backend seam shared by the patient history and the batch ledger (with its work queue).

:class:`~edi837.history.store.HistoryStore` and :class:`~edi837.batch.ledger.Ledger`
speak to a SQLite connection.  This module gives them a connection that looks like
one (``execute``, ``executemany``, ``executescript``, ``cursor``, ``row_factory``,
``in_transaction``, ``close``) and speaks to a PostgreSQL server through psycopg 3,
so each store's logic exists once.  What differs, and how it is mapped here:

- **The write lock.**  SQLite's ``BEGIN IMMEDIATE`` takes the database's one
  write lock.  Here it becomes ``BEGIN`` plus a *transaction-level advisory lock*
  of the store (one per database and schema), tried without waiting; when
  another process holds it, the same "database is locked" answer SQLite gives
  makes :func:`edi837.dbfiles.begin_immediate` say so once and try again.  A
  `check --history` run holds it for the whole run, batch for one file: writers
  take turns, so two processes judge exactly as if one ran after the other.  The
  lock ends with the transaction, so a killed process (its connection closed by
  the server) leaves neither rows nor a held lock.
- **"Did another process write?"** (SQLite's ``PRAGMA data_version``, which
  refreshes the patient filter): a ``generation`` row in ``history_meta`` that
  every committed write bumps; a change this connection did not make counts.
- **Schema**: the same tables (BYTEA for BLOB, identity columns for SQLite's
  rowids, ``RETURNING id`` for ``lastrowid``), catalogue queries through
  ``information_schema``.  Schema versions: the history's stay in
  ``history_meta``; the ledger's ``PRAGMA user_version`` is a row of
  ``ledger_meta``; so a newer schema is refused and an older one upgraded by
  each store's own migration code, in the write lock.
- **Who is alive** (for several batch hosts on one ledger): a process holds a
  *session-level* advisory lock of its own name (:meth:`PgConnection.hold`) for
  as long as its connection lives; another process asks
  (:meth:`PgConnection.alive`) whether a name is held.  The server ends a killed
  process's session, and with it the lock.

One store per database and schema: several stores can share a server through
``?options=-csearch_path%3Dname`` in the URL (the schema must exist).
Passwords in URLs are never shown: :func:`masked` replaces them.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
import zlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")
LOCK_CLASS = 837  # first key of the store's advisory lock (the second: its schema)
NAME_CLASS = 838  # first key of a process's session lock (the second: schema and name)
# tables whose INSERT gives the new row's id (sqlite3's lastrowid): RETURNING id
IDENTITY_TABLES = {"history_files", "inputs", "queue_claims", "queue_notes"}
USER_VERSION = "ledger_meta"  # where PRAGMA user_version lives (SQLite keeps it in the file)


def is_url(target) -> bool:
    return isinstance(target, str) and target.lower().startswith(SCHEMES)


# libpq's key=value connection strings ("host=db port=5432 user=edi837 ..."), URLs of
# another scheme and a postgresql: URL with one slash: none is a file name, and none
# may become a SQLite file named by it (a password in its name and in every report)
_LIBPQ_PAIR = re.compile(r"""(?:^|\s)([a-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)""", re.IGNORECASE)
_LIBPQ_KEYS = {"host", "hostaddr", "port", "user", "password", "dbname", "service",
               "sslmode", "options", "passfile", "application_name", "connect_timeout",
               "target_session_attrs", "sslrootcert", "sslcert", "sslkey"}
# a scheme (two letters or more) and a slash: "night:2026.sqlite3" stays a file name
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]+):/", re.IGNORECASE)
_PG_SCHEME = re.compile(r"^(postgres(?:ql)?):", re.IGNORECASE)


def not_a_store(target, what: str = "store") -> str | None:
    """Why ``target`` (given for a store: ``--history``, ``--ledger``) is refused as
    neither a ``postgresql://`` URL nor a file name, or None.  The message shows
    ``target`` with its password masked."""
    if not isinstance(target, str) or is_url(target):
        return None
    shown = masked(target)
    pairs = {key.lower(): value.strip("'") for key, value in _LIBPQ_PAIR.findall(target)}
    if pairs.keys() & _LIBPQ_KEYS:
        return (f"{shown}: a libpq key=value connection string; a PostgreSQL {what} is "
                f"given as a URL: {_as_url(pairs)} (the password in ~/.pgpass or "
                "PGPASSWORD, not in the URL); a SQLite file is a plain file name")
    scheme = _PG_SCHEME.match(target) or _SCHEME.match(target)
    if scheme is None:
        return None
    name = scheme.group(1).lower()
    if name in ("postgresql", "postgres"):
        return (f"{shown}: not a PostgreSQL URL: it begins {name}://, with two slashes "
                f"({name}://USER@HOST:PORT/DBNAME)")
    return (f"{shown}: a {name}: URL; a {what} is a SQLite file (a plain file name) or a "
            "postgresql:// URL")


def _as_url(pairs: dict[str, str]) -> str:
    """The URL of libpq's key=value ``pairs``, without the password."""
    from urllib.parse import quote

    host = pairs.get("host") or pairs.get("hostaddr") or "HOST"
    port = f":{pairs['port']}" if pairs.get("port") else ""
    user = f"{quote(pairs['user'], safe='')}@" if pairs.get("user") else ""
    url = f"postgresql://{user}{host}{port}/{quote(pairs.get('dbname') or 'DBNAME', safe='')}"
    if pairs.get("options"):
        url += f"?options={quote(pairs['options'], safe='')}"
    return url


def masked(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^@/]*@", "//***@", url)
    text = url
    if parts.password is not None:
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        text = urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    # a malformed URL (postgresql:/user:secret@host) that urlsplit reads no password in
    text = re.sub(r"^([a-z][a-z0-9+.-]*:/*[^:/@\s]*:)[^@/\s]*@", r"\1***@", text,
                  flags=re.IGNORECASE)
    return re.sub(r"""(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]*)""", r"\1***", text,
                  flags=re.IGNORECASE)


class PgError(sqlite3.OperationalError):
    """A PostgreSQL error, as the store's SQLite error handling knows them."""


class StoreGone(PgError):
    """The server went away mid-run (stopped, restarted, its backend terminated, the
    network cut): the server rolls back the transaction in hand.  Its message says so
    for an operator (what is lost, what to do), naming the store (password masked)."""


GONE_STATES = ("08", "57P")  # connection exceptions; operator intervention (shutdown)


_COMMENT = re.compile(r"--[^\n]*")  # (the store's statements hold no "--" in a string)
_PRAGMA_COLUMNS = re.compile(r"PRAGMA table_info\((\w+)\)", re.IGNORECASE)
_INSERT_OR_REPLACE = re.compile(
    r"INSERT OR REPLACE INTO (\w+) \((\w+), (\w+)\)", re.IGNORECASE)
_INSERT_INTO = re.compile(r"INSERT INTO (\w+)", re.IGNORECASE)
_JSON_EACH = re.compile(r"json_each\(([\w.]+)\)")  # SQLite's JSON array as rows
_SET_USER_VERSION = re.compile(r"PRAGMA user_version\s*=\s*(\d+)", re.IGNORECASE)
_TABLES = ("SELECT table_name FROM information_schema.tables "
           "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
_BUMP = ("INSERT INTO history_meta (name, value) VALUES ('generation', '1') "
         "ON CONFLICT (name) DO UPDATE SET value = (history_meta.value::bigint + 1)::text "
         "RETURNING value")


def _ddl(statement: str) -> str:
    """SQLite's column types as PostgreSQL's."""
    statement = statement.replace("INTEGER PRIMARY KEY",
                                  "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    return statement.replace("BLOB", "BYTEA").replace("INTEGER", "BIGINT")


class _Rows:
    """A cursor's answer: iterable, fetchone/fetchall, rowcount, lastrowid,
    description (column names, as sqlite3's)."""

    def __init__(self, rows=(), rowcount: int = -1, lastrowid=None, description=None) -> None:
        self._rows = list(rows)
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.description = description
        self.row_factory = None

    def made_by(self, factory) -> "_Rows":
        """The rows made by a row factory (``factory(cursor, values)``, as sqlite3's)."""
        if factory is not None and self.description is not None:
            self._rows = [factory(self, values) for values in self._rows]
        return self

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchall(self):
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self):
        return iter(self.fetchall())


class _Cursor:
    """``connection.cursor()``: executes on the connection (rows made by its own
    ``row_factory``, tuples unless set); iterable, as sqlite3's, over its last answer."""

    def __init__(self, connection: "PgConnection") -> None:
        self._connection = connection
        self.row_factory = None
        self._last = _Rows()

    def execute(self, statement: str, parameters=()):
        self._last = self._connection._execute(statement, parameters).made_by(self.row_factory)
        return self._last

    @property
    def description(self):
        return self._last.description

    @property
    def rowcount(self) -> int:
        return self._last.rowcount

    def fetchone(self):
        return self._last.fetchone()

    def fetchall(self):
        return self._last.fetchall()

    def __iter__(self):
        return iter(self._last)


class PgConnection:
    """A psycopg connection in autocommit mode, whose transactions are the store's
    own BEGIN/COMMIT/ROLLBACK statements, translated from SQLite's dialect."""

    def __init__(self, conn, where: str) -> None:
        self._conn = conn
        self.where = where
        self.row_factory = None  # as sqlite3's: rows of execute() made by it
        self._present: set[str] = set()  # tables known to exist
        self._wrote = False  # this transaction changed something
        self._generation: int | None = None  # the last generation seen (or made) by this connection
        self._version = 0  # PRAGMA data_version: other processes' commits seen
        self._meta = False
        schema = self._run("SELECT current_schema()").fetchone()[0]
        if schema is None:
            raise PgError(f"{where}: the schema named in the URL's search_path does not "
                          "exist: create it first (CREATE SCHEMA name)")
        self.schema = schema
        self._lock = (LOCK_CLASS, zlib.crc32(schema.encode()) - (1 << 31))

    # -- the connection interface the store uses ----------------------------------
    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._conn.closed or self._conn.broken:  # the server rolled it back
            return False
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def close(self) -> None:
        self._conn.close()

    def tables(self) -> set[str]:
        return {name for (name,) in self._run(_TABLES).fetchall()}

    def executescript(self, script: str) -> None:
        """Each statement of ``script`` (none holds a ";" in a string or comment)."""
        for statement in script.split(";"):
            self.execute(statement)

    # -- names held by live processes -----------------------------------------------------
    def _name_key(self, name: str) -> tuple[int, int]:
        return NAME_CLASS, zlib.crc32(f"{self.schema}\0{name}".encode()) - (1 << 31)

    def hold(self, name: str, *, patience: float = 10.0) -> bool:
        """Hold ``name`` for as long as this connection lives (waiting up to
        ``patience`` seconds for a process that holds it to end); False if it
        stays held by another process."""
        deadline = time.monotonic() + patience
        while True:
            got = self._run("SELECT pg_try_advisory_lock(%s, %s)",
                            self._name_key(name)).fetchone()[0]
            if got or time.monotonic() >= deadline:
                return bool(got)
            time.sleep(0.1)

    def alive(self, name: str) -> bool:
        """Whether a process (another connection) holds ``name`` now."""
        key = self._name_key(name)
        free = self._run("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
        if free:
            self._run("SELECT pg_advisory_unlock(%s, %s)", key)
        return not free

    def _has(self, table: str) -> bool:
        """``table`` exists (once it does, it stays: remembered)."""
        if table not in self._present:
            self._present.update(self.tables())
        return table in self._present

    def _has_meta(self) -> bool:
        """history_meta exists (once it does, it stays: remembered)."""
        if not self._meta:
            self._meta = "history_meta" in self.tables()
        return self._meta

    def executemany(self, statement: str, rows) -> _Rows:
        rows = list(rows)
        if not rows:
            return _Rows(rowcount=0)
        self._wrote = True
        with self._errors():
            with self._conn.cursor() as cursor:
                cursor.executemany(statement.replace("?", "%s"), rows)
                return _Rows(rowcount=cursor.rowcount)

    def execute(self, statement: str, parameters=()) -> _Rows:
        return self._execute(statement, parameters).made_by(self.row_factory)

    def _execute(self, statement: str, parameters=()) -> _Rows:
        text = " ".join(_COMMENT.sub("", statement).split())
        upper = text.upper()
        special = self._special(text, upper)
        if special is not None:
            return special
        if " FROM inputs " in f"{text} " and not self._has("inputs"):
            # a batch ledger's table: absent from a store of its own (and an error
            # would abort the whole transaction here, unlike SQLite)
            raise PgError("no such table: inputs")
        if upper.startswith(("CREATE TABLE", "ALTER TABLE")):
            text = _ddl(text)
        text = _JSON_EACH.sub(r"json_array_elements_text(\1::json) AS json_each(value)", text)
        replaced = _INSERT_OR_REPLACE.match(text)
        if replaced is not None:
            table, name, value = replaced.groups()
            text = (f"INSERT INTO {table} ({name}, {value}){text[replaced.end():]} "
                    f"ON CONFLICT ({name}) DO UPDATE SET {value} = EXCLUDED.{value}")
        into = _INSERT_INTO.match(text)
        returning = into is not None and into.group(1).lower() in IDENTITY_TABLES
        if returning:
            text += " RETURNING id"
        if not upper.startswith("SELECT") and not upper.startswith(("SAVEPOINT", "RELEASE")):
            self._wrote = True
        rows = self._run(text.replace("?", "%s"), parameters)
        if returning:
            rows.lastrowid = rows.fetchone()[0]
        return rows

    def _special(self, text: str, upper: str) -> _Rows | None:
        """What SQLite answers itself (transactions, pragmas, its catalogue), or None."""
        if not text:
            return _Rows()
        if upper == "BEGIN IMMEDIATE":
            return self._begin_write()
        if upper == "COMMIT":
            return self._commit()
        if upper in ("ROLLBACK", "BEGIN"):
            self._wrote = False
            if upper == "ROLLBACK" and not self.in_transaction:
                return _Rows()  # (a connection lost: the server rolled back already)
            return self._run(text)
        if upper == "PRAGMA DATA_VERSION":
            return _Rows([(self._data_version(),)])
        if upper.startswith("PRAGMA USER_VERSION"):
            return self._user_version(text)
        if upper.startswith("PRAGMA"):
            found = _PRAGMA_COLUMNS.fullmatch(text)
            if found is None:
                return _Rows()  # journal modes and the like: SQLite's own
            return self._run("SELECT ordinal_position, column_name FROM "
                             "information_schema.columns WHERE table_schema = "
                             "current_schema() AND table_name = %s ORDER BY 1",
                             (found.group(1),))
        if "sqlite_master" in text:
            return self._run(_TABLES)
        return None

    # -- translations -------------------------------------------------------------
    def _run(self, statement: str, parameters=()) -> _Rows:
        with self._errors():
            with self._conn.cursor() as cursor:
                cursor.execute(statement, tuple(parameters) or None)
                if cursor.description is None:
                    return _Rows((), cursor.rowcount)
                described = tuple((column.name,) + (None,) * 6
                                  for column in cursor.description)
                return _Rows(cursor.fetchall(), cursor.rowcount, description=described)

    def _user_version(self, text: str) -> _Rows:
        """``PRAGMA user_version`` (= N): a row of :data:`USER_VERSION` (0 when none)."""
        setting = _SET_USER_VERSION.fullmatch(text)
        if setting is None:
            if USER_VERSION not in self.tables():
                return _Rows([(0,)])
            found = self._run(f"SELECT value FROM {USER_VERSION} WHERE name = 'schema'")
            row = found.fetchone()
            return _Rows([(int(row[0]) if row else 0,)])
        self._wrote = True
        self._run(f"CREATE TABLE IF NOT EXISTS {USER_VERSION} (name TEXT PRIMARY KEY, "
                  "value TEXT NOT NULL)")
        self._run(f"INSERT INTO {USER_VERSION} (name, value) VALUES ('schema', %s) "
                  "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                  (setting.group(1),))
        return _Rows()

    def _begin_write(self) -> _Rows:
        """BEGIN and the store's advisory lock, or "database is locked" (the caller
        waits and tries again, as with SQLite)."""
        self._run("BEGIN")
        self._wrote = False
        got = self._run("SELECT pg_try_advisory_xact_lock(%s, %s)", self._lock).fetchone()[0]
        if not got:
            self._run("ROLLBACK")
            raise PgError("database is locked")
        return _Rows()

    def _commit(self) -> _Rows:
        if self._wrote and self._has_meta():
            made = int(self._run(_BUMP).fetchone()[0])
            if self._generation == made - 1:  # nobody else wrote since we last looked
                self._generation = made
        self._wrote = False
        try:
            return self._run("COMMIT")
        except StoreGone as exc:  # the COMMIT sent, its answer lost: stored or not
            raise StoreGone(
                f"{self.where}: the database went away while committing "
                f"({getattr(exc, 'why', exc)}): whether this run's work was stored is not "
                "known; run again once the server is back (a file checked again replaces "
                "its own earlier lines)") from None

    def _data_version(self) -> int:
        if not self._has_meta():
            return self._version
        found = self._run("SELECT value FROM history_meta WHERE name = 'generation'").fetchone()
        generation = int(found[0]) if found else 0
        if generation != self._generation:
            if self._generation is not None:
                self._version += 1
            self._generation = generation
        return self._version

    def _errors(self):
        return _translated(self.where, self._conn)


class _translated:
    """psycopg's errors as :class:`PgError`, without the URL's password; a lost
    connection as :class:`StoreGone`."""

    def __init__(self, where: str, conn=None) -> None:
        self.where = where
        self.conn = conn

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, trace):
        import psycopg

        if exc is not None and isinstance(exc, psycopg.Error):
            message = " ".join(str(exc).split()) or type(exc).__name__
            if _gone(exc, self.conn):
                gone = StoreGone(gone_message(self.where, message))
                gone.why = message
                raise gone from None
            raise PgError(message) from None
        return False


def _gone(exc, conn) -> bool:
    """Whether ``exc`` means the server or the connection to it is gone."""
    import psycopg

    if conn is not None and (conn.closed or getattr(conn, "broken", False)):
        return True
    return isinstance(exc, psycopg.OperationalError) and \
        (getattr(exc, "sqlstate", None) or "").startswith(GONE_STATES)


def gone_message(where: str, why: str) -> str:
    return (f"{where}: the database went away ({why}): the server rolled back the work in "
            "hand, nothing of it was stored; run again once the server is back")


def connect(url: str) -> PgConnection:
    """A connection to the store at ``url``; PgError (password masked) when it fails."""
    where = masked(url)
    try:
        import psycopg
    except ImportError:
        raise PgError("a postgresql:// store needs psycopg 3: pip install 'edi837[postgres]'") \
            from None
    import logging  # (here: a check without a PostgreSQL store imports no logging)

    # psycopg's own warnings ("error ignored terminating <psycopg.Pipeline [BAD]>") would
    # come before the error it raises and edi837 reports: not shown, not logged
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    logging.getLogger("psycopg").propagate = False
    # pg_stat_activity names the process (a DBA's question: which edi837 holds the lock?)
    named: dict[str, Any] = ({} if "application_name" in url
                             else {"application_name": f"edi837[{os.getpid()}]"})
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10, **named)
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())
        password = urlsplit(url).password if "://" in url else None
        if password:
            message = message.replace(password, "***")
        raise PgError(f"cannot connect: {message}") from None
    try:
        return PgConnection(conn, where)
    except BaseException:
        conn.close()
        raise


def open_database(url: str, *, what: str, mine: set[str],
                  read_only: bool = False) -> PgConnection:
    """As :func:`edi837.dbfiles.connect` for a URL: refused (DatabaseRefused, the
    password masked) when it cannot be reached, or its schema holds tables but none
    of ``mine``.  ``read_only``: every transaction is read-only."""
    from .dbfiles import DatabaseRefused

    where = masked(url)
    try:
        db = connect(url)
        if read_only:
            db.execute("SET default_transaction_read_only = on")
        tables = db.tables()
    except PgError as exc:
        raise DatabaseRefused(f"{where}: {exc}") from None
    if tables and not tables & mine:
        db.close()
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise DatabaseRefused(
            f"{where}: schema {db.schema} holds something else (tables {shown}), not an "
            f"edi837 {what}: refused, nothing written to it; name another schema "
            "(?options=-csearch_path%3Dname)")
    return db
