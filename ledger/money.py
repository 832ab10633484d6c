"""Exact money: a Decimal amount with an ISO 4217 currency, and conversion to EUR.

Nothing here ever touches a binary float. An amount that does not fit its currency
(too many decimals, not finite, absurdly large) is refused, never rounded silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Final

from ledger.errors import InvalidInput

#: Decimal places per currency (ISO 4217 minor units) for the currencies the ledger accepts.
MINOR_UNITS: Final[dict[str, int]] = {
    "EUR": 2,
    "USD": 2,
    "CAD": 2,
    "JPY": 0,
    "IDR": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RON": 2,
    "KRW": 0,
}
EUR: Final = "EUR"
#: Amounts above this (in any currency) are refused as absurd: a typo, not a claim.
MAX_AMOUNT: Final = Decimal(10) ** 9
_CENT: Final = Decimal("0.01")


def shown(number: Decimal) -> str:
    """A number for a message as a person writes it: positional, never in exponent form
    (``0.0000000001``, not ``1E-10``; past 10,000 digits as Decimal writes it), cut short past
    40 characters."""
    text = f"{number:f}" if number.is_finite() and abs(number.adjusted()) <= 10_000 else str(number)
    return text if len(text) <= 40 else text[:37] + "..."


class MoneyError(InvalidInput):
    """An amount or currency that cannot be money in this ledger."""


#: What a decimal text may look like: an optional minus, ASCII digits, and optionally a dot
#: followed by ASCII digits. Nothing else: no exponent, sign, separator, space or other script,
#: and no padding: a leading zero only in "0" or "0.xx".
PLAIN_DECIMAL: Final = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"
_PADDED: Final = re.compile(r"(-?)0+([0-9]+(\.[0-9]+)?)")
_PLAIN_DECIMAL: Final = re.compile(PLAIN_DECIMAL)
_EXPONENT: Final = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]{1,3}")
_NON_FINITE: Final = frozenset({"nan", "snan", "inf", "infinity"})


def _decimal_hint(text: str) -> str:
    """Why ``text`` is not a plain decimal and what to write instead."""
    bare = text.strip()
    if not bare:
        return "is empty; write a number such as 1234.50"
    if bare != text:
        return f"has spaces around it; write {bare} without them"
    body = bare.lstrip("+-")
    if body.lower() in _NON_FINITE:
        return "is not a finite number; write an amount such as 1234.50"
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in bare):
        return "uses digits other than 0-9; write it with ASCII digits, e.g. 1234.50"
    if "," in bare:
        return "is not a plain decimal number; use a dot as decimal separator and no thousands separator, e.g. 1234.50"
    if "_" in bare or "'" in bare or " " in bare:
        return "is not a plain decimal number; write it without separators between digits, e.g. 1000000"
    if _EXPONENT.fullmatch(body):
        number = Decimal(bare)
        full = f"{number:f}" if abs(number.adjusted()) <= 30 else "1000 for 1e3"
        return f"uses an exponent; write the number out in full, e.g. {full}"
    if re.search(r"[0-9][eE][+-]?[0-9]", bare):
        return "uses an exponent; write the number out in full, e.g. 1000 for 1e3"
    if bare.startswith("+"):
        return f"has a plus sign; write {body} without it"
    if body.startswith(".") or body.endswith("."):
        return "has a dot without digits on both sides; write 0.5 for .5 and 5 for 5."
    if padded := _PADDED.fullmatch(bare):
        return f"has leading zeros; write {padded[1]}{padded[2]} without them (a leading zero only in 0 or 0.50)"
    return "is not a plain decimal number; write digits with an optional minus sign and one decimal dot, e.g. 1234.50"


def parse_decimal_text(text: str, what: str = "") -> Decimal:
    """The exact Decimal a plain decimal text stands for: an optional minus sign, ASCII digits,
    optionally a dot and more digits ("1234.50", "-3", "0.0001"). Anything else that Decimal()
    would take (exponents, underscores, padding, a plus sign, ".5", "5.", NaN, digits of other
    scripts) is refused, saying what to write instead."""
    if _PLAIN_DECIMAL.fullmatch(text):
        number = Decimal(text)
        return abs(number) if number.is_zero() else number  # "-0" is 0
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise MoneyError(f"{what + ': ' if what else ''}{shown!r} {_decimal_hint(text)}")


def _as_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool):
        raise MoneyError(f"{what}: {value!r} is not a decimal number")
    if isinstance(value, float):
        raise MoneyError(
            f"{what}: {value!r} is a binary floating-point number; "
            "give the amount as a decimal string such as '1234.50'"
        )
    if isinstance(value, str):
        return parse_decimal_text(value, what)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        raise MoneyError(f"{what}: {value!r} is not a decimal number")
    if not number.is_finite():
        raise MoneyError(f"{what}: {value!r} is not a finite number")
    return number


def check_currency(currency: object) -> str:
    """Return the currency code if the ledger knows it, else refuse it."""
    if not isinstance(currency, str) or currency not in MINOR_UNITS:
        known = ", ".join(sorted(MINOR_UNITS))
        raise MoneyError(f"currency {currency!r} is not supported; use one of {known}")
    return currency


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, held at exactly the currency's minor units."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        check_currency(self.currency)
        number = _as_decimal(self.amount, f"amount in {self.currency}")
        places = MINOR_UNITS[self.currency]
        if number.copy_abs() > MAX_AMOUNT:  # copy_abs, unlike abs(), never overflows
            bound = f"larger than {MAX_AMOUNT:,}" if number > 0 else f"less than -{MAX_AMOUNT:,}"
            raise MoneyError(
                f"{self.currency} {shown(number)} is {bound} and is refused as implausible; check the amount"
            )
        unit = Decimal(1).scaleb(-places)
        with localcontext() as ctx:
            ctx.prec = 40
            exact = number.quantize(unit)
        if exact != number:
            raise MoneyError(
                f"{self.currency} {shown(number)} has more than {places} decimal places; "
                f"{self.currency} amounts allow {places}. Nothing was rounded: "
                "give the exact amount on the receipt"
            )
        object.__setattr__(self, "amount", exact)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def of(cls, amount: object, currency: str = EUR) -> Money:
        """Money from a Decimal, int or decimal string; floats are refused."""
        return cls(_as_decimal(amount, f"amount in {currency}"), currency)

    @classmethod
    def zero(cls, currency: str = EUR) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def eur(cls, amount: object) -> Money:
        return cls.of(amount, EUR)

    # --- arithmetic (same currency only) ------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} and {other.currency} amounts")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def times_rate(self, rate: Decimal) -> Money:
        """This amount times a rate (e.g. a 70% reimbursement rate), half up to the minor unit."""
        places = MINOR_UNITS[self.currency]
        try:
            with localcontext() as ctx:
                ctx.prec = 40
                product = (self.amount * rate).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        except ArithmeticError:  # decimal's InvalidOperation, Overflow...: a rate no grant has
            raise MoneyError(f"{self} times the rate {rate} cannot be computed; check the rate") from None
        return Money(product, self.currency)

    def to_eur(self, rate: Decimal) -> Money:
        """Convert with an InforEuro-style rate (units of this currency per 1 EUR),
        rounded half up to the cent. EUR converts to itself at rate 1."""
        if self.currency == EUR:
            if rate != 1:
                raise MoneyError(f"EUR converts to EUR at rate 1, not {rate}")
            return self
        if not rate.is_finite() or rate <= 0:
            raise MoneyError(f"exchange rate {rate} for {self.currency} must be positive")
        try:
            with localcontext() as ctx:
                ctx.prec = 40
                eur = (self.amount / rate).quantize(_CENT, ROUND_HALF_UP)
        except ArithmeticError:  # decimal's Overflow, InvalidOperation...: a rate no currency has
            raise MoneyError(f"{self} at the rate {rate} cannot be converted to EUR; check the rate") from None
        return Money(eur, EUR)

    def __str__(self) -> str:
        places = MINOR_UNITS[self.currency]
        return f"{self.currency} {self.amount:,.{places}f}"


def money_sum(amounts: list[Money] | tuple[Money, ...], currency: str = EUR) -> Money:
    """Exact sum of amounts in one currency (zero for none)."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


