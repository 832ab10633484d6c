"""Budget transfers: the list (the latest first, with the consortium's decision reference) and
the coordinator's form that moves EUR from one partner x category line to another.

The form posts to the same Application method as the JSON API's (transfer_budget); its amount
is read as the API reads one (a plain decimal, EUR, in cents). The transfer's id is a random
one put in the form when the page is drawn, so the same form sent twice moves the money once.
A refusal (not enough left on the source line, no decision reference, a date in the future)
is shown beside its field in the ledger's words, with the numbers, what was typed kept and
nothing moved. Anyone but the coordinator sees no form, and a POST of theirs is the ledger's
refusal page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.context import LedgerContext
from api.web.forms import Hints, form_id, record, typed_date, typed_eur
from api.web.paging import paged
from api.web.reads import books, today
from api.web.render import render
from api.web.session import FormDep, SessionDep
from ledger.actors import Actor, Role
from ledger.budget import BudgetExceeded
from ledger.grant import Category
from projections import glance, lists

router = APIRouter(include_in_schema=False)
PAGE = 25
CATEGORIES = [category.value for category in Category]
FIELDS = ("from_partner", "from_category", "to_partner", "to_category", "amount", "decision_ref", "reason", "on")
#: Which field a refusal of a transfer concerns, when its message does not name one.
HINTS: Hints = (
    ("amount", BudgetExceeded),
    ("amount", "positive EUR amount"),
    ("to_category", "two different lines"),
    ("on", "transfer date"),
)


def may_transfer(actor: Actor) -> bool:
    """Whether to show the form: the coordinator transfers budget (the ledger checks again)."""
    return actor.role == Role.COORDINATOR


def transfers_page(
    request: Request,
    actor: Actor,
    page: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    **typed: str,
) -> Response:
    with books(request) as conn:
        found = paged(lambda offset, limit: lists.list_transfers(conn, offset=offset, limit=limit), page, PAGE)
        partners = glance.partner_codes(conn)
    values = {
        "on": today().date().isoformat(),
        "transfer_id": str(form_id("")),
        **{name: "" for name in FIELDS if name != "on"},
        **typed,
    }
    return render(
        request,
        "transfers.html",
        status,
        rows=found.rows,
        count=found.count,
        number=found.number,
        pages=found.pages,
        paging_notice=found.notice,
        partners=partners,
        categories=CATEGORIES,
        may_transfer=may_transfer(actor) and bool(partners),
        errors=errors or {},
        values=values,
    )


@router.get("/budget/transfers")
def transfers(
    request: Request, session: SessionDep, page: Annotated[str | None, Query(max_length=12)] = None
) -> Response:
    return transfers_page(request, session.actor, page)


@router.post("/budget/transfers")
def transfer_budget(request: Request, session: SessionDep, form: FormDep) -> Response:
    actor = session.actor
    transfer_id = form_id(form.get("transfer_id"))
    values = {name: form.get(name) for name in FIELDS} | {"transfer_id": str(transfer_id)}

    def command(context: LedgerContext) -> Any:
        amount = typed_eur(values["amount"], "amount", "the amount")
        on = typed_date(values["on"], "on", "the transfer date")
        return context.app.transfer_budget(
            actor=actor,
            transfer_id=transfer_id,
            from_partner=values["from_partner"],
            from_category=values["from_category"],
            to_partner=values["to_partner"],
            to_category=values["to_category"],
            amount=amount,
            decision_ref=values["decision_ref"],
            reason=values["reason"],
            on=on,
        )

    return record(
        request,
        lambda status, errors: transfers_page(request, actor, None, status, errors, **values),
        command,
        lambda _transfer: "/budget/transfers",
        FIELDS,
        HINTS,
    )
