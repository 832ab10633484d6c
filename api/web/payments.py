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
from uuid import UUID, uuid4

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.context import LedgerContext
from api.routes._write import then_read
from api.schemas import parse_iso_date
from api.settings import Settings
from api.web.claims import claim_id_of, claim_page
from api.web.errors import ledger_refused, status_of
from api.web.reads import books
from api.web.rights import may_act_on_claim
from api.web.session import Form, FormDep, SessionDep, WebRefusal
from ledger.errors import LedgerError, NotAllowed
from ledger.money import Money, parse_decimal_text
from projections import lists

router = APIRouter(include_in_schema=False)

#: What each form's date is called in a refusal of it.
DATES = {
    "pay": "the value date",
    "reverse": "the reversal date",
    "settle": "the settlement date",
    "revoke": "the revocation date",
}


class FieldRefusal(Exception):
    """A field the route could not read (a date, an amount): shown beside that field."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def eur(text: str) -> Money:
    """An amount in EUR, read exactly as the JSON API reads one (a plain decimal string, then
    Money, which refuses more decimals than cents)."""
    try:
        return Money(parse_decimal_text(text, "the amount"), "EUR")
    except LedgerError as error:
        raise FieldRefusal("amount", error.detail) from None


def on_date(form: Form, action: str) -> date:
    try:
        return parse_iso_date(form.get("on"))
    except ValueError as error:
        raise FieldRefusal("on", f"{DATES[action]}: {error}") from None


def payment_id_of(text: str) -> UUID:
    """The form's random payment id (a fresh one if it is missing or not a random id)."""
    try:
        given = UUID(text)
    except ValueError:
        return uuid4()
    return given if given.version == 4 else uuid4()


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
    actor, uuid = session.actor, claim_id_of(claim_id)
    context: LedgerContext = request.app.state.context
    settings: Settings = request.app.state.settings
    values = {"on": form.get("on"), "reason": form.get("reason"), "action": action, **kept}
    if context.projector.failure is not None:
        raise WebRefusal(503, "Not recorded", f"nothing was recorded: {context.projector.failure.describe()}")
    with books(request) as conn:
        barred = may_act_on_claim(conn, actor, str(uuid), ACTIONS[action])
    if barred is not None:
        return ledger_refused(request, barred)
    try:
        command(context)
    except FieldRefusal as error:
        return claim_page(request, actor, uuid, 422, error=error.detail, field=error.field, values=values)
    except NotAllowed as error:
        return ledger_refused(request, error)
    except LedgerError as error:
        return claim_page(request, actor, uuid, status_of(error), error=error.detail, values=values)
    then_read(context, settings.read_your_writes_timeout, lambda _conn: None)
    return RedirectResponse(f"/claims/{uuid}", status_code=303)


@router.post("/claims/{claim_id}/payments")
def record_payment(request: Request, session: SessionDep, form: FormDep, claim_id: str) -> Response:
    payment_id = payment_id_of(form.get("payment_id"))

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
