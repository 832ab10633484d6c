"""Corrections of records: an exchange rate (and the claims assessed with the old one), an
SME's registration, a payment record. Each is a new event with its reason; nothing is edited."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from sqlalchemy import Connection

from api.deps import ActorDep, ContextDep, ReadDep, SettingsDep
from api.edge import GuardedRoute, allowed
from api.routes._write import then_read
from api.schemas import (
    PaymentCorrectionCreate,
    PaymentPublic,
    RateAssessmentsPublic,
    RateCorrectionCreate,
    SmeCorrectionCreate,
    SmePublic,
    Written,
)
from api.schemas.common import CURRENCY, MONTH
from api.views import assessments_public, not_found, payment_by_id, sme_public
from ledger.actors import Role
from projections import queries as q

router = APIRouter(tags=["corrections"], route_class=GuardedRoute)

CurrencyPath = Annotated[str, Path(pattern=CURRENCY, description="ISO 4217 code, in any case, e.g. JPY")]
MonthPath = Annotated[str, Path(pattern=MONTH, description="YYYY-MM, e.g. 2023-03")]


@router.post(
    "/exchange-rates/{currency}/{month}/correction",
    response_model=Written[RateAssessmentsPublic],
    summary="Correct a monthly rate",
)
@allowed(Role.OFFICER, Role.COORDINATOR)
def correct_rate(
    currency: CurrencyPath,
    month: MonthPath,
    body: RateCorrectionCreate,
    actor: ActorDep,
    context: ContextDep,
    settings: SettingsDep,
) -> Written[RateAssessmentsPublic]:
    """Officers and the coordinator, with a reason. Conversions already stored keep the rate
    they used; the answer lists the claims assessed with the old rate, for an officer to decide."""
    code = currency.upper()
    context.app.correct_rate(
        actor=actor, currency=code, month=month, rate=body.rate, source=body.source, reason=body.reason
    )
    position, data = then_read(
        context, settings.read_your_writes_timeout, lambda conn: assessments_public(conn, code, month)
    )
    return Written(position=position, data=data)


@router.get(
    "/exchange-rates/{currency}/{month}/assessments",
    response_model=RateAssessmentsPublic,
    summary="Claims assessed with an earlier rate",
)
def assessments(currency: CurrencyPath, month: MonthPath, conn: ReadDep, _actor: ActorDep) -> RateAssessmentsPublic:
    """Every claim line in the currency and month whose stored conversion used another rate
    than the one recorded now: approved and paid claims by the approval's lines, submitted
    claims by the estimate at submission; with what each line gives at the rate now."""
    return assessments_public(conn, currency.upper(), month)


@router.post("/smes/{sme_id}/correction", response_model=Written[SmePublic], summary="Correct an SME's registration")
@allowed(Role.OFFICER, Role.COORDINATOR)
def correct_sme(
    sme_id: UUID, body: SmeCorrectionCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[SmePublic]:
    """Officers and the coordinator: the legal name and country, with a reason; the identifier stays."""
    context.app.correct_sme_registration(
        actor=actor, sme_id=sme_id, legal_name=body.legal_name, country=body.country, reason=body.reason, on=body.on
    )

    def read(conn: Connection) -> SmePublic:
        found = q.sme_summaries(conn, str(sme_id))
        if not found:
            raise not_found(f"SME {sme_id}")
        return sme_public(found[0])

    position, data = then_read(context, settings.read_your_writes_timeout, read)
    return Written(position=position, data=data)


@router.post(
    "/payments/{payment_id}/correction", response_model=Written[PaymentPublic], summary="Correct a payment record"
)
@allowed(Role.OFFICER)
def correct_payment(
    payment_id: UUID, body: PaymentCorrectionCreate, actor: ActorDep, context: ContextDep, settings: SettingsDep
) -> Written[PaymentPublic]:
    """Officers of the payment's partner: its bank reference or value date, with a reason."""
    context.app.correct_payment(
        actor=actor,
        payment_id=payment_id,
        bank_reference=body.bank_reference,
        value_date=body.value_date,
        reason=body.reason,
    )
    position, data = then_read(context, settings.read_your_writes_timeout, lambda conn: payment_by_id(conn, payment_id))
    return Written(position=position, data=data)
