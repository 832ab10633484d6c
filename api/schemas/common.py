"""Shared request and response pieces: money as decimal strings, codes, texts, pages, problems.

Money is a decimal string with its currency, always; a JSON number for money is refused,
because a float cannot hold every cent."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from ledger.errors import LedgerError
from ledger.money import MINOR_UNITS, PLAIN_DECIMAL, Money, parse_decimal_text

T = TypeVar("T")
#: The largest event position or offset (a signed 64-bit integer in every store).
MAX_POSITION = 2**63 - 1

#: Every pattern a request field must match, with what to write instead when it does not
#: (api.invalid words the 422 with it). A pattern without a hint here is a test failure.
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: Codes and currencies are taken in any case and kept in capitals (``jpy`` is JPY, ``pointex``
#: POINTEX); countries are written in capitals.
CURRENCY = r"^[A-Za-z]{3}$"
COUNTRY = r"^[A-Z]{2}$"
#: A country asked for in a query string: in any case (``it`` is IT).
COUNTRY_ANY_CASE = r"^[A-Za-z]{2}$"
CODE = r"^[A-Za-z0-9_-]+$"
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
SHA256 = r"^[0-9a-fA-F]{64}$"
PATTERN_HINTS: dict[str, str] = {
    PLAIN_DECIMAL: "a plain decimal number; write digits with an optional minus sign and decimal dot, e.g. 1234.50",
    ISO_DATE: "a date; use YYYY-MM-DD, e.g. 2023-03-15",
    CURRENCY: "a currency code; write the three-letter ISO 4217 code, e.g. EUR",
    COUNTRY: "a country code; write the two-letter ISO 3166 code in capitals, e.g. IT",
    COUNTRY_ANY_CASE: "a country code; write the two-letter ISO 3166 code, e.g. IT",
    CODE: "a code; use letters A-Z, digits, '-' and '_' only, e.g. JPN-2023",
    MONTH: "a month; use YYYY-MM, e.g. 2023-03",
    SHA256: "a document digest; write the 64 hex digits of its SHA-256, as its list of documents shows it",
}
_ISO_DATE = re.compile(ISO_DATE)


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            'amounts and rates are decimal strings such as "1234.50", never JSON numbers: '
            "a binary float cannot hold every cent"
        )
    if not isinstance(value, str):
        kind = "null" if value is None else "true/false" if isinstance(value, bool) else "not a string"
        raise ValueError(f'is {kind}; write the amount or rate as a decimal string in double quotes, e.g. "1234.50"')
    try:
        return parse_decimal_text(value)
    except LedgerError as error:
        raise ValueError(error.detail) from None


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    WithJsonSchema({"type": "string", "pattern": PLAIN_DECIMAL, "examples": ["1234.50"]}),
]


def parse_iso_date(value: object) -> date:
    """A date written YYYY-MM-DD (ASCII digits, that exact form); any other text or type is
    refused with what to write instead. Shared by the bodies, the query strings and the CLI."""
    if not isinstance(value, str):
        kind = "a number" if isinstance(value, int | float) and not isinstance(value, bool) else "not text"
        raise ValueError(f'{value!r} is {kind}; write the date as a string, YYYY-MM-DD, e.g. "2023-03-15"')
    shown = value if len(value) <= 40 else value[:37] + "..."
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(f"{shown!r} is not written as a date; use YYYY-MM-DD, e.g. 2023-03-15")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{shown!r} is not a day of the calendar (check the month and the day); use YYYY-MM-DD, e.g. 2023-03-15"
        ) from None


IsoDate = Annotated[
    date,
    BeforeValidator(parse_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE, "examples": ["2023-03-15"]}),
]


def _capitals(value: str) -> str:
    """A code in its canonical form: capitals (the pattern admits ASCII letters only)."""
    return value.upper()


def distinct_codes(value: Any) -> Any:
    """The keys of an object of codes, refused when two differ only in case (``pointex`` and
    ``POINTEX`` name one partner: one would silently replace the other)."""
    if isinstance(value, dict):
        seen: dict[str, str] = {}
        for key in value:
            if isinstance(key, str) and seen.setdefault(key.upper(), key) != key:
                raise ValueError(f"{seen[key.upper()]!r} and {key!r} are the same code; give it once")
    return value


Currency = Annotated[
    str,
    Field(pattern=CURRENCY, description="ISO 4217 code, in any case: EUR, USD, CAD, JPY or IDR"),
    AfterValidator(_capitals),
]
Country = Annotated[str, Field(pattern=COUNTRY, description="ISO 3166 alpha-2 code, e.g. IT")]
Month = Annotated[str, Field(pattern=MONTH, description="YYYY-MM")]
Code = Annotated[
    str,
    Field(min_length=1, max_length=40, pattern=CODE, description="A code, in any case; kept in capitals"),
    AfterValidator(_capitals),
]
Text = Annotated[str, Field(min_length=1, max_length=500)]


def _random_uuid(value: UUID) -> UUID:
    if value.version not in (4, 7):
        raise ValueError(
            f"id {value} must be a random UUID (version 4 or 7), e.g. from uuid4(); other ids are "
            "the ledger's own (derived from names or Idempotency-Keys). Or leave it out"
        )
    return value


#: A client-chosen id of a new record: random, so it can never be an id the ledger derives.
RandomId = Annotated[UUID, AfterValidator(_random_uuid)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(Strict):
    amount: DecimalString = Field(description="Exact decimal amount as a string, within the currency's decimals")
    currency: Currency

    @model_validator(mode="after")
    def _is_money(self) -> MoneyIn:
        """The ledger's own check (known currency, its decimals, a plausible size), here so that
        a 422 names the field: ``body.lines.0.amount``, not only the amount."""
        try:
            Money(self.amount, self.currency)
        except LedgerError as error:
            raise ValueError(error.detail) from None
        return self


class MoneyOut(BaseModel):
    amount: str = Field(description="Exact decimal amount as a string", examples=["1234.50"])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def eur(cls, amount: Decimal | None) -> MoneyOut | None:
        return None if amount is None else cls(amount=f"{amount:.2f}", currency="EUR")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> MoneyOut:
        """An amount at its currency's minor units (JPY 0 decimals, EUR 2...)."""
        places = MINOR_UNITS.get(currency, 2)
        return cls(amount=str(amount.quantize(Decimal(1).scaleb(-places))), currency=currency)


class Written(BaseModel, Generic[T]):
    """What a write returns: the resource as the read models now show it, and the position in
    the event log of the events the command recorded (or of the log, for a repeated command)."""

    position: int = Field(description="Event log position the read models have reached for this write")
    data: T


#: What a record's ``history`` link says (a path of this API).
HISTORY = "The record's audit history: every event that made it, with who, when and why (GET this path)"


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int = Field(description="How many items match in all")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = Field(default=None, description="Field errors, for invalid input")
