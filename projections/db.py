"""Where the read models live, and how writers and readers share it.

The read models have their own database, named by ``GRANTLEDGER_READ_DATABASE_URL`` or, by
default, derived from the event store's URL:
- ``sqlite:///grantledger.db`` -> ``sqlite:///grantledger-read.db``: a file of its own, so the
  projector never waits for the event store's single write lock (nor it for the projector);
- ``postgresql://...?schema=S`` -> the same database and schema, tables prefixed ``rm_``;
- ``memory://`` -> an in-memory SQLite database.

Engines hide SQL parameters from their error messages (hide_parameters): a failed statement
may be logged, the names, references and amounts it carried may not.

A writer (the projector) takes the write lock before it reads its tracking position: BEGIN
IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL. Two projectors therefore never apply
the same events, whichever processes they run in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from ledger.errors import InvalidInput, NotFound
from ledger.storage import database_url, pool_size_of, shown_url, url_port
from projections import layouts, search, tables

log = logging.getLogger(__name__)

ENV_READ_URL = "GRANTLEDGER_READ_DATABASE_URL"
#: The rm_tracking row that holds the layout (``tables.LAYOUT``) the read models were built with.
LAYOUT_ROW = "layout"
#: The layout of read models built before the layout was recorded.
FIRST_LAYOUT = 1
#: Seconds a writer waits for another one to finish its batch before giving up.
LOCK_TIMEOUT_SECONDS = 30
_DDL_LOCK_KEY = 0x524541444D  # 'READM': serialises creating the read-model tables


class NoReadModels(NotFound):
    """The read URL names no read models: no file, no schema or no read-model tables there
    (nothing was created)."""

    title = "No read models"


class OtherLayout(NotFound):
    """The read models were built by another release of grantledger, with other tables."""

    title = "Read models of another release"


def read_url_for(event_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The read models' URL: configured, or derived from the event store's URL."""
    env = os.environ if environ is None else environ
    if env.get(ENV_READ_URL):
        return env[ENV_READ_URL]
    url = event_url or database_url(env)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"memory", "popo"}:
        return "sqlite://"
    if scheme == "sqlite":
        path = Path(unquote(parts.path[1:]))
        return "sqlite:///" + str(path.with_name(f"{path.stem}-read{path.suffix or '.db'}"))
    return url


#: Connections a PostgreSQL pool may open beyond its pool_size under load (the event store's too).
GROWTH = 8


def _engine_for(url: str, *, connect_timeout: int | None = None) -> tuple[Engine, str | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc:
            raise InvalidInput(f"{shown_url(url)!r}: write sqlite:///relative.db or sqlite:////absolute/path.db")
        path = unquote(parts.path[1:])
        if not path:
            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}, hide_parameters=True
            )
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                URL.create("sqlite", database=path),
                connect_args={"timeout": LOCK_TIMEOUT_SECONDS},
                hide_parameters=True,
            )
        _serialise_sqlite_writers(engine, file_backed=bool(path))
        return engine, None
    if scheme in {"postgresql", "postgres"}:
        query = parse_qs(parts.query)
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise InvalidInput(f"{shown_url(url)!r}: write postgresql://user@host:port/dbname")
        pg_url = URL.create(
            "postgresql+psycopg",
            username=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=url_port(url) or 5432,
            database=dbname,
        )
        # As the event store's pool: pool_size connections, growing by up to GROWTH under load. The
        # grown ones are kept (no overflow): SQLAlchemy closes an overflow connection as soon as it
        # is returned, and under load a new server process per request cost PostgreSQL more CPU
        # than the request's own queries (one connection a request at 16 connections).
        engine = create_engine(
            pg_url,
            pool_size=pool_size_of(url) + GROWTH,
            max_overflow=0,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={"connect_timeout": connect_timeout} if connect_timeout else {},
        )
        return engine, query.get("schema", [None])[0]
    raise InvalidInput(
        f"read database URL {shown_url(url)!r} is not understood; use sqlite:///file.db, "
        "postgresql://user@host:port/db or sqlite:// (in memory)"
    )


