"""Fixtures shared by the read-side tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PostgresSchema, require_postgres
from tests.projections.projecting import Stores, opened


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, or a throwaway PostgreSQL schema (read models in the same schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    require_postgres()
    schema = PostgresSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """The ledger and its read models on SQLite files, or in one throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        with opened(f"sqlite:///{tmp_path / 'ledger.db'}") as pair:
            yield pair
        return
    require_postgres()
    schema = PostgresSchema()
    try:
        with opened(schema.url) as pair:
            yield pair
    finally:
        schema.drop()


@pytest.fixture
def pg_stores(pg_schema: PostgresSchema) -> Iterator[Stores]:
    """The ledger and its read models in one throwaway PostgreSQL schema."""
    with opened(pg_schema.url) as pair:
        yield pair
