"""Financial statements from the read models: the grant's reporting terms, and one partner's
costs and figures for one reporting period, as recorded up to any position.

What counts in a period (DOMAIN.md "Reporting"): own costs by their effective date (the
"spent" movements of the partner's lines, corrections included), FSTP by the value date of
each payment to an SME less reversals (the "paid" movements of its FSTP line); indirect costs
are computed, never read (ledger.reporting). A "spent" movement in period N for a cost dated in
an earlier period M is an adjustment of M declared in N: shown apart, counted in N's figures.
The figures are ledger.reporting's: this module only sums what the movements hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, func, select

from ledger.grant import Category
from ledger.money import EUR, Money, money_sum
from ledger.periods import ReportingPeriod, period_of
from ledger.reporting import (
    CATEGORY_OF,
    Column,
    FundingRates,
    StatementFigures,
    indirect_costs,
    needs_certificate,
    statement_figures,
)
from projections import tables as t

#: Which movement of a line counts as its eligible cost in a period.
COST_MEASURE = {category: "paid" if category == Category.FSTP else "spent" for category in Category}
#: The categories a statement reads from the movements (INDIRECT is computed).
DIRECT = tuple(category for category in Category if category != Category.INDIRECT)

Costs = dict[Category, Money]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportingTerms:
    """The terms of the grant a statement is drawn up under."""

    rates: FundingRates
    indirect_rate: Decimal
    eu_cap: Money
    certificate_threshold: Money
    periods: tuple[ReportingPeriod, ...]
    #: The action period (the one span figures are computed over while no periods are set).
    action: ReportingPeriod | None = None

    def period(self, number: int) -> ReportingPeriod | None:
        return next((period for period in self.periods if period.number == number), None)

    def spans(self) -> tuple[ReportingPeriod, ...]:
        """The reporting periods, or the whole action period (as period 1) while none are set."""
        if self.periods or self.action is None:
            return self.periods
        return (self.action,)


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
        action=ReportingPeriod(1, g.period_start, g.period_end),
    )


def zero_costs() -> Costs:
    """Every direct category at zero."""
    return {category: Money.zero(EUR) for category in DIRECT}


def added(*costs: Mapping[Category, Money]) -> Costs:
    """The sum, per direct category, of ``costs``."""
    return {category: money_sum([c.get(category, Money.zero(EUR)) for c in costs]) for category in DIRECT}


def cost_movements(
    conn: Connection,
    *,
    partner: str | None = None,
    start: date | None = None,
    end: date | None = None,
    position: int | None = None,
) -> Iterator[tuple[str, Category, date, date | None, Money]]:
    """The movements that are eligible costs (own costs spent, FSTP paid), summed per partner,
    category, effective date and the cost date of the cost they charge (None for FSTP): those
    of ``partner``, effective from ``start`` to ``end``, recorded up to ``position``."""
    m, c = t.movements.c, t.costs.c
    query = (
        select(m.partner, m.category, m.measure, m.effective_date, c.cost_date, func.sum(m.delta).label("total"))
        .select_from(t.movements.outerjoin(t.costs, c.id == m.ref))
        .where(m.measure.in_(("spent", "paid")))
        .group_by(m.partner, m.category, m.measure, m.effective_date, c.cost_date)
    )
    if partner is not None:
        query = query.where(m.partner == partner)
    if start is not None:
        query = query.where(m.effective_date >= start)
    if end is not None:
        query = query.where(m.effective_date <= end)
    if position is not None:
        query = query.where(m.position <= position)
    for row in conn.execute(query):
        category = Category(row.category)
        if category in COST_MEASURE and category != Category.INDIRECT and COST_MEASURE[category] == row.measure:
            yield row.partner, category, row.effective_date, row.cost_date, Money.eur(row.total)


def period_costs(
    conn: Connection, partner: str, period: ReportingPeriod, *, position: int | None = None
) -> dict[Category, Money]:
    """A partner's eligible direct costs per category with business dates in ``period``, as
    recorded up to ``position`` (default: everything recorded), adjustments included. Every
    direct category is there, zero when nothing was spent."""
    costs = zero_costs()
    for _, category, _, _, amount in cost_movements(
        conn, partner=partner, start=period.start, end=period.end, position=position
    ):
        costs[category] = costs[category] + amount
    return costs


@dataclass(frozen=True)
class Declared:
    """What a partner declares for one period: its costs of the period, and the adjustments of
    earlier periods (period number -> costs dated in it, declared in this one)."""

    current: Costs
    adjustments: dict[int, Costs]

    def total(self) -> Costs:
        return added(self.current, *self.adjustments.values())


def declared_costs(
    conn: Connection,
    partner: str,
    period: ReportingPeriod,
    periods: Sequence[ReportingPeriod],
    *,
    position: int | None = None,
) -> Declared:
    """Partner ``partner``'s costs effective in ``period``, split into those of the period and
    the adjustments of earlier ones (by the cost date of the cost a movement charges)."""
    current = zero_costs()
    adjustments: dict[int, Costs] = {}
    for _, category, _, cost_date, amount in cost_movements(
        conn, partner=partner, start=period.start, end=period.end, position=position
    ):
        earlier = None if cost_date is None or cost_date >= period.start else period_of(periods, cost_date)
        costs = current if earlier is None else adjustments.setdefault(earlier.number, zero_costs())
        costs[category] = costs[category] + amount
    return Declared(current, dict(sorted(adjustments.items())))


@dataclass(frozen=True)
class PartnerStatement:
    """One partner's financial statement for one period, as recorded up to ``position``."""

    #: The funding rate of each column under the grant's terms.
    rates: Mapping[Column, Decimal]
    partner: str
    period: ReportingPeriod
    position: int
    #: statement_figures over the current costs and every adjustment.
    figures: StatementFigures
    #: The partner's requested EU contribution over this period and every one before it.
    cumulative_requested: Money
    #: Whether that cumulative request reaches the threshold of a certificate on the financial statements.
    certificate_due: bool
    #: The period's own costs per direct category: those dated in it, and FSTP paid in it.
    current: Costs = field(default_factory=zero_costs)
    #: Adjustments: period M (before this one) -> costs dated in M declared in this statement.
    adjustments: dict[int, Costs] = field(default_factory=dict)


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
    for earlier in terms.periods[: number - 1]:
        costs = period_costs(conn, partner, earlier, position=at)
        cumulative = cumulative + figures_of(terms, costs).requested
    declared = declared_costs(conn, partner, period, terms.periods, position=at)
    figures = figures_of(terms, declared.total())
    cumulative = cumulative + figures.requested
    return PartnerStatement(
        rates={column: terms.rates.of(CATEGORY_OF[column]) for column in Column},
        partner=partner,
        period=period,
        position=at,
        figures=figures,
        cumulative_requested=cumulative,
        certificate_due=needs_certificate(cumulative, terms.certificate_threshold),
        current=declared.current,
        adjustments=declared.adjustments,
    )