def _serialise_sqlite_writers(engine: Engine, *, file_backed: bool) -> None:
    """Let SQLAlchemy, not pysqlite, open transactions, so a writer can BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if file_backed:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("write_lock", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_path(url: str) -> str | None:
    """The file a sqlite:/// URL names (None for another scheme or an in-memory database)."""
    parts = urlsplit(url)
    return unquote(parts.path[1:]) or None if parts.scheme.lower() == "sqlite" else None


#: What a server accepts from ordinary users: max_connections less the slots kept for superusers
#: and, from PostgreSQL 16, for roles with pg_use_reserved_connections (NULL before 16: none).
_USER_CONNECTIONS = text(
    "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
    " - coalesce(current_setting('reserved_connections', true)::int, 0)"
)


def server_connection_limit(url: str, *, connect_timeout: int = 5) -> int:
    """How many connections the PostgreSQL server behind ``url`` (an event store's or read
    models' URL) accepts from users other than superusers (OperationalError if it does not
    answer within ``connect_timeout`` seconds)."""
    engine, _schema = _engine_for(url, connect_timeout=connect_timeout)
    try:
        with engine.connect() as conn:
            return int(conn.execute(_USER_CONNECTIONS).scalar_one())
    finally:
        engine.dispose()


def _older(where: str, built: int, then: str) -> OtherLayout:
    """Read models an older release built, refused by a read-only opener: `grantledger project` will ``then``."""
    return OtherLayout(
        f"the read models at {where} were built by an older release of grantledger (layout {built}; "
        f"this one needs layout {tables.LAYOUT}): run `grantledger project` to {then}"
    )


