"""Where the events live, chosen by one URL: same code on every store.

``GRANTLEDGER_DATABASE_URL`` takes:
- ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (the default is
  ``sqlite:///grantledger.db`` in the working directory; nothing to install);
- ``postgresql://user[:password]@host[:port]/dbname[?schema=name&pool_size=N]`` (a pool of
  N connections kept open, 2 by default, growing by up to 8 under load);
- ``memory://`` for an in-memory store (tests, demos that need not persist).

Tables are created once and safely: concurrent start-ups take a lock (an advisory lock on
PostgreSQL, a file lock on SQLite) around the DDL, so they never race on it. A store opened
with ``create=False`` is never created: no file, schema or table is made, and a URL that
holds no ledger is refused (``NoLedger``), so a read-only command cannot check an empty store
by mistake.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from ledger.errors import InvalidInput, NotFound
from ledger.text import is_whole_number

if TYPE_CHECKING:
    from ledger.application import GrantLedger

ENV_URL = "GRANTLEDGER_DATABASE_URL"
ENV_CIPHER_KEY = "GRANTLEDGER_CIPHER_KEY"
DEFAULT_URL = "sqlite:///grantledger.db"
#: Seconds a writer waits for SQLite's single write lock before giving up.
SQLITE_LOCK_TIMEOUT = "30"
#: The library's events table in a SQLite file (SQLiteApplicationRecorder's default name).
SQLITE_EVENTS = "stored_events"
_DDL_LOCK_KEY = 0x4752414E54  # 'GRANT': advisory lock key serialising table creation


class NoLedger(NotFound):
    """The URL names no ledger: no file, no schema or no event tables there (nothing was created)."""

    title = "No ledger"


def database_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get(ENV_URL) or DEFAULT_URL


def library_env(url: str) -> dict[str, str]:
    """Translate a database URL into the eventsourcing library's environment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"memory", "popo"}:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path or parts.netloc:
            raise InvalidInput(f"{shown_url(url)!r}: write sqlite:///relative.db or sqlite:////absolute/path.db")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": SQLITE_LOCK_TIMEOUT,
        }
    if scheme in {"postgresql", "postgres"}:
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise InvalidInput(f"{shown_url(url)!r}: write postgresql://user@host:port/dbname")
        query = parse_qs(parts.query)
        schema = query.get("schema", ["public"])[0]
        pool_size = str(pool_size_of(url))
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(url_port(url) or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": schema,
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": pool_size,
            "POSTGRES_MAX_OVERFLOW": "8",
        }
    raise InvalidInput(
        f"database URL {shown_url(url)!r} is not understood; use sqlite:///file.db, postgresql://user@host:port/db or memory://"
    )


@contextlib.contextmanager
def ddl_lock(env: dict[str, str]) -> Iterator[None]:
    """Serialise table creation between processes starting at the same time."""
    module = env.get("PERSISTENCE_MODULE")
    if module == "eventsourcing.sqlite":
        lock_path = Path(env["SQLITE_DBNAME"] + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif module == "eventsourcing.postgres":
        import psycopg  # the library's own driver for its postgres module

        conninfo = psycopg.conninfo.make_conninfo(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_DDL_LOCK_KEY,))
            try:
                schema = env.get("POSTGRES_SCHEMA", "public")
                conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(psycopg.sql.Identifier(schema)))
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_DDL_LOCK_KEY,))
    else:
        yield


def cipher_env(key: str) -> dict[str, str]:
    """Encrypt every stored event and snapshot with AES-GCM under ``key`` (base64 of 16, 24 or
    32 random bytes; ``grantledger key create`` makes one), each ciphertext bound to its record
    and the snapshots sealed with a key derived from it (ledger.records)."""
    try:
        size = len(base64.b64decode(key, validate=True))
    except ValueError:
        size = 0
    if size not in (16, 24, 32):
        raise InvalidInput(
            f"{ENV_CIPHER_KEY} must be base64 of 16, 24 or 32 random bytes (AES); `grantledger key create` makes one"
        )
    return {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": key}


def pool_size_of(url: str) -> int:
    """The ``pool_size`` a PostgreSQL URL asks for (2 by default; the event store's and the read
    models' alike); InvalidInput unless a positive whole number."""
    size = parse_qs(urlsplit(url).query).get("pool_size", ["2"])[0]
    if not is_whole_number(size) or int(size) < 1:
        raise InvalidInput(f"{shown_url(url)!r}: pool_size must be a positive whole number, got {size!r}")
    return int(size)


def url_port(url: str) -> int | None:
    """The port a database URL names (None if it names none); InvalidInput for one that is not a number."""
    try:
        return urlsplit(url).port
    except ValueError:
        raise InvalidInput(
            f"{shown_url(url)!r}: the port must be a number from 1 to 65535, e.g. postgresql://user@host:5432/dbname"
        ) from None


def shown_url(url: str) -> str:
    """The URL as it may be printed or logged: without its password (and, for a URL too malformed
    to tell the password from the rest, without anything before its host)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    except ValueError:  # e.g. a port that is not a number: hide whatever precedes the host
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}***@{rest.rpartition('@')[2]}" if "@" in rest else url
    return urlunsplit(parts._replace(netloc=netloc))


def _no_ledger(url: str, reason: str) -> NoLedger:
    return NoLedger(f"no ledger at {shown_url(url)}: {reason}; check --database-url or {ENV_URL}")


def _sqlite_has_events(path: Path) -> bool:
    """Whether a SQLite file holds the library's events table, looked at read-only (opening it
    through the library would set its journal mode, a write)."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SQLITE_EVENTS,))
        return found.fetchone() is not None


def _open_existing(url: str, env: dict[str, str]) -> GrantLedger:
    """The ledger already stored at ``url``, opened without creating anything (the library's
    CREATE_TABLE off, no DDL lock); NoLedger if there is none."""
    from eventsourcing.persistence import ConnectionUnavailableError, OperationalError, ProgrammingError

    from ledger.application import GrantLedger

    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.popo":
        raise _no_ledger(url, "an in-memory store starts empty in every process")
    if module == "eventsourcing.sqlite":
        path = Path(env["SQLITE_DBNAME"])
        if not path.is_file():
            raise _no_ledger(url, "the file does not exist")
        if not _sqlite_has_events(path):
            raise _no_ledger(url, "the file holds no event tables")
    app = GrantLedger(env=env | {"CREATE_TABLE": "false"})
    try:
        app.recorder.max_notification_id()
    except ConnectionUnavailableError:
        app.close()
        raise
    except (ProgrammingError, OperationalError):  # no such table
        app.close()
        schema = env.get("POSTGRES_SCHEMA", "public")
        where = "the file" if module == "eventsourcing.sqlite" else f"the schema {schema!r}"
        raise _no_ledger(url, f"{where} holds no event tables") from None
    return app


def open_ledger(url: str | None = None, cipher_key: str | None = None, *, create: bool = True) -> GrantLedger:
    """The ledger application on the store the URL (or GRANTLEDGER_DATABASE_URL) names,
    encrypted at rest when a key is given (or GRANTLEDGER_CIPHER_KEY is set). The store's
    tables are created if need be, unless ``create`` is False: then a store that does not
    exist yet is refused with NoLedger and left uncreated."""
    from ledger.application import GrantLedger

    url = url or database_url()
    env = library_env(url)
    key = cipher_key or os.environ.get(ENV_CIPHER_KEY)
    if key:
        env |= cipher_env(key)
    if not create:
        return _open_existing(url, env)
    with ddl_lock(env):
        return GrantLedger(env=env)
