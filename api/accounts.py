"""People who sign in to the web app: users with argon2id password hashes, their sessions, and
the count of failed sign-ins that slows a guesser down. Tables in the service store, beside the
API tokens (api.security creates them with its own).

- A password is at least 12 characters; only its argon2id hash is kept (argon2-cffi's
  defaults, rehashed on sign-in when those change).
- A session id is 256 random bits, shown once, to the browser, in a cookie; only its SHA-256
  is stored (as for tokens: nothing to brute-force). It ends after ``idle`` without a request,
  after ``absolute`` in all, at sign-out, and when its user is disabled. Its CSRF token is an
  HMAC of the session id: bound to the session, never stored, unknown to anyone without it.
- Failed sign-ins are counted per user name (known or not, so a locked name tells nothing)
  and per client address. Past a few, each key must wait before its next try, twice as long
  after each further failure (at most 15 minutes); an hour without failures forgets them.
  Unknown user and wrong password give the same refusal, in about the same time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, delete, insert, select, update

from ledger.actors import Actor, Role
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.text import clean_text
from projections.columns import UtcDateTime
from projections.db import ReadDatabase

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing a megabyte on every guess would be a cheap way to load the server
#: Failures each key may have before it must wait, and how long the first wait is.
FREE_FAILURES = {"user": 5, "address": 20}
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)
#: A session's last request is written at most this often (so the idle timeout is this exact).
SEEN_EVERY = timedelta(seconds=60)
WRONG = "the user name or the password is not right; check both and try again"

account_metadata = MetaData()

users = Table(
    "web_users",
    account_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("partner", String(40)),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
)

sessions = Table(
    "web_sessions",
    account_metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
)

failures = Table(
    "web_sign_in_failures",
    account_metadata,
    Column("key", String(200), primary_key=True),  # "user:<name>" or "address:<ip>"
    Column("failed", Integer, nullable=False),  # failures in a row
    Column("last_at", UtcDateTime, nullable=False),
)


class SignInRefused(LedgerError):
    """A sign-in that did not succeed (the message says why, never which of name or password)."""

    title = "Not signed in"


class SignInThrottled(SignInRefused):
    title = "Too many failed sign-ins"

    def __init__(self, wait: timedelta) -> None:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        super().__init__(
            f"too many failed sign-ins with this user name or from this address: wait {seconds} seconds, "
            "then try again (each further failure doubles the wait, up to 15 minutes)"
        )
        self.seconds = seconds


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: str
    partner: str | None
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: who, the CSRF token of its forms, and until when it lasts."""

    actor: Actor
    csrf: str
    ends_at: datetime


class SessionEnded(Exception):
    """A session cookie whose session timed out (said why on the sign-in page)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The CSRF token of a session's forms: an HMAC of its (secret) id."""
    return hmac.new(session_id.encode(), b"grantledger csrf", hashlib.sha256).hexdigest()


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's recommended parameters


@cache
def _decoy() -> str:
    """A hash to verify against for an unknown user, so it takes as long as a known one."""
    return _hasher().hash(secrets.token_urlsafe(16))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password has {len(password)} characters; give at least {MIN_PASSWORD}")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password has {len(password)} characters; give at most {MAX_PASSWORD}")
    return password


