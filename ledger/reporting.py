"""Reporting to the EU (DOMAIN.md "Reporting"): the reporting periods that tile the action
period, the EU grant form's cost columns, the funding rate per category, and the figures of one
partner's financial statement for one period. Pure: the amounts come in, the figures go out.

Where the rounding happens: every cost reaches a statement already in EUR cents (an own cost
converted and rounded half up when it was recorded, a payment to an SME in EUR); a column is the
exact sum of its costs; the indirect costs (E) are the flat rate times their base, rounded half
up to the cent; each column's EU contribution is its funding rate times its costs, rounded half
up to the cent; the contribution requested is the sum of those, capped by what remains of the
EU cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from ledger.errors import InvalidInput
from ledger.grant import INDIRECT_BASE_EXCLUDED, Category
from ledger.money import EUR, Money, money_sum, parse_fraction


class Column(StrEnum):
    """The cost columns of an EU financial statement, in the form's order."""

    A = "A"
    B = "B"
    C1 = "C.1"
    C2 = "C.2"
    C3 = "C.3"
    D1 = "D.1"
    E = "E"


#: The one place the ledger's categories map onto the EU form's columns.
COLUMN_OF: Mapping[Category, Column] = {
    Category.PERSONNEL: Column.A,
    Category.SUBCONTRACTING: Column.B,
    Category.TRAVEL: Column.C1,
    Category.EQUIPMENT: Column.C2,
    Category.OTHER_GOODS_SERVICES: Column.C3,
    Category.FSTP: Column.D1,
    Category.INDIRECT: Column.E,
}
CATEGORY_OF: Mapping[Column, Category] = {column: category for category, column in COLUMN_OF.items()}
TITLES: Mapping[Column, str] = {
    Column.A: "Personnel costs",
    Column.B: "Subcontracting costs",
    Column.C1: "Travel and subsistence",
    Column.C2: "Equipment",
    Column.C3: "Other goods, works and services",
    Column.D1: "Financial support to third parties",
    Column.E: "Indirect costs (flat rate)",
}
#: The requested EU contribution from which a certificate on the financial statements is due
#: (a term of the grant; COSME-era rule, the default).
CERTIFICATE_THRESHOLD = Money.eur("325000")


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    """Reporting period ``number`` (from 1), from ``start`` to ``end``, both days included."""

    number: int
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"period {self.number} ({self.start} to {self.end})"


def check_periods(
    periods: Sequence[ReportingPeriod], action_start: date, action_end: date
) -> tuple[ReportingPeriod, ...]:
    """The periods if they tile the action period: numbered 1, 2, ... in order, the first
    starting on its first day, each the day after the one before ends, the last ending on its
    last day; else InvalidInput saying which period is wrong and what it should be."""
    action = f"the action period {action_start} to {action_end}"
    if not periods:
        raise InvalidInput(f"give at least one reporting period; together they must cover {action}")
    expected_start = action_start
    for index, period in enumerate(periods):
        number = index + 1
        if period.number != number:
            raise InvalidInput(f"reporting periods are numbered 1, 2, ... in order; the {number}. is {period.number}")
        if period.start != expected_start:
            after = (
                "start on the action period's first day" if index == 0 else "start the day after the one before ends"
            )
            raise InvalidInput(
                f"{period} must {after}, {expected_start}: the periods follow each other with no gap or overlap"
            )
        if period.end < period.start:
            raise InvalidInput(f"{period} ends before it starts")
        expected_start = period.end + timedelta(days=1)
    last = periods[-1]
    if last.end != action_end:
        raise InvalidInput(f"the last reporting period must end with {action}, on {action_end}; {last} does not")
    return tuple(periods)


def period_of(periods: Sequence[ReportingPeriod], day: date) -> ReportingPeriod | None:
    """The period ``day`` falls in (None: outside the action period)."""
    return next((period for period in periods if day in period), None)


@dataclass(frozen=True, slots=True)
class FundingRates:
    """The EU funding rate: one for every category by default, or another for some (a call may
    fund costs at 75% and FSTP at 100%)."""

    default: Decimal
    by_category: Mapping[Category, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "default", parse_fraction(self.default, "the funding rate"))
        rates = {}
        for category, rate in self.by_category.items():
            rates[Category(category)] = parse_fraction(rate, f"the funding rate of {category}")
        object.__setattr__(self, "by_category", rates)

    def of(self, category: Category) -> Decimal:
        return self.by_category.get(category, self.default)


def indirect_costs(direct: Mapping[Category, Money], flat_rate: Decimal) -> Money:
    """Indirect costs (E): the flat rate times the direct costs excluding subcontracting and FSTP,
    rounded half up to the cent."""
    base = money_sum([amount for category, amount in direct.items() if category not in INDIRECT_BASE_EXCLUDED])
    return base.times_rate(flat_rate)


@dataclass(frozen=True, slots=True)
class StatementFigures:
    """One partner's figures for one period: the costs per column (E computed), their total, the
    EU contribution per column and in all (before the cap), and the contribution requested."""

    costs: Mapping[Column, Money]
    total: Money
    contribution_by_column: Mapping[Column, Money]
    contribution: Money
    requested: Money

    @property
    def capped(self) -> bool:
        """Whether what remained of the EU cap bound the request."""
        return self.requested < self.contribution


def statement_figures(
    direct: Mapping[Category, Money], *, flat_rate: Decimal, rates: FundingRates, cap_remaining: Money | None = None
) -> StatementFigures:
    """The statement's figures from the direct eligible costs per category (EUR, already
    rounded per line): indirect computed, contribution per column at its rate, the request at
    most ``cap_remaining`` (what the EU cap leaves after the requests before this one)."""
    for category, amount in direct.items():
        if category == Category.INDIRECT:
            raise InvalidInput("indirect costs are computed from the direct costs, never recorded")
        if amount.currency != EUR:
            raise InvalidInput(f"a statement is in EUR; {category} is in {amount.currency}")
    costs: dict[Column, Money] = {
        column: direct.get(CATEGORY_OF[column], Money.zero(EUR)) for column in Column if column != Column.E
    }
    costs[Column.E] = indirect_costs(direct, flat_rate)
    ordered = {column: costs[column] for column in Column}
    contribution_by_column = {
        column: amount.times_rate(rates.of(CATEGORY_OF[column])) for column, amount in ordered.items()
    }
    contribution = money_sum(list(contribution_by_column.values()))
    requested = contribution if cap_remaining is None else max(Money.zero(EUR), min(contribution, cap_remaining))
    return StatementFigures(
        costs=ordered,
        total=money_sum(list(ordered.values())),
        contribution_by_column=contribution_by_column,
        contribution=contribution,
        requested=requested,
    )


def needs_certificate(cumulative_requested: Money, threshold: Money = CERTIFICATE_THRESHOLD) -> bool:
    """Whether a partner's cumulative requested EU contribution reaches the certificate threshold."""
    return cumulative_requested >= threshold
