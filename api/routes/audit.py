"""The audit trail: one row per event, who did what, when, to which record, and why."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import ActorDep, ContextDep, ReadDep
from api.schemas import MAX_POSITION, AuditEventPublic, VerdictPublic
from ledger.actors import Role, require_role
from projections import queries as q
from projections.chain import verify

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/events", response_model=list[AuditEventPublic], summary="The audit trail")
def events(
    conn: ReadDep,
    _actor: ActorDep,
    aggregate_id: Annotated[UUID | None, Query(description="Only this record's events")] = None,
    aggregate_type: Annotated[str | None, Query(description="Claim, BudgetLine, Sme, Mission...")] = None,
    actor: Annotated[str | None, Query(description="Only this user's events")] = None,
    event_type: Annotated[str | None, Query(description="Approved, Submitted, ...")] = None,
    effective_from: Annotated[date | None, Query()] = None,
    effective_to: Annotated[date | None, Query()] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_POSITION, description="Page on: events after this position")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventPublic]:
    """Events in log order; page on with ?after=<last position seen>."""
    where = q.AuditFilter(
        aggregate_id=None if aggregate_id is None else str(aggregate_id),
        aggregate_type=aggregate_type,
        actor_id=actor,
        event_type=event_type,
        effective_from=effective_from,
        effective_to=effective_to,
        after_position=after,
    )
    return [AuditEventPublic(**row) for row in q.audit_trail(conn, where, limit=limit)]


@router.get("/verify", response_model=VerdictPublic, summary="Verify the hash chain over the stored events")
def verify_history(actor: ActorDep, context: ContextDep) -> VerdictPublic:
    """Auditors only. Recomputes every seal from the raw stored events and reports the first
    position where the store and the seals disagree (a changed byte, a deleted, inserted or
    moved row), or the head seal and its position when the history is intact."""
    require_role(actor, "verify the stored history", Role.AUDITOR)
    verdict = verify(context.app, context.read_db)
    return VerdictPublic(
        intact=verdict.intact,
        checked=verdict.checked,
        head_position=verdict.head_position,
        head_seal=verdict.head_seal,
        first_bad_position=verdict.first_bad_position,
        problem=verdict.problem,
        unsealed=verdict.unsealed,
        summary=str(verdict),
    )
