"""Payments: listed, read, and reversed (a bank return)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._query import in_query
from api.routes._write import then_read
from api.schemas import MAX_POSITION, IsoDate, Page, PaymentPublic, ReversalCreate, Written
from api.views import payment_by_id, payment_public
from ledger.actors import Role
from projections import codes, lists

router = APIRouter(prefix="/payments", tags=["payments"], route_class=GuardedRoute)


@router.get("", response_model=Page[PaymentPublic], summary="Payments")
def payments(
    conn: ReadDep,
    _actor: ActorDep,
    partner: Annotated[str | None, Query(max_length=200, description="Paid by this partner, e.g. POINTEX")] = None,
    claim: Annotated[str | None, Query(max_length=200, description="Paying this claim (its id)")] = None,
    sme: Annotated[
        str | None, Query(max_length=200, description="Paid to this SME: its id or its identifier, as registered")
    ] = None,
    reversed: Annotated[bool | None, Query(description="Only reversed payments (true) or live ones (false)")] = None,
    start: Annotated[IsoDate | None, Query(alias="from", description="Value dates from this day")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="Value dates up to this day")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[PaymentPublic]:
    """Payments, the latest value date first. A partner, claim or SME that does not exist is a
    422 saying so (naming the partners), not an empty page."""
    where = lists.PaymentFilter(
        partner=in_query("partner", partner, lambda text: codes.partner_code(conn, text)),
        claim_id=in_query("claim", claim, lambda text: codes.claim_id_of(conn, text)),
        sme_id=in_query("sme", sme, lambda text: codes.sme_id_of(conn, text)),
        reversed=reversed,
        start=start,
        end=end,
    )
    rows, count = lists.list_payments(conn, where, offset=offset, limit=limit)
    return Page(data=[payment_public(row) for row in rows], count=count)


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
