"""Lists over the read models, filtered and one page at a time: exchange rates, own costs,
payments, budget transfers and SMEs. Each returns the page's rows and how many match in all.

Filters arrive resolved (codes in their canonical form: projections/codes.py); dates and
months are inclusive bounds. Newest first: the latest month, cost date, value date or
transfer comes first, ties broken by id so that pages never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ledger.errors import InvalidInput
from ledger.rates import Quote
from projections import tables as t
from projections.queries import SmeSummary, sme_summaries
from projections.search import words

Rows = tuple[list[Any], int]


def _page(conn: Connection, query: Select[Any], conditions: list[ColumnElement[bool]], offset: int, limit: int) -> Rows:
    filtered = query.where(*conditions)
    count = int(conn.execute(select(func.count()).select_from(filtered.order_by(None).subquery())).scalar_one())
    return list(conn.execute(filtered.offset(offset).limit(limit)).all()), count


def _between(column: Any, start: Any, end: Any) -> list[ColumnElement[bool]]:
    """Inclusive bounds on ``column``, each only when given."""
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def _ordered(start: Any, end: Any, what: str) -> None:
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"the {what} run from {start} to {end}: the first is after the last; swap them")


@dataclass(frozen=True)
class RateFilter:
    currency: str | None = None
    #: YYYY-MM, inclusive.
    month_from: str | None = None
    month_to: str | None = None

    def __post_init__(self) -> None:
        _ordered(self.month_from, self.month_to, "months asked for")


def list_rates(conn: Connection, where: RateFilter | None = None, *, offset: int = 0, limit: int = 50) -> Rows:
    """Monthly rates, the latest month first (then by currency)."""
    where = where or RateFilter()
    r = t.rates.c
    conditions = _between(r.month, where.month_from, where.month_to)
    if where.currency is not None:
        conditions.append(r.currency == where.currency)
    return _page(conn, select(t.rates).order_by(r.month.desc(), r.currency), conditions, offset, limit)


def rate_quote(conn: Connection, currency: str, month: str) -> Quote | None:
    """The rate recorded for a currency and month (its latest version), as a conversion uses
    it; None when none is recorded."""
    r = t.rates.c
    row = conn.execute(select(t.rates).where(r.currency == currency, r.month == month)).one_or_none()
    return None if row is None else Quote(row.currency, row.month, row.rate, row.source)


@dataclass(frozen=True)
class CostFilter:
    partner: str | None = None
    category: str | None = None
    #: Cost dates (business dates), inclusive.
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        _ordered(self.start, self.end, "cost dates asked for")


def list_costs(conn: Connection, where: CostFilter | None = None, *, offset: int = 0, limit: int = 50) -> Rows:
    """Own costs, the latest cost date first."""
    where = where or CostFilter()
    c = t.costs.c
    conditions = _between(c.cost_date, where.start, where.end)
    conditions += [col == value for col, value in ((c.partner, where.partner), (c.category, where.category)) if value]
    return _page(conn, select(t.costs).order_by(c.cost_date.desc(), c.id), conditions, offset, limit)


@dataclass(frozen=True)
class PaymentFilter:
    partner: str | None = None
    claim_id: str | None = None
    sme_id: str | None = None
    reversed: bool | None = None
    #: Value dates, inclusive.
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        _ordered(self.start, self.end, "value dates asked for")


def list_payments(conn: Connection, where: PaymentFilter | None = None, *, offset: int = 0, limit: int = 50) -> Rows:
    """Payments with the SME paid, the latest value date first."""
    where = where or PaymentFilter()
    p, c = t.payments.c, t.claims.c
    query = select(t.payments, c.sme_id).join(t.claims, c.id == p.claim_id).order_by(p.value_date.desc(), p.id)
    conditions = _between(p.value_date, where.start, where.end)
    for column, value in ((p.partner, where.partner), (p.claim_id, where.claim_id), (c.sme_id, where.sme_id)):
        if value is not None:
            conditions.append(column == value)
    if where.reversed is not None:
        conditions.append(p.reversed == where.reversed)
    return _page(conn, query, conditions, offset, limit)


@dataclass(frozen=True)
class TransferFilter:
    #: A partner or category on either side of the transfer.
    partner: str | None = None
    category: str | None = None
    #: Business dates, inclusive.
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        _ordered(self.start, self.end, "dates asked for")


def list_transfers(conn: Connection, where: TransferFilter | None = None, *, offset: int = 0, limit: int = 50) -> Rows:
    """Budget transfers touching a partner or a category (on either side), the latest first."""
    where = where or TransferFilter()
    x = t.transfers.c
    conditions = _between(x.effective_date, where.start, where.end)
    if where.partner is not None:
        conditions.append(or_(x.from_partner == where.partner, x.to_partner == where.partner))
    if where.category is not None:
        conditions.append(or_(x.from_category == where.category, x.to_category == where.category))
    query = select(t.transfers).order_by(x.effective_date.desc(), x.position.desc())
    return _page(conn, query, conditions, offset, limit)


@dataclass(frozen=True)
class SmeFilter:
    #: Part of the legal name, in any case and with or without accents.
    name: str | None = None
    country: str | None = None
    mission_id: str | None = None


def list_smes(
    conn: Connection, where: SmeFilter | None = None, *, offset: int = 0, limit: int = 50
) -> tuple[list[SmeSummary], int]:
    """SMEs by legal name (then id), each with its support per mission and claims by state."""
    where = where or SmeFilter()
    s = t.smes.c
    conditions: list[ColumnElement[bool]] = []
    if where.name is not None:
        wanted = words(where.name)
        if not wanted:
            raise InvalidInput(f"the name {where.name!r} has no letter or digit; give part of the SME's legal name")
        indexed = t.search.c
        named = select(indexed.record_id).where(
            indexed.kind == "sme",
            indexed.field == "legal_name",
            indexed.text.contains(wanted, autoescape=True),
        )
        conditions.append(s.id.in_(named))
    if where.country is not None:
        conditions.append(s.country == where.country)
    if where.mission_id is not None:
        selected = select(t.sme_missions.c.sme_id).where(t.sme_missions.c.mission_id == where.mission_id)
        conditions.append(s.id.in_(selected))
    rows, count = _page(conn, select(s.id).order_by(s.legal_name, s.id), conditions, offset, limit)
    return sme_summaries(conn, ids=[row.id for row in rows]), count
