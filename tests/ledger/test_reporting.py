"""The reporting figures by hand: periods tiling the action period, the EU form's columns,
indirect costs at the flat rate, the funding rate per category, rounding half up, the cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import InvalidInput
from ledger.grant import Category
from ledger.money import Money
from ledger.periods import ReportingPeriod, check_periods, period_of
from ledger.reporting import (
    COLUMN_OF,
    Column,
    FundingRates,
    indirect_costs,
    needs_certificate,
    statement_figures,
)

START, END = date(2025, 1, 1), date(2026, 12, 31)
TWO = (ReportingPeriod(1, START, date(2025, 12, 31)), ReportingPeriod(2, date(2026, 1, 1), END))
eur = Money.eur


class TestPeriods:
    def test_two_years_in_two_periods_tile_the_action_period(self) -> None:
        assert check_periods(TWO, START, END) == TWO
        assert period_of(TWO, date(2025, 12, 31)) == TWO[0]
        assert period_of(TWO, date(2026, 1, 1)) == TWO[1]
        assert period_of(TWO, date(2027, 1, 1)) is None

    @pytest.mark.parametrize(
        ("periods", "said"),
        [
            ((), "at least one"),
            ((ReportingPeriod(1, date(2025, 1, 2), END),), "first day, 2025-01-01"),
            ((TWO[0], ReportingPeriod(2, date(2026, 1, 2), END)), "the day after the one before ends, 2026-01-01"),
            ((TWO[0], ReportingPeriod(2, date(2025, 12, 1), END)), "no gap or overlap"),
            ((TWO[0], ReportingPeriod(3, date(2026, 1, 1), END)), "numbered 1, 2"),
            ((TWO[0], ReportingPeriod(2, date(2026, 1, 1), date(2026, 6, 30))), "on 2026-12-31"),
            ((ReportingPeriod(1, START, date(2024, 12, 1)),), "ends before it starts"),
        ],
    )
    def test_periods_that_do_not_tile_it_are_refused_saying_which(
        self, periods: tuple[ReportingPeriod, ...], said: str
    ) -> None:
        with pytest.raises(InvalidInput, match=said.replace("(", r"\(").replace(".", r"\.")):
            check_periods(periods, START, END)


class TestFigures:
    DIRECT = {  # noqa: RUF012 - read only
        Category.PERSONNEL: eur("10000.00"),
        Category.SUBCONTRACTING: eur("1000.00"),
        Category.TRAVEL: eur("2345.67"),
        Category.OTHER_GOODS_SERVICES: eur("500.05"),
        Category.FSTP: eur("20000.00"),
    }

    def test_every_category_has_its_column(self) -> None:
        assert set(COLUMN_OF) == set(Category)
        assert COLUMN_OF[Category.TRAVEL] == Column.C1
        assert COLUMN_OF[Category.FSTP] == Column.D1

    def test_a_statement_computed_by_hand(self) -> None:
        rates = FundingRates(Decimal("0.90"), {Category.FSTP: Decimal("1.00")})
        figures = statement_figures(self.DIRECT, flat_rate=Decimal("0.07"), rates=rates)
        # indirect: 7% of 10,000.00 + 2,345.67 + 500.05 = 12,845.72 -> 899.2004 -> 899.20
        assert figures.costs[Column.E] == eur("899.20")
        assert figures.costs[Column.C2] == eur("0")
        assert figures.total == eur("34744.92")
        # 90% of each column but D.1 at 100%; 450.045 -> 450.05 and 2,111.103 -> 2,111.10 (half up)
        assert figures.contribution_by_column[Column.C3] == eur("450.05")
        assert figures.contribution_by_column[Column.C1] == eur("2111.10")
        assert figures.contribution_by_column[Column.D1] == eur("20000.00")
        assert figures.contribution_by_column[Column.E] == eur("809.28")
        assert figures.contribution == eur("33270.43")
        assert figures.requested == figures.contribution
        assert not figures.capped
        assert list(figures.costs) == list(Column), "the columns in the form's order"

    def test_the_request_stops_at_what_remains_of_the_eu_cap(self) -> None:
        figures = statement_figures(
            self.DIRECT, flat_rate=Decimal("0.07"), rates=FundingRates(Decimal("0.9")), cap_remaining=eur("1000")
        )
        assert figures.requested == eur("1000")
        assert figures.capped
        spent = statement_figures(
            self.DIRECT, flat_rate=Decimal("0.07"), rates=FundingRates(Decimal("0.9")), cap_remaining=eur("-5")
        )
        assert spent.requested == eur("0")

    def test_indirect_rounds_half_up_to_the_cent(self) -> None:
        # 7% of 1.50 = 0.105: half up 0.11 (half even would give 0.10)
        assert indirect_costs({Category.PERSONNEL: eur("1.50")}, Decimal("0.07")) == eur("0.11")
        assert indirect_costs({Category.FSTP: eur("1000"), Category.SUBCONTRACTING: eur("10")}, Decimal("0.07")) == eur(
            "0"
        )

    def test_indirect_costs_are_never_an_input(self) -> None:
        with pytest.raises(InvalidInput, match="computed"):
            statement_figures(
                {Category.INDIRECT: eur("5")}, flat_rate=Decimal("0.07"), rates=FundingRates(Decimal("0.9"))
            )

    def test_a_rate_above_one_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="FSTP"):
            FundingRates(Decimal("0.9"), {Category.FSTP: Decimal("1.5")})

    def test_the_certificate_threshold(self) -> None:
        assert needs_certificate(eur("325000"))
        assert not needs_certificate(eur("324999.99"))
