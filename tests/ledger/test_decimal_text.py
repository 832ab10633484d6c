"""Money and rates as text: plain ASCII decimals only, and a refusal that says what to write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import InvalidInput
from ledger.money import Money, MoneyError, parse_decimal_text, parse_rate
from ledger.rates import parse_month


class TestPlainDecimals:
    @pytest.mark.parametrize(
        ("text", "value"),
        [("1234.50", "1234.50"), ("-3", "-3"), ("0.0000000001", "1E-10"), ("0", "0"), ("-0.00", "0.00")],
    )
    def test_a_plain_decimal_is_read_exactly(self, text: str, value: str) -> None:
        """Digits with an optional minus and one decimal dot give that exact Decimal ("-0" is 0)."""
        number = parse_decimal_text(text, "amount")
        assert number == Decimal(value)
        assert str(number) == value

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("1e3", "write the number out in full, e.g. 1000"),
            ("1.5E-3", "e.g. 0.0015"),
            ("1e999999999999999999999999999999", "write the number out in full"),
            ("1_000", "without separators between digits"),
            ("1 000", "without separators between digits"),
            (" 12.50", "has spaces around it; write 12.50 without them"),
            ("12.50\n", "has spaces around it"),
            ("+5", "has a plus sign; write 5 without it"),
            (".5", "write 0.5 for .5"),
            ("5.", "5 for 5."),
            ("1,50", "use a dot as decimal separator and no thousands separator, e.g. 1234.50"),
            ("1.000,50", "use a dot as decimal separator"),
            ("\u0661\u0662\u0663", "write it with ASCII digits"),
            ("\uff11\uff12", "write it with ASCII digits"),
            ("NaN", "not a finite number"),
            ("-Infinity", "not a finite number"),
            ("", "is empty"),
            ("-", "is not a plain decimal number"),
            ("007", "has leading zeros; write 7 without them"),
            ("00001.00", "has leading zeros; write 1.00 without them"),
            ("-01", "has leading zeros; write -1 without them"),
            ("00.5", "has leading zeros; write 0.5 without them"),
            ("12a", "is not a plain decimal number"),
        ],
    )
    def test_anything_else_is_refused_saying_what_to_write(self, text: str, says: str) -> None:
        """Exponents, separators, padding, signs, bare dots, other scripts' digits, NaN: all of
        which Decimal() would take are refused, naming the text and what to write instead."""
        with pytest.raises(MoneyError, match="amount: ") as refused:
            parse_decimal_text(text, "amount")
        assert says in refused.value.detail

    @pytest.mark.parametrize("text", ["1e3", " 1.10", "1_000", "+1.10", "\u0661"])
    def test_money_and_rates_from_text_use_the_same_rule(self, text: str) -> None:
        """Money.of and parse_rate take a string only if it is a plain decimal."""
        with pytest.raises(MoneyError):
            Money.of(text, "USD")
        with pytest.raises(MoneyError):
            parse_rate(text)

    def test_a_long_text_is_cut_short_in_the_message(self) -> None:
        """A hostile 10,000-character amount is refused without echoing all of it back."""
        with pytest.raises(MoneyError) as refused:
            parse_decimal_text("9" * 5000 + "x" * 5000, "amount")
        assert len(refused.value.detail) < 300


class TestMonths:
    @pytest.mark.parametrize("text", ["2023-03\n", "\u0662\u0660\u0662\u0663-03", "0000-03", "2023-3", "2023-13"])
    def test_a_month_is_yyyy_mm_in_ascii_digits(self, text: str) -> None:
        """A trailing newline, other scripts' digits, year 0: refused (each would be a month of
        its own, or crash the conversion of its first day)."""
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            parse_month(text)
