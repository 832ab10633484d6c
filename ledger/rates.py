"""Monthly exchange rates (InforEuro by default): how many units of a currency one euro buys.

A rate, once recorded for a currency and month, is never overwritten: a correction is a
new event that names the version it corrects and why. Conversions store the rate they
used on their own events, so a later correction never changes past books.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.actors import Actor
from ledger.base import LedgerAggregate
from ledger.errors import Conflict, InvalidInput, NothingToCorrect, Refused
from ledger.ids import natural_id
from ledger.money import EUR, check_currency, parse_rate
from ledger.text import clean_text

DEFAULT_SOURCE = "InforEuro"
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # ASCII digits only, the whole text


class RateMissing(Refused):
    """No rate is recorded for the currency and month a conversion needs: the rule is that a
    conversion uses the recorded monthly rate, never a guess (409, like any rule)."""

    title = "Exchange rate missing"


class RateAlreadyRecorded(Conflict):
    title = "Exchange rate already recorded"


def parse_month(value: str) -> str:
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise InvalidInput(f"month {value!r} must be written YYYY-MM, e.g. 2022-10")
    if value.startswith("0000"):
        raise InvalidInput(f"month {value!r} is in year 0, which no calendar has; write YYYY-MM, e.g. 2022-10")
    return value


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def rate_id(currency: str, month: str) -> UUID:
    return natural_id("exchange-rate", currency, month)


@dataclass(frozen=True, slots=True)
class Quote:
    """A rate as used by a conversion: the value, its month and its source."""

    currency: str
    month: str
    rate: Decimal
    source: str


class ExchangeRate(LedgerAggregate):
    class Recorded(LedgerAggregate.Created):
        """Version 2 added ``source``; version-1 events were all InforEuro rates."""

        class_version = 2

        currency: str
        month: str
        rate: Decimal
        source: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = DEFAULT_SOURCE

        def apply(self, xr: ExchangeRate) -> None:
            xr.currency = self.currency
            xr.month = self.month
            xr.rate = self.rate
            xr.source = self.source

    class Corrected(LedgerAggregate.Event):
        """A new rate (and source) for the month, naming the version it corrects and why.
        Conversions stored before it keep the rate they used; assessments after it use it."""

        rate: Decimal
        source: str
        corrects_version: int
        reason: str

        def apply(self, xr: ExchangeRate) -> None:
            xr.rate = self.rate
            xr.source = self.source

    if TYPE_CHECKING:
        currency: str
        month: str
        rate: Decimal
        source: str

    @classmethod
    def record(cls, *, actor: Actor, currency: str, month: str, rate: Decimal, source: str) -> ExchangeRate:
        check_currency(currency)
        if currency == EUR:
            raise InvalidInput("EUR needs no exchange rate: it converts to itself at 1")
        parse_month(month)
        rate = parse_rate(rate, f"{currency} rate for {month}")
        source = clean_text(source, "source", missing="say where the rate comes from, e.g. InforEuro")
        year, mon = (int(p) for p in month.split("-"))
        return cls._create(
            cls.Recorded,
            id=rate_id(currency, month),
            actor=actor,
            effective_date=date(year, mon, 1),
            currency=currency,
            month=month,
            rate=rate,
            source=source,
        )

    def correct(self, *, actor: Actor, rate: Decimal, source: str, reason: str) -> None:
        reason = clean_text(reason, "reason", multiline=True, missing="a rate correction needs a reason")
        source = clean_text(source, "source", missing="say where the rate comes from, e.g. InforEuro")
        rate = parse_rate(rate, f"{self.currency} rate for {self.month}")
        if rate == self.rate and source == self.source:
            raise NothingToCorrect(
                f"the {self.currency} rate for {self.month} is already {rate} ({source}); "
                "a correction gives a different rate or source"
            )
        year, mon = (int(p) for p in self.month.split("-"))
        self.trigger_event(
            self.Corrected,
            actor=actor,
            effective_date=date(year, mon, 1),
            rate=rate,
            source=source,
            corrects_version=self.version,
            reason=reason,
        )

    @property
    def quote(self) -> Quote:
        return Quote(self.currency, self.month, self.rate, self.source)
