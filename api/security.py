"""Bearer tokens and idempotency keys: the service's own small tables, beside the read models.

A token is shown once, when created; only its SHA-256 is stored (tokens are 256 random bits,
so a fast hash is enough: there is nothing to brute-force). The actor of every command comes
from the token. Idempotency keys remember the first response to a POST per user and key, so
a retried request returns it again and records nothing; they survive restarts.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
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
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ledger.actors import Actor, Role
from ledger.errors import InvalidInput, NotFound
from ledger.text import clean_text
from projections.db import ReadDatabase
from projections.tables import UtcDateTime, tracking

TOKEN_PREFIX = "glt_"  # noqa: S105 - a marker, not a secret

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
)

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


#: Built once, with only what an Actor needs: every request checks a token, and building the
#: statement anew each time cost more than running it.
_ACTOR_BY_HASH = select(tokens.c.name, tokens.c.role, tokens.c.partner).where(
    tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked_at.is_(None)
)
#: The read models' position, with the token's actor if it is known and not revoked (else nulls).
_POSITION_AND_ACTOR = (
    select(tracking.c.position, tokens.c.name, tokens.c.role, tokens.c.partner)
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


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: str
    partner: str | None
    created_at: datetime
    revoked_at: datetime | None


class ServiceStore:
    """Tokens and idempotency records in the read database (created on first use)."""

    def __init__(self, db: ReadDatabase) -> None:
        self.db = db
        with db.writing() as conn:
            service_metadata.create_all(conn)

    # --- tokens ---------------------------------------------------------------------------
    def create_token(self, *, name: str, role: str, partner: str | None = None) -> str:
        """Create a token for a named user; return it (the only time it is ever shown)."""
        actor = self._actor(name, role, partner)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.writing() as conn:
            active = conn.execute(
                select(tokens.c.id).where(tokens.c.name == actor.id, tokens.c.revoked_at.is_(None))
            ).first()
            if active is not None:
                raise InvalidInput(f"{name!r} has an active token already; revoke it first or choose another name")
            conn.execute(
                insert(tokens).values(
                    name=actor.id,
                    role=actor.role,
                    partner=actor.partner,
                    token_hash=_digest(token),
                    created_at=datetime.now(UTC),
                )
            )
        return token

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
        return [TokenInfo(r.id, r.name, r.role, r.partner, r.created_at, r.revoked_at) for r in rows]

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
        ``conn``'s transaction if given, else in one of its own)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        if conn is None:
            with self.db.reading() as own:
                return self.actor_for(token, own)
        row = conn.execute(_ACTOR_BY_HASH, {"token_hash": _digest(token)}).one_or_none()
        return None if row is None else Actor(row.name, row.role, row.partner)

    def position_and_actor(self, token: str, conn: Connection) -> tuple[int, Actor | None]:
        """The read models' position as ``conn``'s transaction sees them, and the actor a token
        stands for (None if unknown or revoked), in one statement: a hot read needs both (the
        position keys what it rendered before) and one round trip costs half of two."""
        row = conn.execute(_POSITION_AND_ACTOR, {"token_hash": _digest(token)}).one()
        actor = None if row.name is None else Actor(row.name, row.role, row.partner)
        return int(row.position), actor

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
