"""Thin queries over the read models: what the API and the command line show.

Budget figures can be read now, "as recorded up to" a position or a moment (what the books
said then: every event recorded by then, whatever its business date), or "as effective on" a
business date (every event whose effective date is on or before it, as known now).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from ledger.grant import Category
from projections import tables as t
from projections.batch import MEASURES
from projections.statements import books_figures, reporting_terms

ZERO = Decimal("0.00")
CLAIM_STATES = ("submitted", "approved", "partly_paid", "paid", "rejected", "withdrawn")
_CATEGORY_ORDER = {c.value: n for n, c in enumerate(Category)}


@dataclass(frozen=True)
class AsOf:
    """Which books to read: now (both None), up to a recorded position, or effective on a date."""

    position: int | None = None
    effective: date | None = None

    def __post_init__(self) -> None:
        if self.position is not None and self.effective is not None:
            raise ValueError("read the books as of a recorded position or an effective date, not both")

    @property
    def now(self) -> bool:
        return self.position is None and self.effective is None


def position_recorded_by(conn: Connection, moment: datetime | date) -> int:
    """The last event position recorded by ``moment`` (a date means the end of that day, UTC)."""
    if not isinstance(moment, datetime):
        end_of_day = datetime.combine(moment, time.max, tzinfo=UTC)
        moment = end_of_day
    found = conn.execute(select(func.max(t.audit.c.position)).where(t.audit.c.recorded_at <= moment)).scalar()
    return int(found or 0)


@dataclass(frozen=True)
class LineFigures:
    partner: str
    category: str
    allocated: Decimal
    pending: Decimal
    committed: Decimal
    paid: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        """Allocated minus what is committed, paid or spent (pending is shown beside it)."""
        return self.allocated - self.committed - self.paid - self.spent

    @property
    def remaining_after_pending(self) -> Decimal:
        """What remains if every claim still pending were approved in full: remaining - pending."""
        return self.remaining - self.pending


def summed(partner: str, category: str, lines: tuple[LineFigures, ...]) -> LineFigures:
    """One row of figures that is the sum of ``lines``, under the labels given."""
    return LineFigures(partner, category, *(sum((getattr(line, m) for line in lines), ZERO) for m in MEASURES))


@dataclass(frozen=True)
class BudgetOverview:
    code: str
    title: str
    total: Decimal
    eu_cap: Decimal
    funding_rate: Decimal
    sme_support_cap: Decimal
    period_start: date
    period_end: date
    lines: tuple[LineFigures, ...]
    as_of: AsOf = field(default_factory=AsOf)
    #: min(EU cap, the sum over partners, periods and categories of rate x eligible costs).
    contribution: Decimal = ZERO
    #: Each partner's indirect costs computed on its direct costs (the INDIRECT line's use).
    indirect: dict[str, Decimal] = field(default_factory=dict)

    def totals(self, lines: tuple[LineFigures, ...] | None = None) -> LineFigures:
        """The grand total: the sum of every line (or of ``lines``), labelled TOTAL."""
        chosen = self.lines if lines is None else lines
        return summed("TOTAL", "", chosen)

    def by_partner(self, lines: tuple[LineFigures, ...] | None = None) -> tuple[LineFigures, ...]:
        """A subtotal per partner (category ""), in partner order: the sum of its lines."""
        chosen = self.lines if lines is None else lines
        partners = sorted({line.partner for line in chosen})
        return tuple(summed(p, "", tuple(line for line in chosen if line.partner == p)) for p in partners)

    def by_category(self, lines: tuple[LineFigures, ...] | None = None) -> tuple[LineFigures, ...]:
        """A subtotal per cost category over every partner (partner ""), in the grant forms' order."""
        chosen = self.lines if lines is None else lines
        categories = sorted({line.category for line in chosen}, key=lambda c: (_CATEGORY_ORDER.get(c, 99), c))
        return tuple(summed("", c, tuple(line for line in chosen if line.category == c)) for c in categories)

    def booked(self) -> tuple[LineFigures, ...]:
        """The lines as the events book them (the journal, the burn series): INDIRECT without the
        indirect costs computed on them."""
        return tuple(_with_indirect(line, {p: -amount for p, amount in self.indirect.items()}) for line in self.lines)

    def partner(self, code: str) -> tuple[LineFigures, ...]:
        return tuple(line for line in self.lines if line.partner == code)

    @property
    def eu_contribution(self) -> Decimal:
        """EU contribution on the costs accepted so far (SME support paid, own costs and the
        indirect costs computed on them), as the financial statements compute it."""
        return self.contribution


