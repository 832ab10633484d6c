"""Bearer tokens and idempotency keys: the service's own small tables, beside the read models
(the web app's users and sessions are created with them: api.accounts).

A token is shown once, when created; only its SHA-256 is stored (tokens are 256 random bits,
so a fast hash is enough: there is nothing to brute-force). The actor of every command comes
from the token. A token may have a last day (it works through the end of that day, UTC);
an expired token is refused saying so. When a token was last used is recorded off the
request's path (``LastUse``), at most once a minute per token. Idempotency keys remember the
first response to a POST per user and key, so a retried request returns it again and records
nothing; they survive restarts.

The tables are created on first use; columns added since (a token's expiry and last use) are
added to a table made by an earlier release when the service starts.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from api.accounts import Accounts, account_metadata
from api.last_use import LastUse
from ledger.actors import Actor, Role
from ledger.errors import InvalidInput, NotFound
from ledger.text import clean_text
from projections.columns import UtcDateTime
from projections.db import ReadDatabase
from projections.tables import tracking

TOKEN_PREFIX = "glt_"  # noqa: S105 - a marker, not a secret
_DDL_LOCK_KEY = 0x4150495442  # 'APITB': serialises creating and altering the service tables

service_metadata = MetaData()

tokens = Table(
    "api_tokens",
    service_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("partner", String(40)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    # Added after the first release (ServiceStore adds them to an older table):
    Column("expires_at", UtcDateTime),  # the first instant it no longer works (a midnight, UTC)
    Column("last_used_at", UtcDateTime),
)
#: Columns added after the table was first released, in the order they were added.
ADDED_COLUMNS = (tokens.c.expires_at, tokens.c.last_used_at)

idempotency = Table(
    "api_idempotency",
    service_metadata,
    Column("actor_id", String(120), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


#: What checking a token reads: who it stands for, until when, and when its use was last written.
_CHECKED = (
    tokens.c.id,
    tokens.c.name,
    tokens.c.role,
    tokens.c.partner,
    tokens.c.expires_at,
    tokens.c.last_used_at,
)
#: Built once, with only what checking a token needs: every request checks one, and building
#: the statement anew each time cost more than running it.
_ACTOR_BY_HASH = select(*_CHECKED).where(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked_at.is_(None))
#: The read models' position, with the token's row if it is known and not revoked (else nulls).
_POSITION_AND_ACTOR = (
    select(tracking.c.position, *_CHECKED)
    .select_from(
        tracking.outerjoin(tokens, and_(tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked_at.is_(None)))
    )
    .where(tracking.c.name == "read_models")
)


def _column_length(name: str) -> int:
    """The longest text the api_tokens column ``name`` holds (a longer one fails on PostgreSQL)."""
    column_type = tokens.c[name].type
    if not isinstance(column_type, String) or column_type.length is None:
        raise TypeError(f"api_tokens.{name} is not a text column of bounded length")
    return column_type.length


def _digest(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _last_day(expires_at: datetime) -> date:
    """The last day a token works, from the first instant it does not (a midnight, UTC)."""
    return (expires_at - timedelta(microseconds=1)).date()


class TokenExpired(Exception):
    """A token past its last day (answered 401, saying when and how to get a new one)."""

    def __init__(self, name: str, last_day: date) -> None:
        super().__init__(f"the token of {name!r} expired at the end of {last_day} (UTC)")
        self.name = name
        self.last_day = last_day

    @property
    def detail(self) -> str:
        return (
            f"this token (of {self.name}) expired at the end of {self.last_day} (UTC); ask whoever runs "
            f"the service for a new one: `grantledger token create --name {self.name} --role ...`"
        )


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: str
    partner: str | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def last_day(self) -> date | None:
        """The last day the token works (through its end, UTC), or None if it never expires."""
        return None if self.expires_at is None else _last_day(self.expires_at)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def active(self, now: datetime) -> bool:
        """Neither revoked nor expired: it authenticates."""
        return self.revoked_at is None and not self.expired(now)


class ServiceStore:
    """Tokens and idempotency records in the read database (created on first use).

    ``clock`` tells the time (UTC); tests move it to expire tokens and to space out their uses."""

    def __init__(self, db: ReadDatabase, *, clock: Callable[[], datetime] = _now) -> None:
        self.db = db
        self.clock = clock
        with db.writing() as conn:
            if not db.is_sqlite:  # processes starting together: one creates, the others wait and see it
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK_KEY})
            service_metadata.create_all(conn)
            account_metadata.create_all(conn)
            _add_missing_columns(conn, db.schema)
        self.last_use = LastUse(db, tokens)
        self.accounts = Accounts(db, lambda: self.clock())  # web users and sessions (api.accounts)

    def close(self) -> None:
        """Write down the last uses still pending and stop their writer."""
        self.last_use.close()

    # --- tokens ---------------------------------------------------------------------------
    def create_token(self, *, name: str, role: str, partner: str | None = None, expires_on: date | None = None) -> str:
        """Create a token for a named user, working through the end of ``expires_on`` (UTC) if
        given; return it (the only time it is ever shown). A user with an active token (not
        revoked, not expired) is refused a second one."""
        actor = self._actor(name, role, partner)
        now = self.clock()
        expires_at = None if expires_on is None else self._expiry(expires_on, now)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.writing() as conn:
            active = conn.execute(
                select(tokens.c.id).where(
                    tokens.c.name == actor.id,
                    tokens.c.revoked_at.is_(None),
                    or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > now),
                )
            ).first()
            if active is not None:
                raise InvalidInput(
                    f"{name!r} has an active token already; revoke it first (`grantledger token revoke "
                    f"--name {name}`) or choose another name"
                )
            conn.execute(
                insert(tokens).values(
                    name=actor.id,
                    role=actor.role,
                    partner=actor.partner,
                    token_hash=_digest(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return token

    @staticmethod
    def _expiry(last_day: date, now: datetime) -> datetime:
        today = now.astimezone(UTC).date()
        if last_day < today:
            raise InvalidInput(
                f"the expiry date {last_day} is in the past (today is {today}, UTC); give today or a later "
                "date, or a number of days, e.g. --expires 90d"
            )
        if last_day >= date.max:
            raise InvalidInput(f"the expiry date {last_day} is too far ahead; give an earlier date, e.g. 2030-12-31")
        return datetime.combine(last_day + timedelta(days=1), time(0), UTC)

    @staticmethod
    def _actor(name: str, role: str, partner: str | None) -> Actor:
        try:
            kind = Role(role)
        except ValueError:
            raise InvalidInput(f"role must be officer, coordinator or auditor, not {role!r}") from None
        if kind is Role.OFFICER and not partner:
            raise InvalidInput("an officer token needs --partner: officers act for one partner")
        if kind is Role.AUDITOR and partner:
            raise InvalidInput("an auditor token has no partner")
        name = clean_text(name, "the token's name", max_length=_column_length("name"))
        if partner is not None:
            partner = clean_text(partner, "the token's partner", max_length=_column_length("partner"))
        return Actor(name, kind.value, partner)

    def list_tokens(self) -> list[TokenInfo]:
        with self.db.reading() as conn:
            rows = conn.execute(select(tokens).order_by(tokens.c.id)).all()
        return [
            TokenInfo(r.id, r.name, r.role, r.partner, r.created_at, r.revoked_at, r.expires_at, r.last_used_at)
            for r in rows
        ]

    def revoke_token(self, name: str) -> None:
        with self.db.writing() as conn:
            done = conn.execute(
                update(tokens)
                .where(tokens.c.name == name, tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        if done.rowcount == 0:
            raise NotFound(f"no active token named {name!r}; `grantledger token list` shows them")

    def actor_for(self, token: str, conn: Connection | None = None) -> Actor | None:
        """The actor a presented token stands for, or None if unknown or revoked (read in
        ``conn``'s transaction if given, else in one of its own); TokenExpired past its last day."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        if conn is None:
            with self.db.reading() as own:
                return self.actor_for(token, own)
        row = conn.execute(_ACTOR_BY_HASH, {"token_hash": _digest(token)}).one_or_none()
        return None if row is None else self._checked(row)

    def position_and_actor(self, token: str, conn: Connection) -> tuple[int, Actor | None]:
        """The read models' position as ``conn``'s transaction sees them, and the actor a token
        stands for (None if unknown or revoked; TokenExpired past its last day), in one statement:
        a hot read needs both (the position keys what it rendered before) and one round trip
        costs half of two."""
        row = conn.execute(_POSITION_AND_ACTOR, {"token_hash": _digest(token)}).one()
        actor = None if row.name is None else self._checked(row)
        return int(row.position), actor

    def _checked(self, row: Any) -> Actor:
        """The actor of a token's row, unless it has expired; its use is noted (in memory: the
        write happens later, in LastUse's own thread and transaction)."""
        now = self.clock()
        if row.expires_at is not None and now >= row.expires_at:
            raise TokenExpired(row.name, _last_day(row.expires_at))
        self.last_use.saw(row.id, row.last_used_at, now)
        return Actor(row.name, row.role, row.partner)

    # --- idempotency ----------------------------------------------------------------------
    @staticmethod
    def request_hash(method: str, path: str, body: bytes) -> str:
        return _digest(method.encode() + b" " + path.encode() + b"\n" + body)

    def recall(self, actor_id: str, key: str) -> Any:
        """The stored first response for this user and key, if any."""
        with self.db.reading() as conn:
            return conn.execute(
                select(idempotency).where(idempotency.c.actor_id == actor_id, idempotency.c.key == key)
            ).one_or_none()

    def remember(self, actor_id: str, key: str, request_hash: str, status: int, body: str) -> None:
        """Keep the first response; a concurrent first writer wins and this one is dropped."""
        try:
            with self.db.writing() as conn:
                conn.execute(
                    insert(idempotency).values(
                        actor_id=actor_id,
                        key=key,
                        request_hash=request_hash,
                        status=status,
                        body=body,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            pass


def _add_missing_columns(conn: Connection, schema: str | None) -> None:
    """Add to an api_tokens table made by an earlier release the columns added since (SQLite
    and PostgreSQL both take ALTER TABLE ... ADD COLUMN for a nullable column)."""
    present = {column["name"] for column in inspect(conn).get_columns(tokens.name, schema=schema)}
    quote = conn.dialect.identifier_preparer.quote
    table = quote(tokens.name) if schema is None else f"{quote(schema)}.{quote(tokens.name)}"
    for column in ADDED_COLUMNS:
        if column.name not in present:
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {quote(column.name)} {kind}")
