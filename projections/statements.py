"""Financial statements from the read models: the grant's reporting terms, and one partner's
costs and figures for one reporting period, as recorded up to any position.

What counts in a period (DOMAIN.md "Reporting"): own costs by their effective date (the
"spent" movements of the partner's lines, corrections included), FSTP by the value date of
each payment to an SME less reversals (the "paid" movements of its FSTP line); indirect costs
are computed, never read (ledger.reporting). The figures are ledger.reporting's: this module
only sums what the movements hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, select

from ledger.grant import Category
from ledger.money import EUR, Money
from ledger.periods import ReportingPeriod
from ledger.reporting import (
    CATEGORY_OF,
    Column,
    FundingRates,
    StatementFigures,
    needs_certificate,
    statement_figures,
)
from projections import tables as t

#: Which movement of a line counts as its eligible cost in a period.
COST_MEASURE = {category: "paid" if category == Category.FSTP else "spent" for category in Category}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportingTerms:
    """The terms of the grant a statement is drawn up under."""

    rates: FundingRates
    indirect_rate: Decimal
    eu_cap: Money
    certificate_threshold: Money
    periods: tuple[ReportingPeriod, ...]

    def period(self, number: int) -> ReportingPeriod | None:
        return next((period for period in self.periods if period.number == number), None)


def reporting_terms(conn: Connection) -> ReportingTerms | None:
    """The grant's reporting terms (None before the grant is signed)."""
    g = conn.execute(select(t.grant)).one_or_none()
    if g is None:
        return None
    overrides = {Category(r.category): r.rate for r in conn.execute(select(t.funding_rates))}
    periods = tuple(
        ReportingPeriod(r.number, r.start, r.end)
        for r in conn.execute(select(t.reporting_periods).order_by(t.reporting_periods.c.number))
    )
    return ReportingTerms(
        rates=FundingRates(g.funding_rate, overrides),
        indirect_rate=g.indirect_rate,
        eu_cap=Money.eur(g.eu_cap),
        certificate_threshold=Money.eur(g.certificate_threshold),
        periods=periods,
    )


def period_costs(
    conn: Connection, partner: str, period: ReportingPeriod, *, position: int | None = None
) -> dict[Category, Money]:
    """A partner's eligible direct costs per category with business dates in ``period``, as
    recorded up to ``position`` (default: everything recorded). Every direct category is there,
    zero when nothing was spent."""
    m = t.movements.c
    query = (
        select(m.category, m.measure, func.sum(m.delta).label("total"))
        .where(m.partner == partner, m.effective_date >= period.start, m.effective_date <= period.end)
        .where(m.measure.in_(("spent", "paid")))
        .group_by(m.category, m.measure)
    )
    if position is not None:
        query = query.where(m.position <= position)
    costs: dict[Category, Money] = {c: Money.zero(EUR) for c in Category if c != Category.INDIRECT}
    for row in conn.execute(query):
        category = Category(row.category)
        if category in costs and COST_MEASURE[category] == row.measure:
            costs[category] = Money.eur(row.total)
    return costs


@dataclass(frozen=True)
class PartnerStatement:
    """One partner's financial statement for one period, as recorded up to ``position``."""

    #: The funding rate of each column under the grant's terms.
    rates: Mapping[Column, Decimal]
    partner: str
    period: ReportingPeriod
    position: int
    figures: StatementFigures
    #: The partner's requested EU contribution over this period and every one before it.
    cumulative_requested: Money
    #: Whether that cumulative request reaches the threshold of a certificate on the financial statements.
    certificate_due: bool


def last_position(conn: Connection) -> int:
    return int(conn.execute(select(func.max(t.audit.c.position))).scalar() or 0)


def _cents(amount: Money) -> str:
    return str(amount.amount.quantize(CENT))


def _rate(rate: Decimal) -> str:
    """A funding rate as a fraction, with at least 2 places (0.90, 0.755)."""
    exponent = rate.as_tuple().exponent
    return str(rate.quantize(CENT) if isinstance(exponent, int) and exponent > -2 else rate)


def statement_content(statement: PartnerStatement) -> dict[str, str]:
    """The canonical content of a statement, what its officer signs and its digest is made of
    (ledger.statement.statement_digest): every figure as a decimal string, money with 2 places;
    the keys never change (cost.A ... cost.E, rate.A ..., contribution.A ..., total, requested...)."""
    figures = statement.figures
    content = {
        "partner": statement.partner,
        "period": str(statement.period.number),
        "period_start": statement.period.start.isoformat(),
        "period_end": statement.period.end.isoformat(),
        "position": str(statement.position),
    }
    for column in Column:
        content[f"cost.{column}"] = _cents(figures.costs[column])
        content[f"rate.{column}"] = _rate(statement.rates[column])
        content[f"contribution.{column}"] = _cents(figures.contribution_by_column[column])
    content.update(
        {
            "total": _cents(figures.total),
            "contribution": _cents(figures.contribution),
            "requested": _cents(figures.requested),
            "cumulative_requested": _cents(statement.cumulative_requested),
            "certificate_due": "yes" if statement.certificate_due else "no",
        }
    )
    return content


def partner_statement(
    conn: Connection, partner: str, number: int, *, position: int | None = None
) -> PartnerStatement | None:
    """Partner ``partner``'s statement for period ``number`` (None: no grant, or no such period)."""
    terms = reporting_terms(conn)
    if terms is None:
        return None
    period = terms.period(number)
    if period is None:
        return None
    at = last_position(conn) if position is None else position
    cumulative = Money.zero(EUR)
    figures = None
    for earlier in terms.periods[:number]:
        figures = statement_figures(
            period_costs(conn, partner, earlier, position=at), flat_rate=terms.indirect_rate, rates=terms.rates
        )
        cumulative = cumulative + figures.requested
    assert figures is not None  # noqa: S101 - period ``number`` is among them
    return PartnerStatement(
        rates={column: terms.rates.of(CATEGORY_OF[column]) for column in Column},
        partner=partner,
        period=period,
        position=at,
        figures=figures,
        cumulative_requested=cumulative,
        certificate_due=needs_certificate(cumulative, terms.certificate_threshold),
    )