def figures_of(terms: ReportingTerms, costs: Mapping[Category, Money]) -> StatementFigures:
    """ledger.reporting's figures of ``costs`` under the grant's terms (before the EU cap)."""
    return statement_figures(costs, flat_rate=terms.indirect_rate, rates=terms.rates)


# --- the budget overview's reporting figures --------------------------------------------
@dataclass(frozen=True)
class BooksFigures:
    """What the budget overview shows from the statements' rule: each partner's computed
    indirect costs (the INDIRECT line's use) and the EU contribution on the costs so far."""

    indirect: dict[str, Money]
    contribution: Money


def books_figures(
    conn: Connection, terms: ReportingTerms, *, position: int | None = None, until: date | None = None
) -> BooksFigures:
    """The indirect costs per partner (flat rate x each period's base, rounded per partner and
    period) and min(EU cap, the sum of every partner's and period's contribution), from the
    costs recorded up to ``position`` and effective up to ``until``. A cost dated outside
    every period counts with the first or last one."""
    spans = terms.spans()
    costs: dict[tuple[str, int], Costs] = {}
    for partner, category, effective, _, amount in cost_movements(conn, end=until, position=position):
        span = period_of(spans, effective) or (spans[0] if effective < spans[0].start else spans[-1])
        bucket = costs.setdefault((partner, span.number), zero_costs())
        bucket[category] = bucket[category] + amount
    indirect: dict[str, Money] = {}
    contributions = []
    for (partner, _), direct in costs.items():
        indirect[partner] = indirect.get(partner, Money.zero(EUR)) + indirect_costs(direct, terms.indirect_rate)
        contributions.append(figures_of(terms, direct).contribution)
    return BooksFigures(indirect, min(terms.eu_cap, money_sum(contributions)))
