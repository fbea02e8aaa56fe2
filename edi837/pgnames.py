"""What a store's name is (``--history``, ``--ledger``, the API's ``history=``): a
``postgresql://`` URL, a SQLite file name, or something refused because it only looks
like a file name (a libpq key=value string, a URL of another scheme, ``postgresql:``
with one slash), and the name shown with its password masked.  Split from
:mod:`edi837.pgdb`, which re-exports these names."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")


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
