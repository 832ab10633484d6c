"""Small reads for the pages people open first: the names behind ids, recent payments and
events, and the claims that have waited longest for a decision. Thin, like projections.queries,
and over the same read models (nothing here is computed twice)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Connection, func, select, type_coerce

from projections import tables as t
from projections.columns import Cents
from projections.queries import LineFigures


@dataclass(frozen=True)
class Labels:
    """What a person calls the records a claim names: mission codes and SME names."""

    missions: dict[str, str]
    smes: dict[str, str]

    def mission(self, mission_id: str) -> str:
        return self.missions.get(mission_id, mission_id)

    def sme(self, sme_id: str) -> str:
        return self.smes.get(sme_id, sme_id)


def labels(conn: Connection, rows: Iterable[Any] | None = None) -> Labels:
    """Every mission's code, and the legal names of the SMEs that ``rows`` (claims, payments:
    anything with an ``sme_id``) name, or of every SME without ``rows``. A page labels the rows
    it shows: reading every SME's name took 87 ms at 100k events (5,000 SMEs) for ten rows."""
    missions = {row.id: row.code for row in conn.execute(select(t.missions.c.id, t.missions.c.code))}
    s = t.smes.c
    query = select(s.id, s.legal_name)
    if rows is not None:
        query = query.where(s.id.in_(sorted({row.sme_id for row in rows if row.sme_id is not None})))
    smes = {row.id: row.legal_name for row in conn.execute(query)}
    return Labels(missions, smes)


def mission_codes(conn: Connection) -> list[str]:
    return list(conn.execute(select(t.missions.c.code).order_by(t.missions.c.code)).scalars())


def partner_codes(conn: Connection) -> list[str]:
    return list(conn.execute(select(t.partners.c.code).order_by(t.partners.c.code)).scalars())


def recent_payments(conn: Connection, partner: str | None = None, *, limit: int = 10) -> list[Any]:
    """The latest payments by value date (reversed ones too, marked so), newest first."""
    p = t.payments.c
    query = select(t.payments).order_by(p.value_date.desc(), p.id).limit(limit)
    if partner is not None:
        query = query.where(p.partner == partner)
    return list(conn.execute(query).all())


def waiting_longest(conn: Connection, partner: str | None = None, *, limit: int = 10) -> tuple[list[Any], int]:
    """Submitted claims, the longest waiting first (by submission date), and how many wait."""
    c = t.claims.c
    conditions = [c.state == "submitted"] + ([c.partner == partner] if partner is not None else [])
    count = int(conn.execute(select(func.count()).select_from(t.claims).where(*conditions)).scalar_one())
    rows = conn.execute(select(t.claims).where(*conditions).order_by(c.submitted_on, c.position).limit(limit)).all()
    return list(rows), count


def recent_events(conn: Connection, *, limit: int = 15) -> list[Any]:
    """The last events of the audit trail, newest first."""
    a = t.audit.c
    query = select(
        a.position, a.recorded_at, a.effective_date, a.actor_id, a.role, a.aggregate_type, a.aggregate_id, a.event_type
    )
    return list(conn.execute(query.order_by(a.position.desc()).limit(limit)).all())


#: A line is "nearly used up" when what remains of it is at most this share of its allocation.
NEARLY_USED = Decimal("0.10")


def nearly_used(lines: tuple[LineFigures, ...], share: Decimal = NEARLY_USED) -> list[LineFigures]:
    """Lines with an allocation whose remaining is at most ``share`` of it, the fullest first."""
    found = [line for line in lines if line.allocated > 0 and line.remaining <= line.allocated * share]
    return sorted(found, key=lambda line: line.remaining / line.allocated)


#: An SME is "close to a cap" when its approved support reaches this share of the cap: its
#: mission's cap per SME, or the grant's overall cap per third party.
NEAR_CAP = Decimal("0.80")


@dataclass(frozen=True)
class NearCap:
    """An SME whose approved support is close to one of its caps (``mission_code`` None: the
    grant's overall cap per third party)."""

    sme_id: str
    legal_name: str
    mission_code: str | None
    approved: Decimal
    cap: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.cap - self.approved


def smes_near_cap(conn: Connection, share: Decimal = NEAR_CAP, *, limit: int = 20) -> list[NearCap]:
    """SMEs whose approved support is at least ``share`` of a mission's cap per SME or of the
    overall cap, the closest to its cap first (then by name): at most ``limit`` of them. (The
    comparison is exact, in whole cents: approved x denominator >= cap x numerator.)"""
    sm, s, m = t.sme_missions.c, t.smes.c, t.missions.c
    numerator, denominator = share.as_integer_ratio()
    approved, cap = type_coerce(sm.approved, BigInteger), type_coerce(m.cap_per_sme, BigInteger)
    per_mission = conn.execute(
        select(s.id, s.legal_name, m.code, sm.approved, m.cap_per_sme)
        .join(t.smes, s.id == sm.sme_id)
        .join(t.missions, m.id == sm.mission_id)
        .where(cap > 0, approved * denominator >= cap * numerator)
    ).all()
    found = [NearCap(*row) for row in per_mission]
    overall_cap = conn.execute(select(t.grant.c.sme_support_cap)).scalar()
    if overall_cap:
        total = func.sum(approved)
        overall = conn.execute(
            select(s.id, s.legal_name, type_coerce(total, Cents))
            .join(t.smes, s.id == sm.sme_id)
            .group_by(s.id, s.legal_name)
            .having(total * denominator >= int(overall_cap * 100) * numerator)
        ).all()
        found += [NearCap(row[0], row[1], None, row[2], overall_cap) for row in overall]
    found.sort(key=lambda near: (near.remaining / near.cap, near.legal_name, near.mission_code or ""))
    return found[:limit]
