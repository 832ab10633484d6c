"""API tokens that expire, that say when they were last used, and that survive an upgrade of
the table they live in (on every read database: in-memory SQLite, a SQLite file, PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, event, insert, inspect

from api.main import PREFIX
from api.security import ServiceStore, TokenExpired
from ledger.errors import InvalidInput
from projections.columns import UtcDateTime
from projections.db import ReadDatabase
from tests.api.conftest import bearer

NOON = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)
RATE = {"currency": "USD", "month": "2023-03", "rate": "1.0987"}


class Clock:
    """A clock the test moves (the store asks it the time)."""

    def __init__(self, now: datetime = NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(read_db: ReadDatabase, clock: Clock) -> Iterator[ServiceStore]:
    store = ServiceStore(read_db, clock=clock)
    try:
        yield store
    finally:
        store.close()


def token_updates(db: ReadDatabase) -> list[Any]:
    """Every UPDATE of api_tokens from now on, as (connection, statement) pairs."""
    seen: list[Any] = []

    @event.listens_for(db.engine.engine, "before_cursor_execute")
    def _count(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and "api_tokens" in statement:
            seen.append((conn, statement))

    return seen


class TestExpiry:
    def test_a_token_works_through_its_last_day_and_no_longer(self, service: ServiceStore, clock: Clock) -> None:
        """Expiring on 2027-06-30 means it works until 23:59:59 that day (UTC), and from
        midnight on it is refused with TokenExpired naming the user and the last day."""
        token = service.create_token(name="eve", role="auditor", expires_on=date(2027, 6, 30))
        clock.now = datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)
        assert service.actor_for(token) is not None
        clock.now = datetime(2027, 7, 1, tzinfo=UTC)
        with pytest.raises(TokenExpired) as expired:
            service.actor_for(token)
        assert (expired.value.name, expired.value.last_day) == ("eve", date(2027, 6, 30))
        assert "expired at the end of 2027-06-30 (UTC)" in expired.value.detail
        assert "grantledger token create --name eve" in expired.value.detail
        (info,) = service.list_tokens()
        assert (info.last_day, info.expired(clock.now), info.active(clock.now)) == (date(2027, 6, 30), True, False)

    def test_a_past_date_is_refused_saying_what_today_is(self, service: ServiceStore) -> None:
        """Yesterday is refused, naming today (UTC); nothing is created. Today itself is fine."""
        with pytest.raises(InvalidInput, match=r"2027-06-29 is in the past \(today is 2027-06-30, UTC\)"):
            service.create_token(name="eve", role="auditor", expires_on=date(2027, 6, 29))
        assert service.list_tokens() == []
        service.create_token(name="eve", role="auditor", expires_on=date(2027, 6, 30))

    def test_an_expired_token_may_be_replaced_without_revoking_it(self, service: ServiceStore, clock: Clock) -> None:
        """An expired token no longer counts as active: its user may be given a new one at once
        (an unexpired one is still refused a second)."""
        old = service.create_token(name="eve", role="auditor", expires_on=date(2027, 6, 30))
        with pytest.raises(InvalidInput, match="active token already"):
            service.create_token(name="eve", role="auditor")
        clock.now = datetime(2027, 7, 1, 8, tzinfo=UTC)
        new = service.create_token(name="eve", role="auditor")
        assert service.actor_for(new) is not None
        with pytest.raises(TokenExpired):
            service.actor_for(old)


class TestLastUse:
    def test_a_use_is_written_at_most_once_a_minute_and_outside_the_read(
        self, service: ServiceStore, read_db: ReadDatabase, clock: Clock
    ) -> None:
        """Three checks in one minute write one UPDATE, in a transaction of its own (not the
        read's connection); a check a minute later writes the new time."""
        token = service.create_token(name="eve", role="auditor")
        assert service.list_tokens()[0].last_used_at is None
        updates = token_updates(read_db)
        with read_db.reading() as conn:
            for seconds in (0, 20, 59):
                clock.now = NOON + timedelta(seconds=seconds)
                service.position_and_actor(token, conn)
            read = conn
        service.last_use.flush()
        assert len(updates) == 1
        assert updates[0][0] is not read
        assert service.list_tokens()[0].last_used_at == NOON
        clock.now = NOON + timedelta(minutes=1, seconds=1)
        assert service.actor_for(token) is not None
        service.last_use.flush()
        assert len(updates) == 2
        assert service.list_tokens()[0].last_used_at == clock.now

    def test_a_restarted_process_goes_by_the_stored_time(
        self, service: ServiceStore, read_db: ReadDatabase, clock: Clock
    ) -> None:
        """A new store (a restart, another worker) sees the stored last use and writes nothing
        for a use within the minute after it."""
        token = service.create_token(name="eve", role="auditor")
        service.actor_for(token)
        service.last_use.flush()
        other = ServiceStore(read_db, clock=Clock(NOON + timedelta(seconds=30)))
        try:
            updates = token_updates(read_db)
            assert other.actor_for(token) is not None
            other.last_use.flush()
            assert updates == []
        finally:
            other.close()


LEGACY = MetaData()
#: api_tokens as the first release made it (before expiry and last use).
LEGACY_TOKENS = Table(
    "api_tokens",
    LEGACY,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("partner", String(40)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)


class TestUpgrade:
    def test_a_table_from_the_first_release_gains_the_new_columns(self, read_db: ReadDatabase) -> None:
        """The service starts on a read database whose api_tokens lacks expires_at and
        last_used_at: they are added (once; a second start changes nothing), and the tokens
        already issued keep working, never expiring, never used yet."""
        token = "glt_issued-by-the-first-release"  # noqa: S105 - a test token
        with read_db.writing() as conn:
            LEGACY.create_all(conn)
            conn.execute(
                insert(LEGACY_TOKENS).values(
                    name="arthur",
                    role="auditor",
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    created_at=NOON,
                )
            )
        for _start in range(2):
            store = ServiceStore(read_db, clock=Clock())
            try:
                actor = store.actor_for(token)
                assert actor is not None
                assert actor.id == "arthur"
                (info,) = store.list_tokens()
                assert (info.expires_at, info.last_day) == (None, None)
            finally:
                store.close()
        with read_db.reading() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("api_tokens", schema=read_db.schema)}
        assert {"expires_at", "last_used_at"} <= columns


class TestOverHttp:
    """The bearer token of every kind of route: a hot read (Reader), a read (ReadDep), a write."""

    @pytest.fixture
    def eve(self, store: ServiceStore) -> str:
        return store.create_token(
            name="eve", role="coordinator", partner="TECHTERA", expires_on=datetime.now(UTC).date()
        )

    @pytest.mark.parametrize(("method", "path"), [("GET", "/budget"), ("GET", "/claims"), ("POST", "/exchange-rates")])
    def test_an_expired_token_is_401_saying_when_and_what_to_do(
        self, client: TestClient, store: ServiceStore, eve: str, method: str, path: str
    ) -> None:
        """401 "Token expired" with a Bearer challenge, the last day and the command that makes
        a new token."""
        last_day = datetime.now(UTC).date()
        store.clock = lambda: datetime.now(UTC) + timedelta(days=1, hours=1)
        response = client.request(method, PREFIX + path, headers=bearer(eve), json=RATE)
        assert response.status_code == 401, response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
        details = response.json()
        assert details["title"] == "Token expired"
        assert f"expired at the end of {last_day} (UTC)" in details["detail"]
        assert "grantledger token create --name eve" in details["detail"]

    def test_a_request_records_the_last_use(self, client: TestClient, store: ServiceStore, eve: str) -> None:
        """After a read with eve's token, token list has her last use; the others' stay unused."""
        store.create_token(name="arthur", role="auditor")
        before = datetime.now(UTC)
        client.get(PREFIX + "/claims", headers=bearer(eve))
        store.last_use.flush()
        used = {info.name: info.last_used_at for info in store.list_tokens()}
        assert used["arthur"] is None
        assert used["eve"] is not None
        assert used["eve"] >= before - timedelta(seconds=1)
