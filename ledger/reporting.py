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

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ledger.errors import InvalidInput
from ledger.grant import CERTIFICATE_THRESHOLD, INDIRECT_BASE_EXCLUDED, Category
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
