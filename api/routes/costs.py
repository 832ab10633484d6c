"""Partners' own costs."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import ActorDep, ContextDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._write import then_read
from api.schemas import CostCreate, CostPublic, Written
from api.views import cost_by_id, money, new_id
from ledger.actors import Role

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
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: cost_by_id(conn, cost_id))
    return Written(position=position, data=data)