#: A plausible rate (units of a currency one euro buys, or a fraction such as 0.70): InforEuro
#: quotes run from about 0.3 (KWD) to about 100,000 (LBP, IRR), with at most 6 significant digits.
MIN_RATE: Final = Decimal("0.0001")
MAX_RATE: Final = Decimal(1_000_000)
RATE_DIGITS: Final = 10


def parse_rate(value: object, what: str = "rate") -> Decimal:
    """A positive finite decimal rate (exchange rate or percentage as a fraction), within the
    plausible range and with at most ``RATE_DIGITS`` significant digits."""
    number = _as_decimal(value, what)
    if number <= 0:
        raise MoneyError(f"{what} must be positive, got {shown(number)}")
    if not MIN_RATE <= number <= MAX_RATE:
        raise MoneyError(
            f"{what} {shown(number)} is implausible: a rate lies between {MIN_RATE} and {MAX_RATE:,}. An exchange "
            "rate is the units of the currency one euro buys (e.g. 1.0987 for USD; InforEuro quotes run "
            "from about 0.3 for KWD to about 100,000 for LBP); a percentage is a fraction (0.70 for 70%)"
        )
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > RATE_DIGITS:
        raise MoneyError(
            f"{what} {shown(number)} has {len(digits)} significant digits; give the rate as published, "
            f"with at most {RATE_DIGITS} (InforEuro publishes 4 to 6)"
        )
    return number


def parse_fraction(value: object, what: str) -> Decimal:
    """A rate between 0 (exclusive) and 1 (inclusive), e.g. a 70% reimbursement rate as 0.70."""
    number = parse_rate(value, what)
    if number > 1:
        raise MoneyError(f"{what} must be a fraction between 0 and 1 (0.70 for 70%), got {shown(number)}")
    return number
