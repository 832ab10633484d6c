"""The read models' column types: money never touches a float (EUR amounts are whole cents in
BIGINT columns, exact and summable by SQL; other amounts and rates are exact decimal strings),
recorded times are naive UTC stored and aware UTC read, and text holds any text the event
store holds (``StoredText``), the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, String, Text, TypeDecorator

CENT = Decimal("0.01")


class Cents(TypeDecorator[Decimal]):
    """A EUR amount (Decimal with two places) stored as a whole number of cents."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        cents = value.scaleb(2)
        if cents != cents.to_integral_value():
            raise ValueError(f"EUR amount {value} has more than two decimals")
        return int(cents)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2).quantize(CENT)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text (foreign amounts keep their own decimals; rates)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as naive UTC (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"recorded time {value} has no time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


#: Stands for a NUL in the read models (U+2400 SYMBOL FOR NULL): PostgreSQL text cannot hold one.
NUL_STANDIN = "\u2400"


def storable(value: str) -> str:
    """Text as every read model holds it, identically on SQLite and PostgreSQL.

    The ledger refuses control characters (ledger/text.py), but events recorded before it
    did may hold a NUL, which PostgreSQL text cannot store: it stands as NUL_STANDIN, so the
    read models can still be built (and rebuilt equal) from such a store, events unchanged.
    (A lone surrogate never reaches a store: it cannot be encoded as UTF-8.)"""
    return value.replace("\x00", NUL_STANDIN) if "\x00" in value else value


class StoredText(TypeDecorator[str]):
    """Text from the events, as every read model can hold it (``storable``)."""

    impl: type[String] = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return storable(value) if isinstance(value, str) else value


class StoredString(StoredText):
    """``StoredText`` in a column of bounded length (VARCHAR)."""

    impl = String
    cache_ok = True
