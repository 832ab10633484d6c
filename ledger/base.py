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
        self._defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
        self._names = frozenset(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        """The value object as it was recorded: its checks (``__post_init__``) are not run
        again, so an event recorded under older, looser rules still loads and projects."""
        unknown = set(data) - self._names
        absent = self._names - set(data) - set(self._defaults)
        if unknown or absent:
            raise TypeError(f"{self.name}: unknown fields {sorted(unknown)}, missing fields {sorted(absent)}")
        obj: Any = object.__new__(self.type)
        for name, value in (self._defaults | data).items():
            object.__setattr__(obj, name, value)
        return obj


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register the ledger's value objects on a JSON transcoder."""
    from ledger.claim import ConvertedLine, ExpenseLine
    from ledger.grant import PartnerInfo
    from ledger.periods import ReportingPeriod

    transcoder.register(DateAsISO())
    transcoder.register(MoneyAsStrings())
    transcoder.register(DataclassAsDict(Actor, "actor"))
    transcoder.register(DataclassAsDict(ExpenseLine, "expense_line"))
    transcoder.register(DataclassAsDict(ConvertedLine, "converted_line"))
    transcoder.register(DataclassAsDict(PartnerInfo, "partner"))
    transcoder.register(DataclassAsDict(ReportingPeriod, "reporting_period"))
