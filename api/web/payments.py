"""Corrections on a claim's page (issue 12), for an officer of the claim's partner: record a
payment (a partial one leaves the claim partly paid), reverse a payment (a bank return), settle
a partly paid claim short, revoke an approval with nothing paid (or revoke and reject at once).

Each form posts to the same Application method as the JSON API's; its amount is read as the
API reads one (a plain decimal text, EUR, within its cents: ledger.money). A refusal is shown
beside the form, or beside its field, in the ledger's words, with what was typed kept, and
nothing is recorded; a correction recorded redirects to the claim's page (POST-redirect-GET).
Anyone else sees no form, and a POST of theirs is a 403 page by the ledger's own rule.

A payment's id is a random one put in the form when the page is drawn, so that the same form
sent twice (a double click, a reload) records one payment, as an Idempotency-Key does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.context import LedgerContext
from api.web.claims import act_on_claim, claim_id_of
from api.web.forms import form_id, typed_date, typed_eur
from api.web.reads import books
from api.web.session import Form, FormDep, SessionDep, WebRefusal
from api.web.writes import FieldRefusal as FieldRefusal  # importable from here, as before
from ledger.money import Money
from projections import lists

router = APIRouter(include_in_schema=False)

#: What each form's date is called in a refusal of it.
DATES = {
    "pay": "the value date",
    "reverse": "the reversal date",
    "settle": "the settlement date",
    "revoke": "the revocation date",
}


def eur(text: str) -> Money:
    """An amount in EUR, read exactly as the JSON API reads one (a plain decimal string, then
    Money, which refuses more decimals than cents)."""
    return typed_eur(text, "amount", "the amount")


def on_date(form: Form, action: str) -> date:
    return typed_date(form.get("on"), "on", DATES[action])


#: What each correction does, as the ledger's refusal names it.
ACTIONS = {
    "pay": "record payments of this claim",
    "reverse": "reverse this payment",
    "settle": "settle this claim",
    "revoke": "revoke the approval of this claim",
}


def _correct(
    request: Request,
    session: SessionDep,
    form: Form,
    claim_id: str,
    action: str,
    command: Callable[[LedgerContext], Any],
    **kept: str,
) -> Response:
    """Run ``command`` (one Application method); the claim's page shows the outcome."""
    values = {"on": form.get("on"), "reason": form.get("reason"), "action": action, **kept}
    return act_on_claim(request, session.actor, claim_id_of(claim_id), values, ACTIONS[action], command)


@router.post("/claims/{claim_id}/payments")
def record_payment(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    payment_id = form_id(form.get("payment_id"))

    def command(context: LedgerContext) -> Any:
        amount, on = eur(form.get("amount")), on_date(form, "pay")
        return context.app.record_payment(
            actor=session.actor,
            payment_id=payment_id,
            claim_id=claim_id_of(claim_id),
            amount=amount,
            bank_reference=form.get("bank_reference"),
            on=on,
        )

    kept = {"amount": form.get("amount"), "bank_reference": form.get("bank_reference"), "payment_id": str(payment_id)}
    return _correct(request, session, form, claim_id, "pay", command, **kept)


@router.post("/claims/{claim_id}/payments/{payment_id}/reversal")
def reverse_payment(request: Request, session: SessionDep, form: FormDep, claim_id: str, payment_id: str) -> Response:
    try:
        payment = UUID(payment_id)
    except ValueError:
        raise WebRefusal(404, "No such payment", f"{payment_id[:40]!r} is not a payment's id") from None
    uuid = claim_id_of(claim_id)
    with books(request) as conn:
        rows, _count = lists.list_payments(conn, lists.PaymentFilter(claim_id=str(uuid)), limit=10_000)
    if str(payment) not in {row.id for row in rows}:
        raise WebRefusal(
            404, "No such payment", f"payment {payment} is not a payment of claim {uuid}; its page lists them"
        )

    def command(context: LedgerContext) -> Any:
        on = on_date(form, "reverse")
        return context.app.reverse_payment(actor=session.actor, payment_id=payment, reason=form.get("reason"), on=on)

    return _correct(request, session, form, claim_id, "reverse", command, payment=str(payment))


@router.post("/claims/{claim_id}/settlement")
def settle_claim(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    def command(context: LedgerContext) -> Any:
        on = on_date(form, "settle")
        return context.app.settle_claim(
            actor=session.actor, claim_id=claim_id_of(claim_id), reason=form.get("reason"), on=on
        )

    return _correct(request, session, form, claim_id, "settle", command)


@router.post("/claims/{claim_id}/revocation")
def revoke_approval(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    reject = form.get("reject") == "yes"

    def command(context: LedgerContext) -> Any:
        on = on_date(form, "revoke")
        return context.app.revoke_approval(
            actor=session.actor, claim_id=claim_id_of(claim_id), reason=form.get("reason"), on=on, reject=reject
        )

    return _correct(request, session, form, claim_id, "revoke", command, reject="yes" if reject else "")
