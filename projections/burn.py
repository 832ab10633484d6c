"""Burn over business time: for each budget line, and summed per partner or over any lines,
the figures (allocated, pending, committed, paid, own costs spent) as effective on each business
date where one of them changed, cumulated from the budget movements the read models keep
(rm_budget_movements, the same rows as ``queries.budget_overview`` reads "as of").

The books can be read as recorded up to a position (``AsOf(position=...)``: what was known
then, on every business date) or up to an effective date (``AsOf(effective=...)``: the series
stops there). A series' last point is the line's figures in ``budget_overview`` at that date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, func, select

from projections import tables as t
from projections.batch import MEASURES
from projections.queries import ZERO, AsOf

Key = tuple[str, str]


@dataclass(frozen=True)
class BurnPoint:
    """The figures as effective on ``on`` (every movement dated on or before it)."""

    on: date
    allocated: Decimal
    pending: Decimal
    committed: Decimal
    paid: Decimal
    spent: Decimal

    @property
    def used(self) -> Decimal:
        """What is taken off the allocation: committed, paid and own costs."""
        return self.committed + self.paid + self.spent

    @property
    def remaining(self) -> Decimal:
        return self.allocated - self.used


@dataclass(frozen=True)
class Series:
    """The cumulative figures of some lines: one point per business date where one changed."""

    points: tuple[BurnPoint, ...]

    def at(self, day: date) -> BurnPoint:
        """The figures as effective on ``day`` (zero before the first movement)."""
        found = BurnPoint(day, ZERO, ZERO, ZERO, ZERO, ZERO)
        for point in self.points:
            if point.on > day:
                break
            found = point
        return found

    @property
    def last(self) -> BurnPoint | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True)
class Burn:
    """Every line's series, the action period, and the dates the movements span."""

    period_start: date
    period_end: date
    #: (partner, category) -> the line's daily changes: date -> measure -> delta
    changes: dict[Key, dict[date, dict[str, Decimal]]]
    as_of: AsOf

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(sorted(self.changes))

    @property
    def partners(self) -> tuple[str, ...]:
        return tuple(sorted({partner for partner, _ in self.changes}))

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({category for _, category in self.changes}))

    def series(self, keys: Iterable[Key]) -> Series:
        """The sum of the lines ``keys``, cumulated over business dates."""
        daily: dict[date, dict[str, Decimal]] = {}
        for key in keys:
            for day, deltas in self.changes.get(key, {}).items():
                into = daily.setdefault(day, dict.fromkeys(MEASURES, ZERO))
                for measure, delta in deltas.items():
                    into[measure] += delta
        running = dict.fromkeys(MEASURES, ZERO)
        points = []
        for day in sorted(daily):
            for measure in MEASURES:
                running[measure] += daily[day][measure]
            points.append(BurnPoint(day, *(running[m] for m in MEASURES)))
        return Series(tuple(points))

    def line(self, partner: str, category: str) -> Series:
        return self.series([(partner, category)])

    def partner(self, partner: str) -> Series:
        return self.series(key for key in self.changes if key[0] == partner)

    def category(self, category: str) -> Series:
        return self.series(key for key in self.changes if key[1] == category)

    def grant(self) -> Series:
        return self.series(self.changes)


def burn(conn: Connection, as_of: AsOf | None = None) -> Burn | None:
    """Every budget line's movements summed per business date; None before the grant is
    signed (or when the books asked for hold no grant yet, as ``budget_overview``)."""
    as_of = as_of or AsOf()
    g = conn.execute(select(t.grant)).one_or_none()
    if g is None:
        return None
    if as_of.position is not None and g.position > as_of.position:
        return None
    if as_of.effective is not None and g.signed_on > as_of.effective:
        return None
    m = t.movements.c
    query = select(m.partner, m.category, m.effective_date, m.measure, func.sum(m.delta).label("total")).group_by(
        m.partner, m.category, m.effective_date, m.measure
    )
    if as_of.position is not None:
        query = query.where(m.position <= as_of.position)
    if as_of.effective is not None:
        query = query.where(m.effective_date <= as_of.effective)
    changes: dict[Key, dict[date, dict[str, Decimal]]] = {}
    for row in conn.execute(query):
        days = changes.setdefault((row.partner, row.category), {})
        days.setdefault(row.effective_date, {})[row.measure] = row.total
    if as_of.now:  # every line, as budget_overview lists them now, even one that never moved
        for partner, category in conn.execute(select(t.budget_lines.c.partner, t.budget_lines.c.category)):
            changes.setdefault((partner, category), {})
    return Burn(g.period_start, g.period_end, changes, as_of)


def line_ids(conn: Connection) -> dict[Key, str]:
    """The id of each budget line (its record in the audit trail)."""
    b = t.budget_lines.c
    return {(row.partner, row.category): row.line_id for row in conn.execute(select(b.partner, b.category, b.line_id))}
