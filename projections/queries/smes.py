"""SMEs and missions: each SME's support per mission against its caps, each mission's SMEs,
claims by state and totals in EUR and per currency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from projections import tables as t
from projections.queries.budget import ZERO
from projections.queries.claims import CLAIM_STATES


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
