"""Shared fixtures: the same application tests run on in-memory, SQLite-file and PostgreSQL stores.

PostgreSQL tests use a freshly created schema per test, dropped afterwards. Without a
server they skip with a clear message, unless GRANTLEDGER_REQUIRE_POSTGRES=1 (set by
.ci/run), where a missing server is an error.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings

from api import accounts
from ledger.application import GrantLedger
from ledger.storage import open_ledger
from projections.db import ReadDatabase, read_url_for
from projections.projector import Projector

PG_URL = os.environ.get("GRANTLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("GRANTLEDGER_REQUIRE_POSTGRES") == "1"

settings.register_profile(
    "ci", max_examples=100, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=15, stateful_step_count=20, deadline=None)
settings.register_profile(
    "long", max_examples=500, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.split("?")[0], connect_timeout=3):
            return True
    except Exception:  # any failure to connect means: no server here
        return False


def require_postgres() -> None:
    """Skip (or, in CI, fail) when no PostgreSQL server answers."""
    if postgres_available():
        return
    message = f"PostgreSQL is not reachable at {PG_URL}; start it or set GRANTLEDGER_TEST_POSTGRES"
    if REQUIRE_PG:
        pytest.fail(f"GRANTLEDGER_REQUIRE_POSTGRES=1 but {message}")
    pytest.skip(message)


class PostgresSchema:
    """A throwaway schema in the test database, dropped on close."""

    def __init__(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.url = f"{PG_URL}?schema={self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


@pytest.fixture
def pg_schema() -> Iterator[PostgresSchema]:
    require_postgres()
    schema = PostgresSchema()
    try:
        yield schema
    finally:
        schema.drop()


STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Parametrises a test over the three stores."""
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        require_postgres()
        schema = PostgresSchema()
        try:
            yield schema.url
        finally:
            schema.drop()


@pytest.fixture
def app(any_store_url: str) -> Iterator[GrantLedger]:
    """The real application on each store, closed afterwards."""
    ledger = open_ledger(any_store_url)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def memory_app() -> Iterator[GrantLedger]:
    ledger = open_ledger("memory://")
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def read_db(any_store_url: str) -> Iterator[ReadDatabase]:
    """The read models beside each store: in-memory SQLite, a SQLite file of their own, or
    the PostgreSQL test schema."""
    db = ReadDatabase(read_url_for(any_store_url, environ={}))
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def projector(app: GrantLedger, read_db: ReadDatabase) -> Projector:
    """The projector feeding ``read_db`` from ``app`` (tests call catch_up themselves)."""
    return Projector(app, read_db)


#: What the library recommends and the product uses (api.accounts); tests/api/test_accounts.py checks it.
PRODUCT_HASHER = accounts._hasher()
#: argon2id at its lowest cost: tests create and sign in many users, each hash taking 0.3 s at the product's.
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """Tests hash and check passwords with argon2id at its lowest cost; the product keeps the
    library's recommended parameters (checked by tests/api/test_accounts.py on PRODUCT_HASHER).
    A hash records its own parameters, so both kinds verify alike."""
    from unittest.mock import patch

    with patch.object(accounts, "_hasher", lambda: QUICK_HASHER):
        yield
