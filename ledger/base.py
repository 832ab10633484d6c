"""The base every ledger aggregate and event shares, and how their values are stored.

Every event records who acted (``actor``) and when it took effect in business terms
(``effective_date``); the library stamps when it was recorded (``timestamp``, UTC system
time). Value objects the default transcoder does not know get a registered Transcoding.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.actors import Actor
from ledger.money import Money


class LedgerAggregate(Aggregate):
    """Base of the ledger's aggregates: every event carries its actor and business date."""

    class Event(Aggregate.Event):
        actor: Actor
        effective_date: date

    class Created(Event, Aggregate.Created):
        pass


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MoneyAsStrings(Transcoding):
    """Money as its exact decimal string and currency: never a JSON number."""

    type = Money
    name = "money"

    def encode(self, obj: Money) -> list[str]:
        return [str(obj.amount), obj.currency]

    def decode(self, data: list[str]) -> Money:
        amount, currency = data
        return Money(Decimal(amount), currency)


class DataclassAsDict(Transcoding):
    """A frozen dataclass value object as a dict of its fields (fields transcoded in turn)."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register the ledger's value objects on a JSON transcoder."""
    from ledger.claim import ConvertedLine, ExpenseLine
    from ledger.grant import PartnerInfo

    transcoder.register(DateAsISO())
    transcoder.register(MoneyAsStrings())
    transcoder.register(DataclassAsDict(Actor, "actor"))
    transcoder.register(DataclassAsDict(ExpenseLine, "expense_line"))
    transcoder.register(DataclassAsDict(ConvertedLine, "converted_line"))
    transcoder.register(DataclassAsDict(PartnerInfo, "partner"))
