"""Partners' own costs: record, list and read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._query import in_query
from api.routes._write import then_read
from api.schemas import MAX_POSITION, CostCreate, CostPublic, IsoDate, Page, Written
from api.views import cost_by_id, cost_public, money, new_id
from ledger.actors import Role
from projections import codes, lists

router = APIRouter(prefix="/costs", tags=["own costs"], route_class=GuardedRoute)


@router.post("", status_code=201, response_model=Written[CostPublic], summary="Record a partner's own cost")
@allowed(Role.OFFICER)
def record_cost(
    body: CostCreate, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[CostPublic]:
    """Officers of that partner: a cost in a direct category, converted to EUR at the month's rate."""
    cost_id = context.app.record_cost(
        actor=actor,
        cost_id=new_id(request, actor, body.id),
        partner=body.partner,
        category=body.category,
        amount=money(body.amount),
        document_ref=body.document_ref,
        description=body.description,
        on=body.on,
        declared_on=body.declared_on,
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: cost_by_id(conn, cost_id))
    return Written(position=position, data=data)


@router.get("", response_model=Page[CostPublic], summary="Own costs")
def costs(
    conn: ReadDep,
    _actor: ActorDep,
    partner: Annotated[
        str | None, Query(max_length=200, description="Only this partner's, e.g. NTT (any case)")
    ] = None,
    category: Annotated[
        str | None, Query(max_length=200, description="Only this cost category, e.g. TRAVEL (any case)")
    ] = None,
    start: Annotated[IsoDate | None, Query(alias="from", description="Cost dates from this day")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="Cost dates up to this day")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[CostPublic]:
    """Own costs, the latest cost date first. A partner or category that does not exist is a 422
    naming the valid ones."""
    where = lists.CostFilter(
        partner=in_query("partner", partner, lambda text: codes.partner_code(conn, text)),
        category=in_query("category", category, codes.category_code),
        start=start,
        end=end,
    )
    rows, count = lists.list_costs(conn, where, offset=offset, limit=limit)
    return Page(data=[cost_public(row) for row in rows], count=count)


@router.get("/{cost_id}", response_model=CostPublic, summary="One own cost")
def cost(cost_id: UUID, conn: ReadDep, _actor: ActorDep) -> CostPublic:
    return cost_by_id(conn, cost_id)
