"""Payments: a bank return reverses one."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._write import then_read
from api.schemas import PaymentPublic, ReversalCreate, Written
from api.views import payment_by_id
from ledger.actors import Role

router = APIRouter(prefix="/payments", tags=["payments"], route_class=GuardedRoute)


@router.get("/{payment_id}", response_model=PaymentPublic, summary="One payment")
def payment(payment_id: UUID, conn: ReadDep, _actor: ActorDep) -> PaymentPublic:
    return payment_by_id(conn, payment_id)


@router.post("/{payment_id}/reversal", response_model=Written[PaymentPublic], summary="Reverse a payment")
@allowed(Role.OFFICER)
def reverse_payment(
    payment_id: UUID, body: ReversalCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[PaymentPublic]:
    """A bank return undoes exactly this payment: what it paid is committed again and the claim
    is partly paid again (approved when nothing remains paid). Never refused by the budget."""
    context.app.reverse_payment(actor=actor, payment_id=payment_id, reason=body.reason, on=body.on)
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: payment_by_id(conn, payment_id))
    return Written(position=position, data=data)
