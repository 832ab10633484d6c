"""The web app's users, sessions and sign-in failures in the service store, on every store the
read models may live in (in-memory SQLite, a SQLite file, PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import Type
from sqlalchemy import select

from api.accounts import SessionEnded, SignInRefused, SignInThrottled, csrf_token, sessions
from api.security import ServiceStore
from ledger.actors import Actor
from ledger.errors import InvalidInput
from projections.db import ReadDatabase
from tests.conftest import PRODUCT_HASHER

PASSWORD = "twelve chars or more"  # noqa: S105 - the test's own
IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(read_db: ReadDatabase, clock: Clock) -> Iterator[ServiceStore]:
    service = ServiceStore(read_db, clock=clock)
    try:
        yield service
    finally:
        service.close()


class TestAccounts:
    def test_the_product_hashes_passwords_with_argon2id_at_the_recommended_cost(self) -> None:
        """Tests hash at the lowest cost to run fast (tests/conftest.py); the product's hasher is
        argon2id with at least RFC 9106's low-memory parameters (3 passes over 64 MiB)."""
        assert PRODUCT_HASHER.type is Type.ID
        assert PRODUCT_HASHER.time_cost >= 3
        assert PRODUCT_HASHER.memory_cost >= 64 * 1024
        assert PRODUCT_HASHER.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3")

    def test_a_session_is_stored_hashed_and_stands_for_its_user(self, store: ServiceStore) -> None:
        accounts = store.accounts
        accounts.create_user(name="olga.ntt", role="officer", partner="NTT", password=PASSWORD)
        session_id = accounts.sign_in("olga.ntt", PASSWORD, "10.0.0.1")
        assert len(session_id) >= 43, "256 random bits"
        with store.db.reading() as conn:
            stored = list(conn.execute(select(sessions.c.session_hash)).scalars())
        assert stored == [hashlib.sha256(session_id.encode()).hexdigest()]
        session = accounts.session(session_id, idle=IDLE, absolute=ABSOLUTE)
        assert session is not None
        assert session.actor == Actor.officer("olga.ntt", "NTT")
        assert session.csrf == csrf_token(session_id)
        assert session.csrf != csrf_token(accounts.sign_in("olga.ntt", PASSWORD, "10.0.0.1"))
        assert accounts.session("not-a-session", idle=IDLE, absolute=ABSOLUTE) is None

    def test_timeouts_end_a_session_and_say_why(self, store: ServiceStore, clock: Clock) -> None:
        accounts = store.accounts
        accounts.create_user(name="ada", role="auditor", partner=None, password=PASSWORD)
        session_id = accounts.sign_in("ada", PASSWORD, "10.0.0.1")
        clock.now += IDLE
        with pytest.raises(SessionEnded, match="nothing was done for 30 minutes"):
            accounts.session(session_id, idle=IDLE, absolute=ABSOLUTE)
        assert accounts.session(session_id, idle=IDLE, absolute=ABSOLUTE) is None, "and it is deleted"
        session_id = accounts.sign_in("ada", PASSWORD, "10.0.0.1")
        clock.now += ABSOLUTE
        with pytest.raises(SessionEnded, match="signed in for 12 hours, the longest a session lasts"):
            accounts.session(session_id, idle=ABSOLUTE * 2, absolute=ABSOLUTE)

    def test_failures_are_counted_per_name_and_forgotten_after_an_hour(self, store: ServiceStore, clock: Clock) -> None:
        accounts = store.accounts
        accounts.create_user(name="ada", role="auditor", partner=None, password=PASSWORD)
        for _ in range(5):
            with pytest.raises(SignInRefused):
                accounts.sign_in("ADA ", "wrong password!", "10.0.0.1")
        with pytest.raises(SignInThrottled) as throttled:
            accounts.sign_in("ada", PASSWORD, "10.0.0.2")
        assert throttled.value.seconds == 30, "the name waits, from any address, in any case"
        clock.now += timedelta(hours=1, seconds=1)
        assert accounts.sign_in("ada", PASSWORD, "10.0.0.2")

    def test_users_that_make_no_sense_are_refused(self, store: ServiceStore) -> None:
        accounts = store.accounts
        with pytest.raises(InvalidInput, match="give at least 12"):
            accounts.create_user(name="ada", role="auditor", partner=None, password=PASSWORD[:5])
        with pytest.raises(InvalidInput, match="role must be officer, coordinator or auditor"):
            accounts.create_user(name="ada", role="admin", partner=None, password=PASSWORD)
        with pytest.raises(InvalidInput, match="the user's name"):
            accounts.create_user(name="ada\u200b", role="auditor", partner=None, password=PASSWORD)
        assert accounts.list_users() == []
