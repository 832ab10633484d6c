"""The audit trail: one row per event, who did what, when, to which record, and why."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import ActorDep, ContextDep, ReadDep
from api.edge import GuardedRoute
from api.routes import exports
from api.schemas import MAX_POSITION, AuditEventPublic, BadSnapshotPublic, EntityHistory, IsoDate, VerdictPublic
from api.views import not_found
from ledger.actors import Role, require_role
from projections import queries as q
from projections.chain import Anchor
from projections.close import verify_history as verify_all
from projections.history import VersionNotRecorded, record_history
from projections.snapshots import check_snapshots

router = APIRouter(prefix="/audit", tags=["audit"], route_class=GuardedRoute)


@router.get("/events", response_model=list[AuditEventPublic], summary="The audit trail")
def events(
    conn: ReadDep,
    _actor: ActorDep,
    aggregate_id: Annotated[UUID | None, Query(description="Only this record's events")] = None,
    aggregate_type: Annotated[str | None, Query(description="Claim, BudgetLine, Sme, Mission...")] = None,
    actor: Annotated[str | None, Query(description="Only this user's events")] = None,
    event_type: Annotated[str | None, Query(description="Approved, Submitted, ...")] = None,
    effective_from: Annotated[IsoDate | None, Query()] = None,
    effective_to: Annotated[IsoDate | None, Query()] = None,
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


@router.get("/entities/{aggregate_id}", response_model=EntityHistory, summary="One record's history and state")
def entity_history(
    aggregate_id: UUID,
    conn: ReadDep,
    _actor: ActorDep,
    context: ContextDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_POSITION, description="State as of this version")] = None,
) -> EntityHistory:
    """Every event of one claim, SME, mission, budget line (any record): who, role, when recorded,
    business date, reason and payload; and the record's state as it was at ``version`` (default:
    the latest version)."""
    try:
        history = record_history(conn, context.app, aggregate_id, version)
    except VersionNotRecorded as error:
        raise not_found(str(error)) from None
    if history is None:
        raise not_found(f"record {aggregate_id}")
    return EntityHistory(
        aggregate_id=history.aggregate_id,
        aggregate_type=history.aggregate_type,
        version=history.version,
        state=history.state,
        events=[AuditEventPublic(**row) for row in history.events if row["version"] <= history.version],
    )


@router.get("/verify", response_model=VerdictPublic, summary="Verify the hash chain over the stored events")
def verify_history(
    actor: ActorDep,
    context: ContextDep,
    expect_head: Annotated[
        str | None,
        Query(description="A head written down before: POSITION:SEAL as `head` gives it, or the seal alone"),
    ] = None,
) -> VerdictPublic:
    """Auditors only. Recomputes every seal from the raw stored events and reports the first
    position where the store and the seals disagree (a changed byte, a deleted, inserted or
    moved row, a removed seal), or the head seal and its position when the history is intact;
    recomputes every signed or submitted statement from the events up to its position
    (``statement_problems``: the partner, period and figure that differ); checks the bytes of
    every supporting document ever attached against its digest (``document_problems``: the claim
    and line or the cost of each one missing or altered); checks every stored
    snapshot against the events it summarises (``bad_snapshots``); and with
    ``?expect_head=``, whether the recomputed chain has that head (anchor_matches)."""
    require_role(actor, "verify the stored history", Role.AUDITOR)
    anchor = None if expect_head is None else Anchor.parse(expect_head)
    verdict = verify_all(context.app, context.read_db, expect_head=anchor)
    snapshots = check_snapshots(context.app)
    return VerdictPublic(
        intact=verdict.intact,
        checked=verdict.checked,
        head_position=verdict.head_position,
        head_seal=verdict.head_seal,
        first_bad_position=verdict.first_bad_position,
        problem=verdict.problem,
        unsealed=verdict.unsealed,
        head=verdict.head,
        anchor_matches=verdict.anchored,
        anchor_problem=verdict.anchor_problem,
        snapshots_checked=snapshots.checked,
        bad_snapshots=[
            BadSnapshotPublic(
                aggregate_type=f.aggregate_type, aggregate_id=str(f.aggregate_id), version=f.version, problem=f.problem
            )
            for f in snapshots.findings
        ],
        snapshots_rejected=context.app.snapshot_tally.tampered,
        statements_checked=verdict.statements,
        statement_problems=list(verdict.statement_problems),
        documents_checked=verdict.documents,
        document_problems=list(verdict.document_problems),
        summary=str(verdict),
    )


router.include_router(exports.router)  # the downloads: /audit/exports/...
