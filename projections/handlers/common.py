"""What every handler module shares: the registry of handlers and the row helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from ledger.grant import Category
from ledger.money import Money
from projections import tables as t
from projections.batch import Batch, Handler

FSTP = Category.FSTP.value

E = TypeVar("E")
#: The handler of each event type: one function, which calls every handler registered for that
#: type in the order they were registered (the modules' import order in the package).
HANDLERS: dict[type, Handler] = {}
#: Every handler registered for each event type, in order (what ``HANDLERS`` composes).
REGISTERED: dict[type, list[Handler]] = {}


def _composed(handlers: list[Handler]) -> Handler:
    if len(handlers) == 1:
        return handlers[0]

    def each(batch: Batch, event: Any) -> None:
        for handler in handlers:
            handler(batch, event)

    return each


def handles(*event_types: type[E]) -> Callable[[Callable[[Batch, E], None]], Callable[[Batch, E], None]]:
    """Register the handler for these event types, beside any other module's handler of them
    (the books and the search index both follow a claim's submission, say)."""

    def register(handler: Callable[[Batch, E], None]) -> Callable[[Batch, E], None]:
        for event_type in event_types:
            registered = REGISTERED.setdefault(event_type, [])
            if handler in registered:
                raise ValueError(f"{handler.__qualname__} already handles {event_type.__qualname__}")
            registered.append(handler)
            HANDLERS[event_type] = _composed(registered)
        return handler

    return register


def line_key(batch: Batch, event: Any) -> tuple[str, str]:
    """The (partner, category) of a budget line event (another projector may have opened it)."""
    key = batch.line_keys.get(event.originator_id)
    if key is None:
        row = batch.get(t.budget_lines, line_id=str(event.originator_id))
        key = batch.line_keys[event.originator_id] = (row.partner, row.category)
    return key


def claim_row(batch: Batch, claim_id: UUID) -> Any:
    return batch.get(t.claims, id=str(claim_id))


def update_claim(batch: Batch, event: Any, **values: Any) -> None:
    batch.set(
        t.claims, {"id": str(event.originator_id)}, version=event.originator_version, position=batch.position, **values
    )


def add_to_sme_mission(batch: Batch, sme_id: UUID, mission_id: UUID, column: str, amount: Money) -> None:
    batch.add(t.sme_missions, {"sme_id": str(sme_id), "mission_id": str(mission_id)}, **{column: amount.amount})
