"""What every web form's write does: refuse with the 503 page when the read models have
stopped (the projector failed: what is recorded could not be shown), run the one Application
method, then read-your-writes (api/routes/_write.then_read), so that the page the browser is
sent on to shows what was just recorded.

A field a route cannot read (a date, an amount) is a ``FieldRefusal``, shown beside that field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from api.context import LedgerContext
from api.routes._write import then_read
from api.settings import Settings
from api.web.session import WebRefusal

T = TypeVar("T")


class FieldRefusal(Exception):
    """A field the route could not read (a date, an amount): shown beside that field."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def writable(request: Request) -> LedgerContext:
    """The ledger, unless the read models have stopped: then the 503 page, nothing recorded."""
    context: LedgerContext = request.app.state.context
    if context.projector.failure is not None:
        raise WebRefusal(503, "Not recorded", f"nothing was recorded: {context.projector.failure.describe()}")
    return context


def write(request: Request, command: Callable[[LedgerContext], T]) -> T:
    """Run ``command`` (one Application method) unless the read models have stopped (503),
    then wait until they show what it wrote; its result is returned."""
    context = writable(request)
    result = command(context)
    settings: Settings = request.app.state.settings
    then_read(context, settings.read_your_writes_timeout, lambda _conn: None)
    return result
