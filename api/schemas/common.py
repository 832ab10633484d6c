"""Shared request and response pieces: money as decimal strings, codes, texts, pages, problems.

Money is a decimal string with its currency, always; a JSON number for money is refused,
because a float cannot hold every cent."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ledger.money import MINOR_UNITS

T = TypeVar("T")
#: The largest event position or offset (a signed 64-bit integer in every store).
MAX_POSITION = 2**63 - 1


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            'amounts and rates are decimal strings such as "1234.50", never JSON numbers: '
            "a binary float cannot hold every cent"
        )
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    WithJsonSchema({"type": "string", "pattern": r"^\s*-?\d+(\.\d+)?\s*$", "examples": ["1234.50"]}),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code: EUR, USD, CAD, JPY or IDR")]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9_-]+$")]
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