class Accounts:
    """Users, sessions and sign-in failures (the tables exist: ServiceStore creates them)."""

    def __init__(self, db: ReadDatabase, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    # --- users ------------------------------------------------------------------------------
    def create_user(self, *, name: str, role: str, partner: str | None, password: str) -> None:
        actor = _actor(name, role, partner)
        digest = _hasher().hash(check_password(password))
        with self.db.writing() as conn:
            if conn.execute(select(users.c.id).where(users.c.name == actor.id)).first() is not None:
                raise InvalidInput(f"a user named {actor.id!r} exists already; choose another name")
            conn.execute(
                insert(users).values(
                    name=actor.id, role=actor.role, partner=actor.partner, password_hash=digest, created_at=self.clock()
                )
            )

    def list_users(self) -> list[UserInfo]:
        with self.db.reading() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [UserInfo(r.name, r.role, r.partner, r.created_at, r.disabled_at) for r in rows]

    def disable_user(self, name: str) -> None:
        """Disable a user and end their sessions at once."""
        with self.db.writing() as conn:
            found = conn.execute(select(users.c.id).where(users.c.name == name, users.c.disabled_at.is_(None))).first()
            if found is None:
                raise NotFound(f"no enabled user named {name!r}; `grantledger user list` shows them")
            conn.execute(update(users).where(users.c.id == found.id).values(disabled_at=self.clock()))
            conn.execute(delete(sessions).where(sessions.c.user_id == found.id))

    # --- signing in and out -------------------------------------------------------------------
    def sign_in(self, name: str, password: str, address: str) -> str:
        """A new session id for this user and password (SignInRefused, or SignInThrottled while
        this name or address must wait). The id is shown only now: only its hash is kept."""
        now = self.clock()
        keys = (("user", f"user:{name.strip().casefold()}"[:200]), ("address", f"address:{address}"[:200]))
        with self.db.reading() as conn:
            for kind, key in keys:
                wait = _wait(conn, key, FREE_FAILURES[kind], now)
                if wait is not None:
                    raise SignInThrottled(wait)
            row = conn.execute(select(users).where(users.c.name == name.strip())).one_or_none()
        if not _verified(None if row is None else row.password_hash, password):
            self._failed(keys, now)
            raise SignInRefused(WRONG)
        assert row is not None  # noqa: S101 - _verified is False without a hash
        if row.disabled_at is not None:
            raise SignInRefused(f"the user {row.name!r} is disabled; ask whoever runs the service to enable a new one")
        session_id = secrets.token_urlsafe(32)
        with self.db.writing() as conn:
            conn.execute(delete(failures).where(failures.c.key == keys[0][1]))
            if _hasher().check_needs_rehash(row.password_hash):
                conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher().hash(password)))
            conn.execute(
                insert(sessions).values(session_hash=_digest(session_id), user_id=row.id, created_at=now, seen_at=now)
            )
        return session_id

    def _failed(self, keys: tuple[tuple[str, str], ...], now: datetime) -> None:
        with self.db.writing() as conn:
            for _, key in keys:
                row = conn.execute(select(failures).where(failures.c.key == key)).one_or_none()
                if row is None:
                    conn.execute(insert(failures).values(key=key, failed=1, last_at=now))
                else:
                    failed = 1 if now - row.last_at > FORGET_AFTER else row.failed + 1
                    conn.execute(update(failures).where(failures.c.key == key).values(failed=failed, last_at=now))

    def session(self, session_id: str, *, idle: timedelta, absolute: timedelta) -> WebSession | None:
        """The session of this id (None if unknown or signed out; SessionEnded when it timed
        out, and it is deleted). Its last request is noted, at most once a minute."""
        now = self.clock()
        digest = _digest(session_id)
        with self.db.reading() as conn:
            row = conn.execute(
                select(sessions, users.c.name, users.c.role, users.c.partner)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.session_hash == digest, users.c.disabled_at.is_(None))
            ).one_or_none()
        if row is None:
            return None
        why = None
        if now >= row.created_at + absolute:
            why = f"you were signed in for {_hours(absolute)}, the longest a session lasts"
        elif now >= row.seen_at + idle:
            why = f"nothing was done for {_hours(idle)}"
        if why is not None:
            self.sign_out(session_id)
            raise SessionEnded(why)
        if now - row.seen_at >= SEEN_EVERY:
            with self.db.writing() as conn:
                conn.execute(update(sessions).where(sessions.c.session_hash == digest).values(seen_at=now))
        ends_at = min(row.created_at + absolute, max(row.seen_at, now) + idle)
        return WebSession(Actor(row.name, row.role, row.partner), csrf_token(session_id), ends_at)

    def sign_out(self, session_id: str) -> None:
        with self.db.writing() as conn:
            conn.execute(delete(sessions).where(sessions.c.session_hash == _digest(session_id)))


def _hours(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def _wait(conn: Connection, key: str, free: int, now: datetime) -> timedelta | None:
    """How long ``key`` must still wait before its next try (None: it may try now)."""
    row = conn.execute(select(failures).where(failures.c.key == key)).one_or_none()
    if row is None or row.failed < free or now - row.last_at > FORGET_AFTER:
        return None
    wait = min(FIRST_WAIT * 2 ** min(row.failed - free, 10), LONGEST_WAIT)
    until = row.last_at + wait
    return until - now if now < until else None


def _verified(digest: str | None, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher().verify(digest or _decoy(), password) and digest is not None
    except (VerificationError, InvalidHashError):
        return False


def _actor(name: str, role: str, partner: str | None) -> Actor:
    try:
        kind = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be officer, coordinator or auditor, not {role!r}") from None
    if kind is Role.OFFICER and not partner:
        raise InvalidInput("an officer needs --partner: officers act for one partner")
    if kind is Role.AUDITOR and partner:
        raise InvalidInput("an auditor has no partner")
    name = clean_text(name, "the user's name", max_length=120)
    if partner is not None:
        partner = clean_text(partner, "the user's partner", max_length=40)
    return Actor(name, kind.value, partner)
