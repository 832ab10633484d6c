"""SME support against its caps: each SME selected for a mission with what was requested,
approved and paid for it there, beside the mission's cap per SME and the grant's overall cap
per third party (what the mission's page and the SME's page show)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, func, select

from projections import tables as t

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SelectedSme:
    """One SME on one mission: its support there against the mission's cap per SME, and its
    support on every mission against the grant's overall cap."""

    sme_id: str
    legal_name: str
    identifier: str
    country: str
    selected_on: date
    requested: Decimal
    approved: Decimal
    paid: Decimal
    cap: Decimal
    approved_overall: Decimal
    overall_cap: Decimal

    @property
    def remaining(self) -> Decimal:
        """What the mission's cap per SME still allows this SME."""
        return self.cap - self.approved

    @property
    def remaining_overall(self) -> Decimal:
        return self.overall_cap - self.approved_overall


def mission_support(conn: Connection, mission_id: str) -> list[SelectedSme]:
    """The SMEs selected for a mission, by legal name, with their support there and overall."""
    sm, s, m = t.sme_missions.c, t.smes.c, t.missions.c
    overall_cap = conn.execute(select(t.grant.c.sme_support_cap)).scalar() or ZERO
    everywhere = select(sm.sme_id, func.sum(sm.approved).label("approved")).group_by(sm.sme_id).subquery("everywhere")
    rows = conn.execute(
        select(
            s.id,
            s.legal_name,
            s.identifier,
            s.country,
            sm.selected_on,
            sm.requested,
            sm.approved,
            sm.paid,
            m.cap_per_sme,
            everywhere.c.approved.label("approved_overall"),
        )
        .join(t.smes, s.id == sm.sme_id)
        .join(t.missions, m.id == sm.mission_id)
        .join(everywhere, everywhere.c.sme_id == sm.sme_id)
        .where(sm.mission_id == mission_id)
        .order_by(s.legal_name, s.id)
    ).all()
    return [
        SelectedSme(
            sme_id=row.id,
            legal_name=row.legal_name,
            identifier=row.identifier,
            country=row.country,
            selected_on=row.selected_on,
            requested=row.requested,
            approved=row.approved,
            paid=row.paid,
            cap=row.cap_per_sme,
            approved_overall=row.approved_overall,
            overall_cap=overall_cap,
        )
        for row in rows
    ]
