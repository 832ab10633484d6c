"""The budget's figures: every partner x category line and the grant's totals, read now, "as
recorded up to" a position or a moment (what the books said then: every event recorded by
then, whatever its business date), or "as effective on" a business date (every event whose
effective date is on or before it, as known now).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import Connection, func, select

from ledger.grant import Category
from projections import tables as t
from projections.batch import MEASURES
from projections.statements import books_figures, reporting_terms

ZERO = Decimal("0.00")
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