def budget_overview(conn: Connection, as_of: AsOf | None = None) -> BudgetOverview | None:
    """The grant's totals and every partner x category line; None before the grant is signed."""
    as_of = as_of or AsOf()
    g = conn.execute(select(t.grant)).one_or_none()
    if g is None:
        return None
    if as_of.position is not None and g.position > as_of.position:
        return None
    if as_of.effective is not None and g.signed_on > as_of.effective:
        return None
    if as_of.now:
        rows = conn.execute(select(t.budget_lines)).all()
        lines = [LineFigures(r.partner, r.category, *(getattr(r, m) for m in MEASURES)) for r in rows]
    else:
        lines = _lines_from_movements(conn, as_of)
    terms = reporting_terms(conn)
    assert terms is not None  # noqa: S101 - the grant is signed
    books = books_figures(conn, terms, position=as_of.position, until=as_of.effective)
    indirect = {partner: amount.amount for partner, amount in books.indirect.items()}
    lines = [_with_indirect(line, indirect) for line in lines]
    lines.sort(key=lambda line: (line.partner, _CATEGORY_ORDER.get(line.category, 99)))
    return BudgetOverview(
        code=g.code,
        title=g.title,
        total=g.total,
        eu_cap=g.eu_cap,
        funding_rate=g.funding_rate,
        sme_support_cap=g.sme_support_cap,
        period_start=g.period_start,
        period_end=g.period_end,
        lines=tuple(lines),
        as_of=as_of,
        contribution=books.contribution.amount,
        indirect=indirect,
    )


def _with_indirect(line: LineFigures, indirect: dict[str, Decimal]) -> LineFigures:
    """An INDIRECT line used by the indirect costs computed on its partner's direct costs."""
    if line.category != Category.INDIRECT:
        return line
    return replace(line, spent=line.spent + indirect.get(line.partner, ZERO))


def _lines_from_movements(conn: Connection, as_of: AsOf) -> list[LineFigures]:
    m = t.movements.c
    query = select(m.partner, m.category, m.measure, func.sum(m.delta).label("total")).group_by(
        m.partner, m.category, m.measure
    )
    if as_of.position is not None:
        query = query.where(m.position <= as_of.position)
    if as_of.effective is not None:
        query = query.where(m.effective_date <= as_of.effective)
    figures: dict[tuple[str, str], dict[str, Decimal]] = {}
    for row in conn.execute(query):
        figures.setdefault((row.partner, row.category), dict.fromkeys(MEASURES, ZERO))[row.measure] = row.total
    return [LineFigures(p, c, *(f[m] for m in MEASURES)) for (p, c), f in figures.items()]


# --- SMEs and missions ------------------------------------------------------------------
@dataclass(frozen=True)
class SmeMissionFigures:
    mission_id: str
    mission_code: str
    cap: Decimal
    requested: Decimal
    approved: Decimal
    paid: Decimal

    @property
    def remaining_cap(self) -> Decimal:
        return self.cap - self.approved


@dataclass(frozen=True)
class SmeSummary:
    id: str
    legal_name: str
    country: str
    identifier: str
    missions: tuple[SmeMissionFigures, ...]
    claims_by_state: dict[str, int]
    overall_cap: Decimal

    @property
    def approved(self) -> Decimal:
        return sum((m.approved for m in self.missions), ZERO)

    @property
    def remaining_overall(self) -> Decimal:
        return self.overall_cap - self.approved


