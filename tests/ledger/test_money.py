"""Money: exact decimals per currency, refusals that never round, conversion to EUR."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import MAX_AMOUNT, MINOR_UNITS, Money, MoneyError, money_sum, parse_fraction, parse_rate


def amounts(currency: str, min_value: Decimal = Decimal(0)) -> st.SearchStrategy[Money]:
    places = MINOR_UNITS[currency]
    return st.decimals(min_value=min_value, max_value=MAX_AMOUNT, places=places, allow_nan=False).map(
        lambda d: Money(d, currency)
    )


class TestConstruction:
    def test_amount_is_held_at_the_currency_minor_units(self) -> None:
        """'12.5' EUR is stored as 12.50; JPY keeps no decimals."""
        assert str(Money.of("12.5", "EUR").amount) == "12.50"
        assert str(Money.of("157000", "JPY").amount) == "157000"
        assert Money.of("12.500", "EUR") == Money.of("12.5", "EUR")

    @pytest.mark.parametrize(
        ("amount", "currency", "message"),
        [
            ("12.345", "EUR", "more than 2 decimal places"),
            ("100.5", "JPY", "more than 0 decimal places"),
            ("NaN", "EUR", "not a finite number"),
            ("Infinity", "USD", "not a finite number"),
            ("1000000000.01", "EUR", "refused as implausible"),
            ("-1000000001", "EUR", "refused as implausible"),
            ("12,50", "EUR", "use a dot as decimal separator"),
            ("", "EUR", "is empty"),
        ],
    )
    def test_bad_amounts_are_refused_not_rounded(self, amount: str, currency: str, message: str) -> None:
        """An amount that does not fit its currency is refused with a clear error."""
        with pytest.raises(MoneyError, match=message):
            Money.of(amount, currency)

    def test_floats_are_refused_anywhere(self) -> None:
        """A binary float is never accepted as money, even one that looks exact."""
        with pytest.raises(MoneyError, match="binary floating-point"):
            Money.of(0.5, "EUR")
        with pytest.raises(MoneyError, match="not a decimal number"):
            Money.of(True, "EUR")

    def test_unknown_currency_is_refused(self) -> None:
        """Only currencies with known minor units are accepted."""
        with pytest.raises(MoneyError, match="currency 'XYZ' is not supported"):
            Money.of("1", "XYZ")

    def test_max_amount_itself_is_allowed(self) -> None:
        """The limit is inclusive: 10^9 is the largest plausible amount."""
        assert Money.of(str(MAX_AMOUNT), "IDR").amount == MAX_AMOUNT

    def test_display_groups_thousands_with_the_currency(self) -> None:
        """Messages show amounts as an officer reads them."""
        assert str(Money.eur("1234.5")) == "EUR 1,234.50"
        assert str(Money.of("157120", "JPY")) == "JPY 157,120"


class TestArithmetic:
    @given(amounts("EUR"), amounts("EUR"))
    def test_addition_and_subtraction_are_exact_and_inverse(self, a: Money, b: Money) -> None:
        """(a + b) - b == a, with no rounding anywhere (when within range)."""
        if (a.amount + b.amount) <= MAX_AMOUNT:
            assert (a + b) - b == a
            assert (a + b).amount == a.amount + b.amount

    def test_mixing_currencies_is_refused(self) -> None:
        """EUR and USD never add up silently."""
        with pytest.raises(MoneyError, match="cannot combine EUR and USD"):
            Money.eur("1") + Money.of("1", "USD")
        with pytest.raises(MoneyError):
            _ = Money.eur("1") < Money.of("1", "USD")

    def test_comparisons(self) -> None:
        a, b = Money.eur("1.00"), Money.eur("2.00")
        assert a < b
        assert a <= b
        assert b > a
        assert b >= a
        assert not a > b
        assert min(b, a) == a
        assert (-a).amount == Decimal("-1.00")

    @given(st.lists(amounts("EUR", Decimal(0)), max_size=8))
    def test_sum_matches_decimal_sum(self, items: list[Money]) -> None:
        """money_sum is the exact decimal sum."""
        if sum((m.amount for m in items), Decimal(0)) <= MAX_AMOUNT:
            assert money_sum(items).amount == sum((m.amount for m in items), Decimal(0))

    @given(amounts("EUR"), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2))
    def test_times_rate_rounds_half_up_to_the_cent(self, amount: Money, rate: Decimal) -> None:
        """A reimbursement rate applied to an EUR amount rounds half up once, to the cent."""
        expected = (amount.amount * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert amount.times_rate(rate).amount == expected
        assert amount.times_rate(rate) <= amount


class TestConversion:
    def test_eur_is_amount_divided_by_rate_half_up(self) -> None:
        """InforEuro quotes units per euro: 1 EUR = 157.12 JPY, so JPY 10,000 = EUR 63.65."""
        assert Money.of("10000", "JPY").to_eur(Decimal("157.12")) == Money.eur("63.65")
        # 0.005 exactly rounds up: USD 1.00 at 1.6 = 0.625 -> 0.63
        assert Money.of("1.00", "USD").to_eur(Decimal("1.6")) == Money.eur("0.63")

    def test_a_conversion_beyond_the_plausible_is_refused(self) -> None:
        """USD 600,000,000 at 0.5 would be EUR 1.2 billion: refused, not stored."""
        with pytest.raises(MoneyError, match="refused as implausible"):
            Money.of("600000000", "USD").to_eur(Decimal("0.5"))

    def test_eur_converts_to_itself_only_at_one(self) -> None:
        assert Money.eur("5").to_eur(Decimal(1)) == Money.eur("5")
        with pytest.raises(MoneyError):
            Money.eur("5").to_eur(Decimal(2))

    @pytest.mark.parametrize("rate", [Decimal(0), Decimal(-1), Decimal("NaN")])
    def test_bad_rates_are_refused(self, rate: Decimal) -> None:
        with pytest.raises(MoneyError):
            Money.of("5", "USD").to_eur(rate)

    @given(
        st.sampled_from(["USD", "CAD", "JPY", "IDR"]).flatmap(lambda c: amounts(c)),
        st.decimals(min_value=Decimal(1), max_value=Decimal("20000"), places=4),
    )
    def test_conversion_is_within_half_a_cent_of_the_exact_value(self, amount: Money, rate: Decimal) -> None:
        """The EUR value is the exact quotient rounded to the cent: never further than 0.005 away."""
        eur = amount.to_eur(rate)
        assert eur.currency == "EUR"
        assert abs(eur.amount - amount.amount / rate) <= Decimal("0.005")

    @given(
        amounts("USD"),
        amounts("USD"),
        st.decimals(min_value=Decimal(1), max_value=Decimal("2"), places=4),
    )
    def test_conversion_is_monotonic(self, a: Money, b: Money, rate: Decimal) -> None:
        """A larger foreign amount never converts to fewer euros."""
        low, high = min(a, b), max(a, b)
        assert low.to_eur(rate) <= high.to_eur(rate)


class TestRates:
    def test_parse_rate_and_fraction(self) -> None:
        assert parse_rate("1.0987") == Decimal("1.0987")
        assert parse_fraction("0.70", "reimbursement rate") == Decimal("0.70")
        with pytest.raises(MoneyError, match="between 0 and 1"):
            parse_fraction("70", "reimbursement rate")
        with pytest.raises(MoneyError, match="must be positive"):
            parse_rate("0")
        with pytest.raises(MoneyError, match="is implausible"):
            parse_rate("1000000000000")
