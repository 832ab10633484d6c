"""Exchange rates are plausible, and no arithmetic on a rate or an amount raises anything but a
LedgerError (a 4xx at the API), whatever Decimal it is given."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.application import GrantLedger
from ledger.errors import LedgerError
from ledger.money import Money, MoneyError, parse_fraction, parse_rate
from tests.builders import officer

POINTEX = officer("POINTEX")

#: Decimals no grant has, at the edges of what ``decimal`` can hold.
EXTREMES = [
    Decimal("1E+1000000"),
    Decimal("-1E+1000000"),
    Decimal("1E-1000000"),
    Decimal("1E+999999999"),
    Decimal("1E-999999999"),
    Decimal("0E+999999999"),
    Decimal("9" * 60),
    Decimal("0." + "0" * 60 + "1"),
]
any_decimal = st.one_of(st.decimals(allow_nan=False, allow_infinity=False), st.sampled_from(EXTREMES))


class TestPlausibleRates:
    @pytest.mark.parametrize("rate", ["0.3", "0.0001", "1.0987", "157.12", "16843.21", "100000", "1000000"])
    def test_rates_of_real_currencies_are_accepted(self, rate: str) -> None:
        """From KWD (about 0.3) to LBP and IRR (about 100,000), with room on both sides."""
        assert parse_rate(rate) == Decimal(rate)

    @pytest.mark.parametrize("rate", ["0.00009", "1000000.01", "1E+12", "1E-7"])
    def test_rates_outside_the_range_are_refused(self, rate: str) -> None:
        with pytest.raises(MoneyError, match=r"is implausible: a rate lies between 0\.0001 and 1,000,000"):
            parse_rate(Decimal(rate), "USD rate for 2023-03")

    def test_more_than_ten_significant_digits_are_refused(self) -> None:
        assert parse_rate("1.098700000000") == Decimal("1.098700000000")  # trailing zeros are not significant
        assert parse_rate("1.098765432") == Decimal("1.098765432")
        with pytest.raises(MoneyError, match="has 11 significant digits; give the rate as published, with at most 10"):
            parse_rate("1.0987654321")

    def test_the_ledger_refuses_an_implausible_rate_and_records_nothing(self, memory_app: GrantLedger) -> None:
        before = memory_app.recorder.max_notification_id()
        with pytest.raises(MoneyError, match=r"USD rate for 2023-03 0\.000001 is implausible"):
            memory_app.record_rate(actor=POINTEX, currency="USD", month="2023-03", rate=Decimal("0.000001"))
        assert memory_app.recorder.max_notification_id() == before


class TestArithmeticNeverCrashes:
    @given(rate=any_decimal)
    def test_parsing_a_rate_or_fraction_raises_only_ledger_errors(self, rate: Decimal) -> None:
        for parse in (parse_rate, lambda r: parse_fraction(r, "funding rate")):
            with contextlib.suppress(LedgerError):
                parse(rate)

    @given(amount=any_decimal, rate=any_decimal, currency=st.sampled_from(["EUR", "USD", "JPY"]))
    def test_money_conversion_and_rates_raise_only_ledger_errors(
        self, amount: Decimal, rate: Decimal, currency: str
    ) -> None:
        try:
            money = Money(amount, currency)
        except LedgerError:
            return
        with contextlib.suppress(LedgerError):
            money.to_eur(rate)
        with contextlib.suppress(LedgerError):
            money.times_rate(rate)

    @pytest.mark.parametrize("amount", EXTREMES)
    def test_an_absurd_amount_is_a_ledger_error(self, amount: Decimal) -> None:
        if amount.is_zero():
            assert Money(amount, "EUR").is_zero
            return
        with pytest.raises(MoneyError):
            Money(amount, "EUR")

    def test_a_computation_that_overflows_is_a_ledger_error(self) -> None:
        """decimal's Overflow (trapped by default) once escaped as a 500."""
        with pytest.raises(MoneyError, match="at the rate 1E-999999 cannot be converted to EUR"):
            Money.of("1000000000", "USD").to_eur(Decimal("1E-999999"))
        with pytest.raises(MoneyError, match=r"times the rate 1E\+999999 cannot be computed"):
            Money.eur("1000000000").times_rate(Decimal("1E+999999"))
