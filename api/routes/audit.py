"""The audit trail: one row per event, who did what, when, to which record, and why."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.deps import ActorDep, ContextDep, ReadDep
from api.edge import GuardedRoute
from api.schemas import MAX_POSITION, AuditEventPublic, BadSnapshotPublic, EntityHistory, IsoDate, VerdictPublic
from api.views import not_found
from ledger.actors import Role, require_role
from projections import export, journal
from projections import queries as q
from projections.batch import plain
from projections.chain import Anchor, Stamp, stamp, verify
from projections.snapshots import check_snapshots

router = APIRouter(prefix="/audit", tags=["audit"], route_class=GuardedRoute)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class JournalKind(StrEnum):
    HLEDGER = "journal"
    BEANCOUNT = "beancount"


class ExportTable(StrEnum):
    AUDIT_TRAIL = "audit_trail"
    CLAIMS = "claims"
    BUDGET = "budget"
    SME_SUPPORT = "sme_support"


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
    events = q.audit_trail(conn, q.AuditFilter(aggregate_id=str(aggregate_id)), limit=100_000)
    if not events:
        raise not_found(f"record {aggregate_id}")
    latest = events[-1]["version"]
    at = latest if version is None else version
    if at > latest:
        raise not_found(f"version {at} of record {aggregate_id} (it has {latest})")
    aggregate = context.app.aggregate_at(aggregate_id, at)
    state = {k: plain(v) for k, v in vars(aggregate).items() if not k.startswith("_")}
    return EntityHistory(
        aggregate_id=str(aggregate_id),
        aggregate_type=events[0]["aggregate_type"],
        version=at,
        state=state,
        events=[AuditEventPublic(**row) for row in events if row["version"] <= at],
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
    checks every stored snapshot against the events it summarises (``bad_snapshots``); and with
    ``?expect_head=``, whether the recomputed chain has that head (anchor_matches)."""
    require_role(actor, "verify the stored history", Role.AUDITOR)
    anchor = None if expect_head is None else Anchor.parse(expect_head)
    verdict = verify(context.app, context.read_db, expect_head=anchor)
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
        summary=str(verdict),
    )


@router.get(
    "/exports/{table}.csv",
    response_class=Response,
    summary="Download one table as CSV",
    responses={200: {"content": {"text/csv": {}}, "description": "The table as CSV"}},
)
def export_csv(table: ExportTable, actor: ActorDep, context: ContextDep) -> Response:
    """Auditors only: audit_trail, claims, budget or sme_support, amounts as exact decimals; the
    head it was made at in X-Ledger-Position and X-Ledger-Head-Seal."""
    require_role(actor, "export the books", Role.AUDITOR)
    with context.read_db.reading(snapshot=True) as conn:
        at = stamp(conn)
        sheet = next(s for s in export.sheets(conn) if s.name == table.value)
    return Response(
        export.to_csv(sheet),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{table.value}.csv"', **_head(at)},
    )


@router.get(
    "/exports/ledger.xlsx",
    response_class=Response,
    summary="Download every table as one XLSX workbook",
    responses={200: {"content": {XLSX: {}}, "description": "The workbook"}},
)
def export_xlsx(actor: ActorDep, context: ContextDep) -> Response:
    """Auditors only: a first sheet "export" with the head it was made at, then one sheet per table."""
    require_role(actor, "export the books", Role.AUDITOR)
    with context.read_db.reading(snapshot=True) as conn:
        at = stamp(conn)
        tables = export.sheets(conn)
    return Response(
        export.to_xlsx([export.cover(at), *tables]),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="grantledger.xlsx"', **_head(at)},
    )


@router.get(
    "/exports/ledger.{kind}",
    response_class=Response,
    summary="Download the whole ledger as an hledger or beancount journal",
    responses={200: {"content": {"text/plain": {}}, "description": "The journal"}},
)
def export_journal(kind: JournalKind, actor: ActorDep, context: ContextDep) -> Response:
    """Auditors only: ledger.journal (hledger) or ledger.beancount; `hledger bal Assets:Budget`
    or beancount reproduce the budget overview to the cent. Comment lines on top name the head."""
    require_role(actor, "export the books", Role.AUDITOR)
    with context.read_db.reading(snapshot=True) as conn:
        at = stamp(conn)
        text = journal.hledger(conn) if kind is JournalKind.HLEDGER else journal.beancount(conn)
    return Response(
        journal.stamped(text, at),
        media_type="text/plain",
        headers={"Content-Disposition": f'attachment; filename="grantledger.{kind.value}"', **_head(at)},
    )


def _head(at: Stamp) -> dict[str, str]:
    """The head an export was made at, as response headers."""
    return {"X-Ledger-Position": str(at.position), "X-Ledger-Head-Seal": at.head_seal}
