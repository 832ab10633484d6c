"""SME claims: record, decide (approve fully or partly, reject, withdraw), pay, correct (revoke an
approval, settle short), and read."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._query import in_query
from api.routes._write import then_read
from api.schemas import (
    MAX_POSITION,
    ApprovalCreate,
    ClaimCreate,
    ClaimPublic,
    ClosureCreate,
    Page,
    PaymentCreate,
    PaymentPublic,
    RevocationCreate,
    SettlementCreate,
    Written,
)
from api.views import claim_by_id, claim_public, money, new_id, payment_by_id
from ledger.actors import Role
from ledger.claim import ClaimState, ExpenseLine, LineDecision
from projections import codes
from projections import queries as q

STATES = ", ".join(state.value for state in ClaimState)
router = APIRouter(prefix="/claims", tags=["claims"], route_class=GuardedRoute)


@router.post("", status_code=201, response_model=Written[ClaimPublic], summary="Record a claim an SME submitted")
@allowed(Role.OFFICER)
def submit_claim(
    body: ClaimCreate, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[ClaimPublic]:
    """Officers of the mission's responsible partner. Each receipt may be declared once in the
    whole ledger; foreign amounts need the month's rate recorded first."""
    claim_id = context.app.submit_claim(
        actor=actor,
        claim_id=new_id(request, actor, body.id),
        sme_id=body.sme_id,
        mission_id=body.mission_id,
        lines=[
            ExpenseLine(line.cost_type, line.expense_date, money(line.amount), line.receipt_ref, line.description)
            for line in body.lines
        ],
        on=body.on,
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: claim_by_id(conn, claim_id))
    return Written(position=position, data=data)


@router.get("", response_model=Page[ClaimPublic], summary="Claims")
def claims(
    conn: ReadDep,
    _actor: ActorDep,
    state: Annotated[
        str | None, Query(max_length=40, description=f"Only claims in this state: {STATES} (any case)")
    ] = None,
    mission: Annotated[
        str | None, Query(max_length=200, description="The mission's id or its code, e.g. JPN-2023 (any case)")
    ] = None,
    sme: Annotated[
        str | None,
        Query(max_length=200, description="The SME's id or its identifier (VAT or national number, as registered)"),
    ] = None,
    partner: Annotated[
        str | None, Query(max_length=200, description="Partner charged, e.g. POINTEX (any case)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ClaimPublic]:
    """Claims in the order they were recorded, filtered, one page at a time. A state, mission,
    SME or partner that does not exist is a 422 naming the valid ones, not an empty page."""
    where = q.ClaimFilter(
        state=in_query("state", state, codes.claim_state),
        mission_id=in_query("mission", mission, lambda text: codes.mission_id_of(conn, text)),
        sme_id=in_query("sme", sme, lambda text: codes.sme_id_of(conn, text)),
        partner=in_query("partner", partner, lambda text: codes.partner_code(conn, text)),
    )
    rows, count = q.list_claims(conn, where, offset=offset, limit=limit)
    return Page(data=[claim_public(row) for row in rows], count=count)


@router.get("/{claim_id}", response_model=ClaimPublic, summary="One claim with its lines and history")
def claim(claim_id: UUID, conn: ReadDep, _actor: ActorDep) -> ClaimPublic:
    return claim_by_id(conn, claim_id)


@router.post("/{claim_id}/approve", response_model=Written[ClaimPublic], summary="Approve a claim, fully or partly")
@allowed(Role.OFFICER)
def approve_claim(
    claim_id: UUID, body: ApprovalCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[ClaimPublic]:
    """Officers of the partner charged. approved = min(rate x accepted EUR costs, what remains of
    the SME's caps); the partner's FSTP line must have room for it."""
    context.app.approve_claim(
        actor=actor,
        claim_id=claim_id,
        on=body.on,
        reason=body.reason,
        decisions=[LineDecision(d.line_no, money(d.accepted), d.reason) for d in body.decisions],
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: claim_by_id(conn, claim_id))
    return Written(position=position, data=data)


@router.post("/{claim_id}/reject", response_model=Written[ClaimPublic], summary="Reject a claim")
@allowed(Role.OFFICER)
def reject_claim(
    claim_id: UUID, body: ClosureCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[ClaimPublic]:
    """Officers of the partner charged, with the reason; its receipts may be declared again."""
    context.app.reject_claim(actor=actor, claim_id=claim_id, reason=body.reason, on=body.on)
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: claim_by_id(conn, claim_id))
    return Written(position=position, data=data)


@router.post("/{claim_id}/withdraw", response_model=Written[ClaimPublic], summary="Withdraw a claim")
@allowed(Role.OFFICER)
def withdraw_claim(
    claim_id: UUID, body: ClosureCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[ClaimPublic]:
    """The SME withdrew it; recorded by an officer of the partner charged."""
    context.app.withdraw_claim(actor=actor, claim_id=claim_id, reason=body.reason, on=body.on)
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: claim_by_id(conn, claim_id))
    return Written(position=position, data=data)


@router.post(
    "/{claim_id}/payments", status_code=201, response_model=Written[PaymentPublic], summary="Record the reimbursement"
)
@allowed(Role.OFFICER)
def record_payment(
    claim_id: UUID, body: PaymentCreate, request: Request, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[PaymentPublic]:
    """Officers of the partner charged: any positive EUR amount up to what is outstanding
    (approved - paid - settled short). Less leaves the rest committed and the claim partly paid;
    a further payment may pay it, or the rest may be settled short."""
    payment_id = context.app.record_payment(
        actor=actor,
        payment_id=new_id(request, actor, body.id),
        claim_id=claim_id,
        amount=money(body.amount),
        bank_reference=body.bank_reference,
        on=body.on,
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: payment_by_id(conn, payment_id))
    return Written(position=position, data=data)


@router.post("/{claim_id}/revocation", response_model=Written[ClaimPublic], summary="Revoke an approval")
@allowed(Role.OFFICER)
def revoke_approval(
    claim_id: UUID, body: RevocationCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[ClaimPublic]:
    """Officers of the partner charged, with the reason. Only a claim with nothing paid: it is
    submitted again (or rejected with ``reject``), its commitment released on the FSTP line and
    its support on the SME's caps. A claim with a live payment is 409: reverse the payment first."""
    context.app.revoke_approval(actor=actor, claim_id=claim_id, reason=body.reason, on=body.on, reject=body.reject)
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: claim_by_id(conn, claim_id))
    return Written(position=position, data=data)


@router.post("/{claim_id}/settlement", response_model=Written[ClaimPublic], summary="Settle a partly paid claim short")
@allowed(Role.OFFICER)
def settle_claim(
    claim_id: UUID, body: SettlementCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[ClaimPublic]:
    """Officers of the partner charged, with the reason: what a partly paid claim still has
    outstanding will not be paid. It is released on the FSTP line and the SME's caps; the claim
    is paid, with that amount settled short."""
    context.app.settle_claim(actor=actor, claim_id=claim_id, reason=body.reason, on=body.on)
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: claim_by_id(conn, claim_id))
    return Written(position=position, data=data)