def _claims_by_state(conn: Connection, column: Any, key: str) -> dict[str, int]:
    rows = conn.execute(select(t.claims.c.state, func.count()).where(column == key).group_by(t.claims.c.state)).all()
    counts = Counter(dict.fromkeys(CLAIM_STATES, 0))
    counts.update({row[0]: int(row[1]) for row in rows})
    return dict(counts)


def sme_summaries(conn: Connection, sme_id: str | None = None, *, ids: Sequence[str] | None = None) -> list[SmeSummary]:
    """Each SME (or one, or those of ``ids``, in that order) with its support per mission,
    remaining caps and claims by state: three queries however many SMEs (one per SME made a
    page of 25 take 50 ms)."""
    cap = conn.execute(select(t.grant.c.sme_support_cap)).scalar() or ZERO
    query = select(t.smes).order_by(t.smes.c.legal_name, t.smes.c.id)
    if sme_id is not None:
        query = query.where(t.smes.c.id == sme_id)
    if ids is not None:
        query = query.where(t.smes.c.id.in_(list(ids)))
    smes = list(conn.execute(query).all())
    if ids is not None:
        place = {key: n for n, key in enumerate(ids)}
        smes.sort(key=lambda sme: place[sme.id])
    wanted = [sme.id for sme in smes]
    sm, mi, c = t.sme_missions.c, t.missions.c, t.claims.c
    missions: dict[str, list[SmeMissionFigures]] = {key: [] for key in wanted}
    for row in conn.execute(
        select(sm.sme_id, sm.mission_id, mi.code, mi.cap_per_sme, sm.requested, sm.approved, sm.paid)
        .join(t.missions, mi.id == sm.mission_id)
        .where(sm.sme_id.in_(wanted))
        .order_by(mi.start, mi.code)
    ):
        missions[row[0]].append(SmeMissionFigures(*row[1:]))
    states: dict[str, Counter[str]] = {key: Counter(dict.fromkeys(CLAIM_STATES, 0)) for key in wanted}
    for key, state, count in conn.execute(
        select(c.sme_id, c.state, func.count()).where(c.sme_id.in_(wanted)).group_by(c.sme_id, c.state)
    ):
        states[key][state] += int(count)
    return [
        SmeSummary(
            id=sme.id,
            legal_name=sme.legal_name,
            country=sme.country,
            identifier=sme.identifier,
            missions=tuple(missions[sme.id]),
            claims_by_state=dict(states[sme.id]),
            overall_cap=cap,
        )
        for sme in smes
    ]


@dataclass(frozen=True)
class MissionSummary:
    id: str
    code: str
    country: str
    city: str
    start: date
    end: date
    partner: str
    reimbursement_rate: Decimal
    cap_per_sme: Decimal
    cost_types: tuple[str, ...]
    smes_selected: int
    claims_by_state: dict[str, int]
    requested: Decimal
    approved: Decimal
    paid: Decimal
    #: currency -> (claimed, accepted, accepted in EUR)
    by_currency: dict[str, tuple[Decimal, Decimal, Decimal]]


def mission_summaries(conn: Connection, mission_id: str | None = None) -> list[MissionSummary]:
    """Each mission (or one): SMEs selected, claims by state, totals in EUR and per currency."""
    query = select(t.missions).order_by(t.missions.c.start, t.missions.c.code)
    if mission_id is not None:
        query = query.where(t.missions.c.id == mission_id)
    sm, mc = t.sme_missions.c, t.mission_currencies.c
    summaries = []
    for m in conn.execute(query).all():
        figures = conn.execute(
            select(func.count(), func.sum(sm.requested), func.sum(sm.approved), func.sum(sm.paid)).where(
                sm.mission_id == m.id
            )
        ).one()
        currencies = conn.execute(select(t.mission_currencies).where(mc.mission_id == m.id).order_by(mc.currency))
        summaries.append(
            MissionSummary(
                id=m.id,
                code=m.code,
                country=m.country,
                city=m.city,
                start=m.start,
                end=m.end,
                partner=m.partner,
                reimbursement_rate=m.reimbursement_rate,
                cap_per_sme=m.cap_per_sme,
                cost_types=tuple(m.cost_types.split(",")),
                smes_selected=int(figures[0]),
                claims_by_state=_claims_by_state(conn, t.claims.c.mission_id, m.id),
                requested=figures[1] if figures[1] is not None else ZERO,
                approved=figures[2] if figures[2] is not None else ZERO,
                paid=figures[3] if figures[3] is not None else ZERO,
                by_currency={r.currency: (r.claimed, r.accepted, r.accepted_eur) for r in currencies},
            )
        )
    return summaries