class ReadDatabase:
    """The read models' database: its engine, its tables, and transactions to read or write.

    The tables are created if need be, unless ``create`` is False: then a URL that holds no
    read models (no SQLite file, no schema, no tracking table) is refused with NoReadModels
    before anything is made, so that a read-only command never checks an empty read store
    (a new one would seal the whole history from scratch, or hold no seal at all).

    Read models built with an older layout (``tables.LAYOUT``) are upgraded in place by a writer
    when the newer layouts only add indexes (projections.layouts); other older ones (another
    release had other tables or columns) are dropped and rebuilt from the events by a writer; a read-only
    opener (``create`` False) refuses them with OtherLayout and changes nothing, and so does
    every opener when a newer release built them (an older one must not undo its tables)."""

    def __init__(self, url: str, *, schema: str | None = None, create: bool = True, hint: str = "") -> None:
        self.url = url
        if not create and urlsplit(url).scheme.lower() == "sqlite":
            path = _sqlite_path(url)
            if path is None:
                raise self._missing("an in-memory read database starts empty in every process", hint)
            if not Path(path).is_file():
                raise self._missing("the file does not exist", hint)
        engine, url_schema = _engine_for(url)
        self.schema = schema or url_schema
        self.engine = engine.execution_options(schema_translate_map={None: self.schema}) if self.schema else engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # An in-memory SQLite database is one connection shared by every thread: take turns.
        self._turns = threading.RLock() if self.is_sqlite and not engine.url.database else contextlib.nullcontext()
        if not create:
            try:
                with self.engine.connect() as conn:
                    found = inspect(conn).has_table(tables.tracking.name, schema=self.schema)
            except BaseException:
                engine.dispose()
                raise
            if not found:
                engine.dispose()
                where = "the file" if self.is_sqlite else f"the schema {self.schema or 'public'!r}"
                raise self._missing(f"{where} holds no read-model tables", hint)
        try:
            self.create(rebuild=create)
        except BaseException:
            engine.dispose()
            raise

    def _missing(self, reason: str, hint: str) -> NoReadModels:
        return NoReadModels(f"no read models at {shown_url(self.url)}: {reason}; {hint or 'run `grantledger project`'}")

    def create(self, *, rebuild: bool = True) -> None:
        """Create the tables and the tracking rows, once, even when processes start together;
        if ``rebuild``, read models of an older layout are upgraded in place when only indexes
        were added (projections.layouts), else dropped and made afresh."""
        with self._turns, self.engine.connect() as conn:
            conn.execution_options(write_lock=True)
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK_KEY})
                    if self.schema:
                        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                tables.metadata.create_all(conn)
                search.create_index(conn, sqlite=self.is_sqlite, schema=self.schema)
                tracked = tables.tracking.c
                known = dict(conn.execute(select(tracked.name, tracked.position)).tuples().all())
                built = known.get(LAYOUT_ROW, FIRST_LAYOUT if "read_models" in known else tables.LAYOUT)
                if built != tables.LAYOUT and layouts.upgradable(int(built)):
                    self._upgrade(conn, int(built), rebuild=rebuild)
                elif built != tables.LAYOUT:
                    self._refuse_or_drop(conn, int(built), rebuild=rebuild)
                    known = {}
                if "read_models" not in known:
                    conn.execute(insert(tables.tracking).values(name="read_models", position=0))
                if LAYOUT_ROW not in known:
                    conn.execute(insert(tables.tracking).values(name=LAYOUT_ROW, position=tables.LAYOUT))

    def _upgrade(self, conn: Connection, built: int, *, rebuild: bool) -> None:
        """Upgrade read models of an older layout in place (projections.layouts): a writer does,
        keeping every row, the position and the seals; a read-only opener refuses and changes nothing."""
        where = shown_url(self.url)
        if not rebuild:
            raise _older(where, built, "upgrade them (in place: nothing is rebuilt)")
        layouts.upgrade(conn, built)
        conn.execute(update(tables.tracking).where(tables.tracking.c.name == LAYOUT_ROW).values(position=tables.LAYOUT))
        log.warning("read models at %s upgraded in place from layout %d to %d", where, built, tables.LAYOUT)

    def _refuse_or_drop(self, conn: Connection, built: int, *, rebuild: bool) -> None:
        where = shown_url(self.url)
        if built > tables.LAYOUT:
            raise OtherLayout(
                f"the read models at {where} were built by a newer release of grantledger (layout {built}; "
                f"this one reads layout {tables.LAYOUT}): upgrade grantledger, or point it at other read models"
            )
        if not rebuild:
            raise _older(where, built, "rebuild them from the events")
        log.warning(
            "read models at %s have layout %d, this release needs %d: dropping them to rebuild from the events",
            where,
            built,
            tables.LAYOUT,
        )
        search.drop_index(conn, sqlite=self.is_sqlite)
        tables.metadata.drop_all(conn)
        tables.metadata.create_all(conn)
        search.create_index(conn, sqlite=self.is_sqlite, schema=self.schema)

    def drop(self) -> None:
        """Drop every read-model table (a rebuild starts from nothing)."""
        with self.engine.begin() as conn:
            search.drop_index(conn, sqlite=self.is_sqlite)
            tables.metadata.drop_all(conn)
            if self.schema and not self.is_sqlite:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction holding the projector's lock, committed on success."""
        with self._turns, self.engine.connect() as conn:
            conn.execution_options(write_lock=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """One read transaction: a consistent view of every read model. On PostgreSQL each
        statement sees the latest commit unless ``snapshot`` (REPEATABLE READ: every statement
        sees the same state, as SQLite's read transactions always do), which exports need."""
        with self._turns, self.engine.connect() as conn:
            if snapshot and not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def position(self) -> int:
        """The last event position applied to the read models."""
        with self.reading() as conn:
            tracked = tables.tracking.c
            return int(conn.execute(select(tracked.position).where(tracked.name == "read_models")).scalar_one())

    def close(self) -> None:
        self.engine.dispose()
