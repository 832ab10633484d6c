"""Claims (filtered, one page at a time; one with its lines, history and payments) and the
audit trail (filtered, in event order or the newest first)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from projections import tables as t

CLAIM_STATES = ("submitted", "approved", "partly_paid", "paid", "rejected", "withdrawn")


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