# --- claims and the audit trail ----------------------------------------------------------
@dataclass(frozen=True)
class ClaimFilter:
    state: str | None = None
    mission_id: str | None = None
    sme_id: str | None = None
    partner: str | None = None


def list_claims(
    conn: Connection, where: ClaimFilter | None = None, *, offset: int = 0, limit: int = 50
) -> tuple[list[Any], int]:
    """Claims matching the filter, oldest first, one page; and how many match in all."""
    where = where or ClaimFilter()
    c = t.claims.c
    conditions = [
        column == value
        for column, value in (
            (c.state, where.state),
            (c.mission_id, where.mission_id),
            (c.sme_id, where.sme_id),
            (c.partner, where.partner),
        )
        if value is not None
    ]
    count = int(conn.execute(select(func.count()).select_from(t.claims).where(*conditions)).scalar_one())
    rows = conn.execute(
        select(t.claims).where(*conditions).order_by(c.position, c.id).offset(offset).limit(limit)
    ).all()
    return list(rows), count


@dataclass(frozen=True)
class ClaimDetail:
    claim: Any
    lines: list[Any]
    history: list[Any]
    #: Every payment of the claim, reversed or not, in the order of their value dates.
    payments: list[Any] = field(default_factory=list)


def claim_detail(conn: Connection, claim_id: str) -> ClaimDetail | None:
    claim = conn.execute(select(t.claims).where(t.claims.c.id == claim_id)).one_or_none()
    if claim is None:
        return None
    lines = conn.execute(
        select(t.claim_lines).where(t.claim_lines.c.claim_id == claim_id).order_by(t.claim_lines.c.line_no)
    ).all()
    history = conn.execute(
        select(t.claim_history).where(t.claim_history.c.claim_id == claim_id).order_by(t.claim_history.c.version)
    ).all()
    p = t.payments.c
    payments = conn.execute(select(t.payments).where(p.claim_id == claim_id).order_by(p.value_date, p.id)).all()
    return ClaimDetail(claim, list(lines), list(history), list(payments))


@dataclass(frozen=True)
class AuditFilter:
    aggregate_id: str | None = None
    aggregate_type: str | None = None
    actor_id: str | None = None
    event_type: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    after_position: int | None = None
    before_position: int | None = None


def audit_trail(
    conn: Connection, where: AuditFilter | None = None, *, limit: int = 100, newest_first: bool = False
) -> list[dict[str, Any]]:
    """Audit rows in event order, or the newest first (page on with ``after_position``, or
    ``before_position`` going back), payload decoded."""
    where = where or AuditFilter()
    a = t.audit.c
    conditions = []
    for column, value in (
        (a.aggregate_id, where.aggregate_id),
        (a.aggregate_type, where.aggregate_type),
        (a.actor_id, where.actor_id),
        (a.event_type, where.event_type),
    ):
        if value is not None:
            conditions.append(column == value)
    if where.effective_from is not None:
        conditions.append(a.effective_date >= where.effective_from)
    if where.effective_to is not None:
        conditions.append(a.effective_date <= where.effective_to)
    if where.after_position is not None:
        conditions.append(a.position > where.after_position)
    if where.before_position is not None:
        conditions.append(a.position < where.before_position)
    order = a.position.desc() if newest_first else a.position
    rows = conn.execute(select(t.audit).where(*conditions).order_by(order).limit(limit)).mappings().all()
    return [dict(row) | {"payload": json.loads(row["payload"])} for row in rows]
