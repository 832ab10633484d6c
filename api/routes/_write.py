"""What every write does after the ledger accepted it: wait until the read models show it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from api.context import LedgerContext

T = TypeVar("T")


def then_read(context: LedgerContext, timeout: float, read: Callable[[Connection], T]) -> tuple[int, T]:
    """Read-your-writes: wait for the position this thread's command wrote (or, for a repeated
    command that wrote nothing, the log's head), then read the result from the read models."""
    position = context.app.position_written() or context.app.recorder.max_notification_id() or 0
    context.projector.wait_for(position, timeout=timeout)
    with context.read_db.reading() as conn:
        return position, read(conn)
