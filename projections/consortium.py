"""The consortium's side of a reporting period: every partner's statement side by side with
the EU cap, and the FSTP report (the third parties supported in the period).

The consortium's request is capped so that the requests of every period together never exceed
the EU cap: a period requests at most what the requests of the periods before it left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, func, select

from ledger.grant import Category
from ledger.money import EUR, Money, money_sum
from ledger.periods import ReportingPeriod
from ledger.reporting import Column
from projections import tables as t
from projections.statements import (
    PartnerStatement,
    figures_of,
    last_position,
    partner_statement,
    period_costs,
    reporting_terms,
)


@dataclass(frozen=True)
class ConsortiumSummary:
    """Every partner's statement for one period, with the consortium's totals and the EU cap."""

    period: ReportingPeriod
    position: int
    statements: tuple[PartnerStatement, ...]
    #: Per column, the sum of every partner's costs.
    totals: dict[Column, Money]
    total_eligible: Money
    #: The sum of the partners' contributions for the period, before the EU cap.
    contribution: Money
    eu_cap: Money
    #: What the consortium requested in the periods before this one (each capped the same way).
    requested_before: Money
    #: This period's request: the contribution, at most what the EU cap leaves.
    requested: Money

    @property
    def capped(self) -> bool:
        return self.requested < self.contribution

    @property
    def cap_remaining(self) -> Money:
        """What remains of the EU cap after this period's request."""
        return self.eu_cap - self.requested_before - self.requested


def _capped(contribution: Money, eu_cap: Money, before: Money) -> Money:
    return max(Money.zero(EUR), min(contribution, eu_cap - before))


def consortium_summary(conn: Connection, number: int, *, position: int | None = None) -> ConsortiumSummary | None:
    """Period ``number``'s statements of every partner, as recorded up to ``position`` (None: no
    grant, or no such period)."""
    terms = reporting_terms(conn)
    if terms is None or terms.period(number) is None:
        return None
    at = last_position(conn) if position is None else position
    partners = [row.code for row in conn.execute(select(t.partners.c.code).order_by(t.partners.c.code))]
    before = Money.zero(EUR)
    for earlier in terms.periods[: number - 1]:
        contribution = money_sum(
            [figures_of(terms, period_costs(conn, p, earlier, position=at)).contribution for p in partners]
        )
        before = before + _capped(contribution, terms.eu_cap, before)
    statements = []
    for p in partners:
        statement = partner_statement(conn, p, number, position=at)
        assert statement is not None  # noqa: S101 - the grant and the period are there
        statements.append(statement)
    totals = {column: money_sum([s.figures.costs[column] for s in statements]) for column in Column}
    contribution = money_sum([s.figures.contribution for s in statements])
    period = terms.period(number)
    assert period is not None  # noqa: S101 - checked above
    return ConsortiumSummary(
        period=period,
        position=at,
        statements=tuple(statements),
        totals=totals,
        total_eligible=money_sum(list(totals.values())),
        contribution=contribution,
        eu_cap=terms.eu_cap,
        requested_before=before,
        requested=_capped(contribution, terms.eu_cap, before),
    )


# --- the FSTP report --------------------------------------------------------------------
@dataclass(frozen=True)
class FstpRow:
    """One third party (SME) supported in the period, under one mission (the call)."""

    partner: str
    sme_id: str
    legal_name: str
    identifier: str
    country: str
    mission_code: str
    #: Paid in the period: payments less reversals, by value date.
    paid: Money
    #: The SME's support paid up to the period's end (every mission), against ``cap``.
    cumulative: Money
    cap: Money

    @property
    def cap_reached(self) -> bool:
        return self.cumulative >= self.cap


def fstp_report(
    conn: Connection, number: int, *, partner: str | None = None, position: int | None = None
) -> list[FstpRow] | None:
    """The SMEs supported in period ``number`` (by ``partner``'s FSTP line, or any), from the
    "paid" movements of the FSTP lines as recorded up to ``position``: the same amounts as
    column D.1 (None: no grant, or no such period)."""
    terms = reporting_terms(conn)
    period = None if terms is None else terms.period(number)
    if period is None:
        return None
    at = last_position(conn) if position is None else position
    cap = Money.eur(conn.execute(select(t.grant.c.sme_support_cap)).scalar_one())
    in_period = _paid_by_sme(conn, partner, period.start, period.end, at)
    cumulative = _paid_by_sme(conn, None, None, period.end, at)
    total_of: dict[str, Decimal] = {}
    for (_, sme, _), amount in cumulative.items():
        total_of[sme] = total_of.get(sme, Decimal(0)) + amount
    smes = {r.id: r for r in conn.execute(select(t.smes).where(t.smes.c.id.in_([k[1] for k in in_period])))}
    codes = dict(conn.execute(select(t.missions.c.id, t.missions.c.code)).tuples().all())
    rows = [
        FstpRow(
            partner=p,
            sme_id=sme,
            legal_name=smes[sme].legal_name,
            identifier=smes[sme].identifier,
            country=smes[sme].country,
            mission_code=codes.get(mission, ""),
            paid=Money.eur(amount),
            cumulative=Money.eur(total_of[sme]),
            cap=cap,
        )
        for (p, sme, mission), amount in in_period.items()
        if amount
    ]
    rows.sort(key=lambda row: (row.partner, row.legal_name, row.sme_id, row.mission_code))
    return rows


def _paid_by_sme(
    conn: Connection, partner: str | None, start: date | None, end: date, position: int
) -> dict[tuple[str, str, str], Decimal]:
    """FSTP paid less returned per (partner, SME, mission), effective from ``start`` to ``end``."""
    m, pay, c = t.movements.c, t.payments.c, t.claims.c
    query = (
        select(m.partner, c.sme_id, c.mission_id, func.sum(m.delta))
        .select_from(t.movements.join(t.payments, pay.id == m.ref).join(t.claims, c.id == pay.claim_id))
        .where(m.category == Category.FSTP.value, m.measure == "paid", m.effective_date <= end, m.position <= position)
        .group_by(m.partner, c.sme_id, c.mission_id)
    )
    if start is not None:
        query = query.where(m.effective_date >= start)
    if partner is not None:
        query = query.where(m.partner == partner)
    return {(p, sme, mission): Decimal(total) for p, sme, mission, total in conn.execute(query)}
