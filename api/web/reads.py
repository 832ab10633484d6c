"""What every page reads with: one read transaction over the read models, and today's date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import Connection

from api.context import LedgerContext


@contextmanager
def books(request: Request) -> Iterator[Connection]:
    """One read transaction over the read models, for one page (a consistent view)."""
    context: LedgerContext = request.app.state.context
    with context.read_db.reading() as conn:
        yield conn


def today() -> datetime:
    return datetime.now(UTC)
